/**
 * `host:port` bind addresses (RDD_METRICS_BIND, RDD_HEALTH_BIND), checked once at start-up.
 */

/** A parsed bind address; `host` without IPv6 brackets. */
export interface BindAddress {
  host: string;
  port: number;
}

/**
 * Parses `host:port` (`0.0.0.0:9464`, `127.0.0.1:0`, `[::]:9464`); `undefined` when it is not one,
 * so the config loader can name the variable. Port 0 asks the system for a free one. Pure.
 * @example parseBindAddress('[::1]:9464') // { host: '::1', port: 9464 }
 */
export function parseBindAddress(value: string): BindAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

/**
 * The URL a client uses for a bound address: a wildcard host (`0.0.0.0`, `::`) is reached on
 * loopback. Pure.
 * @example urlOfBind({ host: '0.0.0.0', port: 9464 }, '/metrics') // 'http://127.0.0.1:9464/metrics'
 */
export function urlOfBind({ host, port }: BindAddress, path: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}${path}`;
}

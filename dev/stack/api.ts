/** Launches the HTTP API (`rdd serve`) against the stack and waits until it listens. */
import { SERVE_READY_LINE } from '../../src/starters/serve-command.ts';
import type { LaunchOptions, ServiceProcess } from './process.ts';
import { startRddService } from './rdd-service.ts';

/** Options of `startApi`. */
export interface ApiOptions extends LaunchOptions {
  /** The server's whole environment: the stack's variables over the caller's. */
  env: Record<string, string | undefined>;
  /** The port to listen on (127.0.0.1). */
  port: number;
}

/**
 * Starts `node src/starters/rdd.ts serve` on 127.0.0.1:`port` and resolves with its URL once its
 * log shows `rdd serve listening on`.
 * @throws ServiceStartError when it exits or does not listen in time.
 * @example const { url } = await startApi({ env, port: 8080, logDir, detach: false, timeoutMs: 60_000 })
 */
export async function startApi(options: ApiOptions): Promise<{ process: ServiceProcess; url: string }> {
  const child = await startRddService({
    ...options,
    name: 'api',
    subcommand: 'serve',
    env: { ...options.env, RDD_API_HOST: '127.0.0.1', RDD_API_PORT: String(options.port) },
    readyLine: SERVE_READY_LINE,
  });
  return { process: child, url: `http://127.0.0.1:${options.port}` };
}

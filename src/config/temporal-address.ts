/**
 * The form of a Temporal frontend address (`host` or `host:port`), checked before the SDK sees it:
 * the SDK throws a bare TypeError for `::::`, where the user needs a configuration error that
 * names TEMPORAL_ADDRESS. No imports: src/client and src/config both use it.
 */

/** `127.0.0.1`, `[::1]` or a DNS name, then an optional `:port`; the SDK's own grammar, without a scheme. */
const HOST_PORT = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F.:]+\]|[^:/\s[\]]+)(?::(\d+))?$/;

/**
 * Why `address` is not a usable Temporal gRPC address, or an empty list. Problems are predicates
 * (`must be host or host:port …, got "::::"`), to follow the variable's name. Pure.
 * @example temporalAddressProblems('::::') // ['must be host or host:port (e.g. 127.0.0.1:7233 …), got "::::"']
 * @example temporalAddressProblems('temporal.example.com:7233') // []
 */
export function temporalAddressProblems(address: string): string[] {
  const match = HOST_PORT.exec(address);
  if (!match) {
    const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? ' without a scheme' : '';
    return [
      `must be host or host:port${hint} (e.g. 127.0.0.1:7233, [::1]:7233, temporal.example.com:7233), ` +
        `got ${JSON.stringify(address.replace(/^([^/?#]*?\/\/|)[^/?#]*@/, '$1***@'))}`,
    ];
  }
  const port = match[1] === undefined ? undefined : Number(match[1]);
  if (port !== undefined && !(port >= 1 && port <= 65_535)) {
    return [`must have a port from 1 to 65535, got ${JSON.stringify(address)}`];
  }
  return [];
}

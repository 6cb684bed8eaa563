/** Free TCP port selection on the loopback interface, on `get-port`. */
import getPort from 'get-port';

/** The host every stack service binds to: nothing is exposed beyond this machine. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns `preferred` when it can be bound on `host` now and is not in `taken`, else a free port
 * chosen by the OS; `preferred = 0` always picks a free one. The result is added to `taken`, so
 * one stack never gets the same port twice (get-port also keeps a port it returned from being
 * handed out again by this process for 15–30 s). The port may still be taken by another process
 * before it is used.
 * @example const port = await pickPort(7233, taken)
 */
export async function pickPort(
  preferred: number,
  taken: Set<number>,
  host: string = LOOPBACK,
): Promise<number> {
  for (;;) {
    const port = await getPort({ host, exclude: taken, ...(preferred > 0 && { port: preferred }) });
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

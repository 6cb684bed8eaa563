/** Free TCP port selection on the loopback interface. */
import net from 'node:net';

/** The host every stack service binds to: nothing is exposed beyond this machine. */
export const LOOPBACK = '127.0.0.1';

/**
 * Whether `port` can be bound on `host` right now (a port in use on 0.0.0.0 counts as busy).
 * @example await isPortFree(7233)
 */
export function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free now (it may be taken by someone else before it is used). */
function ephemeralPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Returns `preferred` when it is free and not in `taken`, else a free port chosen by the OS;
 * `preferred = 0` always picks a free one. The result is added to `taken`, so one stack never
 * gets the same port twice.
 * @example const port = await pickPort(7233, taken)
 */
export async function pickPort(
  preferred: number,
  taken: Set<number>,
  host: string = LOOPBACK,
): Promise<number> {
  if (preferred > 0 && !taken.has(preferred) && (await isPortFree(preferred, host))) {
    taken.add(preferred);
    return preferred;
  }
  for (;;) {
    const port = await ephemeralPort(host);
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

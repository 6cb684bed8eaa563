/**
 * A Temporal dev server of a test's own, which the test may stop and restart (the shared one from
 * the global setup must never go down). It keeps its workflows in a SQLite file, so a restart on
 * the same port and file resumes them, as a production server restart would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pickPort } from '../../dev/stack/ports.ts';
import { terminateGroup } from '../../dev/stack/process.ts';
import { startTemporal, type TemporalService } from '../../dev/stack/temporal.ts';

/** A stoppable Temporal dev server on a fixed port and database file. */
export interface OwnTemporal {
  /** `127.0.0.1:<port>`, stable across restarts. */
  address: string;
  port: number;
  /** Starts the server (again) on the same port and database; resolves once it serves `default`. */
  start(): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL); idempotent. */
  stop(): Promise<void>;
  /** Stops it if running and removes its files. */
  close(): Promise<void>;
}

/**
 * Picks a free port and a temp dir; with `started: false` the server is not started yet (a test of
 * what happens while Temporal is down), otherwise it is up when this resolves. With
 * `searchAttributes: false` the server has none of ours registered (a bare cluster for `rdd setup`).
 * @throws ServiceStartError when the server does not come up within 60 s.
 * @example const temporal = await ownTemporal(); await temporal.stop(); await temporal.start();
 */
export async function ownTemporal({ started = true, searchAttributes = true } = {}): Promise<OwnTemporal> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-own-temporal-'));
  const port = await pickPort(0, new Set());
  let service: TemporalService | undefined;
  const own: OwnTemporal = {
    address: `127.0.0.1:${port}`,
    port,
    async start() {
      if (service && !service.process.hasExited()) return;
      service = await startTemporal({
        port,
        dbFile: path.join(dir, 'temporal.db'),
        logDir: dir,
        detach: false,
        timeoutMs: 60_000,
        searchAttributes,
      });
    },
    async stop() {
      if (!service) return;
      await terminateGroup(service.process.pid, 5_000);
      await service.process.exited;
      service = undefined;
    },
    async close() {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (started) await own.start();
  return own;
}

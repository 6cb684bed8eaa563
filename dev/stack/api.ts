/** Launches the HTTP API (`rdd serve`) against the stack and waits until it listens. */
import path from 'node:path';
import { SERVE_READY_LINE } from '../../src/starters/serve-command.ts';
import {
  type LaunchOptions,
  readLogSince,
  type ServiceProcess,
  spawnService,
  waitHealthy,
} from './process.ts';
import { REPO_ROOT } from './tools.ts';

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
  const child = await spawnService({
    name: 'api',
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'src/starters/rdd.ts'), 'serve'],
    env: { ...options.env, RDD_API_HOST: '127.0.0.1', RDD_API_PORT: String(options.port) },
    cwd: REPO_ROOT,
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  await waitHealthy(
    child,
    () => Promise.resolve(readLogSince(child.logFile, child.logOffset).includes(SERVE_READY_LINE)),
    { timeoutMs: options.timeoutMs, what: `"${SERVE_READY_LINE}" in its log`, intervalMs: 100 },
  );
  return { process: child, url: `http://127.0.0.1:${options.port}` };
}

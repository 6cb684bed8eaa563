/** Launches a worker (`rdd worker`) against the stack and waits until it polls its task queue. */
import path from 'node:path';
import {
  type LaunchOptions,
  readLogSince,
  type ServiceProcess,
  spawnService,
  waitHealthy,
} from './process.ts';
import { REPO_ROOT } from './tools.ts';

/** The line `rdd worker` prints once it polls; the readiness signal. */
export const WORKER_READY_LINE = 'worker polling task queue';

/** Options of `startWorker`. */
export interface WorkerOptions extends LaunchOptions {
  /** The worker's whole environment: the stack's variables over the caller's. */
  env: Record<string, string | undefined>;
}

/**
 * Starts `node src/starters/rdd.ts worker` on this Node and resolves once its log shows
 * `worker polling task queue` (bundling workflows takes a few seconds).
 * @throws ServiceStartError when it exits or is not polling in time.
 * @example const w = await startWorker({ env: { ...process.env, ...stackEnv }, logDir, detach: false, timeoutMs: 120_000 })
 */
export async function startWorker(options: WorkerOptions): Promise<{ process: ServiceProcess }> {
  const child = await spawnService({
    name: 'worker',
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'src/starters/rdd.ts'), 'worker'],
    env: options.env,
    cwd: REPO_ROOT,
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  await waitHealthy(
    child,
    () => Promise.resolve(readLogSince(child.logFile, child.logOffset).includes(WORKER_READY_LINE)),
    { timeoutMs: options.timeoutMs, what: `"${WORKER_READY_LINE}" in its log`, intervalMs: 100 },
  );
  return { process: child };
}

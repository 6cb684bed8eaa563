/** Launches a worker (`rdd worker`) against the stack and waits until it polls its task queue. */
import type { LaunchOptions, ServiceProcess } from './process.ts';
import { startRddService } from './rdd-service.ts';

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
  const child = await startRddService({
    ...options,
    name: 'worker',
    subcommand: 'worker',
    readyLine: WORKER_READY_LINE,
  });
  return { process: child };
}

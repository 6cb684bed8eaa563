/** Launches one `rdd` subcommand as a stack service and waits for its ready line. */
import path from 'node:path';
import {
  type LaunchOptions,
  readLogSince,
  type ServiceProcess,
  spawnService,
  waitHealthy,
} from './process.ts';
import { REPO_ROOT } from './tools.ts';

/** Options of `startRddService`. */
export interface RddServiceOptions extends LaunchOptions {
  /** The service's name in the stack (its log is `<logDir>/<name>.log`). */
  name: string;
  /** The `rdd` subcommand to run, e.g. `worker` or `serve`. */
  subcommand: string;
  /** The service's whole environment. */
  env: Record<string, string | undefined>;
  /** The log line that says the service is ready; only this run's output is searched. */
  readyLine: string;
}

/**
 * Starts `node src/starters/rdd.ts <subcommand>` on this Node in the repository root and resolves
 * once this run's log contains `readyLine` (polled every 100 ms, up to `timeoutMs`).
 * @throws ServiceStartError when it exits or does not print the line in time.
 * @example const w = await startRddService({ name: 'worker', subcommand: 'worker', readyLine: WORKER_READY_LINE, env, logDir, detach: false, timeoutMs: 120_000 })
 */
export async function startRddService(options: RddServiceOptions): Promise<ServiceProcess> {
  const child = await spawnService({
    name: options.name,
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'src/starters/rdd.ts'), options.subcommand],
    env: options.env,
    cwd: REPO_ROOT,
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  await waitHealthy(
    child,
    () => Promise.resolve(readLogSince(child.logFile, child.logOffset).includes(options.readyLine)),
    { timeoutMs: options.timeoutMs, what: `"${options.readyLine}" in its log`, intervalMs: 100 },
  );
  return child;
}

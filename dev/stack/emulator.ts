/** Launches the Speech Platform emulator (`rdd emulator`) and waits for its system info endpoint. */
import path from 'node:path';
import { LOOPBACK } from './ports.ts';
import { type LaunchOptions, type ServiceProcess, spawnService, waitHealthy } from './process.ts';
import { REPO_ROOT } from './tools.ts';

/** Options of `startEmulator`. */
export interface EmulatorOptions extends LaunchOptions {
  port: number;
  env?: Record<string, string | undefined>;
  /** Tasks processed in parallel (`--capacity`); the stack passes the worker the same value. */
  capacity?: number;
}

/** A healthy emulator. */
export interface EmulatorService {
  process: ServiceProcess;
  /** For `DETECTOR_URL`. */
  url: string;
}

/**
 * Starts `node src/starters/rdd.ts emulator --port N` on this Node and resolves once
 * `GET /api/system/info` answers 2xx.
 * @throws ServiceStartError when it exits or does not answer in time.
 * @example const e = await startEmulator({ port: 8600, logDir, detach: false, timeoutMs: 30_000 })
 */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorService> {
  const child = await spawnService({
    name: 'emulator',
    command: process.execPath,
    args: [
      path.join(REPO_ROOT, 'src/starters/rdd.ts'),
      'emulator',
      '--port',
      String(options.port),
      ...(options.capacity !== undefined ? ['--capacity', String(options.capacity)] : []),
    ],
    env: options.env ?? process.env,
    cwd: REPO_ROOT,
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  const url = `http://${LOOPBACK}:${options.port}`;
  await waitHealthy(
    child,
    async () => {
      const response = await fetch(`${url}/api/system/info`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.ok;
    },
    { timeoutMs: options.timeoutMs, what: `GET ${url}/api/system/info` },
  );
  return { process: child, url };
}

/**
 * Runs the real `rdd` command line in a child process to its end and collects what it printed:
 * the tests that check exit codes and messages as a user meets them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `rdd` entry point (src/starters/rdd.ts), run with this process's Node. */
export const RDD_ENTRY = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** How a child process ended: its exit code (null when a signal ended it) and its whole output. */
export interface ProcessOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `rdd <args>` with exactly `env` (nothing inherited unless the caller spreads it in), in
 * `cwd` (default: this process's), stdin closed; resolves when it has exited.
 * @throws the spawn error when Node itself cannot be started.
 * @example const { code, stderr } = await runRdd(['setup'], { PATH: process.env.PATH ?? '' })
 */
export function runRdd(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RDD_ENTRY, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd !== undefined && { cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

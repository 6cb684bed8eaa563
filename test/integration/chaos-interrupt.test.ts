/**
 * `npm run chaos` stopped with SIGTERM (as `timeout` does) stops everything its scenario started —
 * Temporal, versitygw, the `rdd worker` children — and exits 143, instead of leaving them running.
 * Real processes: the runner, on the quick size of one worker scenario, SIGTERMed once its parts run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';

import { descendants } from '../../dev/chaos/interrupt.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('stops every process it started on SIGTERM and exits 143', { timeout: 120_000 }, async () => {
  const runner = spawn(
    'bash',
    [
      'scripts/run.sh',
      'node',
      'dev/chaos/run.ts',
      '--only',
      'worker-sigkill-after-accept',
      '--quick',
      '--no-report',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  runner.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  runner.stdout.resume();
  const exited = new Promise<number | null>((resolve) => runner.on('exit', (code) => resolve(code)));
  const started = new Map<number, string>();
  // Until the scenario's worker, Temporal and versitygw all run (their parts started).
  for (let i = 0; i < 900; i++) {
    for (const pid of descendants(runner.pid as number))
      if (!started.has(pid)) started.set(pid, commandLine(pid));
    const lines = [...started.values()];
    if (
      lines.some((l) => l.includes('rdd.ts worker')) &&
      lines.some((l) => l.includes('versitygw')) &&
      lines.some((l) => l.includes('server start-dev'))
    )
      break;
    await sleep(100);
  }
  const lines = [...started.values()];
  expect(
    lines.some((l) => l.includes('rdd.ts worker')),
    stderr,
  ).toBe(true);
  expect(
    lines.some((l) => l.includes('versitygw')),
    stderr,
  ).toBe(true);
  // `bash scripts/run.sh` exec's node, so the runner is runner.pid itself.
  runner.kill('SIGTERM');
  expect(await exited).toBe(143);
  expect(stderr).toContain('SIGTERM: stopping everything');
  const survivors = [...started].filter(([pid]) => alive(pid)).map(([pid, line]) => `${pid} ${line}`);
  expect(survivors).toEqual([]);
});

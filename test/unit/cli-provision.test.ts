/**
 * `scripts/provision.sh` on a machine where everything is installed: it must answer at once,
 * without the lock, so parallel `npm run rdd` calls never queue behind each other or behind a
 * provisioning run in progress (it runs before every `npm run …` and `bin/rdd`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCK = `${ROOT}.tools/.provision.lock`;

describe('provision.sh when everything is installed', () => {
  it('returns at once and prints nothing while another run holds the lock', async () => {
    // Installed state first (a no-op here: `npm test` provisioned before vitest started).
    expect(spawnSync('bash', ['scripts/provision.sh'], { cwd: ROOT }).status).toBe(0);
    const holder = spawn('flock', [LOCK, 'sleep', '20'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const runs = Array.from({ length: 10 }, () => {
        const started = Date.now();
        return new Promise<{ code: number | null; output: string; ms: number }>((resolve) => {
          const child = spawn('bash', ['scripts/provision.sh'], { cwd: ROOT });
          let output = '';
          child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.on('close', (code) => resolve({ code, output, ms: Date.now() - started }));
        });
      });
      for (const run of await Promise.all(runs)) {
        expect(run).toMatchObject({ code: 0, output: '' });
        expect(run.ms).toBeLessThan(5_000); // the lock is held for 20 s
      }
    } finally {
      holder.kill('SIGKILL');
    }
  }, 30_000);
});

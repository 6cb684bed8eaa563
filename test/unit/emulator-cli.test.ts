/**
 * `rdd emulator`: flag parsing, the listening line, and a clean stop on SIGTERM, as a real process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** Runs `rdd emulator …`; resolves once it exits. */
function rdd(
  args: string[],
  onLine?: (line: string, stop: () => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RDD, 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      onLine?.(line, () => child.kill('SIGTERM'));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rdd emulator', () => {
  it('prints where it listens, serves the API, and exits 0 on SIGTERM', async () => {
    let info: unknown;
    const result = await rdd(['--port', '0', '--processing-ms', '10', '--quiet'], (line, stop) => {
      const match = /^emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (!match) return;
      void fetch(`${match[1]}/api/system/info`)
        .then((r) => r.json())
        .then((body) => (info = body))
        .finally(stop);
    });
    expect(result.stdout).toMatch(/^emulator listening on http:\/\/127\.0\.0\.1:\d+\n/);
    expect(info).toEqual({ version: '4.0.0-emulator' });
    expect(result.code).toBe(0);
  });

  it('exits 2 naming the flag for a bad value or an unknown flag', async () => {
    const badNumber = await rdd(['--capacity', 'zero']);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('--capacity');
    const unknown = await rdd(['--colour', 'blue']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--colour');
  });

  it('exits 1 with the reason when the fixtures file is bad', async () => {
    const result = await rdd(['--port', '0', '--fixtures', '/nonexistent/fixtures.json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/fixtures.json');
  });
});

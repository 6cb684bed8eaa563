import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEnvFile, parseEnvFile, withStackEnv } from '../../src/starters/stack-env.ts';
import { isPortFree, pickPort } from '../../dev/stack/ports.ts';

const dirs: string[] = [];
function stackDir(envFile?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-stack-env-'));
  dirs.push(dir);
  if (envFile !== undefined) writeFileSync(path.join(dir, 'env'), envFile);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('env file format', () => {
  it('round-trips values a shell would need quoted', () => {
    const vars = { A: 'http://127.0.0.1:7233', B: 'two words', C: "it's", D: '$HOME`x`', E: '' };
    const text = formatEnvFile(vars, 'header line 1\nheader line 2');
    expect(text).toBe(
      "# header line 1\n# header line 2\nA=http://127.0.0.1:7233\nB='two words'\nC='it'\\''s'\nD='$HOME`x`'\nE=\n",
    );
    expect(parseEnvFile(text)).toEqual(vars);
  });

  it('skips undefined values', () => {
    expect(formatEnvFile({ A: '1', B: undefined })).toBe('A=1\n');
  });

  it('reads comments, blank lines, export prefixes and double quotes', () => {
    expect(parseEnvFile('# c\n\nexport A=1\r\nB="x \\"y\\""\n  C=3  \n')).toEqual({
      A: '1',
      B: 'x "y"',
      C: '3',
    });
  });

  it('names a line that is not an assignment', () => {
    expect(() => parseEnvFile('A=1\nnot an assignment\n')).toThrow(
      'env file line 2 is not KEY=VALUE: not an assignment',
    );
  });
});

describe('withStackEnv', () => {
  it('fills unset variables from <dir>/env, the caller’s own winning', () => {
    const dir = stackDir('TEMPORAL_ADDRESS=127.0.0.1:7233\nS3_BUCKET=rdd-media\nAWS_REGION=us-east-1\n');
    const env = withStackEnv({ S3_BUCKET: 'mine', AWS_REGION: '', OTHER: 'x' }, dir);
    expect(env).toEqual({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      S3_BUCKET: 'mine',
      AWS_REGION: 'us-east-1',
      OTHER: 'x',
    });
  });

  it('returns a copy of the environment when no stack runs', () => {
    const original = { A: '1' };
    const env = withStackEnv(original, stackDir());
    expect(env).toEqual(original);
    env.B = '2';
    expect(original).toEqual({ A: '1' });
  });
});

describe('pickPort', () => {
  it('prefers the given port when it is free', async () => {
    const free = await pickPort(0, new Set());
    expect(await pickPort(free, new Set())).toBe(free);
  });

  it('picks another port when the preferred one is busy or already taken', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(busy)).toBe(false);
      const taken = new Set<number>();
      const instead = await pickPort(busy, taken);
      expect(instead).not.toBe(busy);
      expect(await isPortFree(instead)).toBe(true);
      expect(await pickPort(instead, taken)).not.toBe(instead);
      expect(taken.size).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

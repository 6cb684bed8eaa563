import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv } from 'node:util';
import { withStackEnv } from '../../src/starters/stack-env.ts';
import { formatEnvFile } from '../../dev/stack/env-file.ts';
import { pickPort } from '../../dev/stack/ports.ts';

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

/** What a POSIX shell that `source`s the text sees for `name` (`printf %s`, so no newline is added). */
function shellValue(text: string, name: string): string {
  return execFileSync('sh', ['-c', `eval "$(cat)"; printf %s "$${name}"`], { input: text, encoding: 'utf8' });
}

describe('env file format', () => {
  const tricky = {
    A: 'http://127.0.0.1:7233',
    B: 'two words',
    C: "it's",
    D: '$HOME`x`',
    E: '',
    F: 'a # not a comment',
    G: 'line 1\nline 2',
    H: 'back\\slash and "double" quotes',
    I: "it's a # and ' twice!",
    J: '  padded  ',
    K: 'a#b',
    L: 'žluťoučký kůň',
  };

  it('writes values that util.parseEnv and a shell both read back unchanged', () => {
    const text = formatEnvFile(tricky, 'header line 1\nheader line 2');
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# header line 1',
      '# header line 2',
      'A=http://127.0.0.1:7233',
    ]);
    expect(parseEnv(text)).toEqual(tricky);
    for (const [name, value] of Object.entries(tricky)) expect(shellValue(text, name)).toBe(value);
  });

  it('reads back through withStackEnv, as every rdd command does', () => {
    const dir = stackDir(formatEnvFile(tricky, 'written by a test'));
    expect(withStackEnv({}, dir)).toEqual(tricky);
  });

  it('refuses a value that no quoting keeps for both readers, naming the variable', () => {
    expect(() => formatEnvFile({ X: "it's $HOME" })).toThrow(/X has both ' and one of/);
    expect(() => formatEnvFile({ Y: 'a\r\nb' })).toThrow(/Y has a carriage return/);
  });

  it('skips undefined values', () => {
    expect(formatEnvFile({ A: '1', B: undefined })).toBe('A=1\n');
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

  it.each(['TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_ADDRESS'])(
    'takes no TEMPORAL_* variable from the stack when %s chooses a Temporal of the caller’s own',
    (name) => {
      const dir = stackDir(
        'TEMPORAL_ADDRESS=127.0.0.1:7233\nTEMPORAL_NAMESPACE=default\nS3_BUCKET=rdd-media\n',
      );
      const env = withStackEnv({ [name]: 'prod' }, dir);
      expect(env).toEqual({ [name]: 'prod', S3_BUCKET: 'rdd-media' });
      // A blank one chooses nothing.
      expect(withStackEnv({ [name]: '' }, dir).TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    },
  );

  it('returns a copy of the environment when no stack runs', () => {
    const original = { A: '1' };
    const env = withStackEnv(original, stackDir());
    expect(env).toEqual(original);
    env.B = '2';
    expect(original).toEqual({ A: '1' });
  });
});

/** Whether `port` can be bound on the loopback interface right now. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port the OS just gave out and released (not through pickPort, so get-port has not locked it). */
async function releasedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('pickPort', () => {
  it('prefers the given port when it is free', async () => {
    const free = await releasedPort();
    const taken = new Set<number>();
    expect(await pickPort(free, taken)).toBe(free);
    expect(taken).toEqual(new Set([free]));
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
      const free = await releasedPort();
      taken.add(free);
      expect(await pickPort(free, taken)).not.toBe(free);
      expect(taken.size).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

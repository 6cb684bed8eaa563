/**
 * `rdd codec-server` as a process over real HTTP: Temporal's codec protocol round trip, CORS for the
 * UI's origin (preflight and actual request), bearer-token auth, and logs free of payloads and
 * tokens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/client/aes-gcm-codec.ts';
import { runRdd } from '../helpers/run-rdd.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));
const UI = 'http://ui.example.test:8233';
const key = randomBytes(32);
const token = `codec-token-${randomBytes(6).toString('hex')}`;
const secretText = `secret-payload-${randomBytes(6).toString('hex')}`;

let server: ChildProcess;
let output = '';
let baseUrl: string;

/** Runs `rdd codec-server` with `env` until it exits; for start-up failures. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return runRdd(['codec-server', '--port', '0'], { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
}

beforeAll(async () => {
  server = spawn(process.execPath, [RDD, 'codec-server', '--port', '0', '--ui-origin', UI], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RDD_ENCRYPTION_KEYS: `k1:${key.toString('base64')}`,
      RDD_CODEC_SERVER_TOKEN: token,
    },
  });
  baseUrl = await new Promise<string>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /rdd codec-server listening on (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    server.stdout!.on('data', collect);
    server.stderr!.on('data', collect);
    server.on('exit', (code) => reject(new Error(`codec-server exited ${code}: ${output}`)));
  });
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

/** A json/plain payload in the protocol's JSON form. */
function jsonPayload(value: unknown) {
  return {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify(value)).toString('base64'),
  };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-namespace': 'default',
      origin: UI,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe('rdd codec-server', () => {
  it('encodes to binary/encrypted with the key id, and decodes back', async () => {
    const plain = jsonPayload({ reference: secretText });
    const encoded = await post('/encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    const { payloads } = (await encoded.json()) as { payloads: (typeof plain)[] };
    const [encrypted] = payloads;
    expect(Buffer.from(encrypted!.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(
      Buffer.from((encrypted!.metadata as Record<string, string>)['encryption-key-id']!, 'base64').toString(),
    ).toBe('k1');
    expect(Buffer.from(encrypted!.data, 'base64').toString('latin1')).not.toContain(secretText);

    const decoded = await post('/decode', { payloads });
    expect(decoded.status).toBe(200);
    expect(await decoded.json()).toEqual({ payloads: [plain] });
  });

  it('decodes what the workers write (the same codec in process)', async () => {
    const [written] = await new AesGcmCodec([{ id: 'k1', key }]).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(secretText)) },
    ]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(written!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(written!.data!).toString('base64'),
        },
      ],
    };
    const answer = await post('/decode', body);
    expect(await answer.json()).toEqual({ payloads: [jsonPayload(secretText)] });
  });

  it('answers 400 naming the key id, never a key, for a payload of an unknown key', async () => {
    const [foreign] = await new AesGcmCodec([{ id: 'other-key', key: randomBytes(32) }]).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') },
    ]);
    const answer = await post('/decode', {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(foreign!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(foreign!.data!).toString('base64'),
        },
      ],
    });
    expect(answer.status).toBe(400);
    const { message } = (await answer.json()) as { message: string };
    expect(message).toContain('encryption key id "other-key"');
    expect(message).not.toContain(key.toString('base64'));
  });

  it('answers a CORS preflight from the UI origin, with credentials, and refuses other origins', async () => {
    const preflight = await fetch(`${baseUrl}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-namespace',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const actual = await post('/decode', { payloads: [] });
    expect(actual.headers.get('access-control-allow-origin')).toBe(UI);

    const stranger = await fetch(`${baseUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example.test', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 401 without the token or with a wrong one', async () => {
    const without = await fetch(`${baseUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // The UI can read the 401 (CORS headers on errors too), so it can tell the user.
    expect(without.headers.get('access-control-allow-origin')).toBe(UI);
    const wrong = await post('/encode', { payloads: [jsonPayload(1)] }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  it('answers 400 for a body that is not {payloads: [...]}', async () => {
    expect((await post('/decode', { payloads: 'x' })).status).toBe(400);
    expect((await post('/decode', [])).status).toBe(400);
    expect((await post('/decode', { payloads: [{ data: 'not base64!' }] })).status).toBe(400);
  });

  it('takes {} as an empty Payloads (what the Temporal CLI sends for a query without arguments)', async () => {
    for (const path of ['/decode', '/encode']) {
      const answer = await post(path, {});
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ payloads: [] });
    }
  });

  it('never logs a payload or the token', () => {
    expect(output).toContain('"statusCode":200'); // it does log requests
    expect(output).not.toContain(secretText);
    expect(output).not.toContain(Buffer.from(JSON.stringify({ reference: secretText })).toString('base64'));
    expect(output).not.toContain(token);
  });

  it('refuses to start without keys (exit 2, naming the variable)', async () => {
    const { code, stderr } = await runToExit({});
    expect(code).toBe(2);
    expect(stderr).toContain('RDD_ENCRYPTION_KEYS');
  });

  it('names a bad key entry by position and id, never echoing the key (exit 2)', async () => {
    const short = randomBytes(16).toString('base64');
    const { code, stderr } = await runToExit({
      RDD_ENCRYPTION_KEYS: `k1:${key.toString('base64')},old:${short}`,
    });
    expect(code).toBe(2);
    expect(stderr).toContain('entry 2 (key id "old") must hold 32 bytes');
    expect(stderr).not.toContain(short);
    expect(stderr).not.toContain(key.toString('base64'));
  });
});

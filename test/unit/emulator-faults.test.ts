/**
 * The emulator's fault injection over real HTTP: seeded rates of faulty answers and tasks,
 * connection resets mid-upload and mid-answer, stalls, slow uploads, and the admin routes a chaos
 * scenario drives (faults, restart).
 */
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  ADMIN_PREFIX,
  RDD_ENDPOINT,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../dev/emulator/index.ts';
import { emulatorOptions } from '../../dev/emulator/command.ts';
import { SENTENCES, speechWav } from '../helpers/audio.ts';

let reference: Buffer;
let questioned: Buffer;

beforeAll(async () => {
  reference = await readFile(await speechWav({ text: SENTENCES.a, voice: 'en+m3' }));
  questioned = await readFile(await speechWav({ text: SENTENCES.b, voice: 'en+m3' }));
});

const running: RunningEmulator[] = [];
async function emulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  const started = await startEmulator({ processing: { fixedMs: 20 }, ...options });
  running.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

function pairForm(): FormData {
  const form = new FormData();
  form.append('file_reference', new Blob([reference]), 'reference.wav');
  form.append('file_questioned', new Blob([questioned]), 'questioned.wav');
  return form;
}

interface Answer {
  status: number;
  headers: Headers;
  body: { task?: { task_id: string; state: string }; type?: string; message?: string };
}

async function submit(e: RunningEmulator): Promise<Answer> {
  const response = await fetch(`${e.url}${RDD_ENDPOINT}`, { method: 'POST', body: pairForm() });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer['body'],
  };
}

async function get(url: string): Promise<Answer> {
  const response = await fetch(url);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Answer['body'],
  };
}

/** Polls until the task is terminal or gone (404); returns the last answer. */
async function settle(location: string): Promise<Answer> {
  for (let i = 0; i < 2_000; i++) {
    const answer = await get(location);
    if (answer.status !== 200 || ['done', 'failed', 'rejected'].includes(answer.body.task?.state ?? ''))
      return answer;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`task at ${location} did not settle`);
}

describe('seeded rates', () => {
  it('answers a seeded fraction of submits with 5xx in the platform error shape, repeatably', async () => {
    const statuses = async (): Promise<number[]> => {
      const e = await emulator({ faults: { rates: { seed: 7, submit5xx: 0.5 } } });
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) {
        const answer = await submit(e);
        seen.push(answer.status);
        if (answer.status !== 202) {
          expect([500, 502, 503]).toContain(answer.status);
          expect(answer.body).toMatchObject({ type: 'internal', message: expect.any(String) });
        }
      }
      return seen;
    };
    const first = await statuses();
    expect(first.filter((s) => s === 202).length).toBeGreaterThan(0);
    expect(first.filter((s) => s !== 202).length).toBeGreaterThan(0);
    expect(await statuses()).toEqual(first);
  });

  it('answers 429 with retry-after and rate-limit headers, and 507 with retry-after', async () => {
    const limited = await submit(
      await emulator({ faults: { rates: { submit429: 1, retryAfterSeconds: 4 } } }),
    );
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('request.rate-limit-exceeded');
    expect(limited.headers.get('retry-after')).toBe('4');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    const full = await submit(await emulator({ faults: { rates: { submit507: 1 } } }));
    expect(full.status).toBe(507);
    expect(full.headers.get('retry-after')).toBe('1');
  });

  it('answers polls with 429 at the poll rate, and counts what it injected', async () => {
    const e = await emulator();
    const accepted = await submit(e);
    e.setFaults({ rates: { poll429: 1, retryAfterSeconds: 2 } });
    const polled = await get(accepted.headers.get('location') as string);
    expect(polled.status).toBe(429);
    expect(polled.headers.get('retry-after')).toBe('2');
    expect(e.faultsInjected()).toEqual({ 'poll:429': 1 });
  });

  it('ends tasks failed, or makes them vanish (404), at the task rates', async () => {
    const failing = await emulator({ faults: { rates: { taskFailed: 1 } } });
    const failed = await settle((await submit(failing)).headers.get('location') as string);
    expect(failed.body.task?.state).toBe('failed');
    const vanishing = await emulator({ faults: { rates: { taskVanish: 1 } } });
    const gone = await settle((await submit(vanishing)).headers.get('location') as string);
    expect(gone.status).toBe(404);
    expect(gone.body.type).toBe('resource.not-found');
  });

  it('shows a task pending long after it finished, at the pending-long rate', async () => {
    const e = await emulator({ faults: { rates: { taskPendingLong: 1, pendingLongMs: 600_000 } } });
    const location = (await submit(e)).headers.get('location') as string;
    while (e.accounting().jobs[0]?.finishedAt === undefined) await new Promise((r) => setTimeout(r, 10));
    const held = await get(location);
    expect(held.status).toBe(200);
    expect(held.body).toEqual({ task: { task_id: expect.any(String), state: 'pending' } });
  });

  it('refuses rates that add up to more than 1', async () => {
    await expect(emulator({ faults: { rates: { submit5xx: 0.6, submit429: 0.6 } } })).rejects.toThrow(
      /add up to 1.2/,
    );
  });
});

describe('connection faults', () => {
  it('resets the connection mid-upload, accepting nothing, then accepts the next submit', async () => {
    const e = await emulator({ faults: { resetMidUpload: { times: 1, afterBytes: 4096 } } });
    await expect(submit(e)).rejects.toThrow(/fetch failed/);
    expect(e.accounting().jobs).toHaveLength(0);
    expect((await submit(e)).status).toBe(202);
    expect(e.accounting().jobs).toHaveLength(1);
  });

  it('cuts a submit answer after its headers, with the task accepted (the answer is lost)', async () => {
    const e = await emulator({ faults: { cutAnswer: { times: 1, on: 'submit' } } });
    await expect(submit(e)).rejects.toThrow();
    expect(e.accounting().jobs).toHaveLength(1);
  });

  it('cuts a poll answer mid-body, then answers the next poll whole', async () => {
    const e = await emulator();
    const location = (await submit(e)).headers.get('location') as string;
    e.setFaults({ cutAnswer: { times: 1 } });
    const response = await fetch(location);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect((await get(location)).status).toBe(200);
  });

  it('stalls a poll: a client with a short headers timeout gives up, the next poll answers', async () => {
    const e = await emulator();
    const location = (await submit(e)).headers.get('location') as string;
    e.setFaults({ stall: { times: 1, ms: 3_000 } });
    await expect(request(location, { headersTimeout: 300 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect((await get(location)).status).toBe(200);
  });

  it('reads a slow upload slowly (a short headers timeout runs out), then accepts it', async () => {
    const e = await emulator({
      faults: { slowUpload: { times: 1, bytesPerSecond: Math.ceil(reference.byteLength / 2) } },
    });
    const encoded = new Response(pairForm());
    const body = Buffer.from(await encoded.arrayBuffer());
    const headers = { 'content-type': encoded.headers.get('content-type') as string };
    await expect(
      request(`${e.url}${RDD_ENDPOINT}`, { method: 'POST', body, headers, headersTimeout: 300 }),
    ).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(e.faultsInjected()).toEqual({ 'submit:slow-upload': 1 });
    expect((await submit(e)).status).toBe(202);
  });

  it('accepts a slow upload whole', async () => {
    const e = await emulator({
      faults: { slowUpload: { times: 1, bytesPerSecond: reference.byteLength * 4 } },
    });
    const accepted = await submit(e);
    expect(accepted.status).toBe(202);
    expect((await settle(accepted.headers.get('location') as string)).body.task?.state).toBe('done');
  });
});

describe('admin routes', () => {
  it('sets faults and restarts (every task then 404) with admin on', async () => {
    const e = await emulator({ admin: true });
    const location = (await submit(e)).headers.get('location') as string;
    const set = await fetch(`${e.url}${ADMIN_PREFIX}/faults`, {
      method: 'POST',
      body: JSON.stringify({ submitStatus: { status: 503, times: 1 } }),
    });
    expect(set.status).toBe(200);
    expect((await submit(e)).status).toBe(503);
    const shown = (await (await fetch(`${e.url}${ADMIN_PREFIX}/faults`)).json()) as { injected: object };
    expect(shown.injected).toEqual({ 'submit:503': 1 });
    const invalid = await fetch(`${e.url}${ADMIN_PREFIX}/faults`, {
      method: 'POST',
      body: JSON.stringify({ rates: { poll5xx: 2 } }),
    });
    expect(invalid.status).toBe(400);
    expect((await fetch(`${e.url}${ADMIN_PREFIX}/restart`, { method: 'POST' })).status).toBe(204);
    expect((await get(location)).status).toBe(404);
  });

  it('has no admin routes without admin', async () => {
    const e = await emulator();
    expect((await fetch(`${e.url}${ADMIN_PREFIX}/restart`, { method: 'POST' })).status).toBe(404);
  });
});

describe('rdd emulator --faults', () => {
  it('takes the faults as inline JSON and turns admin on', async () => {
    const options = emulatorOptions({
      port: 0,
      faults: '{"cutAnswer":{"times":1}}',
      admin: true,
      quiet: true,
    });
    const e = await emulator(options);
    const location = (await submit(e)).headers.get('location') as string;
    await expect((await fetch(location)).text()).rejects.toThrow();
    expect((await fetch(`${e.url}${ADMIN_PREFIX}/restart`, { method: 'POST' })).status).toBe(204);
  });

  it('names malformed JSON', () => {
    expect(() => emulatorOptions({ port: 0, faults: '{"rates":' })).toThrow(/--faults is not valid JSON/);
  });
});

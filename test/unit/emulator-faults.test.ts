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
import { FaultInjector, validateFaults, type EmulatorFaults } from '../../dev/emulator/index.ts';
import { UsageError } from '../../src/starters/exit-codes.ts';
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

  it('refuses an unknown field or a status that injects nothing as a usage error (exit 2)', () => {
    const refused = (faults: string): unknown => {
      try {
        emulatorOptions({ port: 0, faults });
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const typo = refused('{"rates":{"submit5XX":0.5}}');
    expect(typo).toBeInstanceOf(UsageError);
    expect((typo as UsageError).exitCode).toBe(2);
    expect((typo as Error).message).toMatch(/faults\.rates\.submit5XX: unknown field/);
    expect((refused('{"submitStatus":{"status":418,"times":1}}') as Error).message).toMatch(
      /faults\.submitStatus\.status: must be one of 429, 500, 502, 503, 507/,
    );
  });
});

describe('fault validation', () => {
  it.each([
    [{ submitStatsu: { status: 503, times: 1 } }, /faults\.submitStatsu: unknown field/],
    [{ stall: { times: 1, ms: 10, target: 'poll' } }, /faults\.stall\.target: unknown field/],
    [{ submitStatus: { status: 200, times: 2 } }, /faults\.submitStatus\.status: must be one of/],
    [
      { pollStatus: { status: 507, times: 1 } },
      /faults\.pollStatus\.status: must be one of 429, 500, 502, 503 /,
    ],
    [{ rates: { poll5xx: 2 } }, /faults\.rates\.poll5xx: .*got 2/],
    [{ windows: [{ on: 'poll', status: 507, fromMs: 0 }] }, /faults\.windows\.0\.status/],
    [{ windows: [{ on: 'submit', status: 503, fromMs: 5, untilMs: 5 }] }, /faults\.windows\.0\.untilMs/],
    [{ windows: [{ on: 'submit', status: 503, from: 0 }] }, /faults\.windows\.0\.fromMs/],
  ])('refuses %j', (faults, message) => {
    expect(() => validateFaults(faults as unknown as EmulatorFaults)).toThrow(message);
  });

  it('accepts every documented status and a schedule of windows', () => {
    for (const status of [429, 500, 502, 503, 507] as const)
      expect(() => validateFaults({ submitStatus: { status, times: 1 } })).not.toThrow();
    expect(() =>
      validateFaults({
        windows: [{ on: 'poll', status: 429, fromMs: 0, untilMs: 10, retryAfterSeconds: 1 }],
      }),
    ).not.toThrow();
  });

  it('refuses unknown fields and dud statuses over POST /_emulator/faults, naming the field', async () => {
    const e = await emulator({ admin: true });
    for (const [body, field] of [
      [{ rates: { submit5XX: 0.5 } }, 'faults.rates.submit5XX'],
      [{ submitStatus: { status: 200, times: 2 } }, 'faults.submitStatus.status'],
    ] as const) {
      const answer = await fetch(`${e.url}${ADMIN_PREFIX}/faults`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toContain(field);
    }
    expect((await submit(e)).status).toBe(202);
    expect(e.faultsInjected()).toEqual({});
  });

  it('resets the injected counts when the faults are set again', async () => {
    const e = await emulator({ admin: true, faults: { submitStatus: { status: 502, times: 2 } } });
    expect((await submit(e)).status).toBe(502);
    expect(e.faultsInjected()).toEqual({ 'submit:502': 1 });
    e.setFaults({ submitStatus: { status: 503, times: 1 } });
    expect(e.faultsInjected()).toEqual({});
    expect((await submit(e)).status).toBe(503);
    const shown = (await (await fetch(`${e.url}${ADMIN_PREFIX}/faults`)).json()) as { injected: object };
    expect(shown.injected).toEqual({ 'submit:503': 1 });
  });
});

describe('fault windows (schedules)', () => {
  it('answers the window status only between fromMs and untilMs after the faults were set', () => {
    let now = 1_000_000;
    const injector = new FaultInjector(
      {
        windows: [
          { on: 'submit', status: 503, fromMs: 10_000, untilMs: 25_000 },
          { on: 'poll', status: 429, fromMs: 20_000, retryAfterSeconds: 3 },
        ],
      },
      () => now,
    );
    const at = (ms: number, kind: 'submitStatus' | 'pollStatus'): number | undefined => {
      now = 1_000_000 + ms;
      return injector.take(kind)?.status;
    };
    expect([0, 9_999, 10_000, 24_999, 25_000, 40_000].map((ms) => at(ms, 'submitStatus'))).toEqual([
      undefined,
      undefined,
      503,
      503,
      undefined,
      undefined,
    ]);
    expect([19_999, 20_000, 1_000_000].map((ms) => at(ms, 'pollStatus'))).toEqual([undefined, 429, 429]);
    expect(injector.injected()).toEqual({ 'submit:503': 2, 'poll:429': 2 });
    injector.set({ windows: [{ on: 'submit', status: 500, fromMs: 0, untilMs: 1_000 }] });
    expect([0, 999, 1_000].map((ms) => at(1_000_000 + ms, 'submitStatus'))).toEqual([500, 500, undefined]);
  });

  it('opens and closes a 5xx window on a running emulator', async () => {
    const e = await emulator({ admin: true });
    const set = await fetch(`${e.url}${ADMIN_PREFIX}/faults`, {
      method: 'POST',
      body: JSON.stringify({ windows: [{ on: 'submit', status: 503, fromMs: 1_500, untilMs: 4_000 }] }),
    });
    const setAt = Date.now();
    expect(set.status).toBe(200);
    const sleepUntil = (ms: number): Promise<void> =>
      new Promise((r) => setTimeout(r, Math.max(0, setAt + ms - Date.now())));
    const before = (await submit(e)).status; // well before 1.5 s
    await sleepUntil(2_500);
    const during = (await submit(e)).status;
    await sleepUntil(5_000);
    const after = (await submit(e)).status;
    expect([before, during, after]).toEqual([202, 503, 202]);
    expect(e.faultsInjected()).toEqual({ 'submit:503': 1 });
  });
});

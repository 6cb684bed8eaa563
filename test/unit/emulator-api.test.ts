/**
 * The emulator over real HTTP with real generated audio: the wire contract of
 * docs/platform-api.md (202 + Location, task states, errors, limits), fixtures and faults.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  RDD_ENDPOINT,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../dev/emulator/index.ts';
import { runTool } from '../../dev/demo/speech-synthesis.ts';
import {
  nonAudioFile,
  SENTENCES,
  sha256File,
  shortSpeechWav,
  speechWav,
  stereoWav,
  toMp3,
} from '../helpers/audio.ts';

interface Media {
  path: string;
  /** Filename sent in the multipart part (defaults to the file's own name). */
  filename?: string;
  /** Content-Type of the multipart part (none by default). */
  type?: string;
}

interface SubmitOptions {
  query?: Record<string, string>;
  config?: string;
  headers?: Record<string, string>;
  omit?: 'file_reference' | 'file_questioned';
}

/** Every field any answer of the API may carry; each test asserts which are there. */
interface Body {
  task: { task_id: string; state: string };
  result?: { score: number | null };
  error?: { type: string; message: string };
  type?: string;
  message?: string;
  detail?: Array<{ location: Array<string | number>; message: string; type: string }>;
  version?: string;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Body;
}

/** POSTs a pair the way a client would: multipart with both files and an optional config field. */
async function submit(
  emulator: RunningEmulator,
  reference: Media,
  questioned: Media,
  options: SubmitOptions = {},
): Promise<Answer> {
  const form = new FormData();
  for (const [field, media] of [
    ['file_reference', reference],
    ['file_questioned', questioned],
  ] as const) {
    if (options.omit === field) continue;
    form.append(
      field,
      new Blob([await readFile(media.path)], media.type ? { type: media.type } : {}),
      media.filename ?? media.path.split('/').pop(),
    );
  }
  if (options.config !== undefined) form.append('config', options.config);
  const query = new URLSearchParams(options.query ?? {}).toString();
  const response = await fetch(`${emulator.url}${RDD_ENDPOINT}${query ? `?${query}` : ''}`, {
    method: 'POST',
    body: form,
    headers: options.headers ?? {},
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Body };
}

const TERMINAL = ['done', 'failed', 'rejected'];

/** Polls a Location until the task is terminal (or 404); returns the last answer. */
async function settle(location: string, timeoutMs = 10_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await get(location);
    if (answer.status !== 200 || TERMINAL.includes(answer.body.task.state)) return answer;
    if (Date.now() > deadline) throw new Error(`task at ${location} did not finish in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Submits and waits for the outcome; asserts the 202. */
async function detect(
  emulator: RunningEmulator,
  reference: Media,
  questioned: Media,
  options: SubmitOptions = {},
): Promise<Answer> {
  const accepted = await submit(emulator, reference, questioned, options);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  return settle(accepted.headers.get('location') as string);
}

/** Runs ffmpeg on `source` into a fresh file named `name` (the name a user's file would have). */
async function ffmpegTo(source: string, name: string, args: string[]): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), 'rdd-emulator-api-')), name);
  await runTool('ffmpeg', ['-loglevel', 'error', '-y', '-i', source, ...args, out]);
  return out;
}

let genuine: Media;
let secondTake: Media;
let otherVoice: Media;
let stereo: Media;

beforeAll(async () => {
  genuine = { path: await speechWav({ text: SENTENCES.a, voice: 'en+m3' }) };
  secondTake = { path: await speechWav({ text: SENTENCES.b, voice: 'en+m3' }) };
  otherVoice = { path: await toMp3(await speechWav({ text: SENTENCES.a, voice: 'en+f3' })) };
  stereo = { path: await stereoWav() };
});

const running: RunningEmulator[] = [];
async function emulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  const started = await startEmulator({ processing: { fixedMs: 30 }, ...options });
  running.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

describe('submitting', () => {
  it('answers 202 with an absolute Location, the same X-Location, and a pending task', async () => {
    const e = await emulator();
    const answer = await submit(e, genuine, secondTake);
    expect(answer.status).toBe(202);
    const id = answer.body.task.task_id;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(answer.body).toEqual({ task: { task_id: id, state: 'pending' } });
    expect(answer.headers.get('location')).toBe(`${e.url}${RDD_ENDPOINT}/${id}`);
    expect(answer.headers.get('x-location')).toBe(answer.headers.get('location'));
    expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('sends a relative Location when relativeLocation is set', async () => {
    const e = await emulator({ relativeLocation: true });
    const answer = await submit(e, genuine, secondTake);
    const id = answer.body.task.task_id;
    expect(answer.headers.get('location')).toBe(`${RDD_ENDPOINT}/${id}`);
    expect(answer.headers.get('x-location')).toBe(`${RDD_ENDPOINT}/${id}`);
    expect((await settle(`${e.url}${answer.headers.get('location')}`)).body.task.state).toBe('done');
  });

  it('goes pending → running → done with a numeric score', async () => {
    const e = await emulator({ processing: { fixedMs: 300 } });
    const answer = await submit(e, genuine, secondTake);
    const location = answer.headers.get('location') as string;
    const seen = new Set<string>([answer.body.task.state]);
    let last: Answer;
    do {
      last = await get(location);
      expect(last.status).toBe(200);
      seen.add(last.body.task.state);
      await new Promise((r) => setTimeout(r, 20));
    } while (!TERMINAL.includes(last.body.task.state));
    expect([...seen]).toEqual(['pending', 'running', 'done']);
    expect(last.body).toEqual({
      task: { task_id: answer.body.task.task_id, state: 'done' },
      result: { score: expect.any(Number) },
    });
    expect(last.body.error).toBeUndefined();
  });

  it('takes processing time from base + per audio second when no fixed time is set', async () => {
    const e = await emulator({ processing: { baseMs: 100, perAudioSecondMs: 100 } }); // two ~3 s files → ~700 ms
    const started = performance.now();
    await detect(e, genuine, secondTake);
    expect(performance.now() - started).toBeGreaterThan(550);
  });

  it('ignores unknown query parameters and unknown config keys', async () => {
    const e = await emulator();
    const done = await detect(e, genuine, secondTake, {
      query: { max_speech_length: '30', whatever: 'x' },
      config: '{"unknown_key": 1}',
    });
    expect(done.body.task.state).toBe('done');
  });

  it('echoes x-correlation-id and x-request-id, and generates a request id when absent', async () => {
    const e = await emulator();
    const withIds = await submit(e, genuine, secondTake, {
      headers: { 'x-request-id': 'req-1', 'x-correlation-id': 'corr-1' },
    });
    expect(withIds.headers.get('x-request-id')).toBe('req-1');
    expect(withIds.headers.get('x-correlation-id')).toBe('corr-1');
    const without = await get(`${e.url}/api/system/info`);
    expect(without.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(without.headers.get('x-correlation-id')).toBeNull();
  });
});

describe('scoring over HTTP', () => {
  it('gives the same score for the same content, whatever the file names', async () => {
    const e = await emulator();
    const first = await detect(e, genuine, otherVoice);
    const again = await detect(
      e,
      { ...genuine, filename: 'renamed.wav' },
      { ...otherVoice, filename: 'other-name.mp3' },
    );
    expect(first.body.result?.score).toEqual(expect.any(Number));
    expect(again.body.result?.score).toBe(first.body.result?.score);
  });

  it('scores a second take of the same voice below 0 and another voice above 0; swapping files keeps the score', async () => {
    const e = await emulator();
    const take = (await detect(e, genuine, secondTake)).body.result?.score;
    const clone = (await detect(e, genuine, otherVoice)).body.result?.score;
    const swapped = (await detect(e, otherVoice, genuine)).body.result?.score;
    expect(take).toBeLessThan(0);
    expect(clone).toBeGreaterThan(0);
    expect(swapped).toBe(clone);
  });

  it('answers score null when a file has under 0.3 s of speech', async () => {
    const e = await emulator();
    const done = await detect(e, genuine, { path: await shortSpeechWav() });
    expect(done.body).toMatchObject({ task: { state: 'done' }, result: { score: null } });
  });

  it('rejects non-audio after accepting it, naming the file', async () => {
    const e = await emulator();
    const accepted = await submit(e, { path: await nonAudioFile(), filename: 'notes.wav' }, secondTake);
    expect(accepted.status).toBe(202);
    const done = await settle(accepted.headers.get('location') as string);
    expect(done.body.task.state).toBe('rejected');
    expect(done.body.result).toBeUndefined();
    expect(done.body.error?.type).toBe('task.validation-error');
    expect(done.body.error?.message).toContain('file_reference');
    expect(done.body.error?.message).toContain('notes.wav');
  });

  it('accepts and scores 8 kHz IMA ADPCM and MS ADPCM WAVs (voicemail, dictation) like their PCM originals', async () => {
    const e = await emulator();
    const at8k = (media: Media, name: string, ...codec: string[]) =>
      ffmpegTo(media.path, name, ['-ar', '8000', ...codec]).then((path) => ({ path }));
    const ima = await at8k(genuine, 'voicemail.wav', '-c:a', 'adpcm_ima_wav');
    const ms = await at8k(secondTake, 'dictation.wav', '-c:a', 'adpcm_ms');
    const pcm = (await detect(e, await at8k(genuine, 'a.wav'), await at8k(secondTake, 'b.wav'))).body;
    const adpcm = (await detect(e, ima, ms)).body;
    expect(adpcm).toEqual({
      task: { task_id: expect.any(String), state: 'done' },
      result: { score: expect.any(Number) },
    });
    // Same voice: below 0, and close to the score of the same pair as 16-bit PCM.
    expect(adpcm.result!.score).toBeLessThan(0);
    expect(Math.abs(adpcm.result!.score! - pcm.result!.score!)).toBeLessThan(0.5);
    const female = await at8k({ path: otherVoice.path }, 'other.wav', '-c:a', 'adpcm_ima_wav');
    expect((await detect(e, ima, female)).body.result?.score).toBeGreaterThan(0);
  });

  it('decides the format from the bytes, whatever the file name and Content-Type say', async () => {
    const e = await emulator();
    const named = (await detect(e, genuine, otherVoice)).body.result?.score;
    const misnamed = await detect(
      e,
      { ...genuine, filename: 'call.mp3', type: 'audio/mpeg' },
      { ...otherVoice, filename: 'voice.wav', type: 'audio/wav' },
    );
    expect(misnamed.body).toMatchObject({ task: { state: 'done' }, result: { score: named } });

    const vorbis = {
      path: await ffmpegTo(secondTake.path, 'voice.opus', ['-c:a', 'libvorbis']),
      type: 'audio/ogg; codecs=opus',
    };
    const refused = await detect(e, genuine, vorbis);
    expect(refused.body.task.state).toBe('rejected');
    expect(refused.body.error).toEqual({
      type: 'task.validation-error',
      message: expect.stringMatching(
        /^file_questioned \("voice\.opus"\): unsupported media format "Ogg\/Vorbis I"; the platform accepts WAV/,
      ),
    });
  });

  it('rejects audio longer than maxAudioSeconds, naming the file', async () => {
    const e = await emulator({ maxAudioSeconds: 1 });
    const done = await detect(e, genuine, { ...secondTake, filename: 'long.wav' });
    expect(done.body.task.state).toBe('rejected');
    expect(done.body.error?.message).toMatch(/file_reference .*maximum audio length is 1 s/);
  });
});

describe('channels', () => {
  it('refuses a multi-channel file without its channel parameter (422 naming file and parameter)', async () => {
    const e = await emulator();
    const answer = await submit(e, { ...stereo, filename: 'call.wav' }, secondTake);
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('request.validation-error');
    expect(answer.body.message).toContain('file_reference ("call.wav") has 2 channels');
    expect(answer.body.message).toContain('reference_channel');
    expect(answer.body.detail).toEqual([
      expect.objectContaining({ location: ['query', 'reference_channel'] }),
    ]);
  });

  it('analyses only the selected channel', async () => {
    const e = await emulator();
    // Channel 0 holds the en+m3 voice, channel 1 an en+f3 voice: against an en+m3 take they must differ.
    const left = await detect(e, stereo, secondTake, { query: { reference_channel: '0' } });
    const right = await detect(e, stereo, secondTake, { query: { reference_channel: '1' } });
    expect(left.body.result?.score).toBeLessThan(0);
    expect(right.body.result?.score).toBeGreaterThan(0);
    const asQuestioned = await detect(e, secondTake, stereo, { query: { questioned_channel: '0' } });
    expect(asQuestioned.body.result?.score).toBe(left.body.result?.score);
  });

  it('refuses a channel out of range or not an integer (422)', async () => {
    const e = await emulator();
    const outOfRange = await submit(e, stereo, secondTake, { query: { reference_channel: '2' } });
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.body.message).toContain('reference_channel=2 is out of range');
    const monoChannel1 = await submit(e, genuine, secondTake, { query: { questioned_channel: '1' } });
    expect(monoChannel1.status).toBe(422);
    expect(monoChannel1.body.detail?.[0]?.location).toEqual(['query', 'questioned_channel']);
    const notInteger = await submit(e, stereo, secondTake, { query: { reference_channel: 'left' } });
    expect(notInteger.status).toBe(422);
    expect(notInteger.body.message).toContain('reference_channel must be a 0-based channel index');
  });

  it('uses the configured channel parameter names', async () => {
    const e = await emulator({ channelParams: { reference: 'channels_ref', questioned: 'channels_q' } });
    expect((await submit(e, stereo, secondTake, { query: { reference_channel: '0' } })).status).toBe(422);
    expect((await submit(e, stereo, secondTake, { query: { channels_ref: '0' } })).status).toBe(202);
  });
});

describe('request validation', () => {
  it('answers 422 with detail for a missing file', async () => {
    const e = await emulator();
    const answer = await submit(e, genuine, secondTake, { omit: 'file_reference' });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      type: 'request.validation-error',
      detail: [
        {
          location: ['body', 'file_reference'],
          type: 'missing',
          message: expect.stringContaining('file_reference'),
        },
      ],
    });
  });

  it('answers 422 when config is not a JSON object', async () => {
    const e = await emulator();
    for (const config of ['{not json', '[1, 2]', '"text"']) {
      const answer = await submit(e, genuine, secondTake, { config });
      expect(answer.status, config).toBe(422);
      expect(answer.body.detail?.[0]?.location).toEqual(['body', 'config']);
    }
  });

  it('answers 400 for a body that is not multipart/form-data', async () => {
    const e = await emulator();
    const answer = await get(`${e.url}${RDD_ENDPOINT}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('request.invalid');
  });

  it('answers 413 over maxUploadBytes, by Content-Length and while streaming without one', async () => {
    const e = await emulator({ maxUploadBytes: 50_000 }); // each test file is ~100 kB
    const declared = await submit(e, genuine, secondTake);
    expect(declared.status).toBe(413);
    expect(declared.body.type).toBe('request.size-limit-exceeded');

    const boundary = 'emulator-test-boundary';
    const parts = [
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file_reference"; filename="a.wav"\r\n\r\n`,
      ),
      await readFile(genuine.path),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ];
    const chunked = await request(`${e.url}${RDD_ENDPOINT}`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.from(parts), // no Content-Length: transfer-encoding chunked
    });
    expect(chunked.statusCode).toBe(413);
    expect(((await chunked.body.json()) as { type: string }).type).toBe('request.size-limit-exceeded');
    // The connection and server stay usable.
    expect((await get(`${e.url}/api/system/status`)).status).toBe(200);
  });

  it('answers 405 method.invalid for other methods on known paths, 404 for unknown paths', async () => {
    const e = await emulator();
    const onSubmit = await get(`${e.url}${RDD_ENDPOINT}`);
    expect(onSubmit.status).toBe(405);
    expect(onSubmit.body.type).toBe('method.invalid');
    expect(onSubmit.headers.get('allow')).toBe('POST');
    const accepted = await submit(e, genuine, secondTake);
    const deleted = await get(accepted.headers.get('location') as string, { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    expect((await get(`${e.url}/api/system/info`, { method: 'POST' })).status).toBe(405);
    const unknown = await get(`${e.url}/api/technology/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('resource.not-found');
  });
});

describe('task lifecycle', () => {
  it('answers 404 resource.not-found for an unknown task id', async () => {
    const e = await emulator();
    const answer = await get(`${e.url}${RDD_ENDPOINT}/123e4567-e89b-12d3-a456-426614174000`);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ type: 'resource.not-found', message: expect.stringContaining('123e4567') });
  });

  it('keeps the third task pending while two run with capacity 2, then runs it', async () => {
    const e = await emulator({ capacity: 2, processing: { fixedMs: 400 } });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await submit(e, genuine, secondTake));
    const states = await Promise.all(
      answers.map(async (a) => (await get(a.headers.get('location') as string)).body.task.state),
    );
    expect(states).toEqual(['running', 'running', 'pending']);
    expect(e.stats()).toMatchObject({ running: 2, pending: 1 });
    const done = await Promise.all(answers.map((a) => settle(a.headers.get('location') as string)));
    expect(done.map((d) => d.body.task.state)).toEqual(['done', 'done', 'done']);
  });

  it('forgets finished tasks after expiryMs (404)', async () => {
    const e = await emulator({ expiryMs: 150 });
    const accepted = await submit(e, genuine, secondTake);
    const location = accepted.headers.get('location') as string;
    expect((await settle(location)).body.task.state).toBe('done');
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(location)).status).toBe(404);
  });

  it('forgets every task on restart(), like an appliance restart, and keeps working', async () => {
    const e = await emulator({ processing: { fixedMs: 200 } });
    const finished = await submit(e, genuine, secondTake);
    await settle(finished.headers.get('location') as string);
    const inFlight = await submit(e, genuine, secondTake);
    e.restart();
    expect((await get(finished.headers.get('location') as string)).status).toBe(404);
    expect((await get(inFlight.headers.get('location') as string)).status).toBe(404);
    expect(e.stats()).toMatchObject({ pending: 0, running: 0, finished: 0, storedBytes: 0 });
    expect((await detect(e, genuine, secondTake)).body.task.state).toBe('done');
  });

  it('answers 507 while unfinished uploads fill the storage, and accepts again once they finish', async () => {
    const pairBytes =
      (await readFile(genuine.path)).byteLength + (await readFile(secondTake.path)).byteLength;
    const e = await emulator({ storageBytes: Math.floor(pairBytes * 1.5), processing: { fixedMs: 300 } });
    const first = await submit(e, genuine, secondTake);
    expect(first.status).toBe(202);
    expect(e.stats().storedBytes).toBe(pairBytes);
    const full = await submit(e, genuine, secondTake);
    expect(full.status).toBe(507);
    expect(full.body.type).toBe('storage.capacity-exceeded');
    await settle(first.headers.get('location') as string);
    expect(e.stats().storedBytes).toBe(0);
    expect((await submit(e, genuine, secondTake)).status).toBe(202);
  });
});

describe('fixtures (by SHA-256 of the questioned file)', () => {
  it('fails the first failTimes tasks, then scores normally', async () => {
    const e = await emulator({
      fixtures: { [await sha256File(otherVoice.path)]: { failTimes: 2, message: 'model crashed' } },
    });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await detect(e, genuine, otherVoice)).body);
    expect(outcomes[0]).toMatchObject({
      task: { state: 'failed' },
      error: { type: 'internal', message: 'model crashed' },
    });
    expect(outcomes[1]?.task.state).toBe('failed');
    expect(outcomes[2]).toMatchObject({ task: { state: 'done' }, result: { score: expect.any(Number) } });
    // Other content is unaffected.
    expect((await detect(e, genuine, secondTake)).body.task.state).toBe('done');
  });

  it('loses the first loseTimes tasks when they would finish (polls turn 404), then scores normally', async () => {
    const e = await emulator({ fixtures: { [await sha256File(otherVoice.path)]: { loseTimes: 1 } } });
    const lost = await submit(e, genuine, otherVoice);
    const location = lost.headers.get('location') as string;
    expect((await get(location)).status).toBe(200); // exists until it would finish
    expect((await settle(location)).status).toBe(404);
    expect((await detect(e, genuine, otherVoice)).body.task.state).toBe('done');
  });

  it('forces a score, a state, and a processing time', async () => {
    const e = await emulator({
      fixtures: {
        [await sha256File(otherVoice.path)]: { score: -4.5 },
        [await sha256File(secondTake.path)]: { state: 'rejected', message: 'no speech model for this input' },
        [await sha256File(genuine.path)]: { score: null, processingMs: 400 },
      },
    });
    expect((await detect(e, secondTake, otherVoice)).body.result).toEqual({ score: -4.5 });
    expect((await detect(e, genuine, secondTake)).body).toMatchObject({
      task: { state: 'rejected' },
      error: { type: 'task.validation-error', message: 'no speech model for this input' },
    });
    const started = performance.now();
    expect((await detect(e, secondTake, genuine)).body.result).toEqual({ score: null });
    expect(performance.now() - started).toBeGreaterThan(350);
  });

  it('can be added while running, and loaded from a JSON file', async () => {
    const e = await emulator();
    e.addFixtures({ [await sha256File(otherVoice.path)]: { score: 7 } });
    expect((await detect(e, genuine, otherVoice)).body.result?.score).toBe(7);
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const file = `${await mkdtemp(`${tmpdir()}/emulator-fixtures-`)}/fixtures.json`;
    await writeFile(
      file,
      JSON.stringify({ [(await sha256File(otherVoice.path)).toUpperCase()]: { state: 'failed' } }),
    );
    const fromFile = await emulator({ fixtures: file });
    expect((await detect(fromFile, genuine, otherVoice)).body.task.state).toBe('failed');
  });

  it('refuses malformed fixtures at start', async () => {
    await expect(startEmulator({ fixtures: { 'not-a-hash': {} } })).rejects.toThrow(/64 hex digits/);
    await expect(startEmulator({ fixtures: { ['a'.repeat(64)]: { failTimes: -1 } } })).rejects.toThrow(
      /failTimes/,
    );
  });
});

describe('faults', () => {
  it('answers injected 429s with retry-after, then accepts', async () => {
    const e = await emulator({ faults: { submitStatus: { status: 429, times: 1, retryAfterSeconds: 3 } } });
    const limited = await submit(e, genuine, secondTake);
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('request.rate-limit-exceeded');
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await submit(e, genuine, secondTake)).status).toBe(202);
  });

  it('answers injected poll errors, set while running', async () => {
    const e = await emulator();
    const accepted = await submit(e, genuine, secondTake);
    e.setFaults({ pollStatus: { status: 503, times: 1 } });
    const unavailable = await get(accepted.headers.get('location') as string);
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.type).toBe('internal');
    expect((await settle(accepted.headers.get('location') as string)).body.task.state).toBe('done');
  });
});

describe('system endpoints', () => {
  it('reports the version and status', async () => {
    const e = await emulator({ version: '4.1.2-test' });
    expect(await get(`${e.url}/api/system/info`)).toMatchObject({
      status: 200,
      body: { version: '4.1.2-test' },
    });
    expect((await get(`${e.url}/api/system/status`)).status).toBe(200);
  });

  it('defaults to an emulator version', async () => {
    const e = await emulator();
    expect((await get(`${e.url}/api/system/info`)).body.version).toBe('4.0.0-emulator');
  });
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

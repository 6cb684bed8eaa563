/**
 * Issue 10, "Bad input": ONE table of what users send wrong, each row with where it enters (the
 * `rdd` CLI, the typed client `startDetection`, the HTTP API, a manifest line, the workflow input
 * started raw through Temporal, the activity), the exact message the user sees, the failure type,
 * proof that no retry was burned (no activity scheduled, every local activity ended on attempt 1),
 * and the input named in the message. The real-world recordings (test/helpers/real-world-audio.ts)
 * are rows of the same table: refused ones with their exact message, accepted ones with the verdict
 * the platform gives them (`inconclusive` when there is no speech). A batch holding the bad lines
 * plus two good pairs shows that the good pairs still record results.
 *
 * Real parts: the shared Temporal dev server and versitygw, an emulator and a worker of this file's
 * own (limits lowered to 3 MB and 120 s so the "too large" and "too long" rows stay small), the API
 * server in process, `rdd` as a child process.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectMedia } from '../../src/activities/inspect-media.ts';
import { createApiServer } from '../../src/api/server.ts';
import { startBatch, waitForBatch, type BatchView } from '../../src/client/batches.ts';
import { InvalidDetectionInputError } from '../../src/client/invalid-detection-input-error.ts';
import { loadApiConfig } from '../../src/config/api.ts';
import { loadReportRows } from '../../src/reports/load-rows.ts';
import type { DetectInput } from '../../src/shared/detection.ts';
import type { InspectedMedia, MediaRef } from '../../src/shared/media.ts';
import { SENTENCES, speechWav, stereoWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';
import { localActivities, scheduledActivities } from '../helpers/history.ts';
import { realWorldRecordings, type RealWorldRecording } from '../helpers/real-world-audio.ts';
import { rejection } from '../helpers/rejection.ts';
import { testServices } from '../helpers/services.ts';
import { runRdd, type ProcessOutcome } from '../helpers/run-rdd.ts';

const MAX_UPLOAD_BYTES = 3_000_000;
const MAX_AUDIO_SECONDS = 120;

let harness: Harness;
let api: FastifyInstance;
let apiUrl: string;
let bucket: string;
let prefix: string;
/** Good recordings: two voices. */
let ref: MediaRef;
let q: MediaRef;
let refFile: string;
let qFile: string;
const recordings: RealWorldRecording[] = await realWorldRecordings();

const s3url = (m: MediaRef) => `s3://${m.bucket}/${m.key}`;

async function put(key: string, body: Uint8Array | string): Promise<MediaRef> {
  await harness.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body }));
  return { bucket, key: `${prefix}/${key}` };
}

/** A mono 8-bit 8 kHz PCM WAV of `seconds` of silence: small bytes, long audio. */
function longWav(seconds: number): Buffer {
  const rate = 8000;
  const data = seconds * rate;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data, 40);
  return Buffer.concat([header, Buffer.alloc(data, 0x80)]);
}

beforeAll(async () => {
  refFile = await speechWav({ text: SENTENCES.a, voice: 'en+m3' });
  qFile = await speechWav({ text: 'I would like to move money between my accounts today.', voice: 'en+f3' });
  harness = await startHarness(
    {
      maxUploadBytes: MAX_UPLOAD_BYTES,
      maxAudioSeconds: MAX_AUDIO_SECONDS,
      capacity: 4,
      processing: { fixedMs: 50 },
    },
    {
      workerEnv: {
        DETECTOR_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
        DETECTOR_MAX_AUDIO_SECONDS: String(MAX_AUDIO_SECONDS),
        DETECTOR_CAPACITY: '4',
      },
    },
  );
  bucket = harness.bucket;
  prefix = `${harness.taskQueue}/bad-input`;
  ref = await put('ref.wav', await readFile(refFile));
  q = await put('q.wav', await readFile(qFile));
  const truncated = (await readFile(refFile)).subarray(0, 30);
  await Promise.all([
    put('empty.wav', ''),
    put('truncated.wav', truncated),
    put('two-hours.wav', longWav(MAX_AUDIO_SECONDS + 10)),
    put('huge.wav', Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0x55)),
    put('stereo.wav', await readFile(await stereoWav())),
    ...recordings.map(async (r) => put(`real-world/${r.name}/${basename(r.file)}`, await readFile(r.file))),
  ]);
  const config = loadApiConfig({ ...harness.env, RDD_API_PORT: '0' });
  api = await createApiServer({ client: harness.client, s3: harness.s3, config });
  apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
}, 180_000);

afterAll(async () => {
  await api?.close();
  await harness?.close();
});

/** Where a bad input enters. */
type Entry = 'client' | 'workflow' | 'cli' | 'api' | 'activity' | 'batch';

/** What the user sees: a failed workflow (type + message), a refused start, a CLI line, an API problem. */
interface Seen {
  type: string;
  message: string;
}

/** Runs a detection through the client and returns its failure, checking no retry was burned. */
async function failedDetection(handle: WorkflowHandle): Promise<Seen> {
  const err = await rejection(handle.result());
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  expect(failure.nonRetryable).toBe(true);
  // No retries burned: nothing reached the (retried) activities, and every local activity (the
  // inspection) ended on its first attempt.
  expect(await scheduledActivities(handle)).toEqual([]);
  const locals = await localActivities(handle);
  expect(
    locals.every((l) => l.attempt === 1),
    JSON.stringify(locals),
  ).toBe(true);
  return { type: failure.type ?? '', message: failure.message };
}

/** Detections started through the client with `questioned` replaced. */
function detect(media: Partial<DetectInput>): Promise<Seen> {
  return harness.start({ reference: ref, questioned: q, ...media }).then(failedDetection);
}

/** A client start that must be refused before Temporal: nothing started under its id. */
async function refusedStart(input: unknown, id?: string): Promise<Seen> {
  const workflowId = id ?? `${harness.taskQueue}-refused-${Math.random().toString(36).slice(2, 8)}`;
  const err = await rejection(harness.start(input as DetectInput, workflowId));
  expect(err).toBeInstanceOf(InvalidDetectionInputError);
  const described = await rejection(harness.client.workflow.getHandle(workflowId).describe());
  expect((described as Error).name).toBe('WorkflowNotFoundError');
  return { type: (err as Error).name, message: (err as Error).message };
}

/** detectWorkflow started raw, as any Temporal client could: it must fail before any work. */
async function rawWorkflow(input: unknown, id?: string): Promise<Seen> {
  const handle = await harness.startUnchecked(input, id);
  const seen = await failedDetection(handle);
  expect(await localActivities(handle)).toEqual([]);
  return seen;
}

function rdd(args: string[]): Promise<ProcessOutcome> {
  return runRdd(args, { ...process.env, ...harness.env });
}

/** `rdd …` that must exit 2 before starting anything: its first stderr line. */
async function cli(args: string[]): Promise<Seen> {
  const { code, stdout, stderr } = await rdd(args);
  expect(stdout).toBe('');
  return { type: `exit ${code}`, message: stderr.split('\n')[0] ?? '' };
}

async function postDetection(body: unknown): Promise<Seen> {
  const response = await fetch(`${apiUrl}/v1/detections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const problem = (await response.json()) as { detail?: string };
  return { type: `HTTP ${response.status}`, message: problem.detail ?? JSON.stringify(problem) };
}

interface Row {
  name: string;
  entry: Entry;
  run: () => Promise<Seen>;
  type: string;
  /** The exact message, or a precise pattern where it holds a run-specific part. */
  message: () => string | RegExp;
  /** What the message must name (bucket, key, field, flag). */
  names: () => string[];
}

const k = (key: string) => `${prefix}/${key}`;
const at = (key: string): MediaRef => ({ bucket, key: k(key) });

/** The rows of the table (functions, so they can use what beforeAll made). */
const rows: Row[] = [
  {
    name: 'missing bucket',
    entry: 'client',
    run: () => detect({ questioned: { bucket: 'rdd-no-such-bucket-h10', key: 'calls/q.wav' } }),
    type: 'MediaNotFound',
    message: () =>
      'questioned s3://rdd-no-such-bucket-h10/calls/q.wav: the bucket rdd-no-such-bucket-h10 does not exist (NoSuchBucket); create it or check the name',
    names: () => ['rdd-no-such-bucket-h10'],
  },
  {
    name: 'missing key',
    entry: 'client',
    run: () => detect({ questioned: at('nowhere/missing.wav') }),
    type: 'MediaNotFound',
    message: () =>
      `questioned ${s3url(at('nowhere/missing.wav'))} does not exist: no object ${k('nowhere/missing.wav')} in bucket ${bucket} (NotFound)`,
    names: () => [k('nowhere/missing.wav')],
  },
  {
    name: 'empty object',
    entry: 'client',
    run: () => detect({ questioned: at('empty.wav') }),
    type: 'MediaEmpty',
    message: () => `questioned ${s3url(at('empty.wav'))} is empty (0 bytes)`,
    names: () => [k('empty.wav')],
  },
  {
    name: 'truncated WAV header (30 bytes)',
    entry: 'client',
    run: () => detect({ questioned: at('truncated.wav') }),
    type: 'MediaNotAudio',
    message: () =>
      `questioned ${s3url(at('truncated.wav'))} is a WAVE file with no data chunk (no audio); the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus: convert it (ffmpeg -i in -ac 1 -c:a pcm_s16le out.wav)`,
    names: () => [k('truncated.wav')],
  },
  {
    name: 'recording over the length limit',
    entry: 'client',
    run: () => detect({ questioned: at('two-hours.wav') }),
    type: 'MediaTooLong',
    message: () =>
      `questioned ${s3url(at('two-hours.wav'))} lasts 130 s; the platform accepts at most 120 s: cut it (ffmpeg -i in -t 120 -c copy out)`,
    names: () => [k('two-hours.wav')],
  },
  {
    name: 'object over the upload limit',
    entry: 'client',
    run: () => detect({ questioned: at('huge.wav') }),
    type: 'MediaTooLarge',
    message: () =>
      `questioned ${s3url(at('huge.wav'))} is 3000001 bytes; the platform accepts at most 3000000 bytes per upload`,
    names: () => [k('huge.wav')],
  },
  {
    name: 'multi-channel without a channel',
    entry: 'client',
    run: () => detect({ questioned: at('stereo.wav') }),
    type: 'MediaChannelRequired',
    message: () =>
      `questioned ${s3url(at('stereo.wav'))} has 2 channels; choose one (0–1) with its channel option`,
    names: () => [k('stereo.wav')],
  },
  {
    name: 'multi-channel with an out-of-range channel',
    entry: 'client',
    run: () => detect({ questioned: { ...at('stereo.wav'), channel: 5 } }),
    type: 'MediaChannelOutOfRange',
    message: () =>
      `questioned ${s3url(at('stereo.wav'))} has 2 channel(s); channel 5 does not exist (use 0–1)`,
    names: () => [k('stereo.wav')],
  },
  {
    name: 'reference and questioned identical',
    entry: 'client',
    run: () => detect({ questioned: ref }),
    type: 'InvalidInput',
    message: () =>
      `reference and questioned are the same recording ${s3url(ref)} (channel 0): a recording compared with itself tells nothing; choose a different questioned recording`,
    names: () => [ref.key],
  },
  // Structure: refused by the typed client before Temporal (the CLI and API share this check).
  {
    name: 'invalid bucket name',
    entry: 'client',
    run: () =>
      refusedStart({ reference: ref, questioned: { bucket: 'Call_Recordings..2024', key: 'q.wav' } }),
    type: 'InvalidDetectionInputError',
    message: () =>
      'invalid detection request: questioned.bucket "Call_Recordings..2024" is not a valid S3 bucket name: uppercase letters, "_" is not allowed, adjacent dots ".."',
    names: () => ['questioned.bucket', 'Call_Recordings..2024'],
  },
  {
    name: 'key with a ".." segment',
    entry: 'client',
    run: () => refusedStart({ reference: ref, questioned: { bucket, key: 'calls/../q.wav' } }),
    type: 'InvalidDetectionInputError',
    message: () =>
      'invalid detection request: questioned.key "calls/../q.wav" is not a usable S3 object key: a "." or ".." segment',
    names: () => ['questioned.key', 'calls/../q.wav'],
  },
  {
    name: 'key with "//"',
    entry: 'client',
    run: () => refusedStart({ reference: { bucket, key: 'calls//ref.wav' }, questioned: q }),
    type: 'InvalidDetectionInputError',
    message: () =>
      'invalid detection request: reference.key "calls//ref.wav" is not a usable S3 object key: an empty segment "//"',
    names: () => ['reference.key', 'calls//ref.wav'],
  },
  {
    name: 'key with a leading "/"',
    entry: 'client',
    run: () => refusedStart({ reference: ref, questioned: { bucket, key: '/calls/q.wav' } }),
    type: 'InvalidDetectionInputError',
    message: () =>
      'invalid detection request: questioned.key "/calls/q.wav" is not a usable S3 object key: a leading "/"',
    names: () => ['questioned.key', '/calls/q.wav'],
  },
  {
    name: 'id longer than a result key segment allows',
    entry: 'client',
    run: () => refusedStart({ reference: ref, questioned: q }, `d-${'x'.repeat(300)}`),
    type: 'InvalidDetectionInputError',
    message: () =>
      'invalid detection request: id "d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…xxxxxxxxxxxx" (302 bytes) is not usable: 302 bytes, over 250 (it becomes the key segment "<id>.json", at most 255 bytes)',
    names: () => ['id'],
  },
  // Structure: detectWorkflow started raw through Temporal: the workflow refuses before any work.
  {
    name: 'missing questioned',
    entry: 'workflow',
    run: () => rawWorkflow({ reference: ref }),
    type: 'InvalidInput',
    message: () => 'questioned must be an object {bucket, key, channel?}',
    names: () => ['questioned'],
  },
  {
    name: 'mistyped key, channel and threshold',
    entry: 'workflow',
    run: () =>
      rawWorkflow({
        reference: { ...ref, channel: '1' },
        questioned: { bucket, key: 42 },
        threshold: 'high',
      }),
    type: 'InvalidInput',
    message: () =>
      'reference.channel must be a 0-based channel index, got "1"; questioned.key must be a non-empty string; threshold must be a finite number, got "high"',
    names: () => ['reference.channel', 'questioned.key', 'threshold'],
  },
  {
    name: 'config that is a JSON string, not an object',
    entry: 'workflow',
    run: () => rawWorkflow({ reference: ref, questioned: q, config: '{"max_speech_length": 60' }),
    type: 'InvalidInput',
    message: () => 'config must be a JSON object',
    names: () => ['config'],
  },
  {
    name: 'key with ".." (past the client)',
    entry: 'workflow',
    run: () => rawWorkflow({ reference: ref, questioned: { bucket, key: '../q.wav' } }),
    type: 'InvalidInput',
    message: () => 'questioned.key "../q.wav" is not a usable S3 object key: a "." or ".." segment',
    names: () => ['questioned.key', '../q.wav'],
  },
  {
    name: 'workflow id too long for its default result key',
    entry: 'workflow',
    run: () => rawWorkflow({ reference: ref, questioned: q }, `raw-${'y'.repeat(300)}`),
    type: 'InvalidInput',
    message: () =>
      'workflow id "raw-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…yyyyyyyyyyyy" (304 bytes) is not usable: 304 bytes, over 250 (it becomes the key segment "<id>.json", at most 255 bytes)',
    names: () => ['workflow id'],
  },
  {
    name: 'workflow id longer than the server allows (1000 bytes)',
    entry: 'workflow',
    run: () => serverRefusedStart(`raw-${'z'.repeat(1100)}`),
    type: 'ServiceError',
    message: () =>
      'Failed to start Workflow: 3 INVALID_ARGUMENT: WorkflowId exceeds maximum allowed length (1104/1000)',
    names: () => ['WorkflowId', '1000'],
  },
  {
    name: 'id longer than the server allows, with a result key of its own',
    entry: 'client',
    run: async () => {
      const err = await rejection(
        harness.start(
          { reference: ref, questioned: q, result: { key: k('long-id.json') } },
          `d-${'w'.repeat(1100)}`,
        ),
      );
      expect(err).toBeInstanceOf(InvalidDetectionInputError);
      return { type: (err as Error).name, message: (err as Error).message };
    },
    type: 'InvalidDetectionInputError',
    message: () => 'invalid detection request: id is 1102 bytes, over the 1000 bytes Temporal allows',
    names: () => ['id'],
  },
  // The CLI: usage errors exit 2 before anything starts.
  {
    name: 'unknown flag',
    entry: 'cli',
    run: () => cli(['detect', refFile, qFile, '--colour', 'blue']),
    type: 'exit 2',
    message: () => "rdd detect: unknown option '--colour'",
    names: () => ['--colour'],
  },
  {
    name: 'unknown flag on batch start',
    entry: 'cli',
    run: () => cli(['batch', 'start', 'pairs.csv', '--paralel', '4']),
    type: 'exit 2',
    message: () => "rdd batch start: unknown option '--paralel'",
    names: () => ['--paralel'],
  },
  {
    name: 'batch start over a whole bucket without --suffix',
    entry: 'cli',
    run: () => cli(['batch', 'start', '--reference', s3url(ref), '--prefix', `s3://${bucket}/`]),
    type: 'exit 2',
    message: () =>
      /--prefix s3:\/\/[^ ]+\/ takes every object in the bucket \(results, cache and batch reports included\)/,
    names: () => ['--prefix'],
  },
  {
    name: 'invalid --config JSON',
    entry: 'cli',
    run: () => cli(['detect', refFile, qFile, '--config', '{"max_speech_length": 60']),
    type: 'exit 2',
    message: () =>
      /^rdd detect: option '--config <json>' argument '\{"max_speech_length": 60' is invalid\. Not valid JSON: Expected ',' or '\}' after property value in JSON at position 24/,
    names: () => ['--config'],
  },
  {
    name: 'invalid bucket name in an s3:// argument',
    entry: 'cli',
    run: () => cli(['detect', 's3://Call_Recordings/ref.wav', s3url(q)]),
    type: 'exit 2',
    message: () =>
      'rdd detect: reference bucket "Call_Recordings" is not a valid S3 bucket name: uppercase letters, "_" is not allowed',
    names: () => ['Call_Recordings'],
  },
  {
    name: 'key with "//" in an s3:// argument',
    entry: 'cli',
    run: () => cli(['detect', s3url(ref), `s3://${bucket}/calls//q.wav`]),
    type: 'exit 2',
    message: () =>
      'rdd detect: questioned key "calls//q.wav" is not a usable S3 object key: an empty segment "//"',
    names: () => ['calls//q.wav'],
  },
  {
    name: 'the same local file twice (--wait)',
    entry: 'cli',
    run: async () => {
      const { code, stderr } = await rdd(['detect', refFile, refFile, '--wait']);
      return { type: `exit ${code}`, message: stderr.split('\n')[0] ?? '' };
    },
    type: 'exit 1',
    message: () =>
      /^rdd detect: detection detect-[0-9a-f]{32} failed: InvalidInput: reference and questioned are the same recording s3:\/\/rdd-test\/media\/[0-9a-f]{64}\.wav \(local file \/\S+\.wav\) \(channel 0\): a recording compared with itself tells nothing; choose a different questioned recording$/,
    names: () => ['same recording', 'local file'],
  },
  // The HTTP API.
  {
    name: 'key with a leading "/"',
    entry: 'api',
    run: () => postDetection({ reference: ref, questioned: { bucket, key: '/calls/q.wav' } }),
    type: 'HTTP 422',
    message: () =>
      'the request body is invalid: /questioned/key "/calls/q.wav" is not a usable S3 object key: a leading "/"',
    names: () => ['/questioned/key', '/calls/q.wav'],
  },
  {
    name: 'missing questioned',
    entry: 'api',
    run: () => postDetection({ reference: ref }),
    type: 'HTTP 422',
    message: () =>
      'the request body is invalid: /questioned Invalid input: expected object, received undefined',
    names: () => ['questioned'],
  },
  {
    name: 'config that is a string',
    entry: 'api',
    run: () => postDetection({ reference: ref, questioned: q, config: '{"max_speech_length": 60' }),
    type: 'HTTP 422',
    message: () => 'the request body is invalid: /config Invalid input: expected record, received string',
    names: () => ['config'],
  },
  // Access denied: versitygw's test instance has one root account and no IAM, and a bucket policy
  // cannot deny root; a wrong secret key gets a real 403 from it, classified by the activity.
  {
    name: 'access denied (a real 403 from versitygw)',
    entry: 'activity',
    run: () => inspectDenied(ref),
    type: 'StorageAccessDenied',
    message: () =>
      `access to reference ${s3url(ref)} was denied (HTTP 403 with no error body): check the worker's S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the bucket's policy`,
    names: () => [ref.key],
  },
];

/** What `inspectMedia` throws when S3 answers 403 (credentials S3 does not accept). */
async function inspectDenied(media: MediaRef): Promise<Seen> {
  const { s3: services } = testServices();
  const denied = new S3Client({
    endpoint: services.endpoint,
    region: services.region,
    forcePathStyle: true,
    credentials: { accessKeyId: services.accessKeyId, secretAccessKey: 'not-the-secret' },
  });
  try {
    const err = await rejection(
      new MockActivityEnvironment().run<Parameters<typeof inspectMedia>, InspectedMedia, typeof inspectMedia>(
        inspectMedia,
        { s3: denied, limits: { maxUploadBytes: MAX_UPLOAD_BYTES, maxAudioSeconds: MAX_AUDIO_SECONDS } },
        { media, role: 'reference' },
      ),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    // Non-retryable: the activity fails on its first attempt.
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    return { type: (err as ApplicationFailure).type ?? '', message: (err as Error).message };
  } finally {
    denied.destroy();
  }
}

/** Starts detectWorkflow raw under an id Temporal itself refuses. */
async function serverRefusedStart(workflowId: string): Promise<Seen> {
  const err = await rejection(
    harness.client.workflow.start('detectWorkflow', {
      taskQueue: harness.taskQueue,
      workflowId,
      args: [{ reference: ref, questioned: q, result: { key: `${prefix}/long-id.json` } }],
    }),
  );
  const cause = (err as Error).cause as Error | undefined;
  return { type: (err as Error).name, message: `${(err as Error).message}: ${cause?.message}` };
}

/**
 * Exactly what `inspectMedia` says after `questioned s3://bucket/key is ` for each refused real-world
 * recording.
 */
const REFUSALS: Record<string, string> = {
  'ogg-vorbis':
    'Ogg/Vorbis audio; the platform takes Ogg only with the Opus codec: convert it (ffmpeg -i in.ogg -c:a libopus out.opus) or use WAV, MP3 or FLAC',
  'text-named-wav':
    'not a recognised audio format (it starts with the text "This is a text f…"); the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus',
  'aac-m4a':
    'MP4/M4A audio (brand "M4A ", usually AAC), which the platform does not take; the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus: convert it (ffmpeg -i in.m4a -c:a pcm_s16le out.wav, or -c:a libmp3lame out.mp3)',
  aiff: 'AIFF audio, which the platform does not list; the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus: convert it (ffmpeg -i in.aiff -c:a pcm_s16le out.wav)',
  'phone-gsm-8k':
    'WAVE/GSM 6.10 audio, a WAV codec the platform does not take; the platform takes WAV only as PCM (8–32 bit), float, A-law, µ-law or ADPCM: convert it (ffmpeg -i in.wav -c:a pcm_s16le out.wav) or use MP3, FLAC or Ogg/Opus',
  'phone-g726-8k':
    'WAVE/G.726 ADPCM audio (format tag 0x0045); the platform takes IMA ADPCM (0x0011) or MS ADPCM (0x0002) among ADPCM WAVs: convert it (ffmpeg -i in.wav -c:a adpcm_ima_wav out.wav, or -c:a pcm_s16le for PCM) or use MP3, FLAC or Ogg/Opus',
  'webm-opus':
    'a Matroska/WebM file, which the platform does not take; the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus: convert it (ffmpeg -i in -ac 1 -c:a pcm_s16le out.wav)',
  'meeting-m4a-aac':
    'MP4/M4A audio (brand "M4A ", usually AAC), which the platform does not take; the platform takes WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus: convert it (ffmpeg -i in.m4a -c:a pcm_s16le out.wav, or -c:a libmp3lame out.mp3)',
};

const rwRef = (r: RealWorldRecording): MediaRef => ({
  ...at(`real-world/${r.name}/${basename(r.file)}`),
  ...(r.channel !== undefined && { channel: r.channel }),
});

// The refused real-world recordings are rows of the same table.
rows.push(
  ...recordings
    .filter((r) => !r.accepted)
    .map((r): Row => ({
      name: `real-world ${r.name} (${r.description})`,
      entry: 'client',
      run: () => detect({ questioned: rwRef(r) }),
      type: 'MediaNotAudio',
      message: () => `questioned ${s3url(rwRef(r))} is ${REFUSALS[r.name] ?? '(no message in REFUSALS)'}`,
      names: () => [rwRef(r).key],
    })),
);

describe('bad input: one table', () => {
  it('has a row for every kind the issue lists, and an exact message for every refused recording', () => {
    const names = rows.map((r) => `${r.entry}: ${r.name}`);
    for (const kind of [
      'missing bucket',
      'invalid bucket name',
      'missing key',
      'access denied',
      'empty object',
      'text-named-wav',
      'truncated WAV header',
      'over the length limit',
      'over the upload limit',
      'multi-channel without a channel',
      'out-of-range channel',
      'identical',
      'invalid --config JSON',
      'unknown flag',
      '".."',
      '"//"',
      'leading "/"',
      'missing questioned',
      'mistyped',
      'longer than the server allows',
    ]) {
      expect(
        names.some((n) => n.includes(kind)),
        kind,
      ).toBe(true);
    }
    expect(recordings.filter((r) => !r.accepted && !(r.name in REFUSALS)).map((r) => r.name)).toEqual([]);
  });

  it.concurrent.each(rows.map((r) => [`${r.entry}: ${r.name}`, r] as const))('%s', async (_, row) => {
    const seen = await row.run();
    expect(seen.type).toBe(row.type);
    const message = row.message();
    if (typeof message === 'string') expect(seen.message).toBe(message);
    else expect(seen.message).toMatch(message);
    for (const name of row.names()) expect(seen.message).toContain(name);
  });
});

describe('real-world recordings the platform takes: scored, or inconclusive without speech', () => {
  it.concurrent.each(recordings.filter((r) => r.accepted).map((r) => [r.name, r] as const))(
    '%s',
    async (_, recording) => {
      const handle = await harness.start({ reference: ref, questioned: rwRef(recording), cache: false });
      const result = await handle.result();
      expect(await harness.readResult(result.resultLocation.key)).toMatchObject({
        workflowId: handle.workflowId,
      });
      if (recording.speech === false) expect(result).toMatchObject({ score: null, verdict: 'inconclusive' });
      else {
        expect(typeof result.score, `${recording.name}: ${recording.description}`).toBe('number');
        expect(['genuine', 'deepfake']).toContain(result.verdict);
      }
    },
  );
});

describe('bad manifest lines: reported with their line, the rest of the batch runs', () => {
  it('one batch: malformed and invalid lines, bad media, two good pairs that record results', async () => {
    const u = (key: string) => s3url(at(key));
    const csv = [
      'id,reference,questioned,questioned_channel',
      `good-1,${s3url(ref)},${s3url(q)},`, // 2
      `unterminated,${s3url(ref)},"${s3url(q)},`, // 3
      'one-column', // 4
      `bad-bucket,${s3url(ref)},s3://Bad_Bucket/q.wav,`, // 5
      `dot-dot,${s3url(ref)},${u('a/../q.wav')},`, // 6
      `double-slash,${s3url(ref)},${u('a//q.wav')},`, // 7
      `bad-channel,${s3url(ref)},${s3url(q)},-1`, // 8
      `missing,${s3url(ref)},${u('nowhere/missing.wav')},`, // 9
      `empty,${s3url(ref)},${u('empty.wav')},`, // 10
      `text,${s3url(ref)},${u('real-world/text-named-wav/text-named.wav')},`, // 11
      `stereo,${s3url(ref)},${u('stereo.wav')},`, // 12
      `identical,${s3url(ref)},${s3url(ref)},`, // 13
      `good-2,${s3url(ref)},${u('stereo.wav')},1`, // 14
    ].join('\n');
    const manifest = await put('pairs.csv', csv);
    const id = `${harness.taskQueue}-bad-lines`;
    await startBatch(
      harness.client,
      { manifest, polling: FAST_POLLING },
      { id, taskQueue: harness.taskQueue },
    );
    const view = await waitForBatch(harness.client, id, { intervalMs: 250 });
    expect(view.state, JSON.stringify(view)).toBe('completed');
    const { summary } = view as Extract<BatchView, { state: 'completed' }>;
    const body = await harness.s3.send(
      new GetObjectCommand({ Bucket: summary.files.jsonl.bucket, Key: summary.files.jsonl.key }),
    );
    const rows = loadReportRows(await body.Body!.transformToString());
    const byLine = new Map(rows.map((r) => [r.line, r]));
    const seen = (line: number) => [byLine.get(line)?.errorType, byLine.get(line)?.errorMessage];
    // The good pairs were scored and their results recorded.
    for (const line of [2, 14]) {
      const row = byLine.get(line)!;
      expect(row.errorType, JSON.stringify(row)).toBeNull();
      expect(typeof row.score).toBe('number');
      expect(await harness.readResult(`results/${row.workflowId}.json`)).toMatchObject({
        workflowId: row.workflowId,
      });
    }
    expect(seen(3)).toEqual([
      'InvalidManifestLine',
      'not a CSV record: Quote Not Closed: the parsing is finished with an opening quote',
    ]);
    expect(seen(4)).toEqual(['InvalidManifestLine', 'reference is missing; questioned is missing']);
    expect(seen(5)).toEqual([
      'InvalidManifestLine',
      'questioned bucket "Bad_Bucket" is not a valid S3 bucket name: uppercase letters, "_" is not allowed',
    ]);
    expect(seen(6)).toEqual([
      'InvalidManifestLine',
      `questioned key "${k('a/../q.wav')}" is not a usable S3 object key: a "." or ".." segment`,
    ]);
    expect(seen(7)).toEqual([
      'InvalidManifestLine',
      `questioned key "${k('a//q.wav')}" is not a usable S3 object key: an empty segment "//"`,
    ]);
    expect(seen(8)).toEqual([
      'InvalidManifestLine',
      'questioned_channel must be a 0-based channel index, got "-1"',
    ]);
    expect(seen(9)).toEqual([
      'MediaNotFound',
      `questioned ${u('nowhere/missing.wav')} does not exist: no object ${k('nowhere/missing.wav')} in bucket ${bucket} (NotFound)`,
    ]);
    expect(seen(10)).toEqual(['MediaEmpty', `questioned ${u('empty.wav')} is empty (0 bytes)`]);
    expect(seen(11)).toEqual([
      'MediaNotAudio',
      `questioned ${u('real-world/text-named-wav/text-named.wav')} is ${REFUSALS['text-named-wav']}`,
    ]);
    expect(seen(12)).toEqual([
      'MediaChannelRequired',
      `questioned ${u('stereo.wav')} has 2 channels; choose one (0–1) in the manifest column questioned_channel`,
    ]);
    expect(seen(13)).toEqual([
      'InvalidInput',
      `reference and questioned are the same recording ${s3url(ref)} (channel 0): a recording compared with itself tells nothing; choose a different questioned recording`,
    ]);
    // The bad media failed on the first attempt: nothing scheduled, every local activity attempt 1.
    for (const line of [9, 10, 11, 12, 13]) {
      const handle = harness.client.workflow.getHandle(byLine.get(line)!.workflowId!);
      expect(await scheduledActivities(handle)).toEqual([]);
      expect((await localActivities(handle)).map((l) => l.attempt)).toEqual([1]);
    }
    expect(summary.counts).toMatchObject({ total: 13, scored: 2, failed: 11 });
  }, 120_000);
});

/**
 * The activities under MockActivityEnvironment, against real versitygw and the emulator over HTTP.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.ts';
import { createActivities, type Activities } from '../../src/activities/index.ts';
import { createDetectorClient } from '../../src/activities/detector/index.ts';
import { startEmulator } from '../../dev/emulator/index.ts';
import type { SubmittedJob } from '../../src/shared/activity-types.ts';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import type { InspectedMedia, MediaRef } from '../../src/shared/media.ts';
import { nonAudioFile, speechWav, stereoWav, toMp3 } from '../helpers/audio.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const env = new MockActivityEnvironment();
/** `env.run` with its result type inferred from the activity. */
function run<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return env.run<P, R, typeof fn>(fn, ...args);
}
const s3 = s3Client();
let bucket: string;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let activities: Activities;
let wav: string;
const prefix = `activities-${Date.now().toString(36)}`;

async function put(key: string, body: Uint8Array | string): Promise<MediaRef> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body }));
  return { bucket, key: `${prefix}/${key}` };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function inspect(media: MediaRef, role: 'reference' | 'questioned' = 'questioned') {
  return run(activities.inspectMedia, { media, role });
}

beforeAll(async () => {
  const services = testServices();
  bucket = services.s3.bucket;
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: services.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
  });
  emulator = await startEmulator({ processing: { fixedMs: 100 } });
  activities = createActivities({
    s3,
    detector: createDetectorClient({ baseUrl: emulator.url }),
    limits: { maxUploadBytes: 50 * 1000 * 1000, maxAudioSeconds: 7200 },
    resultBucket: bucket,
  });
  wav = await speechWav({ text: 'Inspecting a recording before upload.', voice: 'en+m3' });
});

afterAll(async () => {
  await emulator?.close();
});

describe('inspectMedia', () => {
  it('reads format, channels, duration and ETag of a WAV', async () => {
    const media = await put('speech.wav', await readFile(wav));
    const info = await inspect(media);
    expect(info).toMatchObject({ ...media, role: 'questioned', container: 'WAVE', channels: 1 });
    expect(info.etag).toMatch(/^"[0-9a-f]+"$/);
    expect(info.durationSeconds).toBeGreaterThan(1);
    expect(info.sizeBytes).toBe((await readFile(wav)).length);
  });

  it('reads an MP3 and a FLAC', async () => {
    const mp3 = await inspect(await put('speech.mp3', await readFile(await toMp3(wav))));
    expect(mp3.container).toBe('MPEG');
    expect(mp3.durationSeconds).toBeGreaterThan(1);
    const flacPath = join(tmpdir(), `${prefix}.flac`);
    execFileSync('sox', [wav, flacPath]);
    const flac = await inspect(await put('speech.flac', await readFile(flacPath)));
    expect(flac.container).toBe('FLAC');
    expect(flac.channels).toBe(1);
  });

  it('probes a large file with ranged reads instead of downloading it', async () => {
    // 40 MB of WAV: more than the 16 MiB probe budget, so a whole-object read would fail.
    const big = join(tmpdir(), `${prefix}-long.wav`);
    execFileSync('sox', ['-n', '-r', '16000', '-b', '16', '-c', '1', big, 'synth', '1300', 'sine', '300']);
    const info = await inspect(await put('long.wav', await readFile(big)));
    expect(info.durationSeconds).toBeCloseTo(1300, 0);
  });

  it('fails permanently, naming the input, for what the platform would refuse', async () => {
    const missing = await failure(inspect({ bucket, key: `${prefix}/missing.wav` }, 'reference'));
    expect(missing.type).toBe(FailureType.MediaNotFound);
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain(`reference s3://${bucket}/${prefix}/missing.wav`);

    expect((await failure(inspect(await put('empty.wav', '')))).type).toBe(FailureType.MediaEmpty);

    const notAudio = await failure(inspect(await put('text.wav', await readFile(await nonAudioFile()))));
    expect(notAudio.type).toBe(FailureType.MediaNotAudio);
    expect(notAudio.message).toContain('text.wav');

    const stereo = await put('stereo.wav', await readFile(await stereoWav()));
    const required = await failure(inspect(stereo));
    expect(required.type).toBe(FailureType.MediaChannelRequired);
    expect(required.message).toContain('2 channels');
    expect((await failure(inspect({ ...stereo, channel: 2 }))).type).toBe(FailureType.MediaChannelOutOfRange);
    expect((await inspect({ ...stereo, channel: 1 })).channels).toBe(2);
  });

  it('leaves a failed S3 read to retry instead of calling the media not audio', async () => {
    const media = await put('flaky.wav', await readFile(wav));
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    // HEAD answers; every ranged GET of the header dies on the network, with no HTTP status.
    const flaky = {
      send: (command: unknown, options?: unknown) =>
        command instanceof GetObjectCommand
          ? Promise.reject(reset)
          : s3.send(command as never, options as never),
    } as unknown as typeof s3;
    const activities = createActivities({
      s3: flaky,
      detector: createDetectorClient({ baseUrl: emulator.url }),
      limits: { maxUploadBytes: 1e9, maxAudioSeconds: 7200 },
    });
    // Retryable and named (review 5, item 3), never MediaNotAudio.
    const err = await failure(run(activities.inspectMedia, { media, role: 'reference' }));
    expect([err.type, err.nonRetryable, err.cause]).toEqual([FailureType.StorageUnavailable, false, reset]);
    expect(err.message).toContain(`reference s3://${media.bucket}/${media.key}`);
  });

  it('enforces the platform limits', async () => {
    const media = await put('limits.wav', await readFile(wav));
    const strict = createActivities({
      s3,
      detector: createDetectorClient({ baseUrl: emulator.url }),
      limits: { maxUploadBytes: 1000, maxAudioSeconds: 7200 },
    });
    expect((await failure(run(strict.inspectMedia, { media, role: 'reference' }))).type).toBe(
      FailureType.MediaTooLarge,
    );
    const short = createActivities({
      s3,
      detector: createDetectorClient({ baseUrl: emulator.url }),
      limits: { maxUploadBytes: 1e9, maxAudioSeconds: 1 },
    });
    expect((await failure(run(short.inspectMedia, { media, role: 'reference' }))).type).toBe(
      FailureType.MediaTooLong,
    );
  });
});

describe('submitDetectionJob and checkDetectionJob', () => {
  let reference: InspectedMedia;
  let questioned: InspectedMedia;

  beforeAll(async () => {
    reference = await inspect(await put('ref.wav', await readFile(wav)), 'reference');
    questioned = await inspect(await put('q.mp3', await readFile(await toMp3(wav))), 'questioned');
  });

  it('streams both objects to the platform and polls the job to done', async () => {
    const job = await run(activities.submitDetectionJob, {
      reference,
      questioned,
      correlationId: 'unit-test',
    });
    expect(job.statusUrl).toBe(
      `${emulator.url}/api/technology/experimental/referential-deepfake-detection/${job.jobId}`,
    );
    let check = await run(activities.checkDetectionJob, job);
    expect(['pending', 'running', 'done']).toContain(check.state);
    await expect
      .poll(async () => (check = await run(activities.checkDetectionJob, job)).state, { timeout: 10_000 })
      .toBe('done');
    expect(check.state === 'done' && typeof check.score).toBe('number');
    expect(job.attempt).toBe(1);
  });

  it('returns the activity attempt that got the job, so the workflow can count uploads', async () => {
    const retried = new MockActivityEnvironment({ attempt: 3 });
    const job: SubmittedJob = await retried.run(activities.submitDetectionJob, {
      reference,
      questioned,
      correlationId: 'unit-test',
    });
    expect(job.jobId).toMatch(/[0-9a-f-]{36}/);
    expect(job.attempt).toBe(3);
  });

  it('reports a job the platform lost as an outcome, not an error', async () => {
    const job = await run(activities.submitDetectionJob, {
      reference,
      questioned,
      correlationId: 'unit-test',
    });
    emulator.restart();
    expect(await run(activities.checkDetectionJob, job)).toEqual({ state: 'lost' });
  });

  it('refuses to upload media that changed after inspection', async () => {
    const changed = await put('changing.wav', await readFile(wav));
    const inspected = await inspect(changed);
    await put(
      'changing.wav',
      await readFile(await speechWav({ text: 'Something else entirely.', voice: 'en+f2' })),
    );
    const err = await failure(
      run(activities.submitDetectionJob, { reference, questioned: inspected, correlationId: 'x' }),
    );
    expect(err.type).toBe(FailureType.MediaChanged);
    expect(err.nonRetryable).toBe(true);
  });
});

describe('getPlatformInfo', () => {
  it('returns the platform URL and version', async () => {
    expect(await run(activities.getPlatformInfo)).toEqual({
      url: emulator.url,
      version: expect.stringMatching(/\d/),
    });
  });

  it('records a null version when the platform will not say', async () => {
    const unreachable = createActivities({
      s3,
      detector: createDetectorClient({ baseUrl: 'http://127.0.0.1:9' }),
      limits: { maxUploadBytes: 1, maxAudioSeconds: 1 },
    });
    expect(await run(unreachable.getPlatformInfo)).toEqual({ url: 'http://127.0.0.1:9', version: null });
  });
});

describe('recordDetectionResult', () => {
  const result = (score: number | null): Omit<DetectionResult, 'resultLocation'> => ({
    workflowId: 'wf-1',
    reference: { bucket: 'b', key: 'r.wav', etag: '"1"', durationSeconds: 3 },
    questioned: { bucket: 'b', key: 'q.wav', etag: '"2"', durationSeconds: 4 },
    score,
    verdict: score === null ? 'inconclusive' : score > 0 ? 'deepfake' : 'genuine',
    threshold: 0,
    jobId: 'job-1',
    platform: { url: 'http://platform', version: '4' },
    timestamps: { startedAt: 't0', submittedAt: 't1', completedAt: 't2' },
    checks: 2,
    submissions: 1,
  });

  it('writes once; a retried identical write succeeds; a different one is refused', async () => {
    const key = `${prefix}/results/wf-1.json`;
    const first = await run(activities.recordDetectionResult, { result: result(0.5), location: { key } });
    expect(first.resultLocation).toEqual({ bucket, key });
    expect(await run(activities.recordDetectionResult, { result: result(0.5), location: { key } })).toEqual(
      first,
    );
    // Another run of the same request (same id, media versions, threshold): the recorded answer stands.
    expect(await run(activities.recordDetectionResult, { result: result(-1), location: { key } })).toEqual(
      first,
    );
    const otherMedia = { ...result(0.5), questioned: { ...result(0.5).questioned, etag: '"3"' } };
    const conflict = await failure(
      run(activities.recordDetectionResult, { result: otherMedia, location: { key } }),
    );
    expect(conflict.type).toBe(FailureType.ResultConflict);
    expect(conflict.nonRetryable).toBe(true);
    expect(conflict.details?.[0]).toEqual({ resultLocation: { bucket, key } });
  });

  it('fails a key S3 refuses (KeyTooLongError) at once, naming the location', async () => {
    const key = `${'r'.repeat(300)}.json`;
    const err = await failure(
      run(activities.recordDetectionResult, { result: result(0.5), location: { key } }),
    );
    expect(err.type).toBe(FailureType.StorageRequestRejected);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(`result s3://${bucket}/${key}`);
    expect(err.message).toContain('KeyTooLongError');
    expect(err.details?.[0]).toEqual({ resultLocation: { bucket, key } });
  });

  it('fails a missing result bucket at once, naming it', async () => {
    const location = { bucket: 'rdd-no-such-results', key: 'results/wf-1.json' };
    const err = await failure(run(activities.recordDetectionResult, { result: result(0.5), location }));
    expect(err.type).toBe(FailureType.MediaNotFound);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('result s3://rdd-no-such-results/results/wf-1.json');
    expect(err.details?.[0]).toEqual({ resultLocation: location });
  });
});

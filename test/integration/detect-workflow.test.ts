/**
 * detectWorkflow on a real Temporal dev server, real versitygw, the emulator over real HTTP, and
 * real speech recordings.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import { statusQuery } from '../../src/workflows/index.ts';
import { nonAudioFile, sha256File, shortSpeechWav, speechWav, stereoWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { scheduledActivities, timerDurationsMs } from '../helpers/history.ts';
import { recordHistory } from '../helpers/record-history.ts';

let harness: Harness;
let genuine: string;
let other: string;
let fixtures: Record<string, unknown>;

/** Files whose content the emulator's fixtures single out (keyed by the questioned file's SHA-256). */
const forced = {} as Record<'rejected' | 'failOnce' | 'alwaysFails' | 'loseOnce' | 'slow', string>;

beforeAll(async () => {
  genuine = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
  other = await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' });
  forced.rejected = await speechWav({
    text: 'This recording will be rejected by the platform.',
    voice: 'en+f2',
  });
  forced.failOnce = await speechWav({ text: 'This one fails once and then succeeds.', voice: 'en+f3' });
  forced.alwaysFails = await speechWav({
    text: 'The engine crashes on this one every time.',
    voice: 'en+f4',
  });
  forced.loseOnce = await speechWav({ text: 'The appliance forgets this job once.', voice: 'en+m7' });
  forced.slow = await speechWav({ text: 'This job takes a very long time.', voice: 'en+m1' });
  fixtures = {
    [await sha256File(forced.rejected)]: { state: 'rejected', message: 'no speech model for this input' },
    [await sha256File(forced.failOnce)]: { failTimes: 1 },
    [await sha256File(forced.alwaysFails)]: { state: 'failed', message: 'engine crashed' },
    [await sha256File(forced.loseOnce)]: { loseTimes: 1 },
    [await sha256File(forced.slow)]: { processingMs: 120_000 },
  };
  harness = await startHarness({ fixtures: fixtures as never });
});

afterAll(async () => {
  await harness?.close();
});

/** The workflow's own failure (the permanent activity failure lifted to the top). */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('detectWorkflow', () => {
  it('scores a pair, records the result once in S3 and returns the same document', async () => {
    const reference = await harness.upload(genuine);
    const questioned = await harness.upload(other);
    const handle = await harness.start({ reference, questioned, threshold: -100 });
    const result = await handle.result();

    expect(typeof result.score).toBe('number');
    expect(result.verdict).toBe('deepfake'); // any score is above a threshold of -100
    expect(result.threshold).toBe(-100);
    expect(result.submissions).toBe(1);
    expect(result.checks).toBeGreaterThanOrEqual(1);
    expect(result.reference.etag).toBe(await harness.etag(reference));
    expect(result.questioned.etag).toBe(await harness.etag(questioned));
    expect(result.reference.durationSeconds).toBeGreaterThan(1);
    expect(result.platform.url).toBe(harness.emulator.url);
    expect(result.platform.version).toMatch(/\d/);
    expect(result.resultLocation).toEqual({
      bucket: harness.bucket,
      key: `results/${handle.workflowId}.json`,
    });
    expect(await harness.readResult(result.resultLocation.key)).toEqual(result);
    // Media bytes never travel through Temporal: the whole history is far smaller than one recording.
    const historyBytes = JSON.stringify(await handle.fetchHistory()).length;
    expect(historyBytes).toBeLessThan((await import('node:fs')).statSync(genuine).size);
    await recordHistory('detect-happy-path', handle);
  });

  it('gives the same score for the same content under other names', async () => {
    const a = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(other),
    });
    const b = await harness.start({
      reference: await harness.upload(genuine, 'renamed/ref-copy.wav'),
      questioned: await harness.upload(other, 'renamed/q-copy.wav'),
    });
    expect((await b.result()).score).toBe((await a.result()).score);
  });

  it('answers inconclusive with a null score when there is too little speech', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(await shortSpeechWav()),
    });
    const result = await handle.result();
    expect(result.score).toBeNull();
    expect(result.verdict).toBe('inconclusive');
  });

  it('fails DetectorRejectedInput with the platform message and records nothing', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.rejected),
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.DetectorRejectedInput);
    expect(failure.message).toContain('no speech model for this input');
    expect(await harness.readResult(`results/${handle.workflowId}.json`)).toBeUndefined();
    expect((await scheduledActivities(handle)).filter((a) => a === 'submitDetectionJob')).toHaveLength(1);
    await recordHistory('detect-rejected', handle);
  });

  it('resubmits a job that ended failed, then succeeds', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.failOnce),
    });
    const result = await handle.result();
    expect(result.submissions).toBe(2);
    expect(typeof result.score).toBe('number');
    await recordHistory('detect-failed-then-retried', handle);
  });

  it('fails DetectorJobFailed when every resubmission fails', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.alwaysFails),
      resubmit: { maxFailedResubmits: 1 },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.DetectorJobFailed);
    expect(failure.message).toContain('engine crashed');
    expect((await scheduledActivities(handle)).filter((a) => a === 'submitDetectionJob')).toHaveLength(2);
  });

  it('resubmits a job the platform lost (404), then succeeds', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.loseOnce),
    });
    const result = await handle.result();
    expect(result.submissions).toBe(2);
    expect(typeof result.score).toBe('number');
    await recordHistory('detect-lost-then-resubmitted', handle);
  });

  it('fails MediaNotFound naming the missing object, before any upload', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: { bucket: harness.bucket, key: 'nowhere/missing.wav' },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.MediaNotFound);
    expect(failure.message).toContain(`questioned s3://${harness.bucket}/nowhere/missing.wav`);
    expect(await scheduledActivities(handle)).not.toContain('submitDetectionJob');
  });

  it('fails MediaNotAudio naming a non-audio file, before any upload', async () => {
    const handle = await harness.start({
      reference: await harness.upload(await nonAudioFile(), `${harness.taskQueue}/not-audio.wav`),
      questioned: await harness.upload(other),
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.MediaNotAudio);
    expect(failure.message).toContain('reference');
    expect(failure.message).toContain('not-audio.wav');
    expect(await scheduledActivities(handle)).not.toContain('submitDetectionJob');
  });

  it('requires a channel for multi-channel media, and uses the one given', async () => {
    const stereo = await harness.upload(await stereoWav());
    const reference = await harness.upload(genuine);
    const failure = await failureOf(harness.start({ reference, questioned: stereo }).then((h) => h.result()));
    expect(failure.type).toBe(FailureType.MediaChannelRequired);
    expect(failure.message).toContain('questioned');
    expect(failure.message).toContain('2 channels');

    const left = await (await harness.start({ reference, questioned: { ...stereo, channel: 0 } })).result();
    const right = await (await harness.start({ reference, questioned: { ...stereo, channel: 1 } })).result();
    expect(left.questioned.channel).toBe(0);
    expect(right.questioned.channel).toBe(1);
    expect(left.score).not.toBe(right.score); // the two channels hold different voices
  });

  it('waits with durable timers: first check near the expected finish, then backing off', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.slow, `${harness.taskQueue}/slow-for-timers.wav`),
      // The dev server fires timers with about 1 s granularity: 6 s leaves room for five checks.
      polling: {
        firstCheckBase: 0.3,
        firstCheckPerAudioSecond: 0.01,
        minInterval: 0.2,
        maxInterval: 0.45,
        backoff: 1.5,
        deadline: 6,
      },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.DetectionDeadlineExceeded);
    const timers = await timerDurationsMs(handle);
    // [deadline, first check, 200, 300, 450, 450, …]: the deadline timer, then the polling schedule.
    expect(timers[0]).toBe(6000);
    expect(timers[1]).toBeGreaterThan(300);
    expect(timers.slice(2, 5)).toEqual([200, 300, 450]);
    expect(new Set(timers.slice(5))).toEqual(new Set([450]));
  });

  it('answers the status query while waiting, and cancels cleanly with nothing recorded', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.slow),
    });
    await expect
      .poll(async () => (await handle.query(statusQuery)).phase, { timeout: 20_000 })
      .toBe('waiting');
    const status = await handle.query(statusQuery);
    expect(status.jobId).toMatch(/[0-9a-f-]{36}/);
    expect(status.submissions).toBe(1);

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(description.raw.pendingActivities ?? []).toHaveLength(0);
    expect(await harness.readResult(`results/${handle.workflowId}.json`)).toBeUndefined();
    await recordHistory('detect-cancelled', handle);
  });

  it('rejects malformed input without running anything', async () => {
    const handle = await harness.start({
      reference: { bucket: '', key: 'x' },
      questioned: { bucket: harness.bucket, key: 'y', channel: -1 },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.InvalidInput);
    expect(failure.message).toContain('reference.bucket');
    expect(failure.message).toContain('questioned.channel');
  });
});

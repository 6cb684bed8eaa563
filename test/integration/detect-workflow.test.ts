/**
 * detectWorkflow on a real Temporal dev server, real versitygw, the emulator over real HTTP, and
 * real speech recordings.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { startEmulator } from '../../dev/emulator/index.ts';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import { createDetectionWorker } from '../../src/worker.ts';
import { startDetection } from '../../src/client/detections.ts';
import { statusQuery, type DetectWorkflow } from '../../src/shared/workflows.ts';
import { nonAudioFile, sha256File, shortSpeechWav, speechWav, stereoWav } from '../helpers/audio.ts';
import { startHarness, workflowBundle, type Harness } from '../helpers/detection-harness.ts';
import { testServices, uniqueTaskQueue } from '../helpers/services.ts';
import { localActivities, scheduledActivities, timerDurationsMs } from '../helpers/history.ts';
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
    expect(result.uploads).toBe(1);
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
    await recordHistory('detect-lean-happy-path', handle);
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
    await recordHistory('detect-lean-rejected', handle);
  });

  it('resubmits a job that ended failed, then succeeds', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.failOnce),
    });
    const result = await handle.result();
    expect(result.submissions).toBe(2);
    expect(typeof result.score).toBe('number');
    await recordHistory('detect-lean-failed-then-retried', handle);
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
    await recordHistory('detect-lean-lost-then-resubmitted', handle);
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

  it('fails InvalidInput at once for an invalid bucket name, naming it, without touching S3', async () => {
    const started = Date.now();
    const handle = await harness.startUnchecked({
      reference: await harness.upload(genuine),
      questioned: { bucket: 'Call_Recordings..2024', key: 'incoming/call-0001.wav' },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.InvalidInput);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(
      'questioned.bucket "Call_Recordings..2024" is not a valid S3 bucket name: uppercase letters',
    );
    expect(await scheduledActivities(handle)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails InvalidInput before any work when its own id cannot make the result key', async () => {
    const id = `${harness.taskQueue}-${'i'.repeat(302)}`;
    const handle = await harness.startUnchecked(
      { reference: await harness.upload(genuine), questioned: await harness.upload(other) },
      id,
    );
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.InvalidInput);
    expect(failure.message).toMatch(/^workflow id ".*" \(\d+ bytes\) is not usable: \d+ bytes, over 250/);
    expect(await scheduledActivities(handle)).toEqual([]);
  });

  it('accepts a long id when the input names the result key itself', async () => {
    const handle = await harness.start(
      {
        reference: await harness.upload(genuine),
        questioned: await harness.upload(other),
        result: { key: `${harness.taskQueue}/results/long-id.json` },
      },
      `${harness.taskQueue}-${'i'.repeat(302)}`,
    );
    const result = await handle.result();
    expect(result.resultLocation.key).toBe(`${harness.taskQueue}/results/long-id.json`);
    expect(await harness.readResult(result.resultLocation.key)).toEqual(result);
  });

  it('keeps a computed score it cannot record: ResultNotRecorded with the score and the document, at once', async () => {
    const started = Date.now();
    const location = { bucket: 'rdd-no-such-results', key: `results/${harness.taskQueue}.json` };
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(other),
      threshold: -100,
      result: location,
      cache: false, // scored earlier in this file: the cache would answer, and this is about a submitted score
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.ResultNotRecorded);
    expect(failure.nonRetryable).toBe(true);
    const document = failure.details?.[0] as DetectionResult;
    expect(typeof document.score).toBe('number');
    expect(document).toMatchObject({
      workflowId: handle.workflowId,
      verdict: 'deepfake',
      threshold: -100,
      submissions: 1,
      uploads: 1,
      jobId: expect.stringMatching(/[0-9a-f-]{36}/),
      resultLocation: location,
    });
    expect(failure.message).toBe(
      `the score ${document.score} (deepfake) was computed but not recorded at s3://${location.bucket}/${location.key}: ` +
        `result s3://${location.bucket}/${location.key}: the bucket ${location.bucket} does not exist (NoSuchBucket); ` +
        "create it, or set S3_RESULT_BUCKET (or the detection's result bucket)",
    );
    // A permanent answer: one write attempt, no retries (the write is a local activity: one marker).
    const writes = (await localActivities(handle)).filter((a) => a.type === 'recordDetectionResult');
    expect(writes).toEqual([{ type: 'recordDetectionResult', attempt: 1 }]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('counts an upload retried after the platform accepted it: uploads 2, submissions 1', async () => {
    // A dedicated emulator behind a proxy that loses the answer to the first accepted submit, as a
    // worker killed (or a connection dropped) right after the platform accepted the job would.
    const emulator = await startEmulator({ processing: { fixedMs: 150 } });
    let accepted = 0;
    const proxy = lossyProxy(emulator.url, (status) => {
      if (status === 202) accepted += 1;
      return status === 202 && accepted === 1;
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const taskQueue = uniqueTaskQueue('detect-lossy');
    const config = loadWorkerConfig({ ...harness.env, DETECTOR_URL: proxyUrl, TASK_QUEUE: taskQueue });
    const connection = await NativeConnection.connect({ address: testServices().temporalAddress });
    const { worker, detector } = await createDetectionWorker({
      connection,
      namespace: testServices().namespace,
      config,
      workflowBundle: await workflowBundle(),
    });
    try {
      const result = await worker.runUntil(async () => {
        const input = {
          reference: await harness.upload(genuine),
          questioned: await harness.upload(other),
          polling: { firstCheckBase: 0.2, firstCheckPerAudioSecond: 0, minInterval: 0.2, maxInterval: 0.5 },
        };
        const { workflowId } = await startDetection(harness.client, input, {
          id: `${taskQueue}-wf`,
          taskQueue,
        });
        return await harness.client.workflow.result<DetectWorkflow>(workflowId);
      });
      expect(result.submissions).toBe(1);
      expect(result.uploads).toBe(2);
      expect(accepted).toBe(2);
      const stats = emulator.stats();
      expect(stats.pending + stats.running + stats.finished).toBe(2); // two jobs for one detection
      expect((await harness.readResult(result.resultLocation.key))?.uploads).toBe(2);
    } finally {
      await detector.close();
      await connection.close();
      proxy.close();
      proxy.closeAllConnections();
      await emulator.close();
    }
  });

  it('waits in one heartbeating activity, not a timer per check, and still within the deadline', async () => {
    const handle = await harness.start({
      reference: await harness.upload(genuine),
      questioned: await harness.upload(forced.slow, `${harness.taskQueue}/slow-for-timers.wav`),
      polling: {
        firstCheckBase: 0.3,
        firstCheckPerAudioSecond: 0.01,
        minInterval: 0.2,
        maxInterval: 0.45,
        backoff: 1.5,
        deadline: 6,
      },
    });
    // The activity heartbeats its progress while it checks: many checks, no history event each.
    const progress = async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const payload = pending.find((a) => a.activityType?.name === 'awaitDetectionJob')?.heartbeatDetails
        ?.payloads?.[0]?.data;
      return payload
        ? (JSON.parse(Buffer.from(payload).toString('utf8')) as { checks: number; lastState: string })
        : undefined;
    };
    await expect
      .poll(async () => (await progress())?.checks ?? 0, { timeout: 5_000, interval: 100 })
      .toBeGreaterThanOrEqual(5);
    expect((await progress())?.lastState).toMatch(/pending|running/);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.DetectionDeadlineExceeded);
    // The deadline is the only timer; the checks ran inside one awaitDetectionJob activity.
    expect(await timerDurationsMs(handle)).toEqual([6000]);
    const activities = await scheduledActivities(handle);
    expect(activities.filter((a) => a === 'awaitDetectionJob')).toHaveLength(1);
    expect(activities).not.toContain('checkDetectionJob');
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
    await recordHistory('detect-lean-cancelled', handle);
  });

  it('rejects malformed input without running anything', async () => {
    const handle = await harness.startUnchecked({
      reference: { bucket: '', key: 'x' },
      questioned: { bucket: harness.bucket, key: 'y', channel: -1 },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.InvalidInput);
    expect(failure.message).toContain('reference.bucket');
    expect(failure.message).toContain('questioned.channel');
  });
});

/**
 * A forwarding HTTP proxy that, when `drop(status)` says so, lets the upstream answer arrive and
 * then destroys the client connection instead of passing it on: the platform did the work, the
 * caller never heard of it.
 */
function lossyProxy(upstream: string, drop: (status: number) => boolean): Server {
  return createServer((req, res) => {
    const forward = httpRequest(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: req.headers },
      (answer) => {
        if (req.method === 'POST' && drop(answer.statusCode ?? 0)) {
          answer.resume();
          answer.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', () => req.socket.destroy());
    req.pipe(forward);
  });
}

describe('detectWorkflow reports both files at once (review 5, item 9)', () => {
  it('names both failures when both inspections fail: the reference type, both messages', async () => {
    const infoRequests = harness.emulator.accounting().requests.info;
    const missingBucket = `rdd-missing-${harness.taskQueue.slice(-8)}`;
    const handle = await harness.start({
      reference: await harness.upload(await nonAudioFile(), `${harness.taskQueue}/both-not-audio.wav`),
      questioned: { bucket: missingBucket, key: 'calls/q.wav' },
    });
    const failure = await failureOf(handle.result());
    expect([failure.type, failure.nonRetryable]).toEqual([FailureType.MediaNotAudio, true]);
    expect(failure.message).toMatch(
      new RegExp(
        `^reference s3://${harness.bucket}/\\S+/both-not-audio\\.wav is a PNG image, .*; and questioned s3://${missingBucket}/calls/q\\.wav: the bucket ${missingBucket} does not exist \\(NoSuchBucket\\)`,
      ),
    );
    expect(failure.details).toEqual([
      {
        failures: [
          { type: FailureType.MediaNotAudio, message: expect.stringMatching(/^reference /) },
          { type: FailureType.MediaNotFound, message: expect.stringMatching(/^questioned /) },
        ],
      },
    ]);
    // Neither the platform nor the score cache was asked: the preparation stopped at the inspections.
    expect(harness.emulator.accounting().requests.info).toBe(infoRequests);
  });

  it('waits for the other inspection and fails with the one failure when only one file is bad', async () => {
    const handle = await harness.start({
      reference: { bucket: harness.bucket, key: `${harness.taskQueue}/nowhere/ref.wav` },
      questioned: await harness.upload(other),
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(FailureType.MediaNotFound);
    expect(failure.message).toBe(
      `reference s3://${harness.bucket}/${harness.taskQueue}/nowhere/ref.wav does not exist: ` +
        `no object ${harness.taskQueue}/nowhere/ref.wav in bucket ${harness.bucket} (NotFound)`,
    );
  });
});

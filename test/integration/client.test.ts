/**
 * The typed client on the real Temporal dev server, versitygw and the emulator: idempotent starts
 * (one workflow and one result per business key), the id conflict check, and the views
 * `getDetection` and `waitForDetection` give of a running, completed, failed and unknown detection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionIdConflictError } from '../../src/client/detection-id-conflict-error.ts';
import { getDetection, startDetection, waitForDetection } from '../../src/client/detections.ts';
import type { DetectInput } from '../../src/shared/detection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import { sha256File, speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';
import { rejection } from '../helpers/rejection.ts';

let harness: Harness;
let genuine: string;
let other: string;
let slow: string;

beforeAll(async () => {
  genuine = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
  other = await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' });
  slow = await speechWav({ text: 'This job takes a very long time.', voice: 'en+m1' });
  harness = await startHarness({
    fixtures: { [await sha256File(slow)]: { processingMs: 120_000 } } as never,
  });
});

afterAll(async () => {
  await harness?.close();
});

/** A fresh request: the media keys carry a tag, so each test has a request (and derived id) of its own. */
async function request(tag: string, questioned = other): Promise<DetectInput> {
  return {
    reference: await harness.upload(genuine, `${harness.taskQueue}/${tag}/reference.wav`),
    questioned: await harness.upload(questioned, `${harness.taskQueue}/${tag}/questioned.wav`),
    polling: FAST_POLLING,
  };
}

/** Every run with this workflow id, as the server's visibility lists them. */
async function runIds(workflowId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of harness.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    ids.push(run.runId);
  }
  return ids;
}

const runIdOf = async (workflowId: string) =>
  (await harness.client.workflow.getHandle(workflowId).describe()).runId;

describe('startDetection', () => {
  it('starts the same request twice as one workflow with one result, under a request-derived id', async () => {
    const input = await request('same-twice');
    const options = { taskQueue: harness.taskQueue };
    const first = await startDetection(harness.client, input, options);
    const second = await startDetection(harness.client, input, options);
    expect(first.workflowId).toMatch(/^detect-[0-9a-f]{32}$/);
    expect(first).toEqual({ workflowId: first.workflowId, existing: false });
    expect(second).toEqual({ workflowId: first.workflowId, existing: true });
    const run = await runIdOf(first.workflowId);

    const view = await waitForDetection(harness.client, first.workflowId);
    expect(view.state).toBe('completed');

    // Started again once completed: the same detection comes back, nothing runs again.
    const third = await startDetection(harness.client, input, options);
    expect(third).toEqual({ workflowId: first.workflowId, existing: true });
    expect(await runIdOf(first.workflowId)).toBe(run);
    await expect.poll(() => runIds(first.workflowId)).toEqual([run]);
    expect(await getDetection(harness.client, first.workflowId)).toEqual(view);
  });

  it('maps an explicit id to one workflow, and refuses it for a different request', async () => {
    const id = `${harness.taskQueue}-business-key`;
    const input = await request('explicit-id');
    const options = { id, taskQueue: harness.taskQueue };
    expect(await startDetection(harness.client, input, options)).toEqual({ workflowId: id, existing: false });
    expect(await startDetection(harness.client, input, options)).toEqual({ workflowId: id, existing: true });
    const run = await runIdOf(id);

    // Running: the other request is refused, the running detection untouched.
    const other = { ...input, threshold: 3 };
    expect(await rejection(startDetection(harness.client, other, options))).toBeInstanceOf(
      DetectionIdConflictError,
    );
    const view = await waitForDetection(harness.client, id);
    expect(view.state === 'completed' && view.result.threshold).toBe(0);
    // Completed: still refused, and nothing new started.
    const err = await rejection(startDetection(harness.client, other, options));
    expect(err).toBeInstanceOf(DetectionIdConflictError);
    expect((err as DetectionIdConflictError).workflowId).toBe(id);
    await expect.poll(() => runIds(id)).toEqual([run]);
  });

  it('starts a detection that failed afresh, so a fixed request can be sent again', async () => {
    const input: DetectInput = {
      reference: await harness.upload(genuine, `${harness.taskQueue}/refail/reference.wav`),
      questioned: { bucket: harness.bucket, key: `${harness.taskQueue}/refail/not-yet.wav` },
      polling: FAST_POLLING,
    };
    const options = { taskQueue: harness.taskQueue };
    const { workflowId } = await startDetection(harness.client, input, options);
    const failed = await waitForDetection(harness.client, workflowId);
    expect(failed).toMatchObject({ state: 'failed', failure: { type: FailureType.MediaNotFound } });
    const failedRun = await runIdOf(workflowId);

    await harness.upload(other, input.questioned.key);
    expect(await startDetection(harness.client, input, options)).toEqual({ workflowId, existing: false });
    expect(await runIdOf(workflowId)).not.toBe(failedRun);
    expect((await waitForDetection(harness.client, workflowId)).state).toBe('completed');
  });
});

describe('getDetection and waitForDetection', () => {
  it('report a running detection with its live status, and a cancelled one as failed', async () => {
    const { workflowId } = await startDetection(harness.client, await request('running', slow), {
      taskQueue: harness.taskQueue,
    });
    await expect
      .poll(async () => {
        const view = await getDetection(harness.client, workflowId);
        return view.state === 'running' ? view.status.phase : view.state;
      })
      .toBe('waiting');
    const view = await getDetection(harness.client, workflowId);
    expect(view.state === 'running' && view.status.submissions).toBe(1);

    const started = Date.now();
    const waited = await waitForDetection(harness.client, workflowId, { timeoutMs: 1_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(waited).toMatchObject({ workflowId, state: 'running', status: { phase: 'waiting' } });

    await harness.client.workflow.getHandle(workflowId).cancel();
    expect(await waitForDetection(harness.client, workflowId)).toMatchObject({
      state: 'failed',
      failure: { type: 'Cancelled' },
    });
    expect(await getDetection(harness.client, workflowId)).toMatchObject({
      state: 'failed',
      failure: { type: 'Cancelled' },
    });
  });

  it('report a completed detection with its result and a failed one with its failure type', async () => {
    const { workflowId } = await startDetection(harness.client, await request('completed'), {
      taskQueue: harness.taskQueue,
    });
    const done = await waitForDetection(harness.client, workflowId);
    expect(done.state === 'completed' && done.result.workflowId).toBe(workflowId);
    expect(await getDetection(harness.client, workflowId)).toEqual(done);

    const missing = await startDetection(
      harness.client,
      {
        reference: { bucket: harness.bucket, key: `${harness.taskQueue}/nothing-here.wav` },
        questioned: { bucket: harness.bucket, key: `${harness.taskQueue}/nor-here.wav` },
      },
      { taskQueue: harness.taskQueue },
    );
    const failed = await waitForDetection(harness.client, missing.workflowId);
    expect(failed).toMatchObject({ state: 'failed', failure: { type: FailureType.MediaNotFound } });
    expect(failed.state === 'failed' && failed.failure.message).toContain('nothing-here.wav');
    expect(await getDetection(harness.client, missing.workflowId)).toEqual(failed);
  });

  it('report an unknown id as not-found', async () => {
    const id = `${harness.taskQueue}-never-started`;
    expect(await getDetection(harness.client, id)).toEqual({ workflowId: id, state: 'not-found' });
    expect(await waitForDetection(harness.client, id)).toEqual({ workflowId: id, state: 'not-found' });
  });
});

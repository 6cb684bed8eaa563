/**
 * The sweep for lost S3 events on the real Temporal dev server, versitygw, an emulator and a
 * worker: it starts the detection of an object whose event was never sent, leaves scored objects
 * and unmatched keys alone, pages and continues as new; its schedule is created idempotently and
 * a triggered run sweeps.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowNotFoundError } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForDetection } from '../../src/client/detections.ts';
import { s3EventDetectionId, startObjectDetection } from '../../src/client/object-detections.ts';
import {
  deleteSweepSchedule,
  ensureSweepSchedule,
  SWEEP_SCHEDULE_POLICIES,
} from '../../src/client/sweeps.ts';
import { parseEventRules, type EventRule } from '../../src/shared/event-rules.ts';
import { SWEEP_WORKFLOW_TYPE, type SweepInput, type SweepSummary } from '../../src/shared/sweep.ts';
import { speechPairBytes } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

let harness: Harness;
let reference: Buffer;
let questioned: Buffer;

beforeAll(async () => {
  ({ reference, questioned } = await speechPairBytes());
  harness = await startHarness();
});

afterAll(async () => {
  await harness?.close();
});

async function put(key: string, body: Buffer): Promise<string> {
  const answer = await harness.s3.send(
    new PutObjectCommand({ Bucket: harness.bucket, Key: key, Body: body }),
  );
  return answer.ETag!;
}

function rulesFor(prefix: string): EventRule[] {
  return parseEventRules([
    { match: `${prefix}/calls/{customer}/{call}.wav`, reference: `${prefix}/refs/{customer}.wav` },
  ]);
}

async function runSweep(input: SweepInput): Promise<SweepSummary> {
  return await harness.client.workflow.execute<(input: SweepInput) => Promise<SweepSummary>>(
    SWEEP_WORKFLOW_TYPE,
    {
      taskQueue: harness.taskQueue,
      workflowId: `${harness.taskQueue}-sweep-${Math.random().toString(36).slice(2, 8)}`,
      args: [input],
    },
  );
}

describe('sweepWorkflow', () => {
  it('starts the detection of an object whose event was lost and leaves scored ones alone', async () => {
    const prefix = `${harness.taskQueue}/a`;
    const rules = rulesFor(prefix);
    await put(`${prefix}/refs/acme.wav`, reference);
    const lostKey = `${prefix}/calls/acme/lost.wav`;
    const scoredKey = `${prefix}/calls/acme/scored.wav`;
    const lost = { bucket: harness.bucket, key: lostKey, etag: await put(lostKey, questioned) };
    const scored = { bucket: harness.bucket, key: scoredKey, etag: await put(scoredKey, questioned) };
    await put(`${prefix}/calls/notes.txt`, Buffer.from('no rule matches this'));
    // The scored one had its event: detected and recorded before the sweep.
    const event = await startObjectDetection(harness.client, rules, scored, { taskQueue: harness.taskQueue });
    expect(event.status).toBe('started');
    const scoredId = s3EventDetectionId(scored);
    expect((await waitForDetection(harness.client, scoredId, { timeoutMs: 30_000 })).state).toBe('completed');
    const scoredRun = (await harness.client.workflow.getHandle(scoredId).describe()).runId;
    const lostId = s3EventDetectionId(lost);
    await expect(harness.client.workflow.getHandle(lostId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    // One object per page and a new run every 2 pages: paging and continue-as-new carry the counts.
    const summary = await runSweep({
      bucket: harness.bucket,
      prefix,
      rules,
      pageSize: 1,
      continueAsNewEvery: 2,
    });
    expect(summary).toEqual({
      pages: 4,
      counts: { listed: 4, ignored: 2, scored: 1, existing: 0, started: 1, invalid: 0 },
    });
    // The scored detection was not run again; the lost one runs and records its result.
    expect((await harness.client.workflow.getHandle(scoredId).describe()).runId).toBe(scoredRun);
    const view = await waitForDetection(harness.client, lostId, { timeoutMs: 30_000 });
    expect(view.state).toBe('completed');
    if (view.state === 'completed') {
      expect(view.result.questioned).toMatchObject({ key: lostKey });
      expect(view.result.reference).toMatchObject({ key: `${prefix}/refs/acme.wav` });
      expect(await harness.readResult(`results/${lostId}.json`)).toMatchObject({ workflowId: lostId });
    }

    // A second sweep finds both scored and starts nothing.
    const again = await runSweep({ bucket: harness.bucket, prefix, rules });
    expect(again.counts).toEqual({ listed: 4, ignored: 2, scored: 2, existing: 0, started: 0, invalid: 0 });
  });

  it('refuses unusable rules before listing anything', async () => {
    await expect(
      runSweep({ bucket: harness.bucket, prefix: 'x/', rules: [{ match: 'a/{x}', reference: 'r/{y}' }] }),
    ).rejects.toMatchObject({
      cause: { type: 'InvalidInput', message: expect.stringMatching(/uses \{y\}/) },
    });
  });
});

describe('ensureSweepSchedule', () => {
  it('creates the schedule once, updates it on change, and a triggered run sweeps', async () => {
    const prefix = `${harness.taskQueue}/s`;
    const rules = rulesFor(prefix);
    const name = harness.taskQueue;
    const options = {
      name,
      bucket: harness.bucket,
      prefix,
      rules,
      every: '1d',
      taskQueue: harness.taskQueue,
    };
    try {
      expect(await ensureSweepSchedule(harness.client, options)).toEqual({
        scheduleId: `sweep-${name}`,
        created: true,
        updated: false,
      });
      expect(await ensureSweepSchedule(harness.client, options)).toEqual({
        scheduleId: `sweep-${name}`,
        created: false,
        updated: false,
      });
      const handle = harness.client.schedule.getHandle(`sweep-${name}`);
      let description = await handle.describe();
      expect(description.policies.overlap).toBe(SWEEP_SCHEDULE_POLICIES.overlap);
      expect(description.policies.catchupWindow).toBe(3_600_000);
      expect(description.spec.intervals?.[0]?.every).toBe(86_400_000);

      // A changed definition updates the schedule in place; the same again is a no-op.
      const changed = { ...options, every: '12h' };
      expect(await ensureSweepSchedule(harness.client, changed)).toMatchObject({
        created: false,
        updated: true,
      });
      expect(await ensureSweepSchedule(harness.client, changed)).toMatchObject({
        created: false,
        updated: false,
      });
      expect((await handle.describe()).spec.intervals?.[0]?.every).toBe(43_200_000);

      await put(`${prefix}/refs/zed.wav`, reference);
      const key = `${prefix}/calls/zed/1.wav`;
      const lostId = s3EventDetectionId({ bucket: harness.bucket, key, etag: await put(key, questioned) });
      await handle.trigger();
      let sweepId: string | undefined;
      for (let i = 0; i < 100 && sweepId === undefined; i++) {
        description = await handle.describe();
        sweepId = description.info.recentActions[0]?.action.workflow.workflowId;
        if (sweepId === undefined) await sleep(100);
      }
      expect(sweepId).toMatch(new RegExp(`^sweep-${name}-`));
      const summary: SweepSummary = await harness.client.workflow.result(sweepId!);
      expect(summary.counts).toMatchObject({ started: 1, listed: 2 });
      expect((await waitForDetection(harness.client, lostId, { timeoutMs: 30_000 })).state).toBe('completed');
    } finally {
      await deleteSweepSchedule(harness.client, name);
    }
    await expect(harness.client.schedule.getHandle(`sweep-${name}`).describe()).rejects.toThrow();
    await deleteSweepSchedule(harness.client, name); // idempotent
  });
});

/**
 * The platform's capacity on a real Temporal dev server, real versitygw and the emulator over real
 * HTTP: one capacity workflow per platform URL leases the appliance's slots to every detection.
 * Each test has its own emulator (so its own platform URL and capacity workflow) and worker.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDetection } from '../../src/client/detections.ts';
import { runCli } from '../../src/starters/rdd.ts';
import {
  getPlatformCapacity,
  platformCapacityWorkflowId,
  setPlatformCapacity,
} from '../../src/client/platform.ts';
import type { DetectInput } from '../../src/shared/detection.ts';
import type { MediaRef } from '../../src/shared/media.ts';
import {
  PLATFORM_CAPACITY_WORKFLOW_TYPE,
  setCapacityUpdate,
  type CapacityState,
  type PlatformCapacityWorkflow,
} from '../../src/shared/platform-capacity.ts';
import type { DetectWorkflow } from '../../src/shared/workflows.ts';
import { sha256File, speechWav } from '../helpers/audio.ts';
import { grantOrder, startCapacityHarness, stopCapacityHarness, untilCapacity } from '../helpers/capacity.ts';
import type { Harness } from '../helpers/detection-harness.ts';

let genuine: string;
let other: string;
let slow: string;
let harness: Harness | undefined;

beforeAll(async () => {
  genuine = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
  other = await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' });
  slow = await speechWav({ text: 'This job takes a very long time.', voice: 'en+m1' });
});

afterEach(async () => {
  if (!harness) return;
  await stopCapacityHarness(harness);
  harness = undefined;
});

/** A harness whose emulator logs every request with its time, and the media to detect. */
async function setUp(options: {
  emulatorCapacity: number;
  detectorCapacity: number;
  processingMs: number;
  fixtures?: Record<string, unknown>;
  workerEnv?: Record<string, string>;
}) {
  const { fixtures, workerEnv, ...capacities } = options;
  const {
    harness: h,
    requests,
    submits,
  } = await startCapacityHarness({
    ...capacities,
    ...(fixtures && { fixtures: fixtures as never }),
    ...(workerEnv && { workerEnv }),
  });
  harness = h;
  const reference = await h.upload(genuine);
  const questioned = await h.upload(other);
  const start = (id: string, extra: Partial<DetectInput> = {}, media: { questioned?: MediaRef } = {}) =>
    h.start({ reference, questioned: media.questioned ?? questioned, cache: false, ...extra }, id);
  const state = () => getPlatformCapacity(h.client, h.emulator.url);
  return { h, requests, submits, start, state, reference, questioned };
}

/** Polls `read` every 25 ms until `done` holds (or fails after `timeoutMs`). */
const until = <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> =>
  untilCapacity(read, done, { timeoutMs, intervalMs: 25 });

const known = (s: CapacityState) => s.leases.length + s.waiting.length;

describe('platform capacity', () => {
  it('never holds more than capacity + allowance jobs on the platform; every detection completes once', async () => {
    const { h, submits, start } = await setUp({
      emulatorCapacity: 4,
      detectorCapacity: 4,
      processingMs: 300,
    });
    const ids = Array.from({ length: 40 }, (_, i) => `${h.taskQueue}-many-${i}`);
    const handles = await Promise.all(ids.map((id) => start(id)));
    const results = await Promise.all(handles.map((handle) => handle.result()));

    const stats = h.emulator.stats();
    // Capacity 4 + allowance max(1, ⌈4/4⌉) = 5, and the bound is reached (the slots were kept busy).
    expect(stats.maxConcurrentJobs).toBeLessThanOrEqual(5);
    expect(stats.maxConcurrentJobs).toBeGreaterThanOrEqual(4);
    expect(results.map((r) => r.submissions)).toEqual(ids.map(() => 1));
    const submitted = submits().map((r) => r.correlationId);
    expect(submitted).toHaveLength(40);
    expect(new Set(submitted)).toEqual(new Set(ids));

    const state = await getPlatformCapacity(h.client, h.emulator.url);
    expect(state).toMatchObject({ capacity: 4, allowance: 1, leases: [], waiting: [], granted: 40 });

    // The overhead of the lease, in history events of one detection: its own events plus the
    // workflow tasks they wake (3 events each).
    const history = await h.client.workflow.getHandle(ids[0]!).fetchHistory();
    const events = history.events ?? [];
    const leaseActivity = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'requestPlatformLease')
        .map((e) => String(e.eventId)),
    );
    const isLease = (e: (typeof events)[number]): boolean =>
      leaseActivity.has(String(e.eventId)) ||
      leaseActivity.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) ||
      leaseActivity.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)) ||
      e.workflowExecutionSignaledEventAttributes?.signalName === 'leaseGranted' ||
      !!e.signalExternalWorkflowExecutionInitiatedEventAttributes ||
      !!e.externalWorkflowExecutionSignaledEventAttributes;
    const own = events.filter(isLease).length;
    const woken = events.filter(
      (e, i) => e.workflowTaskScheduledEventAttributes && i > 0 && isLease(events[i - 1]!),
    ).length;
    const capacityHistory = await h.client.workflow
      .getHandle(platformCapacityWorkflowId(h.emulator.url))
      .fetchHistory();
    console.log(`capacity workflow: ${capacityHistory.events?.length} events for 40 leases`);
    console.log(
      `history events of one detection: ${events.length}; added by the lease: ${own} + 1 patch marker + ` +
        `${woken} workflow tasks × 3 = ${own + 1 + 3 * woken}`,
    );
  });

  it('raises the allowance for short jobs once it has learnt their time (DETECTOR_QUEUE_MS)', async () => {
    const { h, start, state } = await setUp({
      emulatorCapacity: 4,
      detectorCapacity: 4,
      processingMs: 300,
      workerEnv: { DETECTOR_QUEUE_MS: '1500' },
    });
    // Learn the job time from a few detections first: before that, the fixed quarter holds.
    const first = await Promise.all(Array.from({ length: 6 }, (_, i) => start(`${h.taskQueue}-learn-${i}`)));
    await Promise.all(first.map((handle) => handle.result()));
    const learnt = await state();
    // 0.3 s jobs: ⌈4 × 1.5 s / 0.3 s⌉ = 20, at most the capacity.
    expect(learnt.estimate?.samples).toBeGreaterThanOrEqual(5);
    expect(learnt.allowance).toBe(4);

    const ids = Array.from({ length: 40 }, (_, i) => `${h.taskQueue}-short-${i}`);
    const handles = await Promise.all(ids.map((id) => start(id)));
    await Promise.all(handles.map((handle) => handle.result()));
    // More than capacity + the fixed allowance (5) were on the platform at once; never more than 4 + 4.
    const { maxConcurrentJobs } = h.emulator.stats();
    expect(maxConcurrentJobs).toBeGreaterThan(5);
    expect(maxConcurrentJobs).toBeLessThanOrEqual(8);
    expect(await state()).toMatchObject({ capacity: 4, allowance: 4, leases: [], waiting: [] });
  });

  it('does not stall when more detections wait for a lease than the worker has activity slots', async () => {
    // 4 slots, 10 detections, 1 lease: waiting submits may take at most half the slots, so the
    // activities that give leases back (awaitDetectionJob) always find one.
    const { h, start } = await setUp({
      emulatorCapacity: 1,
      detectorCapacity: 1,
      processingMs: 500,
      workerEnv: { WORKER_MAX_CONCURRENT_ACTIVITIES: '4' },
    });
    const ids = Array.from({ length: 10 }, (_, i) => `${h.taskQueue}-slots-${i}`);
    const handles = await Promise.all(ids.map((id) => start(id)));
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((r) => r.submissions)).toEqual(ids.map(() => 1));
    expect(h.emulator.stats().maxConcurrentJobs).toBeLessThanOrEqual(2);
  }, 240_000);

  it('submits an interactive detection before the batch pairs queued ahead of it, and tells how many are ahead', async () => {
    const { h, submits, start, state } = await setUp({
      emulatorCapacity: 4,
      detectorCapacity: 4,
      // Long enough that the queue is still full when the interactive detection arrives: the lean
      // path notices a finished job within a dense check and frees its lease at once.
      processingMs: 3000,
    });
    const batch = Array.from({ length: 30 }, (_, i) => `${h.taskQueue}-nightly-${i}`);
    const handles: WorkflowHandle<DetectWorkflow>[] = await Promise.all(
      batch.map((id) => start(id, { batchId: 'nightly' })),
    );
    const before = await until(state, (s) => s.waiting.length >= 20);
    // A waiting pair says so, and how many go before it.
    const last = before.waiting.at(-1)!;
    const view = await getDetection(h.client, last.holderWorkflowId);
    expect(view.state).toBe('running');
    if (view.state === 'running') {
      expect(view.status.phase).toBe('waiting-for-capacity');
      expect(view.ahead).toBeGreaterThanOrEqual(1);
    }

    const interactiveId = `${h.taskQueue}-interactive`;
    handles.push(await start(interactiveId));
    const seen = await until(state, (s) =>
      [...s.leases, ...s.waiting].some((l) => l.holderWorkflowId === interactiveId),
    );
    const queued = seen.waiting.find((w) => w.holderWorkflowId === interactiveId);
    const behind = new Set(
      seen.waiting.filter((w) => w.holderWorkflowId !== interactiveId).map((w) => w.holderWorkflowId),
    );
    if (queued) expect(queued.position).toBe(1);
    expect(behind.size).toBeGreaterThanOrEqual(10);
    await Promise.all(handles.map((handle) => handle.result()));

    // Grants, in the order the capacity workflow sent them: every batch pair that was waiting when
    // the interactive request arrived was granted after it.
    const granted = await grantOrder(h);
    const grantedAt = granted.indexOf(interactiveId);
    expect(grantedAt).toBeGreaterThanOrEqual(0);
    for (const id of behind) expect(granted.indexOf(id)).toBeGreaterThan(grantedAt);
    // What reached the platform: pairs granted after it may finish a shorter upload first, but no more
    // of them than uploads run at once (capacity − 1 others), whatever the load of the machine.
    const order = submits().map((r) => r.correlationId);
    const mine = order.indexOf(interactiveId);
    expect([...behind].filter((id) => order.indexOf(id) < mine).length).toBeLessThanOrEqual(3);
    // The pairs waiting before it was even started mostly went after it too (FIFO would put it last).
    const waitingBefore = before.waiting.map((w) => w.holderWorkflowId);
    const after = waitingBefore.filter((id) => order.indexOf(id) > mine).length;
    expect(after).toBeGreaterThanOrEqual(waitingBefore.length - 8);
  });

  it('shares the platform round-robin between two batches', async () => {
    const { h, submits, start, state } = await setUp({
      emulatorCapacity: 1,
      detectorCapacity: 1,
      // Long enough that all of batch b queues before batch a has drained (see above).
      processingMs: 800,
    });
    const a = Array.from({ length: 8 }, (_, i) => `${h.taskQueue}-a-${i}`);
    const b = Array.from({ length: 8 }, (_, i) => `${h.taskQueue}-b-${i}`);
    const handles = await Promise.all(a.map((id) => start(id, { batchId: 'batch-a' })));
    await until(state, (s) => known(s) === 8);
    handles.push(...(await Promise.all(b.map((id) => start(id, { batchId: 'batch-b' })))));
    const snapshot = await until(
      state,
      (s) => [...s.leases, ...s.waiting].filter((w) => w.fairnessKey === 'batch-b').length === 8,
    );
    // The queue alternates while both batches wait.
    const keys = snapshot.waiting.map((w) => w.fairnessKey);
    const count = (key: string) => keys.filter((k) => k === key).length;
    const both = 2 * Math.min(count('batch-a'), count('batch-b'));
    expect(both).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < both; i++) expect(keys[i]).not.toBe(keys[i - 1]);
    await Promise.all(handles.map((handle) => handle.result()));

    // What reached the platform: of those waiting at the snapshot, no batch ran ahead of the other.
    const waitingIds = new Set(snapshot.waiting.map((w) => w.holderWorkflowId));
    const order = submits()
      .map((r) => r.correlationId!)
      .filter((id) => waitingIds.has(id))
      .map((id) => (id.includes('-a-') ? 'a' : 'b'));
    let lead = 0;
    let aLeft = order.filter((k) => k === 'a').length;
    let bLeft = order.length - aLeft;
    for (const key of order) {
      if (aLeft > 0 && bLeft > 0) {
        lead += key === 'a' ? 1 : -1;
        expect(Math.abs(lead)).toBeLessThanOrEqual(2);
      }
      if (key === 'a') aLeft--;
      else bLeft--;
    }
  });

  it('changes the capacity at run time (update setCapacity, validated)', async () => {
    const { h, start, state } = await setUp({ emulatorCapacity: 8, detectorCapacity: 1, processingMs: 300 });
    const handles = await Promise.all(Array.from({ length: 14 }, (_, i) => start(`${h.taskQueue}-cap-${i}`)));
    await until(state, (s) => s.granted >= 5);
    // Capacity 1: 1 + allowance 1 leases at most.
    expect(h.emulator.stats().maxConcurrentJobs).toBeLessThanOrEqual(2);

    const id = platformCapacityWorkflowId(h.emulator.url);
    const rejected = await h.client.workflow
      .getHandle(id)
      .executeUpdate(setCapacityUpdate, { args: [0] })
      .catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(setPlatformCapacity(h.client, h.emulator.url, 2.5)).rejects.toThrow(RangeError);

    // `rdd platform capacity 4`, then `rdd platform status --json`, as an operator would.
    const printed: string[] = [];
    const print = vi
      .spyOn(console, 'log')
      .mockImplementation((line: unknown) => void printed.push(String(line)));
    const saved = { ...process.env };
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: h.env.TEMPORAL_NAMESPACE,
    });
    try {
      expect(await runCli(['platform', 'capacity', '4', '--platform', `${h.emulator.url}/`])).toBe(0);
      printed.length = 0;
      expect(await runCli(['platform', 'status', '--json', '--platform', h.emulator.url])).toBe(0);
    } finally {
      print.mockRestore();
      process.env = saved;
    }
    expect(JSON.parse(printed.join('\n'))).toMatchObject({ capacity: 4, allowance: 1 });
    await Promise.all(handles.map((handle) => handle.result()));
    // Now 4 + 1 at once, and never more.
    expect(h.emulator.stats().maxConcurrentJobs).toBeGreaterThan(2);
    expect(h.emulator.stats().maxConcurrentJobs).toBeLessThanOrEqual(5);
  });

  it('holds back every grant for the Retry-After of a 429', async () => {
    const { h, requests, submits, start, state } = await setUp({
      emulatorCapacity: 4,
      detectorCapacity: 2,
      processingMs: 200,
    });
    h.emulator.setFaults({ submitStatus: { status: 429, times: 1, retryAfterSeconds: 3 } });
    const first = `${h.taskQueue}-first`;
    const handles = [await start(first)];
    const limited = await until(
      () => Promise.resolve(requests.find((r) => r.method === 'POST' && r.status === 429)),
      (r) => r !== undefined,
    );
    await until(state, (s) => s.busyUntil !== null, 5_000);
    const others = Array.from({ length: 4 }, (_, i) => `${h.taskQueue}-later-${i}`);
    handles.push(...(await Promise.all(others.map((id) => start(id)))));
    await Promise.all(handles.map((handle) => handle.result()));

    const accepted = submits().filter((r) => r.correlationId !== first);
    expect(accepted).toHaveLength(4);
    // Nothing else reached the platform while it asked to be left alone (timer granularity: 100 ms).
    for (const r of accepted) expect(r.at).toBeGreaterThanOrEqual(limited!.at + 3000 - 100);
    expect(requests.filter((r) => r.method === 'POST' && r.status === 429)).toHaveLength(1);
  });

  it('continues as new with its leases, queue and counters', async () => {
    const { h, start, state } = await setUp({ emulatorCapacity: 2, detectorCapacity: 2, processingMs: 150 });
    const id = platformCapacityWorkflowId(h.emulator.url);
    const first = await h.client.workflow.start<PlatformCapacityWorkflow>(PLATFORM_CAPACITY_WORKFLOW_TYPE, {
      workflowId: id,
      taskQueue: h.taskQueue,
      args: [{ platformUrl: h.emulator.url, capacity: 2, continueAsNewAfterEvents: 40 }],
    });
    const handles = await Promise.all(Array.from({ length: 16 }, (_, i) => start(`${h.taskQueue}-can-${i}`)));
    await setPlatformCapacity(h.client, h.emulator.url, 3);
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((r) => r.submissions)).toEqual(handles.map(() => 1));

    const now = await state();
    expect(now).toMatchObject({ capacity: 3, granted: 16, leases: [], waiting: [] });
    const { runId } = await h.client.workflow.getHandle(id).describe();
    expect(runId).not.toBe(first.firstExecutionRunId);
    expect(h.emulator.stats().maxConcurrentJobs).toBeLessThanOrEqual(4);
  });

  it('takes back the lease of a holder terminated while holding it', async () => {
    const fixtures = { [await sha256File(slow)]: { processingMs: 120_000 } };
    const { h, start, state } = await setUp({
      emulatorCapacity: 4,
      detectorCapacity: 1,
      processingMs: 200,
      fixtures,
    });
    // Started here, with a short check interval (a worker would start it with the 5-minute default).
    await h.client.workflow.start<PlatformCapacityWorkflow>(PLATFORM_CAPACITY_WORKFLOW_TYPE, {
      workflowId: platformCapacityWorkflowId(h.emulator.url),
      taskQueue: h.taskQueue,
      args: [{ platformUrl: h.emulator.url, capacity: 1, reclaimIntervalMs: 1_000 }],
    });
    const slowMedia = await h.upload(slow);
    const holders = await Promise.all(
      [0, 1].map((i) => start(`${h.taskQueue}-slow-${i}`, {}, { questioned: slowMedia })),
    );
    await until(state, (s) => s.leases.length === 2);
    const waiter = await start(`${h.taskQueue}-waiter`);
    await until(state, (s) => s.waiting.length === 1);
    for (const holder of holders) await holder.terminate('holder killed while holding its lease');

    const result = await waiter.result();
    expect(result.submissions).toBe(1);
    const after = await state();
    expect(after.reclaimed).toBeGreaterThanOrEqual(2);
    expect(after.leases).toEqual([]);
  });
});

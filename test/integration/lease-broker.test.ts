/**
 * The lease broker (src/activities/lease-broker.ts) against a real capacity workflow on the dev
 * server: hundreds of lease requests at once are all granted (one `acquireLease` update per request
 * livelocked the capacity workflow at this size: Temporal admits 10 updates in flight per
 * workflow), the capacity workflow sees one long poll per broker, the queue order holds across two
 * brokers, and requests lost with a terminated capacity workflow are queued again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquirePlatformLease, releasePlatformLease } from '../../src/activities/platform-capacity.ts';
import { LeaseWaitersFullError } from '../../src/activities/lease-broker.ts';
import type { PlatformCapacityDeps } from '../../src/activities/platform-capacity.ts';
import { platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { getPlatformCapacity } from '../../src/client/platform.ts';
import { LeasePriority, type LeaseRequest } from '../../src/shared/platform-capacity.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { untilCapacity } from '../helpers/capacity.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);

afterAll(async () => {
  await h?.client.workflow
    .getHandle(platformCapacityWorkflowId(h.emulator.url))
    .terminate('test over')
    .catch(() => undefined);
  await h?.close();
});

/** Deps of one worker process's broker on the harness's platform (a new object: a new broker). */
const depsFor = (capacity: number): PlatformCapacityDeps => ({
  temporal: h.client,
  platformUrl: h.emulator.url,
  initialCapacity: capacity,
  taskQueue: h.taskQueue,
});

const request = (name: string, priority: LeasePriority, fairnessKey?: string): LeaseRequest => ({
  leaseId: `${name}/1`,
  holderWorkflowId: `${h.taskQueue}-${name}`,
  holderRunId: 'no-such-run',
  priority,
  ...(fairnessKey !== undefined && { fairnessKey }),
});

async function capacityHistory() {
  const events = [];
  let runId: string | undefined;
  do {
    const history = await h.client.workflow
      .getHandle(platformCapacityWorkflowId(h.emulator.url), runId)
      .fetchHistory();
    events.push(...(history.events ?? []));
    runId =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return events;
}

const capacityState = () => getPlatformCapacity(h.client, h.emulator.url);

/** Takes both leases of capacity 1 + allowance 1 (`<prefix>-holder`, `<prefix>-next`); returns their requests. */
async function fillPlatform(deps: PlatformCapacityDeps, prefix: string): Promise<LeaseRequest[]> {
  const held = [
    request(`${prefix}-holder`, LeasePriority.Interactive),
    request(`${prefix}-next`, LeasePriority.Interactive),
  ];
  for (const r of held) {
    await acquirePlatformLease(deps, r, { signal: AbortSignal.timeout(30_000), onWaiting: () => undefined });
  }
  return held;
}

describe('the lease broker', () => {
  it('grants 400 requests made at once, with few long polls on the capacity workflow', async () => {
    const deps = depsFor(1000);
    const requests = Array.from({ length: 400 }, (_, i) => request(`burst-${i}`, LeasePriority.Interactive));
    const waits: number[] = [];
    const answers = await Promise.all(
      requests.map((r) =>
        acquirePlatformLease(deps, r, {
          signal: AbortSignal.timeout(120_000),
          onWaiting: ({ ahead }) => waits.push(ahead),
        }),
      ),
    );
    expect(answers.every((a) => a.granted)).toBe(true);
    expect(new Set(answers.map((a) => a.leaseId)).size).toBe(400);
    const state = await capacityState();
    expect(state.leases).toHaveLength(400);
    expect(state.waiting).toHaveLength(0);

    // The capacity workflow saw few calls: signals carrying many requests, and one long poll at a time.
    const events = await capacityHistory();
    const signals = events.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'requestLeases',
    );
    const polls = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    console.log(`400 leases: ${signals.length} requestLeases signals, ${polls.length} awaitLeases updates`);
    expect(signals.length).toBeLessThan(40);
    expect(polls.length).toBeLessThan(40);

    // Asking again for a lease already held (a retried activity, here through another broker) gets it back.
    const again = await acquirePlatformLease(depsFor(1000), requests[7]!, {
      signal: AbortSignal.timeout(30_000),
      onWaiting: () => undefined,
    });
    expect(again).toMatchObject({ leaseId: requests[7]!.leaseId, granted: true });
    for (const r of requests) await releasePlatformLease(h.client, { ...answers[0]!, leaseId: r.leaseId });
    await untilCapacity(capacityState, (s) => s.leases.length === 0, { timeoutMs: 30_000, intervalMs: 100 });
  }, 180_000);

  it('keeps the queue order across brokers: an interactive request of one process before the batch of another', async () => {
    await h.client.workflow
      .getHandle(platformCapacityWorkflowId(h.emulator.url))
      .executeUpdate('setCapacity', { args: [1] });
    const batchBroker = depsFor(1);
    const interactiveBroker = depsFor(1);
    const holder = request('holder', LeasePriority.Interactive);
    const held = await acquirePlatformLease(batchBroker, holder, {
      signal: AbortSignal.timeout(30_000),
      onWaiting: () => undefined,
    });
    // Capacity 1 + allowance 1: one more lease is granted at once; the rest queue.
    const first = acquirePlatformLease(batchBroker, request('batch-0', LeasePriority.Batch, 'nightly'), {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    });
    await first;
    const grantOrder: string[] = [];
    const positions = new Map<string, number>();
    const batch = Array.from({ length: 6 }, (_, i) =>
      request(`batch-${i + 1}`, LeasePriority.Batch, 'nightly'),
    );
    const batchDone = batch.map((r) =>
      acquirePlatformLease(batchBroker, r, {
        signal: AbortSignal.timeout(60_000),
        onWaiting: ({ ahead }) => positions.set(r.leaseId, ahead),
      }).then((a) => grantOrder.push(a.leaseId)),
    );
    await untilCapacity(capacityState, (s) => s.waiting.length === 6, { timeoutMs: 30_000, intervalMs: 100 });
    // Every waiting request of the batch has heard its position.
    await untilCapacity(
      () => Promise.resolve(positions.size),
      (n) => n === 6,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect([...positions.values()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    const interactive = request('interactive', LeasePriority.Interactive);
    const interactiveDone = acquirePlatformLease(interactiveBroker, interactive, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    }).then((a) => grantOrder.push(a.leaseId));
    const queued = await untilCapacity(
      capacityState,
      (s) => s.waiting.some((w) => w.leaseId === interactive.leaseId),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(queued.waiting[0]!.leaseId).toBe(interactive.leaseId);
    // Free the slots one by one: each release grants the next in the queue's order.
    const release = (leaseId: string) => releasePlatformLease(h.client, { ...held, leaseId });
    // One slot at a time, so the grants reach the two brokers in the order they were made.
    const granted = (count: number) =>
      untilCapacity(
        () => Promise.resolve(grantOrder.length),
        (n) => n >= count,
        { timeoutMs: 30_000, intervalMs: 50 },
      );
    await release(holder.leaseId);
    await granted(1);
    await release(request('batch-0', LeasePriority.Batch).leaseId);
    for (let released = 0; released < 7; released++) {
      await granted(Math.min(released + 2, 7));
      await release(grantOrder[released]!);
    }
    await Promise.all([...batchDone, interactiveDone]);
    expect(grantOrder[0]).toBe(interactive.leaseId);
    expect(grantOrder.slice(1)).toEqual(batch.map((r) => r.leaseId));
  }, 180_000);

  it('queues its requests again when the capacity workflow was terminated while they waited', async () => {
    const id = platformCapacityWorkflowId(h.emulator.url);
    await h.client.workflow.getHandle(id).executeUpdate('setCapacity', { args: [1] });
    const deps = depsFor(1);
    await fillPlatform(deps, 't');
    const waiting = request('t-waiting', LeasePriority.Interactive);
    let granted = false;
    const done = acquirePlatformLease(deps, waiting, {
      signal: AbortSignal.timeout(120_000),
      onWaiting: () => undefined,
    }).then(() => {
      granted = true;
    });
    await untilCapacity(capacityState, (s) => s.waiting.some((w) => w.leaseId === waiting.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    // The capacity workflow and its queue are gone; the broker's next long poll starts a fresh one
    // (capacity 1 from the broker's deps), which does not know the request: it is queued again.
    await h.client.workflow.getHandle(id).terminate('test: state lost');
    await done;
    expect(granted).toBe(true);
    const state = await capacityState();
    expect(state.leases.map((l) => l.leaseId)).toEqual([waiting.leaseId]);
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: waiting.leaseId });
  }, 180_000);

  it('stops waiting when its signal aborts, and a retry with the same id keeps the place', async () => {
    const id = platformCapacityWorkflowId(h.emulator.url);
    await h.client.workflow.getHandle(id).executeUpdate('setCapacity', { args: [1] });
    const deps = depsFor(1);
    const fill = await fillPlatform(deps, 'a');
    const mine = request('a-mine', LeasePriority.Interactive);
    const controller = new AbortController();
    const first = acquirePlatformLease(deps, mine, { signal: controller.signal, onWaiting: () => undefined });
    await untilCapacity(capacityState, (s) => s.waiting.some((w) => w.leaseId === mine.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const later = request('a-later', LeasePriority.Interactive);
    const laterDone = acquirePlatformLease(deps, later, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    });
    controller.abort(new Error('worker shutting down'));
    await expect(first).rejects.toThrow('worker shutting down');
    // The request is still first in the queue; a retry (another worker's broker) is granted first.
    const retry = acquirePlatformLease(depsFor(1), mine, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    });
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: fill[0]!.leaseId });
    await expect(retry).resolves.toMatchObject({ leaseId: mine.leaseId, granted: true });
    const state = await capacityState();
    expect(state.waiting.map((w) => w.leaseId)).toEqual([later.leaseId]);
    for (const leaseId of [fill[1]!.leaseId, mine.leaseId]) {
      await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId });
    }
    await laterDone;
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: later.leaseId });
  }, 180_000);

  it('delivers a grant again to a wait of the same id on the same broker after an aborted one', async () => {
    const id = platformCapacityWorkflowId(h.emulator.url);
    await h.client.workflow.getHandle(id).executeUpdate('setCapacity', { args: [1] });
    const deps = depsFor(1);
    const fill = await fillPlatform(deps, 'r');
    const gone = request('r-gone', LeasePriority.Interactive);
    const other = request('r-other', LeasePriority.Interactive);
    const controller = new AbortController();
    const first = acquirePlatformLease(deps, gone, { signal: controller.signal, onWaiting: () => undefined });
    // Another waiter keeps the broker's long poll going, so it receives the grant nobody waits for.
    const otherDone = acquirePlatformLease(deps, other, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    });
    await untilCapacity(capacityState, (s) => s.waiting.length === 2, { timeoutMs: 30_000, intervalMs: 100 });
    controller.abort(new Error('attempt timed out'));
    await expect(first).rejects.toThrow('attempt timed out');
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: fill[0]!.leaseId });
    await untilCapacity(capacityState, (s) => s.leases.some((l) => l.leaseId === gone.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the broker has the grant, unacknowledged or not
    // The retried attempt asks on the same broker: the grant is delivered to it again.
    await expect(
      acquirePlatformLease(deps, gone, { signal: AbortSignal.timeout(15_000), onWaiting: () => undefined }),
    ).resolves.toMatchObject({ leaseId: gone.leaseId, granted: true });
    for (const leaseId of [fill[1]!.leaseId, gone.leaseId]) {
      await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId });
    }
    await otherDone;
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: other.leaseId });
  }, 120_000);

  it('stops waiting for the request furthest back above maxLeaseWaiters; it stays queued and a later ask gets it', async () => {
    const id = platformCapacityWorkflowId(h.emulator.url);
    await h.client.workflow.getHandle(id).executeUpdate('setCapacity', { args: [1] });
    const deps = { ...depsFor(1), maxLeaseWaiters: 1 };
    const fill = await fillPlatform(depsFor(1), 'm');
    const waits = request('m-waits', LeasePriority.Interactive);
    const later = request('m-later', LeasePriority.Interactive);
    const waiting = acquirePlatformLease(deps, waits, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    });
    const full = await acquirePlatformLease(deps, later, {
      signal: AbortSignal.timeout(60_000),
      onWaiting: () => undefined,
    }).catch((err: unknown) => err);
    expect(full).toBeInstanceOf(LeaseWaitersFullError);
    // Queued all the same, behind the one that waits.
    const queued = await untilCapacity(capacityState, (s) => s.waiting.length === 2, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(queued.waiting.map((w) => w.leaseId)).toEqual([waits.leaseId, later.leaseId]);
    for (const r of fill)
      await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: r.leaseId });
    await expect(waiting).resolves.toMatchObject({ leaseId: waits.leaseId, granted: true });
    // Granted while nobody waited for it; asked again, it is delivered.
    await untilCapacity(capacityState, (s) => s.leases.some((l) => l.leaseId === later.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    await expect(
      acquirePlatformLease(deps, later, { signal: AbortSignal.timeout(15_000), onWaiting: () => undefined }),
    ).resolves.toMatchObject({ leaseId: later.leaseId, granted: true });
    for (const leaseId of [waits.leaseId, later.leaseId]) {
      await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId });
    }
  }, 120_000);

  it('delivers a lease granted while nobody waited to its next ask, even with the waiters full', async () => {
    // The reviewer's deadlock: a request detached for the waiter limit is granted with no waiter;
    // asked for again while another request waits, it must be delivered, not detached again.
    const id = platformCapacityWorkflowId(h.emulator.url);
    await h.client.workflow.getHandle(id).executeUpdate('setCapacity', { args: [1] });
    const deps = { ...depsFor(1), maxLeaseWaiters: 1 };
    const fill = await fillPlatform(depsFor(1), 'd');
    const ask = (r: LeaseRequest) =>
      acquirePlatformLease(deps, r, { signal: AbortSignal.timeout(30_000), onWaiting: () => undefined });
    const w1 = request('d-w1', LeasePriority.Interactive);
    const q = request('d-q', LeasePriority.Interactive);
    const w2 = request('d-w2', LeasePriority.Interactive);
    const first = ask(w1);
    await expect(ask(q)).rejects.toBeInstanceOf(LeaseWaitersFullError);
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: fill[0]!.leaseId });
    await expect(first).resolves.toMatchObject({ leaseId: w1.leaseId });
    const second = ask(w2); // waits behind q
    await untilCapacity(capacityState, (s) => s.waiting.some((w) => w.leaseId === w2.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: fill[1]!.leaseId });
    await untilCapacity(capacityState, (s) => s.leases.some((l) => l.leaseId === q.leaseId), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await expect(ask(q)).resolves.toMatchObject({ leaseId: q.leaseId, granted: true });
    for (const r of [w1, q])
      await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: r.leaseId });
    await expect(second).resolves.toMatchObject({ leaseId: w2.leaseId });
    await releasePlatformLease(h.client, { capacityWorkflowId: id, leaseId: w2.leaseId });
  }, 120_000);
});

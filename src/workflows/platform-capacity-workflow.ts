import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
  setWorkflowOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  addObservation,
  dropStaleRegime,
  fitCompletionModel,
  type CompletionModel,
  type CompletionObservation,
} from '../shared/completion-estimate.ts';
import {
  acquireLeaseUpdate,
  allowanceFor,
  awaitLeasesUpdate,
  BROKER_POSITIONS,
  capacityProblems,
  capacityStateQuery,
  leaseGrantedSignal,
  LeasePriority,
  platformBusySignal,
  releaseLeaseSignal,
  requestLeaseSignal,
  requestLeasesSignal,
  setCapacityUpdate,
  typicalJobSeconds,
  type CapacityState,
  type CarriedCapacityState,
  LEASE_LONG_POLL_AHEAD,
  LEASE_POLL_MS,
  LEASE_QUEUED_FAILURE,
  type AcquireLease,
  type AwaitLeases,
  type LeaseAnswer,
  type LeasesAnswer,
  type LeaseRequest,
  type PlatformCapacityInput,
} from '../shared/platform-capacity.ts';
import { TEMPORAL_DESCRIBE } from './activity-options.ts';
import { versioningBehavior } from './versioning-behavior.ts';

const { findClosedWorkflows } = proxyActivities<Activities>(TEMPORAL_DESCRIBE);

/** How a held lease was asked for and where its grant goes (see `CarriedCapacityState`). */
type Held = CarriedCapacityState['leases'][number];
type Waiting = CarriedCapacityState['waiting'][number];

const DEFAULT_RECLAIM_INTERVAL_MS = 5 * 60_000;
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 1000;
/** Waiters while every lease is held and none was released this long: check for closed holders. */
const STALL_CHECK_MS = 60_000;

// The capacity workflow runs for ever and continues as new: under Worker Versioning, AUTO_UPGRADE
// moves it to the current deployment version at its next workflow task, so old workers can be
// stopped without waiting for it (a change to its code needs `patched()`). README "Safe upgrades".
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), platformCapacityWorkflow);

/**
 * The platform's capacity, one per platform URL (id `platform-capacity-<16 hex of sha256(url)>`),
 * started on first use by the `requestPlatformLease` activity (signalWithStart) and running for
 * ever. Grants at most `capacity + allowance` leases at once (`allowanceFor`: max(1, ⌈capacity/4⌉),
 * or with `input.queueMs` enough jobs to cover that much of the platform's work at the learnt typical
 * job time, at most the capacity: it keeps every slot busy while the next uploads run); a lease
 * counts one job from submit until it is terminal on the platform.
 *
 * - Requests queue: interactive requests first (FIFO), then batch requests round-robin over their
 *   fairness keys. A request queued by a worker process's lease broker (`requestLeases` signal, the
 *   lean detection path) is granted to that broker's one `awaitLeases` update, which long-polls up
 *   to LEASE_POLL_MS for the grants of all its requests; a request by the `acquireLease` update
 *   (workers from before the broker) is answered by that update; a request by the `requestLease`
 *   signal (detections started before the lean path) is granted by a `leaseGranted` signal to the
 *   holder.
 * - `releaseLease` gives a lease back (or withdraws a waiting request); idempotent. A release with
 *   an `observation` (how long the job took) teaches the completion-time estimate, a robust fit over
 *   the newest COMPLETION_WINDOW observations that every `acquireLease` answer and the
 *   `capacityState` query carry (see src/shared/completion-estimate.ts).
 * - `platformBusy` (the submit activity saw 429/507) stops all grants until the hinted time.
 * - `setCapacity` (update, validated) changes the capacity at run time.
 * - Leases of holders that closed without releasing are reclaimed: at once when the grant signal
 *   fails (the holder is gone), and by a periodic `findClosedWorkflows` check.
 * - Continues as new every ~1000 events carrying its state (observations included), after its
 *   handlers finished: waiting `acquireLease` updates answer `granted: false` at once first, and
 *   their activities ask again (the new run keeps their place in the queue).
 */
export async function platformCapacityWorkflow(input: PlatformCapacityInput): Promise<void> {
  const carried = input.state;
  let capacity = input.capacity;
  const leases = new Map<string, Held>((carried?.leases ?? []).map((lease) => [lease.leaseId, lease]));
  const waiting = new Map<string, Waiting>((carried?.waiting ?? []).map((wait) => [wait.leaseId, wait]));
  let busyUntilMs = carried?.busyUntilMs ?? 0;
  let lastBatchKey = carried?.lastBatchKey ?? null;
  let granted = carried?.granted ?? 0;
  let reclaimed = carried?.reclaimed ?? 0;
  let seq = carried?.seq ?? 0;
  let observations: CompletionObservation[] = carried?.observations ?? [];
  let estimate: CompletionModel = fitCompletionModel(observations);
  /** Seconds of work to keep queued beyond the capacity (0: the fixed allowance); see `allowanceFor`. */
  const queueMs = input.queueMs ?? 0;
  let jobSeconds = typicalJobSeconds(observations);
  const allowance = (): number => allowanceFor(capacity, { queueMs, jobSeconds });
  /** Per waiting lease id, the `acquireLease` handlers to wake (in grant order) when it is decided. */
  const wakers = new Map<string, (() => void)[]>();
  /** Per broker, its `awaitLeases` handler to wake when one of its requests is granted. */
  const brokerWakers = new Map<string, (() => void)[]>();
  let draining = false;
  let lastReleaseMs = Date.now();
  let lastReclaimMs = Date.now();
  let reclaiming = false;
  let grantsInFlight = 0;
  let changed = true;
  const reclaimIntervalMs = input.reclaimIntervalMs ?? DEFAULT_RECLAIM_INTERVAL_MS;
  const canAfterEvents = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;

  const wake = (leaseId: string): void => {
    for (const resolve of wakers.get(leaseId) ?? []) resolve();
    wakers.delete(leaseId);
  };
  const wakeBroker = (brokerId: string): void => {
    for (const resolve of brokerWakers.get(brokerId) ?? []) resolve();
    brokerWakers.delete(brokerId);
  };
  const release = (leaseId: string, why: string): boolean => {
    const had = leases.delete(leaseId) || waiting.delete(leaseId);
    wake(leaseId);
    if (had) {
      changed = true;
      lastReleaseMs = Date.now();
      log.debug('lease released', { leaseId, why });
    }
    return had;
  };
  const state = (): CapacityState => ({
    platformUrl: input.platformUrl,
    capacity,
    allowance: allowance(),
    leases: [...leases.values()].map(({ sinceMs, ...lease }) => ({
      ...requestOf(lease),
      since: new Date(sinceMs).toISOString(),
    })),
    waiting: grantOrder([...waiting.values()], lastBatchKey).map(({ requestedAtMs, ...wait }, i) => ({
      ...requestOf(wait),
      requestedAt: new Date(requestedAtMs).toISOString(),
      position: i + 1,
    })),
    busyUntil: busyUntilMs > Date.now() ? new Date(busyUntilMs).toISOString() : null,
    granted,
    reclaimed,
    estimate,
  });
  const answer = (leaseId: string): LeaseAnswer => {
    const held = leases.has(leaseId);
    const ahead = held
      ? 0
      : grantOrder([...waiting.values()], lastBatchKey).findIndex((w) => w.leaseId === leaseId);
    return { leaseId, granted: held, ahead: Math.max(0, ahead), estimate };
  };

  setHandler(requestLeaseSignal, (request) => {
    // A repeated request (the activity retried after its signal went through) changes nothing.
    if (leases.has(request.leaseId) || waiting.has(request.leaseId)) return;
    seq += 1;
    waiting.set(request.leaseId, { ...request, requestedAtMs: Date.now(), seq });
    changed = true;
  });
  setHandler(releaseLeaseSignal, ({ leaseId, observation }) => {
    // Counted once: a repeated release (a retried activity) finds nothing to release.
    if (release(leaseId, 'released by its holder') && observation) {
      observations = addObservation(observations, observation);
      // Follow a platform that changed speed within REGIME_CHANGE_RUN jobs (histories before the patch keep the window).
      if (patched('estimate-regime-change')) observations = dropStaleRegime(observations);
      estimate = fitCompletionModel(observations);
      jobSeconds = typicalJobSeconds(observations);
    }
  });
  const aheadOf = (leaseId: string): number =>
    grantOrder([...waiting.values()], lastBatchKey).findIndex((w) => w.leaseId === leaseId);
  setHandler(
    acquireLeaseUpdate,
    async (request) => {
      const { leaseId } = request;
      if (leases.has(leaseId)) return answer(leaseId);
      if (!waiting.has(leaseId)) {
        seq += 1;
        waiting.set(leaseId, { ...request, requestedAtMs: Date.now(), seq, viaUpdate: true });
        changed = true;
      }
      // Only the front of the queue long-polls: Temporal allows few updates in flight per workflow.
      if (draining || aheadOf(leaseId) >= LEASE_LONG_POLL_AHEAD) return answer(leaseId);
      // Woken by the grant (in grant order, so the updates complete in the order leases were
      // granted), a withdrawal or the drain before continue-as-new; else answers after the poll time.
      // A grant in the same workflow task starts and cancels the timer in one go: no timer events.
      await wokenOrPollTime((resolve) => wakers.set(leaseId, [...(wakers.get(leaseId) ?? []), resolve]));
      return answer(leaseId);
    },
    {
      // A request already queued far from the front is answered by rejecting the update, which
      // leaves no event in this history: asking again costs the capacity workflow nothing.
      validator: ({ leaseId }: AcquireLease) => {
        if (draining || leases.has(leaseId) || !waiting.has(leaseId)) return;
        const ahead = aheadOf(leaseId);
        if (ahead >= LEASE_LONG_POLL_AHEAD) {
          throw ApplicationFailure.create({
            type: LEASE_QUEUED_FAILURE,
            message: `queued: ${ahead} ahead`,
            details: [{ ahead }],
          });
        }
      },
    },
  );
  setHandler(requestLeasesSignal, ({ brokerId, requests }) => {
    for (const request of requests) {
      const { leaseId } = request;
      const held = leases.get(leaseId);
      if (held) {
        // Its grant went to a broker that lost it (the activity was retried): deliver it again.
        held.brokerId = brokerId;
        held.undelivered = true;
        seq += 1;
        held.deliveryNo = seq;
        wakeBroker(brokerId);
        continue;
      }
      const queued = waiting.get(leaseId);
      if (queued) {
        queued.brokerId = brokerId;
        queued.reported = false;
        continue;
      }
      seq += 1;
      waiting.set(leaseId, { ...requestOf(request), requestedAtMs: Date.now(), seq, brokerId });
      changed = true;
    }
  });
  const brokerAnswer = (brokerId: string, check: readonly string[] | undefined): LeasesAnswer => {
    const grantedToBroker = [...leases.values()]
      .filter((lease) => lease.brokerId === brokerId && lease.undelivered)
      .map(({ leaseId, grantNo, deliveryNo }) => ({
        leaseId,
        grantNo: grantNo ?? 0,
        deliveryNo: deliveryNo ?? 0,
      }));
    const order = grantOrder([...waiting.values()], lastBatchKey);
    const mine: { leaseId: string; ahead: number }[] = [];
    order.forEach((wait, ahead) => {
      if (wait.brokerId === brokerId) {
        mine.push({ leaseId: wait.leaseId, ahead });
        wait.reported = true;
      }
    });
    const listed = mine.slice(0, BROKER_POSITIONS);
    return {
      granted: grantedToBroker,
      waiting: listed,
      waitingTotal: mine.length,
      ...(mine.length > listed.length && { behind: mine[listed.length]!.ahead }),
      // Neither queued for this broker nor a grant on its way to it: the request was lost (the
      // capacity workflow restarted) or its grant went to a waiter that is gone.
      unknown: (check ?? []).filter((leaseId) => {
        const held = leases.get(leaseId);
        const queued = waiting.get(leaseId);
        return !(queued?.brokerId === brokerId) && !(held?.brokerId === brokerId && held.undelivered);
      }),
      estimate,
    };
  };
  setHandler(
    awaitLeasesUpdate,
    async ({ brokerId, ack, wait, check }) => {
      for (const { leaseId, deliveryNo } of ack) {
        const lease = leases.get(leaseId);
        if (lease?.brokerId === brokerId && (lease.deliveryNo ?? 0) === deliveryNo) lease.undelivered = false;
      }
      const mine = [...waiting.values()].filter((w) => w.brokerId === brokerId);
      const answerNow =
        !wait ||
        draining ||
        mine.length === 0 ||
        mine.some((w) => !w.reported) ||
        [...leases.values()].some((lease) => lease.brokerId === brokerId && lease.undelivered);
      if (!answerNow) {
        // Woken by a grant to this broker or the drain before continue-as-new; else answers after
        // the poll time with fresh positions. A wake in the same workflow task leaves no timer event.
        await wokenOrPollTime((resolve) =>
          brokerWakers.set(brokerId, [...(brokerWakers.get(brokerId) ?? []), resolve]),
        );
      }
      return brokerAnswer(brokerId, check);
    },
    {
      // A malformed call is rejected before it reaches the history.
      validator: ({ brokerId, ack, wait, check }: AwaitLeases) => {
        const ids = (value: unknown) => Array.isArray(value) && value.every((id) => typeof id === 'string');
        const acks =
          Array.isArray(ack) &&
          ack.every(
            (a: unknown) =>
              typeof (a as { leaseId?: unknown }).leaseId === 'string' &&
              typeof (a as { deliveryNo?: unknown }).deliveryNo === 'number',
          );
        if (
          typeof brokerId !== 'string' ||
          brokerId === '' ||
          !acks ||
          typeof wait !== 'boolean' ||
          (check !== undefined && !ids(check))
        ) {
          throw new TypeError(
            'awaitLeases needs { brokerId: string, ack: { leaseId, deliveryNo }[], wait: boolean, check?: string[] }',
          );
        }
      },
    },
  );
  setHandler(platformBusySignal, ({ untilMs }) => {
    if (untilMs > busyUntilMs) {
      busyUntilMs = untilMs;
      changed = true;
      log.info('platform busy (429/507): no grants until', { until: new Date(untilMs).toISOString() });
    }
  });
  setHandler(
    setCapacityUpdate,
    (next) => {
      capacity = next;
      changed = true;
      log.info('capacity set', { capacity });
      return state();
    },
    {
      validator: (next) => {
        const problems = capacityProblems(next);
        // A rejected update leaves no trace in history; the message reaches the caller.
        if (problems.length > 0) throw new RangeError(problems.join('; '));
      },
    },
  );
  setHandler(capacityStateQuery, state);

  const grant = (request: Waiting): void => {
    waiting.delete(request.leaseId);
    const { requestedAtMs: _, seq: __, reported: ___, ...lease } = request;
    granted += 1;
    if (request.brokerId) {
      seq += 1;
      leases.set(request.leaseId, {
        ...lease,
        sinceMs: Date.now(),
        undelivered: true,
        grantNo: granted,
        deliveryNo: seq,
      });
    } else {
      leases.set(request.leaseId, { ...lease, sinceMs: Date.now() });
    }
    if (request.priority === LeasePriority.Batch) lastBatchKey = request.fairnessKey ?? '';
    if (request.brokerId) {
      wakeBroker(request.brokerId);
      wake(request.leaseId);
      return;
    }
    if (request.viaUpdate) {
      wake(request.leaseId);
      return;
    }
    grantsInFlight += 1;
    getExternalWorkflowHandle(request.holderWorkflowId, request.holderRunId)
      .signal(leaseGrantedSignal, { leaseId: request.leaseId, grantedAtMs: Date.now() })
      .catch((err: unknown) => {
        // The holder closed (completed, failed, cancelled, terminated): the lease is free again.
        if (release(request.leaseId, 'holder gone')) reclaimed += 1;
        log.info('lease grant not delivered; reclaimed', {
          leaseId: request.leaseId,
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        grantsInFlight -= 1;
      });
  };

  const reclaim = async (): Promise<void> => {
    reclaiming = true;
    lastReclaimMs = Date.now();
    try {
      const holders = [...leases.values(), ...waiting.values()].map(({ holderWorkflowId, holderRunId }) => ({
        workflowId: holderWorkflowId,
        runId: holderRunId,
      }));
      const closed = await findClosedWorkflows({ workflows: dedupe(holders) });
      const gone = new Set(closed.map(({ workflowId, runId }) => `${workflowId}\n${runId}`));
      for (const lease of [...leases.values(), ...waiting.values()]) {
        if (
          gone.has(`${lease.holderWorkflowId}\n${lease.holderRunId}`) &&
          release(lease.leaseId, 'holder closed')
        ) {
          reclaimed += 1;
        }
      }
    } catch (err) {
      // A failed check is tried again at the next interval; it must never stop the grants.
      log.warn('checking holders failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      reclaiming = false;
      changed = true;
    }
  };

  const limit = () => capacity + allowance();
  const reclaimDue = (now: number): boolean => {
    if (reclaiming || (leases.size === 0 && waiting.size === 0)) return false;
    if (now >= lastReclaimMs + reclaimIntervalMs) return true;
    // Waiters behind a full platform with nothing released for a while: maybe its holders are gone.
    const stalled = waiting.size > 0 && leases.size >= limit();
    return stalled && now >= Math.max(lastReclaimMs, lastReleaseMs) + STALL_CHECK_MS;
  };
  // Timers are started only when needed and never per loop turn: a timer costs history events.
  const tickMs = Math.min(reclaimIntervalMs, STALL_CHECK_MS);
  let ticking = false;
  let busyTimerFor = 0;

  for (;;) {
    changed = false;
    const now = Date.now();
    if (now >= busyUntilMs) {
      while (leases.size < limit() && waiting.size > 0)
        grant(grantOrder([...waiting.values()], lastBatchKey)[0]!);
    } else if (busyTimerFor !== busyUntilMs) {
      busyTimerFor = busyUntilMs;
      void sleep(busyUntilMs - now).then(() => {
        changed = true;
      });
    }
    if (reclaimDue(now)) void reclaim();
    if (!ticking && (leases.size > 0 || waiting.size > 0)) {
      ticking = true;
      void sleep(tickMs).then(() => {
        ticking = false;
        changed = true;
      });
    }
    const info = workflowInfo();
    if (info.historyLength >= canAfterEvents || info.continueAsNewSuggested) break;
    await condition(() => changed);
  }

  // Waiting `acquireLease` updates answer `granted: false` now (their activities ask the new run);
  // signals that arrive until the new run starts are delivered to this run's handlers first (the
  // server refuses to close a run with unhandled signals), so nothing sent to the id is lost.
  draining = true;
  for (const leaseId of [...wakers.keys()]) wake(leaseId);
  for (const brokerId of [...brokerWakers.keys()]) wakeBroker(brokerId);
  await condition(() => allHandlersFinished() && grantsInFlight === 0 && !reclaiming);
  const next: CarriedCapacityState = {
    leases: [...leases.values()],
    waiting: [...waiting.values()],
    busyUntilMs,
    lastBatchKey,
    granted,
    reclaimed,
    seq,
    observations,
  };
  await continueAsNew<typeof platformCapacityWorkflow>({ ...input, capacity, state: next });
}

/**
 * The order in which waiting requests would be granted: interactive ones first in arrival order,
 * then batch ones round-robin over their fairness keys (keys in sorted order, starting after the
 * key granted last; within a key, arrival order). Pure and deterministic.
 */
export function grantOrder<T extends LeaseRequest & { seq: number }>(
  waiting: T[],
  lastBatchKey: string | null,
): T[] {
  const bySeq = (a: T, b: T) => a.seq - b.seq;
  const interactive = waiting.filter((w) => w.priority !== LeasePriority.Batch).sort(bySeq);
  const queues = new Map<string, T[]>();
  for (const w of waiting.filter((w) => w.priority === LeasePriority.Batch).sort(bySeq)) {
    const key = w.fairnessKey ?? '';
    const queue = queues.get(key);
    if (queue) queue.push(w);
    else queues.set(key, [w]);
  }
  const keys = [...queues.keys()].sort();
  const start = lastBatchKey === null ? 0 : keys.findIndex((key) => key > lastBatchKey);
  const rotation = start <= 0 ? keys : [...keys.slice(start), ...keys.slice(0, start)];
  const batch: T[] = [];
  for (let round = 0; batch.length < waiting.length - interactive.length; round++) {
    for (const key of rotation) {
      const next = queues.get(key)![round];
      if (next) batch.push(next);
    }
  }
  return [...interactive, ...batch];
}

function dedupe(holders: { workflowId: string; runId: string }[]): { workflowId: string; runId: string }[] {
  const seen = new Map(holders.map((h) => [`${h.workflowId}\n${h.runId}`, h]));
  return [...seen.values()];
}

/**
 * Waits until the resolver handed to `register` is called or LEASE_POLL_MS pass. A wake in the same
 * workflow task starts and cancels the timer in one go: no timer events.
 */
async function wokenOrPollTime(register: (resolve: () => void) => void): Promise<void> {
  await CancellationScope.cancellable(async () => {
    const woken = new Promise<void>(register);
    try {
      await Promise.race([woken, sleep(LEASE_POLL_MS)]);
    } finally {
      CancellationScope.current().cancel();
    }
  });
}

/** The request fields of a held or waiting entry (what the `capacityState` query shows). */
function requestOf(entry: LeaseRequest): LeaseRequest {
  const { leaseId, holderWorkflowId, holderRunId, priority, fairnessKey } = entry;
  return {
    leaseId,
    holderWorkflowId,
    holderRunId,
    priority,
    ...(fairnessKey !== undefined && { fairnessKey }),
  };
}

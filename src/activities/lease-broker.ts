/**
 * The lease broker: one per worker process and platform. The submit activities of the process hand
 * their lease requests to it; it queues them with the capacity workflow in few `requestLeases`
 * signals and waits for all their grants with **one** `awaitLeases` update at a time. So the
 * capacity workflow sees one long poll per worker process, not one per waiting detection: Temporal
 * admits at most 10 updates in flight per workflow (`history.maxInFlightUpdates`), and a few hundred
 * detections each polling with its own update livelocked it (BENCHMARKS.md, section 3). Every request
 * still joins the capacity workflow's queue at once, so its order (interactive first, batches
 * round-robin) and its positions hold across processes.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { platformCapacityWorkflowId } from '../client/platform.ts';
import type { CompletionModel } from '../shared/completion-estimate.ts';
import {
  awaitLeasesUpdate,
  PLATFORM_CAPACITY_WORKFLOW_TYPE,
  requestLeasesSignal,
  type AwaitLeases,
  type BrokerRequests,
  LEASE_POLL_MS,
  type LeaseRequest,
  type LeasesAnswer,
  type PlatformCapacityInput,
  type PlatformCapacityWorkflow,
} from '../shared/platform-capacity.ts';
import type { PlatformCapacityDeps } from './platform-capacity.ts';

/** Requests per `requestLeases` signal (a signal's payload stays far below Temporal's 2 MiB limit). */
const REQUESTS_PER_SIGNAL = 200;
/** Failed calls in a row (signal or update) before the waiting requests are failed (their activities retry). */
const MAX_FAILURES = 30;
/** Pause after a failed call (ms). */
const RETRY_MS = 1_000;
/** Pause after a long poll answered at once with no grant (ms): a draining or confused capacity workflow is not asked in a tight loop. */
const QUIET_ANSWER_PAUSE_MS = 250;

/**
 * Thrown by `LeaseBroker.acquire` when more than `maxLeaseWaiters` requests of the process wait
 * for a grant after the capacity workflow has answered their positions: those furthest back stop
 * waiting here, their requests stay queued with the capacity workflow (their places are kept).
 * Ask again later: a retried activity gets the grant (delivered again) or the place.
 */
export class LeaseWaitersFullError extends Error {
  override readonly name = 'LeaseWaitersFullError';
  readonly leaseId: string;
  /** Requests of this process waiting at the time. */
  readonly waiting: number;
  constructor(leaseId: string, waiting: number) {
    super(
      `${waiting} requests of this worker already wait for a platform lease; ${leaseId} is queued and asked for again later`,
    );
    this.leaseId = leaseId;
    this.waiting = waiting;
  }
}

/** What a waiting request is told while it waits. */
export interface LeaseWait {
  leaseId: string;
  /** Requests granted before this one; for a request far back, at least this many. */
  ahead: number;
  estimate: CompletionModel;
}

interface Waiter {
  request: LeaseRequest;
  /** Queued with the capacity workflow (its `requestLeases` signal went through). */
  queued: boolean;
  /** The number of the first long poll sent after it was queued (its answer knows the request). */
  knownFromPoll?: number;
  resolve: (estimate: CompletionModel) => void;
  reject: (err: unknown) => void;
  onWaiting: (wait: LeaseWait) => void;
}

/**
 * One worker process's broker for one platform (see the module comment). Create it with
 * `leaseBrokerFor`; it runs only while someone waits (no timer or call when idle).
 */
export class LeaseBroker {
  /** Unique per broker: `<host>:<pid>:<8 hex>`. */
  readonly brokerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly capacityWorkflowId: string;
  private readonly waiters = new Map<string, Waiter>();
  /** Grants received and not yet acknowledged to the capacity workflow: lease id → delivery number. */
  private readonly toAck = new Map<string, number>();
  private queueing: Promise<void> | undefined;
  private polling: Promise<void> | undefined;
  /** Ask the capacity workflow which of our requests it does not know (after a quiet poll or a count that does not add up). */
  private checkNext = false;
  /** Long polls sent so far. */
  private polls = 0;
  private readonly failures = { queue: 0, poll: 0 };

  private readonly deps: PlatformCapacityDeps;

  constructor(deps: PlatformCapacityDeps) {
    this.deps = deps;
    this.capacityWorkflowId = platformCapacityWorkflowId(deps.platformUrl);
  }

  /**
   * Waits for the lease `request.leaseId`: queues it (starting the capacity workflow when it does
   * not run) and resolves with the completion-time estimate when it is granted; `onWaiting` hears
   * the request's position whenever the broker learns it. Idempotent per lease id: asking for a
   * lease already held (a retried activity) resolves with it again.
   * @throws `signal`'s reason as soon as it aborts (the request stays queued: a retry asks for the
   *   same id and keeps its place); LeaseWaitersFullError when more than `deps.maxLeaseWaiters`
   *   requests wait here and this one is among those furthest back (it stays queued); the last
   *   error after MAX_FAILURES failed calls in a row.
   */
  acquire(
    request: LeaseRequest,
    options: { signal: AbortSignal; onWaiting: (wait: LeaseWait) => void },
  ): Promise<CompletionModel> {
    options.signal.throwIfAborted();
    // A grant received for an earlier wait of this id is not acknowledged now: the request below
    // asks for it to be delivered again.
    this.toAck.delete(request.leaseId);
    return new Promise<CompletionModel>((resolve, reject) => {
      const abort = () => {
        if (this.waiters.get(request.leaseId) === waiter) this.waiters.delete(request.leaseId);
        reject(options.signal.reason as Error);
      };
      const waiter: Waiter = {
        request,
        queued: false,
        resolve: (estimate) => {
          options.signal.removeEventListener('abort', abort);
          resolve(estimate);
        },
        reject: (err) => {
          options.signal.removeEventListener('abort', abort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
        onWaiting: options.onWaiting,
      };
      // A second wait for the same id (should not happen: one activity per lease) replaces the first.
      this.waiters.get(request.leaseId)?.reject(new Error(`lease ${request.leaseId} is asked for again`));
      this.waiters.set(request.leaseId, waiter);
      options.signal.addEventListener('abort', abort, { once: true });
      this.queueSoon();
    });
  }

  /** Queues the waiters not yet queued, in signals of REQUESTS_PER_SIGNAL, one call at a time. */
  private queueSoon(): void {
    if (this.queueing) return;
    this.queueing = (async () => {
      // Requests that arrive in the same turn of the event loop go in one signal.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (;;) {
        const batch = [...this.waiters.values()].filter((w) => !w.queued).slice(0, REQUESTS_PER_SIGNAL);
        if (batch.length === 0) break;
        try {
          await this.deps.temporal.workflow.signalWithStart<PlatformCapacityWorkflow, [BrokerRequests]>(
            PLATFORM_CAPACITY_WORKFLOW_TYPE,
            {
              workflowId: this.capacityWorkflowId,
              taskQueue: this.deps.taskQueue,
              args: [this.startInput()],
              signal: requestLeasesSignal,
              signalArgs: [{ brokerId: this.brokerId, requests: batch.map((w) => w.request) }],
            },
          );
          this.failures.queue = 0;
          for (const waiter of batch) {
            waiter.queued = true;
            waiter.knownFromPoll = this.polls + 1;
          }
          this.pollSoon();
        } catch (err) {
          if (!(await this.failed(err, 'queue'))) break;
        }
      }
    })().finally(() => {
      this.queueing = undefined;
      if ([...this.waiters.values()].some((w) => !w.queued)) this.queueSoon();
    });
  }

  /** Runs the one `awaitLeases` long poll while a queued request waits or a grant is unacknowledged. */
  private pollSoon(): void {
    if (this.polling) return;
    this.polling = (async () => {
      for (;;) {
        const queued = [...this.waiters.values()].filter((w) => w.queued);
        if (queued.length === 0 && this.toAck.size === 0) break;
        const ack = [...this.toAck].map(([leaseId, deliveryNo]) => ({ leaseId, deliveryNo }));
        this.polls += 1;
        const poll = this.polls;
        const call: AwaitLeases = {
          brokerId: this.brokerId,
          ack,
          wait: queued.length > 0,
          ...(this.checkNext && { check: queued.map((w) => w.request.leaseId) }),
        };
        let answer: LeasesAnswer;
        const sentAt = Date.now();
        try {
          answer = await this.deps.temporal.workflow.executeUpdateWithStart(awaitLeasesUpdate, {
            args: [call],
            startWorkflowOperation: new WithStartWorkflowOperation<PlatformCapacityWorkflow>(
              PLATFORM_CAPACITY_WORKFLOW_TYPE,
              {
                workflowId: this.capacityWorkflowId,
                taskQueue: this.deps.taskQueue,
                args: [this.startInput()],
                workflowIdConflictPolicy: 'USE_EXISTING',
              },
            ),
          });
          this.failures.poll = 0;
        } catch (err) {
          if (!(await this.failed(err, 'poll'))) break;
          continue;
        }
        for (const { leaseId, deliveryNo } of ack) {
          if (this.toAck.get(leaseId) === deliveryNo) this.toAck.delete(leaseId);
        }
        const tookMs = Date.now() - sentAt;
        this.take(answer, call, tookMs >= 0.9 * LEASE_POLL_MS, poll);
        if (answer.granted.length === 0 && tookMs < QUIET_ANSWER_PAUSE_MS) {
          await new Promise((resolve) => setTimeout(resolve, QUIET_ANSWER_PAUSE_MS - tookMs));
        }
      }
    })().finally(() => {
      this.polling = undefined;
      if ([...this.waiters.values()].some((w) => w.queued) || this.toAck.size > 0) this.pollSoon();
    });
  }

  /** Resolves the granted waiters, tells the others their position, queues again what was lost. */
  private take(answer: LeasesAnswer, call: AwaitLeases, pollRanOut: boolean, poll: number): void {
    for (const { leaseId, deliveryNo } of answer.granted) {
      this.toAck.set(leaseId, deliveryNo);
      const waiter = this.waiters.get(leaseId);
      if (waiter) {
        this.waiters.delete(leaseId);
        waiter.resolve(answer.estimate);
      }
    }
    const positions = new Map(answer.waiting.map(({ leaseId, ahead }) => [leaseId, ahead]));
    for (const waiter of this.waiters.values()) {
      if (!waiter.queued) continue;
      const ahead = positions.get(waiter.request.leaseId) ?? answer.behind;
      if (ahead !== undefined) {
        waiter.onWaiting({ leaseId: waiter.request.leaseId, ahead, estimate: answer.estimate });
      }
    }
    // Requests the capacity workflow does not know (it was terminated and started afresh, or
    // reset) are queued again; a long poll that ended with no grant, or a count that does not add
    // up, makes the next poll ask.
    for (const leaseId of answer.unknown) {
      const waiter = this.waiters.get(leaseId);
      if (waiter) waiter.queued = false;
    }
    if (answer.unknown.length > 0) this.queueSoon();
    this.detachFurthestBack(positions, answer.behind, poll);
    const queued = [...this.waiters.values()].filter((w) => w.queued).length;
    this.checkNext = call.check === undefined && queued > 0 && (pollRanOut || answer.waitingTotal < queued);
  }

  /**
   * Above `maxLeaseWaiters` waiting requests, those furthest back in the queue stop waiting here
   * with LeaseWaitersFullError; they stay queued. Only requests this poll's answer knows waiting
   * (queued before the poll was sent, listed or beyond the listed ones) are candidates: a request
   * asked for again whose grant is on its way is never detached.
   */
  private detachFurthestBack(
    positions: ReadonlyMap<string, number>,
    behind: number | undefined,
    poll: number,
  ): void {
    const limit = this.deps.maxLeaseWaiters;
    if (limit === undefined || this.waiters.size <= limit) return;
    const place = (w: Waiter) => positions.get(w.request.leaseId) ?? behind;
    const candidates = [...this.waiters.values()]
      .filter((w) => w.queued && w.knownFromPoll !== undefined && w.knownFromPoll <= poll)
      .filter((w) => place(w) !== undefined)
      .sort((a, b) => place(b)! - place(a)!);
    const count = this.waiters.size;
    for (const waiter of candidates.slice(0, candidates.length - limit)) {
      this.waiters.delete(waiter.request.leaseId);
      waiter.reject(new LeaseWaitersFullError(waiter.request.leaseId, count));
    }
  }

  /**
   * After a failed call of one loop (queueing or polling): false once MAX_FAILURES of its calls in a
   * row failed (every waiter is failed, unacknowledged grants are dropped: their requests are asked
   * for again by the retried activities), else pauses and true.
   */
  private async failed(err: unknown, loop: 'queue' | 'poll'): Promise<boolean> {
    this.failures[loop] += 1;
    // Also an update that failed (its capacity workflow was terminated under it) is asked again.
    if (this.failures[loop] >= MAX_FAILURES) {
      this.failures[loop] = 0;
      const waiters = [...this.waiters.values()];
      this.waiters.clear();
      this.toAck.clear();
      for (const waiter of waiters) waiter.reject(err);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    return true;
  }

  private startInput(): PlatformCapacityInput {
    const { platformUrl, initialCapacity, queueMs } = this.deps;
    return { platformUrl, capacity: initialCapacity, ...(queueMs !== undefined && { queueMs }) };
  }
}

const brokers = new WeakMap<PlatformCapacityDeps, LeaseBroker>();

/**
 * The broker of a worker's platform-capacity deps (one per deps object, so one per worker and
 * platform; created on first use). Idempotent.
 */
export function leaseBrokerFor(deps: PlatformCapacityDeps): LeaseBroker {
  let broker = brokers.get(deps);
  if (!broker) {
    broker = new LeaseBroker(deps);
    brokers.set(deps, broker);
  }
  return broker;
}

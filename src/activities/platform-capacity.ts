/**
 * The activities of the platform's capacity: ask the capacity workflow for a lease (starting it on
 * first use), tell it the platform is busy (429/507), and find holders that closed without giving
 * their lease back. They reach Temporal through the worker's own connection.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CompletionObservation } from '../shared/completion-estimate.ts';
import {
  platformBusySignal,
  releaseLeaseSignal,
  type AcquireLease,
  type LeaseAnswer,
  PLATFORM_CAPACITY_WORKFLOW_TYPE,
  requestLeaseSignal,
  type PlatformCapacityWorkflow,
  type RequestedLease,
  type RequestLeaseInput,
} from '../shared/platform-capacity.ts';
import { FailureType } from '../shared/failure-types.ts';
import { platformCapacityWorkflowId } from '../client/platform.ts';
import { leaseBrokerFor } from './lease-broker.ts';

/** What the capacity activities close over: a Temporal client and where the capacity workflow runs. */
export interface PlatformCapacityDeps {
  /** A client on the worker's connection and namespace. */
  temporal: Client;
  /** The platform's base URL (DETECTOR_URL): one capacity workflow per URL. */
  platformUrl: string;
  /** Capacity the capacity workflow starts with (DETECTOR_CAPACITY); later changed with `setCapacity`. */
  initialCapacity: number;
  /** Work (ms) kept queued beyond the capacity when this worker starts it (DETECTOR_QUEUE_MS; absent: 0, the fixed allowance). */
  queueMs?: number;
  /**
   * Submit activities of this process that may wait for a lease at once (the worker: half its
   * activity slots). Beyond it, the requests furthest back stop waiting here (they stay queued) and
   * their activities are retried (LeaseWaitersFull), so waiting submits never take every slot from
   * the activities that give leases back. Absent: no limit.
   */
  maxLeaseWaiters?: number;
  /** The task queue the capacity workflow runs on when this worker starts it. */
  taskQueue: string;
}

function required(deps: { platformCapacity?: PlatformCapacityDeps | undefined }): PlatformCapacityDeps {
  if (deps.platformCapacity) return deps.platformCapacity;
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message:
      'this worker was created without a Temporal client for the platform capacity (ActivityDeps.platformCapacity)',
    nonRetryable: true,
  });
}

/**
 * Activity `requestPlatformLease`: signals `requestLease` to the platform's capacity workflow,
 * starting it (signalWithStart, with DETECTOR_CAPACITY) when it does not run. Idempotent: the
 * capacity workflow ignores a `leaseId` it already holds or queues. The grant comes later, by a
 * `leaseGranted` signal to the holder.
 * @throws ApplicationFailure InvalidInput (non-retryable) when the worker has no Temporal client for it;
 *   transport errors as they are (retried).
 */
export async function requestPlatformLease(
  deps: { platformCapacity?: PlatformCapacityDeps | undefined },
  input: RequestLeaseInput,
): Promise<RequestedLease> {
  const { temporal, platformUrl, initialCapacity, taskQueue, queueMs } = required(deps);
  const capacityWorkflowId = platformCapacityWorkflowId(platformUrl);
  await temporal.workflow.signalWithStart<PlatformCapacityWorkflow, [RequestLeaseInput]>(
    PLATFORM_CAPACITY_WORKFLOW_TYPE,
    {
      workflowId: capacityWorkflowId,
      taskQueue,
      args: [{ platformUrl, capacity: initialCapacity, ...(queueMs !== undefined && { queueMs }) }],
      signal: requestLeaseSignal,
      signalArgs: [input],
    },
  );
  return { capacityWorkflowId };
}

/**
 * Acquires a platform lease for the calling activity (the lean detection path) through the worker
 * process's lease broker (`leaseBrokerFor`, src/activities/lease-broker.ts): the request joins the
 * capacity workflow's queue at once (signal `requestLeases`, starting the capacity workflow with
 * DETECTOR_CAPACITY when it does not run) and the broker's one `awaitLeases` long poll brings the
 * grant. `onWaiting` hears the request's position while it waits (for the heartbeat). Idempotent
 * per `request.leaseId`: a retried activity gets the same lease back (or its place in the queue).
 * Not an activity: the submit activity calls it.
 * @throws the abort reason as soon as `signal` aborts (the request stays queued); the broker's last
 *   error after 30 failed calls in a row.
 */
export async function acquirePlatformLease(
  deps: PlatformCapacityDeps,
  request: AcquireLease,
  options: {
    signal: AbortSignal;
    /** Called while waiting, with the requests ahead (a lower bound far back in the queue). */
    onWaiting: (
      answer: Omit<LeaseAnswer, 'estimate'> & { estimate: LeaseAnswer['estimate'] | undefined },
    ) => void;
  },
): Promise<LeaseAnswer & { capacityWorkflowId: string }> {
  const broker = leaseBrokerFor(deps);
  const estimate = await broker.acquire(request, {
    signal: options.signal,
    onWaiting: ({ leaseId, ahead, estimate }) =>
      options.onWaiting({ leaseId, granted: false, ahead, estimate }),
  });
  return {
    leaseId: request.leaseId,
    granted: true,
    ahead: 0,
    estimate,
    capacityWorkflowId: broker.capacityWorkflowId,
  };
}

/**
 * Gives a lease back by signal (`releaseLease`), with the job's completion observation when there
 * is one (the capacity workflow learns its estimate from it). Idempotent: a lease released twice is
 * released once and its observation counted once. A capacity workflow that does not run has
 * nothing to release.
 * @throws transport errors as they are.
 */
export async function releasePlatformLease(
  temporal: Client,
  lease: { capacityWorkflowId: string; leaseId: string },
  observation?: CompletionObservation,
): Promise<void> {
  try {
    await temporal.workflow
      .getHandle(lease.capacityWorkflowId)
      .signal(releaseLeaseSignal, { leaseId: lease.leaseId, ...(observation && { observation }) });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/**
 * Tells the capacity workflow that the platform answered 429/507: no lease is granted before
 * `untilMs`. Best effort: a capacity workflow that does not run (yet) has nobody to hold back.
 * Not an activity: the submit activity calls it (see `withPlatformBusy`).
 */
export async function signalPlatformBusy(deps: PlatformCapacityDeps, untilMs: number): Promise<void> {
  try {
    await deps.temporal.workflow
      .getHandle(platformCapacityWorkflowId(deps.platformUrl))
      .signal(platformBusySignal, { untilMs });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** Back-off when the platform gave no Retry-After hint (ms). */
export const DEFAULT_BUSY_MS = 5_000;

/**
 * Wraps the submit activity: a DetectorRateLimited (429) or DetectorStorageFull (507) failure also
 * tells the capacity workflow to hold back every grant for the hinted time (the failure's
 * `nextRetryDelay`, default 5 s), so waiting jobs do not all try and fail. The failure is rethrown
 * unchanged (the activity retries after the same delay). Without capacity deps, returns `submit`.
 */
export function withPlatformBusy<A extends unknown[], R>(
  submit: (...args: A) => Promise<R>,
  deps: PlatformCapacityDeps | undefined,
): (...args: A) => Promise<R> {
  if (!deps) return submit;
  return async (...args: A) => {
    try {
      return await submit(...args);
    } catch (err) {
      if (
        err instanceof ApplicationFailure &&
        (err.type === FailureType.DetectorRateLimited || err.type === FailureType.DetectorStorageFull)
      ) {
        const delay = durationMs(err.nextRetryDelay) ?? DEFAULT_BUSY_MS;
        await signalPlatformBusy(deps, Date.now() + delay).catch(() => undefined);
      }
      throw err;
    }
  };
}

function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
    if (match) return Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 }[match[2] ?? 'ms'] ?? 1);
  }
  return undefined;
}

/** Input of `findClosedWorkflows`. */
export interface FindClosedWorkflowsInput {
  workflows: { workflowId: string; runId: string }[];
}

/**
 * Activity `findClosedWorkflows`: which of the given runs are closed (any status but Running) or
 * unknown to Temporal. Reads only; idempotent. Used by the capacity workflow to take back leases
 * of holders that closed without releasing them.
 * @throws transport errors as they are (retried).
 */
export async function findClosedWorkflows(
  deps: { platformCapacity?: PlatformCapacityDeps | undefined },
  input: FindClosedWorkflowsInput,
): Promise<{ workflowId: string; runId: string }[]> {
  const { temporal } = required(deps);
  const closed: { workflowId: string; runId: string }[] = [];
  // Few at a time: the list is bounded by capacity + allowance + the waiting queue.
  for (let i = 0; i < input.workflows.length; i += 20) {
    const chunk = input.workflows.slice(i, i + 20);
    const states = await Promise.all(
      chunk.map(async ({ workflowId, runId }) => {
        try {
          const { status } = await temporal.workflow.getHandle(workflowId, runId).describe();
          return status.name !== 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return true;
          throw err;
        }
      }),
    );
    chunk.forEach((run, j) => {
      if (states[j]) closed.push(run);
    });
  }
  return closed;
}

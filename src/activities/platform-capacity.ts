/**
 * The activities of the platform's capacity: ask the capacity workflow for a lease (starting it on
 * first use), tell it the platform is busy (429/507), and find holders that closed without giving
 * their lease back. They reach Temporal through the worker's own connection.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { CompletionObservation } from '../shared/completion-estimate.ts';
import {
  acquireLeaseUpdate,
  LEASE_QUEUED_FAILURE,
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

/** What the capacity activities close over: a Temporal client and where the capacity workflow runs. */
export interface PlatformCapacityDeps {
  /** A client on the worker's connection and namespace. */
  temporal: Client;
  /** The platform's base URL (DETECTOR_URL): one capacity workflow per URL. */
  platformUrl: string;
  /** Capacity the capacity workflow starts with (DETECTOR_CAPACITY); later changed with `setCapacity`. */
  initialCapacity: number;
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
  const { temporal, platformUrl, initialCapacity, taskQueue } = required(deps);
  const capacityWorkflowId = platformCapacityWorkflowId(platformUrl);
  await temporal.workflow.signalWithStart<PlatformCapacityWorkflow, [RequestLeaseInput]>(
    PLATFORM_CAPACITY_WORKFLOW_TYPE,
    {
      workflowId: capacityWorkflowId,
      taskQueue,
      args: [{ platformUrl, capacity: initialCapacity }],
      signal: requestLeaseSignal,
      signalArgs: [input],
    },
  );
  return { capacityWorkflowId };
}

/**
 * Acquires a platform lease for the calling activity (the lean detection path): sends the
 * `acquireLease` update with update-with-start (starting the capacity workflow with
 * DETECTOR_CAPACITY when it does not run; conflict policy USE_EXISTING), which long-polls up to
 * LEASE_POLL_MS near the front of the queue, and asks again until granted, calling `onWaiting`
 * with each `granted: false` answer (for the heartbeat). Further back, the update is rejected
 * (LEASE_QUEUED_FAILURE, no history event) and asked again after 0.25 s per request ahead (at
 * most 5 s): every ask of a queued request costs the capacity workflow a (speculative) task. Idempotent per `request.leaseId`: a retried activity gets the same lease back (or its place
 * in the queue). A failed call (the capacity workflow continuing as new, too many updates in
 * flight, a transport error) is tried again after a second, up to 30 times in a row, then thrown.
 * Not an activity: the submit activity calls it.
 * @throws the abort reason as soon as `signal` aborts (an update in flight is abandoned, not awaited:
 *   the worker's NativeConnection cannot cancel it); the last error after 30 failed calls in a row.
 */
export async function acquirePlatformLease(
  deps: PlatformCapacityDeps,
  request: AcquireLease,
  options: {
    signal: AbortSignal;
    /** Called while waiting, with the requests ahead (the estimate only on an accepted answer). */
    onWaiting: (
      answer: Omit<LeaseAnswer, 'estimate'> & { estimate: LeaseAnswer['estimate'] | undefined },
    ) => void;
  },
): Promise<LeaseAnswer & { capacityWorkflowId: string }> {
  const { temporal, platformUrl, initialCapacity, taskQueue } = deps;
  const capacityWorkflowId = platformCapacityWorkflowId(platformUrl);
  let failures = 0;
  for (;;) {
    options.signal.throwIfAborted();
    let answer: LeaseAnswer;
    try {
      // The worker's NativeConnection ignores abort signals (a gRPC client's Connection honours
      // them), and the update's result is long-polled until the capacity workflow answers: stop
      // waiting for it on abort. A grant it brings later is not lost: a retry asks for the same id.
      answer = await untilAborted(
        options.signal,
        temporal.withAbortSignal(options.signal, () =>
          temporal.workflow.executeUpdateWithStart(acquireLeaseUpdate, {
            args: [request],
            startWorkflowOperation: new WithStartWorkflowOperation<PlatformCapacityWorkflow>(
              PLATFORM_CAPACITY_WORKFLOW_TYPE,
              {
                workflowId: capacityWorkflowId,
                taskQueue,
                args: [{ platformUrl, capacity: initialCapacity }],
                workflowIdConflictPolicy: 'USE_EXISTING',
              },
            ),
          }),
        ),
      );
      failures = 0;
    } catch (err) {
      options.signal.throwIfAborted();
      const queued = queuedAhead(err);
      if (queued !== undefined) {
        failures = 0;
        options.onWaiting({ leaseId: request.leaseId, granted: false, ahead: queued, estimate: undefined });
        await abortableDelay(Math.min(5_000, 250 * Math.max(1, queued)), options.signal);
        continue;
      }
      failures += 1;
      if (failures >= 30) throw err;
      await abortableDelay(1_000, options.signal);
      continue;
    }
    if (answer.granted) return { ...answer, capacityWorkflowId };
    options.onWaiting(answer);
  }
}

/** `ahead` of an `acquireLease` update its validator rejected as queued far back, else undefined. */
function queuedAhead(err: unknown): number | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== LEASE_QUEUED_FAILURE) return undefined;
  const ahead = (cause.details?.[0] as { ahead?: unknown } | undefined)?.ahead;
  return typeof ahead === 'number' ? ahead : 0;
}

/** `work`'s outcome, or `signal`'s reason as soon as it aborts (`work` then settles unobserved). */
function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  work.catch(() => undefined); // once abandoned, its failure is nobody's concern
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    work.finally(() => signal.removeEventListener('abort', abort)).then(resolve, reject);
  });
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    function abort() {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }
    signal.addEventListener('abort', abort, { once: true });
  });
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

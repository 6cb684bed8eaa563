/**
 * Waits that must end when the worker starts shutting down. Temporal's own cancellation reaches an
 * activity only after the worker's shutdown grace time (WORKER_SHUTDOWN_GRACE_MS), which is right for
 * an upload in flight (it should finish) but wrong for an activity that only waits (for a platform
 * lease, for a platform job): it would hold the draining worker for the whole grace time while
 * another worker could carry on at once. Such waits listen to the worker's shutdown signal
 * (`ActivityDeps.shutdownSignal`, aborted by `createDetectionWorker` when shutdown begins) and
 * fail with `workerShuttingDown()`, a retryable failure Temporal hands to another worker.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.ts';

/**
 * The signal a wait should listen to: the activity's cancellation, and the worker's shutdown when
 * there is one. Pure (no I/O). @example untilShutdown(context.cancellationSignal, deps.shutdownSignal)
 */
export function untilShutdown(cancellation: AbortSignal, shutdown: AbortSignal | undefined): AbortSignal {
  return shutdown ? AbortSignal.any([cancellation, shutdown]) : cancellation;
}

/**
 * True when a wait ended because the worker is shutting down rather than because the activity was
 * cancelled (a cancellation wins: the workflow asked for it). Pure.
 */
export function endedByShutdown(cancellation: AbortSignal, shutdown: AbortSignal | undefined): boolean {
  return shutdown?.aborted === true && !cancellation.aborted;
}

/**
 * The failure of an activity whose wait the worker's shutdown ended: type `WorkerShuttingDown`,
 * retryable, so Temporal retries it (after the activity's retry interval) on a worker that runs;
 * the waits that use it are idempotent (the same lease id, the job's heartbeated progress).
 * @example throw workerShuttingDown('waiting for a platform lease')
 */
export function workerShuttingDown(what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.WorkerShuttingDown,
    message: `the worker is shutting down: stopped ${what}; another worker carries on`,
    nonRetryable: false,
  });
}

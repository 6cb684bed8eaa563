import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { AwaitedJob, AwaitJobInput, AwaitJobProgress, JobCheck } from '../shared/activity-types.ts';
import {
  DEFAULT_CHECK_PLAN,
  nextCheckAt,
  predictSeconds,
  rescheduleCheck,
  sameCompletionModel,
  type CompletionModel,
  type CompletionObservation,
} from '../shared/completion-estimate.ts';
import { checkDetectionJob } from './check-detection-job.ts';
import type { DetectorClient } from './detector/types.ts';
import type { EstimateSource, FetchedEstimate } from './estimate-source.ts';
import { releasePlatformLease } from './platform-capacity.ts';
import { endedByShutdown, untilShutdown, workerShuttingDown } from './worker-shutdown.ts';

/** Longest sleep between two heartbeats (ms): well under AWAIT_JOB's heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Activity `awaitDetectionJob`: waits for a platform job to end with as few status checks as the
 * estimate allows, and returns the terminal check with the number of checks made. It sleeps until
 * shortly before the predicted finish (the estimate for `input.audioSeconds`), checks densely
 * around it (every 0.2 s, growing slowly, for a bounded window), then backs off from
 * `polling.minInterval` to `polling.maxInterval` (schedule: `nextCheckAt` in
 * src/shared/completion-estimate.ts). Heartbeats its progress (`AwaitJobProgress`: checks so far,
 * last state, the bracket) and resumes from the last heartbeat after a retry, so a worker killed
 * mid-wait costs neither the count nor the observation.
 *
 * The estimate starts as `input.estimate` (the one of the lease's grant) and follows the platform's
 * current one: with `estimates` (the worker's shared `EstimateSource`) and `input.lease`, the
 * activity watches its capacity workflow's estimate, and when an answer with at least one learnt
 * sample differs from the estimate in use, it wakes and
 * recomputes its next check from the new prediction (`rescheduleCheck`: a young estimate only ever
 * brings the scheduled check forward), keeping the checks already made (`previous`,
 * `previousInterval`, the bracket, the count). A job started with the prior, before any job had
 * finished, thus moves its checks to the learnt finish instead of backing off past it. A failed
 * query keeps the estimate in use.
 *
 * As soon as the job is terminal it gives the lease back (`input.lease`, signal `releaseLease`),
 * with the observation `{ audioSeconds, afterSeconds, beforeSeconds }` of a `done` job, so the
 * capacity workflow learns; a retry after that releases again, which the capacity workflow ignores.
 * A `lost` job (404) is terminal here: the workflow decides to resubmit. Idempotent: reads the job,
 * and releasing is idempotent. Its sleeps end as soon as the worker starts shutting down
 * (`shutdownSignal`): it fails with the retryable `WorkerShuttingDown` and another worker resumes the
 * wait from the last heartbeat, instead of the draining worker waiting out its grace time.
 * @throws ApplicationFailure from `checkDetectionJob` for HTTP errors other than 404 (retried by
 *   Temporal, resuming from the heartbeat); WorkerShuttingDown (retryable) on the worker's shutdown;
 *   the cancellation when the workflow cancels it.
 * @example await awaitDetectionJob(deps, { job, audioSeconds: 12, acceptedAtMs, estimate, polling }) // { state: 'done', score: 1.2, checks: 2 }
 */
export async function awaitDetectionJob(
  {
    detector,
    temporal,
    estimates,
    shutdownSignal,
  }: {
    detector: DetectorClient;
    temporal?: Client | undefined;
    /** The worker's shared source of current estimates; absent: `input.estimate` throughout. */
    estimates?: EstimateSource | undefined;
    /** Aborted when the worker starts shutting down (ActivityDeps.shutdownSignal). */
    shutdownSignal?: AbortSignal | undefined;
  },
  input: AwaitJobInput,
): Promise<AwaitedJob> {
  const current = { estimate: input.estimate, changed: false, wake: undefined as (() => void) | undefined };
  // Only an answer that has learnt something: a samples-0 answer is the default prior, while the
  // input's prior may come from the detection's own polling policy. An answer fetched before the
  // job was accepted counts too: the source tells only of changes, so it may not come again.
  const adopt = (fetched: FetchedEstimate | undefined): boolean => {
    if (!fetched || fetched.model.samples === 0) return false;
    if (sameCompletionModel(fetched.model, current.estimate)) return false;
    current.estimate = fetched.model;
    current.changed = true;
    return true;
  };
  const watch =
    estimates && input.lease
      ? estimates.watch(input.lease.capacityWorkflowId, (fetched) => {
          if (adopt(fetched)) current.wake?.();
        })
      : undefined;
  adopt(watch?.latest);
  try {
    return await waitForJob({ detector, temporal, shutdownSignal }, input, current);
  } finally {
    watch?.close();
  }
}

/** The estimate in use, set when a newer one arrives; `wake` ends the current sleep early. */
interface CurrentEstimate {
  estimate: CompletionModel;
  changed: boolean;
  wake: (() => void) | undefined;
}

async function waitForJob(
  {
    detector,
    temporal,
    shutdownSignal,
  }: { detector: DetectorClient; temporal?: Client | undefined; shutdownSignal?: AbortSignal | undefined },
  input: AwaitJobInput,
  current: CurrentEstimate,
): Promise<AwaitedJob> {
  const context = Context.current();
  const { polling, acceptedAtMs, audioSeconds } = input;
  const plan = { ...DEFAULT_CHECK_PLAN, ...polling };
  const resumed = context.info.heartbeatDetails as AwaitJobProgress | undefined;
  const progress: AwaitJobProgress = resumed ?? {
    checks: 0,
    lastState: 'pending',
    previous: -1,
    previousInterval: 0,
    afterSeconds: 0,
  };
  // The check scheduled and not yet made; kept when a newer estimate arrives during the sleep.
  let pending: { at: number; interval: number } | undefined;
  for (;;) {
    const { estimate } = current;
    current.changed = false;
    const schedule = {
      predicted: predictSeconds(estimate, audioSeconds),
      spreadSeconds: estimate.spreadSeconds,
      samples: estimate.samples,
      plan,
      previous: progress.previous,
      previousInterval: progress.previousInterval,
    };
    const { at, interval } = pending ? rescheduleCheck({ ...schedule, pending }) : nextCheckAt(schedule);
    pending = { at, interval };
    progress.nextCheckAt = new Date(acceptedAtMs + at * 1000).toISOString();
    context.heartbeat(progress);
    const cancellation = context.cancellationSignal;
    const woken = await sleepUntil(
      acceptedAtMs + at * 1000,
      () => context.heartbeat(progress),
      untilShutdown(cancellation, shutdownSignal),
      (resume) => {
        current.wake = resume;
        return () => (current.wake = undefined);
      },
    ).catch((err: unknown) => {
      if (endedByShutdown(cancellation, shutdownSignal)) {
        context.heartbeat(progress);
        throw workerShuttingDown('waiting for the platform job');
      }
      throw err;
    });
    // A newer estimate: the same checks so far, the next one from the new prediction (at once
    // when that is already past).
    if (woken === 'woken' || current.changed) continue;
    pending = undefined;
    const check = await checkDetectionJob({ detector }, input.job);
    const elapsed = (Date.now() - acceptedAtMs) / 1000;
    progress.checks += 1;
    progress.lastState = check.state === 'unknown' ? check.platformState : check.state;
    if (isTerminal(check)) {
      if (input.lease && temporal) {
        const observation: CompletionObservation | undefined =
          check.state === 'done'
            ? { audioSeconds, afterSeconds: progress.afterSeconds, beforeSeconds: Math.max(elapsed, 0) }
            : undefined;
        await releasePlatformLease(temporal, input.lease, observation);
      }
      return { ...check, checks: progress.checks };
    }
    progress.afterSeconds = Math.max(0, elapsed);
    progress.previous = Math.max(at, elapsed);
    progress.previousInterval = interval;
    context.heartbeat(progress);
  }
}

function isTerminal(
  check: JobCheck,
): check is Extract<JobCheck, { state: 'done' | 'failed' | 'rejected' | 'lost' }> {
  return check.state !== 'pending' && check.state !== 'running' && check.state !== 'unknown';
}

/**
 * Sleeps until `untilMs` (epoch ms), heartbeating at least every HEARTBEAT_EVERY_MS; aborts with
 * `signal`. `onWake` is given a function that ends the sleep early and returns how to withdraw it.
 * Resolves 'due' at the time, 'woken' when woken.
 */
async function sleepUntil(
  untilMs: number,
  heartbeat: () => void,
  signal: AbortSignal,
  onWake: (resume: () => void) => () => void,
): Promise<'due' | 'woken'> {
  for (;;) {
    signal.throwIfAborted();
    const left = untilMs - Date.now();
    if (left <= 0) return 'due';
    const woken = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => settle(false), Math.min(left, HEARTBEAT_EVERY_MS));
      const withdraw = onWake(() => settle(true));
      function settle(early: boolean) {
        clearTimeout(timer);
        withdraw();
        signal.removeEventListener('abort', abort);
        resolve(early);
      }
      function abort() {
        clearTimeout(timer);
        withdraw();
        reject(signal.reason as Error);
      }
      signal.addEventListener('abort', abort, { once: true });
    });
    if (woken) return 'woken';
    if (untilMs - Date.now() > 0) heartbeat();
  }
}

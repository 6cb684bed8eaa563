import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { AwaitedJob, AwaitJobInput, AwaitJobProgress, JobCheck } from '../shared/activity-types.ts';
import {
  DEFAULT_CHECK_PLAN,
  nextCheckAt,
  predictSeconds,
  type CompletionObservation,
} from '../shared/completion-estimate.ts';
import { checkDetectionJob } from './check-detection-job.ts';
import type { DetectorClient } from './detector/types.ts';
import { releasePlatformLease } from './platform-capacity.ts';
import { endedByShutdown, untilShutdown, workerShuttingDown } from './worker-shutdown.ts';

/** Longest sleep between two heartbeats (ms): well under AWAIT_JOB's heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Activity `awaitDetectionJob`: waits for a platform job to end with as few status checks as the
 * estimate allows, and returns the terminal check with the number of checks made. It sleeps until
 * shortly before the predicted finish (`input.estimate` for `input.audioSeconds`), checks densely
 * around it (every 0.2 s, growing slowly, for a bounded window), then backs off from
 * `polling.minInterval` to `polling.maxInterval` (schedule: `nextCheckAt` in
 * src/shared/completion-estimate.ts). Heartbeats its progress (`AwaitJobProgress`: checks so far,
 * last state, the bracket) and resumes from the last heartbeat after a retry, so a worker killed
 * mid-wait costs neither the count nor the observation.
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
    shutdownSignal,
  }: {
    detector: DetectorClient;
    temporal?: Client | undefined;
    /** Aborted when the worker starts shutting down (ActivityDeps.shutdownSignal). */
    shutdownSignal?: AbortSignal | undefined;
  },
  input: AwaitJobInput,
): Promise<AwaitedJob> {
  const context = Context.current();
  const { estimate, polling, acceptedAtMs, audioSeconds } = input;
  const plan = { ...DEFAULT_CHECK_PLAN, ...polling };
  const predicted = predictSeconds(estimate, audioSeconds);
  const resumed = context.info.heartbeatDetails as AwaitJobProgress | undefined;
  const progress: AwaitJobProgress = resumed ?? {
    checks: 0,
    lastState: 'pending',
    previous: -1,
    previousInterval: 0,
    afterSeconds: 0,
  };
  for (;;) {
    const { at, interval } = nextCheckAt({
      predicted,
      spreadSeconds: estimate.spreadSeconds,
      samples: estimate.samples,
      plan,
      previous: progress.previous,
      previousInterval: progress.previousInterval,
    });
    progress.nextCheckAt = new Date(acceptedAtMs + at * 1000).toISOString();
    context.heartbeat(progress);
    const cancellation = context.cancellationSignal;
    await sleepUntil(
      acceptedAtMs + at * 1000,
      () => context.heartbeat(progress),
      untilShutdown(cancellation, shutdownSignal),
    ).catch((err: unknown) => {
      if (endedByShutdown(cancellation, shutdownSignal)) {
        context.heartbeat(progress);
        throw workerShuttingDown('waiting for the platform job');
      }
      throw err;
    });
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

/** Sleeps until `untilMs` (epoch ms), heartbeating at least every HEARTBEAT_EVERY_MS; aborts with `signal`. */
async function sleepUntil(untilMs: number, heartbeat: () => void, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const left = untilMs - Date.now();
    if (left <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, Math.min(left, HEARTBEAT_EVERY_MS));
      function done() {
        signal.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(signal.reason as Error);
      }
      signal.addEventListener('abort', abort, { once: true });
    });
    if (untilMs - Date.now() > 0) heartbeat();
  }
}

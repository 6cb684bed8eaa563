import { Context } from '@temporalio/activity';
import type { JobCheck, SubmittedJob } from '../shared/activity-types.ts';
import { DetectorHttpError, type DetectorClient } from './detector/index.ts';
import { oneLine } from './detector/wire.ts';
import { toDetectorFailure } from './detector-failures.ts';
import { recordJobFinished } from './metrics.ts';

const SETTLED_STATES = new Set(['pending', 'running']);

/**
 * Activity `checkDetectionJob`: asks the platform once where a job stands. A 404 is an outcome, not an error: the job was lost
 * (expired, or the appliance restarted) and the workflow decides to resubmit. Unknown states come
 * back as `unknown` so a newer appliance's extra states never fail a detection. Idempotent
 * (a terminal answer also counts `rdd_platform_jobs_finished_total`, once per check that saw it).
 * Registered bound to its deps by `createActivities`; call it directly only under
 * `MockActivityEnvironment` (it reads the activity context for cancellation and logging).
 * @throws ApplicationFailure for other HTTP errors, classified by toDetectorFailure.
 * @example await new MockActivityEnvironment().run(checkDetectionJob, { detector }, job) // { state: 'running' }
 */
export async function checkDetectionJob(
  { detector }: { detector: DetectorClient },
  job: SubmittedJob,
): Promise<JobCheck> {
  const { cancellationSignal: signal, log } = Context.current();
  try {
    const status = await detector.getJob(job.statusUrl, { signal });
    if (status.state === 'done') {
      recordJobFinished('done');
      return { state: 'done', score: status.score ?? null };
    }
    if (status.state === 'failed' || status.state === 'rejected') {
      recordJobFinished(status.state);
      return {
        state: status.state,
        errorType: status.error?.type ?? 'unknown',
        message: status.error?.message ?? `the platform reported ${status.state} without a message`,
      };
    }
    if (SETTLED_STATES.has(status.state)) return { state: status.state as 'pending' | 'running' };
    // The state is the platform's text: bounded and single-line before it reaches a log or history.
    const platformState = oneLine(status.state, 100);
    log.warn('unknown detection job state; treating it as still running', { state: platformState });
    return { state: 'unknown', platformState };
  } catch (err) {
    if (err instanceof DetectorHttpError && err.status === 404) {
      recordJobFinished('lost');
      return { state: 'lost' };
    }
    throw toDetectorFailure(err);
  }
}

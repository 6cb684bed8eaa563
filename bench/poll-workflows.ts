/**
 * Workflows of the `polling` bench section (bench/polling.ts), bundled only by it: the real ones
 * (so the in-process worker is the production worker) plus two that wait for one already-submitted
 * platform job in the two ways issue 11 asks to compare, on the same check schedule (`nextCheckAt`
 * from the same estimate and plan):
 *
 * - `benchActivityPollWorkflow`: the kept design, the heartbeating `awaitDetectionJob` activity
 *   (the checks are HTTP calls inside one activity; the workflow sees one scheduled/started/completed).
 * - `benchTimerPollWorkflow`: a durable workflow timer per check, then one `checkDetectionJob`
 *   activity (the pre-issue-11 pattern, with the learned schedule instead of the fixed formula).
 *
 * Both return the number of checks. Not registered by `rdd worker`.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../src/activities/index.ts';
import type { AwaitJobInput, JobCheck } from '../src/shared/activity-types.ts';
import { DEFAULT_CHECK_PLAN, nextCheckAt, predictSeconds } from '../src/shared/completion-estimate.ts';
import { DETECTOR_AWAIT, DETECTOR_CHECK } from '../src/workflows/activity-options.ts';

export * from '../src/workflows/index.ts';

const { awaitDetectionJob } = proxyActivities<Activities>(DETECTOR_AWAIT);
const { checkDetectionJob } = proxyActivities<Activities>(DETECTOR_CHECK);

/** Waits for `input.job` with the heartbeating activity; returns the checks it made. */
export async function benchActivityPollWorkflow(input: AwaitJobInput): Promise<number> {
  return (await awaitDetectionJob(input)).checks;
}

/** Waits for `input.job` with a workflow timer before each `checkDetectionJob`; returns the checks. */
export async function benchTimerPollWorkflow(input: AwaitJobInput): Promise<number> {
  const plan = { ...DEFAULT_CHECK_PLAN, ...input.polling };
  const predicted = predictSeconds(input.estimate, input.audioSeconds);
  let previous = -1;
  let previousInterval = 0;
  for (let checks = 1; ; checks++) {
    const { at, interval } = nextCheckAt({
      predicted,
      spreadSeconds: input.estimate.spreadSeconds,
      samples: input.estimate.samples,
      plan,
      previous,
      previousInterval,
    });
    const wait = input.acceptedAtMs + at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const check: JobCheck = await checkDetectionJob(input.job);
    if (check.state !== 'pending' && check.state !== 'running' && check.state !== 'unknown') return checks;
    previous = Math.max(at, (Date.now() - input.acceptedAtMs) / 1000);
    previousInterval = interval;
  }
}

import {
  ApplicationFailure,
  continueAsNew,
  log,
  proxyActivities,
  workflowInfo,
  setCurrentDetails,
  setWorkflowOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { eventRuleProblems } from '../shared/event-rules.ts';
import { FailureType } from '../shared/failure-types.ts';
import { bucketNameProblems } from '../shared/s3-names.ts';
import { SWEEP_DEFAULTS, type SweepCounts, type SweepInput, type SweepSummary } from '../shared/sweep.ts';
import { sweepCurrentDetails } from '../shared/ui-text.ts';
import { BATCH_STORAGE } from './activity-options.ts';
import { versioningBehavior } from './versioning-behavior.ts';

const { listSweepPage } = proxyActivities<Activities>(BATCH_STORAGE);

const ZERO: SweepCounts = { listed: 0, ignored: 0, scored: 0, existing: 0, started: 0, invalid: 0 };

// A sweep pages through a bucket and continues as new: under Worker Versioning, AUTO_UPGRADE
// moves it to the current deployment version at its next workflow task, so old workers can be
// stopped without waiting for it (a change to its code needs `patched()`). README "Safe upgrades".
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), sweepWorkflow);

/**
 * The sweep for lost S3 events, usually started by a Temporal Schedule (`ensureSweepSchedule`):
 * lists `s3://bucket/prefix` in bounded pages (`listSweepPage`) and starts the detection of every
 * object a rule matches that has neither a result document nor a workflow yet, under the same id
 * the event path uses, so an event arriving late and the sweep never both start one. Continues as
 * new every `continueAsNewEvery` pages (or when Temporal suggests it), carrying the cursor and the
 * counts. Returns the totals. Its current details in the Temporal UI count pages, objects and starts.
 * @throws ApplicationFailure InvalidInput (non-retryable) for unusable rules, bucket or page size.
 */
export async function sweepWorkflow(input: SweepInput): Promise<SweepSummary> {
  const problems = [
    ...bucketNameProblems(input.bucket),
    ...eventRuleProblems(input.rules),
    ...(input.pageSize !== undefined &&
    !(Number.isInteger(input.pageSize) && input.pageSize >= 1 && input.pageSize <= 1000)
      ? ['pageSize must be an integer from 1 to 1000']
      : []),
  ];
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: problems.join('; '),
      nonRetryable: true,
    });
  }
  const pageSize = input.pageSize ?? SWEEP_DEFAULTS.pageSize;
  const every = Math.max(1, input.continueAsNewEvery ?? SWEEP_DEFAULTS.continueAsNewEvery);
  let cursor: string | null = input.state?.cursor ?? null;
  const counts: SweepCounts = { ...ZERO, ...input.state?.counts };
  let pages = input.state?.pages ?? 0;
  for (let thisRun = 0; ;) {
    const page = await listSweepPage({
      bucket: input.bucket,
      prefix: input.prefix,
      rules: input.rules,
      cursor,
      pageSize,
    });
    pages += 1;
    thisRun += 1;
    for (const name of Object.keys(counts) as (keyof SweepCounts)[]) counts[name] += page.counts[name];
    // The UI's current details: no command, so histories replay unchanged.
    setCurrentDetails(sweepCurrentDetails(pages, counts));
    if (page.startedIds.length > 0)
      log.info('sweep started detections for lost events', { ids: page.startedIds });
    cursor = page.nextCursor;
    if (cursor === null) return { counts, pages };
    if (thisRun >= every || workflowInfo().continueAsNewSuggested) {
      return await continueAsNew<typeof sweepWorkflow>({ ...input, state: { cursor, counts, pages } });
    }
  }
}

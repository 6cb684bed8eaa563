import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FindPreviousScheduleRunInput, PreviousScheduleRun } from '../shared/batch.ts';
import { FailureType } from '../shared/failure-types.ts';

/**
 * Activity `findPreviousScheduleRun`: the scheduled time of the latest action of a schedule before
 * the given one, from the schedule's own record of its recent actions (`info.recentActions`, kept
 * by the schedule, not subject to workflow retention). Every action counts — cron, interval,
 * `trigger` and `backfill` — so runs skipped by the overlap policy or the catch-up window, or
 * missed while paused, fall into the next run's window instead of being lost. `null` when the
 * schedule took no earlier action (its first run) or the earlier one is no longer among the recent
 * actions (the server keeps the last 10; a backfill of an old time behind 10 newer runs): the run
 * then takes everything modified before its own time. Reads only; idempotent.
 * @throws ApplicationFailure InvalidInput (non-retryable) when the worker has no Temporal client or
 *   the schedule was deleted.
 * @example await findPreviousScheduleRun(deps, { scheduleId: 'batch-schedule-nightly', scheduledAt, workflowId })
 */
export async function findPreviousScheduleRun(
  deps: { platformCapacity?: { temporal: Client } | undefined },
  input: FindPreviousScheduleRunInput,
): Promise<PreviousScheduleRun> {
  const temporal = deps.platformCapacity?.temporal;
  if (!temporal) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'this worker was created without a Temporal client (ActivityDeps.platformCapacity)',
      nonRetryable: true,
    });
  }
  let description;
  try {
    description = await temporal.schedule.getHandle(input.scheduleId).describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `schedule ${input.scheduleId} no longer exists, so the previous run cannot be known`,
      nonRetryable: true,
    });
  }
  const mine = Date.parse(input.scheduledAt);
  let latest: number | null = null;
  for (const action of description.info.recentActions) {
    if (action.action.workflow.workflowId === input.workflowId) continue;
    const at = action.scheduledAt.getTime();
    if (at < mine && (latest === null || at > latest)) latest = at;
  }
  return { scheduledAt: latest === null ? null : new Date(latest).toISOString() };
}

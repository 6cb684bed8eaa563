/**
 * The sweep for lost S3 events as a Temporal Schedule: every `every` (e.g. `15m`) the schedule
 * starts `sweepWorkflow` over a prefix with the event rules, which starts the detection of every
 * matching object that has neither a result nor a workflow yet (see list-sweep-page.ts).
 *
 * Policies: overlap `SKIP` (a sweep still listing when the next is due makes that one redundant),
 * catch-up window 1 hour (after an outage one sweep runs; older misses are skipped since a single
 * sweep covers them all). The schedule id is `sweep-<name>`; each run is `sweep-<name>-<time>`.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import { eventRuleProblems, type EventRule } from '../shared/event-rules.ts';
import { bucketNameProblems } from '../shared/s3-names.ts';
import { SWEEP_WORKFLOW_TYPE, type SweepInput } from '../shared/sweep.ts';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues.ts';
import { sweepSummary } from '../shared/ui-text.ts';
import { cronProblems } from './cron-problems.ts';
import { canonicalJson } from './detections.ts';
import { isTemporalUnreachable } from './connection.ts';
import { TemporalUnreachableError } from './temporal-unreachable-error.ts';
import { InvalidScheduleError } from './schedules.ts';

/** The policies every sweep schedule is created with. */
export const SWEEP_SCHEDULE_POLICIES = {
  overlap: ScheduleOverlapPolicy.SKIP,
  catchupWindow: '1 hour',
  pauseOnFailure: false,
} as const;

const EVERY = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Options of `ensureSweepSchedule`. */
export interface SweepScheduleOptions {
  /** Default `default`; 1–100 of `A-Z a-z 0-9 . _ -`. */
  name?: string;
  bucket: string;
  prefix: string;
  rules: EventRule[];
  /** Interval like `15m`, `1h`, `1d`; at least 1 minute. Exactly one of `every` and `cron`. */
  every?: string;
  /** A 5-field cron expression (UTC), e.g. `*\/15 * * * *`; instead of `every`. */
  cron?: string;
  /** Default `rdd-detection`; the queue the worker polls. */
  taskQueue?: string;
  /** Objects per listed page; default SWEEP_DEFAULTS.pageSize. */
  pageSize?: number;
}

/**
 * The schedule id of a sweep name: `sweep-<name>`. Pure.
 * @throws InvalidScheduleError for a name that is not 1–100 of `A-Z a-z 0-9 . _ -`.
 * @example sweepScheduleId('calls') // 'sweep-calls'
 */
export function sweepScheduleId(name = 'default'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new InvalidScheduleError(`sweep name ${JSON.stringify(name)} must be 1–100 of A-Z a-z 0-9 . _ -`);
  return `sweep-${name}`;
}

/**
 * Creates the sweep schedule, or brings the existing one in line: the same definition again
 * changes nothing (`created: false, updated: false`); a different bucket, prefix, rules, interval
 * or queue under the same name updates it in place (`updated: true`), keeping its history and
 * pause state. Idempotent.
 * @throws InvalidScheduleError for a bad name, bucket, interval or rules (nothing is created).
 * @throws TemporalUnreachableError when Temporal does not answer (calling again is safe).
 * @example await ensureSweepSchedule(client, { bucket: 'media', prefix: 'calls/', rules, every: '15m' })
 */
export async function ensureSweepSchedule(
  client: Client,
  options: SweepScheduleOptions,
): Promise<{ scheduleId: string; created: boolean; updated: boolean }> {
  const scheduleId = sweepScheduleId(options.name);
  const cron = options.cron?.trim();
  const match = options.every === undefined ? null : EVERY.exec(options.every.trim());
  const problems = [
    ...bucketNameProblems(options.bucket),
    ...eventRuleProblems(options.rules),
    ...((cron === undefined) === (options.every === undefined) ? ['give exactly one of every and cron'] : []),
    ...(options.every === undefined || match
      ? []
      : [`every ${JSON.stringify(options.every)} must be like 15m, 1h or 1d`]),
    ...(cron === undefined ? [] : cronProblems(cron)),
  ];
  if (problems.length > 0) throw new InvalidScheduleError(problems.join('; '));
  const everyMs = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
  if (everyMs !== undefined && everyMs < 60_000)
    throw new InvalidScheduleError(`every ${options.every} is shorter than 1 minute`);
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const input: SweepInput = {
    bucket: options.bucket,
    prefix: options.prefix,
    rules: options.rules,
    ...(options.pageSize !== undefined && { pageSize: options.pageSize }),
  };
  const hash = createHash('sha256').update(canonicalJson({ input, everyMs, cron, taskQueue })).digest('hex');
  const spec = everyMs !== undefined ? { intervals: [{ every: everyMs }] } : { cronExpressions: [cron!] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: SWEEP_WORKFLOW_TYPE,
    workflowId: scheduleId,
    taskQueue,
    args: [input],
    staticSummary: sweepSummary(
      input,
      everyMs !== undefined ? `every ${options.every!.trim()}` : `cron "${cron}"`,
    ),
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { ...SWEEP_SCHEDULE_POLICIES },
    });
    return { scheduleId, created: true, updated: false };
  } catch (err) {
    if (isTemporalUnreachable(err)) throw new TemporalUnreachableError('Temporal', err);
    // The SDK turns the server's "Invalid schedule spec" into a TypeError.
    if (err instanceof TypeError)
      throw new InvalidScheduleError(`cron "${cron}": ${err.message}`, { cause: err });
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const description = await handle.describe();
    // Compared with the live definition, not the memo (an update cannot change the memo).
    const live = description.action.type === 'startWorkflow' ? description.action : undefined;
    const liveHash = createHash('sha256')
      .update(
        canonicalJson({
          input: live?.args?.[0] as unknown,
          everyMs: description.spec.intervals?.[0]?.every,
          // Temporal describes a cron spec as calendars, not the string: a cron sweep is
          // rewritten on every ensure (same effect, `updated: true`).
          cron: undefined,
          taskQueue: live?.taskQueue,
        }),
      )
      .digest('hex');
    if (liveHash === hash) return { scheduleId, created: false, updated: false };
    await handle.update((previous) => ({
      ...previous,
      spec,
      action,
      policies: { ...previous.policies, ...SWEEP_SCHEDULE_POLICIES },
    }));
    return { scheduleId, created: false, updated: true };
  } catch (err) {
    if (isTemporalUnreachable(err)) throw new TemporalUnreachableError('Temporal', err);
    if (err instanceof TypeError)
      throw new InvalidScheduleError(`cron "${cron}": ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Deletes a sweep schedule; a running sweep finishes. Idempotent: a missing one is not an error,
 * and answers `false` (true when this call deleted it).
 * @throws TemporalUnreachableError when Temporal does not answer.
 * @example if (!(await deleteSweepSchedule(client, 'calls'))) console.log('no such sweep')
 */
export async function deleteSweepSchedule(client: Client, name = 'default'): Promise<boolean> {
  try {
    await client.schedule.getHandle(sweepScheduleId(name)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    if (isTemporalUnreachable(err)) throw new TemporalUnreachableError('Temporal', err);
    throw err;
  }
}

/**
 * Starts a sweep now, outside its spec (`rdd sweep trigger`); the overlap policy applies (SKIP: a
 * sweep already running makes this one a no-op).
 * @throws InvalidScheduleError for a bad name; ScheduleNotFoundError when there is no such sweep;
 *   TemporalUnreachableError when Temporal does not answer.
 * @example await triggerSweepSchedule(client, 'calls')
 */
export async function triggerSweepSchedule(client: Client, name = 'default'): Promise<void> {
  try {
    await client.schedule.getHandle(sweepScheduleId(name)).trigger();
  } catch (err) {
    if (isTemporalUnreachable(err)) throw new TemporalUnreachableError('Temporal', err);
    throw err;
  }
}

/**
 * Scheduled batches: Temporal Schedules whose action starts `batchWorkflow` with a fixed input
 * (a reference against a prefix, or a manifest), on a cron expression or an interval. Managed by
 * name; the schedule id is `batch-schedule-<name>` and each run is the batch
 * `batch-schedule-<name>-<scheduled time, RFC 3339>`, with its reports under `batches/<that id>/`.
 *
 * Policies (shown by `describeBatchSchedule`):
 * - overlap `BUFFER_ONE`: a run due while the previous batch still runs starts when that one ends;
 *   more due runs meanwhile are dropped (their objects fall into the next `sinceScheduleRun`
 *   window, so nothing is lost). Batches of one schedule never run side by side.
 * - catch-up window 1 hour: after a Temporal outage, a run missed by less than an hour still
 *   starts; older misses are skipped (use `backfillBatchSchedule` for them).
 * - backfills use `BUFFER_ALL`: every time in the window gets its batch, one after another.
 *
 * Creating is idempotent: the same name, spec, input and task queue again returns the existing
 * schedule (`existing: true`); a different definition under a taken name is refused
 * (`BatchScheduleConflictError`), never silently changed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import { BATCH_WORKFLOW_TYPE, type BatchInput } from '../shared/batch.ts';
import { BatchId } from '../shared/search-attributes.ts';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues.ts';
import { batchSummary } from '../shared/ui-text.ts';
import { BatchScheduleConflictError } from './batch-schedule-conflict-error.ts';
import { BatchScheduleNotFoundError } from './batch-schedule-not-found-error.ts';
import { canonicalJson } from './detections.ts';
import { reachable } from './reachable.ts';
import { searchAttributesRegistered } from './search-attributes-registered.ts';

/** The id prefix of every batch schedule. */
export const BATCH_SCHEDULE_PREFIX = 'batch-schedule-';

/** The policies every batch schedule is created with. */
export const BATCH_SCHEDULE_POLICIES = {
  overlap: ScheduleOverlapPolicy.BUFFER_ONE,
  catchupWindow: '1 hour',
  /** A failed batch (bad input) does not stop the schedule; the next run tries again. */
  pauseOnFailure: false,
} as const;

const Memo = { RequestHash: 'rddScheduleHash', Spec: 'rddScheduleSpec' } as const;

/**
 * When a schedule runs: a cron expression (5 fields, minute first; `timezone` an IANA name,
 * default UTC) or an interval (`every` like `15m`, `24h`, `7d`; runs at multiples of it since the
 * Unix epoch, shifted by `offset`).
 */
export type BatchScheduleSpec = { cron: string; timezone?: string } | { every: string; offset?: string };

/** The batch a schedule starts: a batch input without the workflow's own `state`. */
export type BatchScheduleInput = BatchInput extends infer T
  ? T extends unknown
    ? Omit<T, 'state'>
    : never
  : never;

/** Options of `createBatchSchedule`. */
export interface CreateBatchScheduleOptions {
  /** 1–100 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
  name: string;
  spec: BatchScheduleSpec;
  input: BatchScheduleInput;
  /** Default `rdd-detection`; the queue the worker polls. */
  taskQueue?: string;
  /** Create it paused. */
  paused?: boolean;
  /** The note shown by describe. */
  note?: string;
}

/** One action of a schedule: a batch it started. */
export interface BatchScheduleRun {
  /** ISO time the spec (or a trigger/backfill) scheduled it for. */
  scheduledAt: string;
  /** ISO time the schedule started it. */
  startedAt: string;
  /** The batch (workflow id); `getBatch` reads it. */
  batchId: string;
}

/** A batch schedule as `describeBatchSchedule` sees it. */
export interface BatchScheduleView {
  name: string;
  scheduleId: string;
  /** The spec it was created with. */
  spec: BatchScheduleSpec;
  /** The spec in words, e.g. `cron "0 2 * * *" (UTC)` or `every 24h`. */
  specText: string;
  overlap: string;
  /** The catch-up window in ms, as the server holds it. */
  catchupWindowMs: number;
  paused: boolean;
  note?: string;
  taskQueue: string;
  input: BatchScheduleInput;
  /** The next (up to 10) scheduled times, ISO. */
  nextRuns: string[];
  /** The latest (up to 10) batches it started, oldest first. */
  recentRuns: BatchScheduleRun[];
  /** Batch ids of its runs still running. */
  running: string[];
  createdAt: string;
  actionsTaken: number;
  missedCatchupWindow: number;
  skippedOverlap: number;
}

/** One line of `listBatchSchedules`. */
export interface BatchScheduleSummary {
  name: string;
  scheduleId: string;
  specText: string;
  paused: boolean;
  /** ISO; absent when paused or nothing is due. */
  nextRun?: string;
  lastRun?: BatchScheduleRun;
}

/**
 * The schedule id of a name: `batch-schedule-<name>`. Pure.
 * @throws InvalidScheduleError when the name is not 1–100 of `A-Z a-z 0-9 . _ -` starting with a letter or digit.
 * @example batchScheduleId('nightly') // 'batch-schedule-nightly'
 */
export function batchScheduleId(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new InvalidScheduleError(
      `schedule name ${JSON.stringify(name)} must be 1–100 of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
  return `${BATCH_SCHEDULE_PREFIX}${name}`;
}

/**
 * A schedule definition that cannot work (name, spec, or a `sinceScheduleRun` without a prefix).
 * Nothing was created.
 * @example if (err instanceof InvalidScheduleError) console.error(err.message)
 */
export class InvalidScheduleError extends Error {
  override name = 'InvalidScheduleError';
}

const EVERY = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Everything wrong with a spec (empty when usable). `every`/`offset` are `<n>s|m|h|d`, `every` at
 * least 1 minute; `cron` has 5 fields or is a `@daily`-style macro. Pure.
 * @example batchScheduleSpecProblems({ every: '24h' }) // []
 */
export function batchScheduleSpecProblems(spec: BatchScheduleSpec): string[] {
  if ('cron' in spec) {
    const fields = spec.cron.trim().split(/\s+/);
    if (!(fields.length === 5 || /^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(spec.cron.trim())))
      return [`cron ${JSON.stringify(spec.cron)} must have 5 fields (minute hour day month weekday)`];
    return [];
  }
  const problems: string[] = [];
  const every = durationMs(spec.every);
  if (every === undefined) problems.push(`every ${JSON.stringify(spec.every)} must be like 15m, 24h or 7d`);
  else if (every < 60_000) problems.push(`every ${spec.every} is shorter than 1 minute`);
  if (spec.offset !== undefined) {
    const offset = durationMs(spec.offset);
    if (offset === undefined) problems.push(`offset ${JSON.stringify(spec.offset)} must be like 30m or 2h`);
    else if (every !== undefined && offset >= every)
      problems.push(`offset ${spec.offset} must be below every`);
  }
  return problems;
}

function durationMs(text: string): number | undefined {
  const match = EVERY.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

function specText(spec: BatchScheduleSpec): string {
  if ('cron' in spec) return `cron "${spec.cron}" (${spec.timezone ?? 'UTC'})`;
  return `every ${spec.every}${spec.offset === undefined ? '' : ` offset ${spec.offset}`}`;
}

function temporalSpec(spec: BatchScheduleSpec): ScheduleSpec {
  if ('cron' in spec)
    return { cronExpressions: [spec.cron.trim()], ...(spec.timezone && { timezone: spec.timezone }) };
  return {
    intervals: [
      {
        every: durationMs(spec.every)!,
        ...(spec.offset !== undefined && { offset: durationMs(spec.offset)! }),
      },
    ],
  };
}

/**
 * Creates a batch schedule, or finds the same one already there (`existing: true`).
 * @throws InvalidScheduleError for a bad name or spec, or an input with both a manifest and a prefix.
 * @throws BatchScheduleConflictError when the name is taken by a different definition.
 * @throws TemporalUnreachableError when Temporal does not answer (calling again is safe).
 * @example await createBatchSchedule(client, { name: 'nightly', spec: { cron: '0 2 * * *' }, input })
 */
export async function createBatchSchedule(
  client: Client,
  options: CreateBatchScheduleOptions,
): Promise<{ scheduleId: string; existing: boolean }> {
  const scheduleId = batchScheduleId(options.name);
  const problems = batchScheduleSpecProblems(options.spec);
  if ('manifest' in options.input && (options.input as { prefix?: unknown }).prefix !== undefined)
    problems.push('give a manifest or a prefix, not both');
  if (problems.length > 0) throw new InvalidScheduleError(problems.join('; '));
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const hash = createHash('sha256')
    .update(canonicalJson({ spec: options.spec, input: options.input, taskQueue }))
    .digest('hex');
  return await reachable(client, async () => {
    try {
      await client.schedule.create({
        scheduleId,
        spec: temporalSpec(options.spec),
        action: {
          type: 'startWorkflow',
          workflowType: BATCH_WORKFLOW_TYPE,
          // The server appends `-<scheduled time>` to make each run's id.
          workflowId: scheduleId,
          taskQueue,
          args: [options.input as BatchInput],
          staticSummary: `batch of schedule ${options.name} (${specText(options.spec)}) · ${batchSummary(scheduleId, options.input).replace(/^batch \S+ · /, '')}`,
          // Each run's id is only known when it starts: the batch replaces this with its own id
          // (and takes the attribute's presence as "registered" before setting it on its pairs).
          ...((await searchAttributesRegistered(client)) && {
            typedSearchAttributes: [{ key: BatchId, value: scheduleId }],
          }),
        },
        policies: { ...BATCH_SCHEDULE_POLICIES },
        memo: { [Memo.RequestHash]: hash, [Memo.Spec]: options.spec },
        state: {
          ...(options.paused && { paused: true }),
          ...(options.note !== undefined && { note: options.note }),
        },
      });
      return { scheduleId, existing: false };
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
    const description = await describeRaw(client, scheduleId);
    if (description.memo?.[Memo.RequestHash] !== hash) throw new BatchScheduleConflictError(scheduleId);
    return { scheduleId, existing: true };
  });
}

/**
 * Reads a batch schedule: its spec, policies (overlap, catch-up window), state, next times and
 * the batches it started. Reads only.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example (await describeBatchSchedule(client, 'nightly')).overlap // 'BUFFER_ONE'
 */
export async function describeBatchSchedule(client: Client, name: string): Promise<BatchScheduleView> {
  const scheduleId = batchScheduleId(name);
  const d = await reachable(client, () => describeRaw(client, scheduleId));
  const spec = (d.memo?.[Memo.Spec] as BatchScheduleSpec | undefined) ?? { cron: '?' };
  return {
    name,
    scheduleId,
    spec,
    specText: specText(spec),
    overlap: d.policies.overlap ?? 'SKIP',
    catchupWindowMs: d.policies.catchupWindow,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    taskQueue: d.action.taskQueue,
    input: (d.action.args?.[0] ?? {}) as BatchScheduleInput,
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map(runOf),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    createdAt: d.info.createdAt.toISOString(),
    actionsTaken: d.info.numActionsTaken,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    skippedOverlap: d.info.numActionsSkippedOverlap,
  };
}

function runOf(action: ScheduleDescription['info']['recentActions'][number]): BatchScheduleRun {
  return {
    scheduledAt: action.scheduledAt.toISOString(),
    startedAt: action.takenAt.toISOString(),
    batchId: action.action.workflow.workflowId,
  };
}

/**
 * Every batch schedule (ids starting `batch-schedule-`), sorted by name. From Temporal's
 * visibility store, so a schedule created or deleted a moment ago may not show yet. Reads only.
 * @throws TemporalUnreachableError.
 * @example (await listBatchSchedules(client)).map((s) => s.name)
 */
export async function listBatchSchedules(client: Client): Promise<BatchScheduleSummary[]> {
  return await reachable(client, async () => {
    const out: BatchScheduleSummary[] = [];
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith(BATCH_SCHEDULE_PREFIX)) continue;
      const spec = s.memo?.[Memo.Spec] as BatchScheduleSpec | undefined;
      const last = s.info.recentActions.at(-1);
      const next = s.info.nextActionTimes[0];
      out.push({
        name: s.scheduleId.slice(BATCH_SCHEDULE_PREFIX.length),
        scheduleId: s.scheduleId,
        specText: spec ? specText(spec) : '?',
        paused: s.state.paused,
        ...(next && !s.state.paused && { nextRun: next.toISOString() }),
        ...(last && { lastRun: runOf(last) }),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  });
}

/**
 * Pauses a schedule: no run starts until `unpauseBatchSchedule` (runs missed meanwhile are not
 * caught up; a `sinceScheduleRun` batch's next window still covers them). A running batch goes on.
 * Idempotent. @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 */
export async function pauseBatchSchedule(
  client: Client,
  name: string,
  note = 'paused by rdd',
): Promise<void> {
  await onHandle(client, name, (h) => h.pause(note));
}

/**
 * Unpauses a schedule. Idempotent. @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 */
export async function unpauseBatchSchedule(
  client: Client,
  name: string,
  note = 'unpaused by rdd',
): Promise<void> {
  await onHandle(client, name, (h) => h.unpause(note));
}

/**
 * Starts a run now (overlap `BUFFER_ONE`: after the running batch, if one runs; dropped when one is
 * already waiting) and waits up to `waitMs` (default 5000) for it to start. Not idempotent: every
 * call is a run. Returns the batch, or `null` when it did not start within `waitMs` (buffered).
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example const { batchId } = await triggerBatchSchedule(client, 'nightly')
 */
export async function triggerBatchSchedule(
  client: Client,
  name: string,
  { waitMs = 5000 }: { waitMs?: number } = {},
): Promise<{ run: BatchScheduleRun | null }> {
  const scheduleId = batchScheduleId(name);
  return await reachable(client, async () => {
    const before = await describeRaw(client, scheduleId);
    const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
    const since = Date.now();
    await onHandle(client, name, (h) => h.trigger(ScheduleOverlapPolicy.BUFFER_ONE));
    for (;;) {
      const now = await describeRaw(client, scheduleId);
      const fresh = now.info.recentActions.find(
        (a) => !seen.has(a.action.workflow.workflowId) && a.scheduledAt.getTime() >= since - 1000,
      );
      if (fresh) return { run: runOf(fresh) };
      if (Date.now() - since >= waitMs) return { run: null };
      await sleep(200);
    }
  });
}

/**
 * Runs the schedule for every time its spec gives in `[from, to]`, as if it had been running then,
 * one batch after another (overlap `BUFFER_ALL`). Each run's id and `sinceScheduleRun` window are
 * those of its scheduled time. Not idempotent: backfilling a window twice runs it twice (the
 * second time under the same batch ids, whose pairs come back as duplicates).
 * @throws InvalidScheduleError when `from` is not before `to`.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example await backfillBatchSchedule(client, 'nightly', { from: new Date('2025-01-01'), to: new Date('2025-01-08') })
 */
export async function backfillBatchSchedule(
  client: Client,
  name: string,
  window: { from: Date; to: Date },
): Promise<void> {
  if (!(window.from.getTime() < window.to.getTime()))
    throw new InvalidScheduleError('backfill needs --from before --to');
  await onHandle(client, name, (h) =>
    h.backfill({ start: window.from, end: window.to, overlap: ScheduleOverlapPolicy.BUFFER_ALL }),
  );
}

/**
 * Deletes a schedule. Batches it started go on. Not idempotent: a second delete throws.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 */
export async function deleteBatchSchedule(client: Client, name: string): Promise<void> {
  await onHandle(client, name, (h) => h.delete());
}

type Handle = ReturnType<Client['schedule']['getHandle']>;

async function onHandle(client: Client, name: string, fn: (handle: Handle) => Promise<void>): Promise<void> {
  const scheduleId = batchScheduleId(name);
  await reachable(client, async () => {
    try {
      await fn(client.schedule.getHandle(scheduleId));
    } catch (err) {
      if (err instanceof ScheduleNotFoundError)
        throw new BatchScheduleNotFoundError(scheduleId, { cause: err });
      throw err;
    }
  });
}

async function describeRaw(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new BatchScheduleNotFoundError(scheduleId, { cause: err });
    throw err;
  }
}

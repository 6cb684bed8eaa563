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
 * - backfills use `BUFFER_ALL`: every time in the window gets its batch, one after another, except
 *   the times whose batch already ran or runs (one scheduled time, one batch; Temporal itself would
 *   start the same id again).
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
import { cronProblems, estimatedCronRuns, timezoneProblem } from './cron-problems.ts';
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
 * least 1 minute; `cron` has 5 fields in range that can happen (cron-problems.ts) or is a
 * `@daily`-style macro, `timezone` a known IANA name. Pure.
 * @example batchScheduleSpecProblems({ every: '24h' }) // []
 */
export function batchScheduleSpecProblems(spec: BatchScheduleSpec): string[] {
  if ('cron' in spec) {
    const zone = spec.timezone === undefined ? undefined : timezoneProblem(spec.timezone);
    return [...cronProblems(spec.cron), ...(zone === undefined ? [] : [zone])];
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
      // The SDK turns the server's "Invalid schedule spec" into a TypeError: a spec the local
      // checks let through (a time zone the server's tzdata lacks, …).
      if (err instanceof TypeError)
        throw new InvalidScheduleError(`${specText(options.spec)}: ${err.message}`, { cause: err });
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
 * Idempotent: on a schedule already paused it changes nothing and answers `changed: false` (with
 * a `note`, only the note is replaced). Without `note` a new pause is noted `paused by rdd`.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example const { changed } = await pauseBatchSchedule(client, 'nightly', 'platform upgrade')
 */
export async function pauseBatchSchedule(
  client: Client,
  name: string,
  note?: string,
): Promise<{ changed: boolean }> {
  return await setPaused(client, name, true, note);
}

/**
 * Unpauses a schedule. Idempotent: on a schedule that is not paused it changes nothing and answers
 * `changed: false`. @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example await unpauseBatchSchedule(client, 'nightly')
 */
export async function unpauseBatchSchedule(
  client: Client,
  name: string,
  note?: string,
): Promise<{ changed: boolean }> {
  return await setPaused(client, name, false, note);
}

async function setPaused(
  client: Client,
  name: string,
  paused: boolean,
  note: string | undefined,
): Promise<{ changed: boolean }> {
  const scheduleId = batchScheduleId(name);
  return await reachable(client, async () => {
    const description = await describeRaw(client, scheduleId);
    const changed = description.state.paused !== paused;
    // Already so: keep the operator's note unless a new one is given.
    if (!changed && note === undefined) return { changed };
    const text = note ?? (paused ? 'paused by rdd' : 'unpaused by rdd');
    await onHandle(client, name, (h) => (paused ? h.pause(text) : h.unpause(text)));
    return { changed };
  });
}

/**
 * Starts a run now and waits up to `waitMs` (default 5000) for it to start. Overlap `BUFFER_ONE`:
 * while a batch of the schedule runs, the run waits for it to end, and the server keeps only one
 * waiting run: a trigger while one already waits is dropped (`skippedOverlap` in describe counts
 * it). Not idempotent: every call asks for a run. A run's batch id has the scheduled time to the
 * second, so a trigger in the same second as the last run waits for the next second first (two
 * processes triggering in the same second may still share one id, the second run then re-running
 * that batch). Returns the batch, or `run: null` when it did not start within `waitMs` (waiting
 * behind the running batch, or dropped); `running` names the batch it waits behind, if any.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example const { run } = await triggerBatchSchedule(client, 'nightly')
 */
export async function triggerBatchSchedule(
  client: Client,
  name: string,
  { waitMs = 5000 }: { waitMs?: number } = {},
): Promise<{ run: BatchScheduleRun | null; running?: string }> {
  const scheduleId = batchScheduleId(name);
  return await reachable(client, async () => {
    const before = await describeRaw(client, scheduleId);
    const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
    const lastSecond = Math.max(
      0,
      ...before.info.recentActions.map((a) => Math.floor(a.scheduledAt.getTime() / 1000)),
    );
    // The id has whole seconds: a run in the last run's second would re-use its batch id.
    if (Math.floor(Date.now() / 1000) <= lastSecond) await sleep((lastSecond + 1) * 1000 - Date.now() + 5);
    const running = before.info.runningActions[0]?.workflow.workflowId;
    const since = Date.now();
    await onHandle(client, name, (h) => h.trigger(ScheduleOverlapPolicy.BUFFER_ONE));
    for (;;) {
      const now = await describeRaw(client, scheduleId);
      const fresh = now.info.recentActions.find(
        (a) => !seen.has(a.action.workflow.workflowId) && a.scheduledAt.getTime() >= since - 1000,
      );
      if (fresh) return { run: runOf(fresh) };
      if (Date.now() - since >= waitMs) return { run: null, ...(running !== undefined && { running }) };
      await sleep(200);
    }
  });
}

/** How many runs a backfill may start unless the caller raises `maxRuns`. */
export const DEFAULT_BACKFILL_MAX_RUNS = 100;

/**
 * About how many runs `spec` gives in `[from, to]` (an upper estimate for cron: see
 * `estimatedCronRuns`); undefined when it cannot tell. Pure.
 * @example estimatedScheduleRuns({ every: '24h' }, new Date('2025-01-01Z'), new Date('2025-01-11Z')) // 10
 */
export function estimatedScheduleRuns(spec: BatchScheduleSpec, from: Date, to: Date): number | undefined {
  if ('cron' in spec) return estimatedCronRuns(spec.cron, from, to);
  const every = durationMs(spec.every);
  return every === undefined ? undefined : Math.floor((to.getTime() - from.getTime()) / every) + 1;
}

/**
 * Runs the schedule for every time its spec gives in `[from, to]`, as if it had been running then,
 * one batch after another (overlap `BUFFER_ALL`). Each run's id and `sinceScheduleRun` window are
 * those of its scheduled time.
 *
 * One scheduled time is one batch: times of the window whose batch already ran or runs (a batch
 * `batch-schedule-<name>-<time>` running or completed, as Temporal's visibility store lists it) are
 * left out, and returned in `skipped`; a time whose batch failed, was cancelled or terminated runs
 * again. So repeating a backfill, or overlapping windows, starts only the missing times. The check
 * sees batches that have started: a second backfill requested while the first one's runs still
 * wait in the schedule's buffer can run those times twice (wait until `describe` shows them).
 *
 * Refused (nothing queued) when `to` is after now (a future time is the schedule's own to run; a
 * `sinceScheduleRun` batch would take objects up to that time, and the real run again), or when
 * the spec gives more than `maxRuns` (default 100) times in the window: each run is a batch, and
 * more than 10 of them push the schedule's real runs out of its 10 recent runs, which a
 * `sinceScheduleRun` batch reads for its window's start.
 * @returns `estimatedRuns` (an upper estimate of the times in the window, when known) and `skipped`
 *   (the batch ids of times left out, oldest first).
 * @throws InvalidScheduleError when `from` is not before `to`, `to` is in the future, or the
 *   window holds more than `maxRuns` runs.
 * @throws BatchScheduleNotFoundError, TemporalUnreachableError.
 * @example await backfillBatchSchedule(client, 'nightly', { from: new Date('2025-01-01'), to: new Date('2025-01-08') })
 */
export async function backfillBatchSchedule(
  client: Client,
  name: string,
  window: { from: Date; to: Date },
  { maxRuns = DEFAULT_BACKFILL_MAX_RUNS }: { maxRuns?: number } = {},
): Promise<{ estimatedRuns?: number; skipped: string[] }> {
  if (!(window.from.getTime() < window.to.getTime()))
    throw new InvalidScheduleError('backfill needs --from before --to');
  if (window.to.getTime() > Date.now())
    throw new InvalidScheduleError(
      `backfill window ends at ${window.to.toISOString()}, in the future: a backfill runs past times only`,
    );
  const scheduleId = batchScheduleId(name);
  return await reachable(client, async () => {
    const description = await describeRaw(client, scheduleId);
    const spec = description.memo?.[Memo.Spec] as BatchScheduleSpec | undefined;
    const estimate = spec === undefined ? undefined : estimatedScheduleRuns(spec, window.from, window.to);
    if (estimate !== undefined && estimate > maxRuns)
      throw new InvalidScheduleError(
        `backfill ${window.from.toISOString()} – ${window.to.toISOString()} would start about ${estimate} ` +
          `batches (${specText(spec!)}), more than ${maxRuns}: narrow the window or allow more`,
      );
    const done = await scheduledBatches(client, scheduleId, window);
    const ranges = rangesWithout(
      window,
      done.map((d) => d.at),
    );
    if (ranges.length > 0)
      await onHandle(client, name, (h) =>
        h.backfill(
          ranges.map((r) => ({ start: r.from, end: r.to, overlap: ScheduleOverlapPolicy.BUFFER_ALL })),
        ),
      );
    const skipped = done.map((d) => d.batchId);
    return estimate === undefined ? { skipped } : { estimatedRuns: estimate, skipped };
  });
}

/** `BATCH_SCHEDULE_PREFIX<name>-2026-06-01T02:00:00Z`: the scheduled time the server appended. */
const RUN_TIME = /-(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/;

/** Batches of the schedule, running or completed, whose scheduled time is in the window; by time. */
async function scheduledBatches(
  client: Client,
  scheduleId: string,
  window: { from: Date; to: Date },
): Promise<{ batchId: string; at: number }[]> {
  const found = new Map<string, number>();
  // TemporalScheduledStartTime is the scheduled (nominal) time; a second of margin either side,
  // the id (whole seconds) decides.
  const from = new Date(window.from.getTime() - 1000).toISOString();
  const to = new Date(window.to.getTime() + 1000).toISOString();
  const query =
    `TemporalScheduledById = '${scheduleId}' AND WorkflowType = '${BATCH_WORKFLOW_TYPE}' ` +
    `AND TemporalScheduledStartTime BETWEEN '${from}' AND '${to}'`;
  for await (const wf of client.workflow.list({ query })) {
    if (!['RUNNING', 'COMPLETED', 'CONTINUED_AS_NEW'].includes(wf.status.name)) continue;
    const time = RUN_TIME.exec(wf.workflowId)?.[1];
    const at = time === undefined ? NaN : Date.parse(time);
    if (at >= window.from.getTime() && at <= window.to.getTime()) found.set(wf.workflowId, at);
  }
  return [...found].map(([batchId, at]) => ({ batchId, at })).sort((a, b) => a.at - b.at);
}

/**
 * `[from, to]` split around `times` (ms, whole seconds, sorted): the sub-windows holding every
 * other time of the window. A backfill's range is inclusive, so each time is cut out by 1 ms
 * either side. Pure.
 */
export function rangesWithout(window: { from: Date; to: Date }, times: number[]): { from: Date; to: Date }[] {
  const out: { from: Date; to: Date }[] = [];
  let start = window.from.getTime();
  for (const t of times) {
    if (t - 1 >= start) out.push({ from: new Date(start), to: new Date(t - 1) });
    start = Math.max(start, t + 1);
  }
  if (window.to.getTime() >= start) out.push({ from: new Date(start), to: window.to });
  return out;
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

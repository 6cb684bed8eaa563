import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  TemporalFailure,
  WorkflowIdReusePolicy,
  workflowInfo,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  setWorkflowOptions,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.ts';
import type { BatchReportRow } from '../reports/types.ts';
import {
  BATCH_DEFAULTS,
  cancelUpdate,
  MAX_BATCH_ID_BYTES,
  pauseUpdate,
  SCHEDULED_BY_ID,
  SCHEDULED_START_TIME,
  progressQuery,
  resumeUpdate,
  type BatchInput,
  type BatchPair,
  type BatchPhase,
  type BatchProgress,
  type BatchSource,
  type BatchState,
  type BatchSummary,
  type ManifestProblem,
} from '../shared/batch.ts';
import type { DetectInput, DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef } from '../shared/media.ts';
import { bucketNameProblems, objectKeyProblems, utf8Length, workflowIdProblems } from '../shared/s3-names.ts';
import { DETECT_WORKFLOW_TYPE, type DetectWorkflow } from '../shared/workflows.ts';
import { BatchId } from '../shared/search-attributes.ts';
import { batchCurrentDetails, detectionDetails, detectionSummary } from '../shared/ui-text.ts';
import { batchFailureMessage, CANCELLED_PAIR_MESSAGE } from '../shared/batch-failure-message.ts';
import { BATCH_REPORT, BATCH_STORAGE } from './activity-options.ts';
import { versioningBehavior } from './versioning-behavior.ts';

const { readManifestPage, appendBatchRows, findPreviousScheduleRun } =
  proxyActivities<Activities>(BATCH_STORAGE);
const { writeBatchReport } = proxyActivities<Activities>(BATCH_REPORT);

/** The `errorType` of a manifest line that is not a usable pair (the reports' INVALID_MANIFEST_LINE). */
const INVALID_MANIFEST_LINE = 'InvalidManifestLine';
/** The `errorType` of a pair cancelled with the batch (the reports' CANCELLED_PAIR). */
const CANCELLED = 'Cancelled';

/** The default window before `batch-window-48` (histories recorded before it replay with it). */
const LEGACY_BATCH_CONCURRENCY = 16;

// A batch runs for hours and continues as new: under Worker Versioning, AUTO_UPGRADE
// moves it to the current deployment version at its next workflow task, so old workers can be
// stopped without waiting for it (a change to its code needs `patched()`). README "Safe upgrades".
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), batchWorkflow);

/**
 * A batch of detections: reads the manifest page by page (`readManifestPage`), runs each pair as a
 * child `detectWorkflow` (id `<batchId>-<24 hex of the pair key>`, `batchId` in its input) in a
 * sliding window of at most `concurrency` children, records one row per manifest line, and ends by
 * writing the reports (`writeBatchReport`), whose summary is the result.
 *
 * - A child that fails, times out, is cancelled or terminated frees its slot and becomes a row with
 *   its failure type and message: every child is awaited in a promise of its own that always
 *   settles, so no failure can stall the window.
 * - A pair already started in this batch (same media, channels, config, params, threshold) is not
 *   started again: the start is rejected (reuse policy REJECT_DUPLICATE) and the row records
 *   `duplicateOf`, resolved to the original's outcome in the report.
 * - After `continueAsNewEvery` starts in a run (or when Temporal suggests it) the run stops
 *   starting, drains its children (a child's handle cannot be carried into the next run; the tail
 *   costs less than one job time per run), stores its rows (`appendBatchRows`, one file per run),
 *   waits for running update handlers and continues as new with the cursor, counters and flags.
 * - Updates `pause`, `resume`, `cancel` (validated); query `progress`. Cancel (the update, or
 *   cancelling the workflow) stops starting, cancels every child in flight and waits until each is
 *   closed, then writes the reports: the batch completes with status `cancelled`.
 *
 * In the Temporal UI (patch `ui-summaries`; batches started before it run as they did): the
 * current details count the rows (`412/1000 done (3 failed), 8 in flight`), every child starts with
 * a static summary naming its pair by a tag (never a key) and, when the batch itself carries
 * `BatchId` (the client sets it where the search attributes are registered), with `BatchId` = the
 * batch id, so `BatchId="<id>"` lists the batch and all its detections. A batch started by a
 * schedule carries the schedule's id and replaces it with its own.
 *
 * Fails `InvalidInput` for a malformed input or manifest header; manifest lines that are not
 * pairs are rows, not failures.
 */
export async function batchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const info = workflowInfo();
  const batchId = info.workflowId;
  const problems = batchInputProblems(input, batchId);
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: problems.join('; '),
      nonRetryable: true,
    });
  }
  // The default window grew from 16 to 48 (enough pairs preparing to keep capacity + a learnt
  // allowance busy: BENCHMARKS.md, case 1); runs recorded before keep 16.
  const concurrency =
    input.concurrency ?? (patched('batch-window-48') ? BATCH_DEFAULTS.concurrency : LEGACY_BATCH_CONCURRENCY);
  const every = input.continueAsNewEvery ?? BATCH_DEFAULTS.continueAsNewEvery;
  const threshold = input.threshold ?? 0;
  const state: BatchState = input.state ?? {
    cursor: null,
    manifestDone: false,
    pending: [],
    runIndex: 0,
    counters: { started: 0, recorded: 0, failed: 0, cancelled: 0, cached: 0, invalid: 0, duplicates: 0 },
    paused: false,
    startedAt: new Date(info.startTime.getTime()).toISOString(),
  };
  const { counters } = state;
  const inFlight = new Map<string, BatchPair>();
  const rows: BatchReportRow[] = [];
  let startsThisRun = 0;
  let cancelled = false;
  let finishing = false;
  let phase: BatchPhase = state.paused ? 'paused' : 'running';
  // Children run in a scope of their own, so `cancel` cancels them all and nothing else.
  const children = new CancellationScope();
  // The UI's text and BatchId on the children: only for runs started on this code (patch marker).
  const uiSummaries = patched('ui-summaries');
  // BatchId present at start means the namespace has the search attributes registered.
  const startedWith = info.typedSearchAttributes.get(BatchId);
  const tagChildren = uiSummaries && startedWith !== undefined;
  // A run started by a schedule carries the schedule's id: the batch is this run.
  if (tagChildren && startedWith !== batchId) upsertSearchAttributes([{ key: BatchId, value: batchId }]);

  const progress = (): BatchProgress => {
    const total = state.manifestDone ? counters.recorded + inFlight.size + state.pending.length : null;
    const seconds = (Date.now() - Date.parse(state.startedAt)) / 1000;
    const finished = counters.recorded - counters.invalid;
    const rate = seconds > 0 ? finished / seconds : 0;
    const remaining = total === null ? null : total - counters.recorded;
    return {
      total,
      done: counters.recorded,
      failed: counters.failed,
      cancelledPairs: counters.cancelled ?? 0,
      cached: counters.cached,
      invalid: counters.invalid,
      duplicates: counters.duplicates,
      inFlight: inFlight.size,
      remaining,
      rate,
      // Paused, nothing advances: no ETA.
      etaSeconds: state.paused
        ? null
        : remaining === null || rate <= 0
          ? remaining === 0
            ? 0
            : null
          : remaining / rate,
      paused: state.paused,
      cancelled,
      phase: cancelled && phase !== 'reporting' && phase !== 'done' ? 'cancelling' : phase,
      runIndex: state.runIndex,
      startedAt: state.startedAt,
      ...(state.capacityWorkflowId !== undefined && { capacityWorkflowId: state.capacityWorkflowId }),
    };
  };
  setHandler(progressQuery, progress);
  /** Refreshes the UI's current details (no command: nothing in the history, replay-safe). */
  const show = () => {
    if (uiSummaries) setCurrentDetails(batchCurrentDetails(progress()));
  };
  show();
  const refuseWhenEnding = () => {
    if (cancelled) throw new Error('the batch is cancelled');
    if (finishing) throw new Error('the batch is finishing');
  };
  setHandler(
    pauseUpdate,
    () => {
      state.paused = true;
      if (phase === 'running') phase = 'paused';
      show();
      return progress();
    },
    {
      validator: () => {
        refuseWhenEnding();
        if (state.paused) throw new Error('the batch is already paused');
      },
    },
  );
  setHandler(
    resumeUpdate,
    () => {
      state.paused = false;
      if (phase === 'paused') phase = 'running';
      show();
      return progress();
    },
    {
      validator: () => {
        refuseWhenEnding();
        if (!state.paused) throw new Error('the batch is not paused');
      },
    },
  );
  setHandler(
    cancelUpdate,
    async () => {
      cancelled = true;
      children.cancel();
      show();
      // Answer once every child is closed: "cancelled" then means nothing runs.
      await condition(() => inFlight.size === 0);
      return progress();
    },
    { validator: refuseWhenEnding },
  );

  const record = (row: BatchReportRow) => {
    rows.push(row);
    counters.recorded += 1;
    show();
  };
  const recordProblem = (problem: ManifestProblem) => {
    counters.invalid += 1;
    record({
      line: problem.line,
      id: problem.id ?? null,
      workflowId: null,
      reference: problem.reference ?? '',
      referenceChannel: null,
      questioned: problem.questioned ?? '',
      questionedChannel: null,
      label: problem.label ?? null,
      score: null,
      verdict: null,
      threshold,
      errorType: INVALID_MANIFEST_LINE,
      errorMessage: problem.reason,
      cached: false,
      duplicateOf: null,
      completedAt: null,
    });
  };

  const childInput = (pair: BatchPair): DetectInput => ({
    reference: pair.reference,
    questioned: pair.questioned,
    ...(input.config && { config: input.config }),
    ...(input.params && { params: input.params }),
    threshold,
    ...(input.polling && { polling: input.polling }),
    ...(input.resubmit && { resubmit: input.resubmit }),
    ...(input.cache === false && { cache: false }),
    batchId,
  });

  /** Runs one pair to a row. Never rejects: every outcome of the child is a row. */
  const runPair = async (pair: BatchPair): Promise<void> => {
    let row: BatchReportRow;
    try {
      const args = childInput(pair);
      const handle = await startChild<DetectWorkflow>(DETECT_WORKFLOW_TYPE, {
        workflowId: pair.childId,
        args: [args],
        ...(uiSummaries && {
          staticSummary: `${detectionSummary(args)}${pair.line === null ? '' : ` · line ${pair.line}`}`,
          staticDetails: detectionDetails(args),
        }),
        ...(tagChildren && { typedSearchAttributes: [{ key: BatchId, value: batchId }] }),
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      counters.started += 1;
      row = scoredRow(pair, threshold, await handle.result());
      if (row.cached) counters.cached += 1;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        counters.duplicates += 1;
        row = { ...pairRow(pair, threshold), workflowId: null, duplicateOf: pair.childId };
      } else {
        const { type, message } = failureOf(err);
        let errorMessage = batchFailureMessage(type, message, 'manifest' in input ? 'manifest' : 'prefix');
        if (type === CANCELLED) {
          counters.cancelled = (counters.cancelled ?? 0) + 1;
          errorMessage = CANCELLED_PAIR_MESSAGE;
        } else counters.failed += 1;
        row = { ...pairRow(pair, threshold), errorType: type, errorMessage };
      }
    } finally {
      inFlight.delete(pair.childId);
    }
    record(row);
  };

  const runFull = () => startsThisRun >= every || workflowInfo().continueAsNewSuggested;

  const finish = async (): Promise<BatchSummary> => {
    finishing = true;
    if (rows.length > 0 || state.runIndex === 0) {
      await appendBatchRows({ batchId, runIndex: state.runIndex, output: input.output, rows });
    }
    phase = 'reporting';
    show();
    const summary = await writeBatchReport({
      batchId,
      output: input.output,
      threshold,
      status: cancelled ? 'cancelled' : 'completed',
      startedAt: state.startedAt,
      finishedAt: new Date().toISOString(),
    });
    phase = 'done';
    show();
    await condition(allHandlersFinished);
    return { ...summary, runs: state.runIndex + 1 };
  };

  // Resolved once, after the handlers are set, so `progress` answers meanwhile.
  if ('prefix' in input && input.prefix.sinceScheduleRun && state.scheduleWindow === undefined) {
    state.scheduleWindow = await scheduleWindow(batchId);
  }
  try {
    const nothingToStart = () => state.manifestDone && state.pending.length === 0;
    for (;;) {
      // Paused, a full run still drains and continues as new, and a finished manifest still ends.
      await condition(
        () => cancelled || runFull() || nothingToStart() || (!state.paused && inFlight.size < concurrency),
      );
      if (cancelled || runFull() || nothingToStart()) break;
      const pair = state.pending.shift();
      if (pair) {
        startsThisRun += 1;
        inFlight.set(pair.childId, pair);
        void children.run(() => runPair(pair));
        show();
        continue;
      }
      const page = await readManifestPage({
        batchId,
        source: sourceOf(input, state),
        cursor: state.cursor,
        maxPairs: Math.min(BATCH_DEFAULTS.pageSize, Math.max(1, every - startsThisRun)),
        ...(input.config && { config: input.config }),
        ...(input.params && { params: input.params }),
        threshold,
      });
      state.cursor = page.nextCursor;
      if (page.capacityWorkflowId !== undefined) state.capacityWorkflowId = page.capacityWorkflowId;
      state.manifestDone = page.nextCursor === null;
      state.pending.push(...page.pairs);
      for (const problem of page.problems) recordProblem(problem);
      show();
      // A page of invalid lines starts nothing but still grows the history.
      startsThisRun += page.problems.length > 0 ? Math.ceil(page.problems.length / 10) : 0;
    }
    phase = cancelled ? 'cancelling' : 'draining';
    show();
    await condition(() => inFlight.size === 0);

    const more = state.pending.length > 0 || !state.manifestDone;
    if (cancelled || !more) return await finish();

    await appendBatchRows({ batchId, runIndex: state.runIndex, output: input.output, rows });
    // Update handlers still running would be lost with this run; wait for them.
    await condition(allHandlersFinished);
    if (cancelled) return await finish();
    const next: BatchState = { ...state, runIndex: state.runIndex + 1 };
    return await continueAsNew<typeof batchWorkflow>({ ...input, state: next });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The workflow itself was cancelled: the children were cancelled with it. Report what was done.
    cancelled = true;
    return await CancellationScope.nonCancellable(async () => {
      await condition(() => inFlight.size === 0);
      return await finish();
    });
  }
}

function sourceOf(input: BatchInput, state: BatchState): BatchSource {
  if ('manifest' in input) return { manifest: input.manifest };
  const window = state.scheduleWindow;
  if (!window) return { reference: input.reference, prefix: input.prefix };
  const { sinceScheduleRun: _resolved, ...prefix } = input.prefix;
  // An explicit modifiedAfter later than the previous run still narrows the window.
  const after = [window.after, prefix.modifiedAfter]
    .filter((t) => t !== undefined)
    .sort(byTime)
    .at(-1);
  const before = [window.before, prefix.modifiedBefore].filter((t) => t !== undefined).sort(byTime)[0]!;
  return {
    reference: input.reference,
    prefix: { ...prefix, ...(after !== undefined && { modifiedAfter: after }), modifiedBefore: before },
  };
}

function byTime(a: string, b: string): number {
  return Date.parse(a) - Date.parse(b);
}

/**
 * The LastModified window of a `sinceScheduleRun` batch: from the scheduled time of the schedule's
 * previous action (none on its first) to this run's scheduled time, both read from the search
 * attributes Temporal sets on a workflow a schedule starts.
 */
async function scheduleWindow(workflowId: string): Promise<{ after?: string; before: string }> {
  const attributes = workflowInfo().typedSearchAttributes;
  const scheduleId = attributes.get(SCHEDULED_BY_ID);
  const scheduledAt = attributes.get(SCHEDULED_START_TIME);
  if (scheduleId === undefined || scheduledAt === undefined) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'prefix.sinceScheduleRun needs a batch started by a schedule (rdd schedule create)',
      nonRetryable: true,
    });
  }
  const before = new Date(scheduledAt.getTime()).toISOString();
  const previous = await findPreviousScheduleRun({ scheduleId, scheduledAt: before, workflowId });
  return previous.scheduledAt === null ? { before } : { after: previous.scheduledAt, before };
}

function pairRow(pair: BatchPair, threshold: number): BatchReportRow {
  return {
    line: pair.line,
    id: pair.id,
    workflowId: pair.childId,
    reference: formatMediaRef(pair.reference),
    referenceChannel: pair.reference.channel ?? null,
    questioned: formatMediaRef(pair.questioned),
    questionedChannel: pair.questioned.channel ?? null,
    label: pair.label,
    score: null,
    verdict: null,
    threshold,
    errorType: null,
    errorMessage: null,
    cached: false,
    duplicateOf: null,
    completedAt: null,
  };
}

function scoredRow(pair: BatchPair, threshold: number, result: DetectionResult): BatchReportRow {
  return {
    ...pairRow(pair, threshold),
    score: result.score,
    verdict: result.verdict,
    cached: result.cached === true,
    completedAt: result.timestamps.completedAt,
  };
}

/** The failure type and message of a child that ended without a result. */
function failureOf(err: unknown): { type: string; message: string } {
  let current: unknown = err;
  while (current instanceof TemporalFailure) {
    if (current instanceof ApplicationFailure)
      return { type: current.type ?? 'Error', message: current.message };
    if (current instanceof CancelledFailure)
      return { type: CANCELLED, message: current.message || 'cancelled' };
    if (current instanceof TerminatedFailure)
      return { type: 'Terminated', message: current.message || 'terminated' };
    if (current instanceof TimeoutFailure)
      return { type: 'TimedOut', message: current.message || 'timed out' };
    if (!current.cause) break;
    current = current.cause;
  }
  return { type: 'Error', message: current instanceof Error ? current.message : String(current) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Everything wrong with a batch input (empty when usable). Pure. */
function batchInputProblems(input: BatchInput, batchId: string): string[] {
  const problems: string[] = [];
  if (!isRecord(input)) return ['input must be an object'];
  if (utf8Length(batchId) > MAX_BATCH_ID_BYTES)
    problems.push(`batch id must be at most ${MAX_BATCH_ID_BYTES} bytes`);
  else problems.push(...workflowIdProblems(`${batchId}-${'0'.repeat(24)}`, 'batch id'));
  const object = (name: string, value: unknown) => {
    if (!isRecord(value) || typeof value.bucket !== 'string' || typeof value.key !== 'string') {
      problems.push(`${name} must be {bucket, key}`);
      return;
    }
    problems.push(
      ...bucketNameProblems(value.bucket, `${name}.bucket`),
      ...objectKeyProblems(value.key, `${name}.key`),
    );
  };
  if ('manifest' in input && input.manifest !== undefined) object('manifest', input.manifest);
  else if ('prefix' in input && input.prefix !== undefined) {
    object('reference', (input as { reference?: unknown }).reference);
    const prefix = input.prefix as unknown;
    if (!isRecord(prefix) || typeof prefix.bucket !== 'string' || typeof prefix.prefix !== 'string')
      problems.push('prefix must be {bucket, prefix, suffix?}');
    else {
      problems.push(...bucketNameProblems(prefix.bucket, 'prefix.bucket'));
      for (const name of ['modifiedAfter', 'modifiedBefore'] as const) {
        const v = prefix[name];
        if (v !== undefined && !(typeof v === 'string' && Number.isFinite(Date.parse(v))))
          problems.push(`prefix.${name} must be an ISO time, got ${JSON.stringify(v)}`);
      }
    }
  } else problems.push('input needs a manifest {bucket, key} or a reference with a prefix');
  for (const name of ['concurrency', 'continueAsNewEvery'] as const) {
    const v = input[name];
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      problems.push(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (
    input.threshold !== undefined &&
    !(typeof input.threshold === 'number' && Number.isFinite(input.threshold))
  )
    problems.push(`threshold must be a finite number, got ${JSON.stringify(input.threshold)}`);
  if (input.output?.bucket !== undefined)
    problems.push(...bucketNameProblems(input.output.bucket, 'output.bucket'));
  return problems;
}

/**
 * The contract of a batch: `batchWorkflow` input, carried state, progress, the updates that steer
 * it, and the payloads of its activities (`readManifestPage`, `appendBatchRows`,
 * `writeBatchReport`). Wire contracts with running batches: fields are only ever added, optional.
 * Importable from workflows: no Node, no I/O.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { BatchReportRow, BatchReportSummary, ReportLabel } from '../reports/types.ts';
import type { PollingPolicy, ResubmitPolicy } from './detection.ts';
import type { MediaRef } from './media.ts';

/** The workflow type of a batch (the exported function `batchWorkflow` in src/workflows). */
export const BATCH_WORKFLOW_TYPE = 'batchWorkflow';

/** An S3 object named by bucket and key. */
export interface S3ObjectRef {
  bucket: string;
  key: string;
}

/**
 * Where the pairs come from: a manifest object (CSV with a header, or JSON Lines; told apart by the
 * extension `.csv` / `.jsonl` / `.ndjson`, else by the first byte, `{` meaning JSON Lines), or one
 * reference against every object under a prefix (optionally only keys ending in `suffix`).
 */
export type BatchSource = { manifest: S3ObjectRef } | { reference: MediaRef; prefix: BatchPrefix };

/**
 * The objects of a prefix batch: keys under `prefix` (ending in `suffix` when given), optionally
 * only those whose S3 `LastModified` falls in a window. Window bounds are compared in whole
 * seconds (S3 listings carry seconds), `modifiedAfter` inclusive and `modifiedBefore` exclusive,
 * so consecutive windows that share a bound never both take, nor both miss, an object.
 */
export interface BatchPrefix {
  bucket: string;
  prefix: string;
  suffix?: string;
  /** ISO time: only objects last modified at or after it (whole seconds). */
  modifiedAfter?: string;
  /** ISO time: only objects last modified before it (whole seconds). */
  modifiedBefore?: string;
  /**
   * Only objects new since the previous run of the schedule that started this batch: the window
   * from the previous action's scheduled time (none on the first run) to this run's scheduled
   * time, resolved once by the workflow (`findPreviousScheduleRun`) and kept across
   * continue-as-new. A batch not started by a schedule fails `InvalidInput`.
   */
  sinceScheduleRun?: true;
}

/** Input of `findPreviousScheduleRun`: the schedule that started a batch and this run's time. */
export interface FindPreviousScheduleRunInput {
  /** The schedule id (search attribute `TemporalScheduledById` of the batch). */
  scheduleId: string;
  /** ISO scheduled time of this run (search attribute `TemporalScheduledStartTime`). */
  scheduledAt: string;
  /** This run's workflow id, never its own previous run. */
  workflowId: string;
}

/** Result of `findPreviousScheduleRun`. */
export interface PreviousScheduleRun {
  /** ISO scheduled time of the latest earlier action of the schedule; `null` when none is known. */
  scheduledAt: string | null;
}

/** Counters carried across runs. Every pair or manifest problem is counted once, in one run. */
export interface BatchCounters {
  /** Children started (duplicates not included). */
  started: number;
  /** Rows recorded: finished pairs, duplicates and invalid lines. */
  recorded: number;
  /** Rows with a run-time failure (the child failed, timed out or was terminated). */
  failed: number;
  /** Pairs cancelled with the batch while they ran (absent in state carried by older runs: 0). */
  cancelled?: number;
  /** Rows answered from the score cache. */
  cached: number;
  /** Manifest lines that could not be parsed or name an invalid pair. */
  invalid: number;
  /** Pairs already started in this batch under the same pair key. */
  duplicates: number;
}

/** What one run hands the next through continue-as-new (`BatchInput.state`). */
export interface BatchState {
  /** Where the manifest reading goes on; `null` before the first page. */
  cursor: string | null;
  /** The manifest was read to its end. */
  manifestDone: boolean;
  /** Pairs read but not started yet (at most one page). */
  pending: BatchPair[];
  /** 0 for the first run; names this run's row file. */
  runIndex: number;
  counters: BatchCounters;
  paused: boolean;
  /** ISO time the batch's first run started. */
  startedAt: string;
  /** The platform capacity workflow its pairs lease from, as `readManifestPage` named it. */
  capacityWorkflowId?: string;
  /**
   * A `sinceScheduleRun` batch's LastModified window, resolved on its first run (ISO; `after`
   * absent on a schedule's first run).
   */
  scheduleWindow?: { after?: string; before: string };
}

/** Input of `batchWorkflow`. */
export type BatchInput = BatchSource & {
  /** Children in flight at most (default 48). The platform lease further bounds what reaches the platform. */
  concurrency?: number;
  /** LLR above which a verdict is `deepfake` (default 0). Part of each pair's key. */
  threshold?: number;
  /** `false`: every pair goes to the platform even when the score cache has it. */
  cache?: boolean;
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  /** Default: the worker's result bucket, prefix `batches/<batchId>/`. */
  output?: { bucket?: string; prefix?: string };
  /** Pairs started per run before continuing as new (default 500). */
  continueAsNewEvery?: number;
  /** Passed to every child (tests and benchmarks poll fast emulators closely). */
  polling?: Partial<PollingPolicy>;
  resubmit?: Partial<ResubmitPolicy>;
  /** Set by the workflow itself when it continues as new; never by callers. */
  state?: BatchState;
};

/** One pair to score, as the manifest activity read it. */
export interface BatchPair {
  /**
   * 1-based manifest line (a CSV header is line 1); for a prefix batch, the object's 1-based
   * position among the objects the batch took (suffix and window applied, the reference skipped).
   */
  line: number | null;
  /** The manifest's `id`; for a prefix batch, the object's key. */
  id: string | null;
  reference: MediaRef;
  questioned: MediaRef;
  label: ReportLabel | null;
  /** sha256 (hex) of the canonical JSON of {reference, questioned, config, params, threshold}. */
  pairKey: string;
  /** `<batchId>-<first 24 hex of pairKey>`: the same pair in one batch is one child. */
  childId: string;
}

/** A manifest line that is not a usable pair, with why; it becomes an `InvalidManifestLine` row. */
export interface ManifestProblem {
  /** 1-based line; for a prefix object, its position as in `BatchPair.line`. */
  line: number | null;
  reason: string;
  /** What the line said, as far as it could be read (for the report). */
  id?: string | null;
  /** The line's label when it was a valid one, so the report counts the line under its label. */
  label?: ReportLabel | null;
  reference?: string;
  questioned?: string;
}

/** Input of `readManifestPage`. */
export interface ReadManifestPageInput {
  batchId: string;
  source: BatchSource;
  /** `null` for the first page; else a `nextCursor` returned earlier. Opaque. */
  cursor: string | null;
  /** At most this many pairs (problems do not count, but a page holds at most 10 × maxPairs of them). */
  maxPairs: number;
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  threshold: number;
}

/** One page of a manifest. */
export interface ManifestPage {
  pairs: BatchPair[];
  problems: ManifestProblem[];
  /** `null` when the manifest was read to its end. */
  nextCursor: string | null;
  /**
   * The id of the capacity workflow of the platform the reading worker submits to (every worker of
   * a task queue serves one platform), so the batch can say where its pairs wait for a lease.
   * Absent when the worker has no capacity deps.
   */
  capacityWorkflowId?: string;
}

/** Input of `appendBatchRows`: one run's rows, stored as `<prefix>rows/<runIndex, 6 digits>.jsonl`. */
export interface AppendBatchRowsInput {
  batchId: string;
  runIndex: number;
  output?: { bucket?: string; prefix?: string };
  rows: BatchReportRow[];
}

/** Input of `writeBatchReport`. */
export interface WriteBatchReportInput {
  batchId: string;
  output?: { bucket?: string; prefix?: string };
  threshold: number;
  status: 'completed' | 'cancelled';
  startedAt: string;
  finishedAt: string;
  costs?: { pSpoof: number; cMiss: number; cFa: number };
}

/** The result of `batchWorkflow`: the report's summary and where its files are. */
export interface BatchSummary extends BatchReportSummary {
  /** `s3://bucket/prefix` the reports were written under. */
  location: string;
  files: {
    csv: S3ObjectRef;
    jsonl: S3ObjectRef;
    html: S3ObjectRef;
    /** Absent when no row had a label. */
    metrics?: S3ObjectRef;
  };
  /** Workflow runs the batch took (continue-as-new). */
  runs: number;
}

/**
 * What a batch is doing now: `running` (starting pairs), `paused`, `draining` (a run started its
 * `continueAsNewEvery` pairs, or the manifest is read to its end: no new start until the pairs in
 * flight finish, then the next run or the report; pairs may still wait meanwhile), `cancelling`
 * (cancel asked; waiting until every child is closed), `reporting` (writing the reports), `done`.
 */
export type BatchPhase = 'running' | 'paused' | 'draining' | 'cancelling' | 'reporting' | 'done';

/**
 * Answer of the `progress` query. Every manifest line (or prefix object) is one row; `total` is
 * known once the manifest was read to its end.
 */
export interface BatchProgress {
  /** Rows the report will have (pairs + invalid lines); `null` until the manifest end was reached. */
  total: number | null;
  /** Rows recorded so far (finished pairs, duplicates, invalid lines). */
  done: number;
  /** Of `done`: pairs whose detection failed (cancellations not included). */
  failed: number;
  /** Of `done`: pairs cancelled with the batch while they ran. */
  cancelledPairs?: number;
  /** Of `done`: answered from the score cache. */
  cached: number;
  /** Of `done`: manifest lines that were not usable pairs. */
  invalid: number;
  /** Of `done`: repeats of a pair already started in this batch. */
  duplicates: number;
  /** Children running now. */
  inFlight: number;
  /** `total − done`, `null` while the total is unknown. */
  remaining: number | null;
  /** Pairs finished per second since the batch started (invalid lines not counted). */
  rate: number;
  /** Seconds until done at `rate`; `null` when unknown or while paused. */
  etaSeconds: number | null;
  paused: boolean;
  cancelled: boolean;
  phase: BatchPhase;
  /** The workflow run (0-based continue-as-new count). */
  runIndex: number;
  startedAt: string;
  /**
   * The platform capacity workflow its pairs lease from (query `capacityState` there for the
   * waiting queue: `getBatch` does); absent until the first manifest page was read.
   */
  capacityWorkflowId?: string;
}

/**
 * Where a batch stands.
 * @example const p = await client.workflow.getHandle(batchId).query(progressQuery)
 */
export const progressQuery = defineQuery<BatchProgress>('progress');

/**
 * Stops starting pairs (those in flight finish). Rejected (validator) when the batch is paused,
 * cancelled or finishing. Returns the progress after the change. Not idempotent: a second pause is
 * rejected, which callers may treat as success.
 */
export const pauseUpdate = defineUpdate<BatchProgress>('pause');

/** Starts pairs again. Rejected when the batch is not paused. */
export const resumeUpdate = defineUpdate<BatchProgress>('resume');

/**
 * Stops starting pairs, cancels those in flight and waits until they are closed, then writes the
 * reports; the batch ends `cancelled` (a result, not a failure). Rejected when already cancelled
 * or finishing.
 */
export const cancelUpdate = defineUpdate<BatchProgress>('cancel');

/** The signature of `batchWorkflow`, for typed starts without importing workflow code. */
export type BatchWorkflow = (input: BatchInput) => Promise<BatchSummary>;

/** Defaults of a batch. */
export const BATCH_DEFAULTS = { concurrency: 48, continueAsNewEvery: 500, pageSize: 100 } as const;

/**
 * The output prefix of a batch: `output.prefix` (with a trailing `/`) or `batches/<batchId>/`.
 * @example batchOutputPrefix('b1', undefined) // 'batches/b1/'
 */
export function batchOutputPrefix(batchId: string, output: { prefix?: string } | undefined): string {
  const prefix = output?.prefix ?? `batches/${batchId}/`;
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * The key of one run's row file: `<prefix>rows/<runIndex padded to 6 digits>.jsonl`, so a listing
 * returns them in run order.
 * @example batchRowsKey('batches/b1/', 3) // 'batches/b1/rows/000003.jsonl'
 */
export function batchRowsKey(prefix: string, runIndex: number): string {
  return `${prefix}rows/${String(runIndex).padStart(6, '0')}.jsonl`;
}

/** Length of the pair-key prefix in a child's workflow id. */
export const CHILD_KEY_HEX = 24;

/** Longest batch id: a child id (`<batchId>-<24 hex>`) must stay within the workflow id limit (250 bytes). */
export const MAX_BATCH_ID_BYTES = 250 - 1 - CHILD_KEY_HEX;

/**
 * The search attribute Temporal sets on every workflow a schedule starts: the schedule's id.
 * @example workflowInfo().typedSearchAttributes.get(SCHEDULED_BY_ID)
 */
export const SCHEDULED_BY_ID = defineSearchAttributeKey('TemporalScheduledById', 'KEYWORD');

/** The search attribute Temporal sets on every workflow a schedule starts: the action's scheduled time. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

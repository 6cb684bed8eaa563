/**
 * The rows and the summary of a batch report: what `report.csv`, `report.jsonl`, `report.html` and
 * `metrics.json` are written from. Plain data, no I/O.
 */

/** A pair's ground truth, when the manifest gave one. */
export type ReportLabel = 'genuine' | 'deepfake';

/** A pair's outcome: `null` when the pair never got a score or an outcome (a failure). */
export type ReportVerdict = 'deepfake' | 'genuine' | 'inconclusive';

/** The `errorType` of a manifest line that could not be parsed or names an invalid pair. */
export const INVALID_MANIFEST_LINE = 'InvalidManifestLine';

/**
 * The `errorType` of a pair whose detection was cancelled (the batch was cancelled while it ran):
 * counted as `cancelled`, never as `failed`.
 */
export const CANCELLED_PAIR = 'Cancelled';

/**
 * One row per manifest line (or per object of a prefix batch).
 *
 * @example
 * const row: BatchReportRow = {
 *   line: 2, id: 'call-0001', workflowId: 'b1-3f9a…', reference: 's3://media/ref.wav', referenceChannel: null,
 *   questioned: 's3://media/q.wav', questionedChannel: 0, label: 'genuine', score: -3.2, verdict: 'genuine',
 *   threshold: 0, errorType: null, errorMessage: null, cached: false, duplicateOf: null,
 *   completedAt: '2025-01-01T00:00:03.000Z',
 * };
 */
export interface BatchReportRow {
  /**
   * 1-based line of the manifest (a CSV header is line 1); in a prefix batch, the object's 1-based
   * position among the listed objects the batch took (the reference itself is never one).
   */
  readonly line: number | null;
  /** The manifest's `id` column, if any; in a prefix batch, the object's key. */
  readonly id: string | null;
  /** The child detection's workflow id; `null` for a line that never became a detection. */
  readonly workflowId: string | null;
  /** `s3://bucket/key` of the reference recording (as written in the manifest for invalid lines). */
  readonly reference: string;
  readonly referenceChannel: number | null;
  /** `s3://bucket/key` of the questioned recording. */
  readonly questioned: string;
  readonly questionedChannel: number | null;
  readonly label: ReportLabel | null;
  /** The LLR of deepfake vs genuine; `null` when inconclusive or failed. */
  readonly score: number | null;
  readonly verdict: ReportVerdict | null;
  /** The threshold the verdict was taken at (deepfake when score > threshold). */
  readonly threshold: number;
  /**
   * A `FailureType` name, {@link INVALID_MANIFEST_LINE} or {@link CANCELLED_PAIR}; `null` when the
   * pair was scored.
   */
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  /** Answered from the score cache instead of the platform. */
  readonly cached: boolean;
  /** The workflow id of the detection that scored the same pair earlier in this batch. */
  readonly duplicateOf: string | null;
  /** When the pair's detection closed (ISO 8601); `null` for lines that never started. */
  readonly completedAt: string | null;
}

/** The columns of a report, in the order every format writes them. */
export const REPORT_COLUMNS = [
  'line',
  'id',
  'workflowId',
  'reference',
  'referenceChannel',
  'questioned',
  'questionedChannel',
  'label',
  'score',
  'verdict',
  'threshold',
  'errorType',
  'errorMessage',
  'cached',
  'duplicateOf',
  'completedAt',
] as const satisfies readonly (keyof BatchReportRow)[];

/**
 * How the rows of a report break down. Each row counts once in `scored`/`inconclusive`/`failed`/
 * `cancelled`.
 */
export interface BatchReportCounts {
  readonly total: number;
  /** Rows with a score. */
  readonly scored: number;
  /** Verdict deepfake / genuine (scored rows). */
  readonly deepfake: number;
  readonly genuine: number;
  /** Rows that ran but got no score (too little speech). */
  readonly inconclusive: number;
  /** Rows with an error, manifest problems included, cancelled pairs not. */
  readonly failed: number;
  /** Of `failed`: manifest lines that could not be parsed or name an invalid pair. */
  readonly invalid: number;
  /** Pairs cancelled with the batch while they ran (errorType {@link CANCELLED_PAIR}); not in `failed`. */
  readonly cancelled: number;
  readonly cached: number;
  readonly duplicates: number;
  /** Rows with a label. */
  readonly labelled: number;
}

/**
 * What a batch did, for the report's header and the batch workflow's result.
 *
 * `startedAt`/`finishedAt` are `null` only for score sets that were not a batch (`rdd calibrate` on
 * a file without completion times); `throughput` is then `null` too.
 */
export interface BatchReportSummary {
  readonly batchId: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly status: 'completed' | 'cancelled';
  readonly counts: BatchReportCounts;
  /**
   * Pairs that reached an outcome (scored, inconclusive or failed at run time; not invalid lines,
   * not cancelled pairs) per second of wall time.
   */
  readonly throughput: number | null;
}

/** What {@link summarizeRows} needs besides the rows. */
export interface SummaryMeta {
  readonly batchId: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly status?: 'completed' | 'cancelled';
}

/**
 * Counts the rows and computes the throughput. Pure.
 *
 * @example
 * summarizeRows(rows, { batchId: 'b1', startedAt, finishedAt }).counts.failed;
 */
export function summarizeRows(rows: readonly BatchReportRow[], meta: SummaryMeta): BatchReportSummary {
  let scored = 0;
  let deepfake = 0;
  let genuine = 0;
  let inconclusive = 0;
  let failed = 0;
  let invalid = 0;
  let cancelled = 0;
  let cached = 0;
  let duplicates = 0;
  let labelled = 0;
  for (const row of rows) {
    if (row.errorType === CANCELLED_PAIR) cancelled++;
    else if (row.errorType !== null) {
      failed++;
      if (row.errorType === INVALID_MANIFEST_LINE) invalid++;
    } else if (row.score !== null) {
      scored++;
      if (row.verdict === 'deepfake') deepfake++;
      else if (row.verdict === 'genuine') genuine++;
    } else inconclusive++;
    if (row.cached) cached++;
    if (row.duplicateOf !== null) duplicates++;
    if (row.label !== null) labelled++;
  }
  const counts = {
    total: rows.length,
    scored,
    deepfake,
    genuine,
    inconclusive,
    failed,
    invalid,
    cancelled,
    cached,
    duplicates,
    labelled,
  };
  const seconds =
    meta.startedAt !== null && meta.finishedAt !== null
      ? (Date.parse(meta.finishedAt) - Date.parse(meta.startedAt)) / 1000
      : Number.NaN;
  const outcomes = rows.length - invalid - cancelled;
  return {
    batchId: meta.batchId,
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    status: meta.status ?? 'completed',
    counts,
    throughput: seconds > 0 ? outcomes / seconds : null,
  };
}

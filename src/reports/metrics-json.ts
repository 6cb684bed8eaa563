import {
  ASVSPOOF5_COSTS,
  CONVENTION,
  computeMetrics,
  type CalibrationMetrics,
  type Convention,
  type Costs,
  type LabelledScore,
} from '../calibration/index.ts';
import { CANCELLED_PAIR, type BatchReportRow } from './types.ts';

/** The convention as one sentence, for people: printed in `report.html` and `metrics.json`. */
export const CONVENTION_TEXT =
  'Convention: the score is a log-likelihood ratio of deepfake vs genuine (higher = more likely a deepfake), ' +
  'so the target class is a genuine (bona fide) pair and the non-target (spoof) class is a deepfake pair; ' +
  'a pair is called deepfake when score > threshold and genuine otherwise; ' +
  'P_miss is the share of genuine pairs called deepfake, and P_fa, the false acceptance rate (FAR), ' +
  'is the share of deepfake pairs accepted as genuine.';

/** Options of {@link buildMetricsReport}. */
export interface ReportMetricsOptions {
  /** The batch's operating threshold (default: the rows' threshold, else 0). */
  readonly threshold?: number;
  /** The user's cost model, reported beside ASVspoof 5's. */
  readonly costs?: Costs;
  /** False acceptance rates to find thresholds for (default 1 %, 5 %, 10 %). */
  readonly targetFar?: readonly number[];
  /** The most DET points kept for plotting (default that of `computeMetrics`). */
  readonly maxDetPoints?: number;
}

/** A named cost model. */
export interface NamedCosts extends Costs {
  readonly name: string;
}

/** The content of `metrics.json`. Plain data, deterministic for the same rows and options. */
export interface MetricsReport {
  readonly schema: 'rdd-metrics/v1';
  readonly convention: Convention;
  readonly conventionText: string;
  readonly costModels: { readonly asvspoof5: NamedCosts; readonly user: NamedCosts | null };
  readonly threshold: number;
  /** Which rows went into the metrics and which were left out, and why. */
  readonly rows: {
    readonly total: number;
    readonly labelled: number;
    readonly unlabelled: number;
    /** Labelled rows with an error (no score), invalid manifest lines included: excluded. */
    readonly excludedFailed: number;
    /** Labelled pairs cancelled with the batch (no score): excluded, not counted as failed. */
    readonly excludedCancelled: number;
    /**
     * Labelled rows that repeat a pair scored earlier in the batch: excluded, so that a trial
     * listed twice is not counted twice.
     */
    readonly excludedDuplicates: number;
    /** Rows handed to `computeMetrics`; its `counts.excludedNull` says how many were inconclusive. */
    readonly evaluated: number;
  };
  readonly metrics: CalibrationMetrics;
}

/**
 * The rows `metrics.json` is computed from: labelled, not failed, not a duplicate. Inconclusive
 * rows (`score: null`) are kept so that `computeMetrics` counts them as excluded. Pure.
 */
export function evaluatedScores(rows: readonly BatchReportRow[]): LabelledScore[] {
  const scores: LabelledScore[] = [];
  for (const row of rows) {
    if (row.label === null || row.errorType !== null || row.duplicateOf !== null) continue;
    scores.push({ score: row.score, label: row.label });
  }
  return scores;
}

/**
 * Calibration metrics of a report's labelled rows, with the convention and cost models named:
 * what `metrics.json` holds. Pure.
 *
 * @throws {RangeError} for unusable costs or target FARs (see `computeMetrics`).
 * @example
 * const report = buildMetricsReport(rows, { costs: { pSpoof: 0.01, cMiss: 1, cFa: 100 } });
 * report.metrics.figures?.dcf.user?.minDcf;
 */
export function buildMetricsReport(
  rows: readonly BatchReportRow[],
  options: ReportMetricsOptions = {},
): MetricsReport {
  const threshold = options.threshold ?? rows[0]?.threshold ?? 0;
  const scores = evaluatedScores(rows);
  const metrics = computeMetrics(scores, {
    threshold,
    ...(options.costs ? { costs: options.costs } : {}),
    ...(options.targetFar ? { targetFar: options.targetFar } : {}),
    ...(options.maxDetPoints ? { maxDetPoints: options.maxDetPoints } : {}),
  });
  let labelled = 0;
  let excludedFailed = 0;
  let excludedCancelled = 0;
  let excludedDuplicates = 0;
  for (const row of rows) {
    if (row.label === null) continue;
    labelled++;
    if (row.errorType === CANCELLED_PAIR) excludedCancelled++;
    else if (row.errorType !== null) excludedFailed++;
    else if (row.duplicateOf !== null) excludedDuplicates++;
  }
  return {
    schema: 'rdd-metrics/v1',
    convention: CONVENTION,
    conventionText: CONVENTION_TEXT,
    costModels: {
      asvspoof5: { name: 'ASVspoof 5 (P_spoof 0.05, C_miss 1, C_fa 10)', ...ASVSPOOF5_COSTS },
      user: options.costs ? { name: 'user', ...options.costs } : null,
    },
    threshold,
    rows: {
      total: rows.length,
      labelled,
      unlabelled: rows.length - labelled,
      excludedFailed,
      excludedCancelled,
      excludedDuplicates,
      evaluated: scores.length,
    },
    metrics,
  };
}

/**
 * `metrics.json`: {@link buildMetricsReport} as indented JSON with a final newline. Pure.
 *
 * @example
 * await writeFile('metrics.json', toMetricsJson(rows, { threshold: 0 }));
 */
export function toMetricsJson(rows: readonly BatchReportRow[], options: ReportMetricsOptions = {}): string {
  return `${JSON.stringify(buildMetricsReport(rows, options), null, 2)}\n`;
}

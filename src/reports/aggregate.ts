import { CANCELLED_PAIR, INVALID_MANIFEST_LINE, type BatchReportRow } from './types.ts';

/** The groups a score histogram shows, in drawing order. */
export const SCORE_GROUPS = ['genuine', 'deepfake', 'unlabelled'] as const;
export type ScoreGroupName = (typeof SCORE_GROUPS)[number];

/** One histogram bar. */
export interface ScoreBin {
  readonly group: ScoreGroupName;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/** Scores by label: bins plus what the bins leave out. */
export interface ScoreDistribution {
  /** Non-empty bins only; every group shares the same bin edges. */
  readonly bins: readonly ScoreBin[];
  /** The drawn score range: the first bin's start and the last bin's end. */
  readonly domain: readonly [number, number];
  readonly step: number;
  /**
   * Scored rows per group (finite and infinite scores), each distinct pair once: rows repeating a
   * pair scored earlier in the batch (`duplicateOf`) are left out, as in the calibration metrics.
   */
  readonly scored: Readonly<Record<ScoreGroupName, number>>;
  /** Rows without a score and without an error, per group (repeats left out). */
  readonly inconclusive: Readonly<Record<ScoreGroupName, number>>;
  /** Scored or inconclusive rows left out because they repeat a pair scored earlier in the batch. */
  readonly repeated: number;
  /** Scores outside the drawn range (far outliers and ±Infinity), counted in the edge bins. */
  readonly clipped: number;
}

/** All pairs that failed for one reason. */
export interface FailureGroup {
  readonly errorType: string;
  readonly count: number;
  /** The first row's message and where it came from. */
  readonly example: {
    readonly message: string | null;
    readonly line: number | null;
    readonly id: string | null;
  };
}

/** Completed pairs over time, in buckets. */
export interface ThroughputSeries {
  /** What `t` counts: seconds, minutes or hours since the start. */
  readonly unit: 's' | 'min' | 'h';
  readonly startedAt: string;
  /** `t` is the end of each bucket; the first point is (0, 0). */
  readonly points: readonly { readonly t: number; readonly completed: number; readonly perSecond: number }[];
}

/**
 * Outcome of a row for the label × outcome table: a verdict, `failed` (the detection failed),
 * `cancelled` (cancelled with the batch) or `invalid` (a manifest line that is not a usable pair).
 */
export type Outcome = 'deepfake' | 'genuine' | 'inconclusive' | 'failed' | 'cancelled' | 'invalid';

/** The outcomes in table order. */
export const OUTCOMES = ['deepfake', 'genuine', 'inconclusive', 'failed', 'cancelled', 'invalid'] as const;

/** Everything `report.html` draws: small whatever the batch size. */
export interface ReportAggregates {
  readonly threshold: number;
  readonly scores: ScoreDistribution | null;
  readonly failures: readonly FailureGroup[];
  readonly throughput: ThroughputSeries | null;
  /** Rows per label group and outcome. */
  readonly outcomes: Readonly<Record<ScoreGroupName, Readonly<Record<Outcome, number>>>>;
}

/** Options of {@link aggregateRows}. */
export interface AggregateOptions {
  readonly threshold: number;
  /** Start of the throughput axis (default: the first completion). */
  readonly startedAt?: string | null;
  /** End of the throughput axis (default: the last completion). */
  readonly finishedAt?: string | null;
  /** The most histogram bins (default 40). */
  readonly maxBins?: number;
  /** Throughput buckets (default 60). */
  readonly timeBuckets?: number;
}

const groupOf = (row: BatchReportRow): ScoreGroupName => row.label ?? 'unlabelled';

/** The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= raw * (1 - 1e-12)) return m * magnitude;
  return 10 * magnitude;
}

/** The value at quantile `q` of ascending `sorted` (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))]!;
}

function distribution(rows: readonly BatchReportRow[], threshold: number, maxBins: number) {
  const scored = { genuine: 0, deepfake: 0, unlabelled: 0 };
  const inconclusive = { genuine: 0, deepfake: 0, unlabelled: 0 };
  const finite: number[] = [];
  let repeated = 0;
  for (const row of rows) {
    if (row.errorType !== null) continue;
    if (row.duplicateOf !== null) {
      repeated++;
      continue;
    }
    if (row.score === null || Number.isNaN(row.score)) inconclusive[groupOf(row)]++;
    else {
      scored[groupOf(row)]++;
      if (Number.isFinite(row.score)) finite.push(row.score);
    }
  }
  if (finite.length === 0) return null;
  finite.sort((a, b) => a - b);
  // A handful of far outliers would squash everything else into a few bars: above 1000 scores,
  // the drawn range is the central 99.9 % (plus the threshold) and the rest lands in the edge bins.
  const robust = finite.length >= 1000;
  let lo = Math.min(robust ? quantile(finite, 0.0005) : finite[0]!, threshold);
  let hi = Math.max(robust ? quantile(finite, 0.9995) : finite.at(-1)!, threshold);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const step = niceStep((hi - lo) / maxBins);
  const start = Math.floor(lo / step) * step;
  const count = Math.max(1, Math.ceil((hi - start) / step - 1e-9));
  const end = start + count * step;
  const counts = new Map<string, number>();
  let clipped = 0;
  for (const row of rows) {
    if (row.errorType !== null || row.duplicateOf !== null) continue;
    if (row.score === null || Number.isNaN(row.score)) continue;
    let index = Math.floor((row.score - start) / step);
    if (index < 0 || index >= count) {
      // The top edge belongs to the last bin; anything beyond it is an outlier.
      if (row.score !== end) clipped++;
      index = Math.min(count - 1, Math.max(0, index));
    }
    const key = `${groupOf(row)}\u0000${index}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const bins: ScoreBin[] = [];
  for (const group of SCORE_GROUPS) {
    for (let i = 0; i < count; i++) {
      const n = counts.get(`${group}\u0000${i}`);
      if (n) bins.push({ group, start: start + i * step, end: start + (i + 1) * step, count: n });
    }
  }
  return { bins, domain: [start, end] as const, step, scored, inconclusive, repeated, clipped };
}

function failures(rows: readonly BatchReportRow[]): FailureGroup[] {
  const groups = new Map<string, { count: number; example: FailureGroup['example'] }>();
  for (const row of rows) {
    // A cancelled pair did not fail: it is counted apart.
    if (row.errorType === null || row.errorType === CANCELLED_PAIR) continue;
    const group = groups.get(row.errorType);
    if (group) group.count++;
    else
      groups.set(row.errorType, {
        count: 1,
        example: { message: row.errorMessage, line: row.line, id: row.id },
      });
  }
  return [...groups]
    .map(([errorType, g]) => ({ errorType, ...g }))
    .sort((a, b) => b.count - a.count || (a.errorType < b.errorType ? -1 : 1));
}

function throughput(rows: readonly BatchReportRow[], options: AggregateOptions): ThroughputSeries | null {
  const times: number[] = [];
  for (const row of rows) {
    if (row.completedAt === null || row.errorType === INVALID_MANIFEST_LINE) continue;
    const t = Date.parse(row.completedAt);
    if (Number.isFinite(t)) times.push(t);
  }
  if (times.length === 0) return null;
  times.sort((a, b) => a - b);
  const given = options.startedAt ? Date.parse(options.startedAt) : Number.NaN;
  const t0 = Number.isFinite(given) ? Math.min(given, times[0]!) : times[0]!;
  const givenEnd = options.finishedAt ? Date.parse(options.finishedAt) : Number.NaN;
  const t1 = Math.max(Number.isFinite(givenEnd) ? givenEnd : times.at(-1)!, times.at(-1)!, t0 + 1000);
  const seconds = (t1 - t0) / 1000;
  const unit = seconds <= 180 ? 's' : seconds <= 3 * 3600 ? 'min' : 'h';
  const perUnit = { s: 1, min: 60, h: 3600 }[unit];
  const buckets = options.timeBuckets ?? 60;
  const width = (t1 - t0) / buckets;
  const points = [{ t: 0, completed: 0, perSecond: 0 }];
  let i = 0;
  for (let b = 1; b <= buckets; b++) {
    const edge = b === buckets ? Infinity : t0 + b * width;
    let n = 0;
    while (i < times.length && times[i]! <= edge) {
      i++;
      n++;
    }
    points.push({ t: (b * width) / 1000 / perUnit, completed: i, perSecond: n / (width / 1000) });
  }
  return { unit, startedAt: new Date(t0).toISOString(), points };
}

/**
 * Reduces report rows to what the page draws: score histograms per label (shared bin edges, at
 * most `maxBins` per label; each distinct pair once, repeats left out and counted in `repeated`),
 * failures grouped by type with one example each (cancelled pairs are not failures), completions
 * over time in `timeBuckets` buckets, and a label × outcome table (invalid lines and cancelled
 * pairs are outcomes of their own, under the label the line gave). The result's size does not depend on
 * the number of rows, so a 100,000-pair batch gives a page as small as a 100-pair one. Pure.
 *
 * @example
 * const aggregates = aggregateRows(rows, { threshold: 0, startedAt: summary.startedAt });
 * aggregates.failures[0]?.errorType; // the most frequent failure
 */
export function aggregateRows(rows: readonly BatchReportRow[], options: AggregateOptions): ReportAggregates {
  const outcomes = Object.fromEntries(
    SCORE_GROUPS.map((g) => [g, Object.fromEntries(OUTCOMES.map((o) => [o, 0]))]),
  ) as Record<ScoreGroupName, Record<Outcome, number>>;
  for (const row of rows) {
    const outcome: Outcome =
      row.errorType === INVALID_MANIFEST_LINE
        ? 'invalid'
        : row.errorType === CANCELLED_PAIR
          ? 'cancelled'
          : row.errorType !== null
            ? 'failed'
            : (row.verdict ??
              (row.score === null || Number.isNaN(row.score)
                ? 'inconclusive'
                : row.score > row.threshold
                  ? 'deepfake'
                  : 'genuine'));
    outcomes[groupOf(row)][outcome]++;
  }
  return {
    threshold: options.threshold,
    scores: distribution(rows, options.threshold, options.maxBins ?? 40),
    failures: failures(rows),
    throughput: throughput(rows, options),
    outcomes,
  };
}

import type { Costs } from '../calibration/index.ts';
import { renderReportHtml } from './html.ts';
import { buildMetricsReport, type MetricsReport } from './metrics-json.ts';
import { summarizeRows, type BatchReportRow, type BatchReportSummary } from './types.ts';

export { loadReportRows, type LoadReportOptions } from './load-rows.ts';

/** Options of {@link calibrateReport}: what `rdd calibrate` passes from its flags. */
export interface CalibrateOptions {
  /** The operating threshold to report at (default: the rows' threshold, else 0). */
  readonly threshold?: number;
  /** `--p-spoof --c-miss --c-fa`: reported beside ASVspoof 5's costs. */
  readonly costs?: Costs;
  /** False acceptance rates to find thresholds for (default 1 %, 5 %, 10 %). */
  readonly targetFar?: readonly number[];
  /** What the page calls the set (default `calibration`), e.g. the file name or batch id. */
  readonly name?: string;
}

/** What {@link calibrateReport} returns: `metrics.json` content and a `report.html` page. */
export interface CalibrationReport {
  readonly metrics: MetricsReport;
  readonly html: string;
  readonly summary: BatchReportSummary;
}

/**
 * Recomputes the calibration metrics and the report page of any scored, labelled set: the core of
 * `rdd calibrate <report.jsonl | report.csv | s3://…>`. The summary's times are the first and last
 * `completedAt` of the rows (null when none). Pure apart from rendering (no I/O); idempotent.
 *
 * @throws {RangeError} for unusable costs or target FARs.
 * @example
 * const { metrics, html } = await calibrateReport(loadReportRows(text), { costs: { pSpoof: 0.01, cMiss: 1, cFa: 100 } });
 */
export async function calibrateReport(
  rows: readonly BatchReportRow[],
  options: CalibrateOptions = {},
): Promise<CalibrationReport> {
  const threshold = options.threshold ?? rows[0]?.threshold ?? 0;
  const metrics = buildMetricsReport(rows, {
    threshold,
    ...(options.costs ? { costs: options.costs } : {}),
    ...(options.targetFar ? { targetFar: options.targetFar } : {}),
  });
  const times = rows
    .map((r) => (r.completedAt === null ? Number.NaN : Date.parse(r.completedAt)))
    .filter(Number.isFinite);
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  const summary = summarizeRows(rows, {
    batchId: options.name ?? 'calibration',
    startedAt: iso(times.length > 0 ? Math.min(...times) : undefined),
    finishedAt: iso(times.length > 0 ? Math.max(...times) : undefined),
  });
  const html = await renderReportHtml({
    summary,
    rows,
    metrics,
    threshold,
    title: `Calibration of ${summary.batchId}`,
  });
  return { metrics, html, summary };
}

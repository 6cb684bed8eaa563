/**
 * Batch reports: rows → `report.csv`, `report.jsonl`, `metrics.json` and `report.html` (a
 * self-contained page with plots drawn by Vega-Lite in Node), and `calibrateReport` for
 * `rdd calibrate`. No I/O here: callers read and write the files (S3 or disk).
 *
 * @example
 * const summary = summarizeRows(rows, { batchId, startedAt, finishedAt });
 * const metrics = buildMetricsReport(rows, { threshold });
 * const files = {
 *   'report.csv': toReportCsv(rows),
 *   'report.jsonl': toReportJsonl(rows),
 *   'metrics.json': toMetricsJson(rows, { threshold }),
 *   'report.html': await renderReportHtml({ summary, rows, metrics, threshold }),
 * };
 */
export {
  CANCELLED_PAIR,
  INVALID_MANIFEST_LINE,
  REPORT_COLUMNS,
  summarizeRows,
  type BatchReportCounts,
  type BatchReportRow,
  type BatchReportSummary,
  type ReportLabel,
  type ReportVerdict,
  type SummaryMeta,
} from './types.ts';
export { CSV_HEADERS, toReportCsv } from './csv.ts';
export { toReportJsonLine, toReportJsonl } from './jsonl.ts';
export {
  CONVENTION_TEXT,
  buildMetricsReport,
  evaluatedScores,
  toMetricsJson,
  type MetricsReport,
  type NamedCosts,
  type ReportMetricsOptions,
} from './metrics-json.ts';
export {
  aggregateRows,
  type AggregateOptions,
  type FailureGroup,
  type ReportAggregates,
  type ScoreDistribution,
  type ThroughputSeries,
} from './aggregate.ts';
export { escapeHtml, renderReportHtml, type ReportHtmlInput } from './html.ts';
export {
  calibrateReport,
  loadReportRows,
  type CalibrateOptions,
  type CalibrationReport,
  type LoadReportOptions,
} from './calibrate.ts';
export { MAX_REPORT_PROBLEMS, ReportParseError, type ReportProblem } from './report-parse-error.ts';

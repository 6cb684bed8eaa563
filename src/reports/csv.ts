import { stringify } from 'csv-stringify/sync';
import { REPORT_COLUMNS, type BatchReportRow } from './types.ts';

/**
 * The CSV header of each report column, in {@link REPORT_COLUMNS} order. snake_case like a
 * manifest's columns, so a `report.csv` can be handed back to `rdd batch start` as a manifest
 * (`reference`, `questioned`, `reference_channel`, `questioned_channel`, `label`, `id`).
 */
export const CSV_HEADERS = {
  line: 'line',
  id: 'id',
  workflowId: 'workflow_id',
  reference: 'reference',
  referenceChannel: 'reference_channel',
  questioned: 'questioned',
  questionedChannel: 'questioned_channel',
  label: 'label',
  score: 'score',
  verdict: 'verdict',
  threshold: 'threshold',
  errorType: 'error_type',
  errorMessage: 'error_message',
  cached: 'cached',
  duplicateOf: 'duplicate_of',
  completedAt: 'completed_at',
} as const satisfies Record<(typeof REPORT_COLUMNS)[number], string>;

function cell(value: string | number | boolean | null): string {
  if (value === null) return '';
  // String(number) is the shortest text that parses back to the same double.
  return typeof value === 'string' ? value : String(value);
}

/**
 * `report.csv`: RFC 4180 (quoted where needed, CRLF-free `\n` records), a header row, columns in
 * {@link REPORT_COLUMNS} order; `null` is an empty cell, booleans `true`/`false`, numbers exact.
 * Pure; read it back with `loadReportRows`.
 *
 * @example
 * toReportCsv(rows).split('\n')[0]; // 'line,id,workflow_id,reference,…'
 */
export function toReportCsv(rows: readonly BatchReportRow[]): string {
  const header = REPORT_COLUMNS.map((c) => CSV_HEADERS[c]);
  const records = rows.map((row) => REPORT_COLUMNS.map((c) => cell(row[c])));
  return stringify([header, ...records], { eof: true, record_delimiter: 'unix' });
}

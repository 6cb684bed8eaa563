import { REPORT_COLUMNS, type BatchReportRow } from './types.ts';

/**
 * One row as a JSON line: keys in {@link REPORT_COLUMNS} order whatever the object's own order,
 * so two reports of the same rows are byte-identical. Pure.
 */
export function toReportJsonLine(row: BatchReportRow): string {
  const ordered: Record<string, unknown> = {};
  for (const column of REPORT_COLUMNS) ordered[column] = row[column];
  return JSON.stringify(ordered);
}

/**
 * `report.jsonl`: one {@link BatchReportRow} per line, `\n`-terminated. Pure; read it back with
 * `loadReportRows`.
 *
 * @example
 * toReportJsonl(rows).trimEnd().split('\n').map((l) => JSON.parse(l));
 */
export function toReportJsonl(rows: readonly BatchReportRow[]): string {
  return rows.map((row) => `${toReportJsonLine(row)}\n`).join('');
}

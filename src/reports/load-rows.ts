import { parse } from 'csv-parse/sync';
import { CSV_HEADERS } from './csv.ts';
import { MAX_REPORT_PROBLEMS, ReportParseError, type ReportProblem } from './report-parse-error.ts';
import { REPORT_COLUMNS, type BatchReportRow, type ReportLabel, type ReportVerdict } from './types.ts';

type Column = (typeof REPORT_COLUMNS)[number];

/** Options of {@link loadReportRows}. */
export interface LoadReportOptions {
  /** Named in error messages (default `report`). */
  readonly source?: string;
  /** The threshold of rows that do not carry one (default 0). */
  readonly threshold?: number;
}

/** Both spellings of every column: camelCase (report.jsonl) and snake_case (report.csv). */
const ALIASES = new Map<string, Column>();
for (const column of REPORT_COLUMNS) {
  ALIASES.set(column.toLowerCase(), column);
  ALIASES.set(CSV_HEADERS[column], column);
}

class BadField extends Error {}

const isBlank = (v: unknown): boolean => v === undefined || v === null || v === '';

function text(v: unknown, column: string): string | null {
  if (isBlank(v)) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new BadField(`${column} must be text`);
}

function number(v: unknown, column: string): number | null {
  if (isBlank(v)) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
  if (typeof v === 'string' && v.trim() === '') return null;
  if (Number.isNaN(n)) throw new BadField(`${column} is not a number: ${JSON.stringify(v)}`);
  return n;
}

function integer(v: unknown, column: string): number | null {
  const n = number(v, column);
  if (n !== null && !(Number.isInteger(n) && n >= 0)) throw new BadField(`${column} must be an integer >= 0`);
  return n;
}

function oneOf<T extends string>(v: unknown, column: string, allowed: readonly T[]): T | null {
  const s = text(v, column)?.trim().toLowerCase();
  if (s === undefined || s === '') return null;
  if ((allowed as readonly string[]).includes(s)) return s as T;
  throw new BadField(`${column} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
}

function boolean(v: unknown, column: string): boolean {
  if (isBlank(v)) return false;
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new BadField(`${column} must be true or false`);
}

/** One record (keys in either spelling) → a row. @throws {BadField} */
function toRow(
  record: Record<string, unknown>,
  sourceLine: number,
  defaultThreshold: number,
): BatchReportRow {
  const v: Partial<Record<Column, unknown>> = {};
  for (const [key, value] of Object.entries(record)) {
    const column = ALIASES.get(key) ?? ALIASES.get(key.toLowerCase());
    if (column) v[column] = value;
  }
  if (!('score' in v)) throw new BadField('no score field');
  const score = number(v.score, 'score');
  const threshold = number(v.threshold, 'threshold') ?? defaultThreshold;
  const errorType = text(v.errorType, 'errorType');
  const verdict =
    oneOf<ReportVerdict>(v.verdict, 'verdict', ['deepfake', 'genuine', 'inconclusive']) ??
    (errorType !== null
      ? null
      : score === null
        ? 'inconclusive'
        : score > threshold
          ? 'deepfake'
          : 'genuine');
  return {
    // A report's own `line` column wins, even when empty (a prefix batch has no lines).
    line: 'line' in v ? integer(v.line, 'line') : sourceLine,
    id: text(v.id, 'id'),
    workflowId: text(v.workflowId, 'workflowId'),
    reference: text(v.reference, 'reference') ?? '',
    referenceChannel: integer(v.referenceChannel, 'referenceChannel'),
    questioned: text(v.questioned, 'questioned') ?? '',
    questionedChannel: integer(v.questionedChannel, 'questionedChannel'),
    label: oneOf<ReportLabel>(v.label, 'label', ['genuine', 'deepfake']),
    score,
    verdict,
    threshold,
    errorType,
    errorMessage: text(v.errorMessage, 'errorMessage'),
    cached: boolean(v.cached, 'cached'),
    duplicateOf: text(v.duplicateOf, 'duplicateOf'),
    completedAt: text(v.completedAt, 'completedAt'),
  };
}

function jsonlRecords(body: string): { line: number; record?: Record<string, unknown>; reason?: string }[] {
  const out: { line: number; record?: Record<string, unknown>; reason?: string }[] = [];
  body.split('\n').forEach((raw, i) => {
    const lineText = raw.trim();
    if (lineText === '') return;
    try {
      const value: unknown = JSON.parse(lineText);
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        out.push({ line: i + 1, reason: 'not a JSON object' });
      else out.push({ line: i + 1, record: value as Record<string, unknown> });
    } catch (err) {
      out.push({ line: i + 1, reason: `not JSON: ${(err as Error).message}` });
    }
  });
  return out;
}

function csvRecords(body: string): { line: number; record?: Record<string, unknown>; reason?: string }[] {
  let parsed: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    parsed = parse(body, {
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as typeof parsed;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    return [{ line, reason: `not CSV: ${(err as Error).message}` }];
  }
  const [header, ...rows] = parsed;
  if (!header) return [];
  const names = header.record.map((h) => h.trim());
  if (!names.some((n) => ALIASES.get(n) === 'score' || ALIASES.get(n.toLowerCase()) === 'score'))
    return [{ line: header.info.lines, reason: `no score column in the header (${names.join(', ')})` }];
  return rows.map(({ record, info, raw }) => {
    // info.lines is where the record ends; a quoted field may span lines.
    const line = info.lines - (raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
    if (record.length !== names.length)
      return { line, reason: `${record.length} fields where the header has ${names.length}` };
    return { line, record: Object.fromEntries(names.map((n, i) => [n, record[i]])) };
  });
}

/**
 * Reads the rows of a `report.jsonl` or `report.csv` (told apart by the first character: `{` is
 * JSONL) — or any scored set in either form with at least a `score` column, a `label` column for
 * metrics, and columns named as in either report (camelCase or snake_case). Missing columns take
 * defaults: no label, not cached, the threshold from `options`, the verdict from score and
 * threshold, `line` the source line when there is no `line` column. Pure.
 *
 * @throws {ReportParseError} listing every bad line (up to {@link MAX_REPORT_PROBLEMS}) with its
 *   1-based line number and reason; nothing is returned when any line is bad.
 * @example
 * const rows = loadReportRows(await readFile('report.jsonl', 'utf8'), { source: 'report.jsonl' });
 */
export function loadReportRows(text: string, options: LoadReportOptions = {}): BatchReportRow[] {
  const body = text.replace(/^\uFEFF/, '');
  const records = body.trimStart().startsWith('{') ? jsonlRecords(body) : csvRecords(body);
  const rows: BatchReportRow[] = [];
  const problems: ReportProblem[] = [];
  for (const { line, record, reason } of records) {
    if (problems.length >= MAX_REPORT_PROBLEMS) break;
    if (!record) {
      problems.push({ line, reason: reason ?? 'unreadable' });
      continue;
    }
    try {
      rows.push(toRow(record, line, options.threshold ?? 0));
    } catch (err) {
      if (!(err instanceof BadField)) throw err;
      problems.push({ line, reason: err.message });
    }
  }
  if (problems.length > 0) throw new ReportParseError(problems, options.source);
  return rows;
}

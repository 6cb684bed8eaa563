/** The most problems a {@link ReportParseError} lists: past that, reading stops. */
export const MAX_REPORT_PROBLEMS = 100;

/** One line of a report that could not be read. */
export interface ReportProblem {
  /** 1-based line of the source text. */
  readonly line: number;
  readonly reason: string;
}

/**
 * A report.jsonl or report.csv that could not be read: every bad line (up to a bound) with its
 * line number and reason, so a user fixes them all in one go.
 *
 * @example
 * try { loadReportRows(text); } catch (err) { if (err instanceof ReportParseError) console.error(err.problems); }
 */
export class ReportParseError extends Error {
  override readonly name = 'ReportParseError';
  readonly code = 'ERR_REPORT_PARSE';

  /** Every bad line found, in order (at most {@link MAX_REPORT_PROBLEMS}). */
  readonly problems: readonly ReportProblem[];
  /** What was read, as named in the message (a file name or `report`). */
  readonly source: string;

  constructor(problems: readonly ReportProblem[], source = 'report') {
    const shown = problems.slice(0, 5).map((p) => `line ${p.line}: ${p.reason}`);
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    super(
      `${source}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`,
    );
    this.problems = problems;
    this.source = source;
  }
}

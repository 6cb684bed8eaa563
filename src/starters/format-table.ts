/**
 * The one plain-text table printer: columns separated by two spaces, a dashed rule under the
 * header, trailing spaces trimmed.
 */

/** How one column is aligned: `left` for text, `right` for numbers. */
export type ColumnAlign = 'left' | 'right';

/** Options of `formatTable`. */
export interface FormatTableOptions {
  /** Alignment per column; columns not listed are left-aligned. */
  align?: readonly ColumnAlign[];
}

/**
 * Formats rows under a header as an aligned text table. A missing cell prints as empty; each
 * column is as wide as its widest cell or header. Pure.
 * @example
 * formatTable(['pair', 'score'], [['same voice', '-2.1000']])
 * // pair        score
 * // ----------  -------
 * // same voice  -2.1000
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: FormatTableOptions = {},
): string {
  const cells = rows.map((row) => header.map((_, i) => row[i] ?? ''));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) =>
        options.align?.[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

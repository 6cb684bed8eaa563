/**
 * Benchmark tables: the project's one table printer (src/starters/format-table.ts) with a title,
 * the first `leftColumns` columns (default 1) left-aligned and the rest right-aligned (numbers).
 */
import { formatTable as formatRows, type ColumnAlign } from '../src/starters/format-table.ts';

/** A cell: numbers are printed as given by the caller's formatting; `undefined` prints `-`. */
export type Cell = string | number | undefined;

/**
 * Formats a titled table.
 * @example console.log(formatTable('upload', ['case', 'MiB/s'], [['2 × 64 MiB', fixed(812.4, 0)]]))
 */
export function formatTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  leftColumns = 1,
): string {
  const text = rows.map((row) => header.map((_, i) => cellText(row[i])));
  const align = header.map((_, i): ColumnAlign => (i < leftColumns ? 'left' : 'right'));
  return `${title}\n${formatRows(header, text, { align })}`;
}

/** A number with `digits` decimals; `-` for undefined or NaN. */
export function fixed(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/** A signed number with `digits` decimals, e.g. `+1.2`, `-0.3`. */
export function signed(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const text = value.toFixed(digits);
  return value >= 0 && !text.startsWith('-') ? `+${text}` : text;
}

function cellText(cell: Cell): string {
  if (cell === undefined) return '-';
  return typeof cell === 'number' ? String(cell) : cell;
}

/**
 * The one table printer: the demo's six-column table and the benchmarks' numeric tables.
 */
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/starters/format-table.ts';

describe('formatTable', () => {
  it('aligns columns under a dashed rule, two spaces apart, without trailing spaces', () => {
    const table = formatTable(
      ['pair', 'score', 'workflow'],
      [
        ['same speaker', '-2.1000', 'demo-1'],
        ['tts clone', '0.5050', ''],
      ],
    );
    expect(table.split('\n')).toEqual([
      'pair          score    workflow',
      '------------  -------  --------',
      'same speaker  -2.1000  demo-1',
      'tts clone     0.5050',
    ]);
  });

  it('right-aligns the columns asked for and prints a missing cell as empty', () => {
    expect(
      formatTable(['case', 'MiB/s'], [['2 × 64 MiB', '812'], ['small']], { align: ['left', 'right'] }),
    ).toBe(['case        MiB/s', '----------  -----', '2 × 64 MiB    812', 'small'].join('\n'));
  });
});

/**
 * `rangesWithout`: the backfill window split around the scheduled times that already have a batch,
 * so a repeated or overlapping backfill asks Temporal only for the missing times.
 */
import { describe, expect, it } from 'vitest';
import { rangesWithout } from '../../src/client/schedules.ts';

const at = (iso: string) => Date.parse(iso);
const window = { from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-06-04T00:00:00Z') };
const shown = (ranges: { from: Date; to: Date }[]) =>
  ranges.map((r) => `${r.from.toISOString()}..${r.to.toISOString()}`);

describe('rangesWithout', () => {
  it('is the whole window when no time has a batch', () => {
    expect(shown(rangesWithout(window, []))).toEqual(['2026-06-01T00:00:00.000Z..2026-06-04T00:00:00.000Z']);
  });

  it('cuts each taken time out by a millisecond either side, keeping the times between', () => {
    expect(shown(rangesWithout(window, [at('2026-06-01T02:00:00Z'), at('2026-06-02T02:00:00Z')]))).toEqual([
      '2026-06-01T00:00:00.000Z..2026-06-01T01:59:59.999Z',
      '2026-06-01T02:00:00.001Z..2026-06-02T01:59:59.999Z',
      '2026-06-02T02:00:00.001Z..2026-06-04T00:00:00.000Z',
    ]);
  });

  it('leaves nothing when the taken times are the window bounds of a one-time window', () => {
    const t = at('2026-06-01T02:00:00Z');
    expect(rangesWithout({ from: new Date(t), to: new Date(t) }, [t])).toEqual([]);
    // A taken time on a bound: the rest of the window stays.
    expect(shown(rangesWithout({ from: new Date(t), to: new Date(t + 3_600_000) }, [t]))).toEqual([
      '2026-06-01T02:00:00.001Z..2026-06-01T03:00:00.000Z',
    ]);
  });
});

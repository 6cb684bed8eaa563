import { describe, expect, it } from 'vitest';
import { allowanceFor, MIN_TYPICAL_SAMPLES, typicalJobSeconds } from '../../src/shared/platform-capacity.ts';

const job = (seconds: number) => ({
  audioSeconds: 40,
  afterSeconds: seconds - 0.1,
  beforeSeconds: seconds + 0.1,
});

describe('the queue allowance', () => {
  it('is a quarter of the capacity, at least one, without a learnt job time or a queue setting', () => {
    expect([1, 4, 8, 10].map((capacity) => allowanceFor(capacity))).toEqual([1, 1, 2, 3]);
    expect(allowanceFor(8, { queueMs: 1500 })).toBe(2);
    expect(allowanceFor(8, { queueMs: 0, jobSeconds: 1 })).toBe(2);
  });

  it('covers queueMs of work at the learnt job time, never more than the capacity', () => {
    // 8 slots of 1 s jobs do 12 jobs in 1.5 s: capped at 8.
    expect(allowanceFor(8, { queueMs: 1500, jobSeconds: 1 })).toBe(8);
    // 3 s jobs: ⌈8 × 1.5 / 3⌉ = 4.
    expect(allowanceFor(8, { queueMs: 1500, jobSeconds: 3 })).toBe(4);
    // 10 s jobs: ⌈1.2⌉ = 2, the quarter already covers it.
    expect(allowanceFor(8, { queueMs: 1500, jobSeconds: 10 })).toBe(2);
    expect(allowanceFor(8, { queueMs: 1500, jobSeconds: 0 })).toBe(2);
  });

  it('learns the typical job time as the median of at least five observations', () => {
    const some = [1, 1.2, 0.8, 30, 1.1].map(job);
    expect(typicalJobSeconds(some.slice(0, MIN_TYPICAL_SAMPLES - 1))).toBeUndefined();
    // An outlier (30 s) does not move the median.
    expect(typicalJobSeconds(some)).toBeCloseTo(1.1, 6);
    expect(typicalJobSeconds([...some, job(0.9)])).toBeCloseTo((1 + 1.1) / 2, 6);
  });
});

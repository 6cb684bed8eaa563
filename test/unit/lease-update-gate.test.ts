import { describe, expect, it } from 'vitest';
import { leaseUpdatesInFlight, withLeaseUpdateSlot } from '../../src/activities/lease-update-gate.ts';

/** A unit of work the test settles by hand. */
function manual() {
  let resolve!: (value: string) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('withLeaseUpdateSlot', () => {
  it('runs at most `limit` calls per workflow at once, the rest first come first served', async () => {
    const signal = new AbortController().signal;
    const works = Array.from({ length: 5 }, () => manual());
    const started: number[] = [];
    const results = works.map((work, n) =>
      withLeaseUpdateSlot(
        'wf-a',
        signal,
        () => {
          started.push(n);
          return work.promise;
        },
        2,
      ),
    );
    for (const result of results) result.catch(() => undefined); // asserted below
    // Another workflow has slots of its own.
    const other = manual();
    const otherResult = withLeaseUpdateSlot('wf-b', signal, () => other.promise, 2);
    await tick();
    expect(started).toEqual([0, 1]);
    expect(leaseUpdatesInFlight('wf-a')).toBe(2);
    expect(leaseUpdatesInFlight('wf-b')).toBe(1);

    works[1]!.resolve('one');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    works[0]!.reject(new Error('refused'));
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const n of [2, 3]) works[n]!.resolve(String(n));
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    works[4]!.resolve('4');
    other.resolve('b');

    await expect(results[0]).rejects.toThrow('refused');
    expect(await Promise.all(results.slice(1))).toEqual(['one', '2', '3', '4']);
    expect(await otherResult).toBe('b');
    expect(leaseUpdatesInFlight('wf-a')).toBe(0);
  });

  it('gives up waiting on abort without calling the work, and frees the slot only when the work settles', async () => {
    const running = manual();
    const first = withLeaseUpdateSlot('wf-c', new AbortController().signal, () => running.promise, 1);
    const waiting = new AbortController();
    let called = false;
    const second = withLeaseUpdateSlot(
      'wf-c',
      waiting.signal,
      () => {
        called = true;
        return Promise.resolve('never');
      },
      1,
    );
    waiting.abort(new Error('shutting down'));
    await expect(second).rejects.toThrow('shutting down');
    expect(called).toBe(false);
    expect(leaseUpdatesInFlight('wf-c')).toBe(1);

    const third = withLeaseUpdateSlot(
      'wf-c',
      new AbortController().signal,
      () => Promise.resolve('third'),
      1,
    );
    await tick();
    expect(leaseUpdatesInFlight('wf-c')).toBe(1);
    running.resolve('first');
    expect(await first).toBe('first');
    expect(await third).toBe('third');
    expect(leaseUpdatesInFlight('wf-c')).toBe(0);
  });
});

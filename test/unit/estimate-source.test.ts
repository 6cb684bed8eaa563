/**
 * The process-wide source of completion-time estimates (src/activities/estimate-source.ts), with a
 * scripted query in place of the capacity workflow: how often it asks, that it tells watchers of
 * changes only, keeps the last answer through failures, and stops asking when nobody watches.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEstimateSource,
  type EstimateQuery,
  type EstimateSource,
  type FetchedEstimate,
} from '../../src/activities/estimate-source.ts';
import type { CompletionModel } from '../../src/shared/completion-estimate.ts';

const INTERVAL_MS = 40;
const model = (samples: number): CompletionModel => ({
  baseSeconds: 2 * samples,
  perAudioSecond: 0.1,
  samples,
  spreadSeconds: 0,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let source: EstimateSource | undefined;
afterEach(() => source?.close());

/** A query answering `answers()` each time, recording each call's workflow id, start and signal. */
function scripted(answers: () => Promise<CompletionModel | undefined>) {
  const calls: { id: string; at: number; signal: AbortSignal }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const query: EstimateQuery = async (id, signal) => {
    calls.push({ id, at: Date.now(), signal });
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return await answers();
    } finally {
      inFlight -= 1;
    }
  };
  return { query, calls, maxInFlight: () => maxInFlight };
}

describe('createEstimateSource', () => {
  it('asks at once, then about once per interval while watched, one query at a time', async () => {
    // A query slower than the interval: the next one waits for it.
    const { query, calls, maxInFlight } = scripted(async () => {
      await sleep(INTERVAL_MS * 1.5);
      return model(1);
    });
    source = createEstimateSource({ query, intervalMs: INTERVAL_MS });
    const a = source.watch('cap-1', () => {});
    const b = source.watch('cap-1', () => {});
    await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(4), { timeout: 2000 });
    expect(maxInFlight()).toBe(1);
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 5);
    }
    expect(new Set(calls.map((c) => c.id))).toEqual(new Set(['cap-1']));
    a.close();
    b.close();
  });

  it('tells watchers of a changed estimate only, and keeps the last one through failures', async () => {
    const script: (() => CompletionModel | undefined)[] = [
      () => model(1),
      () => model(1), // unchanged: nobody is told
      () => {
        throw new Error('no worker answered the query');
      },
      () => undefined, // a run without an estimate
      () => model(2),
    ];
    let n = 0;
    const { query } = scripted(() => Promise.resolve().then(script[Math.min(n++, script.length - 1)]));
    const errors: unknown[] = [];
    source = createEstimateSource({
      query,
      intervalMs: INTERVAL_MS,
      onError: (_id, err) => errors.push(err),
    });
    const heard: FetchedEstimate[] = [];
    const watch = source.watch('cap-1', (e) => heard.push(e));
    await vi.waitFor(() => expect(heard.length).toBe(2), { timeout: 2000 });
    expect(heard.map((e) => e.model.samples)).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    expect(source.stats.failures).toBe(1);
    expect(watch.latest?.model).toEqual(model(2));
    watch.close();
  });

  it('a new watch sees the latest answer at once, and a listener that throws does not stop the others', async () => {
    const { query } = scripted(() => Promise.resolve(model(3)));
    source = createEstimateSource({ query, intervalMs: INTERVAL_MS });
    const heard: number[] = [];
    const first = source.watch('cap-1', () => {
      throw new Error('a broken listener');
    });
    const second = source.watch('cap-1', (e) => heard.push(e.model.samples));
    await vi.waitFor(() => expect(heard).toEqual([3]), { timeout: 2000 });
    const third = source.watch('cap-1', () => {});
    expect(third.latest?.model).toEqual(model(3));
    for (const w of [first, second, third]) w.close();
  });

  it('stops asking when the last watch closes (aborting a query in flight), and starts again on a new watch', async () => {
    const { query, calls } = scripted(
      () => new Promise((resolve) => setTimeout(() => resolve(model(1)), INTERVAL_MS / 2)),
    );
    source = createEstimateSource({ query, intervalMs: INTERVAL_MS });
    const watch = source.watch('cap-1', () => {});
    await vi.waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(2), { timeout: 2000 });
    watch.close();
    watch.close(); // idempotent
    const asked = calls.length;
    await sleep(INTERVAL_MS * 5);
    expect(calls.length).toBe(asked);
    const again = source.watch('cap-1', () => {});
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(asked), { timeout: 2000 });
    again.close();
  });

  it('after close(), asks nothing more and a watch hears nothing', async () => {
    const { query, calls } = scripted(() => Promise.resolve(model(1)));
    source = createEstimateSource({ query, intervalMs: INTERVAL_MS });
    const heard: FetchedEstimate[] = [];
    const watch = source.watch('cap-1', (e) => heard.push(e));
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 2000 });
    source.close();
    const asked = calls.length;
    const late = source.watch('cap-2', (e) => heard.push(e));
    await sleep(INTERVAL_MS * 5);
    expect(calls.length).toBe(asked);
    expect(heard).toHaveLength(1);
    watch.close();
    late.close();
  });

  it('abandons a query that takes longer than queryTimeoutMs and keeps polling', async () => {
    let n = 0;
    const { query, calls } = scripted(async () => {
      n += 1;
      // The first query hangs until aborted; the next answer.
      if (n === 1) return new Promise<CompletionModel>(() => {});
      return model(1);
    });
    const errors: unknown[] = [];
    source = createEstimateSource({
      query,
      intervalMs: INTERVAL_MS,
      queryTimeoutMs: INTERVAL_MS,
      onError: (_id, err) => errors.push(err),
    });
    const heard: FetchedEstimate[] = [];
    const watch = source.watch('cap-1', (e) => heard.push(e));
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 2000 });
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(errors).toHaveLength(1);
    watch.close();
  });
});

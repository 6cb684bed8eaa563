/**
 * The Temporal UI's text: summaries name a pair by a tag (never its keys), stable per pair and
 * distinct between pairs; the batch's current details count its rows.
 */
import { describe, expect, it } from 'vitest';
import type { BatchProgress } from '../../src/shared/batch.ts';
import {
  batchCurrentDetails,
  clockTime,
  detectionDetails,
  detectionSummary,
  pairTag,
  shortJobId,
  sweepSummary,
} from '../../src/shared/ui-text.ts';

const reference = { bucket: 'media', key: 'calls/jane-doe/reference.wav' };
const questioned = { bucket: 'media', key: 'calls/jane-doe/questioned.mp3', channel: 1 };

describe('ui text', () => {
  it('tags a pair with 8 hex digits, the same for the same pair, different for another or swapped pair', () => {
    expect(pairTag(reference, questioned)).toMatch(/^[0-9a-f]{8}$/);
    expect(pairTag({ ...reference }, { ...questioned })).toBe(pairTag(reference, questioned));
    expect(pairTag(questioned, reference)).not.toBe(pairTag(reference, questioned));
    expect(pairTag(reference, { ...questioned, channel: 0 })).not.toBe(pairTag(reference, questioned));
  });

  it('keeps keys and file names out of the summary and details', () => {
    const input = {
      reference,
      questioned,
      threshold: 0.5,
      result: { key: 'out/jane-doe.json' },
      batchId: 'b-1',
    };
    const summary = detectionSummary(input);
    expect(summary).toBe(`detection of pair ${pairTag(reference, questioned)} · threshold 0.5 · batch b-1`);
    const details = detectionDetails(input);
    expect(details).toContain('questioned: channel 1');
    expect(details).toContain("result: the caller's key");
    for (const text of [summary, details]) {
      expect(text).not.toMatch(/jane|calls\/|\.wav|\.mp3|out\//);
    }
    expect(sweepSummary({ bucket: 'media', rules: [{}, {}] }, 'every 15m')).toBe(
      'sweep of bucket media for lost S3 events (2 rules) · every 15m',
    );
  });

  it('counts a batch as "done/total, failed, in flight", "so far" while the manifest is read', () => {
    const progress: BatchProgress = {
      total: 1000,
      done: 412,
      failed: 3,
      cached: 0,
      invalid: 0,
      duplicates: 0,
      inFlight: 8,
      remaining: 588,
      rate: 1,
      etaSeconds: 588,
      paused: false,
      cancelled: false,
      phase: 'running',
      runIndex: 0,
      startedAt: '2026-12-01T00:00:00.000Z',
    };
    expect(batchCurrentDetails(progress)).toBe('412/1000 done (3 failed), 8 in flight');
    expect(batchCurrentDetails({ ...progress, total: null, phase: 'paused', runIndex: 2, cached: 5 })).toBe(
      '412 done so far (3 failed, 5 from the score cache), 8 in flight (paused) · run 3',
    );
    // A cancelled batch: the pairs it never started, and `cancelled` (not `done`) once it ended.
    const cancelled = {
      ...progress,
      total: 36,
      done: 8,
      failed: 1,
      inFlight: 5,
      remaining: 28,
      cancelled: true,
    };
    expect(batchCurrentDetails({ ...cancelled, cancelledPairs: 0, phase: 'cancelling' })).toBe(
      '8/36 done (1 failed), 5 in flight, 23 never started (cancelling)',
    );
    expect(
      batchCurrentDetails({
        ...cancelled,
        done: 13,
        inFlight: 0,
        remaining: 23,
        cancelledPairs: 5,
        phase: 'done',
      }),
    ).toBe('13/36 done (1 failed, 5 cancelled), 0 in flight, 23 never started (cancelled)');
  });

  it('shortens job ids and prints workflow times as UTC clock times', () => {
    expect(shortJobId('3f2a9c1b-0000-4000-8000-000000000000')).toBe('3f2a9c1b…');
    expect(clockTime('2026-12-01T14:02:07.512Z')).toBe('14:02:07 UTC');
  });
});

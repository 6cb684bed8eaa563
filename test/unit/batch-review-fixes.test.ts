/**
 * The fresh user's review of batches (issue 7): cancelled pairs counted apart from failures,
 * invalid lines kept under their label, one scored count in histogram and calibration, a note when
 * the batch threshold is off the DET axes, manifest-column channel hints, the progress bar's `?`,
 * no ETA while paused, and `rdd calibrate` on unreachable S3. Pure code (the CLI as a child process).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  aggregateRows,
  buildMetricsReport,
  renderReportHtml,
  summarizeRows,
  type BatchReportRow,
} from '../../src/reports/index.ts';
import { batchFailureMessage } from '../../src/shared/batch-failure-message.ts';
import type { BatchProgress } from '../../src/shared/batch.ts';
import { barPayload, formatSummary, progressLine } from '../../src/starters/batch-action.ts';

const run = promisify(execFile);
const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');
const META = { batchId: 'b1', startedAt: '2025-03-01T22:00:00.000Z', finishedAt: '2025-03-01T22:01:00.000Z' };

function row(n: number, fields: Partial<BatchReportRow>): BatchReportRow {
  const score = fields.score === undefined ? null : fields.score;
  return {
    line: n + 2,
    id: `p${n}`,
    workflowId: `b1-${n}`,
    reference: 's3://m/ref.wav',
    referenceChannel: null,
    questioned: `s3://m/q${n}.wav`,
    questionedChannel: null,
    label: null,
    score,
    verdict: score === null ? null : score > 0 ? 'deepfake' : 'genuine',
    threshold: 0,
    errorType: null,
    errorMessage: null,
    cached: false,
    duplicateOf: null,
    completedAt: '2025-03-01T22:00:30.000Z',
    ...fields,
  };
}

/** Separated classes: at threshold 0 nothing is missed, so P_miss is 0 (off the probit axis). */
function labelledRows(): BatchReportRow[] {
  return [
    ...[-3, -2.6, -2.2, -1.8, -1.4, -1.0, -0.6, -0.2, -0.1].map((score, i) =>
      row(i, { label: 'genuine', score }),
    ),
    ...[-1.2, -0.4, -0.15, 0.3, 0.8, 1.2, 1.6, 2, 2.4, 3].map((score, i) =>
      row(10 + i, { label: 'deepfake', score }),
    ),
  ];
}

describe('cancelled pairs (review 4)', () => {
  const rows = [
    row(0, { score: 1 }),
    row(1, { errorType: 'Cancelled', errorMessage: 'cancelled with the batch', completedAt: null }),
    row(2, { errorType: 'MediaNotFound', errorMessage: 'gone', completedAt: null }),
  ];

  it('are counted as cancelled, not failed, and left out of the failures and the throughput', async () => {
    const summary = summarizeRows(rows, { ...META, status: 'cancelled' });
    expect(summary.counts).toMatchObject({ total: 3, scored: 1, failed: 1, cancelled: 1 });
    expect(summary.throughput).toBeCloseTo(2 / 60, 12);
    const aggregates = aggregateRows(rows, { threshold: 0 });
    expect(aggregates.failures.map((f) => f.errorType)).toEqual(['MediaNotFound']);
    expect(aggregates.outcomes.unlabelled).toMatchObject({ failed: 1, cancelled: 1, deepfake: 1 });
    const html = await renderReportHtml({ summary, rows, metrics: null, threshold: 0 });
    expect(html).toContain('<div class="n">1</div><div class="k">cancelled</div>');
    expect(html).toContain('<th class="r">cancelled</th>');
    const line = formatSummary({
      ...summary,
      location: 's3://r/batches/b1/',
      files: {
        csv: { bucket: 'r', key: 'c' },
        jsonl: { bucket: 'r', key: 'j' },
        html: { bucket: 'r', key: 'h' },
      },
      runs: 1,
    });
    expect(line).toContain('1 failed (0 invalid lines), 1 cancelled');
  });

  it('are named in the progress line', () => {
    expect(progressLine(progress({ failed: 1, cancelledPairs: 3 }))).toContain('(1 failed, 3 cancelled,');
  });
});

describe('invalid lines keep their label (review 3)', () => {
  it('count under their label as an "invalid line" outcome', async () => {
    const rows = [
      row(0, { label: 'genuine', score: -1 }),
      row(1, { label: 'deepfake', errorType: 'InvalidManifestLine', errorMessage: 'bad channel' }),
    ];
    const aggregates = aggregateRows(rows, { threshold: 0 });
    expect(aggregates.outcomes.deepfake).toMatchObject({ invalid: 1, failed: 0 });
    expect(aggregates.outcomes.unlabelled.invalid).toBe(0);
    const html = await renderReportHtml({
      summary: summarizeRows(rows, META),
      rows,
      metrics: null,
      threshold: 0,
    });
    expect(html).toContain('<th class="r">invalid line</th>');
    expect(html).toMatch(
      /var\(--deepfake\)"><\/span>deepfake<\/td>(<td class="r[^"]*">\d+<\/td>){5}<td class="r">1<\/td>/,
    );
    expect(html).not.toMatch(/var\(--unlabelled\)/);
  });
});

describe('one scored count, and the threshold off the DET axes (review 9)', () => {
  it('histogram and calibration count each distinct pair once; the caption says a repeat is left out', async () => {
    const rows = [...labelledRows(), row(20, { label: 'genuine', score: -2, duplicateOf: 'b1-2' })];
    const scores = aggregateRows(rows, { threshold: 0 }).scores!;
    const metrics = buildMetricsReport(rows, { threshold: 0 });
    expect(scores.scored.genuine).toBe(metrics.metrics.counts.genuine);
    expect(scores.scored.genuine).toBe(9);
    expect(scores.repeated).toBe(1);
    const html = await renderReportHtml({ summary: summarizeRows(rows, META), rows, metrics, threshold: 0 });
    expect(html).toContain('9 scored');
    expect(html).toContain('1 row repeats a pair scored earlier in the batch (left out)');
    expect(html).toContain('9 genuine and 10 deepfake pairs with a score; left out: 1 repeated');
  });

  it('says why no diamond is drawn when P_miss is 0 at the batch threshold', async () => {
    const rows = labelledRows();
    const metrics = buildMetricsReport(rows, { threshold: 0 });
    expect(metrics.metrics.figures!.atThreshold.pMiss).toBe(0);
    const html = await renderReportHtml({ summary: summarizeRows(rows, META), rows, metrics, threshold: 0 });
    expect(html).toContain("this batch's threshold (miss 0 %, FAR 30.0 %) lies off the axes");
    expect(html).not.toContain("diamond: this batch's threshold");
    // At a threshold inside both classes the diamond is drawn and the caption promises it.
    const inside = buildMetricsReport(rows, { threshold: -0.3 });
    const on = await renderReportHtml({
      summary: summarizeRows(rows, META),
      rows,
      metrics: inside,
      threshold: -0.3,
    });
    expect(on).toContain("diamond: this batch's threshold.");
    expect(on).toMatch(/>at threshold [−-]0\.3<\/text>/);
  });
});

describe('channel failures name the manifest column (review 8)', () => {
  const required = 'questioned s3://b/k has 2 channels; choose one (0–1) with its channel option';
  it('in a manifest batch', () => {
    expect(batchFailureMessage('MediaChannelRequired', required, 'manifest')).toBe(
      'questioned s3://b/k has 2 channels; choose one (0–1) in the manifest column questioned_channel',
    );
    expect(
      batchFailureMessage(
        'MediaChannelOutOfRange',
        'reference s3://b/r has 2 channel(s); channel 3 does not exist (use 0–1)',
        'manifest',
      ),
    ).toBe(
      'reference s3://b/r has 2 channel(s); channel 3 does not exist (use 0–1); choose the channel in the manifest column reference_channel',
    );
  });
  it('in a prefix batch, and leaves other failures alone', () => {
    expect(batchFailureMessage('MediaChannelRequired', required, 'prefix')).toContain(
      'in a manifest with a questioned_channel column',
    );
    expect(batchFailureMessage('MediaNotFound', 'questioned gone with its channel option', 'manifest')).toBe(
      'questioned gone with its channel option',
    );
  });
});

function progress(fields: Partial<BatchProgress> = {}): BatchProgress {
  return {
    total: 10,
    done: 4,
    failed: 0,
    cached: 0,
    invalid: 0,
    duplicates: 0,
    inFlight: 2,
    remaining: 6,
    rate: 2,
    etaSeconds: 3,
    paused: false,
    cancelled: false,
    phase: 'running',
    runIndex: 0,
    startedAt: META.startedAt,
    ...fields,
  };
}

describe('progress display (reviews 6 and 7)', () => {
  it('the bar shows ? for total and percentage until the total is known', () => {
    expect(barPayload(progress({ total: null, remaining: null, done: 0 }))).toMatchObject({
      totalText: '?',
      percentText: '?%',
    });
    expect(barPayload(progress())).toMatchObject({ totalText: '10', percentText: '40%', etaText: '3 s' });
  });
  it('a paused batch shows no ETA, in the line and in the bar', () => {
    const paused = progress({ paused: true, phase: 'paused', etaSeconds: 12 });
    expect(progressLine(paused)).not.toContain('ETA');
    expect(progressLine(paused)).toMatch(/pairs\/s, paused$/);
    expect(barPayload(paused).etaText).toBe('— (paused)');
    expect(progressLine(progress())).toContain('ETA 3 s, running');
  });
  it('a batch cancelled while paused says cancelling, then cancelled, never paused', () => {
    const cancelling = progress({ paused: true, cancelled: true, phase: 'cancelling' });
    expect(progressLine(cancelling)).toMatch(/pairs\/s, cancelling$/);
    expect(progressLine({ ...cancelling, phase: 'done' })).toMatch(/pairs\/s, cancelled$/);
    expect(progressLine({ ...cancelling, phase: 'done' })).not.toContain('ETA');
  });
});

describe('rdd calibrate s3://… (review 2)', () => {
  it('exits 1 without a usage hint when S3 does not answer', async () => {
    const failed = await run(process.execPath, [RDD, 'calibrate', 's3://rdd-media/nope.jsonl'], {
      env: {
        ...process.env,
        RDD_STACK_DIR: path.join(import.meta.dirname, 'no-stack-here'),
        S3_ENDPOINT: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        AWS_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
      },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    const stderr = (failed as { stderr: string }).stderr;
    expect(stderr).toContain('cannot read s3://rdd-media/nope.jsonl');
    expect(stderr).not.toContain('--help');
  });
});

/**
 * Batches on a real Temporal dev server, real versitygw and the emulator over real HTTP: the
 * sliding window under the platform lease, manifest problems with their line numbers, failed
 * children, duplicates, continue-as-new with pause/resume around it, cancel, metrics.json, and
 * `rdd batch start --wait` as a child process.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cancelBatch,
  getBatch,
  pauseBatch,
  resumeBatch,
  startBatch,
  waitForBatch,
  type BatchView,
} from '../../src/client/batches.ts';
import { BatchUpdateRejectedError } from '../../src/client/batch-update-rejected-error.ts';
import { buildMetricsReport } from '../../src/reports/metrics-json.ts';
import { loadReportRows } from '../../src/reports/load-rows.ts';
import type { BatchReportRow } from '../../src/reports/types.ts';
import type { BatchInput, BatchSummary } from '../../src/shared/batch.ts';
import { sha256File, speechWav, stereoWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

const run = promisify(execFile);
const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');

let harness: Harness;
/** Four distinct recordings, each uploaded under many keys, plus one the platform always fails. */
const recordings: string[] = [];
let failing: string;
let slow: string;
let stereo: string;

beforeAll(async () => {
  const voices = ['en+m3', 'en+f3', 'en+m7', 'en+f2'];
  for (const [i, voice] of voices.entries()) {
    recordings.push(
      await speechWav({ text: `Batch recording number ${i + 1} for the sliding window.`, voice }),
    );
  }
  failing = await speechWav({ text: 'The engine crashes on this batch pair every time.', voice: 'en+f4' });
  slow = await speechWav({ text: 'This batch pair takes a very long time.', voice: 'en+m1' });
  stereo = await stereoWav();
  harness = await startHarness(
    {
      capacity: 4,
      processing: { fixedMs: 400 },
      fixtures: {
        [await sha256File(failing)]: { state: 'failed', message: 'engine crashed' },
        [await sha256File(slow)]: { processingMs: 600_000 },
      },
    },
    { workerEnv: { DETECTOR_CAPACITY: '4' } },
  );
}, 180_000);

afterAll(async () => {
  await harness?.close();
});

/** Uploads `count` copies spread over the recordings: `<prefix>/q-<n>.wav`. */
async function uploadCopies(prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, n) => `${prefix}/q-${n}.wav`);
  for (let i = 0; i < keys.length; i += 20) {
    await Promise.all(
      keys.slice(i, i + 20).map((key, j) => harness.upload(recordings[(i + j) % recordings.length]!, key)),
    );
  }
  return keys;
}

async function putText(key: string, text: string): Promise<{ bucket: string; key: string }> {
  await harness.s3.send(new PutObjectCommand({ Bucket: harness.bucket, Key: key, Body: text }));
  return { bucket: harness.bucket, key };
}

async function getText(key: string): Promise<string> {
  const answer = await harness.s3.send(new GetObjectCommand({ Bucket: harness.bucket, Key: key }));
  return await answer.Body!.transformToString();
}

const uri = (key: string) => `s3://${harness.bucket}/${key}`;

async function runBatch(
  id: string,
  input: BatchInput,
): Promise<{ summary: BatchSummary; rows: BatchReportRow[] }> {
  await startBatch(harness.client, { polling: FAST_POLLING, ...input }, { id, taskQueue: harness.taskQueue });
  const view = await waitForBatch(harness.client, id, { intervalMs: 250 });
  expect(view.state, JSON.stringify(view)).toBe('completed');
  const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
  const rows = loadReportRows(await getText(summary.files.jsonl.key));
  return { summary, rows };
}

describe('batchWorkflow', () => {
  it('scores a 200-line manifest once per line, never more than capacity + 1 jobs on the platform', async () => {
    const prefix = `${harness.taskQueue}/window`;
    const reference = (await harness.upload(recordings[0]!, `${prefix}/ref.wav`)).key;
    const keys = await uploadCopies(prefix, 190);
    // 190 distinct pairs, then 10 lines repeating earlier ones.
    const lines = ['id,reference,questioned'];
    for (const [n, key] of keys.entries()) lines.push(`p${n},${uri(reference)},${uri(key)}`);
    for (let n = 0; n < 10; n++) lines.push(`dup${n},${uri(reference)},${uri(keys[n * 7]!)}`);
    const manifest = await putText(`${prefix}/pairs.csv`, `${lines.join('\n')}\n`);
    const id = `${harness.taskQueue}-window`;

    // cache: false keeps every distinct pair on the platform, so the bound is exercised 190 times.
    const { summary, rows } = await runBatch(id, { manifest, concurrency: 16, cache: false });

    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.line)).size).toBe(200);
    expect(rows.map((r) => r.line)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    expect(rows.filter((r) => r.errorType !== null)).toEqual([]);
    const duplicates = rows.filter((r) => r.duplicateOf !== null);
    expect(duplicates.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, n) => `dup${n}`));
    for (const dup of duplicates) {
      const original = rows.find((r) => r.workflowId === dup.duplicateOf)!;
      expect(dup.score).toBe(original.score);
      expect(dup.score).not.toBeNull();
    }
    expect(summary.counts).toMatchObject({ total: 200, scored: 200, failed: 0, duplicates: 10 });
    // Every distinct pair went to the platform once: no lost or doubled submissions.
    const stats = harness.emulator.stats();
    expect(stats.maxConcurrentJobs).toBeGreaterThanOrEqual(4);
    expect(stats.maxConcurrentJobs).toBeLessThanOrEqual(5);
  }, 240_000);

  it('reports invalid lines, missing objects and a platform-failed pair with line and reason, and finishes', async () => {
    const prefix = `${harness.taskQueue}/problems`;
    const ref = uri((await harness.upload(recordings[0]!, `${prefix}/ref.wav`)).key);
    const good = uri((await harness.upload(recordings[1]!, `${prefix}/good.wav`)).key);
    const bad = uri((await harness.upload(failing, `${prefix}/fails.wav`)).key);
    const twoChannels = uri((await harness.upload(stereo, `${prefix}/stereo.wav`)).key);
    const csv = [
      'reference,questioned,questioned_channel,label,id',
      `${ref},${good},,genuine,ok`, // 2
      `${ref},s3://Bad_Bucket/x.wav,,,badbucket`, // 3
      `${ref},"${good},,,,unterminated`, // 4
      `${ref},${good},-1,deepfake,badchannel`, // 5: keeps its label
      `${ref},${good},,maybe,badlabel`, // 6
      `${ref},${uri(`${prefix}/missing.wav`)},,,missing`, // 7
      `${ref},${bad},,,fails`, // 8
      '', // 9: blank lines are skipped
      `${ref},${good},0,,channel0`, // 10
      `${ref},${twoChannels},,,stereo`, // 11: no channel chosen
    ].join('\n');
    const manifest = await putText(`${prefix}/pairs.csv`, csv);
    const { summary, rows } = await runBatch(`${harness.taskQueue}-problems`, {
      manifest,
      resubmit: { maxFailedResubmits: 0 },
    });
    const byLine = new Map(rows.map((r) => [r.line, r]));
    expect([...byLine.keys()]).toEqual([2, 3, 4, 5, 6, 7, 8, 10, 11]);
    expect(byLine.get(2)).toMatchObject({ errorType: null, verdict: expect.any(String), label: 'genuine' });
    expect(byLine.get(3)).toMatchObject({ errorType: 'InvalidManifestLine', id: 'badbucket' });
    expect(byLine.get(3)!.errorMessage).toMatch(
      /questioned bucket "Bad_Bucket" is not a valid S3 bucket name/,
    );
    expect(byLine.get(4)).toMatchObject({ errorType: 'InvalidManifestLine' });
    expect(byLine.get(4)!.errorMessage).toMatch(/not a CSV record/);
    expect(byLine.get(5)!.errorMessage).toMatch(/questioned_channel must be a 0-based channel index/);
    expect(byLine.get(5)!.label).toBe('deepfake');
    expect(byLine.get(6)!.errorMessage).toMatch(/label must be genuine or deepfake/);
    expect(byLine.get(7)).toMatchObject({ errorType: 'MediaNotFound', id: 'missing' });
    expect(byLine.get(7)!.errorMessage).toContain('missing.wav');
    expect(byLine.get(8)).toMatchObject({ errorType: 'DetectorJobFailed', id: 'fails' });
    expect(byLine.get(8)!.errorMessage).toContain('engine crashed');
    expect(byLine.get(10)).toMatchObject({ errorType: null, questionedChannel: 0 });
    expect(byLine.get(11)).toMatchObject({ errorType: 'MediaChannelRequired' });
    expect(byLine.get(11)!.errorMessage).toMatch(
      /choose one \(0–1\) in the manifest column questioned_channel$/,
    );
    expect(summary.counts).toMatchObject({ total: 9, invalid: 4, failed: 7, scored: 2, cancelled: 0 });
    // The invalid line counts under its label in the page's outcome table.
    expect(await getText(summary.files.html.key)).toContain('<th class="r">invalid line</th>');
    expect(summary.status).toBe('completed');
  }, 120_000);

  it('continues as new every 10 pairs; pause and resume around it lose nothing', async () => {
    const prefix = `${harness.taskQueue}/can`;
    const reference = uri((await harness.upload(recordings[2]!, `${prefix}/ref.wav`)).key);
    const keys = await uploadCopies(prefix, 45);
    const jsonl = keys
      .map((key, n) => JSON.stringify({ id: `j${n}`, reference, questioned: uri(key) }))
      .join('\n');
    const manifest = await putText(`${prefix}/pairs.jsonl`, jsonl);
    const id = `${harness.taskQueue}-can`;
    await startBatch(
      harness.client,
      { manifest, concurrency: 3, continueAsNewEvery: 10, cache: false, polling: FAST_POLLING },
      { id, taskQueue: harness.taskQueue },
    );
    let accepted = 0;
    let rejected = 0;
    let sawPaused = false;
    const runsSeen = new Set<number>();
    for (let i = 0; ; i++) {
      const view = await getBatch(harness.client, id);
      if (view.state !== 'running') break;
      runsSeen.add(view.progress.runIndex);
      try {
        const progress =
          i % 2 === 0 ? await pauseBatch(harness.client, id) : await resumeBatch(harness.client, id);
        accepted++;
        if (i % 2 === 0) {
          expect(progress.paused).toBe(true);
          expect(progress.etaSeconds).toBeNull(); // paused: nothing advances, no ETA
          sawPaused = true;
          await new Promise((r) => setTimeout(r, 150)); // paused: nothing new starts
        }
      } catch (err) {
        if (!(err instanceof BatchUpdateRejectedError)) throw err;
        rejected++;
        if (i % 2 === 0) i++; // keep the pause/resume alternation in step with the batch
      }
      await new Promise((r) => setTimeout(r, 100));
      if (i > 400) throw new Error('batch did not finish');
      // The batch may finish while paused only if a resume is lost: the loop would then spin.
    }
    const view = await waitForBatch(harness.client, id);
    expect(view.state).toBe('completed');
    const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
    const rows = loadReportRows(await getText(summary.files.jsonl.key));
    expect(rows.map((r) => r.id).sort()).toEqual(keys.map((_, n) => `j${n}`).sort());
    expect(rows.every((r) => r.errorType === null && r.score !== null)).toBe(true);
    expect(summary.runs).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeGreaterThan(4);
    expect(sawPaused).toBe(true);
    expect(runsSeen.size).toBeGreaterThan(1);
    // Visibility lists one execution per run of the batch.
    let executions = 0;
    for (let attempt = 0; attempt < 50 && executions < summary.runs; attempt++) {
      executions = 0;
      for await (const _ of harness.client.workflow.list({ query: `WorkflowId = '${id}'` })) executions++;
      if (executions < summary.runs) await new Promise((r) => setTimeout(r, 200));
    }
    expect(executions).toBe(summary.runs);
    expect(accepted + rejected).toBeGreaterThan(0);
  }, 180_000);

  it('cancel cancels every child in flight, leaves none running, and reports the batch cancelled', async () => {
    const prefix = `${harness.taskQueue}/cancel`;
    const reference = uri((await harness.upload(recordings[3]!, `${prefix}/ref.wav`)).key);
    const keys = await uploadCopies(prefix, 80);
    const csv = ['reference,questioned', ...keys.map((key) => `${reference},${uri(key)}`)].join('\n');
    const manifest = await putText(`${prefix}/pairs.csv`, csv);
    const id = `${harness.taskQueue}-cancel`;
    await startBatch(
      harness.client,
      { manifest, concurrency: 8, cache: false, polling: FAST_POLLING },
      { id, taskQueue: harness.taskQueue },
    );
    // Let some pairs finish and others be in flight.
    for (;;) {
      const view = await getBatch(harness.client, id);
      if (view.state === 'running' && view.progress.done >= 5 && view.progress.inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const atCancel = await cancelBatch(harness.client, id);
    expect(atCancel).toMatchObject({ cancelled: true, inFlight: 0 });
    await expect(pauseBatch(harness.client, id)).rejects.toBeInstanceOf(BatchUpdateRejectedError);

    const view = await waitForBatch(harness.client, id);
    expect(view.state).toBe('completed');
    const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
    expect(summary.status).toBe('cancelled');
    const rows = loadReportRows(await getText(summary.files.jsonl.key));
    expect(rows.length).toBeLessThan(80);
    const cancelledRows = rows.filter((r) => r.errorType === 'Cancelled');
    expect(cancelledRows.length).toBeGreaterThan(0);
    expect(cancelledRows[0]!.errorMessage).toBe('cancelled with the batch before its detection finished');
    // Cancelled pairs are counted apart, not as failures.
    expect(summary.counts).toMatchObject({ cancelled: cancelledRows.length, failed: 0 });
    expect(atCancel.cancelledPairs).toBe(cancelledRows.length);
    // Every child the batch started is closed…
    for (const row of rows.filter((r) => r.workflowId !== null)) {
      const description = await harness.client.workflow.getHandle(row.workflowId!).describe();
      expect(description.status.name, row.workflowId!).not.toBe('RUNNING');
    }
    // …and no workflow of this batch runs at all (children are `<batchId>-…`).
    let running = -1;
    for (let attempt = 0; attempt < 50 && running !== 0; attempt++) {
      running = 0;
      const query = `WorkflowId STARTS_WITH '${id}-' AND ExecutionStatus = 'Running'`;
      for await (const _ of harness.client.workflow.list({ query })) running++;
      if (running !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(running).toBe(0);
  }, 180_000);

  it('records a terminated child as Terminated and finishes without waiting for it', async () => {
    const prefix = `${harness.taskQueue}/terminate`;
    const ref = uri((await harness.upload(recordings[0]!, `${prefix}/ref.wav`)).key);
    const stuck = uri((await harness.upload(slow, `${prefix}/slow.wav`)).key);
    const keys = await uploadCopies(prefix, 3);
    const csv = ['reference,questioned', `${ref},${stuck}`, ...keys.map((k) => `${ref},${uri(k)}`)].join(
      '\n',
    );
    const manifest = await putText(`${prefix}/pairs.csv`, csv);
    const id = `${harness.taskQueue}-terminate`;
    await startBatch(
      harness.client,
      { manifest, cache: false, polling: FAST_POLLING },
      { id, taskQueue: harness.taskQueue },
    );
    await expect(resumeBatch(harness.client, id)).rejects.toThrow(/not paused/);
    // Wait until only the stuck pair is left, then terminate its child.
    for (;;) {
      const view = await getBatch(harness.client, id);
      if (view.state === 'running' && view.progress.done === 3 && view.progress.inFlight === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    let stuckChild: string | undefined;
    for await (const execution of harness.client.workflow.list({
      query: `WorkflowId STARTS_WITH '${id}-' AND ExecutionStatus = 'Running'`,
    }))
      stuckChild = execution.workflowId;
    expect(stuckChild).toBeDefined();
    await harness.client.workflow.getHandle(stuckChild!).terminate('operator gave up');
    const view = await waitForBatch(harness.client, id, { intervalMs: 200, timeoutMs: 60_000 });
    expect(view.state).toBe('completed');
    const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
    const rows = loadReportRows(await getText(summary.files.jsonl.key));
    expect(rows.find((r) => r.line === 2)).toMatchObject({ errorType: 'Terminated', workflowId: stuckChild });
    expect(rows.filter((r) => r.errorType === null)).toHaveLength(3);
  }, 120_000);

  it('writes metrics.json of a labelled batch, equal to the metrics of its rows', async () => {
    const prefix = `${harness.taskQueue}/labelled`;
    const reference = uri((await harness.upload(recordings[0]!, `${prefix}/ref.wav`)).key);
    const keys = await uploadCopies(prefix, 12);
    const csv = [
      'reference,questioned,label',
      ...keys.map((key, n) => `${reference},${uri(key)},${n % 3 === 0 ? 'deepfake' : 'genuine'}`),
    ].join('\n');
    const manifest = await putText(`${prefix}/pairs.csv`, csv);
    const { summary, rows } = await runBatch(`${harness.taskQueue}-labelled`, { manifest, threshold: 0.25 });
    expect(summary.files.metrics).toBeDefined();
    const written = JSON.parse(await getText(summary.files.metrics!.key)) as unknown;
    expect(written).toEqual(JSON.parse(JSON.stringify(buildMetricsReport(rows, { threshold: 0.25 }))));
    expect(rows.filter((r) => r.label === 'deepfake')).toHaveLength(4);
    expect((written as { rows: { evaluated: number } }).rows.evaluated).toBe(12);
    const html = await getText(summary.files.html.key);
    expect(html).toContain('<svg');
  }, 120_000);

  it('`rdd batch start <local manifest> --wait` uploads it, runs the batch and prints where the reports are', async () => {
    const prefix = `${harness.taskQueue}/cli`;
    const reference = uri((await harness.upload(recordings[1]!, `${prefix}/ref.wav`)).key);
    const keys = await uploadCopies(prefix, 6);
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-batch-'));
    const file = path.join(dir, 'pairs.csv');
    await writeFile(file, ['reference,questioned', ...keys.map((k) => `${reference},${uri(k)}`)].join('\n'));
    const id = `${harness.taskQueue}-cli`;
    const { stdout } = await run(process.execPath, [RDD, 'batch', 'start', file, '--id', id, '--wait'], {
      env: { ...process.env, ...harness.env },
    });
    expect(stdout).toContain(`started ${id}`);
    expect(stdout).toContain(`s3://${harness.bucket}/batches/${id}/report.html`);
    expect(stdout).toMatch(/6 pairs: 6 scored/);
    const view = await getBatch(harness.client, id);
    expect(view.state).toBe('completed');
  }, 120_000);

  it('`--wait --json` prints only the summary JSON on stdout (progress on stderr)', async () => {
    const prefix = `${harness.taskQueue}/cli-json`;
    const reference = uri((await harness.upload(recordings[2]!, `${prefix}/ref.wav`)).key);
    const keys = await uploadCopies(prefix, 4);
    const manifest = await putText(
      `${prefix}/pairs.csv`,
      ['reference,questioned', ...keys.map((k) => `${reference},${uri(k)}`)].join('\n'),
    );
    const id = `${harness.taskQueue}-cli-json`;
    const { stdout, stderr } = await run(
      process.execPath,
      [RDD, 'batch', 'start', uri(manifest.key), '--id', id, '--wait', '--json'],
      { env: { ...process.env, ...harness.env } },
    );
    const summary = JSON.parse(stdout) as BatchSummary;
    expect(summary).toMatchObject({ batchId: id, counts: { total: 4 } });
    expect(stderr).toMatch(/\d+\/(\d+|\?) done/);
  }, 120_000);

  it('fails a batch whose manifest has no pairs, naming it; `rdd calibrate` of a missing object exits 1', async () => {
    const manifest = await putText(`${harness.taskQueue}/empty/pairs.csv`, 'reference,questioned\n');
    const id = `${harness.taskQueue}-empty`;
    await startBatch(harness.client, { manifest }, { id, taskQueue: harness.taskQueue });
    const view = await waitForBatch(harness.client, id, { intervalMs: 200, timeoutMs: 60_000 });
    expect(view).toMatchObject({ state: 'failed', failure: { type: 'InvalidInput' } });
    expect((view as Extract<BatchView, { state: 'failed' }>).failure.message).toBe(
      `no pairs in ${uri(manifest.key)}: the manifest is empty but for its header`,
    );
    const failed = await run(process.execPath, [RDD, 'calibrate', uri(`${harness.taskQueue}/nope.jsonl`)], {
      env: { ...process.env, ...harness.env },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain(
      `no object ${uri(`${harness.taskQueue}/nope.jsonl`)}`,
    );
    expect((failed as { stderr: string }).stderr).not.toContain('--help');
  }, 60_000);
});

/**
 * Batches and the platform's capacity together, on a real Temporal dev server, real versitygw and
 * the emulator over real HTTP: a batch says how many of its pairs wait for a lease and how many
 * requests are ahead; a rerun of a batch is answered from the score cache with no new job on the
 * platform; two batches and interactive detections share capacity + allowance, interactive first.
 * Each test has its own emulator (own platform URL, capacity workflow and platform version, so
 * its own score cache) and worker. The emulator's request log counts accepted submits (202).
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getBatch, startBatch, waitForBatch, type BatchView } from '../../src/client/batches.ts';
import { getPlatformCapacity, platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { loadReportRows } from '../../src/reports/load-rows.ts';
import type { BatchReportRow } from '../../src/reports/types.ts';
import type { BatchInput, BatchSummary } from '../../src/shared/batch.ts';
import type { CapacityState } from '../../src/shared/platform-capacity.ts';
import type { DetectWorkflow } from '../../src/shared/workflows.ts';
import { speechWav } from '../helpers/audio.ts';
import { grantOrder, startCapacityHarness, stopCapacityHarness, untilCapacity } from '../helpers/capacity.ts';
import { FAST_POLLING, type Harness } from '../helpers/detection-harness.ts';

const run = promisify(execFile);
const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');

const recordings: string[] = [];
let harness: Harness | undefined;

beforeAll(async () => {
  for (const [i, voice] of ['en+m3', 'en+f3', 'en+m7', 'en+f2', 'en+m2'].entries()) {
    recordings.push(
      await speechWav({ text: `Capacity recording number ${i + 1} of the shared platform.`, voice }),
    );
  }
}, 120_000);

afterEach(async () => {
  if (!harness) return;
  await stopCapacityHarness(harness);
  harness = undefined;
});

/** A harness with emulator and lease capacity `capacity`, whose accepted submits are logged. */
async function setUp(capacity: number, processingMs: number) {
  const started = await startCapacityHarness({
    emulatorCapacity: capacity,
    detectorCapacity: capacity,
    processingMs,
  });
  harness = started.harness;
  const h = harness;
  /** The accepted submits' correlation ids, in the order the platform got them. */
  const submits = () => started.submits().map((r) => r.correlationId ?? '');
  const uri = (key: string) => `s3://${h.bucket}/${key}`;
  /** `count` questioned copies of the recordings under `<prefix>/q-<n>.wav`, and a reference. */
  const pairs = async (prefix: string, count: number, labelled = false): Promise<string[]> => {
    const reference = uri((await h.upload(recordings[0]!, `${h.taskQueue}/${prefix}/ref.wav`)).key);
    const lines = [labelled ? 'id,reference,questioned,label' : 'id,reference,questioned'];
    for (let n = 0; n < count; n += 10) {
      const keys = await Promise.all(
        Array.from({ length: Math.min(10, count - n) }, (_, j) =>
          h.upload(recordings[(n + j) % recordings.length]!, `${h.taskQueue}/${prefix}/q-${n + j}.wav`),
        ),
      );
      keys.forEach(({ key }, j) => {
        const label = (n + j) % 3 === 0 ? 'deepfake' : 'genuine';
        lines.push(`p${n + j},${reference},${uri(key)}${labelled ? `,${label}` : ''}`);
      });
    }
    return lines;
  };
  const putManifest = async (key: string, lines: string[]) => {
    const Key = `${h.taskQueue}/${key}`;
    await h.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key, Body: `${lines.join('\n')}\n` }));
    return { bucket: h.bucket, key: Key };
  };
  const getText = async (key: string) =>
    await (await h.s3.send(new GetObjectCommand({ Bucket: h.bucket, Key: key }))).Body!.transformToString();
  const start = (id: string, input: BatchInput) =>
    startBatch(h.client, { polling: FAST_POLLING, ...input }, { id, taskQueue: h.taskQueue });
  const finish = async (id: string): Promise<{ summary: BatchSummary; rows: BatchReportRow[] }> => {
    const view = await waitForBatch(h.client, id, { intervalMs: 250 });
    expect(view.state, JSON.stringify(view)).toBe('completed');
    const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
    return { summary, rows: loadReportRows(await getText(summary.files.jsonl.key)) };
  };
  const state = () => getPlatformCapacity(h.client, h.emulator.url);
  return { h, submits, uri, pairs, putManifest, getText, start, finish, state };
}

/** Polls `read` every 50 ms until `done` holds; fails after `timeoutMs`. */
const until = <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> =>
  untilCapacity(read, done, { timeoutMs, intervalMs: 50 });

const batchWaiting = (s: CapacityState, batchId: string) =>
  s.waiting.filter((w) => w.priority === 'batch' && w.fairnessKey === batchId);

describe('batches on a shared platform', () => {
  it('says how many pairs wait for platform capacity and how many requests are ahead (getBatch, rdd batch status, --wait)', async () => {
    const t0 = Date.now();
    const { h, pairs, state } = await setUp(1, 2000);
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-batch-capacity-'));
    const file = path.join(dir, 'pairs.csv');
    await writeFile(file, `${(await pairs('waiting', 14)).join('\n')}\n`);
    const id = `${h.taskQueue}-waiting`;
    // `rdd batch start --wait --no-cache`, stdout not a terminal: plain progress lines.
    const cli = run(
      process.execPath,
      [RDD, 'batch', 'start', file, '--id', id, '--no-cache', '--concurrency', '16', '--wait'],
      { env: { ...process.env, ...h.env } },
    );

    // Capacity 1 + allowance 1: two pairs hold leases, the rest wait, and the batch says so.
    const waitingView = await until(
      () => getBatch(h.client, id),
      (v) => v.state === 'running' && (v.waitingForCapacity ?? 0) >= 5,
    );
    expect(waitingView.state === 'running' && waitingView.progress.capacityWorkflowId).toBe(
      platformCapacityWorkflowId(h.emulator.url),
    );
    if (waitingView.state === 'running') expect(waitingView.ahead).toBe(0); // nobody else asks

    // Interactive detections go before the batch: they are `ahead` of its first waiting pair.
    const interactive: WorkflowHandle<DetectWorkflow>[] = [];
    for (let i = 0; i < 3; i++) {
      interactive.push(
        await h.start(
          {
            reference: { bucket: h.bucket, key: `${h.taskQueue}/waiting/ref.wav` },
            questioned: { bucket: h.bucket, key: `${h.taskQueue}/waiting/q-${i}.wav` },
            cache: false,
          },
          `${h.taskQueue}-interactive-${i}`,
        ),
      );
    }
    // The figures agree with the capacity workflow's own queue read just after.
    const agreed = await until(
      async () => {
        const view = await getBatch(h.client, id);
        const s = await state();
        return { view, s };
      },
      ({ view, s }) =>
        view.state === 'running' &&
        view.ahead !== undefined &&
        view.ahead >= 1 &&
        view.ahead === s.waiting.filter((w) => w.priority === 'interactive').length &&
        view.waitingForCapacity === batchWaiting(s, id).length,
    );
    console.log(
      `getBatch while waiting: ${JSON.stringify({ waitingForCapacity: (agreed.view as { waitingForCapacity?: number }).waitingForCapacity, ahead: (agreed.view as { ahead?: number }).ahead })}`,
    );

    // `rdd batch status <id>` prints it too.
    const status = await run(process.execPath, [RDD, 'batch', 'status', id], {
      env: { ...process.env, ...h.env },
    });
    expect(status.stdout).toMatch(/, \d+ waiting for platform capacity, \d+ ahead/);

    await Promise.all(interactive.map((handle) => handle.result()));
    const { stdout } = await cli;
    // The live progress lines (plain: one every 5 s) said it while pairs waited.
    expect(stdout).toMatch(/\d+ waiting for platform capacity, \d+ ahead/);
    expect(stdout).toMatch(/14 pairs: 14 scored/);
    expect(h.emulator.stats().maxConcurrentJobs).toBeLessThanOrEqual(2);
    // Done: nothing waits any more, and getBatch says nothing about capacity for a finished batch.
    const done = await getBatch(h.client, id);
    expect(done.state).toBe('completed');
    console.log(`waiting-for-capacity test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);

  it('serves a rerun of a labelled batch from the score cache with zero new submissions; --no-cache submits again', async () => {
    const t0 = Date.now();
    const { h, submits, pairs, putManifest, getText, start, finish } = await setUp(4, 150);
    const manifest = await putManifest('cache/pairs.csv', await pairs('cache', 15, true));

    await start(`${h.taskQueue}-first`, { manifest, threshold: 0.1 });
    const first = await finish(`${h.taskQueue}-first`);
    const afterFirst = submits().length;
    expect(first.rows).toHaveLength(15);
    expect(first.rows.every((r) => r.errorType === null && r.score !== null)).toBe(true);
    // Each questioned key is new to the cache (its bytes were never hashed): all submitted once.
    expect(afterFirst).toBe(first.rows.filter((r) => !r.cached).length);
    expect(afterFirst).toBe(15);

    // The same manifest as a new batch: every pair from the cache, nothing reaches the platform.
    await start(`${h.taskQueue}-rerun`, { manifest, threshold: 0.1 });
    const rerun = await finish(`${h.taskQueue}-rerun`);
    expect(submits().length - afterFirst).toBe(0);
    expect(rerun.rows).toHaveLength(15);
    expect(rerun.rows.every((r) => r.cached && r.errorType === null)).toBe(true);
    expect(rerun.rows.map((r) => [r.line, r.score, r.verdict, r.label])).toEqual(
      first.rows.map((r) => [r.line, r.score, r.verdict, r.label]),
    );
    expect(rerun.summary.counts).toMatchObject({ total: 15, scored: 15, cached: 15, failed: 0 });
    expect(first.summary.counts.cached).toBe(0);
    const csv = (await getText(rerun.summary.files.csv.key)).split('\n');
    const cachedColumn = csv[0]!.split(',').indexOf('cached');
    expect(cachedColumn).toBeGreaterThanOrEqual(0);
    expect(
      csv
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => l.split(',')[cachedColumn]),
    ).toEqual(Array.from({ length: 15 }, () => 'true'));
    // The same scores give the same metrics, to the last digit.
    const metricsOf = async (summary: BatchSummary) =>
      JSON.parse(await getText(summary.files.metrics!.key)) as unknown;
    expect(await metricsOf(rerun.summary)).toEqual(await metricsOf(first.summary));

    // cache: false (`rdd batch start --no-cache`): every pair goes to the platform again.
    await start(`${h.taskQueue}-forced`, { manifest, threshold: 0.1, cache: false });
    const forced = await finish(`${h.taskQueue}-forced`);
    expect(submits().length - afterFirst).toBe(15);
    expect(new Set(submits().slice(afterFirst))).toEqual(new Set(forced.rows.map((r) => r.workflowId)));
    expect(forced.rows.every((r) => !r.cached && r.errorType === null)).toBe(true);
    expect(forced.summary.counts.cached).toBe(0);
    expect(await metricsOf(forced.summary)).toEqual(await metricsOf(first.summary));
    console.log(`cache rerun test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);

  it('two batches plus interactive detections never exceed capacity + allowance; interactive ones go first', async () => {
    const t0 = Date.now();
    const { h, submits, pairs, putManifest, start, finish, state } = await setUp(4, 400);
    const a = `${h.taskQueue}-a`;
    const b = `${h.taskQueue}-b`;
    const manifestA = await putManifest('a/pairs.csv', await pairs('a', 40));
    const manifestB = await putManifest('b/pairs.csv', await pairs('b', 40));
    await start(a, { manifest: manifestA, concurrency: 16, cache: false });
    await start(b, { manifest: manifestB, concurrency: 16, cache: false });
    await until(state, (s) => batchWaiting(s, a).length >= 5 && batchWaiting(s, b).length >= 5);

    // Five interactive detections, started one after another while both batches wait.
    const interactive: {
      id: string;
      handle: WorkflowHandle<DetectWorkflow>;
      behind: Set<string>;
      seen: boolean;
    }[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `${h.taskQueue}-interactive-${i}`;
      const handle = await h.start(
        {
          reference: { bucket: h.bucket, key: `${h.taskQueue}/a/ref.wav` },
          questioned: { bucket: h.bucket, key: `${h.taskQueue}/b/q-${i}.wav` },
          cache: false,
        },
        id,
      );
      // An interactive request goes first, so its lease can be granted and its job submitted before
      // a read of the state sees it on a busy machine: such a detection is not sampled.
      const known = (s: CapacityState) => [...s.leases, ...s.waiting].some((l) => l.holderWorkflowId === id);
      const read = await until(state, (s) => known(s) || submits().includes(id));
      const seen = known(read) ? read : undefined;
      // Every batch pair waiting once the request is known was waiting when (or queued after) it asked.
      const behind = new Set(
        (seen?.waiting ?? []).filter((w) => w.priority === 'batch').map((w) => w.holderWorkflowId),
      );
      interactive.push({ id, handle, behind, seen: seen !== undefined });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(interactive.filter(({ seen }) => seen).length).toBeGreaterThanOrEqual(3);
    expect(interactive.every(({ seen, behind }) => !seen || behind.size > 0)).toBe(true);
    await Promise.all(interactive.map(({ handle }) => handle.result()));
    const [ra, rb] = [await finish(a), await finish(b)];

    // The bound holds over both batches and the interactive detections, and is reached.
    const { maxConcurrentJobs } = h.emulator.stats();
    expect(maxConcurrentJobs).toBeLessThanOrEqual(5);
    expect(maxConcurrentJobs).toBeGreaterThanOrEqual(4);
    // Every pair of both batches recorded once, submitted once.
    for (const [id, rows] of [
      [a, ra.rows],
      [b, rb.rows],
    ] as const) {
      expect(rows.map((r) => r.line)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
      expect(rows.filter((r) => r.errorType !== null || r.score === null)).toEqual([]);
      const mine = submits().filter((s) => s.startsWith(`${id}-`));
      expect(mine).toHaveLength(40);
      expect(new Set(mine)).toEqual(new Set(rows.map((r) => r.workflowId)));
    }
    expect(submits()).toHaveLength(85);

    // Each interactive detection was granted before every batch pair waiting when it asked.
    const granted = await grantOrder(h);
    expect(granted).toHaveLength(85);
    const order = submits();
    for (const { id, behind } of interactive) {
      const at = granted.indexOf(id);
      expect(at).toBeGreaterThanOrEqual(0);
      for (const pair of behind) expect(granted.indexOf(pair), `${pair} before ${id}`).toBeGreaterThan(at);
      // On the platform: a pair granted after it may still finish a shorter upload first, but no more
      // of them than uploads run at once (capacity − 1 others), whatever the machine's load.
      const mine = order.indexOf(id);
      expect([...behind].filter((pair) => order.indexOf(pair) < mine).length).toBeLessThanOrEqual(3);
    }
    const capacity = await state();
    expect(capacity).toMatchObject({ leases: [], waiting: [] });
    console.log(
      `two batches + 5 interactive: ${((Date.now() - t0) / 1000).toFixed(1)} s, maxConcurrentJobs ${maxConcurrentJobs}, ` +
        `granted ${capacity.granted}, behind per interactive ${interactive.map(({ seen, behind }) => (seen ? behind.size : 'not sampled')).join('/')}`,
    );
  }, 240_000);
});

/**
 * The issue-11 cases, each run in a bench child process (see section.ts): throughput (1), completion
 * latency (2), orchestration overhead and scale-out (3 and 6), cost per detection (4). Each starts
 * its own emulator process (admin route on) and `rdd worker` processes against the bench's Temporal
 * dev server and versitygw, and, where it makes sense, runs the vendor baseline
 * (bench/vendor_baseline.py) on the same emulator in the same run. Case 5 (streaming) is the
 * `submit` section with 1 GiB objects.
 *
 * Times are seconds unless named otherwise. Platform figures come from the emulator's accounting,
 * never from the client under test.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  percentile,
  utilisation,
  type AccountingSnapshot,
  type JobRecord,
} from '../dev/emulator/accounting.ts';
import type { ProcessingTimes } from '../dev/emulator/options.ts';
import { startBatch, waitForBatch } from '../src/client/batches.ts';
import { platformCapacityWorkflowId } from '../src/client/platform.ts';
import type { DetectInput } from '../src/shared/detection.ts';
import {
  connectDriver,
  cpuNow,
  cpuSince,
  makePair,
  progress,
  resultRecordedAt,
  runDetections,
  scratchDir,
  startBaseline,
  startPlatform,
  startWorkers,
  type BaselineRecord,
  type Driver,
  type Pair,
  type Platform,
  type RecordedSource,
} from './lab.ts';

/** Pids of the stack's long-lived services, for CPU readings. */
export interface StackPids {
  temporal?: number;
  s3?: number;
}

// ---------------------------------------------------------------- case 1: throughput

export interface ThroughputInput {
  pairs: number;
  capacity: number;
  jobMs: number;
  /** Pairs the baseline runs (alone, after the orchestrator); its wall/ideal is extrapolated. */
  baselinePairs: number;
}

export interface ThroughputResult {
  pairs: number;
  capacity: number;
  jobSeconds: number;
  idealSeconds: number;
  rdd: {
    /** From the batch start to the batch workflow's close. */
    wallSeconds: number;
    wallOverIdeal: number;
    /** Busy slot-s / available slot-s from the first job accepted to the last job finished. */
    utilisation: number;
    /** The same over the whole wall time (includes the start-up before the first submit). */
    utilisationOverWall: number;
    maxConcurrentJobs: number;
    jobs: number;
    scored: number;
  };
  baseline: { pairs: number; secondsPerPair: number; wallOverIdeal: number; utilisation: number };
}

/** Case 1: a batch of `pairs` distinct pairs (score cache off) at capacity `capacity`, jobs of `jobMs`. */
export async function measureThroughput(input: ThroughputInput): Promise<ThroughputResult> {
  const lab = await openLab({ capacity: input.capacity, processing: { fixedMs: input.jobMs } });
  try {
    const { driver, platform } = lab;
    const workers = await lab.workers(1, input.capacity);
    const pair = await makePair(driver, lab.prefix, 0);
    // Distinct keys (the batch skips duplicate pairs), the same bytes (the score cache is off).
    const body = await readFile(pair.files.questioned);
    const refs = Math.ceil(Math.sqrt(input.pairs));
    const keys = Array.from({ length: Math.ceil(input.pairs / refs) }, (_, n) => `${lab.prefix}/q-${n}.wav`);
    await Promise.all(
      keys.map((key) =>
        driver.s3.send(new PutObjectCommand({ Bucket: driver.bucket, Key: key, Body: body })),
      ),
    );
    const refBody = await readFile(pair.files.reference);
    const refKeys = Array.from({ length: refs }, (_, n) => `${lab.prefix}/r-${n}.wav`);
    await Promise.all(
      refKeys.map((key) =>
        driver.s3.send(new PutObjectCommand({ Bucket: driver.bucket, Key: key, Body: refBody })),
      ),
    );
    const lines = ['id,reference,questioned'];
    for (let n = 0; n < input.pairs; n++)
      lines.push(
        `p${n},s3://${driver.bucket}/${refKeys[n % refs]},s3://${driver.bucket}/${keys[Math.floor(n / refs)]}`,
      );
    const manifestKey = `${lab.prefix}/manifest.csv`;
    await driver.s3.send(
      new PutObjectCommand({ Bucket: driver.bucket, Key: manifestKey, Body: `${lines.join('\n')}\n` }),
    );

    await platform.reset();
    progress(`throughput: batch of ${input.pairs}`);
    const id = `${lab.taskQueue}-batch`;
    const began = Date.now();
    await startBatch(
      driver.client,
      { manifest: { bucket: driver.bucket, key: manifestKey }, cache: false },
      { id, taskQueue: lab.taskQueue },
    );
    const view = await waitForBatch(driver.client, id, { intervalMs: 500 });
    if (view.state !== 'completed') throw new Error(`the throughput batch ended ${view.state}`);
    const closed = (await driver.client.workflow.getHandle(id).describe()).closeTime?.getTime() ?? Date.now();
    const rddAccounting = await platform.accounting();
    await workers.stop();

    const jobs = finishedJobs(rddAccounting);
    const platformWindow = jobWindow(jobs);
    const idealSeconds = (input.pairs * input.jobMs) / 1000 / input.capacity;
    const wallSeconds = (closed - began) / 1000;

    // The baseline alone on the same emulator: one pair after another.
    await platform.reset();
    progress(`throughput: baseline, ${input.baselinePairs} pairs`);
    const records = await startBaseline(platform.url, repeat(pair, input.baselinePairs), lab.scratch).done;
    const baseAccounting = await platform.accounting();
    const baseJobs = finishedJobs(baseAccounting);
    const baseWindow = {
      start: Math.min(...records.map((r) => r.startedAt)),
      end: Math.max(...records.map((r) => r.printedAt)),
    };
    const secondsPerPair = (baseWindow.end - baseWindow.start) / 1000 / records.length;
    return {
      pairs: input.pairs,
      capacity: input.capacity,
      jobSeconds: input.jobMs / 1000,
      idealSeconds,
      rdd: {
        wallSeconds,
        wallOverIdeal: wallSeconds / idealSeconds,
        utilisation: utilisation(intervals(jobs), input.capacity, platformWindow),
        utilisationOverWall: utilisation(intervals(jobs), input.capacity, { start: began, end: closed }),
        maxConcurrentJobs: rddAccounting.maxConcurrentJobs,
        jobs: jobs.length,
        scored: view.summary.counts.scored,
      },
      baseline: {
        pairs: records.length,
        secondsPerPair,
        wallOverIdeal: (secondsPerPair * input.capacity) / (input.jobMs / 1000),
        utilisation: utilisation(intervals(baseJobs), input.capacity, baseWindow),
      },
    };
  } finally {
    await lab.close();
  }
}

// ---------------------------------------------------------------- case 2: completion latency

/** One latency row: a processing-time model and how many detections to run under it. */
export interface LatencyRowInput {
  label: string;
  processing: ProcessingTimes;
  detections: number;
  /** Start one detection every this many ms (so finished jobs can teach the estimate). */
  intervalMs: number;
  /** Baseline pairs at least (it runs alongside and is stopped when the row is done). */
  baselineMin: number;
}

export interface LatencyInput {
  rows: LatencyRowInput[];
  /** Seconds of audio per file for the pairs, cycled through (both files the same length). */
  fileSeconds: number[];
  /** Emulator and lease capacity: high, so no job waits for a slot. */
  capacity: number;
}

export interface LatencyStats {
  jobs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** GET status requests per job (emulator): mean and max. */
  getsMean: number;
  getsMax: number;
  /** Mean job time on the platform (started → finished). */
  jobSecondsMean: number;
}

export interface LatencyRow {
  label: string;
  processing: ProcessingTimes;
  rdd: LatencyStats & { recordedFrom: Record<RecordedSource, number> };
  baseline: LatencyStats;
}

export interface LatencyResult {
  rows: LatencyRow[];
  /** Audio seconds (both files) of the pairs used. */
  pairAudioSeconds: number[];
}

/**
 * Case 2: per row, detections started `intervalMs` apart under the row's processing model, each row
 * from a fresh completion estimate (the platform's capacity workflow is ended between rows); latency
 * is from the emulator marking the job done to the result object existing in S3 (history event
 * time, see `resultRecordedAt`). The baseline runs alongside; its latency ends when it prints the score.
 */
export async function measureLatency(input: LatencyInput): Promise<LatencyResult> {
  const lab = await openLab({ capacity: input.capacity, processing: { fixedMs: 1000 } });
  try {
    const { driver, platform } = lab;
    const workers = await lab.workers(1, input.capacity);
    const pairs: Pair[] = [];
    for (const seconds of input.fileSeconds) pairs.push(await makePair(driver, lab.prefix, seconds));
    const rows: LatencyRow[] = [];
    for (const [r, row] of input.rows.entries()) {
      progress(`latency: ${row.label} (${row.detections} detections)`);
      await platform.setModel({ processing: row.processing });
      await platform.reset();
      // Each row starts from the default assumption, as a new platform would: the learned estimate
      // lives in the platform's capacity workflow, which holds no lease between rows; ending it
      // makes the row's first lease start a fresh one (gone already is fine).
      await driver.client.workflow
        .getHandle(platformCapacityWorkflowId(platform.url))
        .terminate('bench: a fresh completion estimate for the next latency row')
        .catch(() => undefined);
      const baseline = startBaseline(platform.url, repeat(pairs, 50), lab.scratch);
      const inputs: DetectInput[] = Array.from({ length: row.detections }, (_, n) => {
        const pair = pairs[n % pairs.length]!;
        return { reference: pair.reference, questioned: pair.questioned, cache: false };
      });
      const runs = await runDetections(driver, {
        inputs,
        taskQueue: lab.taskQueue,
        idPrefix: `${lab.taskQueue}-lat${r}`,
        intervalMs: row.intervalMs,
      });
      const records = await baseline.stop(row.baselineMin);
      const accounting = await platform.accounting();
      const byId = new Map(accounting.jobs.map((job) => [job.jobId, job]));
      const recordedFrom: Record<RecordedSource, number> = { 'activity-completed': 0, 'workflow-closed': 0 };
      const rddLatency: { latency: number; job: JobRecord }[] = [];
      for (const run of runs) {
        const job = byId.get(run.jobId);
        if (!job?.finishedAt) continue;
        const recorded = await resultRecordedAt(driver.client, run.workflowId);
        recordedFrom[recorded.source] += 1;
        rddLatency.push({ latency: (recorded.at - job.finishedAt) / 1000, job });
      }
      const baseLatency = baselineLatencies(records, byId);
      rows.push({
        label: row.label,
        processing: row.processing,
        rdd: { ...latencyStats(rddLatency), recordedFrom },
        baseline: latencyStats(baseLatency),
      });
    }
    await workers.stop();
    return { rows, pairAudioSeconds: pairs.map((p) => p.audioSeconds) };
  } finally {
    await lab.close();
  }
}

function baselineLatencies(
  records: readonly BaselineRecord[],
  byId: ReadonlyMap<string, JobRecord>,
): { latency: number; job: JobRecord }[] {
  return records.flatMap((record) => {
    const job = byId.get(record.jobId);
    return job?.finishedAt ? [{ latency: (record.printedAt - job.finishedAt) / 1000, job }] : [];
  });
}

function latencyStats(samples: readonly { latency: number; job: JobRecord }[]): LatencyStats {
  const latencies = samples.map((s) => s.latency);
  const gets = samples.map((s) => s.job.polls);
  const jobSeconds = samples.map((s) => ((s.job.finishedAt ?? 0) - (s.job.startedAt ?? 0)) / 1000);
  return {
    jobs: samples.length,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    max: percentile(latencies, 1),
    getsMean: mean(gets),
    getsMax: percentile(gets, 1),
    jobSecondsMean: mean(jobSeconds),
  };
}

// ---------------------------------------------------------------- cases 3 and 6: overhead, scale-out

export interface OverheadInput {
  detections: number;
  /** Worker process counts to run, e.g. [1, 2]. */
  workers: number[];
  capacity: number;
  stack: StackPids;
}

export interface OverheadRun {
  workers: number;
  detections: number;
  /** First start to last result at the client. */
  wallSeconds: number;
  perSecond: number;
  /** CPU seconds per process over the run. */
  cpu: Record<string, number>;
  /** CPU seconds of all of them over the wall time, in cores (2 = both cores busy). */
  coresBusy: number;
}

export interface OverheadResult {
  runs: OverheadRun[];
  cores: number;
}

/**
 * Cases 3 and 6: near-zero job time (0 ms), high capacity, `detections` started at once (32 starts
 * in flight) and waited for, with 1 and then 2 worker processes; CPU per process from /proc.
 */
export async function measureOverhead(input: OverheadInput): Promise<OverheadResult> {
  const lab = await openLab({ capacity: input.capacity, processing: { fixedMs: 0 } });
  try {
    const { driver, platform } = lab;
    const pair = await makePair(driver, lab.prefix, 0);
    const runs: OverheadRun[] = [];
    for (const count of input.workers) {
      // One task queue for all runs: the platform's capacity workflow (one per platform URL) runs
      // on the queue of the worker that started it, and must keep a worker after a run's stop.
      const taskQueue = lab.taskQueue;
      const workers = await lab.workers(count, input.capacity);
      // Warm-up: bundles loaded, pools open; not measured.
      await runDetections(driver, {
        inputs: repeat({ reference: pair.reference, questioned: pair.questioned, cache: false }, 4),
        taskQueue,
        idPrefix: `${taskQueue}-w${count}-warm`,
        intervalMs: 0,
      });
      const pids: Record<string, number> = {
        ...(input.stack.temporal && { 'temporal dev server': input.stack.temporal }),
        ...(input.stack.s3 && { versitygw: input.stack.s3 }),
        emulator: platform.pid,
        'bench driver (client)': process.pid,
        ...Object.fromEntries(workers.pids.map((pid, n) => [`worker ${n + 1}`, pid])),
      };
      progress(`overhead: ${input.detections} detections, ${count} worker(s)`);
      const before = cpuNow(pids);
      const began = Date.now();
      const done = await runDetections(driver, {
        inputs: repeat(
          { reference: pair.reference, questioned: pair.questioned, cache: false },
          input.detections,
        ),
        taskQueue,
        idPrefix: `${taskQueue}-w${count}-run`,
        intervalMs: 0,
      });
      const wallSeconds = (Math.max(...done.map((d) => d.resultAt)) - began) / 1000;
      const cpu = cpuSince(before, pids);
      await workers.stop();
      runs.push({
        workers: count,
        detections: done.length,
        wallSeconds,
        perSecond: done.length / wallSeconds,
        cpu,
        coresBusy: Object.values(cpu).reduce((a, b) => a + b, 0) / wallSeconds,
      });
    }
    return { runs, cores: (await import('node:os')).availableParallelism() };
  } finally {
    await lab.close();
  }
}

// ---------------------------------------------------------------- case 4: cost per detection

export interface CostInput {
  detections: number;
  batchLines: number;
  baselinePairs: number;
  capacity: number;
  jobMs: number;
}

export interface CostResult {
  detections: {
    n: number;
    eventsMedian: number;
    eventsMax: number;
    historyKibMedian: number;
    historyKibMax: number;
    requestsPerDetection: number;
    requestsByKind: Record<string, number>;
  };
  batch: {
    lines: number;
    runs: { events: number; historyKib: number }[];
    childEventsMedian: number;
    childHistoryKibMedian: number;
    requestsPerDetection: number;
  };
  baseline: { pairs: number; requestsPerDetection: number };
}

/**
 * Case 4: `detections` happy-path detections started 1 s apart (no queueing) with the baseline
 * alongside, then a batch of `batchLines` pairs; history events and bytes from Temporal, platform
 * requests from the emulator (the baseline's own requests subtracted by job id).
 */
export async function measureCost(input: CostInput): Promise<CostResult> {
  const lab = await openLab({ capacity: input.capacity, processing: { fixedMs: input.jobMs } });
  try {
    const { driver, platform } = lab;
    const workers = await lab.workers(1, input.capacity);
    const pair = await makePair(driver, lab.prefix, 0);
    await platform.reset();
    progress(
      `cost: ${input.detections} detections 1 s apart, baseline ${input.baselinePairs} pairs alongside`,
    );
    const baseline = startBaseline(platform.url, repeat(pair, input.baselinePairs), lab.scratch);
    const runs = await runDetections(driver, {
      inputs: repeat(
        { reference: pair.reference, questioned: pair.questioned, cache: false },
        input.detections,
      ),
      taskQueue: lab.taskQueue,
      idPrefix: `${lab.taskQueue}-cost`,
      intervalMs: 1000,
    });
    const records = await baseline.done;
    const accounting = await platform.accounting();
    const histories = await Promise.all(runs.map((run) => resultRecordedAt(driver.client, run.workflowId)));
    const baselineIds = new Set(records.map((r) => r.jobId));
    const baselineJobs = accounting.jobs.filter((job) => baselineIds.has(job.jobId));
    const baselineRequests = baselineJobs.length + baselineJobs.reduce((sum, job) => sum + job.polls, 0);
    const totalRequests = Object.values(accounting.requests).reduce((a, b) => a + b, 0);
    const requestsByKind = { ...accounting.requests };
    requestsByKind.submit -= baselineJobs.length;
    requestsByKind.poll -= baselineJobs.reduce((sum, job) => sum + job.polls, 0);

    // A batch of distinct pairs (keys differ, bytes the same, cache off).
    await platform.reset();
    const body = await readFile(pair.files.questioned);
    const lines = ['id,reference,questioned'];
    for (let n = 0; n < input.batchLines; n++) {
      const key = `${lab.prefix}/batch-q-${n}.wav`;
      await driver.s3.send(new PutObjectCommand({ Bucket: driver.bucket, Key: key, Body: body }));
      lines.push(`b${n},s3://${driver.bucket}/${pair.reference.key},s3://${driver.bucket}/${key}`);
    }
    const manifestKey = `${lab.prefix}/cost-manifest.csv`;
    await driver.s3.send(
      new PutObjectCommand({ Bucket: driver.bucket, Key: manifestKey, Body: `${lines.join('\n')}\n` }),
    );
    const id = `${lab.taskQueue}-cost-batch`;
    progress(`cost: batch of ${input.batchLines}`);
    await startBatch(
      driver.client,
      { manifest: { bucket: driver.bucket, key: manifestKey }, cache: false },
      { id, taskQueue: lab.taskQueue },
    );
    const view = await waitForBatch(driver.client, id, { intervalMs: 500 });
    if (view.state !== 'completed') throw new Error(`the cost batch ended ${view.state}`);
    const batchAccounting = await platform.accounting();
    const batchRuns: { events: number; historyKib: number; start: number }[] = [];
    for await (const execution of driver.client.workflow.list({ query: `WorkflowId = '${id}'` }))
      batchRuns.push({
        events: execution.historyLength,
        historyKib: (execution.historySize ?? 0) / 1024,
        start: execution.startTime.getTime(),
      });
    batchRuns.sort((a, b) => a.start - b.start);
    const children: { events: number; kib: number }[] = [];
    for await (const execution of driver.client.workflow.list({
      query: `TaskQueue = '${lab.taskQueue}' AND WorkflowType = 'detectWorkflow' AND StartTime > '${new Date(batchRuns[0]?.start ?? 0).toISOString()}'`,
    }))
      children.push({ events: execution.historyLength, kib: (execution.historySize ?? 0) / 1024 });
    await workers.stop();

    const events = histories.map((h) => h.events);
    const kib = histories.map((h) => h.bytes / 1024);
    return {
      detections: {
        n: runs.length,
        eventsMedian: percentile(events, 0.5),
        eventsMax: percentile(events, 1),
        historyKibMedian: percentile(kib, 0.5),
        historyKibMax: percentile(kib, 1),
        requestsPerDetection: (totalRequests - baselineRequests) / runs.length,
        requestsByKind: Object.fromEntries(
          Object.entries(requestsByKind).map(([k, v]) => [k, v / runs.length]),
        ),
      },
      batch: {
        lines: input.batchLines,
        runs: batchRuns.map(({ events: e, historyKib }) => ({ events: e, historyKib })),
        childEventsMedian: percentile(
          children.map((c) => c.events),
          0.5,
        ),
        childHistoryKibMedian: percentile(
          children.map((c) => c.kib),
          0.5,
        ),
        requestsPerDetection:
          Object.values(batchAccounting.requests).reduce((a, b) => a + b, 0) / input.batchLines,
      },
      baseline: {
        pairs: records.length,
        requestsPerDetection: records.length === 0 ? Number.NaN : baselineRequests / records.length,
      },
    };
  } finally {
    await lab.close();
  }
}

// ---------------------------------------------------------------- shared

interface Lab {
  driver: Driver;
  platform: Platform;
  taskQueue: string;
  prefix: string;
  scratch: string;
  workers(count: number, capacity: number, taskQueue?: string): ReturnType<typeof startWorkers>;
  close(): Promise<void>;
}

async function openLab(model: { capacity: number; processing: ProcessingTimes }): Promise<Lab> {
  const platform = await startPlatform(model);
  progress(`emulator ${platform.url} (pid ${platform.pid}), capacity ${model.capacity}`);
  const driver = await connectDriver().catch(async (err: unknown) => {
    await platform.stop();
    throw err;
  });
  const taskQueue = `bench-${process.pid}-${randomUUID().slice(0, 8)}`;
  const scratch = scratchDir();
  const started: { stop(): Promise<void> }[] = [];
  return {
    driver,
    platform,
    taskQueue,
    prefix: `bench/${taskQueue}`,
    scratch,
    workers: async (count, capacity, queue = taskQueue) => {
      progress(`starting ${count} worker(s) on ${queue}`);
      const workers = await startWorkers({
        count,
        taskQueue: queue,
        detectorUrl: platform.url,
        capacity,
        logDir: scratch,
      });
      started.push(workers);
      return workers;
    },
    close: async () => {
      await Promise.all(started.map((w) => w.stop()));
      await driver.close();
      await platform.stop();
    },
  };
}

function finishedJobs(snapshot: AccountingSnapshot): JobRecord[] {
  return snapshot.jobs.filter((job) => job.startedAt !== undefined && job.finishedAt !== undefined);
}

function intervals(jobs: readonly JobRecord[]): { start: number; end: number }[] {
  return jobs.map((job) => ({ start: job.startedAt!, end: job.finishedAt! }));
}

function jobWindow(jobs: readonly JobRecord[]): { start: number; end: number } {
  return {
    start: Math.min(...jobs.map((job) => job.acceptedAt)),
    end: Math.max(...jobs.map((job) => job.finishedAt!)),
  };
}

function repeat<T>(value: T | readonly T[], count: number): T[] {
  const values = Array.isArray(value) ? (value as readonly T[]) : [value as T];
  return Array.from({ length: count }, (_, n) => values[n % values.length]!);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

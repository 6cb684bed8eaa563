/**
 * Section 5: one large batch end to end (real Temporal dev server, versitygw, a fast emulator and an
 * in-process worker). The manifest has `lines` lines over a few distinct objects, so most lines
 * repeat a pair: those are duplicates (a start the server rejects, no child), the rest run as
 * children under the platform lease. Measured: for every workflow run of the batch (continue-as-new
 * every `continueAsNewEvery` starts), its history length and size; and this process's RSS (worker,
 * emulator and client) sampled every second. Flat per-run events and flat RSS are the point: a
 * batch's cost per run does not grow with the manifest.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startEmulator } from '../dev/emulator/index.ts';
import { startBatch, waitForBatch } from '../src/client/batches.ts';
import { clientOptions } from '../src/client/connection.ts';
import { loadClientConfig, loadWorkerConfig } from '../src/config.ts';
import type { BatchSummary } from '../src/shared/batch.ts';
import type { PollingPolicy } from '../src/shared/detection.ts';
import { createS3Client } from '../src/storage/s3-client.ts';
import { createDetectionWorker, WORKFLOWS_PATH } from '../src/worker.ts';
import { speechWav } from '../test/helpers/audio.ts';
import { collectGarbage } from './memory.ts';

export interface BatchBenchInput {
  /** Manifest lines. */
  lines: number;
  /** Distinct references and questioned objects: `references × questioned` distinct pairs. */
  references: number;
  questioned: number;
  /** Emulator: parallel slots (also DETECTOR_CAPACITY) and processing time per job. */
  capacity: number;
  processingMs: number;
  concurrency: number;
  continueAsNewEvery: number;
}

/** One workflow run of the batch. */
export interface BatchRunRow {
  run: number;
  events: number;
  historyKib: number;
}

/** One RSS sample. */
export interface RssSample {
  seconds: number;
  done: number;
  rssMib: number;
  heapMib: number;
}

export interface BatchBenchResult {
  lines: number;
  distinctPairs: number;
  wallSeconds: number;
  linesPerSecond: number;
  summary: Pick<BatchSummary, 'counts' | 'runs' | 'location'>;
  runs: BatchRunRow[];
  rss: RssSample[];
  /** Rows per error type (none expected), and manifest lines without exactly one row. */
  failures: Record<string, number>;
  linesNotOnce: number;
}

const FAST_POLLING: Partial<PollingPolicy> = {
  firstCheckBase: 0.05,
  firstCheckPerAudioSecond: 0,
  minInterval: 0.05,
  maxInterval: 0.2,
  backoff: 1.5,
};

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function measureBatch(input: BatchBenchInput): Promise<BatchBenchResult> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const emulator = await startEmulator({
    capacity: input.capacity,
    processing: { fixedMs: input.processingMs },
  });
  const taskQueue = `bench-batch-${process.pid}-${randomUUID().slice(0, 8)}`;
  const env = {
    ...process.env,
    DETECTOR_URL: emulator.url,
    TASK_QUEUE: taskQueue,
    DETECTOR_CAPACITY: String(input.capacity),
    WORKER_MAX_CONCURRENT_ACTIVITIES: String(Math.max(50, input.concurrency * 2)),
  };
  const config = loadWorkerConfig(env);
  const { mediaBucket: bucket } = loadClientConfig(env, ['mediaBucket']).storage;
  const address = process.env.TEMPORAL_ADDRESS!;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const s3 = createS3Client(config.storage);
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  let shutdown: (() => Promise<void>) | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    const { worker, detector } = await createDetectionWorker({
      connection: nativeConnection,
      namespace,
      config,
      workflowBundle,
    });
    const running = worker.run();
    shutdown = async () => {
      worker.shutdown();
      await running;
      await detector.close();
    };
    const client = new Client({ connection, namespace, ...clientOptions() });

    const prefix = `bench/${taskQueue}`;
    const voices = ['en+m3', 'en+f3', 'en+m7', 'en+f2'];
    const put = async (n: number, role: string) => {
      const file = await speechWav({
        text: `Bench ${role} recording ${n % 4}.`,
        voice: voices[n % voices.length]!,
      });
      const key = `${prefix}/${role}-${n}.wav`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
      return `s3://${bucket}/${key}`;
    };
    const references = await Promise.all(Array.from({ length: input.references }, (_, n) => put(n, 'ref')));
    const questioned = await Promise.all(Array.from({ length: input.questioned }, (_, n) => put(n, 'q')));
    const lines = ['id,reference,questioned'];
    for (let n = 0; n < input.lines; n++) {
      lines.push(
        `l${n},${references[n % references.length]},${questioned[Math.floor(n / references.length) % questioned.length]}`,
      );
    }
    const manifestKey = `${prefix}/manifest.csv`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: `${lines.join('\n')}\n` }));

    const id = `${taskQueue}-batch`;
    await collectGarbage();
    const began = performance.now();
    const rss: RssSample[] = [];
    let done = 0;
    const sample = () => {
      const m = process.memoryUsage();
      rss.push({
        seconds: (performance.now() - began) / 1000,
        done,
        rssMib: m.rss / 2 ** 20,
        heapMib: m.heapUsed / 2 ** 20,
      });
    };
    sample();
    sampler = setInterval(sample, 1000);
    await startBatch(
      client,
      {
        manifest: { bucket, key: manifestKey },
        concurrency: input.concurrency,
        continueAsNewEvery: input.continueAsNewEvery,
        polling: FAST_POLLING,
      },
      { id, taskQueue },
    );
    const view = await waitForBatch(client, id, {
      intervalMs: 2000,
      onProgress: (p) => {
        done = p.done;
        process.stderr.write(
          `[bench] batch ${p.done}/${p.total ?? '?'} run ${p.runIndex} ${p.rate.toFixed(0)}/s\n`,
        );
      },
    });
    const wallSeconds = (performance.now() - began) / 1000;
    clearInterval(sampler);
    sample();
    if (view.state !== 'completed') throw new Error(`batch ended ${view.state}: ${JSON.stringify(view)}`);

    const report = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: view.summary.files.jsonl.key }));
    const failures: Record<string, number> = {};
    const seen = new Map<number, number>();
    for (const line of (await report.Body!.transformToString()).split('\n')) {
      if (line === '') continue;
      const row = JSON.parse(line) as { line: number; errorType: string | null; errorMessage: string | null };
      seen.set(row.line, (seen.get(row.line) ?? 0) + 1);
      if (row.errorType !== null) {
        const key = `${row.errorType}: ${row.errorMessage?.slice(0, 80)}`;
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
    let linesNotOnce = 0;
    for (let n = 2; n < input.lines + 2; n++) if (seen.get(n) !== 1) linesNotOnce++;

    const runs: BatchRunRow[] = [];
    const executions = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${id}'` }))
      executions.push(execution);
    executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    for (const [run, execution] of executions.entries()) {
      runs.push({
        run,
        events: execution.historyLength,
        historyKib: (execution.historySize ?? 0) / 1024,
      });
    }
    return {
      lines: input.lines,
      distinctPairs: input.references * input.questioned,
      wallSeconds,
      linesPerSecond: input.lines / wallSeconds,
      summary: { counts: view.summary.counts, runs: view.summary.runs, location: view.summary.location },
      runs,
      rss,
      failures,
      linesNotOnce,
    };
  } finally {
    clearInterval(sampler);
    await shutdown?.();
    await nativeConnection.close();
    await connection.close();
    s3.destroy();
    await emulator.close();
  }
}

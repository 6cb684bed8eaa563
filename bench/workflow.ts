/**
 * Section 4: detections end to end through the real Temporal dev server, versitygw and the
 * emulator, with an in-process worker (`createDetectionWorker`). A few detections one at a time
 * (after one unreported warm-up) give the unloaded latency; then N start at once. Latency of one detection runs from just before
 * its `startDetection` to its result arriving at the client.
 *
 * The RSS figures are this process's: worker, emulator (which buffers uploads and scores them)
 * and client together.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadClientConfig, loadWorkerConfig } from '../src/config.ts';
import { createS3Client } from '../src/storage/s3-client.ts';
import { startEmulator } from '../dev/emulator/index.ts';
import type { DetectInput, PollingPolicy } from '../src/shared/detection.ts';
import type { MediaRef } from '../src/shared/media.ts';
import { createDetectionWorker, WORKFLOWS_PATH } from '../src/worker.ts';
import { clientOptions } from '../src/client/connection.ts';
import { startDetection } from '../src/client/detections.ts';
import type { DetectWorkflow } from '../src/shared/workflows.ts';
import { SENTENCES, speechWav } from '../test/helpers/audio.ts';
import { startMemorySampler, type MemoryReport } from './memory.ts';

/** The emulator answers in `processingMs`; poll close behind it. */
const FAST_POLLING: Partial<PollingPolicy> = {
  firstCheckBase: 0.2,
  firstCheckPerAudioSecond: 0,
  minInterval: 0.2,
  maxInterval: 0.5,
  backoff: 1.5,
};

export interface WorkflowInput {
  /** Detections started at once. */
  detections: number;
  /** Detections run one after another first (also the warm-up). */
  sequential: number;
  /** Emulator: jobs processed in parallel. */
  capacity: number;
  /** Emulator: how long each job runs. */
  processingMs: number;
}

export interface WorkflowRow {
  label: string;
  detections: number;
  wallSeconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Mean status checks per detection (the polling overhead). */
  meanChecks: number;
  memory: MemoryReport;
}

export interface WorkflowResult {
  rows: WorkflowRow[];
  /** Webpack bundling of the workflow code, once, before anything is measured. */
  bundleSeconds: number;
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function measureWorkflow(input: WorkflowInput): Promise<WorkflowResult> {
  // Activity and worker INFO logs would interleave with the tables; warnings still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const emulator = await startEmulator({
    capacity: input.capacity,
    processing: { fixedMs: input.processingMs },
  });
  const taskQueue = `bench-detect-${process.pid}-${randomUUID().slice(0, 8)}`;
  const env = { ...process.env, DETECTOR_URL: emulator.url, TASK_QUEUE: taskQueue };
  const config = loadWorkerConfig(env);
  const { mediaBucket } = loadClientConfig(env, ['mediaBucket']).storage;
  const address = process.env.TEMPORAL_ADDRESS!;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const s3 = createS3Client(config.storage);
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  let running: Promise<void> | undefined;
  let shutdown: (() => Promise<void>) | undefined;
  try {
    const bundling = performance.now();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    const bundleSeconds = (performance.now() - bundling) / 1000;
    const { worker, detector } = await createDetectionWorker({
      connection: nativeConnection,
      namespace,
      config,
      workflowBundle,
    });
    running = worker.run();
    shutdown = async () => {
      worker.shutdown();
      await running;
      await detector.close();
    };
    const client = new Client({ connection, namespace, ...clientOptions() });

    const bucket = mediaBucket;
    const put = async (file: string, key: string): Promise<MediaRef> => {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: await readFile(file),
          ContentType: 'audio/wav',
        }),
      );
      return { bucket, key };
    };
    const reference = await put(
      await speechWav({ text: SENTENCES.a, voice: 'en+m3' }),
      `bench/${taskQueue}/reference.wav`,
    );
    const questioned = await put(
      await speechWav({ text: SENTENCES.a, voice: 'en+f3' }),
      `bench/${taskQueue}/questioned.wav`,
    );

    let serial = 0;
    const detect = async (): Promise<{ ms: number; checks: number; finishedAt: number }> => {
      const workflowId = `${taskQueue}-${++serial}`;
      const input: DetectInput = { reference, questioned, polling: FAST_POLLING };
      const started = performance.now();
      await startDetection(client, input, { id: workflowId, taskQueue });
      const result = await client.workflow.result<DetectWorkflow>(workflowId);
      const finishedAt = performance.now();
      return { ms: finishedAt - started, checks: result.checks, finishedAt };
    };

    // Warm-up: the first workflow task creates the workflow context, first activities open pools.
    await detect();
    const rows: WorkflowRow[] = [];
    {
      const sampler = await startMemorySampler(20);
      const started = performance.now();
      const runs = [];
      for (let i = 0; i < input.sequential; i++) runs.push(await detect());
      rows.push(row(`${input.sequential} one at a time`, runs, started, sampler.stop()));
    }
    {
      const sampler = await startMemorySampler(20);
      const started = performance.now();
      const runs = await Promise.all(Array.from({ length: input.detections }, () => detect()));
      rows.push(row(`${input.detections} started at once`, runs, started, sampler.stop()));
    }
    return { rows, bundleSeconds };
  } finally {
    await shutdown?.();
    await nativeConnection.close();
    await connection.close();
    s3.destroy();
    await emulator.close();
  }
}

function row(
  label: string,
  runs: readonly { ms: number; checks: number; finishedAt: number }[],
  started: number,
  memory: MemoryReport,
): WorkflowRow {
  const latencies = runs.map((r) => r.ms).sort((a, b) => a - b);
  const wallSeconds = (Math.max(...runs.map((r) => r.finishedAt)) - started) / 1000;
  return {
    label,
    detections: runs.length,
    wallSeconds,
    perSecond: runs.length / wallSeconds,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    maxMs: latencies.at(-1)!,
    meanChecks: runs.reduce((sum, r) => sum + r.checks, 0) / runs.length,
    memory,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * A detection stack per test file: the shared real Temporal dev server and versitygw (global setup),
 * plus an emulator and a worker of this file's own on a task queue of its own.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { s3Status } from '../../src/storage/s3-errors.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { startEmulator } from '../../dev/emulator/index.ts';
import type { DetectInput, DetectionResult } from '../../src/shared/detection.ts';
import type { MediaRef } from '../../src/shared/media.ts';
import { createDetectionWorker, WORKFLOWS_PATH } from '../../src/worker.ts';
import { connectClient, workerOptions } from '../../src/client/connection.ts';
import { startDetection } from '../../src/client/detections.ts';
import { DETECT_WORKFLOW_TYPE, type DetectWorkflow } from '../../src/shared/workflows.ts';
import { s3Client, testServices, uniqueTaskQueue } from './services.ts';

type EmulatorOptions = NonNullable<Parameters<typeof startEmulator>[0]>;

let bundle: Promise<Awaited<ReturnType<typeof bundleWorkflowCode>>> | undefined;
/** The workflow bundle, built once per test file (webpack takes seconds). */
export function workflowBundle(env: Record<string, string | undefined> = {}) {
  // With encryption keys, the workflow code writes failures through the encoded failure converter
  // too (a file's harnesses all share one key setup, so one bundle per file still holds).
  const failureConverterPath = workerOptions(env).dataConverter?.failureConverterPath;
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietLogger,
    ...(failureConverterPath && { failureConverterPath }),
  });
  return bundle;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
};

/** Fast polling for tests: the emulator answers in well under a second. */
export const FAST_POLLING = {
  firstCheckBase: 0.2,
  firstCheckPerAudioSecond: 0,
  minInterval: 0.2,
  maxInterval: 0.5,
  backoff: 1.5,
};

export interface Harness {
  client: Client;
  s3: S3Client;
  bucket: string;
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  taskQueue: string;
  /** Env a child `rdd` process needs to reach this harness. */
  env: Record<string, string>;
  /** Puts a local file into the test bucket. */
  upload(path: string, key?: string): Promise<MediaRef>;
  /**
   * Starts a detection through the client (`startDetection`) with fast polling, on this harness's
   * task queue, under `workflowId` (default: a fresh random id).
   */
  start(input: DetectInput, workflowId?: string): Promise<WorkflowHandle<DetectWorkflow>>;
  /**
   * Starts detectWorkflow as any other Temporal client could, without our client's checks: for
   * tests of what the workflow itself refuses.
   */
  startUnchecked(input: unknown, workflowId?: string): Promise<WorkflowHandle<DetectWorkflow>>;
  readResult(key: string): Promise<DetectionResult | undefined>;
  etag(ref: MediaRef): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Starts an emulator and, unless `worker: false` (a test that runs `rdd worker` itself), an
 * in-process worker; `close()` stops both.
 */
export async function startHarness(
  emulatorOptions: Partial<EmulatorOptions> = {},
  {
    worker: withWorker = true,
    workerEnv = {},
  }: {
    worker?: boolean;
    /** Extra worker variables, e.g. `{ DETECTOR_CAPACITY: '4' }`; they are also in `env`. */
    workerEnv?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const services = testServices();
  // A platform version of this file's own: the score cache is keyed by it, so one file's detections
  // are never answered from another file's (whose emulator may hold other fixtures).
  const version = `4.0.0-emulator+${Math.random().toString(36).slice(2, 10)}`;
  const emulator = await startEmulator({ processing: { fixedMs: 150 }, version, ...emulatorOptions });
  const taskQueue = uniqueTaskQueue('detect');
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.namespace,
    TASK_QUEUE: taskQueue,
    DETECTOR_URL: emulator.url,
    S3_ENDPOINT: services.s3.endpoint,
    S3_BUCKET: services.s3.bucket,
    AWS_REGION: services.s3.region,
    AWS_ACCESS_KEY_ID: services.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
    // The fixed allowance ⌈capacity/4⌉ that the capacity tests bound by; a test of the learnt
    // allowance sets its own DETECTOR_QUEUE_MS.
    DETECTOR_QUEUE_MS: '0',
    ...workerEnv,
  };
  const config = loadWorkerConfig(env);
  const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
  const created = withWorker
    ? await createDetectionWorker({
        connection: nativeConnection,
        namespace: services.namespace,
        config,
        env,
        workflowBundle: await workflowBundle(env),
      })
    : undefined;
  const running = created?.worker.run();
  const client = await connectClient(env);
  const s3 = s3Client();
  const bucket = services.s3.bucket;

  return {
    client,
    s3,
    bucket,
    emulator,
    taskQueue,
    env,
    async upload(path, key = `${taskQueue}/${basename(path)}`) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path) }));
      return { bucket, key };
    },
    async start(input, workflowId = `${taskQueue}-${Math.random().toString(36).slice(2, 10)}`) {
      await startDetection(client, { polling: FAST_POLLING, ...input }, { id: workflowId, taskQueue });
      return client.workflow.getHandle<DetectWorkflow>(workflowId);
    },
    async startUnchecked(input, workflowId = `${taskQueue}-${Math.random().toString(36).slice(2, 10)}`) {
      return client.workflow.start<DetectWorkflow>(DETECT_WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [{ polling: FAST_POLLING, ...(input as DetectInput) }],
      });
    },
    async readResult(key) {
      try {
        const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return JSON.parse(await answer.Body!.transformToString()) as DetectionResult;
      } catch (err) {
        if (s3Status(err) === 404) return undefined;
        throw err;
      }
    },
    async etag(ref) {
      return (await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))).ETag;
    },
    async close() {
      created?.worker.shutdown();
      await running;
      await created?.detector.close();
      await nativeConnection.close();
      await client.connection.close();
      s3.destroy();
      await emulator.close();
    },
  };
}

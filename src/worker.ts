/**
 * The one place workflows and activities are registered.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Worker,
  type NativeConnection,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { DetectorConfig, Env, WorkerConfig } from './config.ts';
import { createActivities } from './activities/index.ts';
import { createDetectorClient, type DetectorClient } from './activities/detector/index.ts';
import { createS3Client } from './storage/s3-client.ts';
import { clientOptions, workerOptions } from './client/connection.ts';
import { Client } from '@temporalio/client';
import { workerDeploymentOptions } from './worker-deployment.ts';
import { recordPlatformExchange } from './activities/metrics.ts';
import { platformJobLogAttributes } from './telemetry/job-log-attributes.ts';

/** The workflow bundle's entry point (bundled by the worker with webpack + swc). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * Builds the platform client from config: pooled connections, explicit timeouts, extra headers,
 * the allowed origins and Location resolution, and the operator's CA when the appliance's
 * certificate is not publicly signed (the PEM loadWorkerConfig already read and checked).
 * @throws TypeError only for a DetectorConfig that did not come from loadWorkerConfig (which reports
 *   the same rules as a ConfigError naming the variable).
 */
export function detectorClientFromConfig(detector: DetectorConfig): DetectorClient {
  return createDetectorClient({
    baseUrl: detector.url,
    headers: detector.headers,
    allowedOrigins: detector.allowedOrigins,
    locationResolution: detector.locationResolution,
    ca: detector.ca ?? (detector.caFile ? readFileSync(detector.caFile, 'utf8') : undefined),
    channelParams: { reference: detector.referenceChannelParam, questioned: detector.questionedChannelParam },
    connections: detector.connections,
    headersTimeoutMs: detector.headersTimeoutMs,
    bodyTimeoutMs: detector.bodyTimeoutMs,
    // Request time, errors, jobs accepted and bytes uploaded (src/activities/metrics.ts).
    onExchange: recordPlatformExchange,
  });
}

export interface DetectionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** From `loadWorkerConfig`: the detector and the result bucket are there, nothing to assert. */
  config: WorkerConfig;
  /**
   * A prebuilt bundle (tests bundle once per file); default: the file `config.worker.workflowBundlePath`
   * names (WORKER_WORKFLOW_BUNDLE, the image's scripts/bundle-workflows.ts output), else bundle
   * WORKFLOWS_PATH at start-up.
   */
  workflowBundle?: WorkflowBundleOption;
  /**
   * Where the data converter's encryption keys come from (RDD_ENCRYPTION_KEYS, see
   * `dataConverterFor`); default `process.env`.
   */
  env?: Env;
}

/**
 * Creates a worker for detection workflows and activities. `worker.run()` returns after a
 * SIGINT/SIGTERM shutdown in which running activities get `shutdownGraceMs` to finish; activities
 * that only wait (for a platform lease, for a platform job) stop at once when shutdown begins, with
 * the retryable `WorkerShuttingDown`, so another worker carries on (`ActivityDeps.shutdownSignal`).
 * Close the returned `detector` after the worker stops.
 */
export async function createDetectionWorker(
  options: DetectionWorkerOptions,
): Promise<{ worker: Worker; detector: DetectorClient }> {
  const { config } = options;
  const detector = detectorClientFromConfig(config.detector);
  // Temporal cancels running activities only once the grace time is over; waits stop earlier.
  const shuttingDown = new AbortController();
  const activities = createActivities({
    shutdownSignal: shuttingDown.signal,
    s3: createS3Client(config.storage),
    detector,
    limits: {
      maxUploadBytes: config.detector.maxUploadBytes,
      maxAudioSeconds: config.detector.maxAudioSeconds,
    },
    resultBucket: config.storage.resultBucket,
    platformCapacity: {
      // The worker's own connection powers the activities' client: no second connection to manage.
      temporal: new Client({
        connection: options.connection,
        namespace: options.namespace,
        ...clientOptions(options.env),
      }),
      platformUrl: config.detector.url,
      initialCapacity: config.detector.capacity,
      queueMs: config.detector.queueMs,
      // Waiting submits hold activity slots; the activities that give leases back need the rest.
      maxLeaseWaiters: Math.max(1, Math.floor(config.worker.maxConcurrentActivities / 2)),
      taskQueue: config.taskQueue,
    },
  });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: config.taskQueue,
    activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : config.worker.workflowBundlePath
        ? { workflowBundle: { codePath: config.worker.workflowBundlePath } }
        : { workflowsPath: WORKFLOWS_PATH }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // Heartbeats reach Temporal within a second: awaitDetectionJob's progress (checks, last state)
    // is fresh for a retry and `describe`, and a cancelled detection's waiting activity stops at once.
    maxHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: config.worker.shutdownGraceMs,
    ...workerDeploymentOptions(config.worker.deployment),
    ...withActivityInterceptors(workerOptions(options.env), [platformJobLogAttributes]),
  });
  // Every shutdown goes through this method (a shutdown signal, a fatal error, a direct call).
  const shutdown = worker.shutdown.bind(worker);
  worker.shutdown = () => {
    shutdown();
    shuttingDown.abort();
  };
  return { worker, detector };
}

/** `options` with `extra` appended to its activity interceptors (the log lines' platform job id). */
function withActivityInterceptors<T extends Pick<WorkerOptions, 'interceptors'>>(
  options: T,
  extra: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']>,
): T {
  const interceptors = options.interceptors ?? {};
  return {
    ...options,
    interceptors: { ...interceptors, activity: [...(interceptors.activity ?? []), ...extra] },
  };
}

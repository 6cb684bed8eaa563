/**
 * What `rdd worker` does (its definition is worker-command.ts). Loaded only when the command runs.
 */
import { Client } from '@temporalio/client';
import { clientOptions, connectWorker, temporalAddress } from '../client/connection.ts';
import { TemporalUnreachableError, transportReason } from '../client/temporal-unreachable-error.ts';
import { loadWorkerConfig } from '../config.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { checkResultBucket } from './result-bucket-check.ts';
import { checkPlatformTrust } from './platform-trust-check.ts';
import { withStackEnv } from './stack-env.ts';

import { createDetectionWorker } from '../worker.ts';
import { startCapacityGauge } from '../telemetry/capacity-gauge.ts';
import { startHealthServer, type HealthServer, type HealthSource } from '../telemetry/health-server.ts';
import { installWorkerRuntime } from '../telemetry/runtime.ts';

/**
 * Runs the worker until a shutdown signal; resolves after a graceful stop.
 * Before polling it checks that the result bucket exists (HeadBucket; S3 that does not answer is
 * retried with back-off for WORKER_CONNECT_TIMEOUT_MS).
 * @throws ConfigError (exit 2); CliError exit 2 when the result bucket does not exist or is denied,
 *   exit 1 when S3 stayed unreachable, exit 5 when Temporal stayed unreachable for
 *   WORKER_CONNECT_TIMEOUT_MS; an Error naming RDD_METRICS_BIND / RDD_HEALTH_BIND and the address
 *   when that port cannot be bound (exit 1, before any Worker exists); CliError exit 2 naming
 *   TEMPORAL_NAMESPACE when the namespace does not exist (run `rdd setup`); anything else is fatal
 *   (exit 1).
 */
export async function worker(): Promise<void> {
  const env = withStackEnv();
  const config = loadWorkerConfig(env);
  const telemetry = config.worker.telemetry;
  const address = temporalAddress(env);
  const endpoint = config.storage.endpoint ?? 'AWS S3';
  const s3 = createS3Client(config.storage);
  try {
    await checkResultBucket(s3, config.storage.resultBucket, {
      endpoint,
      timeoutMs: config.worker.connectTimeoutMs,
      onRetry: ({ reason, delayMs }) =>
        console.error(
          `rdd worker: cannot reach S3 at ${endpoint} to check the result bucket ` +
            `${config.storage.resultBucket} (${reason}); retrying in ${Math.max(1, Math.round(delayMs / 1000))} s`,
        ),
    });
  } finally {
    s3.destroy();
  }
  // A platform certificate the worker does not trust is fixed by configuration: exit 2 now.
  await checkPlatformTrust(config.detector);
  // After the S3 check (an installed Runtime keeps a failed start-up process alive), before the
  // first connection: the Runtime holds the JSON logger and the Prometheus exporter.
  const { logger, metricsUrl } = installWorkerRuntime({
    env,
    logLevel: telemetry?.logLevel ?? 'INFO',
    metricsBind: telemetry?.metricsBind,
    temporalAddress: address,
  });
  let connected;
  try {
    connected = await connectWorker(env, {
      timeoutMs: config.worker.connectTimeoutMs,
      onRetry: ({ error, delayMs }) =>
        console.error(
          `rdd worker: cannot reach Temporal at ${address} (${transportReason(error)}); ` +
            `retrying in ${Math.max(1, Math.round(delayMs / 1000))} s`,
        ),
    });
  } catch (err) {
    if (err instanceof TemporalUnreachableError) {
      throw new CliError(
        ExitCode.TemporalUnreachable,
        `${err.message}; giving up (WORKER_CONNECT_TIMEOUT_MS)`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const { connection, namespace } = connected;
  let detector: Awaited<ReturnType<typeof createDetectionWorker>>['detector'] | undefined;
  let health: HealthServer | undefined;
  let stopGauge: (() => void) | undefined;
  try {
    // Bound before the Worker exists: a Worker that is created but never run cannot be shut down
    // and keeps the process alive, so nothing that can fail may come between creating and running it.
    // Answers 503 until run() polls, and again from the moment shutdown begins.
    const started: { worker?: HealthSource } = {};
    if (telemetry?.healthBind) {
      health = await startHealthServer(
        {
          getStatus() {
            if (!started.worker) throw new Error('the worker is not created yet');
            return started.worker.getStatus();
          },
        },
        telemetry.healthBind,
      ).catch((err: unknown) => {
        throw new Error(`RDD_HEALTH_BIND: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      });
    }
    const created = await createDetectionWorker({ connection, namespace, config, env }).catch(
      (err: unknown) => {
        throw namespaceMissing(err, namespace, address) ?? err;
      },
    );
    started.worker = created.worker;
    detector = created.detector;
    if (metricsUrl !== undefined) {
      const client = new Client({ connection, namespace, ...clientOptions(env) });
      stopGauge = startCapacityGauge({ client, platformUrl: created.detector.baseUrl });
    }
    logger.info(
      `worker polling task queue ${config.taskQueue} at ${address} ` +
        `(namespace ${namespace}, platform ${config.detector.url})`,
      {
        taskQueue: config.taskQueue,
        namespace,
        ...(config.worker.workflowBundlePath !== undefined && {
          workflowBundle: config.worker.workflowBundlePath,
        }),
        ...(metricsUrl !== undefined && { metricsUrl }),
        ...(health && { healthUrl: health.url }),
      },
    );
    await created.worker.run();
  } finally {
    stopGauge?.();
    await health?.close();
    await detector?.close();
    await connection.close().catch(() => undefined);
  }
  logger.info('worker stopped', { taskQueue: config.taskQueue });
}

/**
 * The configuration error for a namespace the server does not have (the SDK's worker start-up
 * fails with `Namespace <name> was not found`), or undefined for any other error.
 */
function namespaceMissing(err: unknown, namespace: string, address: string): CliError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (!/namespace .* (was )?not found/i.test(message)) return undefined;
  return new CliError(
    ExitCode.Usage,
    `TEMPORAL_NAMESPACE: the namespace ${namespace} does not exist on Temporal at ${address}; ` +
      'create it (and the search attributes) with `rdd setup`',
    { cause: err },
  );
}

/**
 * The Temporal Runtime of `rdd worker`: the JSON logger (with redaction) for the SDK's, Core's,
 * activities' and workflows' logs, and, when RDD_METRICS_BIND is set, the Prometheus exporter that
 * serves the SDK's metrics and ours (src/activities/metrics.ts) on one `/metrics`.
 */
import { Runtime, type LogLevel } from '@temporalio/worker';
import { RDD_HISTOGRAM_BUCKETS } from '../activities/metrics.ts';
import { type BindAddress, urlOfBind } from './bind-address.ts';
import { JsonLogger } from './json-logger.ts';
import { createRedactor, secretsFromEnv } from './redact.ts';

/** Options of installWorkerRuntime. */
export interface WorkerRuntimeOptions {
  /** The process's environment: its credentials are what the logs must never show. */
  env: Record<string, string | undefined>;
  logLevel: LogLevel;
  /** Where Prometheus scrapes `/metrics`; no exporter when undefined. */
  metricsBind?: BindAddress | undefined;
}

/**
 * Installs the process's Temporal Runtime. Call once, before the first connection (the SDK
 * refuses a second install, and NativeConnection.connect installs a default one).
 * Returns the logger (for the worker's own lines) and the metrics URL when an exporter runs.
 * @throws IllegalStateError when a Runtime is already installed.
 * @example const { logger, metricsUrl } = installWorkerRuntime({ env: process.env, logLevel: 'INFO', metricsBind })
 */
export function installWorkerRuntime(options: WorkerRuntimeOptions): {
  logger: JsonLogger;
  metricsUrl: string | undefined;
} {
  const logger = new JsonLogger({
    level: options.logLevel,
    redact: createRedactor(secretsFromEnv(options.env)),
  });
  const bind = options.metricsBind;
  Runtime.install({
    logger,
    telemetryOptions: {
      // Core's own logs come through the same logger, as JSON, redacted.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(bind && {
        metrics: {
          prometheus: {
            bindAddress: `${bind.host.includes(':') ? `[${bind.host}]` : bind.host}:${bind.port}`,
            histogramBucketOverrides: RDD_HISTOGRAM_BUCKETS,
          },
        },
      }),
    },
  });
  return { logger, metricsUrl: bind && urlOfBind(bind, '/metrics') };
}

/**
 * The Temporal Runtime of `rdd worker`: the JSON logger (with redaction) for the SDK's, Core's,
 * activities' and workflows' logs, and, when RDD_METRICS_BIND is set, the Prometheus exporter that
 * serves the SDK's metrics and ours (src/activities/metrics.ts) on one `/metrics`.
 */
import { Runtime, type LogLevel } from '@temporalio/worker';
import { RDD_HISTOGRAM_BUCKETS } from '../activities/metrics.ts';
import { type BindAddress, urlOfBind } from './bind-address.ts';
import { CoreRetryFilter } from './core-retry-filter.ts';
import { JsonLogger } from './json-logger.ts';
import { createRedactor, secretsFromEnv } from './redact.ts';

/** Options of installWorkerRuntime. */
export interface WorkerRuntimeOptions {
  /** The process's environment: its credentials are what the logs must never show. */
  env: Record<string, string | undefined>;
  logLevel: LogLevel;
  /** Where Prometheus scrapes `/metrics`; no exporter when undefined. */
  metricsBind?: BindAddress | undefined;
  /** Temporal's address, for the "unreachable" / "answers again" lines (see CoreRetryFilter). */
  temporalAddress?: string;
}

/**
 * Installs the process's Temporal Runtime. Call once, before the first connection (the SDK
 * refuses a second install, and NativeConnection.connect installs a default one).
 * Returns the logger (for the worker's own lines) and the metrics URL when an exporter runs.
 * Core's gRPC retry warnings during a Temporal outage are summarised (CoreRetryFilter): one line
 * when they start, one a minute, one when Temporal answers again.
 * @throws IllegalStateError when a Runtime is already installed; Error naming RDD_METRICS_BIND and
 *   the address when the exporter cannot listen there (port taken, no permission).
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
  const install = () =>
    Runtime.install({
      logger: new CoreRetryFilter(logger, { address: options.temporalAddress }),
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
  try {
    install();
  } catch (err) {
    // Core's message names neither the address nor the variable: "Failed to start prometheus
    // metrics exporter: Address already in use (os error 98)".
    if (bind && err instanceof Error && /prometheus/i.test(err.message)) {
      throw new Error(
        `RDD_METRICS_BIND: the metrics endpoint cannot listen on ${bind.host}:${bind.port}: ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
  return { logger, metricsUrl: bind && urlOfBind(bind, '/metrics') };
}

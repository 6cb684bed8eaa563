/**
 * The worker's telemetry settings: where Prometheus scrapes it (RDD_METRICS_BIND), where its
 * health endpoint listens (RDD_HEALTH_BIND) and its log level (RDD_LOG_LEVEL). Both endpoints are
 * off unless set.
 */
import { z } from 'zod';
import type { LogLevel } from '@temporalio/common';
import { type BindAddress, parseBindAddress } from '../telemetry/bind-address.ts';
import { oneOf, optional } from './variables.ts';

/** What `rdd worker` serves besides its work. */
export interface WorkerTelemetry {
  /** The Prometheus exporter's `host:port` (`/metrics`: the SDK's metrics and ours); off when undefined. */
  metricsBind: BindAddress | undefined;
  /** The health endpoint's `host:port` (`/healthz`); off when undefined. */
  healthBind: BindAddress | undefined;
  /** Lowest level logged (default info). */
  logLevel: LogLevel;
}

const bind = z.string().transform((value, ctx) => {
  const parsed = parseBindAddress(value);
  if (parsed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be host:port (e.g. 0.0.0.0:9464 or [::]:9464), got ${JSON.stringify(value.slice(0, 100))}`,
    });
    return z.NEVER;
  }
  return parsed;
});

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/**
 * RDD_METRICS_BIND, RDD_HEALTH_BIND (host:port each), RDD_LOG_LEVEL (trace … error).
 * @example readVariables({ RDD_METRICS_BIND: '0.0.0.0:9464' }, [workerTelemetryVariables])
 *   // [{ metricsBind: { host: '0.0.0.0', port: 9464 }, healthBind: undefined, logLevel: 'INFO' }]
 */
export const workerTelemetryVariables = z
  .object({
    RDD_METRICS_BIND: optional(bind),
    RDD_HEALTH_BIND: optional(bind),
    RDD_LOG_LEVEL: optional(oneOf(LEVELS)),
  })
  .transform((vars): WorkerTelemetry => ({
    metricsBind: vars.RDD_METRICS_BIND,
    healthBind: vars.RDD_HEALTH_BIND,
    logLevel: (vars.RDD_LOG_LEVEL ?? 'info').toUpperCase() as LogLevel,
  }));

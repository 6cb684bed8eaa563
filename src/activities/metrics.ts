/**
 * Our Prometheus metrics, recorded through the Temporal SDK's metric meter so they are served on
 * the same endpoint as the SDK's own (`rdd worker` with RDD_METRICS_BIND; see
 * src/telemetry/runtime.ts). Every instrument is defined here, once; names are prefixed `rdd_` and
 * carry their unit (`_seconds`, `_bytes`), label values come from small fixed sets.
 *
 * Without an installed Prometheus exporter (tests, `MockActivityEnvironment`, the bench) the
 * SDK's runtime meter records into nothing, so calling these functions is always safe.
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { CapacityState } from '../shared/platform-capacity.ts';
import type { DetectionResult } from '../shared/detection.ts';
import type { DetectorExchange } from './detector/types.ts';

/**
 * The names of our metrics, as scraped.
 * @example fetch(`${metricsUrl}`).then((r) => r.text()).then((t) => t.includes(RDD_METRIC.jobsSubmitted))
 */
export const RDD_METRIC = {
  /** Counter: detection jobs the platform accepted (a 202 to the submit POST). */
  jobsSubmitted: 'rdd_platform_jobs_submitted_total',
  /** Counter, label `state`: jobs that reached an end state (`done`, `failed`, `lost`). */
  jobsFinished: 'rdd_platform_jobs_finished_total',
  /** Histogram: status checks a job needed, recorded once per recorded (non-cached) result. */
  checksPerJob: 'rdd_platform_checks_per_job',
  /** Histogram, labels `operation` (submit, check, info) and `outcome` (ok, error): request time. */
  requestDuration: 'rdd_platform_request_duration_seconds',
  /** Counter, labels `operation`, `status` (HTTP status or `none`), `error_type`: failed requests. */
  errors: 'rdd_platform_errors_total',
  /** Counter: request body bytes handed to the platform's socket by submit POSTs (failed ones too). */
  uploadedBytes: 'rdd_platform_upload_bytes_total',
  /** Histogram: the result's `completedAt` (when a check first saw the job done) → result recorded. */
  resultDelay: 'rdd_result_record_delay_seconds',
  /** Gauge: leases the platform's capacity workflow has granted and not got back. */
  leasesInUse: 'rdd_platform_leases_in_use',
  /** Gauge: lease requests waiting in the capacity workflow. */
  leasesWaiting: 'rdd_platform_leases_waiting',
  /** Gauge: the capacity workflow's parallel slots. */
  capacity: 'rdd_platform_capacity',
} as const;

/**
 * Histogram bucket boundaries of our histograms, for the exporter's `histogramBucketOverrides`
 * (the SDK's defaults are for milliseconds). Request time: 10 ms … 10 min (an upload of 500 MB);
 * result delay: 0.1 s … 1 h; checks: 1 … 500.
 */
export const RDD_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [RDD_METRIC.requestDuration]: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  [RDD_METRIC.resultDelay]: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
  [RDD_METRIC.checksPerJob]: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 500],
};

/** How the platform client names its calls, and how the metrics name them. */
const OPERATION_LABEL = { submit: 'submit', getJob: 'check', systemInfo: 'info' } as const;

interface Instruments {
  jobsSubmitted: MetricCounter;
  jobsFinished: MetricCounter;
  checksPerJob: MetricHistogram;
  requestDuration: MetricHistogram;
  errors: MetricCounter;
  uploadedBytes: MetricCounter;
  resultDelay: MetricHistogram;
  leasesInUse: MetricGauge;
  leasesWaiting: MetricGauge;
  capacity: MetricGauge;
}

let instruments: Instruments | undefined;

/**
 * Created on first use, from the process's Temporal runtime: by then `rdd worker` has installed
 * its runtime (Runtime.instance() before Runtime.install() would lock in a runtime without one).
 */
function metrics(): Instruments {
  instruments ??= createInstruments(Runtime.instance().metricMeter);
  return instruments;
}

function createInstruments(meter: MetricMeter): Instruments {
  return {
    jobsSubmitted: meter.createCounter(
      RDD_METRIC.jobsSubmitted,
      undefined,
      'Detection jobs the platform accepted',
    ),
    jobsFinished: meter.createCounter(
      RDD_METRIC.jobsFinished,
      undefined,
      'Detection jobs that reached an end state',
    ),
    checksPerJob: meter.createHistogram(
      RDD_METRIC.checksPerJob,
      'int',
      undefined,
      'Status checks per detection job',
    ),
    requestDuration: meter.createHistogram(
      RDD_METRIC.requestDuration,
      'float',
      undefined,
      'Speech Platform request time by operation',
    ),
    errors: meter.createCounter(RDD_METRIC.errors, undefined, 'Failed Speech Platform requests'),
    uploadedBytes: meter.createCounter(RDD_METRIC.uploadedBytes, undefined, 'Bytes uploaded to the platform'),
    resultDelay: meter.createHistogram(
      RDD_METRIC.resultDelay,
      'float',
      undefined,
      'Time from the platform finishing a job to its result being recorded (approximate)',
    ),
    leasesInUse: meter.createGauge(RDD_METRIC.leasesInUse, 'int', undefined, 'Platform capacity leases held'),
    leasesWaiting: meter.createGauge(
      RDD_METRIC.leasesWaiting,
      'int',
      undefined,
      'Platform lease requests waiting',
    ),
    capacity: meter.createGauge(RDD_METRIC.capacity, 'int', undefined, 'Platform parallel slots'),
  };
}

/**
 * The platform client's observer (DetectorClientOptions.onExchange): request time by operation,
 * errors by status and type, jobs accepted, bytes uploaded. Never throws.
 * @example createDetectorClient({ baseUrl, onExchange: recordPlatformExchange })
 */
export function recordPlatformExchange(exchange: DetectorExchange): void {
  try {
    const m = metrics();
    const operation = OPERATION_LABEL[exchange.operation];
    const outcome = exchange.error === undefined ? 'ok' : 'error';
    m.requestDuration.record(exchange.durationMs / 1000, { operation, outcome });
    if (exchange.bytesSent > 0) m.uploadedBytes.add(exchange.bytesSent);
    if (exchange.error !== undefined) {
      m.errors.add(1, {
        operation,
        status: exchange.status === undefined ? 'none' : String(exchange.status),
        error_type: exchange.error,
      });
    } else if (exchange.operation === 'submit') {
      m.jobsSubmitted.add(1);
    }
  } catch {
    // Metrics never fail a request.
  }
}

/**
 * For the check activity: counts a job that reached an end state, once per job.
 * `done`, `failed` and `rejected` are the platform's states; `lost` is a job the platform no longer knows
 * (404). Never throws.
 * @example if (status.state === 'done' || status.state === 'failed') recordJobFinished(status.state)
 */
export function recordJobFinished(state: 'done' | 'failed' | 'rejected' | 'lost'): void {
  try {
    metrics().jobsFinished.add(1, { state });
  } catch {
    // Metrics never fail an activity.
  }
}

/**
 * For recordDetectionResult, after the document is written: the checks the job needed and the
 * time from `timestamps.completedAt` to `now`. Skipped for cached results (no job ran for them).
 * `completedAt` is when a status check first saw the job done, so the delay is approximate: it
 * excludes the time between the platform finishing and that check, and includes the recording.
 * A negative delay (clocks of two workers apart) counts as 0. Never throws.
 * @example recordResultRecorded(document) // after the PUT succeeded
 */
export function recordResultRecorded(result: DetectionResult, now: number = Date.now()): void {
  if (result.cached) return;
  try {
    const m = metrics();
    m.checksPerJob.record(Math.max(0, result.checks));
    const completedAt = Date.parse(result.timestamps.completedAt);
    if (!Number.isNaN(completedAt)) m.resultDelay.record(Math.max(0, now - completedAt) / 1000);
  } catch {
    // Metrics never fail an activity.
  }
}

/**
 * Sets the capacity gauges from the capacity workflow's state (the `capacityState` query).
 * Never throws.
 * @example recordCapacityState(await getPlatformCapacity(client, platformUrl))
 */
export function recordCapacityState(state: CapacityState): void {
  try {
    const m = metrics();
    m.leasesInUse.set(state.leases.length);
    m.leasesWaiting.set(state.waiting.length);
    m.capacity.set(state.capacity);
  } catch {
    // Metrics never fail the sampler.
  }
}

/**
 * Keeps the capacity gauges (rdd_platform_leases_in_use, _waiting, rdd_platform_capacity) current
 * by querying the platform's capacity workflow from the worker process: the workflow itself must
 * stay deterministic, and a query reads exactly the grants it holds.
 */
import type { Client } from '@temporalio/client';
import { getPlatformCapacity } from '../client/platform.ts';
import { recordCapacityState } from '../activities/metrics.ts';

/** How often the gauges are refreshed (ms): one cheap query per worker, fresher than any scrape interval. */
export const CAPACITY_SAMPLE_INTERVAL_MS = 5_000;

/**
 * Queries `capacityState` now and every `intervalMs`, and sets the gauges. A capacity workflow
 * that does not run yet (no detection asked for a lease) or a failed query leaves the gauges as
 * they are until the next sample. Returns `stop()`, which is idempotent.
 * @example const stop = startCapacityGauge({ client, platformUrl: detector.baseUrl }); … stop();
 */
export function startCapacityGauge(options: {
  client: Client;
  platformUrl: string;
  intervalMs?: number;
}): () => void {
  let stopped = false;
  let inFlight = false;
  const sample = async () => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      recordCapacityState(await getPlatformCapacity(options.client, options.platformUrl));
    } catch {
      // Not started yet, or Temporal is unreachable: the SDK's own metrics show the latter.
    } finally {
      inFlight = false;
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), options.intervalMs ?? CAPACITY_SAMPLE_INTERVAL_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

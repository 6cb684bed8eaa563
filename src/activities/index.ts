/**
 * The activity set. `createActivities(deps)` returns exactly the functions the worker registers,
 * each under the name it has in its own file; those names are wire contracts with running
 * workflows. Their payload types are in src/shared/activity-types.ts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { appendBatchRows } from './append-batch-rows.ts';
import { awaitDetectionJob } from './await-detection-job.ts';
import { capacityEstimateQuery, createEstimateSource } from './estimate-source.ts';
import { prepareDetection } from './prepare-detection.ts';
import { checkDetectionJob } from './check-detection-job.ts';
import { readManifestPage } from './read-manifest-page.ts';
import { findPreviousScheduleRun } from './find-previous-schedule-run.ts';
import { listSweepPage } from './list-sweep-page.ts';
import { writeBatchReport } from './write-batch-report.ts';
import type { DetectorClient } from './detector/types.ts';
import { getPlatformInfo } from './get-platform-info.ts';
import { inspectMedia, type MediaLimits } from './inspect-media.ts';
import { lookupScoreCache } from './lookup-score-cache.ts';
import { recordDetectionResult } from './record-detection-result.ts';
import { submitDetectionJob } from './submit-detection-job.ts';
import {
  findClosedWorkflows,
  requestPlatformLease,
  withPlatformBusy,
  type PlatformCapacityDeps,
} from './platform-capacity.ts';

export type { MediaLimits } from './inspect-media.ts';

/** The clients and settings the activities close over; built once per worker. */
export interface ActivityDeps {
  s3: S3Client;
  detector: DetectorClient;
  limits: MediaLimits;
  /** Where results go when the workflow input names no bucket. */
  resultBucket?: string | undefined;
  /**
   * A Temporal client and the platform's identity, for the capacity lease (requestPlatformLease,
   * findClosedWorkflows, and the 429/507 back-off of submitDetectionJob). The worker always sets
   * it; without it those two activities fail non-retryably.
   */
  platformCapacity?: PlatformCapacityDeps | undefined;
  /**
   * Aborted when the worker starts shutting down (`createDetectionWorker` sets it): the activities
   * that only wait (submitDetectionJob's wait for a lease, awaitDetectionJob) then fail with the
   * retryable `WorkerShuttingDown` at once instead of holding the draining worker for its grace
   * time; uploads and writes in flight are not affected. Absent: they wait as before.
   */
  shutdownSignal?: AbortSignal | undefined;
}

/**
 * Binds each activity to its deps. Every property of the returned object is registered under its
 * key, so the set is exactly: inspectMedia, submitDetectionJob, checkDetectionJob, getPlatformInfo,
 * recordDetectionResult, lookupScoreCache, requestPlatformLease, findClosedWorkflows,
 * readManifestPage, appendBatchRows, writeBatchReport, findPreviousScheduleRun, listSweepPage,
 * and for the lean detection path prepareDetection (a local activity) and awaitDetectionJob.
 * Creating it does no I/O.
 * @example new Worker({ activities: createActivities({ s3, detector, limits }) })
 */
export function createActivities(deps: ActivityDeps) {
  // One source of current estimates for all of this worker's waiting activities; it polls only
  // while one waits, and stops for good when the worker shuts down.
  const temporal = deps.platformCapacity?.temporal;
  const estimates = temporal && createEstimateSource({ query: capacityEstimateQuery(temporal) });
  if (estimates) deps.shutdownSignal?.addEventListener('abort', () => estimates.close(), { once: true });
  return {
    inspectMedia: inspectMedia.bind(undefined, deps),
    // On 429/507 it also holds back every grant of the platform's capacity workflow.
    submitDetectionJob: withPlatformBusy(submitDetectionJob.bind(undefined, deps), deps.platformCapacity),
    checkDetectionJob: checkDetectionJob.bind(undefined, deps),
    getPlatformInfo: getPlatformInfo.bind(undefined, deps),
    requestPlatformLease: requestPlatformLease.bind(undefined, deps),
    findClosedWorkflows: findClosedWorkflows.bind(undefined, deps),
    recordDetectionResult: recordDetectionResult.bind(undefined, deps),
    lookupScoreCache: lookupScoreCache.bind(undefined, deps),
    // The lean path: inspection + platform info + cache in one local activity; one waiting activity.
    prepareDetection: prepareDetection.bind(undefined, deps),
    awaitDetectionJob: awaitDetectionJob.bind(undefined, {
      detector: deps.detector,
      temporal,
      estimates,
      shutdownSignal: deps.shutdownSignal,
    }),
    // Batches: manifest pages, one row file per run, the reports at the end.
    readManifestPage: readManifestPage.bind(undefined, deps),
    appendBatchRows: appendBatchRows.bind(undefined, deps),
    writeBatchReport: writeBatchReport.bind(undefined, deps),
    // Scheduled batches: the previous run of a `sinceScheduleRun` batch's schedule.
    findPreviousScheduleRun: findPreviousScheduleRun.bind(undefined, deps),
    // The sweep for lost S3 events: one listed page, the missing detections started.
    listSweepPage: listSweepPage.bind(undefined, deps),
  };
}

/** The activity set's type, for `proxyActivities<Activities>()` in workflows (a type import). */
export type Activities = ReturnType<typeof createActivities>;

/**
 * The activity set. `createActivities(deps)` returns exactly the functions the worker registers,
 * each under the name it has in its own file; those names are wire contracts with running
 * workflows. Their payload types are in src/shared/activity-types.ts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { checkDetectionJob } from './check-detection-job.ts';
import type { DetectorClient } from './detector/types.ts';
import { getPlatformInfo } from './get-platform-info.ts';
import { inspectMedia, type MediaLimits } from './inspect-media.ts';
import { recordDetectionResult } from './record-detection-result.ts';
import { submitDetectionJob } from './submit-detection-job.ts';

export type { MediaLimits } from './inspect-media.ts';

/** The clients and settings the activities close over; built once per worker. */
export interface ActivityDeps {
  s3: S3Client;
  detector: DetectorClient;
  limits: MediaLimits;
  /** Where results go when the workflow input names no bucket. */
  resultBucket?: string | undefined;
}

/**
 * Binds each activity to its deps. Every property of the returned object is registered under its
 * key, so the set is exactly: inspectMedia, submitDetectionJob, checkDetectionJob, getPlatformInfo,
 * recordDetectionResult. Creating it does no I/O.
 * @example new Worker({ activities: createActivities({ s3, detector, limits }) })
 */
export function createActivities(deps: ActivityDeps) {
  return {
    inspectMedia: inspectMedia.bind(undefined, deps),
    submitDetectionJob: submitDetectionJob.bind(undefined, deps),
    checkDetectionJob: checkDetectionJob.bind(undefined, deps),
    getPlatformInfo: getPlatformInfo.bind(undefined, deps),
    recordDetectionResult: recordDetectionResult.bind(undefined, deps),
  };
}

/** The activity set's type, for `proxyActivities<Activities>()` in workflows (a type import). */
export type Activities = ReturnType<typeof createActivities>;

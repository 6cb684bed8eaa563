/**
 * The activity set. `createActivities(deps)` returns exactly the functions the worker registers;
 * their names are wire contracts with running workflows.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import type { InspectedMedia } from '../shared/media.ts';
import type { JobCheck, PlatformInfo, SubmitJobInput, SubmittedJob } from '../shared/detection.ts';
import { checkDetection } from './check-detection-job.ts';
import type { DetectorClient } from './detector/types.ts';
import { inspectMediaObject, type InspectMediaInput, type MediaLimits } from './inspect-media.ts';
import { recordResult, type RecordResultRequest } from './record-detection-result.ts';
import { submitDetection } from './submit-detection-job.ts';

export type { InspectMediaInput } from './inspect-media.ts';
export type { RecordResultFailureDetails, RecordResultRequest } from './record-detection-result.ts';

export interface ActivityDeps {
  s3: S3Client;
  detector: DetectorClient;
  limits: MediaLimits;
  /** Where results go when the workflow input names no bucket. */
  resultBucket?: string;
}

/**
 * Binds the activities to their clients.
 * @example new Worker({ activities: createActivities({ s3, detector, limits }) })
 */
export function createActivities(deps: ActivityDeps) {
  return {
    /** HEAD + header probe of one media object. Read-only, idempotent. */
    async inspectMedia(input: InspectMediaInput): Promise<InspectedMedia> {
      return inspectMediaObject(deps.s3, deps.limits, input, Context.current().cancellationSignal);
    },
    /** Streams both objects to the platform; returns the job to poll. */
    async submitDetectionJob(input: SubmitJobInput): Promise<SubmittedJob> {
      return submitDetection(deps.s3, deps.detector, input);
    },
    /** One status check; a 404 comes back as `{ state: 'lost' }`. */
    async checkDetectionJob(job: SubmittedJob): Promise<JobCheck> {
      return checkDetection(deps.detector, job);
    },
    /** The platform's URL and version, for the record; `version: null` when it will not say. */
    async getPlatformInfo(): Promise<PlatformInfo> {
      const { cancellationSignal: signal, log } = Context.current();
      try {
        const { version } = await deps.detector.systemInfo({ signal });
        return { url: deps.detector.baseUrl, version };
      } catch (err) {
        log.warn('platform version unavailable', { error: (err as Error).message });
        return { url: deps.detector.baseUrl, version: null };
      }
    },
    /** Create-only write of the result document; see recordResult. */
    async recordDetectionResult(request: RecordResultRequest) {
      return recordResult(deps.s3, deps.resultBucket, request);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

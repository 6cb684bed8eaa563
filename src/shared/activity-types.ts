/**
 * The payloads of the activities: what `detectWorkflow` sends to and gets back from each one. Wire
 * contracts with running workflows (their histories hold these shapes), so fields are only ever
 * added, optional. Importable from workflows: no Node, no I/O.
 */
import type { DetectionResult } from './detection.ts';
import type { InspectedMedia, MediaRef, MediaRole } from './media.ts';
import type { ScoreCacheRecord } from './score-cache.ts';

/** Input of `inspectMedia`: one object and the part it plays in the detection. */
export interface InspectMediaInput {
  media: MediaRef;
  role: MediaRole;
}

/** Input of `submitDetectionJob`. */
export interface SubmitJobInput {
  reference: InspectedMedia;
  questioned: InspectedMedia;
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  /** Sent as `x-correlation-id` so platform logs can be matched to the workflow. */
  correlationId: string;
}

/** A submitted job (result of `submitDetectionJob`): the URL to poll, resolved to an absolute URL. */
export interface SubmittedJob {
  jobId: string;
  statusUrl: string;
  /**
   * The activity attempt that got this job (1 = first try). Optional: histories recorded before it
   * existed decode without it, and it then counts as 1.
   */
  attempt?: number;
  /**
   * Hex SHA-256 of exactly the bytes sent for each file (chain of custody), computed while
   * streaming. Absent in histories recorded before it existed.
   */
  referenceSha256?: string;
  questionedSha256?: string;
}

/**
 * What one status check (`checkDetectionJob`) saw. `lost` is a 404 (expired or the appliance
 * restarted); unknown platform states come back as they are, and are treated as still running.
 */
export type JobCheck =
  | { state: 'pending' | 'running' }
  | { state: 'done'; score: number | null }
  | { state: 'failed' | 'rejected'; errorType: string; message: string }
  | { state: 'lost' }
  | { state: 'unknown'; platformState: string };

/** What the platform says about itself (`getPlatformInfo`); `version` is null when it would not say. */
export interface PlatformInfo {
  url: string;
  version: string | null;
}

/**
 * Input of `recordDetectionResult`. The workflow computes the whole document except where it
 * lands, which the worker's config decides when `location.bucket` is absent.
 */
export interface RecordResultRequest {
  result: Omit<DetectionResult, 'resultLocation'>;
  location: { bucket?: string; key: string };
  /**
   * Present: also write the score cache's pair entry and object index entries (best effort,
   * create-only) for this computed score. See src/shared/score-cache.ts.
   */
  cache?: ScoreCacheRecord;
}

/** `details[0]` of every failure `recordDetectionResult` throws: where the document was to be written. */
export interface RecordResultFailureDetails {
  resultLocation: { bucket: string; key: string };
}

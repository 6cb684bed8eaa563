/**
 * The payloads of the activities: what `detectWorkflow` sends to and gets back from each one. Wire
 * contracts with running workflows (their histories hold these shapes), so fields are only ever
 * added, optional. Importable from workflows: no Node, no I/O.
 */
import type { CompletionModel } from './completion-estimate.ts';
import type { DetectionResult } from './detection.ts';
import type { InspectedMedia, MediaRef, MediaRole } from './media.ts';
import type { AcquireLease } from './platform-capacity.ts';
import type { ScoreCacheLookup, ScoreCacheRecord } from './score-cache.ts';

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
  /**
   * Acquire this platform lease before uploading (the lean detection path): the activity asks the
   * capacity workflow through its worker process's lease broker until it is granted, heartbeating
   * `{ phase: 'waiting-for-capacity', ahead }` meanwhile. Absent: the caller holds a lease already
   * (or runs without one), as detections started before the lean path do.
   */
  lease?: AcquireLease;
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
  /** When the platform accepted the job (epoch ms, the worker's clock); set by the lean path's submit. */
  acceptedAtMs?: number;
  /**
   * With `SubmitJobInput.lease`: the capacity workflow that granted it (release it there) and the
   * platform's completion-time estimate at the grant.
   */
  lease?: { capacityWorkflowId: string; leaseId: string; estimate: CompletionModel };
}

/** Input of `prepareDetection` (local activity of the lean path): both files and the cache switch. */
export interface PrepareDetectionInput {
  reference: MediaRef;
  questioned: MediaRef;
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  /** Look the pair up in the score cache (the input's `cache !== false`). */
  cache: boolean;
}

/**
 * Result of `prepareDetection`: both inspected files, the platform, the score-cache answer, and
 * what the workflow needs to know about its environment — or the permanent failure of the
 * inspection (returned, not thrown, so the workflow can still record it in its search attributes).
 */
export type PreparedDetection = {
  /** The platform's capacity workflow id (where leases are released). */
  capacityWorkflowId: string;
  /** True when the namespace has this project's custom search attributes (upsert only then). */
  searchAttributes: boolean;
} & (
  | {
      ok: true;
      reference: InspectedMedia;
      questioned: InspectedMedia;
      platform: PlatformInfo;
      /** Absent when not asked for (`cache: false`); a failed lookup is a miss. */
      cache?: ScoreCacheLookup;
    }
  | { ok: false; failure: { type: string; message: string; details?: unknown[] } }
);

/** Input of `awaitDetectionJob`: the job, what the schedule is built on, and the lease to give back. */
export interface AwaitJobInput {
  job: SubmittedJob;
  /** Audio seconds of both files together (the estimate's x). */
  audioSeconds: number;
  /** When the platform accepted the job (epoch ms); checks are scheduled from it. */
  acceptedAtMs: number;
  /** The completion-time estimate to schedule the checks by. */
  estimate: CompletionModel;
  /** The back-off after the dense window (seconds), as `PollingPolicy`. */
  polling: { minInterval: number; maxInterval: number; backoff: number };
  /** Released (with the observation) as soon as the job is terminal. */
  lease?: { capacityWorkflowId: string; leaseId: string };
}

/** Result of `awaitDetectionJob`: the terminal check, and how many checks it took. */
export type AwaitedJob = Extract<JobCheck, { state: 'done' | 'failed' | 'rejected' | 'lost' }> & {
  checks: number;
};

/** Heartbeat details of `awaitDetectionJob`: where a retried attempt resumes. */
export interface AwaitJobProgress {
  checks: number;
  /** The last state seen (`pending`, `running`, or the platform's own word). */
  lastState: string;
  /** Seconds after acceptance of the last check, and of the last one that saw it unfinished. */
  previous: number;
  previousInterval: number;
  afterSeconds: number;
  /**
   * When the next check is due (ISO 8601, UTC): with `checks`, what the Temporal UI's pending
   * activity shows while the job is awaited. Absent in heartbeats of workers before it existed.
   */
  nextCheckAt?: string;
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

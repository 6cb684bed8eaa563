/**
 * The contract of one referential deepfake detection: workflow input and the result document (the
 * activities' payloads are in activity-types.ts). Importable from workflows: no Node, no I/O.
 */
import type { MediaRef } from './media.ts';

/** Where the result JSON is written. Defaults: the configured result bucket, `results/<workflowId>.json`. */
export interface ResultLocation {
  bucket?: string;
  key?: string;
}

/**
 * How the workflow waits for a detection job, all in seconds. The first check lands near the
 * expected finish (`firstCheckBase + firstCheckPerAudioSecond × total audio seconds`), later
 * checks back off by `backoff` up to `maxInterval`; `deadline` bounds the whole wait.
 */
export interface PollingPolicy {
  firstCheckBase: number;
  firstCheckPerAudioSecond: number;
  minInterval: number;
  maxInterval: number;
  backoff: number;
  deadline: number;
}

/** Bounds on resubmitting one detection. */
export interface ResubmitPolicy {
  /** Resubmissions allowed after the platform lost the job (404 while polling). */
  maxLostResubmits: number;
  /** Resubmissions allowed after the job ended `failed`. */
  maxFailedResubmits: number;
}

export const DEFAULT_POLLING: PollingPolicy = {
  firstCheckBase: 2,
  firstCheckPerAudioSecond: 0.1,
  minInterval: 1,
  maxInterval: 30,
  backoff: 1.5,
  deadline: 60 * 60,
};

export const DEFAULT_RESUBMIT: ResubmitPolicy = { maxLostResubmits: 3, maxFailedResubmits: 2 };

/** Input of `detectWorkflow`. */
export interface DetectInput {
  reference: MediaRef;
  questioned: MediaRef;
  /** Sent as the platform's `config` form field (JSON). Unknown keys are ignored by the platform. */
  config?: Record<string, unknown>;
  /** Extra query parameters for the submit request, e.g. a time segment. */
  params?: Record<string, string>;
  /** LLR above which the verdict is `deepfake`. Default 0, the platform's decision threshold. */
  threshold?: number;
  result?: ResultLocation;
  polling?: Partial<PollingPolicy>;
  resubmit?: Partial<ResubmitPolicy>;
  /**
   * Answer from the score cache when this pair was scored before (same bytes, channels, config,
   * params and platform version). Default true; `false` always submits (the fresh score is still
   * offered to the cache, which keeps the first entry for a pair).
   */
  cache?: boolean;
  /**
   * The batch this detection is a pair of (set by `batchWorkflow` on its children). Without it the
   * detection is interactive and goes before every batch pair in the platform's capacity queue;
   * with it, batches share the platform round-robin by this id (the fairness key).
   */
  batchId?: string;
}

export const Verdict = {
  Deepfake: 'deepfake',
  Genuine: 'genuine',
  /** The platform returned `null`: too little speech in one of the files. An answer, not an error. */
  Inconclusive: 'inconclusive',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/**
 * Maps an LLR to a verdict: `score > threshold` is a deepfake, anything else genuine, `null`
 * inconclusive.
 * @example verdictFor(0.5, 0) // 'deepfake'
 */
export function verdictFor(score: number | null, threshold: number): Verdict {
  if (score === null) return Verdict.Inconclusive;
  return score > threshold ? Verdict.Deepfake : Verdict.Genuine;
}

/** One media as recorded in the result: the reference plus the version that was analysed. */
export interface RecordedMedia extends MediaRef {
  etag: string;
  durationSeconds: number;
  /**
   * Chain of custody: hex SHA-256 of the bytes the platform scored, hashed while they were sent. On
   * a cached result, the content hash the cache matched on (the object's S3 `ChecksumSHA256`, or the
   * hash recorded when that object version was sent before). Absent in documents recorded before
   * it existed.
   */
  sha256?: string;
}

/** The result document written to S3 and returned by the workflow. */
export interface DetectionResult {
  workflowId: string;
  reference: RecordedMedia;
  questioned: RecordedMedia;
  /** Log-likelihood ratio; `null` when there was too little speech. */
  score: number | null;
  verdict: Verdict;
  threshold: number;
  jobId: string;
  platform: { url: string; version: string | null };
  timestamps: { startedAt: string; submittedAt: string; completedAt: string };
  /** Status checks made over all submissions. */
  checks: number;
  /** Jobs submitted, including resubmissions after `failed` or a lost job. */
  submissions: number;
  /**
   * Submit attempts that may have reached the platform: the sum, over the `submissions`, of the
   * attempt number of the `submitDetectionJob` activity that succeeded. Equal to `submissions` when
   * no upload was retried; greater when an upload was retried after the platform may already have
   * accepted a job (a worker killed or a connection lost after the POST), each such job running
   * and expiring there unseen. An upper bound: a retried attempt that failed before the POST (an
   * S3 read error, a 429) counts too. For operators auditing platform load. Absent in documents
   * recorded before it existed.
   */
  uploads?: number;
  /**
   * Present (true) when the score came from the score cache: nothing was submitted (`submissions`
   * and `uploads` 0), and `jobId`, `timestamps.submittedAt` and `completedAt` are the original job's.
   */
  cached?: true;
  /** With `cached`: the workflow id of the detection that computed the score. */
  cachedFrom?: string;
  resultLocation: { bucket: string; key: string };
}

/** Answer of the `status` query: where one detection stands. */
export interface DetectionStatus {
  /** `waiting-for-capacity`: queued for a platform lease (see `lease`), nothing submitted yet. */
  phase: 'inspecting' | 'waiting-for-capacity' | 'submitting' | 'waiting' | 'recording' | 'done' | 'failed';
  jobId: string | null;
  lastState: string | null;
  checks: number;
  submissions: number;
  /** When the next status check is due (ISO), while waiting. */
  nextCheckAt: string | null;
  /**
   * The platform lease this detection waits for or holds (absent when it has none, and in runs
   * started before leases existed): the capacity workflow to ask (`capacityState`) and the lease id.
   */
  lease?: { capacityWorkflowId: string; leaseId: string; granted: boolean };
}

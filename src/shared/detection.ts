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
  resultLocation: { bucket: string; key: string };
}

/** Answer of the `status` query: where one detection stands. */
export interface DetectionStatus {
  phase: 'inspecting' | 'submitting' | 'waiting' | 'recording' | 'done' | 'failed';
  jobId: string | null;
  lastState: string | null;
  checks: number;
  submissions: number;
  /** When the next status check is due (ISO), while waiting. */
  nextCheckAt: string | null;
}

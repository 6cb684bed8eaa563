/**
 * What both detection paths (`detect-workflow.ts` and the pre-`lean-history` `detect-workflow-v1.ts`)
 * do once the platform's job is terminal, and how they give a platform lease back. Deterministic
 * (workflow code). Both paths issue the same commands in the same order through these functions
 * as they did inline, so histories of either path replay unchanged.
 */
import {
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  log,
  sleep,
} from '@temporalio/workflow';
import type { JobCheck, SubmittedJob } from '../shared/activity-types.ts';
import type { PollingPolicy, ResubmitPolicy } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { releaseLeaseSignal } from '../shared/platform-capacity.ts';

/** A scored job, as the detection records it. */
export type FinishedJob = {
  jobId: string;
  score: number | null;
  submittedAt: string;
  completedAt: string;
  /** Submit attempts that may have reached the platform, over all submissions. */
  uploads: number;
  /** SHA-256 of the bytes the last (scored) submission sent; absent in older histories. */
  referenceSha256?: string | undefined;
  questionedSha256?: string | undefined;
};

/** A check that ends the wait: the job is done, failed, rejected, or lost (404). */
export type TerminalCheck = Extract<JobCheck, { state: 'done' | 'failed' | 'rejected' | 'lost' }>;

/** Resubmissions so far of one detection; `settleTerminalJob` counts them up. */
export interface Resubmissions {
  lost: number;
  failed: number;
}

/**
 * Settles one terminal job: `done` → the FinishedJob; `rejected` → throws DetectorRejectedInput;
 * `failed` / `lost` within `resubmit`'s budget → counts it in `resubmissions` and returns
 * undefined to resubmit (after a durable back-off of min(maxInterval, minInterval × 2^failed) s
 * for `failed`: "an identical retry may succeed once the appliance recovers", platform-api.md §2);
 * beyond the budget → throws DetectorJobFailed / DetectorJobLost. Every failure is non-retryable.
 */
export async function settleTerminalJob(
  end: TerminalCheck,
  job: SubmittedJob,
  run: {
    submittedAt: string;
    uploads: number;
    resubmissions: Resubmissions;
    resubmit: ResubmitPolicy;
    polling: PollingPolicy;
    /** Give the back-off timer a summary for the UI (the lean path; v1 issues its commands unchanged). */
    timerSummaries?: boolean;
  },
): Promise<FinishedJob | undefined> {
  const { resubmissions, resubmit, polling } = run;
  switch (end.state) {
    case 'done':
      return {
        jobId: job.jobId,
        score: end.score,
        submittedAt: run.submittedAt,
        completedAt: new Date().toISOString(),
        uploads: run.uploads,
        referenceSha256: job.referenceSha256,
        questionedSha256: job.questionedSha256,
      };
    case 'rejected':
      throw ApplicationFailure.create({
        type: FailureType.DetectorRejectedInput,
        message: `the platform rejected the input (${end.errorType}): ${end.message}`,
        nonRetryable: true,
        details: [{ jobId: job.jobId, errorType: end.errorType }],
      });
    case 'failed': {
      if (resubmissions.failed >= resubmit.maxFailedResubmits) {
        throw ApplicationFailure.create({
          type: FailureType.DetectorJobFailed,
          message: `detection job failed ${resubmissions.failed + 1} time(s), last (${end.errorType}): ${end.message}`,
          nonRetryable: true,
        });
      }
      resubmissions.failed += 1;
      log.warn('detection job failed; resubmitting', {
        jobId: job.jobId,
        attempt: resubmissions.failed,
        message: end.message,
      });
      const backoffSeconds = Math.min(polling.maxInterval, polling.minInterval * 2 ** resubmissions.failed);
      await sleep(
        backoffSeconds * 1000,
        run.timerSummaries ? { summary: `back off ${backoffSeconds} s after a failed job` } : undefined,
      );
      return undefined;
    }
    case 'lost':
      if (resubmissions.lost >= resubmit.maxLostResubmits) {
        throw ApplicationFailure.create({
          type: FailureType.DetectorJobLost,
          message: `the platform lost the detection job ${resubmissions.lost + 1} time(s) (404 while polling)`,
          nonRetryable: true,
        });
      }
      resubmissions.lost += 1;
      log.warn('detection job lost by the platform (404); resubmitting', {
        jobId: job.jobId,
        attempt: resubmissions.lost,
      });
      return undefined;
  }
}

/**
 * Signals `releaseLease` for `lease` to its capacity workflow, not cancellable. Never throws: a
 * failed signal is logged, and the capacity workflow's periodic check takes the lease back once
 * the holder's run has closed. Idempotent on the capacity workflow's side.
 */
export async function signalLeaseRelease(lease: {
  capacityWorkflowId: string;
  leaseId: string;
}): Promise<void> {
  try {
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(lease.capacityWorkflowId).signal(releaseLeaseSignal, {
        leaseId: lease.leaseId,
      }),
    );
  } catch (err) {
    log.warn('releasing the platform lease failed', {
      leaseId: lease.leaseId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

import {
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities/index.ts';
import type { PlatformInfo, PreparedDetection } from '../shared/activity-types.ts';
import { predictSeconds, type CompletionModel } from '../shared/completion-estimate.ts';
import {
  DEFAULT_POLLING,
  DEFAULT_RESUBMIT,
  verdictFor,
  type DetectInput,
  type DetectionResult,
  type DetectionStatus,
  type PollingPolicy,
  type ResubmitPolicy,
} from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import type { InspectedMedia } from '../shared/media.ts';
import { LeasePriority } from '../shared/platform-capacity.ts';
import type { ScoreCacheLookup } from '../shared/score-cache.ts';
import {
  DetectionFailure,
  DetectionPhase,
  DetectionScore,
  DetectionVerdict,
  PlatformJobId,
} from '../shared/search-attributes.ts';
import { clockTime, pairTag, shortJobId } from '../shared/ui-text.ts';
import { defaultResultKey, detectInputProblems, workflowIdProblems } from '../shared/validate-input.ts';
import { statusQuery } from '../shared/workflows.ts';
import {
  DETECTOR_AWAIT,
  DETECTOR_SUBMIT_LEASED,
  PREPARE_LOCAL,
  STORAGE_WRITE_LOCAL,
} from './activity-options.ts';
import {
  detectWorkflowV1,
  cachedResultRequest,
  recorded,
  resultNotRecorded,
  surfacePermanentFailure,
  withinDeadline,
} from './detect-workflow-v1.ts';
import {
  settleTerminalJob,
  signalLeaseRelease,
  type FinishedJob,
  type Resubmissions,
} from './job-outcome.ts';
import { versioningBehavior } from './versioning-behavior.ts';

const { prepareDetection } = proxyLocalActivities<Activities>(PREPARE_LOCAL);
const { recordDetectionResult } = proxyLocalActivities<Activities>(STORAGE_WRITE_LOCAL);
const { submitDetectionJob } = proxyActivities<Activities>(DETECTOR_SUBMIT_LEASED);
const { awaitDetectionJob } = proxyActivities<Activities>(DETECTOR_AWAIT);

/**
 * Jobs predicted to take longer than this (s) wait on a durable workflow timer first, so a long job
 * holds no worker slot; the waiting activity starts LONG_JOB_MARGIN_SECONDS before the prediction.
 */
const LONG_JOB_SECONDS = 5 * 60;
const LONG_JOB_MARGIN_SECONDS = 60;

// PINNED: under Worker Versioning a detection finishes on the build it started on, so a new build
// never replays a running detection. See README "Safe upgrades".
setWorkflowOptions(versioningBehavior('PINNED'), detectWorkflow);

/**
 * One referential deepfake detection: inspect both recordings, submit them to the platform, wait
 * for the job, resubmit when the platform loses or fails it (bounded), and record the scored
 * result in S3 exactly once. Media bytes never pass through the workflow. A pair scored before
 * (same bytes, channels, config, params, platform version) is answered from the score cache unless
 * `input.cache === false`: `cached: true`, nothing submitted. A computed score records the SHA-256
 * of the bytes sent for each file and is offered to the cache.
 *
 * The lean path (patch `lean-history`; detections started before it run `detectWorkflowV1`
 * unchanged) keeps a happy-path history at about 24 events: one local activity reads both files,
 * the platform info and the score cache; the submit activity acquires the platform lease itself
 * (update on the capacity workflow, no events here) and uploads; one heartbeating
 * `awaitDetectionJob` activity waits until shortly before the completion time the platform's
 * estimate predicts, checks densely around it, releases the lease and reports how long the job took
 * (the estimate learns); the result is written by a local activity. A job predicted to take over
 * 5 minutes waits on a durable timer first. Search attributes (when registered in the namespace):
 * `PlatformJobId` and `DetectionPhase=waiting` after the submit, the phase, verdict and score (or
 * `DetectionFailure`) at the end. The Temporal UI's current details say where it stands ("submitted,
 * job 3f2a9c1b…, waiting (predicted done at 14:02:07 UTC)"), and every activity and timer carries a
 * summary ("inspect reference + questioned", "upload pair …", "wait for job …", "record result"),
 * so the event timeline reads as the story of the detection (no commands added: replay-safe).
 *
 * Fails with a non-retryable ApplicationFailure whose `type` is a `FailureType` and whose message
 * names the bad input. Cancelling it cancels the in-flight activity and records nothing. Input
 * (buckets, keys, and its own id when it makes the default result key) is checked before any work:
 * `InvalidInput`. A score that cannot be recorded fails `ResultNotRecorded` with the score in the
 * message and the whole document in `details[0]`, so it is never lost.
 */
export async function detectWorkflow(input: DetectInput): Promise<DetectionResult> {
  if (!patched('lean-history')) return detectWorkflowV1(input);
  const problems = detectInputProblems(input);
  // The default result key is `results/<workflowId>.json`: an id S3 cannot take as a key segment
  // would only fail at the very end, after the platform scored the pair.
  if (input?.result?.key === undefined) problems.push(...workflowIdProblems(workflowInfo().workflowId));
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: problems.join('; '),
      nonRetryable: true,
    });
  }
  const { workflowId, startTime } = workflowInfo();
  setCurrentDetails('inspecting both recordings, reading the platform info and the score cache');
  const polling: PollingPolicy = { ...DEFAULT_POLLING, ...input.polling };
  const resubmit: ResubmitPolicy = { ...DEFAULT_RESUBMIT, ...input.resubmit };
  const threshold = input.threshold ?? 0;
  const status: DetectionStatus = {
    phase: 'inspecting',
    jobId: null,
    lastState: null,
    checks: 0,
    submissions: 0,
    nextCheckAt: null,
  };
  setHandler(statusQuery, () => ({ ...status, ...(status.lease && { lease: { ...status.lease } }) }));
  let searchAttributes = false;
  const upsert = (pairs: SearchAttributeUpdatePair[]) => {
    if (searchAttributes) upsertSearchAttributes(pairs);
  };
  const held: { lease?: { capacityWorkflowId: string; leaseId: string } | undefined } = {};

  try {
    const prepared: PreparedDetection = await prepareDetection.executeWithOptions(
      { summary: 'inspect reference + questioned, platform info, score cache' },
      [
        {
          reference: input.reference,
          questioned: input.questioned,
          config: input.config,
          params: input.params,
          cache: input.cache !== false,
        },
      ],
    );
    searchAttributes = prepared.searchAttributes;
    if (!prepared.ok) {
      throw ApplicationFailure.create({
        type: prepared.failure.type,
        message: prepared.failure.message,
        nonRetryable: true,
        details: prepared.failure.details,
      });
    }
    const { reference, questioned, platform } = prepared;
    if (prepared.cache?.hit) {
      const result = await recordCached(
        { input, reference, questioned, platform, threshold, status },
        prepared.cache,
      );
      setCurrentDetails(doneDetails(result));
      upsert(finalAttributes(result));
      return result;
    }
    const job = await withinDeadline(polling.deadline, () =>
      runDetection({
        input,
        reference,
        questioned,
        polling,
        resubmit,
        status,
        capacityWorkflowId: prepared.capacityWorkflowId,
        held,
        upsert,
      }),
    );

    status.phase = 'recording';
    const verdict = verdictFor(job.score, threshold);
    setCurrentDetails(`job ${shortJobId(job.jobId)} done (${verdict}); recording the result`);
    const request = {
      result: {
        workflowId,
        reference: recorded(reference, job.referenceSha256),
        questioned: recorded(questioned, job.questionedSha256),
        score: job.score,
        verdict,
        threshold,
        jobId: job.jobId,
        platform,
        timestamps: {
          startedAt: startTime.toISOString(),
          submittedAt: job.submittedAt,
          completedAt: job.completedAt,
        },
        checks: status.checks,
        submissions: status.submissions,
        uploads: job.uploads,
      },
      location: { bucket: input.result?.bucket, key: input.result?.key ?? defaultResultKey(workflowId) },
      cache: {
        config: input.config,
        params: input.params,
        referenceSizeBytes: reference.sizeBytes,
        questionedSizeBytes: questioned.sizeBytes,
      },
    };
    let result: DetectionResult;
    try {
      result = await recordDetectionResult.executeWithOptions({ summary: `record result: ${verdict}` }, [
        request,
      ]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw resultNotRecorded(err, request);
    }
    status.phase = 'done';
    setCurrentDetails(doneDetails(result));
    upsert(finalAttributes(result));
    return result;
  } catch (err) {
    status.phase = 'failed';
    await releaseHeld(held);
    const failure = surfacePermanentFailure(err);
    if (isCancellation(err)) setCurrentDetails('cancelled');
    else {
      const type = failure instanceof ApplicationFailure ? failure.type : undefined;
      setCurrentDetails(`failed: ${type ?? 'Error'}`);
      upsert([
        { key: DetectionPhase, value: 'failed' },
        { key: DetectionFailure, value: type ?? 'Error' },
      ]);
    }
    throw failure;
  }
}

/** The current details of a recorded result: verdict, score against the threshold, cache. */
function doneDetails(result: DetectionResult): string {
  const score =
    result.score === null
      ? 'no score'
      : `score ${result.score} ${result.score >= result.threshold ? '≥' : '<'} threshold ${result.threshold}`;
  return `done: ${result.verdict} (${score})${result.cached ? ', from the score cache' : ''}; result recorded`;
}

/** The search attributes of a recorded result: phase `done`, the verdict and (when not null) the score. */
function finalAttributes(result: DetectionResult): SearchAttributeUpdatePair[] {
  return [
    { key: DetectionPhase, value: 'done' },
    { key: DetectionVerdict, value: result.verdict },
    ...(result.score === null ? [] : [{ key: DetectionScore, value: result.score }]),
  ];
}

/** Gives back a lease that may still be held (a failure or cancellation mid-detection). Never throws. */
async function releaseHeld(held: { lease?: { capacityWorkflowId: string; leaseId: string } | undefined }) {
  const lease = held.lease;
  if (lease === undefined) return;
  held.lease = undefined;
  await signalLeaseRelease(lease);
}

interface DetectionRun {
  input: DetectInput;
  reference: InspectedMedia;
  questioned: InspectedMedia;
  polling: PollingPolicy;
  resubmit: ResubmitPolicy;
  status: DetectionStatus;
  capacityWorkflowId: string;
  held: { lease?: { capacityWorkflowId: string; leaseId: string } | undefined };
  upsert: (pairs: SearchAttributeUpdatePair[]) => void;
}

/** Submits (acquiring the lease in the activity) and waits, resubmitting a lost or failed job within the budget. */
async function runDetection(run: DetectionRun): Promise<FinishedJob> {
  const { input, reference, questioned, polling, resubmit, status, held } = run;
  const { workflowId, runId } = workflowInfo();
  const audioSeconds = reference.durationSeconds + questioned.durationSeconds;
  // Until the platform's estimate has learnt anything, the input's first-check model is the prior.
  const prior: CompletionModel = {
    baseSeconds: polling.firstCheckBase,
    perAudioSecond: polling.firstCheckPerAudioSecond,
    samples: 0,
    spreadSeconds: 0,
  };
  const batch = input.batchId !== undefined;
  const resubmissions: Resubmissions = { lost: 0, failed: 0 };
  let uploads = 0;
  for (;;) {
    // Deterministic per submission, so a retried submit activity asks for (and gets) the same lease.
    const lease = {
      capacityWorkflowId: run.capacityWorkflowId,
      leaseId: `${runId}/${status.submissions + 1}`,
    };
    held.lease = lease;
    status.phase = 'submitting';
    status.lease = { ...lease, granted: false };
    const submission = status.submissions + 1;
    setCurrentDetails(
      `submission ${submission}: waiting for platform capacity (a lease), then uploading the pair` +
        (submission > 1 ? ` again (${resubmissions.lost} lost, ${resubmissions.failed} failed so far)` : ''),
    );
    const tag = pairTag(input.reference, input.questioned);
    const job = await submitDetectionJob.executeWithOptions(
      {
        summary: `upload pair ${tag} to the platform (submission ${submission}, after a capacity lease)`,
      },
      [
        {
          reference,
          questioned,
          config: input.config,
          params: input.params,
          correlationId: workflowId,
          lease: {
            leaseId: lease.leaseId,
            holderWorkflowId: workflowId,
            holderRunId: runId,
            priority: batch ? LeasePriority.Batch : LeasePriority.Interactive,
            ...(batch && { fairnessKey: input.batchId }),
          },
        },
      ],
    );
    const submittedAt = new Date().toISOString();
    status.submissions += 1;
    uploads += job.attempt ?? 1;
    status.jobId = job.jobId;
    status.lastState = 'pending';
    status.lease = { ...lease, granted: true };
    run.upsert([
      { key: PlatformJobId, value: job.jobId },
      { key: DetectionPhase, value: 'waiting' },
    ]);

    status.phase = 'waiting';
    const learnt = job.lease?.estimate;
    const estimate = learnt && learnt.samples > 0 ? learnt : prior;
    const predicted = predictSeconds(estimate, audioSeconds);
    status.nextCheckAt = new Date(Date.now() + predicted * 1000).toISOString();
    const shortId = shortJobId(job.jobId);
    const doneAt = clockTime(status.nextCheckAt);
    // A long job waits on a durable timer, holding no worker slot, until shortly before its finish.
    if (predicted > LONG_JOB_SECONDS) {
      const wakeAt = clockTime(Date.now() + (predicted - LONG_JOB_MARGIN_SECONDS) * 1000);
      setCurrentDetails(
        `submitted, job ${shortId}, sleeping until ${wakeAt} (predicted done at ${doneAt}), then checking`,
      );
      await sleep((predicted - LONG_JOB_MARGIN_SECONDS) * 1000, {
        summary: `wait for job ${shortId} until shortly before its predicted finish`,
      });
    }
    setCurrentDetails(`submitted, job ${shortId}, waiting (predicted done at ${doneAt})`);
    const end = await awaitDetectionJob.executeWithOptions(
      { summary: `wait for job ${shortId} (predicted done at ${doneAt})` },
      [
        {
          job,
          audioSeconds,
          acceptedAtMs: job.acceptedAtMs ?? Date.now(),
          estimate,
          polling: {
            minInterval: polling.minInterval,
            maxInterval: polling.maxInterval,
            backoff: polling.backoff,
          },
          lease,
        },
      ],
    );
    // The activity released the lease as soon as it saw the job terminal.
    held.lease = undefined;
    delete status.lease;
    status.checks += end.checks;
    status.nextCheckAt = null;
    status.lastState = end.state;
    if (end.state !== 'done')
      setCurrentDetails(
        `job ${shortId} ${end.state} after ${status.checks} checks; deciding whether to resubmit`,
      );
    const finished = await settleTerminalJob(end, job, {
      submittedAt,
      uploads,
      resubmissions,
      resubmit,
      polling,
      timerSummaries: true,
    });
    if (finished) return finished;
  }
}

/** Records the score cache's answer as this detection's result (`cached: true`, nothing submitted). */
async function recordCached(
  run: {
    input: DetectInput;
    reference: InspectedMedia;
    questioned: InspectedMedia;
    platform: PlatformInfo;
    threshold: number;
    status: DetectionStatus;
  },
  lookup: Extract<ScoreCacheLookup, { hit: true }>,
): Promise<DetectionResult> {
  const { status } = run;
  const { entry } = lookup;
  status.phase = 'recording';
  setCurrentDetails('answered from the score cache; recording the result');
  status.jobId = entry.jobId;
  status.lastState = 'done';
  const request = cachedResultRequest(run, lookup);
  let result: DetectionResult;
  try {
    result = await recordDetectionResult.executeWithOptions(
      { summary: `record result from the score cache: ${request.result.verdict}` },
      [request],
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw resultNotRecorded(err, request);
  }
  status.phase = 'done';
  return result;
}

import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type {
  JobCheck,
  PlatformInfo,
  RecordResultFailureDetails,
  SubmittedJob,
} from '../shared/activity-types.ts';
import type { ScoreCacheLookup } from '../shared/score-cache.ts';
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
import { platformLease, type PlatformLease } from './platform-lease.ts';
import {
  settleTerminalJob,
  type FinishedJob,
  type Resubmissions,
  type TerminalCheck,
} from './job-outcome.ts';
import { statusQuery } from '../shared/workflows.ts';
import type { InspectedMedia } from '../shared/media.ts';
import { defaultResultKey, detectInputProblems, workflowIdProblems } from '../shared/validate-input.ts';
import {
  DETECTOR_CHECK,
  DETECTOR_INFO,
  DETECTOR_SUBMIT,
  STORAGE_READ,
  STORAGE_WRITE,
} from './activity-options.ts';

const { inspectMedia, lookupScoreCache } = proxyActivities<Activities>(STORAGE_READ);
const { submitDetectionJob } = proxyActivities<Activities>(DETECTOR_SUBMIT);
const { checkDetectionJob } = proxyActivities<Activities>(DETECTOR_CHECK);
const { getPlatformInfo } = proxyActivities<Activities>(DETECTOR_INFO);
const { recordDetectionResult } = proxyActivities<Activities>(STORAGE_WRITE);

/**
 * The detection as it ran before the `lean-history` patch (kept unchanged, so histories of
 * detections started before replay exactly): `detectWorkflow` runs it for those histories.
 *
 * One referential deepfake detection: inspect both recordings, submit them to the platform, wait
 * for the job with durable timers, resubmit when the platform loses or fails it (bounded), and
 * record the scored result in S3 exactly once. Media bytes never pass through the workflow.
 * A pair scored before (same bytes, channels, config, params, platform version) is answered from
 * the score cache unless `input.cache === false`: `cached: true`, nothing submitted. A computed
 * score records the SHA-256 of the bytes sent for each file and is offered to the cache.
 *
 * Fails with a non-retryable ApplicationFailure whose `type` is a `FailureType` and whose message
 * names the bad input. Cancelling it cancels the in-flight activity and records nothing. Input
 * (buckets, keys, and its own id when it makes the default result key) is checked before any work:
 * `InvalidInput`. A score that cannot be recorded fails `ResultNotRecorded` with the score in the
 * message and the whole document in `details[0]`, so it is never lost.
 */
export async function detectWorkflowV1(input: DetectInput): Promise<DetectionResult> {
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
  setHandler(statusQuery, () => ({ ...status }));
  const lease = platformLease(input, status);

  try {
    const [reference, questioned] = await inspectBoth(input);
    const platform = await getPlatformInfo();
    // Histories from before the score cache went from the platform info straight to submitting.
    const scoreCache = patched('score-cache');
    if (scoreCache && input.cache !== false) {
      const hit = await cachedResult({ input, reference, questioned, platform, threshold, status });
      if (hit) return hit;
    }
    const job = await withinDeadline(polling.deadline, () =>
      runDetection({
        input,
        reference,
        questioned,
        polling,
        resubmit,
        status,
        correlationId: workflowId,
        lease,
      }),
    ).finally(() => lease.release());

    status.phase = 'recording';
    const request = {
      result: {
        workflowId,
        reference: recorded(reference, job.referenceSha256),
        questioned: recorded(questioned, job.questionedSha256),
        score: job.score,
        verdict: verdictFor(job.score, threshold),
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
      ...(scoreCache && {
        cache: {
          config: input.config,
          params: input.params,
          referenceSizeBytes: reference.sizeBytes,
          questionedSizeBytes: questioned.sizeBytes,
        },
      }),
    };
    let result: DetectionResult;
    try {
      result = await recordDetectionResult(request);
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw resultNotRecorded(err, request);
    }
    status.phase = 'done';
    return result;
  } catch (err) {
    status.phase = 'failed';
    throw surfacePermanentFailure(err);
  }
}

interface DetectionRun {
  input: DetectInput;
  reference: InspectedMedia;
  questioned: InspectedMedia;
  polling: PollingPolicy;
  resubmit: ResubmitPolicy;
  status: DetectionStatus;
  correlationId: string;
  lease: PlatformLease;
}

/** Submits and waits, resubmitting a lost or failed job within the resubmit budget. */
async function runDetection(run: DetectionRun): Promise<FinishedJob> {
  const { input, reference, questioned, polling, resubmit, status } = run;
  // The first check lands near the expected finish: processing time grows with audio length.
  const audioSeconds = reference.durationSeconds + questioned.durationSeconds;
  const firstCheck = polling.firstCheckBase + polling.firstCheckPerAudioSecond * audioSeconds;
  const resubmissions: Resubmissions = { lost: 0, failed: 0 };
  let uploads = 0;
  // A lease counts the job from submit until it is terminal; runs started before leases have none.
  const leased = patched('platform-capacity-lease');
  for (;;) {
    if (leased) await run.lease.acquire();
    status.phase = 'submitting';
    const job = await submitDetectionJob({
      reference,
      questioned,
      config: input.config,
      params: input.params,
      correlationId: run.correlationId,
    });
    const submittedAt = new Date().toISOString();
    status.submissions += 1;
    // Attempt n means n − 1 earlier attempts failed, any of which may have left a job on the platform.
    uploads += job.attempt ?? 1;
    status.jobId = job.jobId;
    status.lastState = 'pending';

    const end = await waitForJob(job, firstCheck, polling, status);
    // Terminal on the platform: the slot is free (a failure before this point releases in detectWorkflow).
    if (leased) await run.lease.release();
    const finished = await settleTerminalJob(end, job, {
      submittedAt,
      uploads,
      resubmissions,
      resubmit,
      polling,
    });
    if (finished) return finished;
  }
}

/** Durable-timer polling: first check at `firstCheck` s, then from `minInterval` backing off to `maxInterval`. */
async function waitForJob(
  job: SubmittedJob,
  firstCheck: number,
  polling: PollingPolicy,
  status: DetectionStatus,
): Promise<TerminalCheck> {
  let delay = Math.max(polling.minInterval, firstCheck);
  let interval = polling.minInterval;
  for (;;) {
    status.phase = 'waiting';
    status.nextCheckAt = new Date(Date.now() + delay * 1000).toISOString();
    await sleep(delay * 1000);
    const check = await checkDetectionJob(job);
    status.checks += 1;
    status.nextCheckAt = null;
    status.lastState = check.state === 'unknown' ? check.platformState : check.state;
    if (isTerminal(check)) return check;
    delay = interval;
    interval = Math.min(polling.maxInterval, interval * polling.backoff);
  }
}

function isTerminal(check: JobCheck): check is TerminalCheck {
  return check.state !== 'pending' && check.state !== 'running' && check.state !== 'unknown';
}

/** Runs `fn` under a durable deadline timer; an expired deadline becomes DetectionDeadlineExceeded. */
export async function withinDeadline<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await CancellationScope.withTimeout(seconds * 1000, fn);
  } catch (err) {
    // The root scope is cancelled only when someone cancelled the workflow: that stays a cancellation.
    if (isCancellation(err) && !CancellationScope.current().consideredCancelled) {
      throw ApplicationFailure.create({
        type: FailureType.DetectionDeadlineExceeded,
        message: `no detection result within the ${seconds} s deadline`,
        nonRetryable: true,
      });
    }
    throw err;
  }
}

/**
 * Inspects both files at once. Since `inspect-both`, both inspections are awaited to the end and,
 * when both fail permanently, the failure names both (the reference's type, both messages), so a
 * user fixes the two files in one go; histories from before fail on the first failure.
 */
async function inspectBoth(input: DetectInput): Promise<[InspectedMedia, InspectedMedia]> {
  const inspections = [
    inspectMedia({ media: input.reference, role: 'reference' }),
    inspectMedia({ media: input.questioned, role: 'questioned' }),
  ] as const;
  if (!patched('inspect-both')) return Promise.all(inspections);
  const [reference, questioned] = await Promise.allSettled(inspections);
  if (reference.status === 'fulfilled' && questioned.status === 'fulfilled') {
    return [reference.value, questioned.value];
  }
  const failures = [reference, questioned].flatMap((settled) =>
    settled.status === 'rejected' ? [settled.reason as unknown] : [],
  );
  const permanent = failures.map((err) =>
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable
      ? err.cause
      : undefined,
  );
  const [first, second] = permanent;
  if (failures.length < 2 || first === undefined || second === undefined) throw failures[0];
  throw ApplicationFailure.create({
    type: first.type ?? undefined,
    message: `${first.message}; and ${second.message}`,
    nonRetryable: true,
    details: [{ failures: [first, second].map(({ type, message }) => ({ type, message })) }],
    cause: failures[0] as Error,
  });
}

/**
 * Lifts a permanent activity failure to the workflow's own failure, so its type and its message
 * (which names the bad input) are what the UI and callers see first.
 */
export function surfacePermanentFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
    return ApplicationFailure.create({
      type: err.cause.type ?? undefined,
      message: err.cause.message,
      nonRetryable: true,
      details: err.cause.details as unknown[] | undefined,
      cause: err,
    });
  }
  return err;
}

/**
 * The failure that keeps a computed score when its document could not be written: type
 * `ResultNotRecorded`, the score, verdict, location and reason in the message, and the whole
 * `DetectionResult` (at its intended location) in `details[0]`. See FailureType.ResultNotRecorded.
 */
export function resultNotRecorded(
  err: unknown,
  request: { result: Omit<DetectionResult, 'resultLocation'>; location: { bucket?: string; key: string } },
): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const written = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  const resultLocation = (isLocationDetails(written) && written.resultLocation) || {
    bucket: request.location.bucket ?? '',
    key: request.location.key,
  };
  const document: DetectionResult = { ...request.result, resultLocation };
  const where = `s3://${resultLocation.bucket || '<no bucket>'}/${resultLocation.key}`;
  return ApplicationFailure.create({
    type: FailureType.ResultNotRecorded,
    message: `the score ${document.score} (${document.verdict}) was computed but not recorded at ${where}: ${reason}`,
    nonRetryable: true,
    details: [document],
    cause: err instanceof Error ? err : undefined,
  });
}

function isLocationDetails(value: unknown): value is RecordResultFailureDetails {
  const location = (value as Partial<RecordResultFailureDetails> | null | undefined)?.resultLocation;
  return typeof location?.bucket === 'string' && typeof location.key === 'string';
}

/** A media as the result document records it: the reference, its ETag, duration and the hash sent. */
export function recorded(media: InspectedMedia, sha256?: string | null) {
  const { bucket, key, channel, etag, durationSeconds } = media;
  return {
    bucket,
    key,
    ...(channel !== undefined && { channel }),
    etag,
    durationSeconds,
    ...(sha256 && { sha256 }),
  };
}

/**
 * The `recordDetectionResult` request for a score-cache hit (`cached: true`, no job ran: 0 checks,
 * submissions and uploads), at the input's result location or the default key. Pure and
 * deterministic (workflow time); shared by both detection paths.
 */
export function cachedResultRequest(
  run: {
    input: DetectInput;
    reference: InspectedMedia;
    questioned: InspectedMedia;
    platform: PlatformInfo;
    threshold: number;
  },
  lookup: Extract<ScoreCacheLookup, { hit: true }>,
) {
  const { input, reference, questioned, platform, threshold } = run;
  const { entry } = lookup;
  const { workflowId, startTime } = workflowInfo();
  return {
    result: {
      workflowId,
      reference: recorded(reference, lookup.referenceSha256),
      questioned: recorded(questioned, lookup.questionedSha256),
      score: entry.score,
      verdict: verdictFor(entry.score, threshold),
      threshold,
      jobId: entry.jobId,
      platform,
      timestamps: {
        startedAt: startTime.toISOString(),
        submittedAt: entry.timestamps.submittedAt,
        completedAt: entry.timestamps.completedAt,
      },
      checks: 0,
      submissions: 0,
      uploads: 0,
      cached: true as const,
      cachedFrom: entry.workflowId,
    },
    location: { bucket: input.result?.bucket, key: input.result?.key ?? defaultResultKey(workflowId) },
  };
}

/**
 * The score cache's answer, recorded as this detection's result (`cached: true`, nothing
 * submitted), or undefined on a miss. A failed lookup is a miss: the cache must never fail or
 * hold up a detection that the platform can score.
 */
async function cachedResult(run: {
  input: DetectInput;
  reference: InspectedMedia;
  questioned: InspectedMedia;
  platform: PlatformInfo;
  threshold: number;
  status: DetectionStatus;
}): Promise<DetectionResult | undefined> {
  const { input, reference, questioned, platform, threshold, status } = run;
  let lookup: ScoreCacheLookup;
  try {
    lookup = await lookupScoreCache({
      reference,
      questioned,
      config: input.config,
      params: input.params,
      platformVersion: platform.version,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('score cache lookup failed; submitting', {
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
  if (!lookup.hit) return undefined;
  const { entry } = lookup;
  status.phase = 'recording';
  status.jobId = entry.jobId;
  status.lastState = 'done';
  const request = cachedResultRequest({ input, reference, questioned, platform, threshold }, lookup);
  let result: DetectionResult;
  try {
    result = await recordDetectionResult(request);
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw resultNotRecorded(err, request);
  }
  status.phase = 'done';
  return result;
}

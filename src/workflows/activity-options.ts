/**
 * Every activity timeout and retry policy, named by the kind of call. Failure classification at
 * the activity boundary decides what is permanent; these decide how long the rest is retried.
 */
import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';

/** Reads of S3 metadata and headers: quick, retried with backoff until they succeed or fail permanently. */
export const STORAGE_READ = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} satisfies ActivityOptions;

/**
 * The upload: long, so it heartbeats and a dead worker is noticed in seconds. Unlimited attempts:
 * the workflow's deadline bounds it, and 429/507 back-pressure must be waited out. The workflow
 * waits for a cancelled upload to stop, so a cancelled detection leaves no transfer running.
 */
export const DETECTOR_SUBMIT = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
} satisfies ActivityOptions;

/** One status GET. */
export const DETECTOR_CHECK = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
} satisfies ActivityOptions;

/**
 * A signal or signalWithStart through Temporal (asking for a platform lease). Retried until it
 * goes through: the detection's deadline bounds it, and a lost request would leave the detection
 * waiting for a grant that never comes.
 */
export const TEMPORAL_SIGNAL = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
} satisfies ActivityOptions;

/**
 * Describe calls through Temporal (the capacity workflow's check for closed lease holders). Few
 * attempts: the check runs again at the next interval, and must never hold up grants.
 */
export const TEMPORAL_DESCRIBE = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3 },
} satisfies ActivityOptions;

/** Informational calls whose failure must never fail a detection. */
export const DETECTOR_INFO = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
} satisfies ActivityOptions;

/**
 * The result write. Retried through brief S3 outages (5xx, throttling, resets), but bounded — at
 * most 10 attempts within 15 minutes (backoff 1, 2, 4 … 60 s) — because the workflow then fails
 * `ResultNotRecorded` carrying the score and the document: an endless retry would hold the score
 * where no caller can see it. Permanent answers (an invalid key, a missing bucket) are not retried
 * at all (see toStorageFailure).
 */
export const STORAGE_WRITE = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
} satisfies ActivityOptions;

/**
 * Batch bookkeeping in S3 (a manifest page, one run's row file): quick, retried without an attempt
 * limit, since a batch must outlast an S3 outage; permanent answers are not retried.
 */
export const BATCH_STORAGE = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
} satisfies ActivityOptions;

/** The batch report: reads every row file and renders the page; heartbeats per file written. */
export const BATCH_REPORT = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
} satisfies ActivityOptions;

/**
 * The lean path's submit: waits for the platform lease inside the activity (heartbeating every
 * 5 s), then uploads. A long start-to-close, since the wait for capacity behind a large batch can
 * be long: the heartbeat notices a dead worker in seconds, and the detection's deadline bounds it.
 */
export const DETECTOR_SUBMIT_LEASED = {
  ...DETECTOR_SUBMIT,
  startToCloseTimeout: '24 hours',
} satisfies ActivityOptions;

/**
 * The lean path's wait for a job (`awaitDetectionJob`): sleeps and checks inside the activity,
 * heartbeating at least every 5 s, so a dead worker is noticed within the 10 s heartbeat timeout and
 * a retry resumes from the last heartbeat. A cancelled detection waits for it to stop (it learns of
 * the cancellation at its next heartbeat, within seconds), so nothing of it is left running.
 */
export const DETECTOR_AWAIT = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
} satisfies ActivityOptions;

/**
 * The lean path's reads before submitting (`prepareDetection`: both inspections, platform info,
 * score cache), as a local activity: the same budget as STORAGE_READ (20 attempts), with retries
 * after a minute's back-off on a durable timer.
 */
export const PREPARE_LOCAL = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} satisfies LocalActivityOptions;

/**
 * The lean path's result write, as a local activity with the bounds of STORAGE_WRITE: at most 10
 * attempts within 15 minutes, then the workflow fails `ResultNotRecorded` keeping the document.
 */
export const STORAGE_WRITE_LOCAL = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
} satisfies LocalActivityOptions;

/**
 * `rdd worker`'s start-up check of the result bucket: a worker that cannot record results would
 * take detections, score them on the platform and fail every one at its last step.
 */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeS3Answer, networkReason } from '../activities/storage-failures.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { CliError, ExitCode } from './exit-codes.ts';

/** Options of {@link checkResultBucket}. */
export interface ResultBucketCheckOptions {
  /** Where S3 is, for messages (S3_ENDPOINT, or `AWS S3`). */
  endpoint: string;
  /** Give up retrying an unreachable S3 after this long (ms, from the first attempt). */
  timeoutMs: number;
  /** First delay between attempts (ms); doubles up to `maxDelayMs`. Default 2000. */
  initialDelayMs?: number;
  /** Default 30 000. */
  maxDelayMs?: number;
  /** Called before each wait, e.g. to print one line. */
  onRetry?: (info: { reason: string; delayMs: number; attempt: number }) => void;
}

/**
 * Checks with HeadBucket that `bucket` exists and these credentials may use it. S3 that does not
 * answer (no listener, resets, timeouts, 5xx, throttling) is retried with exponential back-off
 * (2 s, 4 s … capped at 30 s) for `timeoutMs`, as the Temporal connection is. Writability is not
 * probed: a test write would need DeleteObject to clean up, which a least-privilege worker (result
 * objects are create-only) does not have; a bucket that denies writes fails the first detection's
 * recordDetectionResult with StorageAccessDenied naming it. Reads only; idempotent.
 * @throws CliError exit 2 when the bucket does not exist ("… create it or set S3_RESULT_BUCKET"),
 *   access is denied, or S3 refuses the request (4xx); exit 1 when S3 stayed unreachable.
 * @example await checkResultBucket(s3, 'results', { endpoint: 'http://127.0.0.1:7070', timeoutMs: 300_000 })
 */
export async function checkResultBucket(
  s3: S3Client,
  bucket: string,
  options: ResultBucketCheckOptions,
): Promise<void> {
  const started = Date.now();
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.initialDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    let err: unknown;
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (caught) {
      err = caught;
    }
    const status = s3Status(err);
    if (status === 404) {
      throw new CliError(
        ExitCode.Usage,
        `the result bucket ${bucket} does not exist: create it or set S3_RESULT_BUCKET`,
        { cause: err },
      );
    }
    if (status === 403) {
      throw new CliError(
        ExitCode.Usage,
        `access to the result bucket ${bucket} was denied: check the S3 credentials (AWS_ACCESS_KEY_ID, ` +
          'AWS_SECRET_ACCESS_KEY or the role) and the bucket policy',
        { cause: err },
      );
    }
    const transient =
      status === undefined ? networkReason(err) : status >= 500 || status === 429 || status === 408;
    if (!transient) {
      if (status === undefined) throw err; // a bug or a credentials-chain failure: as is, exit 1
      throw new CliError(
        ExitCode.Usage,
        `S3 refused the check of the result bucket ${bucket}: ${describeS3Answer(err as Error, status)}`,
        { cause: err },
      );
    }
    const reason = typeof transient === 'string' ? transient : `HTTP ${status}`;
    const remaining = started + options.timeoutMs - Date.now();
    if (remaining <= 0) {
      const seconds = Math.round((Date.now() - started) / 1000);
      throw new CliError(
        ExitCode.Failed,
        `cannot reach S3 at ${options.endpoint} to check the result bucket ${bucket} (${reason}); ` +
          `giving up after ${seconds} s (WORKER_CONNECT_TIMEOUT_MS)`,
        { cause: err },
      );
    }
    const wait = Math.min(delayMs, remaining);
    options.onRetry?.({ reason, delayMs: wait, attempt });
    await sleep(wait);
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

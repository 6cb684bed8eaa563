import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.ts';
import { s3Status } from '../storage/s3-errors.ts';

const NOT_FOUND_NAMES = new Set(['NotFound', 'NoSuchKey', 'NoSuchBucket']);

/**
 * 4xx statuses a retry can change: 408 (request timeout) and 429 (throttled). Every other 4xx is
 * the server refusing this very request, and an identical retry gets the same answer.
 */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

/**
 * 4xx error codes that AWS documents as transient, whatever their status: 409 `OperationAborted`
 * and `ConditionalRequestConflict` ("a conflicting operation is in progress … try again"), and the
 * throttling codes some S3 servers send with 400/503 (`SlowDown`, `RequestTimeout`, …).
 */
const RETRYABLE_CODES = new Set([
  'OperationAborted',
  'ConditionalRequestConflict',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'Throttling',
  'ThrottlingException',
]);

/** Names the SDK gives an error whose answer had no (parsable) error body, e.g. any HEAD. */
const BODYLESS_NAMES = new Set(['Unknown', 'UnknownError', 'BadRequest']);

/**
 * What S3 said, for a message: `HTTP 400 InvalidBucketName: The specified bucket is not valid.`,
 * or `HTTP 400 with no error body` when the answer had none (HEAD requests never do).
 */
export function describeS3Answer(err: Error, status: number | undefined): string {
  const http = status === undefined ? 'no HTTP status' : `HTTP ${status}`;
  const message = err.message && err.message !== 'UnknownError' ? err.message : '';
  if (BODYLESS_NAMES.has(err.name) && message === '') return `${http} with no error body`;
  return `${http} ${err.name}${message ? `: ${message}` : ''}`;
}

/**
 * Turns an S3 error into the failure the workflow should see, naming the object in the message.
 *
 * | S3 answer                                  | failure                               |
 * | ------------------------------------------ | ------------------------------------- |
 * | 404, `NoSuchKey`, `NoSuchBucket`           | `MediaNotFound`, non-retryable        |
 * | 403                                        | `StorageAccessDenied`, non-retryable  |
 * | 412                                        | `MediaChanged`, non-retryable         |
 * | any other 4xx except 408/429 and the codes  | `StorageRequestRejected`,             |
 * | AWS calls transient (`OperationAborted`, …) | non-retryable (a retry cannot help)   |
 * | 408, 429, 5xx and the transient codes      | `StorageUnavailable`, retryable       |
 * | resets, timeouts, other non-S3 errors      | returned as is: retried by Temporal   |
 *
 * Every message starts with `what` (the role and `s3://bucket/key`) and says what S3 answered.
 * Pure: returns the error to throw, never throws. An `ApplicationFailure` passes through untouched.
 * @param what the object and its role, e.g. `reference s3://media/a.wav` or `result s3://b/k.json`.
 * @example throw toStorageFailure(err, 'reference s3://media/a.wav')
 */
export function toStorageFailure(err: unknown, what: string): unknown {
  if (err instanceof ApplicationFailure || !(err instanceof Error)) return err;
  const status = s3Status(err);
  if (status === 404 || NOT_FOUND_NAMES.has(err.name)) {
    return ApplicationFailure.create({
      type: FailureType.MediaNotFound,
      message: `${what} does not exist (${err.name})`,
      nonRetryable: true,
    });
  }
  if (status === 403) {
    return ApplicationFailure.create({
      type: FailureType.StorageAccessDenied,
      message: `access to ${what} was denied: ${err.message}`,
      nonRetryable: true,
    });
  }
  if (status === 412) {
    return ApplicationFailure.create({
      type: FailureType.MediaChanged,
      message: `${what} changed after it was inspected (ETag mismatch); start a new detection`,
      nonRetryable: true,
    });
  }
  const code = (err as { Code?: unknown }).Code;
  const transient = RETRYABLE_CODES.has(err.name) || (typeof code === 'string' && RETRYABLE_CODES.has(code));
  if (
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    !RETRYABLE_CLIENT_STATUSES.has(status) &&
    !transient
  ) {
    return ApplicationFailure.create({
      type: FailureType.StorageRequestRejected,
      message: `S3 refused the request for ${what}, and a retry cannot change that: ${describeS3Answer(err, status)}`,
      nonRetryable: true,
      details: [{ status, code: err.name }],
    });
  }
  if (status !== undefined) {
    // Retryable, but named: if the retries run out, the last failure still says which object.
    return ApplicationFailure.create({
      type: FailureType.StorageUnavailable,
      message: `S3 failed on ${what} (will retry): ${describeS3Answer(err, status)}`,
      nonRetryable: false,
      cause: err,
    });
  }
  return err;
}

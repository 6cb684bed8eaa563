/**
 * Classifies what the S3 client throws in activities into the failures workflows see.
 */
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

/**
 * Node's socket and DNS error codes: S3 never answered (nothing listening, a reset, a dropped
 * connection, a name that does not resolve yet). A retry can succeed once S3 is back.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Names the SDK's Node HTTP handler gives timeouts and aborted sockets without an answer. */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout']);

/**
 * The network reason of an error S3 never answered: `ECONNREFUSED`, `ECONNRESET`, `TimeoutError`,
 * …, looked for on the error, its `cause` and (happy-eyeballs `AggregateError`) its `errors`;
 * undefined for anything else (an S3 answer, a cancellation, a bug).
 * @example networkReason(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) // 'ECONNREFUSED'
 */
export function networkReason(err: unknown, depth = 0): string | undefined {
  if (!(err instanceof Error) || depth > 3 || err.name === 'AbortError') return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (NETWORK_NAMES.has(err.name)) return err.name;
  if (/socket hang up/i.test(err.message)) return 'ECONNRESET';
  const nested = [(err as { cause?: unknown }).cause, ...((err as { errors?: unknown[] }).errors ?? [])];
  for (const inner of nested) {
    const reason = networkReason(inner, depth + 1);
    if (reason) return reason;
  }
  return undefined;
}

/** The bucket and key named by `what` (`<role> s3://bucket/key`), when it names them. */
function locationOf(what: string): { bucket: string; key: string } | undefined {
  const match = /s3:\/\/([^/\s]+)\/(.*)$/.exec(what);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/** The role part of `what` (`reference`, `result`), i.e. what precedes its `s3://` URI. */
function roleOf(what: string): string {
  return what.replace(/\s*s3:\/\/.*$/, '').trim() || what;
}

/**
 * The failure for a bucket that does not exist (S3 `NoSuchBucket`, or a HEAD 404 that a
 * HeadBucket confirmed): `MediaNotFound`, non-retryable, saying the *bucket* is missing, e.g.
 * `reference s3://calls/a.wav: the bucket calls does not exist (NoSuchBucket); create it or check the name`.
 * Pure; idempotent.
 * @param what the role and object, as for {@link toStorageFailure}.
 */
export function bucketMissingFailure(
  what: string,
  bucket: string,
  hint = 'create it or check the name',
): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.MediaNotFound,
    message: `${what}: the bucket ${bucket} does not exist (NoSuchBucket); ${hint}`,
    nonRetryable: true,
  });
}

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
 * | no answer: ECONNREFUSED, resets, timeouts  | `StorageUnavailable`, retryable       |
 * | other non-S3 errors (cancellation, bugs)   | returned as is                        |
 *
 * Every message starts with `what` (the role and `s3://bucket/key`) and says what S3 answered. A
 * missing bucket (`NoSuchBucket`) says the bucket does not exist (for a result: "create it, or set
 * S3_RESULT_BUCKET …"); a missing object says `no object <key> in bucket <bucket>`. A bare HEAD 404
 * cannot tell the two apart: the caller asks HeadBucket and uses {@link bucketMissingFailure}.
 * Pure: returns the error to throw, never throws. An `ApplicationFailure` passes through untouched.
 * @param what the object and its role, e.g. `reference s3://media/a.wav` or `result s3://b/k.json`.
 * @example throw toStorageFailure(err, 'reference s3://media/a.wav')
 */
export function toStorageFailure(err: unknown, what: string): unknown {
  if (err instanceof ApplicationFailure || !(err instanceof Error)) return err;
  const status = s3Status(err);
  const where = locationOf(what);
  if (err.name === 'NoSuchBucket' && where) {
    const hint =
      roleOf(what) === 'result'
        ? "create it, or set S3_RESULT_BUCKET (or the detection's result bucket)"
        : 'create it or check the name';
    return bucketMissingFailure(what, where.bucket, hint);
  }
  if (status === 404 || NOT_FOUND_NAMES.has(err.name)) {
    return ApplicationFailure.create({
      type: FailureType.MediaNotFound,
      message: where
        ? `${what} does not exist: no object ${where.key} in bucket ${where.bucket} (${err.name})`
        : `${what} does not exist (${err.name})`,
      nonRetryable: true,
    });
  }
  if (status === 403) {
    return ApplicationFailure.create({
      type: FailureType.StorageAccessDenied,
      // A HEAD's 403 has no body (the SDK says only "UnknownError"): say what S3 answered and what
      // a 403 means, so the operator knows to look at the credentials and the bucket's policy.
      message:
        `access to ${what} was denied (${describeS3Answer(err, status)}): ` +
        "check the worker's S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the bucket's policy",
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
  const reason = networkReason(err);
  if (reason !== undefined) {
    // S3 never answered; retryable, but named, so the last attempt's failure says which object.
    return ApplicationFailure.create({
      type: FailureType.StorageUnavailable,
      message: `S3 could not be reached for ${what} (will retry): ${reason}: ${err.message}`,
      nonRetryable: false,
      cause: err,
    });
  }
  return err;
}

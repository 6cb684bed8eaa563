import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.ts';

/** What the AWS SDK puts on every service error. */
interface S3ServiceError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

function isS3ServiceError(err: unknown): err is S3ServiceError {
  return err instanceof Error && '$metadata' in err;
}

/** HTTP status of an S3 error, or undefined for network errors and non-S3 errors. */
export function s3Status(err: unknown): number | undefined {
  return isS3ServiceError(err) ? err.$metadata?.httpStatusCode : undefined;
}

const NOT_FOUND_NAMES = new Set(['NotFound', 'NoSuchKey', 'NoSuchBucket']);

/**
 * Turns an S3 error into the failure the workflow should see, naming the object in the message.
 * Missing objects and refused access are permanent; ETag mismatches mean the media changed under
 * us; everything else (5xx, resets, throttling) is left to Temporal's retry policy.
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
  return err;
}

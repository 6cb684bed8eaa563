/**
 * Reading what the AWS SDK's S3 client throws. Shared by the activities (which classify errors into
 * failures) and the commands (which read results and upload media). No I/O.
 */

/** What the AWS SDK puts on every service error. */
interface S3ServiceError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

function isS3ServiceError(err: unknown): err is S3ServiceError {
  return err instanceof Error && '$metadata' in err;
}

/**
 * HTTP status of an S3 error, or undefined for network errors and non-S3 errors. Never throws.
 * @example if (s3Status(err) === 404) return undefined;
 */
export function s3Status(err: unknown): number | undefined {
  return isS3ServiceError(err) ? err.$metadata?.httpStatusCode : undefined;
}

/**
 * S3's error code (`NoSuchBucket`, `SignatureDoesNotMatch`, …) of a service error, or undefined for
 * network errors and non-S3 errors. A bodiless answer (any HEAD) gives `NotFound` or `Unknown`.
 * Never throws.
 * @example if (s3ErrorCode(err) === 'NoSuchBucket') …
 */
export function s3ErrorCode(err: unknown): string | undefined {
  return isS3ServiceError(err) ? err.name : undefined;
}

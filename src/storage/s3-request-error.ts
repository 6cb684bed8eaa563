/**
 * What a command (not an activity) reports when S3 refused or did not answer one of its requests:
 * one line naming the object (or bucket), the setting that chose it and what S3 said.
 */
import { s3ErrorCode, s3Status } from './s3-errors.ts';

/**
 * Why an S3 request of a command failed, as far as the answer tells:
 * - `unreachable`: no HTTP answer (refused, reset, DNS, timeout);
 * - `credentials`: S3 does not accept the keys (`InvalidAccessKeyId`, `SignatureDoesNotMatch`, …);
 * - `denied`: 403 for another reason (policy), or a HEAD's bodiless 403 that cannot say which;
 * - `no-bucket`: the bucket does not exist;
 * - `rejected`: any other answer (`InvalidBucketName`, 5xx, …).
 */
export const S3ProblemKind = {
  Unreachable: 'unreachable',
  Credentials: 'credentials',
  Denied: 'denied',
  NoBucket: 'no-bucket',
  Rejected: 'rejected',
} as const;
export type S3ProblemKind = (typeof S3ProblemKind)[keyof typeof S3ProblemKind];

/** The request that failed, in words for the message. */
export interface S3RequestContext {
  /** What the command was doing, e.g. `uploading reference ./ref.wav to` or `reading`. */
  action: string;
  bucket: string;
  key?: string;
  /** Where the bucket name came from, e.g. `S3_BUCKET` or `--bucket`. */
  bucketSource?: string;
  /** S3_ENDPOINT when set (unset means AWS), for "cannot reach S3 at …". */
  endpoint?: string | undefined;
  /** Whether AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY were given (else the SDK's credential chain). */
  staticCredentials?: boolean;
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
  'CredentialsProviderError',
]);

/**
 * An S3 request of a command that failed, with a one-line message such as
 * `cannot upload reference ./ref.wav to s3://media/media/9f….wav: the bucket "media" does not
 * exist (S3_BUCKET; S3 said NoSuchBucket)`. The CLI prints the message alone and exits 1.
 * @example throw S3RequestError.from(err, { action: 'reading', bucket, key, bucketSource: 'S3_RESULT_BUCKET' })
 */
export class S3RequestError extends Error {
  override name = 'S3RequestError';
  readonly kind: S3ProblemKind;
  constructor(kind: S3ProblemKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }

  /**
   * Classifies what the S3 client threw for the request in `context`. Pure; never throws.
   * @param bucketMissing set when the caller found out (e.g. by a HeadBucket) that the bucket does
   *   not exist, which a bodiless HEAD 404 or a reset upload cannot tell.
   */
  static from(err: unknown, context: S3RequestContext, bucketMissing = false): S3RequestError {
    const where = `s3://${context.bucket}${context.key === undefined ? '' : `/${context.key}`}`;
    const source = context.bucketSource === undefined ? '' : `${context.bucketSource}; `;
    const status = s3Status(err);
    const code = s3ErrorCode(err);
    const said = code !== undefined && code !== 'Unknown' && code !== 'NotFound' ? code : `HTTP ${status}`;
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const prefix = `${context.action} ${where}`;
    const keys = context.staticCredentials
      ? 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY'
      : "the SDK's credential chain (AWS_PROFILE, roles, …)";
    let kind: S3ProblemKind;
    let reason: string;
    if (bucketMissing || code === 'NoSuchBucket') {
      kind = S3ProblemKind.NoBucket;
      reason = `the bucket "${context.bucket}" does not exist (${source}S3 said ${bucketMissing && code !== 'NoSuchBucket' ? 'HTTP 404 to HeadBucket' : 'NoSuchBucket'}); create it or name another`;
    } else if (status === undefined) {
      kind = S3ProblemKind.Unreachable;
      const reasonCode = networkCode(err);
      reason = `cannot reach S3 at ${context.endpoint ?? 'AWS'} (${reasonCode ?? detail}); check S3_ENDPOINT and that the server runs`;
    } else if (code !== undefined && CREDENTIAL_CODES.has(code)) {
      kind = S3ProblemKind.Credentials;
      reason = `S3 refused the credentials (${code}); check ${keys}`;
    } else if (status === 403) {
      kind = S3ProblemKind.Denied;
      reason =
        code === 'AccessDenied'
          ? `access denied (AccessDenied); the credentials (${keys}) lack permission on bucket "${context.bucket}"`
          : `S3 answered 403 Forbidden without a reason (a HEAD has no body): wrong credentials (${keys}) or no permission on bucket "${context.bucket}"`;
    } else {
      kind = S3ProblemKind.Rejected;
      reason = `S3 said ${said}${code !== undefined && detail !== code && detail !== 'UnknownError' ? `: ${detail}` : ''} (${source.replace(/; $/, '') || 'bucket'} "${context.bucket}")`;
    }
    return new S3RequestError(kind, `${prefix}: ${reason}`, { cause: err });
  }
}

/** `ECONNREFUSED`, `ENOTFOUND`, … of a network error (or its cause), else undefined. */
function networkCode(err: unknown): string | undefined {
  for (let current = err, depth = 0; current instanceof Error && depth < 4; depth++) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    if (current.name === 'TimeoutError') return 'timed out';
    current = current.cause;
  }
  return undefined;
}

import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { RecordResultFailureDetails, RecordResultRequest } from '../shared/activity-types.ts';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef } from '../shared/media.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { toStorageFailure } from './storage-failures.ts';

/**
 * Activity `recordDetectionResult`: writes the result document with a create-only PUT (`If-None-Match: *`). The document is a pure
 * function of the workflow's history, so a retried write carries the same bytes: when the key
 * already exists with those bytes the write counts as done; with other bytes it fails
 * `ResultConflict` rather than replace a result someone may already have read. Idempotent.
 *
 * Every failure it throws is an `ApplicationFailure` whose `details[0]` is a
 * {@link RecordResultFailureDetails} (the intended location, which only the worker knows when the
 * input names no bucket), followed by the classified failure's own details.
 * @throws ApplicationFailure ResultConflict, InvalidInput (no bucket), StorageRequestRejected,
 *   StorageAccessDenied, MediaNotFound (the bucket does not exist) — all non-retryable;
 *   StorageUnavailable (retryable: 5xx, throttling, network).
 * @example await recordDetectionResult({ s3, resultBucket: 'results' }, { result, location: { key: 'results/wf-1.json' } })
 */
export async function recordDetectionResult(
  { s3, resultBucket }: { s3: S3Client; resultBucket?: string | undefined },
  request: RecordResultRequest,
): Promise<DetectionResult> {
  const resultLocation = {
    bucket: request.location.bucket ?? resultBucket ?? '',
    key: request.location.key,
  };
  try {
    return await writeResult(s3, resultLocation, request.result);
  } catch (err) {
    throw withLocation(err, resultLocation);
  }
}

async function writeResult(
  s3: S3Client,
  { bucket, key }: { bucket: string; key: string },
  result: RecordResultRequest['result'],
): Promise<DetectionResult> {
  if (!bucket) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'no result bucket: set S3_RESULT_BUCKET (or S3_BUCKET) on the worker, or pass result.bucket',
      nonRetryable: true,
    });
  }
  const document: DetectionResult = { ...result, resultLocation: { bucket, key: key } };
  const body = `${JSON.stringify(document, null, 2)}\n`;
  const where = `result ${formatMediaRef({ bucket, key: key })}`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return document;
  } catch (err) {
    // 412: the key exists. A 409 ConditionalRequestConflict (a concurrent conditional write is in
    // flight, AWS) is classified retryable, and the retry then sees 412. Other 409s are permanent
    // (versitygw answers ExistingObjectIsDirectory for a key segment too long for its filesystem).
    if (s3Status(err) !== 412) throw toStorageFailure(err, where);
  }
  const existing = await readText(s3, bucket, key).catch((err: unknown) => {
    throw toStorageFailure(err, where);
  });
  if (existing === body) return document;
  const recorded = parseResult(existing);
  // The same request answered before: another run under this id (a derived id after the first
  // run's history passed retention, or on another Temporal cluster sharing this bucket). Its
  // recorded answer stands; a second document would contradict what callers may have read.
  if (recorded && sameRequest(recorded, document)) return recorded;
  throw ApplicationFailure.create({
    type: FailureType.ResultConflict,
    message: `${where} already holds a different result; refusing to overwrite it`,
    nonRetryable: true,
  });
}

function parseResult(text: string): DetectionResult | undefined {
  try {
    const value = JSON.parse(text) as DetectionResult;
    return typeof value === 'object' && value !== null && typeof value.workflowId === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Same workflow id, same media versions (bucket, key, channel, ETag) and same threshold. */
function sameRequest(a: DetectionResult, b: DetectionResult): boolean {
  const media = (m: DetectionResult['reference']) => [m.bucket, m.key, m.channel ?? null, m.etag];
  return (
    a.workflowId === b.workflowId &&
    a.threshold === b.threshold &&
    JSON.stringify([media(a.reference), media(a.questioned)]) ===
      JSON.stringify([media(b.reference), media(b.questioned)])
  );
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await answer.Body?.transformToString('utf8')) ?? '';
}

/** Puts the intended location first in the failure's details, keeping type and retryability. */
function withLocation(err: unknown, resultLocation: { bucket: string; key: string }): ApplicationFailure {
  const details: [RecordResultFailureDetails, ...unknown[]] = [{ resultLocation }];
  if (err instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable === true,
      details: [...details, ...(err.details ?? [])],
      cause: err.cause,
    });
  }
  // Not from S3 (a socket reset, a timeout): retried, but naming the object.
  const where = `result ${formatMediaRef(resultLocation)}`;
  return ApplicationFailure.create({
    type: FailureType.StorageUnavailable,
    message: `S3 failed on ${where} (will retry): ${err instanceof Error ? err.message : String(err)}`,
    details,
    cause: err instanceof Error ? err : undefined,
  });
}

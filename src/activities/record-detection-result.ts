import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RecordResultFailureDetails, RecordResultRequest } from '../shared/activity-types.ts';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef } from '../shared/media.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { ObjectIndexEntry, ScoreCacheEntry, ScoreCacheRecord } from '../shared/score-cache.ts';
import { objectIndexKey, pairEntryKey, putJsonCreateOnly, scoreCacheKey } from './score-cache-store.ts';
import { toStorageFailure } from './storage-failures.ts';
import { recordResultRecorded } from './metrics.ts';

/**
 * Activity `recordDetectionResult`: writes the result document with a create-only PUT (`If-None-Match: *`). The document is a pure
 * function of the workflow's history, so a retried write carries the same bytes: when the key
 * already exists with those bytes the write counts as done; with other bytes it fails
 * `ResultConflict` rather than replace a result someone may already have read. Idempotent.
 * With `request.cache`, then offers the score to the score cache in the worker's result bucket
 * (object index and pair entries, create-only, best effort: see offerToScoreCache).
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
  let document: DetectionResult;
  try {
    document = await writeResult(s3, resultLocation, request.result);
  } catch (err) {
    throw withLocation(err, resultLocation);
  }
  recordResultRecorded(document);
  if (request.cache && resultBucket) await offerToScoreCache(s3, resultBucket, document, request.cache);
  return document;
}

/**
 * Writes the object index entries and the pair entry of a computed score (create-only, so a retry
 * or a second detection of the pair leaves the first entry). Best effort: the result is already
 * recorded, and a cache write that fails must not turn it into `ResultNotRecorded`; it is logged.
 * Skipped without both hashes or without a platform version (such scores are never cached).
 */
async function offerToScoreCache(
  s3: S3Client,
  cacheBucket: string,
  document: DetectionResult,
  cache: ScoreCacheRecord,
): Promise<void> {
  const { reference, questioned, platform } = document;
  if (!reference.sha256 || !questioned.sha256 || platform.version === null || document.cached) return;
  const objects: ObjectIndexEntry[] = [
    {
      bucket: reference.bucket,
      key: reference.key,
      etag: reference.etag,
      sha256: reference.sha256,
      size: cache.referenceSizeBytes,
    },
    {
      bucket: questioned.bucket,
      key: questioned.key,
      etag: questioned.etag,
      sha256: questioned.sha256,
      size: cache.questionedSizeBytes,
    },
  ];
  const key = scoreCacheKey({
    reference,
    questioned,
    referenceSha256: reference.sha256,
    questionedSha256: questioned.sha256,
    config: cache.config,
    params: cache.params,
    platformVersion: platform.version,
  });
  const entry: ScoreCacheEntry = {
    ...key,
    score: document.score,
    jobId: document.jobId,
    platform,
    workflowId: document.workflowId,
    resultLocation: document.resultLocation,
    timestamps: document.timestamps,
  };
  try {
    await Promise.all(
      objects.map((object) => putJsonCreateOnly(s3, cacheBucket, objectIndexKey(object), object)),
    );
    await putJsonCreateOnly(s3, cacheBucket, pairEntryKey(key), entry);
  } catch (err) {
    Context.current().log.warn('score cache entry not written; the result is recorded', {
      error: err instanceof Error ? err.message : String(err),
      bucket: cacheBucket,
    });
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

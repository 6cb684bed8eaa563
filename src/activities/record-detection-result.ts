import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { DetectionResult } from '../shared/detection.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef } from '../shared/media.ts';
import { s3Status, toStorageFailure } from './storage-failures.ts';

/** The workflow computes the whole document except where it lands, which the worker's config decides. */
export interface RecordResultRequest {
  result: Omit<DetectionResult, 'resultLocation'>;
  location: { bucket?: string; key: string };
}

/**
 * Writes the result document with a create-only PUT (`If-None-Match: *`). The document is a pure
 * function of the workflow's history, so a retried write carries the same bytes: when the key
 * already exists with those bytes the write counts as done; with other bytes it fails
 * `ResultConflict` rather than replace a result someone may already have read. Idempotent.
 * @throws ApplicationFailure ResultConflict (non-retryable); storage failures via toStorageFailure.
 */
export async function recordResult(
  s3: S3Client,
  defaultBucket: string | undefined,
  { result, location }: RecordResultRequest,
): Promise<DetectionResult> {
  const bucket = location.bucket ?? defaultBucket;
  if (!bucket) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'no result bucket: set S3_RESULT_BUCKET (or S3_BUCKET) on the worker, or pass result.bucket',
      nonRetryable: true,
    });
  }
  const document: DetectionResult = { ...result, resultLocation: { bucket, key: location.key } };
  const body = `${JSON.stringify(document, null, 2)}\n`;
  const where = `result ${formatMediaRef({ bucket, key: location.key })}`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: location.key,
        Body: body,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return document;
  } catch (err) {
    // 412: the key exists. 409: a concurrent conditional write to it is in flight (AWS).
    const status = s3Status(err);
    if (status !== 412 && status !== 409) throw toStorageFailure(err, where);
  }
  const existing = await readText(s3, bucket, location.key).catch((err: unknown) => {
    throw toStorageFailure(err, where);
  });
  if (existing === body) return document;
  throw ApplicationFailure.create({
    type: FailureType.ResultConflict,
    message: `${where} already holds a different result; refusing to overwrite it`,
    nonRetryable: true,
  });
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await answer.Body?.transformToString('utf8')) ?? '';
}

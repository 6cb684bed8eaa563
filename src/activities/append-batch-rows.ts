import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { toReportJsonl } from '../reports/jsonl.ts';
import { batchOutputPrefix, batchRowsKey, type AppendBatchRowsInput } from '../shared/batch.ts';
import { FailureType } from '../shared/failure-types.ts';
import { toStorageFailure } from './storage-failures.ts';

/**
 * Activity `appendBatchRows`: stores one run's rows as JSON Lines at
 * `<output prefix>rows/<runIndex, 6 digits>.jsonl` in the output bucket (default: the worker's
 * result bucket). A plain PUT per run index, so a retried or replayed flush of the same run writes
 * the same object again: idempotent. Returns where it wrote.
 * @throws ApplicationFailure InvalidInput (no bucket anywhere), storage failures as classified by
 *   toStorageFailure (StorageUnavailable is retried).
 * @example await appendBatchRows({ s3, resultBucket: 'results' }, { batchId: 'b1', runIndex: 0, rows })
 */
export async function appendBatchRows(
  { s3, resultBucket }: { s3: S3Client; resultBucket?: string | undefined },
  input: AppendBatchRowsInput,
): Promise<{ bucket: string; key: string; rows: number }> {
  const bucket = input.output?.bucket ?? resultBucket;
  if (!bucket) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message:
        'no bucket for batch rows: set S3_RESULT_BUCKET (or S3_BUCKET) on the worker, or pass output.bucket',
      nonRetryable: true,
    });
  }
  const key = batchRowsKey(batchOutputPrefix(input.batchId, input.output), input.runIndex);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: toReportJsonl(input.rows),
        ContentType: 'application/x-ndjson',
      }),
    );
  } catch (err) {
    throw toStorageFailure(err, `batch rows s3://${bucket}/${key}`);
  }
  return { bucket, key, rows: input.rows.length };
}

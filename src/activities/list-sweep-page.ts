import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import { s3EventDetectionId, startObjectDetection } from '../client/object-detections.ts';
import { matchEventRule, objectRefProblems } from '../shared/event-rules.ts';
import { FailureType } from '../shared/failure-types.ts';
import { defaultResultKey } from '../shared/s3-names.ts';
import type { ListSweepPageInput, SweepCounts, SweepPage } from '../shared/sweep.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { PlatformCapacityDeps } from './platform-capacity.ts';
import { toStorageFailure } from './storage-failures.ts';

/** Objects checked side by side within a page. */
const CONCURRENCY = 8;

type Verdict = keyof Omit<SweepCounts, 'listed'>;

/**
 * Activity `listSweepPage`: lists one page of a prefix (ListObjectsV2, `pageSize` keys from the
 * cursor) and, for each object a rule maps to a reference, starts its detection unless it has one:
 * - a result document at `results/<s3EventDetectionId>.json` in the result bucket → `scored`;
 * - a workflow under that id, in any state (running, or failed and left for an operator) →
 *   `existing`;
 * - else `startObjectDetection`, the very call `POST /v1/s3-events` makes → `started`.
 * Objects no rule matches are `ignored`. Idempotent: a retried page finds what it started as
 * `existing`. Uses the worker's Temporal client and task queue (`ActivityDeps.platformCapacity`).
 * @throws ApplicationFailure InvalidInput (non-retryable) when the worker has no Temporal client or
 *   no result bucket; storage failures as toStorageFailure classifies them; Temporal transport
 *   errors as they are (retried).
 * @example await listSweepPage(deps, { bucket: 'media', prefix: 'calls/', rules, cursor: null, pageSize: 200 })
 */
export async function listSweepPage(
  deps: {
    s3: S3Client;
    resultBucket?: string | undefined;
    platformCapacity?: PlatformCapacityDeps | undefined;
  },
  input: ListSweepPageInput,
): Promise<SweepPage> {
  const temporal = deps.platformCapacity?.temporal;
  const resultBucket = deps.resultBucket;
  if (!temporal || !resultBucket || !deps.platformCapacity) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'the sweep needs a worker with a Temporal client and a result bucket (ActivityDeps)',
      nonRetryable: true,
    });
  }
  const taskQueue = deps.platformCapacity.taskQueue;
  let answer;
  try {
    answer = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: input.bucket,
        Prefix: input.prefix,
        MaxKeys: Math.min(1000, Math.max(1, Math.floor(input.pageSize))),
        ...(input.cursor !== null && { ContinuationToken: input.cursor }),
      }),
    );
  } catch (err) {
    throw toStorageFailure(err, `sweep prefix s3://${input.bucket}/${input.prefix}`);
  }
  const objects = (answer.Contents ?? []).filter((o) => o.Key !== undefined && !o.Key.endsWith('/'));
  const counts: SweepCounts = {
    listed: objects.length,
    ignored: 0,
    scored: 0,
    existing: 0,
    started: 0,
    invalid: 0,
  };
  const startedIds: string[] = [];

  const check = async (key: string, etag: string | undefined): Promise<Verdict> => {
    const object = { bucket: input.bucket, key, etag };
    if (objectRefProblems(object).length > 0 || !matchEventRule(input.rules, object)) return 'ignored';
    const workflowId = s3EventDetectionId(object);
    try {
      await deps.s3.send(new HeadObjectCommand({ Bucket: resultBucket, Key: defaultResultKey(workflowId) }));
      return 'scored';
    } catch (err) {
      if (s3Status(err) !== 404) throw toStorageFailure(err, `result of ${workflowId}`);
    }
    try {
      await temporal.workflow.getHandle(workflowId).describe();
      return 'existing';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const outcome = await startObjectDetection(temporal, input.rules, object, { taskQueue });
    if (outcome.status === 'ignored') return 'invalid';
    if (outcome.status === 'started') startedIds.push(outcome.workflowId);
    return outcome.status;
  };

  for (let i = 0; i < objects.length; i += CONCURRENCY) {
    const verdicts = await Promise.all(objects.slice(i, i + CONCURRENCY).map((o) => check(o.Key!, o.ETag)));
    for (const verdict of verdicts) counts[verdict] += 1;
  }
  const next = answer.IsTruncated ? answer.NextContinuationToken : undefined;
  return { counts, startedIds, nextCursor: next ?? null };
}

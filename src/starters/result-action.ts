/**
 * What `rdd result` does (its definition is result-command.ts): the recorded document from S3,
 * else what Temporal knows about the detection. Loaded only when the command runs.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { connectClient, isTemporalUnreachable, temporalAddress } from '../client/connection.ts';
import { getDetection } from '../client/detections.ts';
import { TemporalUnreachableError } from '../client/temporal-unreachable-error.ts';
import { loadClientConfig, type Env, type StorageConfig } from '../config.ts';
import type { DetectionResult } from '../shared/detection.ts';
import { formatMediaRef } from '../shared/media.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { s3ErrorCode, s3Status } from '../storage/s3-errors.ts';
import { S3RequestError } from '../storage/s3-request-error.ts';
import { bucketNameProblems, objectKeyProblems, workflowIdProblems } from '../shared/s3-names.ts';
import { failureJson, formatResult, reportFailure } from './cli-support.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';
import type { ResultOptions } from './result-command.ts';

/**
 * Runs `rdd result`: the recorded document from S3, else what Temporal knows about the detection.
 * Reads only; safe to repeat.
 * With `--json`, stdout is one JSON document however it ends: the result, or
 * `{ workflowId, state, failure: { type, message } }` (see `failureJson`).
 * @throws CliError with exit code 1 (failed), 3 (running), 4 (not found) or 5 (Temporal unreachable);
 *   S3RequestError (exit 1) when S3 is unreachable, refuses the credentials or has no such bucket;
 *   UsageError (exit 2) for an invalid workflow id, --bucket or --key; ConfigError (exit 2) when no result bucket is
 *   configured or a bucket name is invalid.
 */
export async function result(workflowId: string, options: ResultOptions): Promise<void> {
  const json = options.json ?? false;
  const problems = [
    // The id names the result key (results/<id>.json): an id with "/" can be no detection's.
    ...workflowIdProblems(workflowId, 'workflowId'),
    ...(options.bucket === undefined ? [] : bucketNameProblems(options.bucket, '--bucket')),
    ...(options.key === undefined ? [] : objectKeyProblems(options.key, '--key')),
  ];
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  const env = withStackEnv();
  const { storage, bucket } = resultStorage(env, options.bucket);
  const key = options.key ?? `results/${workflowId}.json`;
  const s3 = createS3Client(storage);
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await answer.Body?.transformToString('utf8')) ?? '';
    console.log(json ? text.trimEnd() : formatResult(JSON.parse(text) as DetectionResult));
    return;
  } catch (err) {
    // A missing bucket is worth saying, but Temporal may still hold the answer: a detection whose
    // result could not be written (ResultNotRecorded) carries its score in its failure.
    if (s3ErrorCode(err) === 'NoSuchBucket') {
      console.error(`rdd result: the result bucket ${bucket} does not exist; asking Temporal`);
    } else if (s3Status(err) !== 404) {
      const failure = S3RequestError.from(err, {
        action: 'cannot read',
        bucket,
        key,
        bucketSource: options.bucket === undefined ? 'S3_RESULT_BUCKET (or S3_BUCKET)' : '--bucket',
        endpoint: storage.endpoint,
        staticCredentials: storage.credentials !== undefined,
      });
      if (json)
        console.log(failureJson(workflowId, 'unknown', { type: failure.name, message: failure.message }));
      throw failure;
    }
  } finally {
    s3.destroy();
  }
  // Nothing recorded there: ask Temporal why.
  const where = formatMediaRef({ bucket, key });
  let client;
  try {
    client = await connectClient(env);
  } catch (err) {
    if (json && err instanceof TemporalUnreachableError) {
      console.log(failureJson(workflowId, 'unknown', { type: err.name, message: err.message }));
    }
    throw err;
  }
  let view;
  try {
    view = await getDetection(client, workflowId);
  } catch (err) {
    const unreachable =
      err instanceof TemporalUnreachableError
        ? err
        : isTemporalUnreachable(err)
          ? new TemporalUnreachableError(temporalAddress(env), err)
          : undefined;
    if (unreachable && json) {
      console.log(
        failureJson(workflowId, 'unknown', { type: unreachable.name, message: unreachable.message }),
      );
    }
    throw unreachable ?? err;
  } finally {
    await client.connection.close();
  }
  switch (view.state) {
    case 'running': {
      const { status } = view;
      const message =
        `${workflowId} is still running (${status.phase}, job ${status.jobId ?? '-'}, ` +
        `state ${status.lastState ?? '-'}, ${status.checks} checks)`;
      if (json)
        console.log(failureJson(workflowId, 'running', { type: 'StillRunning', message }, { status }));
      throw new CliError(ExitCode.StillRunning, message);
    }
    case 'completed': {
      const message = `nothing at ${where}; the detection recorded its result at ${formatMediaRef(view.result.resultLocation)}`;
      if (json) console.log(failureJson(workflowId, 'not-found', { type: 'NotFound', message }));
      throw new CliError(ExitCode.NotFound, message);
    }
    case 'failed': {
      const report = reportFailure(view.failure, { workflowId, json });
      if (report.stdout !== undefined) console.log(report.stdout);
      throw new CliError(ExitCode.Failed, report.message);
    }
    case 'not-found': {
      const message = `no detection ${workflowId} (nothing at ${where}, unknown to Temporal)`;
      if (json) console.log(failureJson(workflowId, 'not-found', { type: 'NotFound', message }));
      throw new CliError(ExitCode.NotFound, message);
    }
  }
}

/** S3 settings and the bucket to read: `--bucket`, else S3_RESULT_BUCKET (then required). */
function resultStorage(env: Env, bucket: string | undefined): { storage: StorageConfig; bucket: string } {
  if (bucket !== undefined) return { storage: loadClientConfig(env).storage, bucket };
  const { storage } = loadClientConfig(env, ['resultBucket']);
  return { storage, bucket: storage.resultBucket };
}

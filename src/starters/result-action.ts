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
import { s3Status } from '../storage/s3-errors.ts';
import { formatResult, reportFailure } from './cli-support.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';
import type { ResultOptions } from './result-command.ts';

/**
 * Runs `rdd result`: the recorded document from S3, else what Temporal knows about the detection.
 * Reads only; safe to repeat.
 * @throws CliError with exit code 1 (failed), 3 (running), 4 (not found) or 5 (Temporal unreachable);
 *   ConfigError (exit 2) when no result bucket is configured.
 */
export async function result(workflowId: string, options: ResultOptions): Promise<void> {
  const env = withStackEnv();
  const { storage, bucket } = resultStorage(env, options.bucket);
  const key = options.key ?? `results/${workflowId}.json`;
  const s3 = createS3Client(storage);
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await answer.Body?.transformToString('utf8')) ?? '';
    console.log(options.json ? text.trimEnd() : formatResult(JSON.parse(text) as DetectionResult));
    return;
  } catch (err) {
    if (s3Status(err) !== 404) throw err;
  } finally {
    s3.destroy();
  }
  // Nothing recorded there: ask Temporal why.
  const where = formatMediaRef({ bucket, key });
  const client = await connectClient(env);
  let view;
  try {
    view = await getDetection(client, workflowId);
  } catch (err) {
    if (isTemporalUnreachable(err) && !(err instanceof TemporalUnreachableError)) {
      throw new TemporalUnreachableError(temporalAddress(env), err);
    }
    throw err;
  } finally {
    await client.connection.close();
  }
  switch (view.state) {
    case 'running': {
      const { status } = view;
      throw new CliError(
        ExitCode.StillRunning,
        `${workflowId} is still running (${status.phase}, job ${status.jobId ?? '-'}, ` +
          `state ${status.lastState ?? '-'}, ${status.checks} checks)`,
      );
    }
    case 'completed':
      throw new CliError(
        ExitCode.NotFound,
        `nothing at ${where}; the detection recorded its result at ${formatMediaRef(view.result.resultLocation)}`,
      );
    case 'failed': {
      const report = reportFailure(view.failure, { workflowId, json: options.json ?? false });
      if (report.stdout !== undefined) console.log(report.stdout);
      throw new CliError(ExitCode.Failed, report.message);
    }
    case 'not-found':
      throw new CliError(
        ExitCode.NotFound,
        `no detection ${workflowId} (nothing at ${where}, unknown to Temporal)`,
      );
  }
}

/** S3 settings and the bucket to read: `--bucket`, else S3_RESULT_BUCKET (then required). */
function resultStorage(env: Env, bucket: string | undefined): { storage: StorageConfig; bucket: string } {
  if (bucket !== undefined) return { storage: loadClientConfig(env).storage, bucket };
  const { storage } = loadClientConfig(env, ['resultBucket']);
  return { storage, bucket: storage.resultBucket };
}

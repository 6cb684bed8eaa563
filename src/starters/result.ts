/**
 * `rdd result <workflowId>`: prints the result recorded in S3; for a detection still running, its status.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { s3Status } from '../storage/s3-errors.ts';
import type { DetectionResult, DetectionStatus } from '../shared/detection.ts';
import {
  connectClient,
  isTemporalUnreachable,
  temporalAddress,
  TemporalUnreachableError,
} from '../client/connection.ts';
import { ExitCode, failureMessage, formatResult, reportFailure, unreachableLine } from './cli-support.ts';
import { withStackEnv } from './stack-env.ts';

const HELP = `usage: rdd result <workflowId> [--json] [--bucket B] [--key K]

Prints the result recorded at s3://<S3_RESULT_BUCKET>/results/<workflowId>.json.
For a detection that scored the pair but could not record the result (ResultNotRecorded), prints
the score, verdict and why (--json: the document with its "failure").
Exit codes: 0 printed, 1 the detection failed, 2 bad arguments, 3 still running, 4 no such
detection, 5 Temporal could not be reached (nothing recorded yet, and Temporal cannot say why).`;

/**
 * Runs `rdd result`: the recorded document from S3, else what Temporal knows about the detection.
 * @returns the exit code (`ExitCode`): 0, 1, 2, 3, 4 or 5 (Temporal could not be reached).
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      bucket: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [workflowId] = positionals;
  if (positionals.length !== 1 || !workflowId) {
    console.error(`rdd result: expected one workflow id\n\n${HELP}`);
    return 2;
  }
  const env = withStackEnv();
  let config;
  try {
    config = loadConfig(env, values.bucket ? [] : ['resultBucket']);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`rdd result: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const s3 = createS3Client(config.storage);
  const bucket = values.bucket ?? config.storage.resultBucket!;
  const key = values.key ?? `results/${workflowId}.json`;
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await answer.Body?.transformToString('utf8')) ?? '';
    console.log(values.json ? text.trimEnd() : formatResult(JSON.parse(text) as DetectionResult));
    return 0;
  } catch (err) {
    if (s3Status(err) !== 404) throw err;
  } finally {
    s3.destroy();
  }
  // Nothing recorded there: ask Temporal why.
  try {
    return await explainMissingResult(env, workflowId, `s3://${bucket}/${key}`, values.json ?? false);
  } catch (err) {
    if (err instanceof TemporalUnreachableError) {
      console.error(unreachableLine('rdd result', err));
      return ExitCode.TemporalUnreachable;
    }
    if (isTemporalUnreachable(err)) {
      console.error(unreachableLine('rdd result', new TemporalUnreachableError(temporalAddress(env), err)));
      return ExitCode.TemporalUnreachable;
    }
    throw err;
  }
}

async function explainMissingResult(
  env: Record<string, string | undefined>,
  workflowId: string,
  where: string,
  json: boolean,
): Promise<number> {
  const client = await connectClient(env);
  try {
    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const state = description.status.name;
    if (state === 'RUNNING') {
      const status = await handle.query<DetectionStatus>('status');
      console.error(
        `rdd result: ${workflowId} is still running (${status.phase}, job ${status.jobId ?? '-'}, ` +
          `state ${status.lastState ?? '-'}, ${status.checks} checks)`,
      );
      return 3;
    }
    if (state === 'COMPLETED') {
      const result = (await handle.result()) as DetectionResult;
      console.error(
        `rdd result: nothing at ${where}; the detection recorded its result at s3://${result.resultLocation.bucket}/${result.resultLocation.key}`,
      );
      return 4;
    }
    const failure: unknown = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    if (failure instanceof Error && isTemporalUnreachable(failure)) throw failure;
    const report = reportFailure(failure, { workflowId, json, command: 'rdd result' });
    if (report.stdout !== undefined) console.log(report.stdout);
    console.error(
      `rdd result: ${workflowId} ended ${state}: ${failure === undefined ? state : failureMessage(failure)}`,
    );
    return ExitCode.DetectionFailed;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      console.error(`rdd result: no detection ${workflowId} (nothing at ${where}, unknown to Temporal)`);
      return 4;
    }
    throw err;
  } finally {
    await client.connection.close();
  }
}

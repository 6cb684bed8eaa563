/**
 * `rdd detect <reference> <questioned>`: starts one detection workflow; with --wait, prints its result.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createS3Client } from '../activities/s3-client.ts';
import type { DetectInput } from '../shared/detection.ts';
import { detectInputProblems } from '../shared/validate-input.ts';
import { connectClient } from '../temporal-connection.ts';
import type { detectWorkflow } from '../workflows/index.ts';
import { UsageError, failureMessage, formatResult } from './cli-support.ts';
import { MediaArgumentError, resolveMedia } from './media-upload.ts';
import { withStackEnv } from './stack-env.ts';

const HELP = `usage: rdd detect <reference> <questioned> [options]

  <reference>, <questioned>   s3://bucket/key, or a local file (uploaded to S3_BUCKET first)
  --reference-channel N       channel of a multi-channel reference (0-based)
  --questioned-channel N      channel of a multi-channel questioned file
  --config JSON               the platform's config object, e.g. '{"max_speech_length": 60}'
  --param k=v                 extra query parameter for the platform (repeatable)
  --threshold X               LLR above which the verdict is deepfake (default 0)
  --id ID                     workflow id (default detect-<uuid>); reusing a running id fails
  --wait                      wait for the result and print it
  --json                      with --wait: print only the result JSON on stdout`;

const OPTIONS = {
  'reference-channel': { type: 'string' },
  'questioned-channel': { type: 'string' },
  config: { type: 'string' },
  param: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  id: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function channel(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new UsageError(`--${flag} must be a 0-based channel index, got "${value}"`);
  return parsed;
}

function configObject(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new UsageError(`--config is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('--config must be a JSON object, e.g. \'{"max_speech_length": 60}\'');
  }
  return parsed as Record<string, unknown>;
}

function params(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  return Object.fromEntries(
    values.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--param must look like name=value, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function threshold(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--threshold must be a number, got "${value}"`);
  return parsed;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    console.error(`rdd detect: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const env = withStackEnv();
  try {
    if (positionals.length !== 2)
      throw new UsageError('expected exactly two media: <reference> <questioned>');
    const config = loadConfig(env);
    const options = {
      referenceChannel: channel('reference-channel', values['reference-channel']),
      questionedChannel: channel('questioned-channel', values['questioned-channel']),
      config: configObject(values.config),
      params: params(values.param),
      threshold: threshold(values.threshold),
    };
    const s3 = createS3Client(config.storage);
    const [reference, questioned] = await Promise.all([
      resolveMedia(s3, config.storage.mediaBucket, positionals[0]!, 'reference'),
      resolveMedia(s3, config.storage.mediaBucket, positionals[1]!, 'questioned'),
    ]);
    s3.destroy();
    const input: DetectInput = {
      reference: {
        ...reference,
        ...(options.referenceChannel !== undefined && { channel: options.referenceChannel }),
      },
      questioned: {
        ...questioned,
        ...(options.questionedChannel !== undefined && { channel: options.questionedChannel }),
      },
      ...(options.config && { config: options.config }),
      ...(options.params && { params: options.params }),
      ...(options.threshold !== undefined && { threshold: options.threshold }),
    };
    const problems = detectInputProblems(input);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    return await startDetection(env, config.taskQueue, input, {
      id: values.id ?? `detect-${randomUUID()}`,
      wait: values.wait ?? false,
      json: values.json ?? false,
    });
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`rdd detect: ${err.message}\n\n${HELP}`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof MediaArgumentError) {
      console.error(`rdd detect: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

async function startDetection(
  env: Record<string, string | undefined>,
  taskQueue: string,
  input: DetectInput,
  options: { id: string; wait: boolean; json: boolean },
): Promise<number> {
  const client = await connectClient(env);
  try {
    const handle = await client.workflow.start<typeof detectWorkflow>('detectWorkflow', {
      taskQueue,
      workflowId: options.id,
      args: [input],
    });
    if (!(options.wait && options.json)) console.log(`started ${handle.workflowId}`);
    if (!options.wait) return 0;
    try {
      const result = await handle.result();
      console.log(options.json ? JSON.stringify(result, null, 2) : formatResult(result));
      return 0;
    } catch (err) {
      console.error(`rdd detect: detection ${handle.workflowId} failed: ${failureMessage(err)}`);
      return 1;
    }
  } finally {
    await client.connection.close();
  }
}

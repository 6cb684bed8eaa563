/**
 * `rdd detect <reference> <questioned>`: starts one detection workflow; with --wait, prints its result.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createS3Client } from '../storage/s3-client.ts';
import type { DetectInput } from '../shared/detection.ts';
import {
  bucketNameProblems,
  detectInputProblems,
  objectKeyProblems,
  workflowIdProblems,
} from '../shared/validate-input.ts';
import {
  connectClient,
  isTemporalUnreachable,
  temporalAddress,
  TemporalUnreachableError,
} from '../client/connection.ts';
import type { detectWorkflow } from '../workflows/index.ts';
import {
  ExitCode,
  type LocalUpload,
  UsageError,
  formatResult,
  reportFailure,
  unreachableLine,
  waitForResult,
} from './cli-support.ts';
import { MediaArgumentError, parseS3Url, resolveMedia } from '../storage/media-upload.ts';
import { withStackEnv } from './stack-env.ts';

/** Without --timeout, a wait gives up after Temporal has been unreachable this long in a row. */
const DEFAULT_OUTAGE_BUDGET_MS = 10 * 60_000;

const HELP = `usage: rdd detect <reference> <questioned> [options]

  <reference>, <questioned>   s3://bucket/key, or a local file (uploaded to S3_BUCKET first)
  --reference-channel N       channel of a multi-channel reference (0-based)
  --questioned-channel N      channel of a multi-channel questioned file
  --config JSON               the platform's config object, e.g. '{"max_speech_length": 60}'
  --param k=v                 extra query parameter for the platform (repeatable)
  --threshold X               LLR above which the verdict is deepfake (default 0)
  --id ID                     workflow id (default detect-<uuid>); reusing a running id fails
  --wait                      wait for the result and print it; a Temporal outage is ridden out
  --timeout S                 with --wait: stop waiting after S seconds (default: as long as the
                              detection runs; a Temporal outage over 10 minutes ends the wait)
  --json                      with --wait: print only the result JSON on stdout

Exit codes: 0 done, 1 the detection failed, 2 bad arguments (nothing started), 3 still running at
--timeout, 5 Temporal could not be reached (the detection may still run: rdd result <id>).`;

const OPTIONS = {
  'reference-channel': { type: 'string' },
  'questioned-channel': { type: 'string' },
  config: { type: 'string' },
  param: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  id: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
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

function timeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, got "${value}"`);
  return parsed * 1000;
}

/**
 * Names every argument that would make S3 or the workflow fail later, before anything is uploaded
 * or started: `--id`, the bucket and key of each s3:// argument, and S3_BUCKET for local files.
 * @throws UsageError listing them.
 */
function checkNames(id: string | undefined, media: string[], mediaBucket: string | undefined): void {
  const problems = id === undefined ? [] : workflowIdProblems(id, '--id');
  const roles = ['reference', 'questioned'];
  let local = false;
  media.forEach((argument, i) => {
    const ref = parseS3Url(argument);
    if (!ref) {
      if (!argument.startsWith('s3://')) local = true;
    } else
      problems.push(
        ...bucketNameProblems(ref.bucket, `${roles[i]} bucket`),
        ...objectKeyProblems(ref.key, `${roles[i]} key`),
      );
  });
  if (local && mediaBucket !== undefined) problems.push(...bucketNameProblems(mediaBucket, 'S3_BUCKET'));
  if (problems.length > 0) throw new UsageError(problems.join('; '));
}

/**
 * Runs `rdd detect`. Validates every argument before uploading or starting anything.
 * @returns the exit code (`ExitCode`): 0, 1 the detection failed, 2 usage, 3 still running at
 *   `--timeout`, 5 Temporal could not be reached.
 */
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
    checkNames(values.id, positionals, config.storage.mediaBucket);
    const options = {
      referenceChannel: channel('reference-channel', values['reference-channel']),
      questionedChannel: channel('questioned-channel', values['questioned-channel']),
      config: configObject(values.config),
      params: params(values.param),
      threshold: threshold(values.threshold),
      timeoutMs: timeoutMs(values.timeout),
    };
    if (options.timeoutMs !== undefined && !values.wait) throw new UsageError('--timeout needs --wait');
    const s3 = createS3Client(config.storage);
    const [reference, questioned] = await Promise.all([
      resolveMedia(s3, config.storage.mediaBucket, positionals[0]!, 'reference'),
      resolveMedia(s3, config.storage.mediaBucket, positionals[1]!, 'questioned'),
    ]);
    s3.destroy();
    const uploads: LocalUpload[] = [
      { path: positionals[0]!, ref: reference },
      { path: positionals[1]!, ref: questioned },
    ].filter(({ path }) => !parseS3Url(path));
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
      timeoutMs: options.timeoutMs,
      uploads,
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
    if (err instanceof TemporalUnreachableError) {
      console.error(unreachableLine('rdd detect', err));
      return ExitCode.TemporalUnreachable;
    }
    throw err;
  }
}

async function startDetection(
  env: Record<string, string | undefined>,
  taskQueue: string,
  input: DetectInput,
  options: { id: string; wait: boolean; json: boolean; timeoutMs?: number; uploads: LocalUpload[] },
): Promise<number> {
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const address = temporalAddress(env);
  const client = await connectClient(env);
  try {
    try {
      await client.workflow.start<typeof detectWorkflow>('detectWorkflow', {
        taskQueue,
        workflowId: options.id,
        args: [input],
      });
    } catch (err) {
      if (!isTemporalUnreachable(err)) throw err;
      // The start may or may not have reached the server: say how to find out.
      console.error(unreachableLine('rdd detect', new TemporalUnreachableError(address, err), options.id));
      return ExitCode.TemporalUnreachable;
    }
    if (!(options.wait && options.json)) console.log(`started ${options.id}`);
    if (!options.wait) return ExitCode.Ok;
    const outcome = await waitForResult(client, options.id, {
      address,
      ...(deadline !== undefined && { deadline }),
      outageBudgetMs: DEFAULT_OUTAGE_BUDGET_MS,
      onOutage: (line) => console.error(`rdd detect: ${line}`),
    });
    switch (outcome.kind) {
      case 'completed':
        console.log(options.json ? JSON.stringify(outcome.result, null, 2) : formatResult(outcome.result));
        return ExitCode.Ok;
      case 'failed': {
        const report = reportFailure(outcome.error, {
          workflowId: options.id,
          json: options.json,
          command: 'rdd detect',
          uploads: options.uploads,
        });
        if (report.stdout !== undefined) console.log(report.stdout);
        console.error(report.stderr);
        return ExitCode.DetectionFailed;
      }
      case 'running':
        console.error(
          `rdd detect: ${options.id} is still running after --timeout ${options.timeoutMs! / 1000} s; ` +
            `rdd result ${options.id} prints it once done`,
        );
        return ExitCode.StillRunning;
      case 'unreachable':
        console.error(unreachableLine('rdd detect', outcome.error, options.id));
        return ExitCode.TemporalUnreachable;
    }
  } finally {
    await client.connection.close();
  }
}

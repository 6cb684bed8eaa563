/**
 * What `rdd detect` does (its definition is detect-command.ts): validates the arguments, uploads
 * local files, starts one detection through the typed client and, with `--wait`, prints its result.
 * Loaded only when the command runs.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { connectClient, isTemporalUnreachable, temporalAddress } from '../client/connection.ts';
import { DetectionIdConflictError } from '../client/detection-id-conflict-error.ts';
import { InvalidDetectionInputError } from '../client/invalid-detection-input-error.ts';
import { detectionId, startDetection, waitForDetection, type DetectionView } from '../client/detections.ts';
import { TemporalUnreachableError, transportReason } from '../client/temporal-unreachable-error.ts';
import { loadClientConfig } from '../config.ts';
import type { DetectInput } from '../shared/detection.ts';
import {
  bucketNameProblems,
  detectInputProblems,
  objectKeyProblems,
  workflowIdProblems,
} from '../shared/validate-input.ts';
import { parseS3Url, resolveMedia } from '../storage/media-upload.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { S3RequestError } from '../storage/s3-request-error.ts';
import { failureJson, formatResult, reportFailure, type LocalUpload } from './cli-support.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';
import type { DetectOptions } from './detect-command.ts';

/**
 * Runs `rdd detect`. Validates every argument before uploading or starting anything.
 * With `--wait --json`, stdout is one JSON document however it ends: the result, or
 * `{ workflowId, state, failure: { type, message } }` (see `failureJson`).
 * @throws UsageError for a bad argument, `--id` or request; ConfigError for bad settings;
 *   S3RequestError (exit 1) when an upload fails; CliError with exit code 1 (failed), 3 (still
 *   running at --timeout) or 5 (Temporal unreachable; the message says whether anything was started).
 */
export async function detect(
  referenceArg: string,
  questionedArg: string,
  options: DetectOptions,
): Promise<void> {
  const needWait = [options.timeout !== undefined && '--timeout', options.json && '--json'].filter(Boolean);
  if (needWait.length > 0 && !options.wait)
    throw new UsageError(`${needWait.join(' and ')} need${needWait.length > 1 ? '' : 's'} --wait`);
  // With --wait, --json makes stdout one JSON document however the command ends.
  const json = options.json ?? false;
  const env = withStackEnv();
  const config = loadClientConfig(env);
  const media = [
    { role: 'reference', argument: referenceArg },
    { role: 'questioned', argument: questionedArg },
  ] as const;
  const problems = [
    ...(options.id === undefined ? [] : workflowIdProblems(options.id, '--id')),
    ...(
      await Promise.all(media.map((m) => mediaProblems(m.role, m.argument, config.storage.mediaBucket)))
    ).flat(),
  ];
  if (problems.length > 0) throw new UsageError([...new Set(problems)].join('; '));

  const s3 = createS3Client(config.storage);
  const target = {
    endpoint: config.storage.endpoint,
    staticCredentials: config.storage.credentials !== undefined,
  };
  let reference, questioned;
  try {
    [reference, questioned] = await Promise.all([
      resolveMedia(s3, config.storage.mediaBucket, referenceArg, 'reference', target),
      resolveMedia(s3, config.storage.mediaBucket, questionedArg, 'questioned', target),
    ]);
  } catch (err) {
    if (err instanceof S3RequestError && json) {
      console.log(failureJson(null, 'not-started', { type: 'S3RequestError', message: err.message }));
    }
    throw err;
  } finally {
    s3.destroy();
  }
  const uploads: LocalUpload[] = [
    { path: referenceArg, ref: reference },
    { path: questionedArg, ref: questioned },
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
    ...(options.param && { params: options.param }),
    ...(options.threshold !== undefined && { threshold: options.threshold }),
    ...(options.cache === false && { cache: false }),
  };
  const inputProblems = detectInputProblems(input);
  if (inputProblems.length > 0) throw new UsageError(inputProblems.join('; '));

  const address = temporalAddress(env);
  const id = options.id ?? detectionId(input);
  // --timeout bounds everything from here: connecting, starting and waiting.
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout * 1000;
  const remainingMs = () => (deadline === undefined ? undefined : Math.max(1, deadline - Date.now()));
  /** "Temporal could not be reached", saying whether the detection was started (exit 5). */
  const unreachable = (err: unknown, started: 'no' | 'maybe' | 'yes') => {
    const base = err instanceof TemporalUnreachableError ? err : new TemporalUnreachableError(address, err);
    const what = {
      no: `nothing was started (detection ${id})`,
      maybe: `detection ${id} may or may not have been started: rdd result ${id}`,
      yes: `detection ${id} was started and may still be running: rdd result ${id}`,
    }[started];
    const message = `${base.message}; ${what}`;
    if (json) {
      console.log(
        failureJson(
          id,
          started === 'no' ? 'not-started' : 'unknown',
          { type: base.name, message },
          { started },
        ),
      );
    }
    return new CliError(ExitCode.TemporalUnreachable, message, { cause: err });
  };
  let client;
  try {
    const connectTimeoutMs = remainingMs();
    client = await connectClient(env, {
      ...(connectTimeoutMs !== undefined && {
        connectTimeoutMs: Math.min(connectTimeoutMs, CONNECT_TIMEOUT_MS),
      }),
    });
  } catch (err) {
    if (err instanceof TemporalUnreachableError || isTemporalUnreachable(err)) throw unreachable(err, 'no');
    throw err;
  }
  try {
    let existing;
    try {
      ({ existing } = await startDetection(client, input, { id, taskQueue: config.taskQueue }));
    } catch (err) {
      if (err instanceof DetectionIdConflictError) throw new UsageError(err.message);
      // Checked above already; kept so a rule added to the client alone is still a usage error.
      if (err instanceof InvalidDetectionInputError) throw new UsageError(err.problems.join('; '));
      if (err instanceof TemporalUnreachableError || isTemporalUnreachable(err))
        throw unreachable(err, 'maybe');
      throw err;
    }
    if (!json) {
      console.log(
        existing ? `existing ${id} (the same request was sent before; nothing new started)` : `started ${id}`,
      );
    }
    if (!options.wait) return;
    let view: DetectionView;
    try {
      const timeoutMs = remainingMs();
      view = await waitForDetection(client, id, {
        ...(timeoutMs !== undefined && { timeoutMs }),
        onOutage: (err, retryInMs) =>
          console.error(
            `rdd detect: cannot reach Temporal at ${address} (${transportReason(err)}); ` +
              `still waiting for ${id}, retrying in ${Math.max(1, Math.round(retryInMs / 1000))} s`,
          ),
      });
    } catch (err) {
      if (err instanceof TemporalUnreachableError) throw unreachable(err, 'yes');
      // Anything else (e.g. a result this process cannot decode): --json still prints one document.
      if (json && err instanceof Error) {
        console.log(failureJson(id, 'unknown', { type: err.name, message: err.message.split('\n')[0]! }));
      }
      throw err;
    }
    printOutcome(view, { json, timeout: options.timeout, uploads });
  } finally {
    await client.connection.close();
  }
}

/** The SDK's own connect deadline, kept when --timeout leaves more time than that. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The problems of one media argument, before anything is uploaded: an s3:// URL's bucket and key,
 * a local file that cannot be read, a local file with no S3_BUCKET to upload it to.
 */
async function mediaProblems(
  role: string,
  argument: string,
  mediaBucket: string | undefined,
): Promise<string[]> {
  const ref = parseS3Url(argument);
  if (ref) {
    return [
      ...bucketNameProblems(ref.bucket, `${role} bucket`),
      ...objectKeyProblems(ref.key, `${role} key`),
    ];
  }
  if (argument.startsWith('s3://')) return [`${role} "${argument}" is not a valid s3://bucket/key URL`];
  const readable = await stat(argument).then(
    (info) => info.isFile() && access(argument, constants.R_OK).then(() => true),
    () => false,
  );
  if (!readable) return [`${role} "${argument}" is not a readable file or s3://bucket/key URL`];
  if (!mediaBucket) {
    return [`${role} "${argument}" is a local file, but no S3_BUCKET is configured to upload it to`];
  }
  return bucketNameProblems(mediaBucket, 'S3_BUCKET');
}

/** Prints how the wait ended; returns for a result, throws CliError for every other outcome. */
function printOutcome(
  view: DetectionView,
  options: { json: boolean; timeout: number | undefined; uploads: readonly LocalUpload[] },
): void {
  const id = view.workflowId;
  switch (view.state) {
    case 'completed':
      console.log(options.json ? JSON.stringify(view.result, null, 2) : formatResult(view.result));
      return;
    case 'failed': {
      const report = reportFailure(view.failure, {
        workflowId: id,
        json: options.json,
        uploads: options.uploads,
        channelHint: true,
      });
      if (report.stdout !== undefined) console.log(report.stdout);
      throw new CliError(ExitCode.Failed, report.message);
    }
    case 'running': {
      const message = `${id} is still running after --timeout ${options.timeout} s; rdd result ${id} prints it once done`;
      if (options.json) {
        console.log(failureJson(id, 'running', { type: 'StillRunning', message }, { status: view.status }));
      }
      throw new CliError(ExitCode.StillRunning, message);
    }
    case 'not-found': {
      const message = `detection ${id} is unknown to Temporal`;
      if (options.json) console.log(failureJson(id, 'not-found', { type: 'NotFound', message }));
      throw new CliError(ExitCode.NotFound, message);
    }
  }
}

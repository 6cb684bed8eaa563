/**
 * What `rdd detect` does (its definition is detect-command.ts): validates the arguments, uploads
 * local files, starts one detection through the typed client and, with `--wait`, prints its result.
 * Loaded only when the command runs.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { connectClient, isTemporalUnreachable, temporalAddress } from '../client/connection.ts';
import { DetectionIdConflictError } from '../client/detection-id-conflict-error.ts';
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
import { formatResult, reportFailure, type LocalUpload } from './cli-support.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';
import type { DetectOptions } from './detect-command.ts';

/**
 * Runs `rdd detect`. Validates every argument before uploading or starting anything.
 * @throws UsageError for a bad argument, `--id` or request; ConfigError for bad settings;
 *   CliError with exit code 1 (failed), 3 (still running at --timeout) or 5 (Temporal unreachable).
 */
export async function detect(
  referenceArg: string,
  questionedArg: string,
  options: DetectOptions,
): Promise<void> {
  if (options.timeout !== undefined && !options.wait) throw new UsageError('--timeout needs --wait');
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
  let reference, questioned;
  try {
    [reference, questioned] = await Promise.all([
      resolveMedia(s3, config.storage.mediaBucket, referenceArg, 'reference'),
      resolveMedia(s3, config.storage.mediaBucket, questionedArg, 'questioned'),
    ]);
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
  };
  const inputProblems = detectInputProblems(input);
  if (inputProblems.length > 0) throw new UsageError(inputProblems.join('; '));

  const address = temporalAddress(env);
  const id = options.id ?? detectionId(input);
  /** "Temporal could not be reached", with what to do: the start may or may not have happened. */
  const unreachable = (err: unknown) =>
    new CliError(
      ExitCode.TemporalUnreachable,
      `${err instanceof TemporalUnreachableError ? err.message : new TemporalUnreachableError(address, err).message}; ` +
        `the detection may still be running: rdd result ${id}`,
      { cause: err },
    );
  const client = await connectClient(env);
  try {
    let existing;
    try {
      ({ existing } = await startDetection(client, input, { id, taskQueue: config.taskQueue }));
    } catch (err) {
      if (err instanceof DetectionIdConflictError) throw new UsageError(err.message);
      if (err instanceof TemporalUnreachableError || isTemporalUnreachable(err)) throw unreachable(err);
      throw err;
    }
    if (!(options.wait && options.json)) {
      console.log(
        existing ? `existing ${id} (the same request was sent before; nothing new started)` : `started ${id}`,
      );
    }
    if (!options.wait) return;
    let view: DetectionView;
    try {
      view = await waitForDetection(client, id, {
        ...(options.timeout !== undefined && { timeoutMs: options.timeout * 1000 }),
        onOutage: (err, retryInMs) =>
          console.error(
            `rdd detect: cannot reach Temporal at ${address} (${transportReason(err)}); ` +
              `still waiting for ${id}, retrying in ${Math.max(1, Math.round(retryInMs / 1000))} s`,
          ),
      });
    } catch (err) {
      if (err instanceof TemporalUnreachableError) throw unreachable(err);
      throw err;
    }
    printOutcome(view, { json: options.json ?? false, timeout: options.timeout, uploads });
  } finally {
    await client.connection.close();
  }
}

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
      });
      if (report.stdout !== undefined) console.log(report.stdout);
      throw new CliError(ExitCode.Failed, report.message);
    }
    case 'running':
      throw new CliError(
        ExitCode.StillRunning,
        `${id} is still running after --timeout ${options.timeout} s; rdd result ${id} prints it once done`,
      );
    case 'not-found':
      throw new CliError(ExitCode.NotFound, `detection ${id} is unknown to Temporal`);
  }
}

/**
 * What `rdd batch …` does (its definition is batch-command.ts): checks the arguments, uploads a
 * local manifest or reference, starts the batch through the typed client, shows its progress
 * (a cli-progress bar on a terminal, plain lines otherwise) and prints where the reports are.
 * Loaded only when a batch command runs.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import cliProgress from 'cli-progress';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import {
  batchId as derivedBatchId,
  cancelBatch,
  getBatch,
  pauseBatch,
  resumeBatch,
  startBatch,
  waitForBatch,
  type BatchView,
} from '../client/batches.ts';
import { BatchUpdateRejectedError } from '../client/batch-update-rejected-error.ts';
import { connectClient, isTemporalUnreachable, temporalAddress } from '../client/connection.ts';
import { DetectionIdConflictError } from '../client/detection-id-conflict-error.ts';
import { TemporalUnreachableError } from '../client/temporal-unreachable-error.ts';
import { loadClientConfig } from '../config.ts';
import {
  MAX_BATCH_ID_BYTES,
  type BatchInput,
  type BatchSource,
  type BatchProgress,
  type BatchSummary,
} from '../shared/batch.ts';
import { bucketNameProblems, objectKeyProblems, utf8Length, workflowIdProblems } from '../shared/s3-names.ts';
import { parseS3Url, resolveMedia } from '../storage/media-upload.ts';
import { createS3Client } from '../storage/s3-client.ts';
import type { BatchIdOptions, BatchStartOptions } from './batch-command.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';

/**
 * Runs `rdd batch start`. Every argument is checked before anything is uploaded or started.
 * @throws UsageError (2) for bad arguments; CliError 1 (the batch failed), 5 (Temporal unreachable).
 */
export async function startBatchCommand(
  manifestArg: string | undefined,
  options: BatchStartOptions,
): Promise<void> {
  if (options.json && !options.wait) throw new UsageError('--json needs --wait');
  const prefixForm = options.prefix !== undefined || options.reference !== undefined;
  if (prefixForm && manifestArg !== undefined)
    throw new UsageError('give a manifest or --reference with --prefix, not both');
  if (!prefixForm && manifestArg === undefined)
    throw new UsageError('give a manifest, or --reference with --prefix');
  if (prefixForm && (options.prefix === undefined || options.reference === undefined))
    throw new UsageError('--reference and --prefix go together');
  if (options.suffix !== undefined && !prefixForm) throw new UsageError('--suffix needs --prefix');

  const env = withStackEnv();
  const config = loadClientConfig(env);
  const problems: string[] = [];
  if (options.id !== undefined) {
    if (utf8Length(options.id) > MAX_BATCH_ID_BYTES)
      problems.push(`--id must be at most ${MAX_BATCH_ID_BYTES} bytes`);
    else problems.push(...workflowIdProblems(options.id, '--id'));
  }
  const mediaBucket = config.storage.mediaBucket;
  const localNeedsBucket = (what: string, arg: string) => {
    if (!mediaBucket)
      problems.push(`${what} "${arg}" is a local file, but no S3_BUCKET is configured to upload it to`);
  };
  if (manifestArg !== undefined) {
    const ref = parseS3Url(manifestArg);
    if (ref)
      problems.push(
        ...bucketNameProblems(ref.bucket, 'manifest bucket'),
        ...objectKeyProblems(ref.key, 'manifest key'),
      );
    else if (manifestArg.startsWith('s3://'))
      problems.push(`manifest "${manifestArg}" is not a valid s3://bucket/key URL`);
    else if (
      !(await stat(manifestArg).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      problems.push(`manifest "${manifestArg}" is not a readable file or s3://bucket/key URL`);
    else localNeedsBucket('manifest', manifestArg);
  } else {
    const prefix = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.prefix!);
    if (!prefix) problems.push(`--prefix "${options.prefix}" is not an s3://bucket/prefix URL`);
    else {
      problems.push(...bucketNameProblems(prefix[1]!, '--prefix bucket'));
      // The whole bucket holds this project's results, cache and reports too (as the API refuses).
      if (prefix[2] === '' && !options.suffix)
        problems.push(
          `--prefix ${options.prefix} takes every object in the bucket (results, cache and batch reports included): give a prefix, or --suffix .wav`,
        );
    }
    const ref = parseS3Url(options.reference!);
    if (ref)
      problems.push(
        ...bucketNameProblems(ref.bucket, '--reference bucket'),
        ...objectKeyProblems(ref.key, '--reference key'),
      );
    else if (
      !(await stat(options.reference!).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      problems.push(`--reference "${options.reference}" is not a readable file or s3://bucket/key URL`);
    else localNeedsBucket('--reference', options.reference!);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const s3 = createS3Client(config.storage);
  let source: BatchSource;
  try {
    if (manifestArg !== undefined) {
      source = { manifest: parseS3Url(manifestArg) ?? (await uploadManifest(s3, mediaBucket!, manifestArg)) };
    } else {
      const [, bucket, prefix] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.prefix!)!;
      source = {
        reference: await resolveMedia(s3, mediaBucket, options.reference!, 'reference'),
        prefix: {
          bucket: bucket!,
          prefix: prefix!,
          ...(options.suffix !== undefined && { suffix: options.suffix }),
        },
      };
    }
  } finally {
    s3.destroy();
  }
  const input: BatchInput = {
    ...source,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.threshold !== undefined && { threshold: options.threshold }),
    ...(options.cache === false && { cache: false }),
    ...(options.config && { config: options.config }),
    ...(options.param && { params: options.param }),
    ...(options.continueAsNewEvery !== undefined && { continueAsNewEvery: options.continueAsNewEvery }),
  };
  const id = options.id ?? derivedBatchId(input);
  const address = temporalAddress(env);
  const client = await connectClient(env);
  try {
    let existing: boolean;
    try {
      ({ existing } = await startBatch(client, input, { id, taskQueue: config.taskQueue }));
    } catch (err) {
      if (err instanceof DetectionIdConflictError)
        throw new UsageError(`batch ${id} already exists for a different request`);
      throw unreachableOr(err, address, id);
    }
    if (!options.json)
      console.log(
        existing
          ? `existing ${id} (the same request was sent before; nothing new started: give a new --id to score it again)`
          : `started ${id}`,
      );
    if (!options.wait) {
      if (!options.json) console.log(`follow it: rdd batch status ${id}`);
      return;
    }
    const view = await watch(client, id, address, options.json === true);
    printEnd(view, options.json === true);
  } finally {
    await client.connection.close();
  }
}

/**
 * Runs `rdd batch status|pause|resume|cancel|report <id>`.
 * @throws CliError 1 (the update was refused, or the batch failed), 3 (report: still running),
 *   4 (no such batch), 5 (Temporal unreachable).
 */
export async function batchIdCommand(
  name: 'status' | 'pause' | 'resume' | 'cancel' | 'report',
  id: string,
  options: BatchIdOptions,
): Promise<void> {
  const env = withStackEnv();
  const address = temporalAddress(env);
  const client = await connectClient(env);
  try {
    if (name === 'pause' || name === 'resume' || name === 'cancel') {
      const steer = { pause: pauseBatch, resume: resumeBatch, cancel: cancelBatch }[name];
      let progress: BatchProgress;
      try {
        progress = await steer(client, id);
      } catch (err) {
        if (err instanceof BatchUpdateRejectedError) throw new CliError(ExitCode.Failed, err.message);
        throw unreachableOr(err, address, id);
      }
      console.log(options.json ? JSON.stringify(progress, null, 2) : `${name}: ${progressLine(progress)}`);
      return;
    }
    let view: BatchView;
    try {
      view = await getBatch(client, id);
    } catch (err) {
      throw unreachableOr(err, address, id);
    }
    if (view.state === 'not-found')
      throw new CliError(ExitCode.NotFound, `batch ${id} is unknown to Temporal`);
    if (view.state === 'running') {
      if (name === 'report') {
        throw new CliError(
          ExitCode.StillRunning,
          `batch ${id} is still running: ${progressLine(view.progress)}`,
        );
      }
      console.log(
        options.json ? JSON.stringify(view, null, 2) : `${id} ${progressLine(view.progress, view)}`,
      );
      return;
    }
    printEnd(view, options.json === true);
  } finally {
    await client.connection.close();
  }
}

/** Uploads a local manifest under a content-addressed key that keeps its extension (the format). */
async function uploadManifest(
  s3: ReturnType<typeof createS3Client>,
  bucket: string,
  file: string,
): Promise<{ bucket: string; key: string }> {
  const body = await readFile(file);
  const ext = extname(file).toLowerCase();
  const key = `manifests/${createHash('sha256').update(body).digest('hex')}${/^\.(csv|jsonl|ndjson)$/.test(ext) ? ext : ''}`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key };
}

/**
 * Follows a batch to its end: a bar on a terminal, a line every 5 s (and at each change of phase)
 * otherwise. With `--json` the progress goes to stderr, so stdout holds the summary JSON alone.
 */
async function watch(
  client: Awaited<ReturnType<typeof connectClient>>,
  id: string,
  address: string,
  json: boolean,
): Promise<BatchView> {
  const stream = json ? process.stderr : process.stdout;
  const tty = stream.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: BAR_FORMAT,
          hideCursor: true,
          stream,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastLine = 0;
  let lastPhase = '';
  try {
    return await waitForBatch(client, id, {
      intervalMs: tty ? 500 : 1000,
      onProgress: (p, view) => {
        const payload = barPayload(p, view);
        if (bar) {
          const total = p.total ?? Math.max(p.done + p.inFlight, 1);
          if (!started) bar.start(total, p.done, payload);
          else bar.setTotal(total);
          started = true;
          bar.update(p.done, payload);
        } else if (Date.now() - lastLine >= 5000 || p.phase !== lastPhase) {
          lastLine = Date.now();
          lastPhase = p.phase;
          stream.write(`${progressLine(p, view)}\n`);
        }
      },
    });
  } catch (err) {
    throw unreachableOr(err, address, id);
  } finally {
    if (started) bar?.stop();
  }
}

/** The bar's layout; its tokens other than {bar} and {value} come from {@link barPayload}. */
const BAR_FORMAT = ' {bar} {percentText} | {value}/{totalText} pairs | {rate}/s | ETA {etaText} | {phase}';

/**
 * The text fields of the progress bar: `?` for the total and the percentage while the manifest's
 * end is not reached (the bar then fills against what is known so far), no ETA while paused. Pure.
 * @example barPayload({ ...progress, total: null }).totalText // '?'
 */
export function barPayload(
  p: BatchProgress,
  capacity: { waitingForCapacity?: number; ahead?: number } = {},
): { percentText: string; totalText: string; rate: string; etaText: string; phase: string } {
  const waiting = capacityText(capacity);
  const phase = p.paused ? 'paused' : p.phase;
  return {
    percentText: p.total === null ? '?%' : `${p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total)}%`,
    totalText: p.total === null ? '?' : String(p.total),
    rate: p.rate.toFixed(1),
    etaText: p.paused ? '— (paused)' : eta(p.etaSeconds),
    phase: waiting === '' ? phase : `${phase}, ${waiting}`,
  };
}

function eta(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/**
 * `120/200 done (3 failed, 0 invalid, 10 cached), 16 in flight, 4.2 pairs/s, ETA 19 s, running`,
 * and, given a running view whose pairs wait for a lease, `, 12 waiting for platform capacity, 30 ahead`.
 * Cancelled pairs are named when there are any; a paused or cancelled batch shows no ETA, and a
 * cancelled one ends `cancelling` then `cancelled` even if it was paused before. Pure.
 */
export function progressLine(
  p: BatchProgress,
  capacity: { waitingForCapacity?: number; ahead?: number } = {},
): string {
  const total = p.total === null ? '?' : String(p.total);
  const waiting = capacityText(capacity);
  const cancelled = p.cancelledPairs ? `, ${p.cancelledPairs} cancelled` : '';
  return (
    `${p.done}/${total} done (${p.failed} failed${cancelled}, ${p.invalid} invalid, ${p.cached} cached), ` +
    `${p.inFlight} in flight, ${p.rate.toFixed(1)} pairs/s, ` +
    `${p.paused || p.cancelled ? '' : `ETA ${eta(p.etaSeconds)}, `}${lineState(p)}` +
    (waiting === '' ? '' : `, ${waiting}`)
  );
}

/**
 * The state word that ends a progress line: the phase, except that a paused batch says `paused`
 * while it would run, and a cancelled one says `cancelled` once done (not the pause before it).
 */
function lineState(p: BatchProgress): string {
  if (p.cancelled) return p.phase === 'done' ? 'cancelled' : p.phase;
  return p.paused && (p.phase === 'running' || p.phase === 'paused') ? 'paused' : p.phase;
}

/** `12 waiting for platform capacity, 30 ahead`, or '' when no pair waits (or it is unknown). */
function capacityText({
  waitingForCapacity,
  ahead,
}: {
  waitingForCapacity?: number;
  ahead?: number;
}): string {
  if (!waitingForCapacity) return '';
  return `${waitingForCapacity} waiting for platform capacity, ${ahead ?? 0} ahead`;
}

/** The summary of a finished batch, as `rdd batch start --wait` and `rdd batch report` print it. */
export function formatSummary(summary: BatchSummary): string {
  const c = summary.counts;
  const lines = [
    `batch ${summary.batchId} ${summary.status}: ${c.total} pairs: ${c.scored} scored (${c.deepfake} deepfake, ` +
      `${c.genuine} genuine), ${c.inconclusive} inconclusive, ${c.failed} failed (${c.invalid} invalid lines), ` +
      `${c.cancelled ?? 0} cancelled, ` +
      `${c.cached} from cache, ${c.duplicates} duplicates; ${summary.runs} run(s)` +
      (summary.throughput === null ? '' : `, ${summary.throughput.toFixed(2)} pairs/s`),
    `reports: ${summary.location}`,
    `  s3://${summary.files.html.bucket}/${summary.files.html.key}`,
    `  s3://${summary.files.csv.bucket}/${summary.files.csv.key}`,
    `  s3://${summary.files.jsonl.bucket}/${summary.files.jsonl.key}`,
  ];
  if (summary.files.metrics)
    lines.push(`  s3://${summary.files.metrics.bucket}/${summary.files.metrics.key}`);
  return lines.join('\n');
}

function printEnd(view: BatchView, json: boolean): void {
  switch (view.state) {
    case 'completed':
      console.log(json ? JSON.stringify(view.summary, null, 2) : formatSummary(view.summary));
      return;
    case 'failed':
      throw new CliError(
        ExitCode.Failed,
        `batch ${view.batchId} failed (${view.failure.type}): ${view.failure.message}`,
      );
    case 'running':
      throw new CliError(ExitCode.StillRunning, `batch ${view.batchId} is still running`);
    case 'not-found':
      throw new CliError(ExitCode.NotFound, `batch ${view.batchId} is unknown to Temporal`);
  }
}

function unreachableOr(err: unknown, address: string, id: string): unknown {
  if (err instanceof TemporalUnreachableError || isTemporalUnreachable(err)) {
    const message =
      err instanceof TemporalUnreachableError
        ? err.message
        : new TemporalUnreachableError(address, err).message;
    return new CliError(
      ExitCode.TemporalUnreachable,
      `${message}; the batch may still be running: rdd batch status ${id}`,
      {
        cause: err,
      },
    );
  }
  return err;
}

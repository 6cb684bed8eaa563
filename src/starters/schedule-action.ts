/**
 * What `rdd schedule …` does (its definition is schedule-command.ts): checks the arguments, then
 * manages the batch schedule through the typed client (src/client/schedules.ts) and prints it.
 * Loaded only when a schedule command runs.
 */
import { BatchScheduleConflictError } from '../client/batch-schedule-conflict-error.ts';
import { BatchScheduleNotFoundError } from '../client/batch-schedule-not-found-error.ts';
import {
  backfillBatchSchedule,
  batchScheduleId,
  batchScheduleSpecProblems,
  createBatchSchedule,
  deleteBatchSchedule,
  describeBatchSchedule,
  InvalidScheduleError,
  listBatchSchedules,
  pauseBatchSchedule,
  triggerBatchSchedule,
  unpauseBatchSchedule,
  type BatchScheduleInput,
  type BatchScheduleSpec,
  type BatchScheduleView,
} from '../client/schedules.ts';
import { loadClientConfig } from '../config.ts';
import type { BatchSource } from '../shared/batch.ts';
import { formatMediaRef } from '../shared/media.ts';
import { bucketNameProblems, objectKeyProblems } from '../shared/s3-names.ts';
import { parseS3Url, resolveMedia } from '../storage/media-upload.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import type { ScheduleCreateOptions, ScheduleNameOptions } from './schedule-command.ts';
import { withStackEnv } from './stack-env.ts';
import { withTemporalClient } from './with-temporal-client.ts';

/**
 * Runs `rdd schedule create <name>`. Every argument is checked before anything is created.
 * @throws UsageError (2) for bad arguments or a name taken by a different schedule; CliError 5.
 */
export async function createScheduleCommand(name: string, options: ScheduleCreateOptions): Promise<void> {
  const problems: string[] = [];
  const need = (ok: boolean, message: string) => ok || problems.push(message);
  try {
    batchScheduleId(name);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const prefixForm = options.prefix !== undefined || options.reference !== undefined;
  need(
    !(prefixForm && options.manifest !== undefined),
    'give --manifest or --reference with --prefix, not both',
  );
  need(prefixForm || options.manifest !== undefined, 'give --reference with --prefix, or --manifest');
  need(
    !prefixForm || (options.prefix !== undefined && options.reference !== undefined),
    '--reference and --prefix go together',
  );
  need(options.suffix === undefined || prefixForm, '--suffix needs --prefix');
  need(!options.sinceLastRun || prefixForm, '--since-last-run needs --prefix');
  need(
    (options.cron === undefined) !== (options.every === undefined),
    'give exactly one of --cron and --every',
  );
  need(options.timezone === undefined || options.cron !== undefined, '--timezone needs --cron');
  need(options.offset === undefined || options.every !== undefined, '--offset needs --every');
  let spec: BatchScheduleSpec | undefined;
  if (options.cron !== undefined)
    spec = { cron: options.cron, ...(options.timezone !== undefined && { timezone: options.timezone }) };
  else if (options.every !== undefined)
    spec = { every: options.every, ...(options.offset !== undefined && { offset: options.offset }) };
  if (spec) problems.push(...batchScheduleSpecProblems(spec).map((p) => `--${p}`));
  let prefix: RegExpExecArray | null = null;
  if (options.prefix !== undefined) {
    prefix = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.prefix);
    if (!prefix) problems.push(`--prefix "${options.prefix}" is not an s3://bucket/prefix URL`);
    else {
      problems.push(...bucketNameProblems(prefix[1]!, '--prefix bucket'));
      // The whole bucket holds this project's results, cache and reports too (as the API refuses).
      if (prefix[2] === '' && !options.suffix)
        problems.push(
          `--prefix ${options.prefix} takes every object in the bucket (results, cache and batch reports included): give a prefix, or --suffix .wav`,
        );
    }
  }
  if (options.manifest !== undefined) {
    const ref = parseS3Url(options.manifest);
    if (!ref) problems.push(`--manifest "${options.manifest}" is not an s3://bucket/key URL`);
    else
      problems.push(
        ...bucketNameProblems(ref.bucket, '--manifest bucket'),
        ...objectKeyProblems(ref.key, '--manifest key'),
      );
  }
  if (options.reference !== undefined) {
    const ref = parseS3Url(options.reference);
    if (ref)
      problems.push(
        ...bucketNameProblems(ref.bucket, '--reference bucket'),
        ...objectKeyProblems(ref.key, '--reference key'),
      );
  }
  if (problems.length > 0 || !spec) throw new UsageError(problems.join('; '));

  const env = withStackEnv();
  const config = loadClientConfig(env);
  let source: BatchSource;
  if (options.manifest !== undefined) source = { manifest: parseS3Url(options.manifest)! };
  else {
    const s3 = createS3Client(config.storage);
    try {
      source = {
        reference: await resolveMedia(s3, config.storage.mediaBucket, options.reference!, 'reference'),
        prefix: {
          bucket: prefix![1]!,
          prefix: prefix![2]!,
          ...(options.suffix !== undefined && { suffix: options.suffix }),
          ...(options.sinceLastRun && { sinceScheduleRun: true as const }),
        },
      };
    } finally {
      s3.destroy();
    }
  }
  const input = {
    ...source,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.threshold !== undefined && { threshold: options.threshold }),
    ...(options.cache === false && { cache: false }),
    ...(options.config && { config: options.config }),
    ...(options.param && { params: options.param }),
  } as BatchScheduleInput;
  await withTemporalClient(env, scheduleError, async (client) => {
    let existing: boolean;
    try {
      ({ existing } = await createBatchSchedule(client, {
        name,
        spec: spec,
        input,
        taskQueue: config.taskQueue,
        ...(options.paused && { paused: true }),
        ...(options.note !== undefined && { note: options.note }),
      }));
    } catch (err) {
      if (err instanceof BatchScheduleConflictError || err instanceof InvalidScheduleError)
        throw new UsageError(err.message);
      throw err;
    }
    const view = await describeBatchSchedule(client, name);
    if (options.json) console.log(JSON.stringify({ ...view, existing }, null, 2));
    else {
      console.log(
        existing
          ? `existing ${view.scheduleId} (the same definition was created before)`
          : `created ${view.scheduleId}`,
      );
      console.log(formatSchedule(view));
    }
  });
}

/** Runs `rdd schedule list`. @throws CliError 5. */
export async function listSchedulesCommand(options: { json?: true }): Promise<void> {
  await withTemporalClient(withStackEnv(), scheduleError, async (client) => {
    const schedules = await listBatchSchedules(client);
    if (options.json) {
      console.log(JSON.stringify(schedules, null, 2));
      return;
    }
    if (schedules.length === 0) {
      console.log('no batch schedules (rdd schedule create <name> … makes one)');
      return;
    }
    for (const s of schedules) {
      const state = s.paused ? 'paused' : `next ${s.nextRun ?? '-'}`;
      const last = s.lastRun ? `last ${s.lastRun.batchId}` : 'never ran';
      console.log(`${s.name}  ${s.specText}  ${state}  ${last}`);
    }
  });
}

/**
 * Runs `rdd schedule describe|pause|unpause|trigger|backfill|delete <name>`.
 * @throws UsageError (2) for a bad name or window; CliError 4 (no such schedule), 5.
 */
export async function scheduleNameCommand(
  command: 'describe' | 'pause' | 'unpause' | 'trigger' | 'backfill' | 'delete',
  name: string,
  options: ScheduleNameOptions,
): Promise<void> {
  try {
    batchScheduleId(name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let window: { from: Date; to: Date } | undefined;
  if (command === 'backfill') {
    const from = new Date(options.from ?? '');
    const to = new Date(options.to ?? '');
    const bad = [
      ...(Number.isNaN(from.getTime()) ? [`--from "${options.from}" is not an ISO time`] : []),
      ...(Number.isNaN(to.getTime()) ? [`--to "${options.to}" is not an ISO time`] : []),
    ];
    if (bad.length === 0 && from >= to) bad.push('--from must be before --to');
    if (bad.length === 0 && to.getTime() > Date.now())
      bad.push(`--to ${to.toISOString()} is in the future: a backfill runs past times only`);
    if (bad.length > 0) throw new UsageError(bad.join('; '));
    window = { from, to };
  }
  await withTemporalClient(withStackEnv(), scheduleError, async (client) => {
    switch (command) {
      case 'describe': {
        const view = await describeBatchSchedule(client, name);
        console.log(options.json ? JSON.stringify(view, null, 2) : formatSchedule(view));
        return;
      }
      case 'pause':
      case 'unpause': {
        const { changed } = await (command === 'pause' ? pauseBatchSchedule : unpauseBatchSchedule)(
          client,
          name,
          options.note,
        );
        const view = await describeBatchSchedule(client, name);
        if (options.json) console.log(JSON.stringify({ ...view, changed }, null, 2));
        else if (changed)
          console.log(`${command}d ${view.scheduleId}: ${view.paused ? 'paused' : 'running'}`);
        else
          console.log(
            `${view.scheduleId} was already ${view.paused ? 'paused' : 'running'}: nothing changed` +
              `${options.note !== undefined ? ' but the note' : ''}`,
          );
        return;
      }
      case 'delete':
        await deleteBatchSchedule(client, name);
        console.log(
          options.json
            ? JSON.stringify({ deleted: batchScheduleId(name) })
            : `deleted ${batchScheduleId(name)}`,
        );
        return;
      case 'trigger': {
        const { run, running } = await triggerBatchSchedule(client, name);
        if (options.json) console.log(JSON.stringify({ run, ...(running && { running }) }, null, 2));
        else if (run) console.log(`started ${run.batchId}\nfollow it: rdd batch status ${run.batchId}`);
        else
          console.log(
            `triggered; not started yet${running ? ` (batch ${running} is running)` : ''}: the run starts ` +
              'when the running batch ends, unless a run already waits for it: one run waits at most ' +
              '(overlap BUFFER_ONE), a further one is dropped (rdd schedule describe: skipped overlap)',
          );
        return;
      }
      case 'backfill': {
        let skipped: string[];
        try {
          ({ skipped } = await backfillBatchSchedule(client, name, window!, {
            ...(options.maxRuns !== undefined && { maxRuns: options.maxRuns }),
          }));
        } catch (err) {
          if (err instanceof InvalidScheduleError && /more than \d+/.test(err.message))
            throw new UsageError(`${err.message} (--max-runs <n>)`);
          throw err;
        }
        if (options.json)
          console.log(JSON.stringify({ backfill: { from: window!.from, to: window!.to }, skipped }));
        else {
          console.log(
            `backfill ${window!.from.toISOString()} – ${window!.to.toISOString()} requested: one batch per ` +
              'scheduled time in that window, one after another (rdd schedule describe shows them)',
          );
          if (skipped.length > 0)
            console.log(
              `left out ${skipped.length} time(s) whose batch already ran or runs: ${skipped.join(', ')}`,
            );
        }
        return;
      }
    }
  });
}

/** The human-readable form of a schedule, one field a line. Pure. */
export function formatSchedule(view: BatchScheduleView): string {
  const input = view.input;
  const what =
    'manifest' in input && input.manifest
      ? `manifest ${formatMediaRef(input.manifest)}`
      : 'prefix' in input
        ? `${formatMediaRef(input.reference)} against s3://${input.prefix.bucket}/${input.prefix.prefix}` +
          `${input.prefix.suffix ? ` (*${input.prefix.suffix})` : ''}` +
          `${input.prefix.sinceScheduleRun ? ', only objects modified since the previous run' : ''}`
        : '?';
  const lines = [
    `schedule        ${view.scheduleId}`,
    `spec            ${view.specText}`,
    `batch           ${what}`,
    `overlap         ${view.overlap} (a run due while a batch runs waits for it; one waits at most)`,
    `catch-up        ${formatMs(view.catchupWindowMs)} (runs missed longer ago are skipped)`,
    `state           ${view.paused ? 'paused' : 'active'}${view.note ? ` — ${view.note}` : ''}`,
    `task queue      ${view.taskQueue}`,
    `next runs       ${view.paused ? '-' : view.nextRuns.slice(0, 3).join(', ') || '-'}`,
    `running         ${view.running.join(', ') || '-'}`,
    `recent runs     ${view.recentRuns.length === 0 ? '-' : ''}`,
    ...view.recentRuns.map((r) => `  ${r.scheduledAt}  ${r.batchId}`),
  ];
  return lines.join('\n');
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** The schedule commands' errors as exit codes (for `withTemporalClient`). */
function scheduleError(err: unknown): Error | undefined {
  if (err instanceof BatchScheduleNotFoundError) return new CliError(ExitCode.NotFound, err.message);
  if (err instanceof InvalidScheduleError) return new UsageError(err.message);
  return undefined;
}

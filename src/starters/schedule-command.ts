/**
 * `rdd schedule create|list|describe|pause|unpause|trigger|backfill|delete`: Temporal Schedules
 * that run a batch (one reference against a prefix, or a manifest) on a cron expression or an
 * interval. The actions are in schedule-action.ts, loaded only when a command runs.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { collectPairs, jsonObject, numberParser, once } from './option-values.ts';

/** The options of `rdd schedule create`, as parsed. */
export interface ScheduleCreateOptions {
  reference?: string;
  prefix?: string;
  suffix?: string;
  manifest?: string;
  cron?: string;
  timezone?: string;
  every?: string;
  offset?: string;
  sinceLastRun?: true;
  threshold?: number;
  concurrency?: number;
  cache?: boolean;
  config?: Record<string, unknown>;
  param?: Record<string, string>;
  paused?: true;
  note?: string;
  json?: true;
}

/** The options of the commands that name a schedule. */
export interface ScheduleNameOptions {
  json?: true;
  note?: string;
  from?: string;
  to?: string;
  maxRuns?: number;
}

const positiveInt = numberParser({ integer: true, min: 1 });

/**
 * The `rdd schedule` command group.
 * @example createProgram().addCommand(scheduleCommand())
 */
export function scheduleCommand() {
  const group = new Command('schedule')
    .summary('run batches on a schedule: create, list, describe, pause, unpause, trigger, backfill, delete')
    .description(
      'A batch schedule (Temporal Schedule batch-schedule-<name>) starts a batch on a cron ' +
        'expression or an interval: one reference against every object under a prefix (with ' +
        '--since-last-run, only those modified since the previous run), or a manifest. A run due ' +
        'while the previous batch still runs waits for it (overlap BUFFER_ONE); runs missed by ' +
        'less than 1 hour during an outage are caught up (catch-up window 1h).',
    );
  group
    .command('create')
    .summary('create a schedule (the same definition again is a no-op; a different one is refused)')
    .argument('<name>', 'the schedule name: A-Z a-z 0-9 . _ -')
    .option(
      '--reference <s3url>',
      'with --prefix: the reference, s3://bucket/key (or a local file, uploaded)',
    )
    .option('--prefix <s3url>', 'score --reference against every object under s3://bucket/prefix')
    .option('--suffix <suffix>', 'with --prefix: only keys ending so, e.g. .wav')
    .option('--manifest <s3url>', 'instead of --prefix: the manifest s3://bucket/key, read anew each run')
    .addOption(new Option('--cron <expr>', "when to run: 5-field cron, e.g. '0 2 * * *'").argParser(once()))
    .option('--timezone <iana>', 'with --cron: its time zone (default UTC), e.g. Europe/Prague')
    .addOption(new Option('--every <interval>', 'when to run: every 15m, 24h, 7d, …').argParser(once()))
    .option('--offset <interval>', 'with --every: shift from the epoch-aligned times, e.g. 2h')
    .option('--since-last-run', "with --prefix: only objects modified since the previous run's time")
    .option('--threshold <llr>', 'LLR above which the verdict is deepfake (default 0)', numberParser())
    .option('--concurrency <n>', 'pairs in flight at most (default 48)', positiveInt)
    .option('--no-cache', 'send every pair to the platform, even when the score cache has it')
    .option('--config <json>', "the platform's config object for every pair", jsonObject)
    .option('--param <name=value>', 'extra query parameter for the platform (repeatable)', collectPairs)
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown by describe')
    .option('--json', 'print the description as JSON')
    .action(async (name, options) => {
      const { createScheduleCommand } = await import('./schedule-action.ts');
      await createScheduleCommand(name, options);
    });
  group
    .command('list')
    .summary('list the batch schedules')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const { listSchedulesCommand } = await import('./schedule-action.ts');
      await listSchedulesCommand(options);
    });
  for (const [name, summary] of [
    ['describe', 'print a schedule: spec, overlap policy, catch-up window, next and recent runs'],
    ['pause', 'stop starting runs (a running batch goes on)'],
    ['unpause', 'start runs again'],
    ['trigger', 'start a run now and print its batch id'],
    ['delete', 'delete the schedule (its batches go on)'],
  ] as const) {
    const command = group
      .command(name)
      .summary(summary)
      .argument('<name>', 'the schedule name')
      .option('--json', 'print JSON');
    if (name === 'pause' || name === 'unpause') command.option('--note <text>', 'why, shown by describe');
    command.action(async (scheduleName, options: ScheduleNameOptions) => {
      const { scheduleNameCommand } = await import('./schedule-action.ts');
      await scheduleNameCommand(name, scheduleName, options);
    });
  }
  group
    .command('backfill')
    .summary('run the schedule for every time its spec gives in [--from, --to], one batch after another')
    .argument('<name>', 'the schedule name')
    .requiredOption('--from <time>', 'ISO time, e.g. 2025-01-01T00:00:00Z')
    .requiredOption('--to <time>', 'ISO time, not in the future')
    .option(
      '--max-runs <n>',
      'refuse a window whose spec gives more than n runs (each is a batch; default 100)',
      positiveInt,
    )
    .option('--json', 'print JSON')
    .action(async (scheduleName, options) => {
      const { scheduleNameCommand } = await import('./schedule-action.ts');
      await scheduleNameCommand('backfill', scheduleName, options);
    });
  return group;
}

/**
 * `rdd sweep create|delete|trigger`: the sweep for lost S3 events, a Temporal Schedule
 * (`sweep-<name>`) that lists a prefix and starts the detection of every object a rule of
 * S3_EVENT_RULES matches and that has no result yet. The actions are in sweep-action.ts, loaded
 * only when a command runs.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { numberParser, once } from './option-values.ts';

/** The options of `rdd sweep create`, as parsed. */
export interface SweepCreateOptions {
  prefix: string;
  every?: string;
  cron?: string;
  pageSize?: number;
}

/**
 * The `rdd sweep` command group.
 * @example createProgram().addCommand(sweepCommand())
 */
export function sweepCommand() {
  const group = new Command('sweep')
    .summary('sweep a prefix for objects whose S3 event was lost: create, delete, trigger')
    .description(
      'A sweep (Temporal Schedule sweep-<name>) lists s3://bucket/prefix in bounded pages and ' +
        'starts the detection of every object that a rule of S3_EVENT_RULES matches and that has ' +
        'no result yet, under the same id an S3 event would use (so nothing runs twice). A sweep ' +
        'due while the previous one still runs is skipped (overlap SKIP); after an outage one ' +
        'missed run within 1 hour is caught up. Failed detections are not retried by the sweep.',
    );
  group
    .command('create')
    .summary('create or update a sweep (the same definition again changes nothing)')
    .argument('<name>', 'the sweep name: A-Z a-z 0-9 . _ -')
    .requiredOption('--prefix <s3url>', 'what to list: s3://bucket/prefix')
    .addOption(new Option('--every <interval>', 'how often: 15m, 1h, 1d, …').argParser(once()))
    .addOption(
      new Option('--cron <expr>', "or when: 5-field cron (UTC), e.g. '*/15 * * * *'").argParser(once()),
    )
    .option('--page-size <n>', 'objects per listed page', numberParser({ integer: true, min: 1 }))
    .action(async (name, options) => {
      const { createSweepCommand } = await import('./sweep-action.ts');
      await createSweepCommand(name, options);
    });
  for (const [verb, summary] of [
    ['delete', 'delete a sweep (a running sweep finishes; no such sweep is exit 4)'],
    ['trigger', 'run a sweep now'],
  ] as const) {
    group
      .command(verb)
      .summary(summary)
      .argument('<name>', 'the sweep name')
      .action(async (name) => {
        const { sweepNameCommand } = await import('./sweep-action.ts');
        await sweepNameCommand(verb, name);
      });
  }
  return group;
}

/**
 * `rdd batch start|status|pause|resume|cancel|report`: run a manifest of pairs (or one reference
 * against a prefix) as one batch, watch it, steer it and find its reports. The actions are in
 * batch-action.ts, loaded only when a command runs.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { collectPairs, jsonObject, numberParser } from './option-values.ts';

/** The options of `rdd batch start`, as parsed. */
export interface BatchStartOptions {
  reference?: string;
  prefix?: string;
  suffix?: string;
  concurrency?: number;
  threshold?: number;
  cache?: boolean;
  config?: Record<string, unknown>;
  param?: Record<string, string>;
  continueAsNewEvery?: number;
  id?: string;
  wait?: true;
  json?: true;
}

/** The options of the commands that name a batch. */
export interface BatchIdOptions {
  json?: true;
}

const positiveInt = numberParser({ integer: true, min: 1 });

/**
 * The `rdd batch` command group.
 * @example createProgram().addCommand(batchCommand())
 */
export function batchCommand() {
  const group = new Command('batch')
    .summary('run many pairs as one batch: start, status, pause, resume, cancel, report')
    .description(
      'A batch scores every pair of a manifest (CSV with a header, or JSON Lines: reference, ' +
        'questioned, optional reference_channel, questioned_channel, label, id) or one reference ' +
        'against every object under a prefix, at most --concurrency at a time within the ' +
        "platform's capacity, and writes report.csv, report.jsonl, report.html and (labelled) " +
        'metrics.json next to its results.',
    );
  group
    .command('start')
    .summary('start a batch; with --wait, show its progress and where the reports are')
    .argument('[manifest]', 'the manifest: s3://bucket/key or a local .csv/.jsonl file (uploaded first)')
    .option('--reference <ref>', 'with --prefix: the reference, s3://bucket/key or a local file')
    .option('--prefix <s3url>', 'score --reference against every object under s3://bucket/prefix')
    .option('--suffix <suffix>', 'with --prefix: only keys ending so, e.g. .wav')
    .option('--concurrency <n>', 'pairs in flight at most (default 48)', positiveInt)
    .option('--threshold <llr>', 'LLR above which the verdict is deepfake (default 0)', numberParser())
    .option('--no-cache', 'send every pair to the platform, even when the score cache has it')
    .option('--config <json>', "the platform's config object for every pair", jsonObject)
    .option('--param <name=value>', 'extra query parameter for the platform (repeatable)', collectPairs)
    .addOption(
      new Option('--continue-as-new-every <n>', 'pairs per workflow run (default 500)')
        .argParser(positiveInt)
        .hideHelp(),
    )
    .option('--id <id>', 'the batch id (default: derived from the request)')
    .option('--wait', 'show a live progress bar until the batch ends, then print where the reports are')
    .option('--json', 'with --wait: print the summary JSON on stdout')
    .action(async (manifest, options) => {
      const { startBatchCommand } = await import('./batch-action.ts');
      await startBatchCommand(manifest, options);
    });
  for (const [name, summary] of [
    ['status', 'print where a batch stands (progress, or its summary once done)'],
    ['pause', 'stop starting pairs (those in flight finish)'],
    ['resume', 'start pairs again'],
    ['cancel', 'cancel the pairs in flight, then write the reports of what was done'],
    ['report', 'print where the reports of a finished batch are'],
  ] as const) {
    group
      .command(name)
      .summary(summary)
      .argument('<id>', 'the batch id')
      .option('--json', 'print JSON')
      .action(async (id, options) => {
        const { batchIdCommand } = await import('./batch-action.ts');
        await batchIdCommand(name, id, options);
      });
  }
  return group;
}

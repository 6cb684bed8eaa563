/**
 * `rdd detect <reference> <questioned>`: validates the arguments, uploads local files, starts one
 * detection through the typed client (idempotent: the same `--id`, or the same request, gives the
 * same detection) and, with `--wait`, prints its result.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { collectPairs, jsonObject, numberParser, once } from './option-values.ts';

/** The options of `rdd detect`, as parsed. */
export interface DetectOptions {
  referenceChannel?: number;
  questionedChannel?: number;
  config?: Record<string, unknown>;
  param?: Record<string, string>;
  threshold?: number;
  /** false with `--no-cache`: always submit, never answer from the score cache. */
  cache?: boolean;
  id?: string;
  wait?: true;
  timeout?: number;
  json?: true;
}

const channel = once(numberParser({ integer: true, min: 0 }));

/**
 * The `rdd detect` command: its arguments, options, help and action.
 * @example createProgram().addCommand(detectCommand())
 */
export function detectCommand() {
  return new Command('detect')
    .summary('start a detection; with --wait, print its result')
    .description(
      'Starts one detection of <questioned> against <reference>. Local files are uploaded to ' +
        'S3_BUCKET first, under a content-addressed key. Every argument is checked before anything ' +
        'is uploaded or started. Starting is idempotent: the same --id, or without one the same ' +
        'request, gives the same detection (running or completed), never a second one.',
    )
    .argument('<reference>', 'the genuine voice: s3://bucket/key or a local file')
    .argument('<questioned>', 'the recording to check: s3://bucket/key or a local file')
    .option('--reference-channel <n>', 'channel of a multi-channel reference (0-based)', channel)
    .option('--questioned-channel <n>', 'channel of a multi-channel questioned file (0-based)', channel)
    .option(
      '--config <json>',
      "the platform's config object, e.g. '{\"max_speech_length\": 60}'",
      once(jsonObject),
    )
    .option('--param <name=value>', 'extra query parameter for the platform (repeatable)', collectPairs)
    .option('--threshold <llr>', 'LLR above which the verdict is deepfake (default 0)', once(numberParser()))
    .option('--no-cache', 'always submit to the platform, even when this pair was scored before')
    .option('--id <id>', 'business key, used as the workflow id (default: derived from the request)', once())
    .option('--wait', 'wait for the result and print it; a Temporal outage is ridden out')
    .addOption(
      new Option(
        '--timeout <seconds>',
        'with --wait: stop waiting after this long (default: as long as the detection runs; ' +
          'a Temporal outage over 10 minutes ends the wait)',
      ).argParser(once(numberParser({ above: 0 }))),
    )
    .option('--json', 'with --wait (required): print only the result JSON on stdout')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 the detection failed, 2 bad arguments (nothing started), 3 still\n' +
        'running at --timeout, 5 Temporal could not be reached (the detection may still run:\n' +
        'rdd result <id>).',
    )
    .action(async (reference, questioned, options) => {
      const { detect } = await import('./detect-action.ts');
      await detect(reference, questioned, options);
    });
}

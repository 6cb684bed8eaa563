/**
 * `rdd result <workflowId>`: prints the result recorded in S3; when nothing is recorded there,
 * asks Temporal (through the typed client) whether the detection is running, failed or unknown.
 */
import { Command } from '@commander-js/extra-typings';
import { once } from './option-values.ts';

/** The options of `rdd result`, as parsed. */
export interface ResultOptions {
  json?: true;
  bucket?: string;
  key?: string;
}

/**
 * The `rdd result` command: its argument, options, help and action.
 * @example createProgram().addCommand(resultCommand())
 */
export function resultCommand() {
  return new Command('result')
    .summary('print a recorded result (or why there is none)')
    .description(
      'Prints the result recorded at s3://<S3_RESULT_BUCKET>/results/<workflowId>.json. For a ' +
        'detection that scored the pair but could not record the result (ResultNotRecorded), prints ' +
        'the score, verdict and why (--json: the document with its "failure").',
    )
    .argument('<workflowId>', 'the detection, as `rdd detect` printed it')
    .option('--json', 'print the result document as JSON')
    .option('--bucket <bucket>', 'read the result from this bucket (default S3_RESULT_BUCKET)', once())
    .option('--key <key>', 'read the result at this key (default results/<workflowId>.json)', once())
    .addHelpText(
      'after',
      '\nExit codes: 0 printed, 1 the detection failed, 2 bad arguments, 3 still running, 4 no such\n' +
        'detection, 5 Temporal could not be reached (nothing recorded yet, and Temporal cannot say why).',
    )
    .action(async (workflowId, options) => {
      const { result } = await import('./result-action.ts');
      await result(workflowId, options);
    });
}

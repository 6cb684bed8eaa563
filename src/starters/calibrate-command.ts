/**
 * `rdd calibrate <report.jsonl | report.csv | s3://…>`: recomputes the calibration metrics (EER,
 * minDCF/actDCF, Cllr/minCllr, Bayes threshold, thresholds at target FARs) and the report page of
 * any scored, labelled set. The action is calibrate-action.ts, loaded only when it runs.
 */
import { Command } from '@commander-js/extra-typings';
import { numberParser } from './option-values.ts';

/** The options of `rdd calibrate`, as parsed. */
export interface CalibrateOptions {
  json?: true;
  out?: string;
  threshold?: number;
  pSpoof?: number;
  cMiss?: number;
  cFa?: number;
  far?: number[];
}

const probability = numberParser({ above: 0 });
const cost = numberParser({ above: 0 });

/**
 * The `rdd calibrate` command.
 * @example createProgram().addCommand(calibrateCommand())
 */
export function calibrateCommand() {
  return new Command('calibrate')
    .summary('calibration metrics and plots of a scored, labelled set (report.jsonl, report.csv)')
    .description(
      'Reads a batch report (report.jsonl or report.csv, local or s3://) or any file with score and ' +
        'label columns, and prints EER (ROCCH and nearest point), minDCF and actDCF under the ASVspoof 5 ' +
        'cost model (P_spoof 0.05, C_miss 1, C_fa 10) and under --p-spoof/--c-miss/--c-fa, Cllr and ' +
        'minCllr, the Bayes threshold and the thresholds at target false acceptance rates. Convention: ' +
        'target = genuine pair, spoof = deepfake pair (a high LLR means deepfake).',
    )
    .argument('<scores>', 'report.jsonl / report.csv: a local file or s3://bucket/key')
    .option('--json', 'print metrics.json on stdout')
    .option('--out <dir>', 'also write metrics.json and report.html (with the DET curve) into this directory')
    .option(
      '--threshold <llr>',
      'the operating threshold to report at (default: the rows’ threshold)',
      numberParser(),
    )
    .option('--p-spoof <p>', 'your prior of a deepfake, in (0, 1)', probability)
    .option('--c-miss <cost>', 'your cost of calling a genuine pair deepfake', cost)
    .option('--c-fa <cost>', 'your cost of accepting a deepfake as genuine', cost)
    .option(
      '--far <rate>',
      'a target false acceptance rate, e.g. 0.01 (repeatable; default 0.01, 0.05, 0.1)',
      (raw: string, previous: number[] | undefined) => [...(previous ?? []), numberParser({ min: 0 })(raw)],
    )
    .action(async (scores, options) => {
      const { calibrate } = await import('./calibrate-action.ts');
      await calibrate(scores, options);
    });
}

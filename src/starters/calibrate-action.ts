/**
 * What `rdd calibrate` does (its definition is calibrate-command.ts): reads a scored, labelled set
 * from a file or S3, recomputes the metrics with src/reports' `calibrateReport`, prints them and,
 * with `--out`, writes metrics.json and report.html. Loaded only when the command runs.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadClientConfig } from '../config.ts';
import { calibrateReport, loadReportRows, ReportParseError } from '../reports/index.ts';
import { parseS3Url } from '../storage/media-upload.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { s3ErrorCode, s3Status } from '../storage/s3-errors.ts';
import { S3RequestError } from '../storage/s3-request-error.ts';
import type { CalibrateOptions } from './calibrate-command.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';

/**
 * Runs `rdd calibrate`.
 * @throws UsageError (2) for an unreadable local file, bad rows or incomplete costs; CliError 1
 *   when the set has no usable labelled scores of both classes (the reason printed), or no such
 *   S3 object; S3RequestError (exit 1) when S3 refuses or does not answer.
 */
export async function calibrate(source: string, options: CalibrateOptions): Promise<void> {
  const given = [options.pSpoof, options.cMiss, options.cFa].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) throw new UsageError('--p-spoof, --c-miss and --c-fa go together');
  if (options.pSpoof !== undefined && options.pSpoof >= 1) throw new UsageError('--p-spoof must be below 1');
  const text = await readSource(source);
  let rows;
  try {
    rows = loadReportRows(text, { source });
  } catch (err) {
    if (err instanceof ReportParseError) throw new UsageError(err.message);
    throw err;
  }
  let report;
  try {
    report = await calibrateReport(rows, {
      name: path.basename(source),
      ...(options.threshold !== undefined && { threshold: options.threshold }),
      ...(given === 3 && { costs: { pSpoof: options.pSpoof!, cMiss: options.cMiss!, cFa: options.cFa! } }),
      ...(options.far && { targetFar: options.far }),
    });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true });
    await writeFile(path.join(options.out, 'metrics.json'), `${JSON.stringify(report.metrics, null, 2)}\n`);
    await writeFile(path.join(options.out, 'report.html'), report.html);
  }
  if (options.json) console.log(JSON.stringify(report.metrics, null, 2));
  const { metrics } = report.metrics;
  if (!options.json) {
    const c = metrics.counts;
    console.log(
      `${source}: ${c.genuine} genuine and ${c.deepfake} deepfake scores (${c.excludedNull} null excluded)`,
    );
    console.log(report.metrics.conventionText);
  }
  if (metrics.figures === null)
    throw new CliError(ExitCode.Failed, `no metrics: ${metrics.reason ?? 'no usable scores'}`);
  if (options.json) return;
  const f = metrics.figures;
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const thr = (t: number | null) => (t === null ? '±∞' : t.toFixed(4));
  const lines = [
    `EER (ROCCH)            ${pct(f.eer.rocch)}`,
    `EER (nearest point)    ${pct(f.eer.nearest.eer)} at threshold ${thr(f.eer.nearest.threshold)}`,
    `Cllr / minCllr         ${f.cllr === null ? '∞' : f.cllr.toFixed(4)} / ${f.minCllr.toFixed(4)} bits`,
  ];
  for (const dcf of [f.dcf.asvspoof5, f.dcf.user]) {
    if (!dcf) continue;
    const name = dcf === f.dcf.asvspoof5 ? 'ASVspoof 5' : 'your costs';
    lines.push(
      `${name.padEnd(11)} P_spoof ${dcf.costs.pSpoof} C_miss ${dcf.costs.cMiss} C_fa ${dcf.costs.cFa}: ` +
        `minDCF ${dcf.minDcf.toFixed(4)} (at ${thr(dcf.minDcfAt.threshold)}), actDCF ${dcf.actDcf.toFixed(4)}, ` +
        `Bayes threshold ${dcf.bayesThreshold.toFixed(4)}`,
    );
  }
  lines.push(
    `at threshold ${thr(f.atThreshold.threshold)}: P_miss ${pct(f.atThreshold.pMiss)}, P_fa ${pct(f.atThreshold.pFa)}`,
  );
  for (const point of f.thresholdAtFar) {
    lines.push(
      `FAR ≤ ${pct(point.targetFar)}: threshold ${thr(point.threshold)} (P_miss ${pct(point.pMiss)}, P_fa ${pct(point.pFa)})`,
    );
  }
  if (options.out !== undefined)
    lines.push(`wrote ${path.join(options.out, 'metrics.json')} and report.html`);
  console.log(lines.join('\n'));
}

async function readSource(source: string): Promise<string> {
  const ref = parseS3Url(source);
  if (!ref) {
    try {
      return await readFile(source, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${source}: ${(err as Error).message}`);
    }
  }
  const storage = loadClientConfig(withStackEnv()).storage;
  const s3 = createS3Client(storage);
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return await answer.Body!.transformToString();
  } catch (err) {
    // S3 trouble is not a bad command line: exit 1 with one line, no usage hint.
    if (s3Status(err) === 404 && s3ErrorCode(err) !== 'NoSuchBucket')
      throw new CliError(ExitCode.Failed, `no object ${source}`);
    throw S3RequestError.from(err, {
      action: 'cannot read',
      bucket: ref.bucket,
      key: ref.key,
      endpoint: storage.endpoint,
      staticCredentials: storage.credentials !== undefined,
    });
  } finally {
    s3.destroy();
  }
}

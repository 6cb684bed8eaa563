/**
 * `rdd calibrate` as a child process on a local scored, labelled file: its --json output is the
 * metrics.json that src/reports computes for the same rows, --out writes both files, and bad input
 * is a usage error naming the line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateReport, loadReportRows } from '../../src/reports/index.ts';

const run = promisify(execFile);
const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');
let dir: string;
let file: string;
let text: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rdd-calibrate-'));
  file = path.join(dir, 'report.jsonl');
  // Overlapping classes with a tie, a null score and a failed row (both excluded).
  const rows = [
    ...[-2.5, -1.2, -0.3, 0.4, 0.4].map((score) => ({ score, label: 'genuine' })),
    ...[1.9, 0.4, 0.1, 2.2].map((score) => ({ score, label: 'deepfake' })),
    { score: null, label: 'genuine' },
    { score: null, label: 'deepfake', errorType: 'MediaNotFound', errorMessage: 'gone' },
  ];
  text = rows.map((r) => JSON.stringify(r)).join('\n');
  await writeFile(file, text);
});

describe('rdd calibrate', () => {
  it('prints the metrics.json of the rows (--json) and writes metrics.json and report.html (--out)', async () => {
    const out = path.join(dir, 'out');
    const { stdout } = await run(process.execPath, [
      RDD,
      'calibrate',
      file,
      '--json',
      '--out',
      out,
      '--p-spoof',
      '0.01',
      '--c-miss',
      '1',
      '--c-fa',
      '100',
    ]);
    const expected = await calibrateReport(loadReportRows(text), {
      name: 'report.jsonl',
      costs: { pSpoof: 0.01, cMiss: 1, cFa: 100 },
    });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected.metrics)));
    expect(JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8'))).toEqual(JSON.parse(stdout));
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
    expect(expected.metrics.rows).toMatchObject({ excludedFailed: 1, evaluated: 10 });
  });

  it('exits 2 naming the line of a bad row, and when only some costs are given', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(
      bad,
      `${JSON.stringify({ score: 1, label: 'genuine' })}\n${JSON.stringify({ score: 'high', label: 'x' })}\n`,
    );
    const failed = await run(process.execPath, [RDD, 'calibrate', bad]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/line 2/);
    const costs = await run(process.execPath, [RDD, 'calibrate', file, '--p-spoof', '0.1']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(costs).toMatchObject({ code: 2 });
    expect((costs as { stderr: string }).stderr).toContain('--p-spoof, --c-miss and --c-fa go together');
  });
});

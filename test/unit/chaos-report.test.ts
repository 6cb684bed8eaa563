/**
 * The chaos runner's report (dev/chaos/report.ts): a partial run (`--only`) writes its own results
 * file and its own RELIABILITY.md section, leaving the last full and quick runs' figures alone.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { lastRunMarkers, runKind, writeReport, type ChaosRecord } from '../../dev/chaos/report.ts';

function record(scenario: string, completed: number): ChaosRecord {
  return {
    scenario,
    description: `${scenario} described`,
    workDir: `/tmp/${scenario}`,
    violations: [],
    outcome: {
      started: completed,
      completed,
      failed: [],
      stuck: 0,
      duplicateResults: 0,
      duplicateSubmissions: 0,
      recoverySeconds: null,
      seconds: 1,
      notes: [],
    },
  };
}

function section(text: string, kind: 'full' | 'quick' | 'partial'): string | undefined {
  const { start, end } = lastRunMarkers(kind);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  return from >= 0 && to > from ? text.slice(from, to + end.length) : undefined;
}

describe('chaos report', () => {
  it('tells a partial run from a full and a quick one', () => {
    expect(runKind({ quick: false, only: undefined })).toBe('full');
    expect(runKind({ quick: true, only: undefined })).toBe('quick');
    expect(runKind({ quick: false, only: ['a'] })).toBe('partial');
    expect(runKind({ quick: true, only: ['a'] })).toBe('partial');
  });

  it('writes a partial run to its own file and section, leaving the full and quick ones alone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-chaos-report-'));
    const files = { reliability: path.join(dir, 'RELIABILITY.md'), resultsDir: path.join(dir, 'results') };
    // A copy of the real file: its markers and layout are what the runner rewrites.
    await writeFile(files.reliability, await readFile('RELIABILITY.md', 'utf8'));
    const began = Date.parse('2026-12-01T04:40:00Z');
    const base = { began, seed: 1, remaining: 0 };
    const full = await writeReport(
      {
        ...base,
        kind: 'full',
        quick: false,
        command: 'npm run chaos -- --seed 1',
        records: ['alpha', 'beta', 'gamma'].map((n) => record(n, 12)),
      },
      files,
    );
    const quick = await writeReport(
      {
        ...base,
        kind: 'quick',
        quick: true,
        command: 'npm run chaos -- --quick',
        records: [record('alpha', 6)],
      },
      files,
    );
    const afterFull = await readFile(files.reliability, 'utf8');
    const fullJson = await readFile(full, 'utf8');

    const partial = await writeReport(
      {
        ...base,
        kind: 'partial',
        quick: false,
        command: 'npm run chaos -- --only beta --seed 3',
        records: [record('beta', 7)],
      },
      files,
    );
    const afterPartial = await readFile(files.reliability, 'utf8');

    expect([full, quick, partial].map((f) => path.basename(f))).toEqual([
      '2026-12-01.json',
      '2026-12-01-quick.json',
      '2026-12-01-partial.json',
    ]);
    expect((await readdir(files.resultsDir)).sort()).toEqual([
      '2026-12-01-partial.json',
      '2026-12-01-quick.json',
      '2026-12-01.json',
    ]);
    expect(await readFile(full, 'utf8')).toBe(fullJson);
    expect(section(afterPartial, 'full')).toBe(section(afterFull, 'full'));
    expect(section(afterPartial, 'quick')).toBe(section(afterFull, 'quick'));
    expect(section(afterPartial, 'full')).toMatch(/\| gamma +\| +12 \|/);
    const partialSection = section(afterPartial, 'partial') ?? '';
    expect(partialSection).toContain('--only beta --seed 3');
    expect(partialSection).toMatch(/\| beta +\| +7 \|/);
    expect(partialSection).not.toContain('alpha');
    expect(JSON.parse(await readFile(partial, 'utf8'))).toMatchObject({
      kind: 'partial',
      records: [{ scenario: 'beta' }],
    });
    // Everything outside the three sections is untouched.
    const outside = (text: string): string =>
      (['full', 'quick', 'partial'] as const).reduce(
        (t, kind) => t.replace(section(t, kind) ?? '', ''),
        text,
      );
    expect(outside(afterPartial)).toBe(outside(afterFull));
  });

  it('adds the partial section when RELIABILITY.md has no markers for it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-chaos-report-'));
    const files = { reliability: path.join(dir, 'RELIABILITY.md'), resultsDir: path.join(dir, 'results') };
    await writeFile(files.reliability, '# Reliability\n\n## Last run\n\nNothing yet.\n');
    await writeReport(
      {
        began: Date.now(),
        kind: 'partial',
        quick: true,
        seed: 1,
        remaining: 1,
        command: 'npm run chaos -- --quick --only a,b',
        records: [record('a', 2)],
      },
      files,
    );
    const text = await readFile(files.reliability, 'utf8');
    expect(text).toContain('### Last partial run');
    expect(section(text, 'partial')).toContain('1 scenario(s) done, 1 not (yet) run');
    expect(text.match(/## Last run/g)).toHaveLength(1);
  });
});

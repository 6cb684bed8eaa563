/**
 * The chaos runner's report: the results file (dev/chaos/results/…json) and the run's "Last run"
 * section of RELIABILITY.md. A full run, a quick run and a partial run (`--only`) each have their own
 * file and section, so a partial run never replaces the figures of the last full or quick run.
 * Development tool: not shipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';

import type { ChaosOutcome } from './scenario.ts';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const REPO = path.resolve(HERE, '../..');

/** Where the report goes: RELIABILITY.md and the results folder (tests pass temporary copies). */
export interface ReportFiles {
  reliability: string;
  resultsDir: string;
}

/** The repository's RELIABILITY.md and dev/chaos/results. */
export const DEFAULT_REPORT_FILES: ReportFiles = {
  reliability: path.join(REPO, 'RELIABILITY.md'),
  resultsDir: path.join(HERE, 'results'),
};

/**
 * What a run covered: every scenario (`full`), the quick set (`quick`), or the scenarios named with
 * `--only` (`partial`, quick or not).
 */
export type RunKind = 'full' | 'quick' | 'partial';

/**
 * The kind of a run from its flags: `--only` makes it partial whatever `--quick` says.
 * Pure. @example runKind({ quick: true, only: ['a'] }) // 'partial'
 */
export function runKind(flags: { quick: boolean; only: string[] | undefined }): RunKind {
  if (flags.only !== undefined) return 'partial';
  return flags.quick ? 'quick' : 'full';
}

const SECTION: Record<RunKind, { marker: string; heading: string; suffix: string }> = {
  quick: { marker: 'last-quick-run', heading: '### Quick (`npm run chaos -- --quick`)', suffix: '-quick' },
  full: { marker: 'last-full-run', heading: '### Full (`npm run chaos`)', suffix: '' },
  partial: { marker: 'last-partial-run', heading: '### Last partial run (`--only`)', suffix: '-partial' },
};

/**
 * RELIABILITY.md's "Last run" section holds the last quick, full and partial run, each between its
 * markers (`<!-- chaos:last-quick-run:start -->` … `:end -->`); the runner rewrites the one of its kind.
 * Pure. @example lastRunMarkers('quick').start // '<!-- chaos:last-quick-run:start -->'
 */
export function lastRunMarkers(kind: RunKind): { start: string; end: string } {
  const name = SECTION[kind].marker;
  return { start: `<!-- chaos:${name}:start -->`, end: `<!-- chaos:${name}:end -->` };
}

/**
 * The results file of a run of `kind` started at `date` (ISO): `<date>.json` (full),
 * `<date>-quick.json`, `<date>-partial.json`. Pure.
 * @example resultsFileName('partial', '2026-12-01T05:00:00.000Z') // '2026-12-01-partial.json'
 */
export function resultsFileName(kind: RunKind, date: string): string {
  return `${date.slice(0, 10)}${SECTION[kind].suffix}.json`;
}

/** One scenario's record in the results file. */
export interface ChaosRecord {
  scenario: string;
  description: string;
  workDir: string;
  /** Absent when the scenario could not run at all (`error` then says why). */
  outcome?: ChaosOutcome;
  error?: string;
  violations: string[];
}

/**
 * Where the run happened, for the report: CPU model and count, memory, Node version, and the commit
 * (`git rev-parse --short HEAD`, `+ uncommitted changes` when the tree is dirty). Never throws.
 */
function environment(): { machine: string; commit: string } {
  const cpu = cpus();
  const machine =
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${process.platform} ${process.arch}, Node ${process.versions.node}`;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO, encoding: 'utf8' }).trim();
    if (dirty !== '') commit += ' + uncommitted changes';
  } catch {
    // not a git checkout
  }
  return { machine, commit };
}

/** Failure reasons grouped: "3× DetectorUnavailable: …". */
function reasons(outcome: ChaosOutcome): string {
  const counts = new Map<string, number>();
  for (const f of outcome.failed) counts.set(f.reason, (counts.get(f.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n}× ${reason}`).join('; ');
}

/** The Markdown table of the records, one row per scenario. Pure. */
export function table(records: ChaosRecord[]): string {
  const head =
    '| scenario | started | completed | failed (reasons) | stuck | dup. results | dup. submissions | recovery s | time s | verdict |';
  const rule = '|---|---:|---:|---|---:|---:|---:|---:|---:|---|';
  const rows = records.map((r) => {
    const o = r.outcome;
    const verdict = r.violations.length === 0 ? 'ok' : `**VIOLATED**: ${r.violations.join('; ')}`;
    if (!o) return `| ${r.scenario} | – | – | – | – | – | – | – | – | **ERROR**: ${r.error ?? ''} |`;
    const failed = o.failed.length === 0 ? '0' : `${o.failed.length} (${reasons(o)})`;
    return `| ${r.scenario} | ${o.started} | ${o.completed} | ${failed.replaceAll('|', '/')} | ${o.stuck} | ${o.duplicateResults} | ${o.duplicateSubmissions} | ${o.recoverySeconds ?? '–'} | ${o.seconds} | ${verdict.replaceAll('|', '/')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

/** The scenarios' notes as a Markdown list. Pure. */
export function notes(records: ChaosRecord[]): string {
  return records
    .filter((r) => (r.outcome?.notes.length ?? 0) > 0)
    .map((r) => `- **${r.scenario}**: ${(r.outcome?.notes ?? []).join('; ')}`)
    .join('\n');
}

/** A run as far as it got, for {@link writeReport}. */
export interface ReportedRun {
  records: ChaosRecord[];
  /** Epoch ms the run started. */
  began: number;
  kind: RunKind;
  quick: boolean;
  seed: number;
  /** The command line, for the report, e.g. `npm run chaos -- --only a,b --seed 3`. */
  command: string;
  /** Scenarios still to run; > 0 marks the run as still going (a run stopped then keeps what it measured). */
  remaining: number;
}

/**
 * Writes the results file of the run's kind and rewrites that kind's section of RELIABILITY.md
 * (creating the section when its markers are missing); the other kinds' files and sections are left
 * as they are. Idempotent for the same run. Returns the results file's path.
 * @throws when a file cannot be read or written.
 */
export async function writeReport(
  run: ReportedRun,
  files: ReportFiles = DEFAULT_REPORT_FILES,
): Promise<string> {
  const { records, quick, seed, remaining, kind } = run;
  const minutes = ((Date.now() - run.began) / 60_000).toFixed(1);
  const date = new Date(run.began).toISOString();
  const { machine, commit } = environment();
  const violated = records.filter((r) => r.violations.length > 0).length;
  await mkdir(files.resultsDir, { recursive: true });
  const file = path.join(files.resultsDir, resultsFileName(kind, date));
  await writeFormatted(
    file,
    JSON.stringify({
      date,
      kind,
      quick,
      seed,
      command: run.command,
      minutes: Number(minutes),
      machine,
      commit,
      ...(remaining > 0 && { inProgress: `${remaining} scenario(s) still to run` }),
      records,
    }),
  );
  const markers = lastRunMarkers(kind);
  const state =
    remaining > 0
      ? `**in progress or stopped: ${records.length} scenario(s) done, ${remaining} not (yet) run**, ` +
        `${violated === 0 ? 'every invariant held so far' : `**${violated} scenario(s) violated an invariant**`}`
      : violated === 0
        ? 'every invariant held'
        : `**${violated} scenario(s) violated an invariant**`;
  const shown = path.relative(path.dirname(files.reliability), file);
  await rewriteSection(
    files.reliability,
    kind,
    [
      markers.start,
      `Run started ${date.slice(0, 16).replace('T', ' ')} UTC, \`${run.command}\`, ${minutes} min, ${state}. ` +
        `Raw figures: \`${shown}\`. Machine: ${machine}. Commit: ${commit}.`,
      '',
      table(records),
      '',
      notes(records),
      markers.end,
    ].join('\n'),
  );
  return file;
}

/** Replaces the text between the kind's markers (appends the section, with its heading, when they are missing). */
async function rewriteSection(file: string, kind: RunKind, section: string): Promise<void> {
  const markers = lastRunMarkers(kind);
  let text = await readFile(file, 'utf8').catch(() => '# Reliability\n');
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  if (start >= 0 && end > start) {
    text = `${text.slice(0, start)}${section}${text.slice(end + markers.end.length)}`;
  } else {
    const lastRun = text.includes('\n## Last run\n') ? '' : '## Last run\n\n';
    text = `${text.trimEnd()}\n\n${lastRun}${SECTION[kind].heading}\n\n${section}\n`;
  }
  await writeFormatted(file, text);
}

/** Writes `text` as the project's Prettier config formats it, so `npm run check` stays clean. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const config = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(text, { ...config, filepath: file }));
}

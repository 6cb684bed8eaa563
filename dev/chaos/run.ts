/**
 * `npm run chaos`: runs the chaos scenarios (dev/chaos/scenarios/*.ts, each exporting
 * `scenarios: ChaosScenario[]`), one after another, each with a fresh work directory; prints a table,
 * judges the invariants (exit 1 on any violation), writes the raw outcomes to
 * dev/chaos/results/<date>[-quick].json and rewrites the "Last run" section of RELIABILITY.md.
 * Development tool: not shipped.
 *
 * @example bash scripts/run.sh node dev/chaos/run.ts --quick --only emulator-restart,soak-faulty-platform --seed 7
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';

import type { ChaosOutcome, ChaosScenario } from './scenario.ts';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const REPO = path.resolve(HERE, '../..');
const RELIABILITY = path.join(REPO, 'RELIABILITY.md');
/**
 * RELIABILITY.md's "Last run" section holds the last quick and the last full run, each between its
 * markers (`<!-- chaos:last-quick-run:start -->` … `:end -->`); the runner rewrites the one of its mode.
 * Pure. @example lastRunMarkers(true).start // '<!-- chaos:last-quick-run:start -->'
 */
export function lastRunMarkers(quick: boolean): { start: string; end: string } {
  const name = quick ? 'last-quick-run' : 'last-full-run';
  return { start: `<!-- chaos:${name}:start -->`, end: `<!-- chaos:${name}:end -->` };
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
 * The invariants every scenario must hold, plus its own `check`.
 * Pure. @example judge(scenario, outcome) // [] when it held
 */
export function judge(scenario: ChaosScenario, outcome: ChaosOutcome): string[] {
  const violations: string[] = [];
  if (outcome.stuck > 0) violations.push(`${outcome.stuck} workflow(s) stuck`);
  if (outcome.duplicateResults > 0) violations.push(`${outcome.duplicateResults} duplicate result object(s)`);
  if (outcome.completed + outcome.failed.length !== outcome.started)
    violations.push(
      `started ${outcome.started} ≠ completed ${outcome.completed} + failed ${outcome.failed.length} (+ stuck ${outcome.stuck})`,
    );
  return [...violations, ...(scenario.check?.(outcome) ?? [])];
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

/** Scenario files that failed to load: a broken file is reported, the others still run. */
const loadErrors: ChaosRecord[] = [];

async function loadScenarios(): Promise<ChaosScenario[]> {
  const dir = path.join(HERE, 'scenarios');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort();
  const all: ChaosScenario[] = [];
  // worker.ts first: its scenarios are the fastest and break the most common thing.
  files.sort((a, b) => (a === 'worker.ts' ? -1 : b === 'worker.ts' ? 1 : a.localeCompare(b)));
  for (const file of files) {
    try {
      const module = (await import(pathToFileURL(path.join(dir, file)).href)) as {
        scenarios?: ChaosScenario[];
      };
      all.push(...(module.scenarios ?? []));
    } catch (err) {
      const error = `cannot load scenarios/${file}: ${err instanceof Error ? err.message : String(err)}`;
      loadErrors.push({ scenario: file, description: '', workDir: '', error, violations: [error] });
    }
  }
  return all;
}

/** Failure reasons grouped: "3× DetectorUnavailable: …". */
function reasons(outcome: ChaosOutcome): string {
  const counts = new Map<string, number>();
  for (const f of outcome.failed) counts.set(f.reason, (counts.get(f.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n}× ${reason}`).join('; ');
}

function table(records: ChaosRecord[]): string {
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

function notes(records: ChaosRecord[]): string {
  return records
    .filter((r) => (r.outcome?.notes.length ?? 0) > 0)
    .map((r) => `- **${r.scenario}**: ${(r.outcome?.notes ?? []).join('; ')}`)
    .join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'no-report': { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const quick = values.quick ?? false;
  const all = await loadScenarios();
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = (only ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`,
    );
  const chosen = all.filter((s) => (only ? only.includes(s.name) : !quick || s.quick));
  const began = Date.now();
  const records: ChaosRecord[] = [...loadErrors];
  const report = !values['no-report'];
  const command = [
    'npm run chaos --',
    quick ? '--quick' : '',
    only ? `--only ${only.join(',')}` : '',
    `--seed ${seed}`,
  ]
    .filter(Boolean)
    .join(' ');
  for (const scenario of chosen) {
    const workDir = await mkdtemp(path.join(tmpdir(), `rdd-chaos-${scenario.name}-`));
    const log = (line: string): void => {
      process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
    };
    log(`== ${scenario.name} (work dir ${workDir})`);
    const record: ChaosRecord = {
      scenario: scenario.name,
      description: scenario.description,
      workDir,
      violations: [],
    };
    try {
      record.outcome = await scenario.run({ quick, workDir, seed, log });
      record.violations = judge(scenario, record.outcome);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      record.violations = [`could not run: ${record.error}`];
    }
    log(`== ${scenario.name}: ${record.violations.length === 0 ? 'ok' : record.violations.join('; ')}`);
    records.push(record);
    // After every scenario, so a run stopped part-way still leaves the figures it measured.
    if (report && records.length < chosen.length + loadErrors.length)
      await writeReport({
        records,
        began,
        quick,
        seed,
        command,
        remaining: chosen.length - records.length + loadErrors.length,
      });
  }
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  const summary = table(records);
  console.log(summary);
  console.log(notes(records));
  const violated = records.filter((r) => r.violations.length > 0).length;
  console.log(
    `\n${records.length} scenario(s), ${violated} violated, ${minutes} min, seed ${seed}${quick ? ', quick' : ''}`,
  );
  if (report && records.length > 0) {
    const file = await writeReport({ records, began, quick, seed, command, remaining: 0 });
    console.log(`wrote ${path.relative(REPO, file)} and the "Last run" section of RELIABILITY.md`);
  }
  return violated > 0 ? 1 : 0;
}

/**
 * Writes the results file and the run's "Last run" section of RELIABILITY.md from the records so
 * far; `remaining` > 0 marks the run as still going (a run stopped then keeps what it measured).
 * Returns the results file's path.
 */
async function writeReport(run: {
  records: ChaosRecord[];
  began: number;
  quick: boolean;
  seed: number;
  command: string;
  remaining: number;
}): Promise<string> {
  const { records, quick, seed, remaining } = run;
  const minutes = ((Date.now() - run.began) / 60_000).toFixed(1);
  const date = new Date(run.began).toISOString();
  const { machine, commit } = environment();
  const violated = records.filter((r) => r.violations.length > 0).length;
  const resultsDir = path.join(HERE, 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${date.slice(0, 10)}${quick ? '-quick' : ''}.json`);
  await writeFormatted(
    file,
    JSON.stringify({
      date,
      quick,
      seed,
      minutes: Number(minutes),
      machine,
      commit,
      ...(remaining > 0 && { inProgress: `${remaining} scenario(s) still to run` }),
      records,
    }),
  );
  const markers = lastRunMarkers(quick);
  const state =
    remaining > 0
      ? `**in progress or stopped: ${records.length} scenario(s) done, ${remaining} not (yet) run**, ` +
        `${violated === 0 ? 'every invariant held so far' : `**${violated} scenario(s) violated an invariant**`}`
      : violated === 0
        ? 'every invariant held'
        : `**${violated} scenario(s) violated an invariant**`;
  await rewriteLastRun(
    markers,
    [
      markers.start,
      `Run started ${date.slice(0, 16).replace('T', ' ')} UTC, \`${run.command}\`, ${minutes} min, ${state}. ` +
        `Raw figures: \`${path.relative(REPO, file)}\`. Machine: ${machine}. Commit: ${commit}.`,
      '',
      table(records),
      '',
      notes(records),
      markers.end,
    ].join('\n'),
  );
  return file;
}

/** Replaces the text between the markers in RELIABILITY.md (appends the section when they are missing). */
async function rewriteLastRun(markers: { start: string; end: string }, section: string): Promise<void> {
  let text = await readFile(RELIABILITY, 'utf8').catch(() => '# Reliability\n');
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  text =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + markers.end.length)}`
      : `${text.trimEnd()}\n\n## Last run\n\n${section}\n`;
  await writeFormatted(RELIABILITY, text);
}

/** Writes `text` as the project's Prettier config formats it, so `npm run check` stays clean. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const config = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(text, { ...config, filepath: file }));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);

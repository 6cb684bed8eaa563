/**
 * `npm run chaos`: runs the chaos scenarios (dev/chaos/scenarios/*.ts, each exporting
 * `scenarios: ChaosScenario[]`), one after another, each with a fresh work directory; prints a table,
 * judges the invariants (exit 1 on any violation), writes the raw outcomes to
 * dev/chaos/results/<date>[-quick|-partial].json and rewrites the run's own "Last run" section of
 * RELIABILITY.md (full, quick, or partial for `--only`; see report.ts). SIGINT/SIGTERM stop everything
 * the run started (workers, versitygw, Temporal, emulator, proxies) and exit 130/143.
 * Development tool: not shipped.
 *
 * @example bash scripts/run.sh node dev/chaos/run.ts --quick --only emulator-restart,soak-faulty-platform --seed 7
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { stopEverything } from './interrupt.ts';
import { notes, runKind, table, writeReport, type ChaosRecord } from './report.ts';
import type { ChaosOutcome, ChaosScenario } from './scenario.ts';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const REPO = path.resolve(HERE, '../..');

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
  const kind = runKind({ quick, only });
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
    if (interrupted) break;
    try {
      record.outcome = await scenario.run({ quick, workDir, seed, log });
      record.violations = judge(scenario, record.outcome);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      record.violations = [`could not run: ${record.error}`];
    }
    if (interrupted) break; // the parts were stopped under it: its figures would mislead
    log(`== ${scenario.name}: ${record.violations.length === 0 ? 'ok' : record.violations.join('; ')}`);
    records.push(record);
    // After every scenario, so a run stopped part-way still leaves the figures it measured.
    if (report && records.length < chosen.length + loadErrors.length)
      await writeReport({
        records,
        began,
        kind,
        quick,
        seed,
        command,
        remaining: chosen.length - records.length + loadErrors.length,
      });
  }
  // Interrupted: the report written after the last finished scenario stays as it is ("stopped").
  if (interrupted) return 1;
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  const summary = table(records);
  console.log(summary);
  console.log(notes(records));
  const violated = records.filter((r) => r.violations.length > 0).length;
  console.log(
    `\n${records.length} scenario(s), ${violated} violated, ${minutes} min, seed ${seed}${quick ? ', quick' : ''}`,
  );
  if (report && records.length > 0) {
    const file = await writeReport({ records, began, kind, quick, seed, command, remaining: 0 });
    console.log(`wrote ${path.relative(REPO, file)} and the ${kind} "Last run" section of RELIABILITY.md`);
  }
  return violated > 0 ? 1 : 0;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (interrupted) return; // already stopping; a second signal does not cut the clean-up short
    interrupted = true;
    process.stderr.write(`chaos: ${signal}: stopping everything this run started…\n`);
    void stopEverything().then(
      (left) => {
        if (left > 0) process.stderr.write(`chaos: ${left} process group(s) needed SIGKILL\n`);
        process.exit(code);
      },
      () => process.exit(code),
    );
  });

main().then(
  (code) => {
    if (!interrupted) process.exit(code); // else the signal handler exits once everything stopped
  },
  (err: unknown) => {
    if (interrupted) return;
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);

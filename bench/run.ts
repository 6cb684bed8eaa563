/**
 * `npm run bench`: starts what it needs (a Temporal dev server and versitygw through the stack
 * launcher, a hashing sink in this process; each section starts its own emulator/worker), runs the
 * sections one after another, each in a child process of its own, and stops everything. By default
 * the cases of issue 11 (throughput, latency, overhead + scale-out, cost, streaming, polling), printed as
 * one table, raw results written to bench/results/<date>T<HHMM>[-quick][-<only>].json (UTC; one file per
 * run, never overwritten). The older sections (upload,
 * submit, probe, workflow, batch) run with `--only` and print their own tables. Progress goes to
 * stderr, tables to stdout.
 *
 *   node bench/run.ts [--only throughput,latency,…,upload,submit,probe,workflow,batch] [--quick]
 *
 * Numbers only: nothing here asserts a time or a size. See bench/README.md for what they mean.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type RunningStack } from '../dev/stack/index.ts';
import { AudioFormat } from './audio.ts';
import type { ProbeResult } from './probe.ts';
import { runSection, type SectionName, type Sections } from './section.ts';
import { startSink, type RunningSink } from './sink.ts';
import type { SubmitResult } from './submit.ts';
import { fixed, formatTable, signed } from './table.ts';
import type { TransferStats } from './transfer.ts';
import type { UploadResult } from './upload.ts';
import type { WorkflowResult } from './workflow.ts';
import type { BatchBenchResult } from './batch.ts';
import { findTool } from '../dev/stack/tools.ts';
import { CASES, caseInputs, caseRows, GOALS, type CaseName, type CaseResults } from './report.ts';

/** The sections that print their own tables (run them with `--only`). */
type LegacyName = Exclude<SectionName, CaseName>;
const LEGACY: readonly LegacyName[] = ['upload', 'submit', 'probe', 'workflow', 'batch'];
const ALL: readonly SectionName[] = [...CASES, ...LEGACY];
const KIB = 1024;
const MIB = 1024 * 1024;

/** What each section is given; `--quick` shrinks every size for a fast smoke run. */
function plan(
  quick: boolean,
  sinkUrl: string,
  batchLines?: number,
): { [N in LegacyName]: Sections[N]['input'] } {
  return {
    upload: {
      sinkUrl,
      // The 1 GiB files show where the plateau is; one run of them moves 2 GiB.
      cases: quick
        ? [16, 64].map((fileMib) => ({ fileMib, runs: 1 }))
        : [16, 64, 256].map((fileMib) => ({ fileMib, runs: 3 })).concat({ fileMib: 1024, runs: 1 }),
      // Same size as a streamed case, for a side-by-side; its memory does not vary run to run.
      bufferedControl: { fileMib: quick ? 16 : 256, runs: 1 },
    },
    submit: { sinkUrl, sizesMib: quick ? [20] : [50, 200], repeats: quick ? 1 : 3 },
    probe: {
      formats: [AudioFormat.Wav, AudioFormat.Mp3, AudioFormat.Flac],
      minutes: quick ? [1, 10] : [1, 10, 60],
      repeats: 5,
    },
    workflow: { detections: quick ? 10 : 50, sequential: quick ? 2 : 5, capacity: 8, processingMs: 200 },
    // Few distinct objects (8 × 25 = 200 distinct pairs), the rest of the lines repeat them.
    batch: {
      lines: batchLines ?? (quick ? 5_000 : 100_000),
      references: 8,
      questioned: 25,
      capacity: 32,
      processingMs: 10,
      concurrency: 64,
      continueAsNewEvery: 500,
    },
  };
}

/** Per-section budget; a section that overruns is killed and reported as failed. */
const TIMEOUT_MS: Record<SectionName, number> = {
  upload: 90_000,
  submit: 90_000,
  probe: 120_000,
  workflow: 150_000,
  batch: 4 * 60 * 60_000,
  throughput: 20 * 60_000,
  latency: 25 * 60_000,
  overhead: 15 * 60_000,
  cost: 10 * 60_000,
  streaming: 15 * 60_000,
  polling: 10 * 60_000,
};

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'batch-lines': { type: 'string' },
    },
  });
  const wanted = values.only ? values.only.split(',').map((s) => s.trim()) : [...ALL];
  const unknown = wanted.filter((name) => !ALL.includes(name as SectionName));
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
    return 2;
  }
  const sections = values.only ? ALL.filter((name) => wanted.includes(name)) : [...CASES];
  const began = performance.now();
  // Other work on the box skews every number here; the summary says how busy it was.
  const load = loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
  progress(`load average ${load} on ${availableParallelism()} CPUs`);

  let stack: RunningStack | undefined;
  let sink: RunningSink | undefined;
  let dir: string | undefined;
  const cleanup = async (): Promise<void> => {
    await sink?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping = true;
    progress(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const outcomes: { name: SectionName; summary: string | undefined; error?: string }[] = [];
  const results: CaseResults = {};
  const errors: Partial<Record<CaseName, string>> = {};
  try {
    sink = await startSink();
    let env = ownEnv(process.env);
    if (sections.some((name) => name !== 'upload')) {
      dir = mkdtempSync(path.join(tmpdir(), 'rdd-bench-stack-'));
      const starting = performance.now();
      stack = await startStack({
        dir,
        worker: false,
        emulator: false,
        persist: false,
        temporalUi: false,
        bucket: 'rdd-bench',
        api: false,
        ports: { temporal: 0, s3: 0 },
      });
      env = { ...env, ...stack.env };
      progress(
        `stack up in ${seconds(starting)} s: temporal ${stack.env.TEMPORAL_ADDRESS}, s3 ${stack.env.S3_ENDPOINT}`,
      );
    }
    const batchLines = values['batch-lines'] === undefined ? undefined : Number(values['batch-lines']);
    const inputs = plan(values.quick, sink.url, batchLines);

    const pids = {
      ...(stack?.services.find((s) => s.name === 'temporal') && {
        temporal: stack.services.find((s) => s.name === 'temporal')!.pid,
      }),
      ...(stack?.services.find((s) => s.name === 's3') && {
        s3: stack.services.find((s) => s.name === 's3')!.pid,
      }),
    };
    const cases = caseInputs(values.quick, sink.url, pids);
    for (const name of sections) {
      if (stopping) break;
      const starting = performance.now();
      progress(`${name} …`);
      if ((CASES as readonly string[]).includes(name)) {
        const key = name as CaseName;
        try {
          const result = await runSection(key, cases[key] as never, { env, timeoutMs: TIMEOUT_MS[key] });
          Object.assign(results, { [key]: result });
          outcomes.push({ name, summary: `${name} ok` });
          progress(`${name} done in ${seconds(starting)} s`);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          errors[key] = error;
          outcomes.push({ name, summary: undefined, error });
          progress(`${name} FAILED: ${error}`);
        }
        continue;
      }
      try {
        const summary = await runOne(name as LegacyName, inputs, env);
        outcomes.push({ name, summary });
        progress(`${name} done in ${seconds(starting)} s`);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        outcomes.push({ name, summary: undefined, error });
        console.log(`\n${title(name as LegacyName)}\nFAILED: ${error}`);
      }
    }
  } finally {
    await cleanup();
  }

  if (sections.some((name) => (CASES as readonly string[]).includes(name))) {
    const rows = caseRows(results, errors);
    console.log(
      `\n${formatTable(
        `rdd-orchestrator vs the vendor's pattern, same emulator, same run${values.quick ? ' (--quick: shrunk sizes)' : ''}`,
        ['case', 'measure', 'rdd', 'baseline', 'goal', 'met?'],
        rows,
        6,
      )}`,
    );
    const file = writeResults({ quick: values.quick, only: values.only, load, results, errors, rows });
    console.log(`\nraw results: ${file}`);
  }
  const parts = outcomes.map((o) => (o.error ? `${o.name} FAILED` : o.summary));
  console.log(`\nsummary: ${parts.join('; ')}; total ${seconds(began)} s, load average at start ${load}`);
  return outcomes.some((o) => o.error) ? 1 : 0;
}

/**
 * Machine, versions and the results, as JSON in bench/results/<date>T<HHMM>[-quick][-<only>].json
 * (UTC start minute of the write; `-2`, `-3`… when that name exists); returns the path.
 */
function writeResults(run: {
  quick: boolean;
  only: string | undefined;
  load: string;
  results: CaseResults;
  errors: Partial<Record<CaseName, string>>;
  rows: string[][];
}): string {
  const stamp = new Date().toISOString().slice(0, 16).replace(':', '');
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const only = run.only ? `-${run.only.replace(/[^a-z0-9]+/gi, '+')}` : '';
  const base = `${stamp}${run.quick ? '-quick' : ''}${only}`;
  let file = path.join(dir, `${base}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(dir, `${base}-${n}.json`);
  const pkg = (name: string): string => {
    try {
      const json = readFileSync(
        path.join(import.meta.dirname, '..', 'node_modules', name, 'package.json'),
        'utf8',
      );
      return (JSON.parse(json) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const toolVersion = (tool: string, args: string[]): string => {
    try {
      return execFileSync(findTool(tool), args, { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => line.trim())
        .join('; ');
    } catch {
      return 'unknown';
    }
  };
  const document = {
    date: new Date().toISOString(),
    quick: run.quick,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      loadAverageAtStart: run.load,
    },
    versions: {
      node: process.version,
      '@temporalio/worker': pkg('@temporalio/worker'),
      temporal: toolVersion('temporal', ['--version']),
      versitygw: toolVersion('versitygw', ['--version']),
      python: (() => {
        try {
          return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
        } catch {
          return 'unknown';
        }
      })(),
    },
    goals: GOALS,
    table: run.rows,
    results: run.results,
    errors: run.errors,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

/** Runs one section, prints its table, returns its part of the summary line. */
async function runOne(
  name: LegacyName,
  inputs: { [N in LegacyName]: Sections[N]['input'] },
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const options = { env, timeoutMs: TIMEOUT_MS[name] };
  switch (name) {
    case 'upload':
      return printUpload(await runSection('upload', inputs.upload, options));
    case 'submit':
      return printSubmit(await runSection('submit', inputs.submit, options));
    case 'probe':
      return printProbe(await runSection('probe', inputs.probe, options));
    case 'workflow':
      return printWorkflow(await runSection('workflow', inputs.workflow, options));
    case 'batch':
      return printBatch(await runSection('batch', inputs.batch, options));
  }
}

function title(name: LegacyName): string {
  return {
    upload: '1. Upload streaming: detector client → hashing sink (sending process)',
    submit: '2. S3 → platform: submitDetectionJob under MockActivityEnvironment, versitygw → hashing sink',
    probe: '3. Media probe: inspectMedia on objects in versitygw',
    workflow: '4. Workflow throughput: Temporal dev server + versitygw + emulator + in-process worker',
    batch: '5. Batch: one large manifest, continue-as-new runs and worker RSS over time',
  }[name];
}

/** Columns shared by the two transfer tables, after the case label. */
const TRANSFER_HEADER = [
  'runs',
  'MiB moved',
  's',
  'MiB/s',
  'CPU s',
  'RSS base MiB',
  'RSS peak MiB',
  'RSS Δ MiB',
  'arrayBuffers Δ MiB',
  'heap Δ MiB',
  'RSS Δ/payload',
  'live Δ MiB',
  'bytes ok',
];

function transferCells(r: TransferStats): string[] {
  const m = r.memory;
  return [
    String(r.runs),
    fixed(r.bytes / MIB),
    fixed(r.seconds, 2),
    fixed(r.mibPerSecond, 0),
    fixed(r.cpuSeconds, 2),
    fixed(m.baseRssMib),
    fixed(m.peakRssMib),
    signed(m.rssGrowthMib),
    signed(m.arrayBuffersGrowthMib),
    signed(m.heapGrowthMib),
    fixed(m.rssGrowthMib / (r.bytes / MIB), 2),
    signed(r.live.p50Mib),
    r.verified ? 'yes' : 'NO',
  ];
}

function printUpload(result: UploadResult): string {
  console.log(
    `\n${formatTable(
      title('upload'),
      ['case', ...TRANSFER_HEADER],
      result.rows.map((r) => [r.label, ...transferCells(r)]),
    )}`,
  );
  const streamed = result.rows.filter((r) => !r.buffered);
  const smallest = streamed[0];
  const largest = streamed.at(-1);
  const control = result.rows.find((r) => r.buffered);
  if (!smallest || !largest) return 'upload: no streamed case';
  const worst = Math.max(...streamed.map((r) => r.memory.rssGrowthMib));
  const live = Math.max(...streamed.map((r) => r.live.p50Mib));
  return (
    `upload 2×${largest.fileMib} MiB at ${fixed(largest.mibPerSecond, 0)} MiB/s, ` +
    `streamed ${smallest.fileMib}–${largest.fileMib} MiB files: RSS Δ ≤ ${signed(worst)} MiB, live Δ ≤ ${signed(live)} MiB` +
    (control
      ? ` (buffered 2×${control.fileMib} MiB: RSS Δ ${signed(control.memory.rssGrowthMib)} MiB, live Δ ${signed(control.live.p50Mib)} MiB)`
      : '')
  );
}

function printSubmit(result: SubmitResult): string {
  console.log(
    `\n${formatTable(
      title('submit'),
      ['case', ...TRANSFER_HEADER],
      result.rows.map((r) => [r.label, ...transferCells(r)]),
    )}`,
  );
  const submits = result.rows.filter((r) => !r.drainOnly);
  const largest = submits.at(-1);
  if (!largest) return 'S3→sink: no case';
  const worst = Math.max(...submits.map((r) => r.memory.rssGrowthMib));
  const live = Math.max(...submits.map((r) => r.live.p50Mib));
  return `S3→sink 2×${largest.objectMib} MiB at ${fixed(largest.mibPerSecond, 0)} MiB/s, RSS Δ ≤ ${signed(worst)} MiB, live Δ ≤ ${signed(live)} MiB`;
}

function printProbe(result: ProbeResult): string {
  console.log(
    `\n${formatTable(
      title('probe'),
      [
        'format',
        'audio min',
        'object MiB',
        'parsed s',
        'requests',
        'KiB read',
        '% of object',
        'p50 ms',
        'max ms',
      ],
      result.rows.map((r) => [
        `${r.format} (${r.container})`,
        r.minutes,
        fixed(r.objectBytes / MIB),
        fixed(r.durationSeconds, 1),
        r.requests,
        fixed(r.bytesDownloaded / KIB, 0),
        fixed((100 * r.bytesDownloaded) / r.objectBytes, 2),
        fixed(r.medianMs, 1),
        fixed(r.maxMs, 1),
      ]),
    )}` +
      (result.generateSeconds > 1
        ? `\n(made uncached audio files in ${fixed(result.generateSeconds)} s)`
        : ''),
  );
  const maxKib = Math.max(...result.rows.map((r) => r.bytesDownloaded / KIB));
  const maxMs = Math.max(...result.rows.map((r) => r.medianMs));
  const longest = Math.max(...result.rows.map((r) => r.minutes));
  return `probe ≤ ${fixed(maxKib, 0)} KiB and p50 ≤ ${fixed(maxMs, 0)} ms per object up to ${longest} min`;
}

function printWorkflow(result: WorkflowResult): string {
  console.log(
    `\n${formatTable(
      title('workflow'),
      [
        'run',
        'wall s',
        'detections/s',
        'p50 ms',
        'p95 ms',
        'max ms',
        'checks/det',
        'RSS base MiB',
        'RSS peak MiB',
        'RSS Δ MiB',
      ],
      result.rows.map((r) => [
        r.label,
        fixed(r.wallSeconds, 2),
        fixed(r.perSecond, 2),
        fixed(r.p50Ms, 0),
        fixed(r.p95Ms, 0),
        fixed(r.maxMs, 0),
        fixed(r.meanChecks, 1),
        fixed(r.memory.baseRssMib),
        fixed(r.memory.peakRssMib),
        signed(r.memory.rssGrowthMib),
      ]),
    )}\n(workflow bundle built in ${fixed(result.bundleSeconds)} s before measuring; RSS is worker + emulator + client in one process)`,
  );
  const burst = result.rows.at(-1);
  return burst
    ? `${burst.detections} detections at ${fixed(burst.perSecond, 1)}/s, p95 ${fixed(burst.p95Ms, 0)} ms, peak RSS ${fixed(burst.memory.peakRssMib, 0)} MiB`
    : 'workflow: no runs';
}

/** Settings the app reads from the environment; the caller's must not point the bench elsewhere. */
const APP_ENV = /^(TEMPORAL_|S3_|AWS_|DETECTOR_|WORKER_|TASK_QUEUE$)/;

/** The caller's environment without the app's settings (PATH, HOME, TMPDIR … stay). */
function ownEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !APP_ENV.test(name)));
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

process.exitCode = await main();

function printBatch(result: BatchBenchResult): string {
  const runs = result.runs;
  console.log(
    `\n${formatTable(
      `${title('batch')}: ${result.lines} lines, ${result.distinctPairs} distinct pairs — per workflow run`,
      ['run', 'events', 'history KiB'],
      runs.map((r) => [String(r.run), String(r.events), fixed(r.historyKib)]),
    )}`,
  );
  // RSS: about ten samples spread over the batch.
  const step = Math.max(1, Math.floor(result.rss.length / 10));
  const samples = result.rss.filter((_, i) => i % step === 0 || i === result.rss.length - 1);
  console.log(
    `\n${formatTable(
      'worker process RSS over the batch (worker + emulator + client)',
      ['s', 'rows done', 'RSS MiB', 'heap MiB'],
      samples.map((s) => [fixed(s.seconds, 0), String(s.done), fixed(s.rssMib), fixed(s.heapMib)]),
    )}`,
  );
  const events = runs.map((r) => r.events);
  const half = Math.floor(result.rss.length / 2);
  const peak = (xs: typeof result.rss) => Math.max(...xs.map((s) => s.rssMib));
  const c = result.summary.counts;
  console.log(
    `\n${c.total} rows: ${c.scored} scored, ${c.duplicates} duplicates, ${c.failed} failed; ` +
      `${result.summary.runs} runs; reports ${result.summary.location}; ` +
      `manifest lines without exactly one row: ${result.linesNotOnce}`,
  );
  for (const [failure, n] of Object.entries(result.failures)) console.log(`  ${n} × ${failure}`);
  return (
    `batch ${result.lines} lines in ${fixed(result.wallSeconds, 0)} s (${fixed(result.linesPerSecond, 0)}/s), ` +
    `${runs.length} runs, events per run ${Math.min(...events)}–${Math.max(...events)}, ` +
    `RSS peak first half ${fixed(peak(result.rss.slice(0, half + 1)))} MiB, second half ${fixed(peak(result.rss.slice(half)))} MiB`
  );
}

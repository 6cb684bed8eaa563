/**
 * The issue-11 cases as the bench runs them: their inputs (full and `--quick`), the goals, and the
 * rows of the one summary table (rdd vs the vendor baseline, goal, met?).
 */
import type {
  CostResult,
  LatencyInput,
  LatencyResult,
  OverheadResult,
  StackPids,
  ThroughputResult,
} from './cases.ts';
import type { PollingResult } from './polling.ts';
import type { Sections } from './section.ts';
import type { SubmitResult } from './submit.ts';
import { fixed, signed } from './table.ts';

/** The cases, in the order they run. */
export const CASES = ['throughput', 'latency', 'overhead', 'cost', 'streaming', 'polling'] as const;
export type CaseName = (typeof CASES)[number];

/** What each case returned (absent when it failed or did not run). */
export interface CaseResults {
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  overhead?: OverheadResult;
  cost?: CostResult;
  streaming?: SubmitResult;
  polling?: PollingResult;
}

/** The issue's goals on this machine, as printed and written to the JSON. */
export const GOALS = {
  utilisation: 0.95,
  latencyP50Seconds: 0.3,
  latencyP99Seconds: 1.5,
  checksPerJob: 4,
  detectionsPerSecond: 30,
  eventsPerDetection: 25,
  /** Flat memory: worker RSS growth at most this share of the bytes moved. */
  rssGrowthPerPayload: 0.15,
  scaleOut: 1.8,
} as const;

/**
 * The processing model the workflow assumed before issue 11 (its fixed first-check formula,
 * `firstCheckBase` 2 s + `firstCheckPerAudioSecond` 0.1 s per audio second of both files); the
 * "3× slower/faster" rows scale it.
 */
export const ASSUMED_MODEL = { baseMs: 2000, perAudioSecondMs: 100 } as const;

const LATENCY_GOAL_ROWS = new Set(['10 s jobs', '3× slower than assumed', '3× faster than assumed']);

function scaled(factor: number): { baseMs: number; perAudioSecondMs: number } {
  return {
    baseMs: Math.round(ASSUMED_MODEL.baseMs * factor),
    perAudioSecondMs: Math.round(ASSUMED_MODEL.perAudioSecondMs * factor * 10) / 10,
  };
}

/** Inputs of every case; `quick` shrinks them to about two minutes in all. */
export function caseInputs(
  quick: boolean,
  sinkUrl: string,
  stack: StackPids,
): { [N in CaseName]: Sections[N]['input'] } {
  const latencyRows: LatencyInput['rows'] = quick
    ? [
        { label: '1 s jobs', processing: { fixedMs: 1000 }, detections: 8, intervalMs: 250, baselineMin: 1 },
        {
          label: '10 s jobs',
          processing: { fixedMs: 10_000 },
          detections: 8,
          intervalMs: 250,
          baselineMin: 1,
        },
        {
          label: '3× faster than assumed',
          processing: scaled(1 / 3),
          detections: 6,
          intervalMs: 250,
          baselineMin: 1,
        },
        {
          label: '3× slower than assumed',
          processing: scaled(3),
          detections: 6,
          intervalMs: 250,
          baselineMin: 1,
        },
      ]
    : [
        {
          label: '1 s jobs',
          processing: { fixedMs: 1000 },
          detections: 120,
          intervalMs: 250,
          baselineMin: 2,
        },
        {
          label: '10 s jobs',
          processing: { fixedMs: 10_000 },
          detections: 120,
          intervalMs: 250,
          baselineMin: 2,
        },
        {
          label: '120 s jobs',
          processing: { fixedMs: 120_000 },
          detections: 100,
          intervalMs: 500,
          baselineMin: 1,
        },
        {
          label: '3× faster than assumed',
          processing: scaled(1 / 3),
          detections: 120,
          intervalMs: 250,
          baselineMin: 2,
        },
        {
          label: '3× slower than assumed',
          processing: scaled(3),
          detections: 120,
          intervalMs: 250,
          baselineMin: 1,
        },
      ];
  return {
    throughput: { pairs: quick ? 32 : 500, capacity: 8, jobMs: 1000, baselinePairs: quick ? 1 : 10 },
    latency: { rows: latencyRows, fileSeconds: quick ? [5, 10] : [20, 40, 60], capacity: 1000 },
    overhead: { detections: quick ? 30 : 400, workers: [1, 2], capacity: 1000, stack },
    cost: {
      detections: quick ? 3 : 20,
      batchLines: quick ? 10 : 100,
      baselinePairs: quick ? 1 : 3,
      capacity: 8,
      jobMs: 1000,
    },
    streaming: { sinkUrl, sizesMib: quick ? [16, 64] : [16, 1024], repeats: 1 },
    polling: {
      rows: quick
        ? [
            { label: '1 s jobs', jobMs: 1000, jobs: 8, intervalMs: 250 },
            { label: '5 s jobs', jobMs: 5000, jobs: 8, intervalMs: 250 },
          ]
        : [
            { label: '1 s jobs', jobMs: 1000, jobs: 40, intervalMs: 250 },
            { label: '10 s jobs', jobMs: 10_000, jobs: 40, intervalMs: 250 },
            { label: '60 s jobs', jobMs: 60_000, jobs: 20, intervalMs: 500 },
          ],
      stack,
    },
  };
}

/** The summary table's rows: case, measure, rdd, baseline, goal, met?. */
export function caseRows(results: CaseResults, errors: Partial<Record<CaseName, string>>): string[][] {
  const rows: string[][] = [];
  const failed = (name: CaseName, label: string): void => {
    if (errors[name]) rows.push([label, 'FAILED', errors[name].split('\n')[0]!.slice(0, 60), '', '', '']);
  };

  const t = results.throughput;
  failed('throughput', '1 throughput');
  if (t) {
    rows.push([
      '1 throughput',
      `wall / ideal (${t.pairs} pairs, capacity ${t.capacity}, ${t.jobSeconds} s jobs, ideal ${fixed(t.idealSeconds)} s)`,
      `${fixed(t.rdd.wallOverIdeal, 2)} (${fixed(t.rdd.wallSeconds)} s)`,
      `${fixed(t.baseline.wallOverIdeal, 1)} (${fixed(t.baseline.secondsPerPair, 2)} s/pair, ${t.baseline.pairs} pairs)`,
      '',
      '',
    ]);
    rows.push([
      '',
      'platform utilisation, first accept → last finish',
      pct(t.rdd.utilisation),
      pct(t.baseline.utilisation),
      `≥ ${pct(GOALS.utilisation, 0)}`,
      met(t.rdd.utilisation >= GOALS.utilisation),
    ]);
    rows.push([
      '',
      'platform utilisation over the whole wall time',
      pct(t.rdd.utilisationOverWall),
      '',
      '',
      '',
    ]);
    rows.push(['', 'most jobs on the platform at once', String(t.rdd.maxConcurrentJobs), '1', '', '']);
  }

  const l = results.latency;
  failed('latency', '2 latency');
  if (l) {
    for (const row of l.rows) {
      const goal = LATENCY_GOAL_ROWS.has(row.label);
      const r = row.rdd;
      const b = row.baseline;
      rows.push([
        `2 latency: ${row.label}`,
        `done → result in S3, p50 / p95 / p99 (max) s; mean job ${fixed(r.jobSecondsMean, 1)} s`,
        `${fixed(r.p50, 2)} / ${fixed(r.p95, 2)} / ${fixed(r.p99, 2)} (${fixed(r.max, 2)}), n=${r.jobs}`,
        `${fixed(b.p50, 2)} / ${fixed(b.p95, 2)} / ${fixed(b.p99, 2)} (${fixed(b.max, 2)}), n=${b.jobs}`,
        goal ? `p50 ≤ ${GOALS.latencyP50Seconds}, p99 ≤ ${GOALS.latencyP99Seconds}` : '',
        goal ? met(r.p50 <= GOALS.latencyP50Seconds && r.p99 <= GOALS.latencyP99Seconds) : '',
      ]);
      rows.push([
        '',
        'GET status requests per job, mean (max)',
        `${fixed(r.getsMean, 1)} (${r.getsMax})`,
        `${fixed(b.getsMean, 1)} (${b.getsMax})`,
        goal ? `≤ ${GOALS.checksPerJob}` : '',
        goal ? met(r.getsMax <= GOALS.checksPerJob) : '',
      ]);
    }
  }

  const o = results.overhead;
  failed('overhead', '3 overhead / 6 scale-out');
  if (o) {
    const one = o.runs.find((r) => r.workers === 1);
    const two = o.runs.find((r) => r.workers === 2);
    if (one) {
      rows.push([
        '3 overhead',
        `detections/s, 0 s jobs, ${one.detections} at once, 1 worker`,
        fixed(one.perSecond, 1),
        '',
        `≥ ${GOALS.detectionsPerSecond}`,
        met(one.perSecond >= GOALS.detectionsPerSecond),
      ]);
      rows.push(['', 'CPU s per process over the run (1 worker)', cpuText(one.cpu), '', '', '']);
      rows.push(['', `cores busy (of ${o.cores})`, fixed(one.coresBusy, 2), '', '', '']);
    }
    if (one && two) {
      const ratio = two.perSecond / one.perSecond;
      rows.push([
        '6 scale-out',
        'detections/s, 1 → 2 worker processes',
        `${fixed(one.perSecond, 1)} → ${fixed(two.perSecond, 1)} (${fixed(ratio, 2)}×)`,
        '',
        `≥ ${GOALS.scaleOut}× where the machine allows`,
        ratio >= GOALS.scaleOut
          ? 'yes'
          : `no (cores busy ${fixed(one.coresBusy, 2)} of ${o.cores} with 1 worker)`,
      ]);
      rows.push(['', 'CPU s per process over the run (2 workers)', cpuText(two.cpu), '', '', '']);
    }
  }

  const c = results.cost;
  failed('cost', '4 cost');
  if (c) {
    const d = c.detections;
    rows.push([
      '4 cost',
      `history events per happy-path detection, median (max), n=${d.n}`,
      `${d.eventsMedian} (${d.eventsMax})`,
      '',
      `≤ ${GOALS.eventsPerDetection}`,
      met(d.eventsMedian <= GOALS.eventsPerDetection),
    ]);
    rows.push([
      '',
      'history KiB per detection, median (max)',
      `${fixed(d.historyKibMedian)} (${fixed(d.historyKibMax)})`,
      '',
      '',
      '',
    ]);
    rows.push([
      '',
      'platform requests per detection (submit/poll/info/status)',
      `${fixed(d.requestsPerDetection, 1)} (${['submit', 'poll', 'info', 'status'].map((k) => fixed(d.requestsByKind[k], 1)).join('/')})`,
      fixed(c.baseline.requestsPerDetection, 1),
      '',
      '',
    ]);
    rows.push([
      '',
      `batch of ${c.batch.lines}: events / KiB per run; per child detection (median)`,
      `${c.batch.runs.map((r) => `${r.events} / ${fixed(r.historyKib)}`).join(', ')}; ${c.batch.childEventsMedian} / ${fixed(c.batch.childHistoryKibMedian)}`,
      '',
      '',
      '',
    ]);
    rows.push([
      '',
      'platform requests per batch detection',
      fixed(c.batch.requestsPerDetection, 1),
      '',
      '',
      '',
    ]);
  }

  const s = results.streaming;
  failed('streaming', '5 streaming');
  if (s) {
    const largest = s.rows.filter((r) => !r.drainOnly).at(-1);
    const drain = s.rows.find((r) => r.drainOnly);
    if (largest) {
      const payloadMib = largest.bytes / 2 ** 20;
      rows.push([
        '5 streaming',
        `2 × ${largest.objectMib} MiB S3 → platform (hashing sink), MiB/s${drain ? ` (S3 read alone ${fixed(drain.mibPerSecond, 0)})` : ''}`,
        fixed(largest.mibPerSecond, 0),
        '',
        '',
        '',
      ]);
      rows.push([
        '',
        'worker RSS Δ MiB (live Δ MiB), RSS Δ / payload',
        `${signed(largest.memory.rssGrowthMib)} (${signed(largest.live.p50Mib)}), ${fixed(largest.memory.rssGrowthMib / payloadMib, 3)}`,
        '',
        `flat: RSS Δ / payload ≤ ${GOALS.rssGrowthPerPayload}`,
        met(largest.memory.rssGrowthMib / payloadMib <= GOALS.rssGrowthPerPayload),
      ]);
    }
  }
  const p = results.polling;
  failed('polling', '7 waiting');
  if (p) {
    for (const row of p.rows) {
      const { activity: a, timer: t } = row.variants;
      const both = (f: (v: typeof a) => string): string => `${f(a)} | ${f(t)}`;
      rows.push([
        `7 waiting: ${row.label}`,
        `activity | timer: done → closed p50 / p95 (max) s, n=${a.jobs}`,
        both((v) => `${fixed(v.p50, 2)} / ${fixed(v.p95, 2)} (${fixed(v.max, 2)})`),
        '',
        '',
        '',
      ]);
      rows.push([
        '',
        'activity | timer: history events, median (max); KiB',
        both((v) => `${v.eventsMedian} (${v.eventsMax}); ${fixed(v.historyKibMedian, 1)}`),
        '',
        '',
        '',
      ]);
      rows.push([
        '',
        'activity | timer: GET status requests per job, mean (max)',
        both((v) => `${fixed(v.getsMean, 1)} (${v.getsMax})`),
        '',
        '',
        '',
      ]);
      rows.push([
        '',
        'activity | timer: CPU ms per job, worker+driver / dev server; wall s',
        both(
          (v) =>
            `${fixed(v.workerCpuPerJob * 1000, 0)} / ${fixed(v.serverCpuPerJob * 1000, 0)}; ${fixed(v.wallSeconds, 1)}`,
        ),
        '',
        '',
        '',
      ]);
    }
  }
  return rows;
}

function pct(value: number, digits = 1): string {
  return `${fixed(value * 100, digits)} %`;
}

function met(ok: boolean): string {
  return ok ? 'yes' : 'NO';
}

function cpuText(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([name, seconds]) => `${name} ${fixed(seconds, 1)}`)
    .join(', ');
}

/**
 * The bench's lab for the issue-11 cases (throughput, latency, overhead, cost, scale-out): an
 * emulator process with its admin route (accounting, processing model), `rdd worker` processes,
 * audio pairs in S3 and on disk, a detection driver, the vendor baseline (bench/vendor_baseline.py)
 * and CPU readings from /proc. Everything here measures; nothing asserts.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AccountingSnapshot } from '../dev/emulator/accounting.ts';
import { ADMIN_PREFIX } from '../dev/emulator/server.ts';
import type { ProcessingTimes } from '../dev/emulator/options.ts';
import { runTool, writeAtomically } from '../dev/demo/speech-synthesis.ts';
import { terminateGroup } from '../dev/stack/process.ts';
import { startWorker } from '../dev/stack/worker.ts';
import { clientOptions } from '../src/client/connection.ts';
import { startDetection } from '../src/client/detections.ts';
import { loadClientConfig } from '../src/config.ts';
import type { DetectInput, DetectionResult } from '../src/shared/detection.ts';
import type { MediaRef } from '../src/shared/media.ts';
import type { DetectWorkflow } from '../src/shared/workflows.ts';
import { createS3Client } from '../src/storage/s3-client.ts';
import { SENTENCES, speechWav } from '../test/helpers/audio.ts';

const EMULATOR_MAIN = path.join(import.meta.dirname, 'emulator-main.ts');

/**
 * Processes this bench process started, killed when it exits however it exits (a killed section
 * must not leave workers polling a dead server): pid → whether it leads its own process group.
 */
const spawned = new Map<number, boolean>();
process.once('exit', () => {
  for (const [pid, group] of spawned) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(1));

/** Progress on stderr. */
export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}
const BASELINE = path.join(import.meta.dirname, 'vendor_baseline.py');

/** An emulator in a process of its own, with the admin route on. */
export interface Platform {
  url: string;
  pid: number;
  /** What the emulator counted since start or the last reset. */
  accounting(): Promise<AccountingSnapshot>;
  /** Starts a new accounting window. */
  reset(): Promise<void>;
  /** Sets capacity and/or the processing-time model for jobs that start from now on. */
  setModel(model: { capacity?: number; processing?: ProcessingTimes }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `bench/emulator-main.ts` (the emulator with `admin: true`) and waits for its URL.
 * @throws Error when it exits before printing its URL.
 */
export async function startPlatform(options: {
  capacity: number;
  processing: ProcessingTimes;
}): Promise<Platform> {
  const child = spawn(process.execPath, [EMULATOR_MAIN, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawned.set(child.pid!, false);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the bench emulator exited (${code}) before listening`)));
  });
  const admin = async (route: string, init?: RequestInit): Promise<Response> => {
    const response = await fetch(`${url}${ADMIN_PREFIX}${route}`, init);
    if (!response.ok) throw new Error(`emulator admin ${route}: ${response.status} ${await response.text()}`);
    return response;
  };
  return {
    url,
    pid: child.pid!,
    accounting: async () => (await (await admin('/accounting')).json()) as AccountingSnapshot,
    reset: async () => void (await admin('/accounting/reset', { method: 'POST' })),
    setModel: async (model) =>
      void (await (await admin('/model', { method: 'PUT', body: JSON.stringify(model) })).json()),
    stop: () => stopChild(child),
  };
}

/** Running `rdd worker` processes. */
export interface Workers {
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Starts `count` `rdd worker` processes on `taskQueue` against `detectorUrl` (capacity for the
 * platform lease: `capacity`), each logging to `logDir`, and waits until all poll.
 */
export async function startWorkers(options: {
  count: number;
  taskQueue: string;
  detectorUrl: string;
  capacity: number;
  logDir: string;
}): Promise<Workers> {
  const env = {
    ...process.env,
    DETECTOR_URL: options.detectorUrl,
    DETECTOR_CAPACITY: String(options.capacity),
    TASK_QUEUE: options.taskQueue,
  };
  const started = await Promise.all(
    Array.from({ length: options.count }, (_, n) =>
      startWorker({
        env,
        logDir: path.join(options.logDir, `worker-${options.taskQueue}-${n}`),
        detach: false,
        timeoutMs: 180_000,
      }),
    ),
  );
  const pids = started.map((w) => w.process.pid);
  for (const pid of pids) spawned.set(pid, true);
  return {
    pids,
    stop: async () => {
      await Promise.all(pids.map((pid) => terminateGroup(pid, 20_000)));
    },
  };
}

/**
 * CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat` (fields 14 and
 * 15, in clock ticks of 1/100 s, the Linux default `USER_HZ`). NaN when it cannot be read.
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: field 3 (state) is index 0, so utime (14) is index 11, stime (15) 12.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds per named process between `before` and now. */
export function cpuSince(
  before: Record<string, number>,
  pids: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - before[name]!]),
  );
}

/** CPU seconds now, per named process. */
export function cpuNow(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
}

/** A pair both in S3 (for the orchestrator) and on disk (for the baseline). */
export interface Pair {
  reference: MediaRef;
  questioned: MediaRef;
  files: { reference: string; questioned: string };
  /** Audio seconds of both files. */
  audioSeconds: number;
}

/** Temporal client + S3 for the driver. */
export interface Driver {
  client: Client;
  s3: S3Client;
  bucket: string;
  close(): Promise<void>;
}

export async function connectDriver(): Promise<Driver> {
  const config = loadClientConfig(process.env, ['mediaBucket']);
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const client = new Client({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    ...clientOptions(),
  });
  const s3 = createS3Client(config.storage);
  return {
    client,
    s3,
    bucket: config.storage.mediaBucket,
    close: async () => {
      s3.destroy();
      await connection.close();
    },
  };
}

/**
 * Speech of about `seconds` per file (0: the plain ~3 s sentence), in S3 under `prefix` and on disk.
 * Two voices, so the emulator's stand-in scorer has something to compare.
 */
export async function makePair(driver: Driver, prefix: string, seconds: number): Promise<Pair> {
  const files = {
    reference: await speechOfLength('en+m3', seconds),
    questioned: await speechOfLength('en+f3', seconds),
  };
  const put = async (file: string, role: string): Promise<MediaRef> => {
    const key = `${prefix}/${role}-${seconds}s.wav`;
    await driver.s3.send(
      new PutObjectCommand({
        Bucket: driver.bucket,
        Key: key,
        Body: await readFile(file),
        ContentType: 'audio/wav',
      }),
    );
    return { bucket: driver.bucket, key };
  };
  return {
    reference: await put(files.reference, 'reference'),
    questioned: await put(files.questioned, 'questioned'),
    files,
    audioSeconds: (await wavSeconds(files.reference)) + (await wavSeconds(files.questioned)),
  };
}

async function speechOfLength(voice: string, seconds: number): Promise<string> {
  const sentence = await speechWav({ text: SENTENCES.a, voice });
  if (seconds === 0) return sentence;
  const out = path.join(path.dirname(sentence), `bench-${voice.replace(/\W/g, '_')}-${seconds}s.wav`);
  if (!existsSync(out)) {
    await writeAtomically(out, (tmp) =>
      runTool('sox', [sentence, tmp, 'repeat', String(Math.ceil(seconds / 2)), 'trim', '0', String(seconds)]),
    );
  }
  return out;
}

/** Duration of a PCM WAV from its header (byte rate and data size). */
async function wavSeconds(file: string): Promise<number> {
  const bytes = await readFile(file);
  const byteRate = bytes.readUInt32LE(28);
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'data') return Math.min(size, bytes.length - offset - 8) / byteRate;
    offset += 8 + size + (size % 2);
  }
  return Number.NaN;
}

/** One finished detection as the driver saw it. */
export interface DriverRun {
  workflowId: string;
  jobId: string;
  checks: number;
  /** Epoch ms: just before `startDetection`, and when the result reached the client. */
  startedAt: number;
  resultAt: number;
}

/**
 * Starts one detection per input, `intervalMs` apart (0: all at once, at most `startConcurrency`
 * starts in flight), waits for every result.
 * @throws the first failure of a detection.
 */
export async function runDetections(
  driver: Driver,
  options: {
    inputs: readonly DetectInput[];
    taskQueue: string;
    idPrefix: string;
    intervalMs: number;
    startConcurrency?: number;
    /** Per detection, from its start; default 5 minutes. */
    resultTimeoutMs?: number;
  },
): Promise<DriverRun[]> {
  const { client } = driver;
  const runs: Promise<DriverRun>[] = [];
  let inFlightStarts = 0;
  const waiters: (() => void)[] = [];
  const limit = options.startConcurrency ?? 32;
  const resultTimeoutMs = options.resultTimeoutMs ?? 5 * 60_000;
  const one = async (input: DetectInput, n: number): Promise<DriverRun> => {
    const workflowId = `${options.idPrefix}-${n}`;
    while (inFlightStarts >= limit) await new Promise<void>((resolve) => waiters.push(resolve));
    inFlightStarts += 1;
    const startedAt = Date.now();
    try {
      await startDetection(client, input, { id: workflowId, taskQueue: options.taskQueue });
    } finally {
      inFlightStarts -= 1;
      waiters.shift()?.();
    }
    // A workflow whose tasks keep failing (e.g. a half-edited workflow) would wait forever.
    let timer: NodeJS.Timeout | undefined;
    const result: DetectionResult = await Promise.race([
      client.workflow.result<DetectWorkflow>(workflowId),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `detection ${workflowId} did not finish within ${resultTimeoutMs / 1000} s (see the worker log)`,
              ),
            ),
          resultTimeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return { workflowId, jobId: result.jobId, checks: result.checks, startedAt, resultAt: Date.now() };
  };
  const began = performance.now();
  for (const [n, input] of options.inputs.entries()) {
    if (options.intervalMs > 0) {
      const due = began + n * options.intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const run = one(input, n);
    run.catch(() => {}); // surfaced by Promise.all below
    runs.push(run);
  }
  return await Promise.all(runs);
}

/** Where the result object's existence is read from (see `resultRecordedAt`). */
export type RecordedSource = 'activity-completed' | 'workflow-closed';

/**
 * When the detection's result object existed in S3, from its history (server clock, epoch ms): the
 * `ActivityTaskCompleted` event of `recordDetectionResult` (the create-only PUT had returned), or,
 * when the write ran as a local activity (no such event), the workflow's close: an upper bound one
 * workflow task later. Also the history's length and size (bytes, from describe).
 */
export async function resultRecordedAt(
  client: Client,
  workflowId: string,
): Promise<{ at: number; source: RecordedSource; events: number; bytes: number }> {
  const handle = client.workflow.getHandle(workflowId);
  const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const scheduled = new Set<string>();
  let recorded: number | undefined;
  let closed: number | undefined;
  for (const event of history.events ?? []) {
    const at = timestampMs(event.eventTime);
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'recordDetectionResult')
      scheduled.add(String(event.eventId));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scheduled.has(String(completed.scheduledEventId))) recorded = at;
    if (event.workflowExecutionCompletedEventAttributes) closed = at;
  }
  return {
    at: recorded ?? closed ?? Number.NaN,
    source: recorded !== undefined ? 'activity-completed' : 'workflow-closed',
    events: history.events?.length ?? 0,
    bytes: description.historySize ?? 0,
  };
}

function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!ts) return Number.NaN;
  return Number(ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** One pair the baseline finished. */
export interface BaselineRecord {
  jobId: string;
  state: string;
  score: number | null;
  startedAt: number;
  printedAt: number;
}

/** A running baseline; `stop()` ends it after `minPairs` are done (or at once when it has them). */
export interface RunningBaseline {
  records: BaselineRecord[];
  /** Waits for at least `minPairs` records, then stops the script. */
  stop(minPairs: number): Promise<BaselineRecord[]>;
  /** Resolves when the script has finished `pairs` (it then exits by itself at the end of its list). */
  done: Promise<BaselineRecord[]>;
}

/**
 * Runs `bench/vendor_baseline.py` (python3 + requests) on `pairs` against `url`, one pair after
 * another, as users do today.
 */
export function startBaseline(url: string, pairs: readonly Pair[], scratch: string): RunningBaseline {
  const list = path.join(scratch, `baseline-${Date.now()}-${Math.random().toString(36).slice(2)}.tsv`);
  writeFileSync(list, pairs.map((p) => `${p.files.reference}\t${p.files.questioned}\n`).join(''));
  const child = spawn('python3', [BASELINE, url, list], { stdio: ['ignore', 'pipe', 'inherit'] });
  spawned.set(child.pid!, false);
  const records: BaselineRecord[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    records.push(JSON.parse(line) as BaselineRecord);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    records,
    done: exited.then(() => records),
    stop: async (minPairs) => {
      while (records.length < minPairs && child.exitCode === null && child.signalCode === null)
        await new Promise<void>((resolve) => waiters.push(resolve));
      await stopChild(child);
      return records;
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** A scratch directory for lists and worker logs. */
export function scratchDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'rdd-bench-lab-'));
}

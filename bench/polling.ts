/**
 * Section `polling` (issue 11, "History" and "A completion-time estimate that learns"): the same
 * platform jobs waited for in two ways, on the same check schedule, by an in-process production
 * worker (`createDetectionWorker`) running bench/poll-workflows.ts:
 *
 * - **activity**: `benchActivityPollWorkflow`, the heartbeating `awaitDetectionJob` activity (kept);
 * - **timer**: `benchTimerPollWorkflow`, a durable workflow timer per check, then one
 *   `checkDetectionJob` activity.
 *
 * Per row (a fixed job time), the driver submits `jobs` jobs straight to the emulator (own process,
 * capacity 1000, so no job waits for a slot), `intervalMs` apart, and starts one workflow per job
 * with the converged estimate (`baseSeconds` = the job time, spread 0.05 s, 50 samples): first
 * the activity variant, then the timer variant, on new jobs of the same model. Figures per variant:
 * history events and bytes per workflow (describe), done → workflow closed (emulator's finish to
 * the close event, same machine clock), GET status requests per job (emulator), wall time from the
 * first submit to the last close, and CPU seconds of this process (worker + driver) and of the
 * Temporal dev server over the variant's run, per job.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { percentile } from '../dev/emulator/accounting.ts';
import { createDetectorClient } from '../src/activities/detector/index.ts';
import { clientOptions } from '../src/client/connection.ts';
import { loadWorkerConfig } from '../src/config.ts';
import type { AwaitJobInput } from '../src/shared/activity-types.ts';
import { DEFAULT_POLLING } from '../src/shared/detection.ts';
import { createDetectionWorker } from '../src/worker.ts';
import type { StackPids } from './cases.ts';
import { connectDriver, cpuSeconds, makePair, progress, resultRecordedAt, startPlatform } from './lab.ts';

export interface PollingInput {
  rows: { label: string; jobMs: number; jobs: number; intervalMs: number }[];
  stack: StackPids;
}

export type PollingVariantName = 'activity' | 'timer';

export interface PollingVariant {
  jobs: number;
  eventsMedian: number;
  eventsMax: number;
  historyKibMedian: number;
  /** Emulator "done" → workflow closed, seconds. */
  p50: number;
  p95: number;
  max: number;
  getsMean: number;
  getsMax: number;
  /** First submit → last close. */
  wallSeconds: number;
  /** CPU seconds per job: this process (worker + driver), and the Temporal dev server. */
  workerCpuPerJob: number;
  serverCpuPerJob: number;
}

export interface PollingResult {
  rows: { label: string; jobMs: number; variants: Record<PollingVariantName, PollingVariant> }[];
}

const WORKFLOWS = path.join(import.meta.dirname, 'poll-workflows.ts');
const WORKFLOW_TYPE: Record<PollingVariantName, string> = {
  activity: 'benchActivityPollWorkflow',
  timer: 'benchTimerPollWorkflow',
};
const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function measurePolling(input: PollingInput): Promise<PollingResult> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const platform = await startPlatform({ capacity: 1000, processing: { fixedMs: 1000 } });
  const driver = await connectDriver();
  const address = process.env.TEMPORAL_ADDRESS!;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const taskQueue = `bench-polling-${process.pid}-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, ...clientOptions() });
  const detector = createDetectorClient({ baseUrl: platform.url });
  let stopWorker: (() => Promise<void>) | undefined;
  try {
    const env = { ...process.env, DETECTOR_URL: platform.url, TASK_QUEUE: taskQueue };
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: quietLogger });
    const { worker, detector: workerDetector } = await createDetectionWorker({
      connection: nativeConnection,
      namespace,
      config: loadWorkerConfig(env),
      workflowBundle,
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await workerDetector.close();
    };
    const pair = await makePair(driver, `bench/${taskQueue}`, 0);
    const sizes = {
      reference: (await stat(pair.files.reference)).size,
      questioned: (await stat(pair.files.questioned)).size,
    };
    const submit = () =>
      detector.submit({
        reference: {
          body: createReadStream(pair.files.reference),
          filename: 'reference.wav',
          contentType: 'audio/wav',
          size: sizes.reference,
        },
        questioned: {
          body: createReadStream(pair.files.questioned),
          filename: 'questioned.wav',
          contentType: 'audio/wav',
          size: sizes.questioned,
        },
      });
    /** Submits `jobs` jobs `intervalMs` apart, one workflow per job, and waits for all of them. */
    const runVariant = async (
      variant: PollingVariantName,
      jobs: number,
      intervalMs: number,
      jobSeconds: number,
      idPrefix: string,
    ): Promise<{ workflowId: string; jobId: string; checks: number }[]> => {
      const runs: Promise<{ workflowId: string; jobId: string; checks: number }>[] = [];
      const began = performance.now();
      for (let n = 0; n < jobs; n++) {
        const wait = began + n * intervalMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const accepted = await submit();
        const acceptedAtMs = Date.now();
        const workflowId = `${idPrefix}-${n}`;
        const args: AwaitJobInput = {
          job: { jobId: accepted.jobId, statusUrl: accepted.statusUrl, acceptedAtMs },
          audioSeconds: pair.audioSeconds,
          acceptedAtMs,
          estimate: { baseSeconds: jobSeconds, perAudioSecond: 0, samples: 50, spreadSeconds: 0.05 },
          polling: {
            minInterval: DEFAULT_POLLING.minInterval,
            maxInterval: DEFAULT_POLLING.maxInterval,
            backoff: DEFAULT_POLLING.backoff,
          },
        };
        const run = client.workflow
          .execute(WORKFLOW_TYPE[variant], { taskQueue, workflowId, args: [args] })
          .then((checks) => ({ workflowId, jobId: accepted.jobId, checks: checks as number }));
        run.catch(() => {}); // surfaced by Promise.all below
        runs.push(run);
      }
      return await Promise.all(runs);
    };
    // Warm-up: bundle loaded, workflow contexts and HTTP pools open; not measured.
    await platform.setModel({ processing: { fixedMs: 200 } });
    for (const variant of ['activity', 'timer'] as const) {
      await runVariant(variant, 2, 0, 0.2, `${taskQueue}-warm-${variant}`);
    }

    const rows: PollingResult['rows'] = [];
    for (const row of input.rows) {
      await platform.setModel({ processing: { fixedMs: row.jobMs } });
      const variants = {} as Record<PollingVariantName, PollingVariant>;
      for (const variant of ['activity', 'timer'] as const) {
        progress(`polling: ${row.label}, ${row.jobs} jobs, ${variant}`);
        await platform.reset();
        const serverBefore = input.stack.temporal ? cpuSeconds(input.stack.temporal) : Number.NaN;
        const cpuBefore = process.cpuUsage();
        const began = Date.now();
        const runs = await runVariant(
          variant,
          row.jobs,
          row.intervalMs,
          row.jobMs / 1000,
          `${taskQueue}-${row.jobMs}-${variant}`,
        );
        const cpu = process.cpuUsage(cpuBefore);
        const serverCpu = input.stack.temporal ? cpuSeconds(input.stack.temporal) - serverBefore : Number.NaN;
        const accounting = await platform.accounting();
        const byJob = new Map(accounting.jobs.map((job) => [job.jobId, job]));
        const histories = await Promise.all(runs.map((run) => resultRecordedAt(client, run.workflowId)));
        const latencies = runs
          .map((run, n) => (histories[n]!.at - byJob.get(run.jobId)!.finishedAt!) / 1000)
          .sort((a, b) => a - b);
        const gets = runs.map((run) => byJob.get(run.jobId)!.polls).sort((a, b) => a - b);
        const events = histories.map((h) => h.events).sort((a, b) => a - b);
        const kib = histories.map((h) => h.bytes / 1024).sort((a, b) => a - b);
        variants[variant] = {
          jobs: runs.length,
          eventsMedian: percentile(events, 0.5),
          eventsMax: events.at(-1)!,
          historyKibMedian: percentile(kib, 0.5),
          p50: percentile(latencies, 0.5),
          p95: percentile(latencies, 0.95),
          max: latencies.at(-1)!,
          getsMean: gets.reduce((a, b) => a + b, 0) / gets.length,
          getsMax: gets.at(-1)!,
          wallSeconds: (Math.max(...histories.map((h) => h.at)) - began) / 1000,
          workerCpuPerJob: (cpu.user + cpu.system) / 1e6 / runs.length,
          serverCpuPerJob: serverCpu / runs.length,
        };
      }
      rows.push({ label: row.label, jobMs: row.jobMs, variants });
    }
    return { rows };
  } finally {
    await stopWorker?.();
    await nativeConnection.close();
    await connection.close();
    await detector.close();
    await driver.close();
    await platform.stop();
  }
}

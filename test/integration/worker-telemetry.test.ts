/**
 * `rdd worker`'s telemetry, on a real worker process against the dev server and the emulator:
 * Prometheus `/metrics` with the SDK's metrics and ours moving during a detection, `/healthz`,
 * JSON log lines with the detection's ids and without any credential from the environment.
 * The health endpoint's 503 after shutdown is checked on an in-process worker, whose shutdown the
 * test controls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RDD_METRIC } from '../../src/activities/metrics.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { startHealthServer } from '../../src/telemetry/health-server.ts';
import { createDetectionWorker } from '../../src/worker.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, workflowBundle, type Harness } from '../helpers/detection-harness.ts';
import { testServices } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** Credentials the logs must never show, each unique to this run. */
const run = Math.random().toString(36).slice(2, 10);
const MARKERS = {
  bearer: `bearer-marker-${run}-0123456789`,
  s3Secret: `s3-secret-marker-${run}-abcdefghij`,
  apiToken: `api-token-marker-${run}-klmnopqrst`,
};

/** Samples of one metric in Prometheus text, by their label text (`{operation="submit"}` or ``). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) out.set(match[2] ?? '', Number(match[3]));
  }
  return out;
}

/** The sum of a metric's samples whose labels contain every `labels` pair; 0 when absent. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [labelText, value] of samples(text, name)) {
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

/** Waits (without a time limit of its own: the test's timeout bounds it) until `check` is true. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check().catch(() => false))) await new Promise((r) => setTimeout(r, 100));
}

describe('rdd worker telemetry', () => {
  let harness: Harness;
  let worker: ChildProcess;
  let output = '';
  let metricsUrl: string;
  let healthUrl: string;
  let reference: string;
  let questioned: string;

  beforeAll(async () => {
    reference = await speechWav({ text: 'Please confirm my identity with this sample.', voice: 'en+m3' });
    questioned = await speechWav({ text: 'I would like to move money between accounts.', voice: 'en+f3' });
    // One 503 to the first status check: the errors counter must see it.
    harness = await startHarness(
      { processing: { fixedMs: 400 }, faults: { pollStatus: { status: 503, times: 1 } } },
      { worker: false },
    );
    const [metricsPort, healthPort] = [await getPort(), await getPort()];
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    healthUrl = `http://127.0.0.1:${healthPort}/healthz`;
    worker = spawn(process.execPath, [RDD, 'worker'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...harness.env,
        DETECTOR_HEADERS: JSON.stringify({
          Authorization: `Bearer ${MARKERS.bearer}`,
          'X-S3-Secret': MARKERS.s3Secret,
          'X-Api-Token': MARKERS.apiToken,
        }),
        RDD_METRICS_BIND: `127.0.0.1:${metricsPort}`,
        RDD_HEALTH_BIND: `127.0.0.1:${healthPort}`,
        // Debug: the SDK's per-activity and per-workflow lines too, so more text passes redaction.
        RDD_LOG_LEVEL: 'debug',
      },
    });
    worker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(() => Promise.resolve(output.includes('worker polling task queue')));
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await harness?.close();
  });

  it('answers 200 on /healthz while it polls', async () => {
    await until(async () => (await fetch(healthUrl)).status === 200);
    const response = await fetch(healthUrl);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      state: 'RUNNING',
      workflowPoller: 'POLLING',
      activityPoller: 'POLLING',
    });
    expect((await fetch(healthUrl.replace('/healthz', '/other'))).status).toBe(404);
  });

  it('serves the SDK metrics and ours on one /metrics, and ours move with a detection', async () => {
    const before = await scrape(metricsUrl);
    const handle = await harness.start({
      reference: await harness.upload(reference),
      questioned: await harness.upload(questioned),
    });
    const result = await handle.result();
    expect(result.cached).toBeUndefined();

    const after = await scrape(metricsUrl);
    const moved = (name: string, labels?: Record<string, string>) =>
      total(after, name, labels) - total(before, name, labels);
    expect(moved(RDD_METRIC.jobsSubmitted)).toBe(1);
    expect(moved(`${RDD_METRIC.requestDuration}_count`, { operation: 'submit', outcome: 'ok' })).toBe(1);
    expect(moved(`${RDD_METRIC.requestDuration}_count`, { operation: 'check', outcome: 'ok' })).toBe(
      result.checks,
    );
    expect(moved(`${RDD_METRIC.requestDuration}_count`, { operation: 'info' })).toBeGreaterThanOrEqual(1);
    expect(moved(RDD_METRIC.errors, { operation: 'check', status: '503', error_type: 'http' })).toBe(1);
    // Both WAVs and the multipart framing went out.
    expect(moved(RDD_METRIC.uploadedBytes)).toBeGreaterThan(result.reference.durationSeconds * 16_000 * 2);
    expect(moved(RDD_METRIC.jobsFinished, { state: 'done' })).toBe(1);
    expect(moved(`${RDD_METRIC.checksPerJob}_count`)).toBe(1);
    expect(moved(`${RDD_METRIC.checksPerJob}_sum`)).toBe(result.checks);
    expect(moved(`${RDD_METRIC.resultDelay}_count`)).toBe(1);
    // The SDK's own, from Core, on the same endpoint.
    expect(after).toMatch(/^temporal_workflow_completed\{/m);
    expect(after).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
    expect(after).toMatch(/^temporal_num_pollers\{/m);

    // The capacity workflow now runs: the sampler reads its grants into the gauges.
    let capacityText = '';
    await until(async () => {
      capacityText = await scrape(metricsUrl);
      return samples(capacityText, RDD_METRIC.capacity).size > 0;
    });
    expect(total(capacityText, RDD_METRIC.capacity)).toBe(Number(harness.env.DETECTOR_CAPACITY ?? 8));
    expect(samples(capacityText, RDD_METRIC.leasesInUse).size).toBe(1);
    expect(samples(capacityText, RDD_METRIC.leasesWaiting).size).toBe(1);
  }, 120_000);

  it('logs one JSON object per line with the ids, and never a credential', async () => {
    const handle = await harness.start({
      reference: await harness.upload(reference, `${harness.taskQueue}/logs-ref.wav`),
      questioned: await harness.upload(questioned, `${harness.taskQueue}/logs-q.wav`),
    });
    const result = await handle.result();
    const runId = (await handle.describe()).runId;
    // The worker's lines for this detection (the SDK logs an activity's completion after returning).
    await until(() =>
      Promise.resolve(
        output.includes(handle.workflowId) && output.includes('"activityType":"recordDetectionResult"'),
      ),
    );
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
    for (const entry of parsed) {
      expect(entry).toMatchObject({
        time: expect.any(String),
        level: expect.any(String),
        message: expect.any(String),
      });
    }
    const mine = parsed.filter((entry) => entry.workflowId === handle.workflowId);
    // Lines of the activities that know the platform's job (the submit's completion, the wait's
    // lines after it read its input) name that job and the run.
    const withJob = mine.filter((entry) => entry.platformJobId !== undefined);
    expect(withJob.length).toBeGreaterThan(0);
    for (const entry of withJob) expect(entry).toMatchObject({ runId, platformJobId: result.jobId });
    // Workflow lines (the lean detection logs none on its happy path; the capacity workflow does).
    const workflowLines = parsed.filter((entry) => entry.sdkComponent === 'workflow');
    expect(workflowLines.length).toBeGreaterThan(0);
    for (const entry of workflowLines) {
      expect(entry).toMatchObject({ workflowId: expect.any(String), runId: expect.any(String) });
    }

    const { s3 } = testServices();
    const secrets = [...Object.values(MARKERS), s3.secretAccessKey].filter((s) => s.length >= 6);
    for (const secret of secrets) expect(output).not.toContain(secret);
  }, 120_000);
});

describe('the health endpoint of a worker that stops polling', () => {
  it('answers 503 before run(), 200 while polling, 503 once shutdown starts and after', async () => {
    const harness = await startHarness({}, { worker: false });
    const { temporalAddress, namespace } = testServices();
    const connection = await NativeConnection.connect({ address: temporalAddress });
    const { worker, detector } = await createDetectionWorker({
      connection,
      namespace,
      config: loadWorkerConfig(harness.env),
      workflowBundle: await workflowBundle(),
    });
    const health = await startHealthServer(worker, { host: '127.0.0.1', port: 0 });
    try {
      const before = await fetch(health.url);
      expect(before.status).toBe(503);
      expect(await before.json()).toMatchObject({ status: 'unhealthy', state: 'INITIALIZED' });

      const running = worker.run();
      await until(async () => (await fetch(health.url)).status === 200);

      worker.shutdown();
      const stopping = await fetch(health.url);
      expect(stopping.status).toBe(503);
      expect(((await stopping.json()) as { state: string }).state).not.toBe('RUNNING');
      await running;

      const stopped = await fetch(health.url);
      expect(stopped.status).toBe(503);
      expect(await stopped.json()).toMatchObject({ status: 'unhealthy', state: 'STOPPED' });
    } finally {
      await health.close();
      await detector.close();
      await connection.close();
      await harness.close();
    }
  }, 120_000);
});

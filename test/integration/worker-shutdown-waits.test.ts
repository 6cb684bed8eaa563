/**
 * Issue 10: a worker asked to shut down while one detection uploads and another waits for the
 * platform's only slot. Temporal cancels running activities only when the shutdown grace time
 * (10 minutes here) is over, so a wait for a lease used to hold the draining worker that long. Now
 * the wait stops at once with the retryable `WorkerShuttingDown`, the upload in flight still
 * finishes (nothing cancelled), the worker stops, and a second worker finishes every detection
 * with one platform job and one result object each. Real Temporal dev server, versitygw and the
 * emulator over HTTP; in-process workers.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import { createDetectionWorker } from '../../src/worker.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, workflowBundle, type Harness } from '../helpers/detection-harness.ts';
import { testServices } from '../helpers/services.ts';

let harness: Harness;
const connections: NativeConnection[] = [];
const closers: (() => Promise<void>)[] = [];

/** An in-process worker for the harness; `run` settles when it has stopped. */
async function startWorker(): Promise<{ worker: Worker; run: Promise<void> }> {
  const connection = await NativeConnection.connect({ address: testServices().temporalAddress });
  connections.push(connection);
  const { worker, detector } = await createDetectionWorker({
    connection,
    namespace: testServices().namespace,
    config: loadWorkerConfig(harness.env),
    env: harness.env,
    workflowBundle: await workflowBundle(harness.env),
  });
  const run = worker.run();
  closers.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run.catch(() => undefined);
    await detector.close();
  });
  return { worker, run };
}

beforeAll(async () => {
  harness = await startHarness(
    // Capacity 1 grants 2 leases (capacity + allowance): two uploads crawl (~20 s for two ~80 KB
    // files each), so the shutdown lands during them, while a third detection waits for a lease.
    {
      capacity: 1,
      processing: { fixedMs: 300 },
      faults: { slowUpload: { times: 2, bytesPerSecond: 8_000 } },
    },
    {
      worker: false,
      workerEnv: { DETECTOR_CAPACITY: '1', WORKER_SHUTDOWN_GRACE_MS: String(10 * 60_000) },
    },
  );
}, 120_000);

afterAll(async () => {
  for (const close of closers) await close();
  await harness?.client.workflow
    .getHandle(platformCapacityWorkflowId(harness.emulator.url))
    .terminate('test over')
    .catch(() => undefined);
  await harness?.close();
  for (const connection of connections) await connection.close().catch(() => undefined);
});

describe('a worker shut down while a detection waits for a platform lease', () => {
  it('stops the wait at once (retryable), lets the upload finish, and another worker completes all', async () => {
    const reference = await harness.upload(
      await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
    );
    const questioned = await harness.upload(
      await speechWav({ text: 'Please move the money to my other account.', voice: 'en+f3' }),
    );
    const first = await startWorker();
    const handles = [
      await harness.start({ reference, questioned, cache: false }),
      await harness.start({ reference, questioned, cache: false }),
      await harness.start({ reference, questioned, cache: false }),
    ];
    const phase = async (handle: (typeof handles)[number]) => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const submit = pending.find((a) => a.activityType?.name === 'submitDetectionJob');
      const data = submit?.heartbeatDetails?.payloads?.[0]?.data;
      const details = data
        ? (JSON.parse(Buffer.from(data).toString('utf8')) as { phase?: string; bytesSent?: number })
        : undefined;
      return {
        // An upload heartbeats its bytes every 5 s; a wait for the lease says so.
        phase: details?.bytesSent !== undefined ? 'uploading' : details?.phase,
        failure: submit?.lastFailure,
      };
    };
    // Two uploads under way (holding both leases), the third detection waiting for one.
    await expect
      .poll(() => harness.emulator.faultsInjected()['submit:slow-upload'] ?? 0, { timeout: 60_000 })
      .toBe(2);
    await expect
      .poll(async () => (await Promise.all(handles.map(phase))).map((p) => p.phase).sort(), {
        timeout: 30_000,
        interval: 200,
      })
      .toEqual(['uploading', 'uploading', 'waiting-for-capacity']);
    const waiting = (await Promise.all(handles.map(phase))).findIndex(
      (p) => p.phase === 'waiting-for-capacity',
    );
    expect(harness.emulator.accounting().jobs).toHaveLength(0);

    first.worker.shutdown();
    // Without the fix this waits out the 10-minute grace time and the test times out.
    await first.run;
    // The uploads in flight were not cancelled: the platform accepted both before the worker stopped.
    expect(harness.emulator.accounting().jobs).toHaveLength(2);
    // The wait ended with the retryable failure, for another worker to pick up.
    const failure = (await phase(handles[waiting]!)).failure;
    expect(failure?.applicationFailureInfo?.type).toBe(FailureType.WorkerShuttingDown);
    expect(failure?.applicationFailureInfo?.nonRetryable ?? false).toBe(false);

    const second = await startWorker();
    const results = await Promise.all(handles.map((h) => h.result()));
    for (const result of results) {
      expect(typeof result.score).toBe('number');
      expect(await harness.readResult(result.resultLocation.key)).toEqual(result);
    }
    // One platform job per detection: neither the stopped wait nor the finished upload was repeated.
    expect(harness.emulator.accounting().jobs).toHaveLength(3);
    expect(results.map((r) => r.submissions)).toEqual([1, 1, 1]);
    second.worker.shutdown();
    await second.run;
  }, 180_000);

  it('stops awaitDetectionJob’s wait for a long platform job too; the next worker resumes it, no resubmission', async () => {
    // Every new task shows `pending` for a minute: the detection sits in awaitDetectionJob.
    harness.emulator.setFaults({ rates: { seed: 1, taskPendingLong: 1, pendingLongMs: 60_000 } });
    const reference = await harness.upload(
      await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
      `${harness.taskQueue}/await/reference.wav`,
    );
    const questioned = await harness.upload(
      await speechWav({ text: 'Please move the money to my other account.', voice: 'en+f3' }),
      `${harness.taskQueue}/await/questioned.wav`,
    );
    const jobsBefore = harness.emulator.accounting().jobs.length;
    const first = await startWorker();
    const handle = await harness.start({ reference, questioned, cache: false });
    const awaiting = async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.find((a) => a.activityType?.name === 'awaitDetectionJob');
    };
    await expect
      .poll(async () => (await awaiting())?.heartbeatDetails !== undefined, { timeout: 60_000 })
      .toBe(true);

    first.worker.shutdown();
    // Without the fix this waits out the 10-minute grace time (or the minute the job stays pending).
    await first.run;
    const failure = (await awaiting())?.lastFailure;
    expect(failure?.applicationFailureInfo?.type).toBe(FailureType.WorkerShuttingDown);

    // New tasks are quick again; this one stays pending its minute, then the next worker sees it done.
    harness.emulator.setFaults({});
    await startWorker();
    const result = await handle.result();
    expect(typeof result.score).toBe('number');
    expect(result.submissions).toBe(1);
    expect(harness.emulator.accounting().jobs.length - jobsBefore).toBe(1);
    expect(await harness.readResult(result.resultLocation.key)).toEqual(result);
  }, 180_000);
});

/**
 * Worker Versioning on the real Temporal dev server: an in-flight detection stays pinned to the
 * worker deployment version it started on and finishes there, while a detection started after the
 * rollout runs on the new version and the platform-capacity workflow (AUTO_UPGRADE) moves to it.
 * The rollout goes through the same `temporal worker deployment` commands the README documents.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { createDetectionWorker } from '../../src/worker.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, workflowBundle, type Harness } from '../helpers/detection-harness.ts';

const run = promisify(execFile);

let harness: Harness;
const deploymentName = `rdd-test-${Math.random().toString(36).slice(2, 10)}`;
const workers: { worker: Worker; running: Promise<void>; close(): Promise<void> }[] = [];
let files: { reference: string; first: string; second: string };

beforeAll(async () => {
  files = {
    reference: await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
    first: await speechWav({ text: 'The first call started before the upgrade.', voice: 'en+m3' }),
    second: await speechWav({ text: 'The second call started after the upgrade.', voice: 'en+m3' }),
  };
  harness = await startHarness({}, { worker: false });
});

afterAll(async () => {
  for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  for (const { close } of workers) await close();
  await harness?.close();
});

/** Starts an in-process worker of this harness as `deploymentName.buildId`, configured by env. */
async function startVersionedWorker(buildId: string): Promise<void> {
  const config = loadWorkerConfig({
    ...harness.env,
    WORKER_DEPLOYMENT_NAME: deploymentName,
    WORKER_BUILD_ID: buildId,
  });
  expect(config.worker.deployment).toEqual({ name: deploymentName, buildId });
  const connection = await NativeConnection.connect({ address: harness.env.TEMPORAL_ADDRESS! });
  const { worker, detector } = await createDetectionWorker({
    connection,
    namespace: harness.env.TEMPORAL_NAMESPACE!,
    config,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  workers.push({
    worker,
    running,
    async close() {
      await running;
      await detector.close();
      await connection.close();
    },
  });
}

/** `temporal …` against the shared dev server, as an operator would type it. */
async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await run('temporal', [
    ...args,
    '--address',
    harness.env.TEMPORAL_ADDRESS!,
    '--namespace',
    harness.env.TEMPORAL_NAMESPACE!,
  ]);
  return stdout;
}

/**
 * The README's rollout step. Retried until the version's workers have polled: before that the
 * server does not know the version (or its task queue) and refuses.
 */
async function setCurrentVersion(buildId: string): Promise<void> {
  await vi.waitFor(
    () =>
      temporalCli(
        'worker',
        'deployment',
        'set-current-version',
        '--deployment-name',
        deploymentName,
        '--build-id',
        buildId,
        '--yes',
      ),
    { timeout: 30_000, interval: 500 },
  );
}

type VersioningInfo = temporal.api.workflow.v1.IWorkflowExecutionVersioningInfo;

async function versioningOf(handle: WorkflowHandle): Promise<VersioningInfo | null | undefined> {
  return (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
}

/** The build id of the worker that completed each workflow task, from the history. */
async function workflowTaskBuildIds(handle: WorkflowHandle): Promise<(string | null | undefined)[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.workflowTaskCompletedEventAttributes)
    .map((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId);
}

describe('Worker Versioning', () => {
  it('finishes an in-flight detection on its old version while new ones run on the new one', async () => {
    const reference = await harness.upload(files.reference);
    const first = await harness.upload(files.first);
    const second = await harness.upload(files.second);

    // Version 1 is the first rollout: its workers start, then it is made current.
    await startVersionedWorker('v1');
    await setCurrentVersion('v1');

    // Hold the first detection at its submit: the platform answers 503 (retried every second).
    harness.emulator.setFaults({ submitStatus: { status: 503, times: 1_000_000, retryAfterSeconds: 1 } });
    const inFlight = await harness.start({ reference, questioned: first });
    await vi.waitFor(
      async () => {
        const pending = (await inFlight.describe()).raw.pendingActivities ?? [];
        const submit = pending.find((activity) => activity.activityType?.name === 'submitDetectionJob');
        expect(submit?.attempt ?? 0).toBeGreaterThanOrEqual(2);
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(await versioningOf(inFlight)).toMatchObject({
      behavior: 1, // VERSIONING_BEHAVIOR_PINNED
      deploymentVersion: { deploymentName, buildId: 'v1' },
    });

    // Version 2 rolls out while the first detection is in flight.
    await startVersionedWorker('v2');
    await setCurrentVersion('v2');
    const describedDeployment = await temporalCli(
      'worker',
      'deployment',
      'describe',
      '--name',
      deploymentName,
      '--output',
      'json',
    );
    expect(JSON.parse(describedDeployment)).toMatchObject({
      routingConfig: { currentVersionDeploymentName: deploymentName, currentVersionBuildID: 'v2' },
    });

    const fresh = await harness.start({ reference, questioned: second });
    await vi.waitFor(
      async () =>
        expect(await versioningOf(fresh)).toMatchObject({
          behavior: 1,
          deploymentVersion: { deploymentName, buildId: 'v2' },
        }),
      { timeout: 30_000, interval: 200 },
    );
    // The README's drain check: the old version still has the pinned detection running.
    const drainQuery = `TemporalWorkerDeploymentVersion='${deploymentName}:v1' AND ExecutionStatus='Running'`;
    await vi.waitFor(
      async () => {
        const running: string[] = [];
        for await (const execution of harness.client.workflow.list({ query: drainQuery })) {
          running.push(execution.workflowId);
        }
        expect(running).toContain(inFlight.workflowId);
        expect(running).not.toContain(fresh.workflowId);
      },
      { timeout: 30_000, interval: 500 },
    );

    // The platform recovers: both finish, each on the version it started on.
    harness.emulator.setFaults({});
    const [oldResult, newResult] = await Promise.all([inFlight.result(), fresh.result()]);
    expect(oldResult.submissions).toBe(1);
    expect(newResult.submissions).toBe(1);

    const oldTasks = await workflowTaskBuildIds(inFlight);
    const newTasks = await workflowTaskBuildIds(fresh);
    expect(oldTasks.length).toBeGreaterThan(2);
    expect(new Set(oldTasks)).toEqual(new Set(['v1']));
    expect(newTasks.length).toBeGreaterThan(2);
    expect(new Set(newTasks)).toEqual(new Set(['v2']));

    // The capacity workflow (AUTO_UPGRADE) that v1 started moved to v2 with the lease traffic.
    const capacity = harness.client.workflow.getHandle(platformCapacityWorkflowId(harness.env.DETECTOR_URL!));
    await vi.waitFor(
      async () =>
        expect(await versioningOf(capacity)).toMatchObject({
          behavior: 2, // VERSIONING_BEHAVIOR_AUTO_UPGRADE
          deploymentVersion: { deploymentName, buildId: 'v2' },
        }),
      { timeout: 30_000, interval: 500 },
    );
    const capacityTasks = await workflowTaskBuildIds(capacity);
    expect(capacityTasks[0]).toBe('v1');
    expect(capacityTasks.at(-1)).toBe('v2');
  });
});

/**
 * The whole system on a real Temporal cluster, not the dev server (`npm run test:cluster`, not part
 * of `npm test`): the Temporal server built from source (scripts/cluster-tools.sh) on PostgreSQL,
 * four services, SQL visibility (test/helpers/temporal-cluster.ts); versitygw and the emulator for
 * S3 and the platform. Then as an operator would: `rdd setup` creates the namespace and registers
 * the search attributes, two `rdd worker` processes poll the same task queue, detections and a
 * batch run to completion, the search attributes find them, and both workers took part.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.ts';
import { LOOPBACK, pickPort } from '../../dev/stack/ports.ts';
import { spawnService, terminateGroup, waitHealthy, type ServiceProcess } from '../../dev/stack/process.ts';
import { LOCAL_S3_CREDENTIALS, startS3, type S3Service } from '../../dev/stack/s3.ts';
import { findTool } from '../../dev/stack/tools.ts';
import { startBatch, waitForBatch } from '../../src/client/batches.ts';
import { startDetection, waitForDetection } from '../../src/client/detections.ts';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/task-queues.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING } from '../helpers/detection-harness.ts';
import { startTemporalCluster, type TemporalCluster } from '../helpers/temporal-cluster.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));
/** Where the workers', S3's and the server's logs are kept after the run. */
const LOGS = fileURLToPath(new URL('../../test-artifacts/cluster-logs', import.meta.url));
const NAMESPACE = 'rdd-cluster';
/** The workers run as a worker deployment version, as in production (README, "Safe upgrades"). */
const DEPLOYMENT = { name: 'rdd', buildId: 'cluster-test' };
const BUCKET = 'rdd-cluster';

let dir: string;
let cluster: TemporalCluster;
let s3Service: S3Service;
let emulator: RunningEmulator;
let s3: S3Client;
let client: Client;
const workers: ServiceProcess[] = [];
/** What every `rdd` child gets: the cluster, S3 and the platform; nothing from the test run. */
let env: Record<string, string>;

/** The test run's environment without configuration variables, plus `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TEMPORAL_|S3_|AWS_|DETECTOR_|TASK_QUEUE|WORKER_|RDD_)/.test(key))
      base[key] = value;
  }
  return { ...base, ...extra };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rdd-cluster-test-'));
  const logDir = path.join(dir, 'logs');
  [cluster, s3Service, emulator] = await Promise.all([
    startTemporalCluster(),
    startS3({
      port: await pickPort(0, new Set()),
      dataDir: path.join(dir, 's3'),
      bucket: BUCKET,
      logDir,
      detach: false,
      timeoutMs: 30_000,
    }),
    startEmulator({ capacity: 4, processing: { fixedMs: 200 } }),
  ]);
  env = childEnv({
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    DETECTOR_URL: emulator.url,
    S3_ENDPOINT: s3Service.endpoint,
    S3_BUCKET: BUCKET,
    AWS_REGION: LOCAL_S3_CREDENTIALS.region,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  });
  s3 = new S3Client({
    endpoint: s3Service.endpoint,
    region: LOCAL_S3_CREDENTIALS.region,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
}, 240_000);

afterAll(async () => {
  for (const worker of workers) await terminateGroup(worker.pid, 10_000);
  await client?.connection.close();
  s3?.destroy();
  await emulator?.close();
  if (s3Service) await terminateGroup(s3Service.process.pid, 5_000);
  rmSync(LOGS, { recursive: true, force: true });
  if (dir) cpSync(path.join(dir, 'logs'), LOGS, { recursive: true });
  if (cluster) cpSync(path.join(cluster.dir, 'logs'), LOGS, { recursive: true });
  await cluster?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Runs `rdd …args` as a child process with `env`. */
function rdd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RDD, ...args], { env, cwd: dir }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function put(key: string, file: string): Promise<{ bucket: string; key: string }> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file) }));
  return { bucket: BUCKET, key };
}

/** The identities of the workers that completed activity tasks in a workflow's history. */
async function activityWorkers(workflowId: string): Promise<Set<string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const identities = new Set<string>();
  for (const event of history.events ?? []) {
    const identity = event.activityTaskStartedEventAttributes?.identity;
    if (identity) identities.add(identity);
  }
  return identities;
}

/** Workflow ids a visibility query finds (SQL visibility is read after write; polled briefly). */
async function list(query: string, expected: number): Promise<string[]> {
  let ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids = [];
    for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
    if (ids.length >= expected) break;
    await sleep(200);
  }
  return ids.sort();
}

describe(`the system on a Temporal cluster (server from source on PostgreSQL)`, () => {
  it('rdd setup creates the namespace and registers the search attributes on the bare cluster', async () => {
    const setup = await rdd(['setup', '--retention-days', '1']);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain(`namespace ${NAMESPACE}: created (retention 1 days)`);
    expect(setup.stdout).toContain('6 added');
    client = new Client({
      connection: await Connection.connect({ address: cluster.address }),
      namespace: NAMESPACE,
    });
  });

  it('two rdd worker processes of one deployment version poll the cluster, made current', async () => {
    for (const n of [1, 2]) {
      workers.push(
        await spawnService({
          name: `worker-${n}`,
          command: process.execPath,
          args: [RDD, 'worker'],
          env: {
            ...env,
            WORKER_DEPLOYMENT_NAME: DEPLOYMENT.name,
            WORKER_BUILD_ID: DEPLOYMENT.buildId,
            RDD_HEALTH_BIND: `${LOOPBACK}:${await pickPort(0, new Set())}`,
          },
          logDir: path.join(dir, 'logs'),
          cwd: dir,
          detach: false,
        }),
      );
    }
    const pollers = async () => {
      const { pollers } = await client.connection.workflowService.describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: DEFAULT_TASK_QUEUE },
        taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
      });
      return new Set((pollers ?? []).map((p) => p.identity));
    };
    for (const worker of workers) {
      await waitHealthy(worker, async () => (await pollers()).size >= 2, {
        timeoutMs: 120_000,
        what: 'two activity pollers on the task queue',
      });
    }
    expect((await pollers()).size).toBe(2);
    // The README's rollout step, as an operator runs it (the temporal CLI).
    await vi.waitFor(
      () =>
        execFileSync(
          findTool('temporal'),
          [
            'worker',
            'deployment',
            'set-current-version',
            '--address',
            cluster.address,
            '--namespace',
            NAMESPACE,
            '--deployment-name',
            DEPLOYMENT.name,
            '--build-id',
            DEPLOYMENT.buildId,
            '--yes',
          ],
          { stdio: 'pipe' },
        ),
      { timeout: 30_000, interval: 500 },
    );
  }, 150_000);

  it('detections and a batch complete, the search attributes find them, and both workers took part', async () => {
    const [reference, sameVoice, otherVoice, otherVoice2] = await Promise.all([
      speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
      speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' }),
      speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+f3' }),
      speechWav({ text: 'Please transfer the money to my new account today.', voice: 'en+f4' }),
    ]);
    const ref = await put('media/reference.wav', reference);
    const questioned = [
      await put('questioned/same-voice.wav', sameVoice),
      await put('questioned/other-voice.wav', otherVoice),
      await put('questioned/other-voice-2.wav', otherVoice2),
    ];

    // Detections, started as a service would, through the typed client.
    const ids = await Promise.all(
      questioned.map(async (q, i) => {
        const { workflowId } = await startDetection(
          client,
          { reference: ref, questioned: q, polling: FAST_POLLING, cache: false },
          { id: `cluster-detection-${i}` },
        );
        return workflowId;
      }),
    );
    const results = new Map<string, DetectionResult>();
    for (const id of ids) {
      const view = await waitForDetection(client, id, { timeoutMs: 120_000 });
      expect(view.state, id).toBe('completed');
      if (view.state === 'completed') results.set(id, view.result);
    }
    for (const result of results.values()) expect(result.score).toEqual(expect.any(Number));

    // A batch: the reference against the prefix, through the same workers.
    const { batchId } = await startBatch(client, {
      reference: ref,
      prefix: { bucket: BUCKET, prefix: 'questioned/' },
      polling: FAST_POLLING,
      concurrency: 2,
      cache: false, // every pair a child on the platform, not an answer from the score cache
    });
    const batch = await waitForBatch(client, batchId, { timeoutMs: 180_000, intervalMs: 250 });
    expect(batch.state).toBe('completed');
    if (batch.state !== 'completed') return;
    expect(batch.summary.counts).toMatchObject({ total: 3, scored: 3, failed: 0 });

    // The search attributes rdd setup registered, set by the workflows, on SQL visibility.
    const deepfakes = [...results].filter(([, r]) => r.verdict === 'deepfake').map(([id]) => id);
    expect(deepfakes.length).toBeGreaterThan(0);
    expect(
      await list(
        `DetectionVerdict = 'deepfake' AND WorkflowId STARTS_WITH 'cluster-detection-'`,
        deepfakes.length,
      ),
    ).toEqual(deepfakes.sort());
    expect(await list(`DetectionPhase = 'done' AND WorkflowId STARTS_WITH 'cluster-detection-'`, 3)).toEqual(
      [...ids].sort(),
    );
    const children = await list(`ParentWorkflowId = '${batchId}'`, 3);
    expect(children.length, children.join()).toBe(3);

    // Both worker processes ran activities (tasks of a shared queue go to whichever polls).
    const identities = new Set<string>();
    for (const id of [...ids, ...children, batchId])
      for (const w of await activityWorkers(id)) identities.add(w);
    expect(identities.size).toBe(2);
  }, 300_000);
});

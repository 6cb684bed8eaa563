/**
 * `rdd worker` whose health or metrics address is taken (review 911, items 1 and 9): it must exit 1
 * on its own, naming the variable and the address, instead of hanging with a Worker that never runs.
 * Real processes against the shared dev server and versitygw; the port is held by a real listener.
 * A namespace the server does not have ends the same way (exit 2, pointing at `rdd setup`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices, uniqueTaskQueue } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** Children still running when the file ends (a hang): killed in afterAll. */
const children = new Set<ChildProcess>();

/** Runs `rdd worker` with only `env` (plus PATH/HOME); resolves when the process has exited. */
function rddWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RDD, 'worker'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stderr });
    });
  });
}

function workerEnv(overrides: Record<string, string>): Record<string, string> {
  const { s3, temporalAddress, namespace } = testServices();
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    TASK_QUEUE: uniqueTaskQueue('bind-taken'),
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    // Never called: the worker stops before it polls.
    DETECTOR_URL: 'http://127.0.0.1:9',
    ...overrides,
  };
}

describe('rdd worker with a taken port', () => {
  let taken: Server;
  let address: string;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(taken.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await new Promise((resolve) => taken.close(resolve));
  });

  // No time assertion: before the fix the process never exited, so the test's timeout fails it.
  it('exits 1 naming RDD_HEALTH_BIND and the address when the health port is taken', async () => {
    const { code, stderr } = await rddWorker(workerEnv({ RDD_HEALTH_BIND: address }));
    expect(code).toBe(1);
    expect(stderr).toContain(`RDD_HEALTH_BIND`);
    expect(stderr).toContain(`cannot listen on ${address}`);
    expect(stderr).toContain('EADDRINUSE');
  }, 60_000);

  it('exits 1 naming RDD_METRICS_BIND and the address when the metrics port is taken', async () => {
    const { code, stderr } = await rddWorker(workerEnv({ RDD_METRICS_BIND: address }));
    expect(code).toBe(1);
    expect(stderr).toContain('RDD_METRICS_BIND');
    expect(stderr).toContain(`cannot listen on ${address}`);
  }, 60_000);
});

describe('rdd worker on a namespace the server does not have', () => {
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  // No time assertion: before the fix the process printed the SDK's TransportError and never exited.
  it('exits 2 naming TEMPORAL_NAMESPACE and `rdd setup`, with health on', async () => {
    const { code, stderr } = await rddWorker(
      workerEnv({ TEMPORAL_NAMESPACE: `missing-${Date.now().toString(36)}`, RDD_HEALTH_BIND: '127.0.0.1:0' }),
    );
    expect(stderr).toMatch(/TEMPORAL_NAMESPACE: the namespace missing-\S+ does not exist/);
    expect(stderr).toContain('rdd setup');
    expect(code).toBe(2);
  }, 60_000);
});

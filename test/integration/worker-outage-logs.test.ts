/**
 * `rdd worker`'s log during a Temporal outage (issue 10's log flood, review 911): Core's per-call
 * `gRPC call … retried N times` warnings never reach the log; one line says Temporal is
 * unreachable and one that it answers again. A real worker process against a Temporal dev server
 * of this file's own, stopped and restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ownTemporal, type OwnTemporal } from '../helpers/own-temporal.ts';
import { testServices, uniqueTaskQueue } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** The worker's stdout lines parsed as JSON (other lines skipped). */
function jsonLines(text: string): { level?: string; message?: string }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level?: string; message?: string });
}

async function until(check: () => boolean, what: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(200);
  }
}

describe('rdd worker during a Temporal outage', () => {
  let temporal: OwnTemporal | undefined;
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await temporal?.close();
  });

  it('writes one line when Temporal goes away and one when it is back, no retry flood', async () => {
    temporal = await ownTemporal();
    const { s3 } = testServices();
    let stdout = '';
    worker = spawn(process.execPath, [RDD, 'worker'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        TASK_QUEUE: uniqueTaskQueue('outage-logs'),
        DETECTOR_URL: 'http://127.0.0.1:9',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    });
    worker.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    worker.stderr!.resume();
    const messages = () => jsonLines(stdout).map((line) => line.message ?? '');
    await until(
      () => messages().some((m) => m.startsWith('worker polling')),
      () => stdout,
      60_000,
    );

    await temporal.stop();
    // Long enough for Core to retry its polls many times.
    await sleep(12_000);
    const during = messages();
    expect(during.filter((m) => m.includes(`Temporal at ${temporal!.address} is unreachable`))).toHaveLength(
      1,
    );
    expect(during.filter((m) => /gRPC call \S+ retried \d+ times/.test(m))).toEqual([]);

    await temporal.start();
    await until(
      () => messages().some((m) => m.includes(`Temporal at ${temporal!.address} answers again`)),
      () => stdout,
      90_000,
    );
    expect(messages().filter((m) => /retried \d+ times/.test(m) && !m.includes('Temporal at'))).toEqual([]);
    expect(worker.exitCode).toBeNull();
  }, 180_000);
});

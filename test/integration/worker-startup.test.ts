/**
 * `rdd worker`'s start-up check of the result bucket (review 5, item 2): a missing bucket exits 2
 * before anything else, naming it; S3 that does not answer is retried with back-off, then exit 1.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { CliError, ExitCode } from '../../src/starters/exit-codes.ts';
import { checkResultBucket } from '../../src/starters/result-bucket-check.ts';
import { rejection } from '../helpers/rejection.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** Runs `rdd worker` with only `env` (plus PATH/HOME), so neither the shell nor .stack/env leaks in. */
function rddWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RDD, 'worker'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

function workerEnv(overrides: Record<string, string>): Record<string, string> {
  const { s3 } = testServices();
  return {
    S3_ENDPOINT: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_RESULT_BUCKET: s3.bucket,
    DETECTOR_URL: 'http://127.0.0.1:9',
    // Nothing listens there: the worker must stop at the bucket check, before Temporal.
    TEMPORAL_ADDRESS: '127.0.0.1:9',
    WORKER_CONNECT_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

describe('checkResultBucket', () => {
  it('passes for a bucket that exists', async () => {
    const s3 = s3Client();
    await checkResultBucket(s3, testServices().s3.bucket, { endpoint: 'test', timeoutMs: 1000 });
    s3.destroy();
  });

  it('fails with exit 2 naming a missing bucket and the variable to set', async () => {
    const s3 = s3Client();
    const missing = `rdd-missing-${randomUUID().slice(0, 8)}`;
    const err = await rejection(checkResultBucket(s3, missing, { endpoint: 'test', timeoutMs: 1000 }));
    s3.destroy();
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Usage);
    expect((err as CliError).message).toBe(
      `the result bucket ${missing} does not exist: create it or set S3_RESULT_BUCKET`,
    );
  });

  it('retries S3 that does not answer with back-off, then fails with exit 1 in one line', async () => {
    const { s3 } = testServices();
    const unreachable = createS3Client({
      endpoint: 'http://127.0.0.1:9',
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const retries: Array<{ reason: string; delayMs: number }> = [];
    const started = Date.now();
    const err = await rejection(
      checkResultBucket(unreachable, 'results', {
        endpoint: 'http://127.0.0.1:9',
        timeoutMs: 700,
        initialDelayMs: 100,
        onRetry: ({ reason, delayMs }) => retries.push({ reason, delayMs }),
      }),
    );
    unreachable.destroy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[0]).toEqual({ reason: 'ECONNREFUSED', delayMs: 100 });
    expect(retries[1]!.delayMs).toBeGreaterThan(100); // backs off (or is clipped to what is left)
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Failed);
    expect((err as CliError).message).toMatch(
      /^cannot reach S3 at http:\/\/127\.0\.0\.1:9 to check the result bucket results \(ECONNREFUSED\); giving up after \d+ s \(WORKER_CONNECT_TIMEOUT_MS\)$/,
    );
  });
});

describe('rdd worker at start-up', () => {
  it('exits 2 when the result bucket does not exist, before connecting to Temporal', async () => {
    const missing = `rdd-missing-${randomUUID().slice(0, 8)}`;
    const { code, stderr } = await rddWorker(workerEnv({ S3_RESULT_BUCKET: missing }));
    expect(code).toBe(2);
    expect(stderr).toBe(
      `rdd worker: the result bucket ${missing} does not exist: create it or set S3_RESULT_BUCKET\n`,
    );
  });

  it('exits 2 for an invalid bucket name, with every other config problem', async () => {
    const { code, stderr } = await rddWorker(
      workerEnv({ S3_RESULT_BUCKET: 'Results_2024', WORKER_SHUTDOWN_GRACE_MS: '-1' }),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('S3_RESULT_BUCKET "Results_2024" is not a valid S3 bucket name');
    expect(stderr).toContain('WORKER_SHUTDOWN_GRACE_MS must be a positive integer, got "-1"');
  });

  it('exits 1 with one line when S3 stays unreachable', async () => {
    const { code, stderr } = await rddWorker(
      workerEnv({ S3_ENDPOINT: 'http://127.0.0.1:9', WORKER_CONNECT_TIMEOUT_MS: '1500' }),
    );
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^rdd worker: cannot reach S3 at http:\/\/127\.0\.0\.1:9 to check the result bucket \S+ \(ECONNREFUSED\); giving up after \d+ s/,
    );
    expect(lines.slice(0, -1).every((line) => line.includes('retrying in'))).toBe(true);
  });
});

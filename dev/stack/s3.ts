/** Launches versitygw (posix backend) as the local S3 server and creates the media bucket. */
import type { S3Client } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import { LOOPBACK } from './ports.ts';
import { type LaunchOptions, type ServiceProcess, spawnService, waitHealthy } from './process.ts';
import { findTool } from './tools.ts';

/** Fixed credentials of the local S3 server; it listens on 127.0.0.1 only. */
export const LOCAL_S3_CREDENTIALS = {
  accessKeyId: 'rdd-local',
  secretAccessKey: 'rdd-local-secret',
  region: 'us-east-1',
} as const;

/** Options of `startS3`. */
export interface S3Options extends LaunchOptions {
  port: number;
  /** Directory whose subdirectories are the buckets. */
  dataDir: string;
  /** Created when missing. */
  bucket: string;
  /**
   * Where versitygw posts its S3 event notifications (AWS `Records[]`). Something must answer it
   * before the start: versitygw posts a test event and exits when nobody does.
   */
  eventWebhookUrl?: string;
}

/** A healthy S3 server with the bucket in place. */
export interface S3Service {
  process: ServiceProcess;
  endpoint: string;
  bucket: string;
}

/**
 * Starts versitygw on 127.0.0.1, waits until ListBuckets succeeds, then creates `bucket`
 * (idempotent: an existing bucket is kept with its objects).
 * @throws ToolNotFoundError when `versitygw` is not installed; ServiceStartError when it does not come up.
 * @example const s3 = await startS3({ port: 7070, dataDir: '.stack/s3', bucket: 'rdd-media', logDir, detach: false, timeoutMs: 30_000 })
 */
export async function startS3(options: S3Options): Promise<S3Service> {
  mkdirSync(options.dataDir, { recursive: true });
  const child = await spawnService({
    name: 's3',
    command: findTool('versitygw'),
    args: [
      '--port',
      `${LOOPBACK}:${options.port}`,
      '--region',
      LOCAL_S3_CREDENTIALS.region,
      '--quiet',
      'posix',
      options.dataDir,
    ],
    // Through the environment rather than argv, so they do not show in `ps`.
    env: {
      ...process.env,
      ROOT_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      ROOT_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      // The URL may carry ?token=…: the environment keeps it out of `ps`.
      ...(options.eventWebhookUrl !== undefined && { VGW_EVENT_WEBHOOK_URL: options.eventWebhookUrl }),
    },
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  const endpoint = `http://${LOOPBACK}:${options.port}`;
  const { S3Client, ListBucketsCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint,
    region: LOCAL_S3_CREDENTIALS.region,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    maxAttempts: 1,
  });
  try {
    await waitHealthy(
      child,
      async () => (await client.send(new ListBucketsCommand({}))).$metadata.httpStatusCode === 200,
      {
        timeoutMs: options.timeoutMs,
        what: `S3 ListBuckets at ${endpoint}`,
      },
    );
    await ensureBucket(client, options.bucket);
  } finally {
    client.destroy();
  }
  return { process: child, endpoint, bucket: options.bucket };
}

/**
 * Creates `bucket` unless it exists (owned by these credentials); idempotent.
 * @throws the S3 error for anything else (no access, server down).
 * @example await ensureBucket(client, 'rdd-media')
 */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

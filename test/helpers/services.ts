/**
 * The real services a test run shares: one Temporal dev server and one versitygw, started once by
 * the global setup (global-setup.ts) on free ports and handed to test files through vitest's
 * `provide`/`inject`. Tests isolate themselves by task queue (`uniqueTaskQueue`) and key prefix.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** Connection details of the shared test services. */
export interface TestServices {
  /** `127.0.0.1:<port>` of the Temporal frontend. */
  temporalAddress: string;
  namespace: string;
  /** The Temporal Web UI, for browser tests. */
  temporalUiUrl?: string;
  s3: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** A bucket that exists; share it, prefixing keys per test. */
    bucket: string;
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testServices: TestServices;
  }
}

/**
 * The shared services; call it inside a test or hook (or at module level of a test file).
 * @throws Error when the global setup did not run (a test started outside `npm test`).
 * @example const { temporalAddress, namespace } = testServices();
 */
export function testServices(): TestServices {
  const services = inject('testServices');
  if (!services)
    throw new Error('testServices: the vitest global setup (test/helpers/global-setup.ts) did not run');
  return services;
}

/**
 * An S3 client for the shared versitygw (path-style, its local credentials).
 * @example await s3Client().send(new PutObjectCommand({ Bucket: testServices().s3.bucket, Key, Body }))
 */
export function s3Client(): S3Client {
  const { s3 } = testServices();
  return createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

/**
 * A task queue no other test (or earlier run against the same server) uses.
 * @example uniqueTaskQueue('detect') // 'detect-4821-1f3a9c2e'
 */
export function uniqueTaskQueue(name: string): string {
  return `${name}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

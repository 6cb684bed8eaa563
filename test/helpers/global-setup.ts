/**
 * Vitest global setup: starts ONE real Temporal dev server (in-memory, with its Web UI) and ONE
 * real versitygw with a test bucket, on free ports, once per run, and provides their addresses
 * (see services.ts). The teardown stops both; if vitest dies first, the stack's orphan guard does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack } from '../../dev/stack/index.ts';
import type { TestServices } from './services.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-test-stack-'));
  const stack = await startStack({
    dir,
    worker: false,
    emulator: false,
    persist: false,
    bucket: 'rdd-test',
    api: false,
    ports: { temporal: 0, temporalUi: 0, s3: 0 },
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const { env } = stack;
  const services: TestServices = {
    temporalAddress: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    temporalUiUrl: env.TEMPORAL_UI_URL,
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.AWS_REGION,
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      bucket: env.S3_BUCKET,
    },
  };
  project.provide('testServices', services);
  return async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * `rdd stack up --s3-events` as a library call (`startStack({ s3Events: true })`) in a temp dir:
 * versitygw starts after the API with its webhook on `${RDD_API_URL}/v1/s3-events?token=…` (a
 * bearer token is set), the default rule file maps calls/{customer}/{call}.wav →
 * references/{customer}.wav, and a plain PUT of a call runs a detection whose result document
 * lands in S3. Nothing posts an event but versitygw.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../../dev/stack/index.ts';
import { connectClient } from '../../src/client/connection.ts';
import { waitForDetection } from '../../src/client/detections.ts';
import { s3EventDetectionId } from '../../src/client/object-detections.ts';
import { loadClientConfig } from '../../src/config.ts';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { speechWav } from '../helpers/audio.ts';

const TOKEN = 'stack-webhook_token-42';
let dir: string;
let stack: RunningStack;
let savedToken: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rdd-stack-s3-events-'));
  savedToken = process.env.RDD_API_TOKEN;
  process.env.RDD_API_TOKEN = TOKEN;
  stack = await startStack({
    dir,
    s3Events: true,
    temporalUi: false,
    persist: false,
    ports: { temporal: 0, temporalUi: 0, s3: 0, emulator: 0, api: 0 },
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (savedToken === undefined) delete process.env.RDD_API_TOKEN;
  else process.env.RDD_API_TOKEN = savedToken;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rdd stack up --s3-events', () => {
  it('writes the default rules and hands them to the API', () => {
    expect(stack.env.S3_EVENT_RULES).toBe(path.join(dir, 's3-event-rules.json'));
    expect(JSON.parse(readFileSync(stack.env.S3_EVENT_RULES!, 'utf8'))).toEqual([
      { match: 'calls/{customer}/{call}.wav', reference: 'references/{customer}.wav' },
    ]);
    expect(stack.env.RDD_API_TOKEN).toBe(TOKEN);
  });

  it('a PUT of a call runs a detection and writes its result document', async () => {
    const env = { ...stack.env };
    const s3 = createS3Client(loadClientConfig(env).storage);
    const client = await connectClient(env);
    try {
      const bucket = stack.env.S3_BUCKET;
      const ref = await speechWav({ text: 'The reference voice of the customer acme.', voice: 'en+m3' });
      const call = await speechWav({ text: 'A call recording that lands in the bucket.', voice: 'en+f3' });
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'references/acme.wav', Body: readFileSync(ref) }),
      );
      const key = 'calls/acme/call 1.wav';
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(call) }));
      const workflowId = s3EventDetectionId({ bucket, key, etag: put.ETag });

      // The webhook delivers asynchronously: wait for the workflow to exist, then for its end.
      let view = await waitForDetection(client, workflowId, { timeoutMs: 120_000 });
      for (let i = 0; view.state === 'not-found' && i < 150; i++) {
        await sleep(200);
        view = await waitForDetection(client, workflowId, { timeoutMs: 120_000 });
      }
      expect(view.state).toBe('completed');
      const document = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: `results/${workflowId}.json` }),
      );
      const result = JSON.parse(await document.Body!.transformToString()) as Record<string, unknown>;
      expect(result).toMatchObject({ questioned: { bucket, key } });
    } finally {
      s3.destroy();
      await client.connection.close();
    }
  }, 180_000);
});

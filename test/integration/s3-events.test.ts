/**
 * `POST /v1/s3-events` on real parts: a fastify instance with just the s3-events plugin over real
 * HTTP, the real Temporal dev server, an emulator and a worker (detection harness), and a
 * versitygw of this file's own whose event webhook points at that fastify instance, so a real PUT
 * travels versitygw → webhook → detection → result document.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK, pickPort } from '../../dev/stack/ports.ts';
import { LOCAL_S3_CREDENTIALS } from '../../dev/stack/s3.ts';
import { findTool } from '../../dev/stack/tools.ts';
import { s3EventsRoutes } from '../../src/api/s3-events.ts';
import { waitForDetection } from '../../src/client/detections.ts';
import { s3EventDetectionId } from '../../src/client/object-detections.ts';
import { parseEventRules } from '../../src/shared/event-rules.ts';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { speechPairBytes } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

const BUCKET = 'rdd-events';
let harness: Harness;
let app: FastifyInstance;
let appUrl: string;
let hook: FastifyInstance;
let hookUrl: string;
let versitygw: ChildProcess;
let dataDir: string;
let s3: S3Client;
let prefix: string;
const logLines: Record<string, unknown>[] = [];
let reference: Buffer;
let questioned: Buffer;

beforeAll(async () => {
  ({ reference, questioned } = await speechPairBytes());
  const s3Port = await pickPort(0, new Set());
  const endpoint = `http://${LOOPBACK}:${s3Port}`;
  // The worker reads media from this file's versitygw, where the webhook-enabled PUTs land.
  harness = await startHarness(
    {},
    {
      workerEnv: {
        S3_ENDPOINT: endpoint,
        S3_BUCKET: BUCKET,
        AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      },
    },
  );
  prefix = harness.taskQueue;
  const logger = {
    level: 'info',
    stream: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
  };
  // Two instances of the route: versitygw's webhook posts every PUT of this file to `hook`, whose
  // rule takes only `webhook/` keys, so the events this file posts itself to `app` (rule for
  // `calls/`) never race a webhook delivery of the same object.
  app = Fastify({ logger });
  await app.register(s3EventsRoutes, {
    client: harness.client,
    rules: parseEventRules([
      { match: `${prefix}/calls/{customer}/{call}.wav`, reference: `${prefix}/references/{customer}.wav` },
    ]),
    taskQueue: harness.taskQueue,
  });
  appUrl = await app.listen({ host: LOOPBACK, port: 0 });
  hook = Fastify({ logger });
  await hook.register(s3EventsRoutes, {
    client: harness.client,
    rules: parseEventRules([
      { match: `${prefix}/webhook/{customer}/{call}.wav`, reference: `${prefix}/references/{customer}.wav` },
    ]),
    taskQueue: harness.taskQueue,
  });
  hookUrl = await hook.listen({ host: LOOPBACK, port: 0 });

  // versitygw posts a test event to the webhook when it starts and exits if nobody answers: the
  // route must be up first.
  dataDir = mkdtempSync(path.join(tmpdir(), 'rdd-s3-events-'));
  versitygw = spawn(
    findTool('versitygw'),
    [
      '--port',
      `${LOOPBACK}:${s3Port}`,
      '--event-webhook-url',
      `${hookUrl}/v1/s3-events`,
      '--quiet',
      'posix',
      dataDir,
    ],
    {
      env: {
        ...process.env,
        ROOT_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        ROOT_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      },
      stdio: 'ignore',
    },
  );
  s3 = createS3Client({
    endpoint,
    region: LOCAL_S3_CREDENTIALS.region,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  for (let i = 0; ; i++) {
    try {
      await s3.send(new ListBucketsCommand({}));
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  versitygw?.kill('SIGTERM');
  await app?.close();
  await hook?.close();
  s3?.destroy();
  await harness?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function put(key: string, body: Buffer): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag!;
}

/** An AWS-shaped record (keys URL-encoded, ETag unquoted), as S3 → SNS/SQS/Lambda deliver it. */
function awsRecord(key: string, etag: string, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'rdd',
      bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
      object: {
        key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
        size: 1,
        eTag: etag.replace(/"/g, ''),
        sequencer: '0A1B2C3D4E5F678901',
      },
    },
  };
}

interface Entry {
  bucket: string;
  key: string;
  workflowId: string;
  reason?: string;
}
/** The 202 answer, or a problem document (status, errors). */
interface Answer {
  started: Entry[];
  existing: Entry[];
  ignored: Entry[];
  status?: number;
  errors?: { path: string }[];
}

async function post(body: unknown): Promise<{ status: number; type: string | null; body: Answer }> {
  const response = await fetch(`${appUrl}/v1/s3-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Answer,
  };
}

/** Waits until a workflow with this id exists (the webhook is delivered asynchronously). */
async function waitForWorkflow(workflowId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await harness.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

describe('POST /v1/s3-events', () => {
  it('starts one detection for an AWS event posted twice, and it records a result', async () => {
    await put(`${prefix}/references/acme.wav`, reference);
    const key = `${prefix}/calls/acme/call 1+x.wav`; // URL-encoded in the record: `call+1%2Bx.wav`
    const etag = await put(key, questioned);
    const workflowId = s3EventDetectionId({ bucket: BUCKET, key, etag });

    const first = await post({ Records: [awsRecord(key, etag)] });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ started: [{ bucket: BUCKET, key, workflowId }], existing: [], ignored: [] });
    const runId = (await harness.client.workflow.getHandle(workflowId).describe()).runId;

    const second = await post({ Records: [awsRecord(key, etag)] });
    expect(second.status).toBe(202);
    expect(second.body).toEqual({
      started: [],
      existing: [{ bucket: BUCKET, key, workflowId }],
      ignored: [],
    });
    expect((await harness.client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);

    const view = await waitForDetection(harness.client, workflowId, { timeoutMs: 30_000 });
    expect(view.state).toBe('completed');
    if (view.state !== 'completed') return;
    expect(view.result.questioned).toMatchObject({ bucket: BUCKET, key });
    expect(view.result.reference).toMatchObject({ bucket: BUCKET, key: `${prefix}/references/acme.wav` });
    expect(view.result.resultLocation).toEqual({ bucket: BUCKET, key: `results/${workflowId}.json` });
  });

  it('treats a replayed event (same ETag, another delivery) as the same detection', async () => {
    await put(`${prefix}/references/beta.wav`, reference);
    const key = `${prefix}/calls/beta/2.wav`;
    const etag = await put(key, questioned);
    const first = await post({ Records: [awsRecord(key, etag)] });
    expect(first.body.started).toHaveLength(1);
    const workflowId = first.body.started[0]!.workflowId;
    const runId = (await harness.client.workflow.getHandle(workflowId).describe()).runId;
    // A later delivery of the same version: another event name and time, the ETag quoted.
    const replay = { ...awsRecord(key, etag, 's3:ObjectCreated:Copy'), eventTime: '2030-01-01T00:00:00Z' };
    replay.s3.object.eTag = etag;
    const again = await post({ Records: [replay, awsRecord(key, etag)] });
    expect(again.status).toBe(202);
    expect(again.body.started).toEqual([]);
    expect(again.body.existing).toEqual([
      { bucket: BUCKET, key, workflowId },
      { bucket: BUCKET, key, workflowId },
    ]);
    expect((await harness.client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);
    // A new upload under the key is a new version: a new detection (once the first one is done,
    // which would otherwise fail MediaChanged: the object changed under it).
    expect((await waitForDetection(harness.client, workflowId, { timeoutMs: 30_000 })).state).toBe(
      'completed',
    );
    const newEtag = await put(key, Buffer.concat([questioned, Buffer.alloc(32)]));
    const newVersion = await post({ Records: [awsRecord(key, newEtag)] });
    expect(newVersion.body.started).toEqual([
      { bucket: BUCKET, key, workflowId: s3EventDetectionId({ bucket: BUCKET, key, etag: newEtag }) },
    ]);
    expect(newVersion.body.started[0]!.workflowId).not.toBe(workflowId);
  });

  it('acknowledges and logs objects no rule matches, and removals, starting nothing', async () => {
    const key = `${prefix}/elsewhere/3.wav`;
    const etag = await put(key, questioned);
    const answer = await post({
      Records: [awsRecord(key, etag), awsRecord(`${prefix}/calls/acme/4.wav`, etag, 'ObjectRemoved:Delete')],
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      started: [],
      existing: [],
      ignored: [
        { bucket: BUCKET, key, reason: 'no rule matches the key' },
        {
          bucket: BUCKET,
          key: `${prefix}/calls/acme/4.wav`,
          reason: 'ObjectRemoved:Delete is not an ObjectCreated event',
        },
      ],
    });
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 's3 event ignored', key, reason: 'no rule matches the key' }),
    );
    await expect(
      harness.client.workflow.getHandle(s3EventDetectionId({ bucket: BUCKET, key, etag })).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('answers a test event with 202 and a malformed notification with a 422 problem naming the field', async () => {
    const probe = await post({ Service: 'S3', Event: 's3:TestEvent', Bucket: BUCKET });
    expect(probe).toMatchObject({ status: 202, body: { started: [], existing: [], ignored: [] } });
    const bad = await post({
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET } } }],
    });
    expect(bad.status).toBe(422);
    expect(bad.type).toMatch(/^application\/problem\+json/);
    // The API's validation problem (src/api/problems.ts), as every other route answers it.
    expect(bad.body).toEqual({
      type: 'urn:rdd:problem:validation',
      title: 'Invalid request',
      status: 422,
      detail: expect.stringMatching(/^the request body is invalid: \/Records\/0\/s3\/object /) as string,
      instance: '/v1/s3-events',
      errors: [{ in: 'body', path: '/Records/0/s3/object', message: expect.any(String) as string }],
    });
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('answers every other error with the same problem documents as the rest of the API', async () => {
    const raw = async (body: string, contentType = 'application/json') => {
      const response = await fetch(`${appUrl}/v1/s3-events?token=secret`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.json()) as Record<string, unknown>,
      };
    };
    // Neither Records nor a test event: the field the schema misses, in the body.
    const empty = await raw('{}');
    expect(empty.status).toBe(422);
    expect(empty.body).toMatchObject({
      type: 'urn:rdd:problem:validation',
      errors: [{ in: 'body', path: '/Records', message: 'Records is required (or Event: s3:TestEvent)' }],
    });
    // Two records wrong at once: both named.
    const two = await raw(
      JSON.stringify({ Records: [{ eventName: 1, s3: {} }, { s3: { bucket: { name: BUCKET } } }] }),
    );
    expect(two.status).toBe(422);
    const paths = (two.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining(['/Records/0/eventName', '/Records/0/s3/bucket', '/Records/1/eventName']),
    );
    // Malformed JSON: fastify's 400 as a problem document, the query (a token) never echoed.
    const malformed = await raw('{"Records": [');
    expect(malformed.status).toBe(400);
    expect(malformed.type).toMatch(/^application\/problem\+json/);
    expect(malformed.body).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: expect.any(String) as string,
      instance: '/v1/s3-events',
    });
    // Not JSON: 415, like every route of the API.
    const text = await raw('Records', 'text/plain');
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ type: 'about:blank', title: 'Unsupported Media Type', status: 415 });
    // Over the body limit (fastify's default 1 MiB here): 413.
    const big = await raw(JSON.stringify({ Records: [], padding: 'x'.repeat(1_100_000) }));
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ type: 'about:blank', title: 'Content Too Large', status: 413 });
    for (const answer of [empty, two, malformed, text, big]) {
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(answer.body)).not.toMatch(/secret|at .*\.ts:\d+/);
    }
  });

  it('answers 503 with the unavailable problem when Temporal does not answer (resending is safe)', async () => {
    // A client whose connection points at a port nothing listens on: the start cannot reach Temporal.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
    const down = Fastify();
    await down.register(s3EventsRoutes, {
      client: new Client({ connection }),
      rules: parseEventRules([{ match: 'calls/{c}/{id}.wav', reference: 'references/{c}.wav' }]),
    });
    try {
      const response = await down.inject({
        method: 'POST',
        url: '/v1/s3-events',
        payload: { Records: [awsRecord('calls/acme/1.wav', '"abc"')] },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toEqual({
        type: 'urn:rdd:problem:unavailable',
        title: 'Dependency unreachable',
        status: 503,
        detail: expect.stringContaining('Temporal cannot be reached') as string,
        instance: '/v1/s3-events',
      });
    } finally {
      await down.close();
      await connection.close();
    }
  });

  it('runs a detection from a real versitygw webhook event after a real PUT', async () => {
    await put(`${prefix}/references/gamma.wav`, reference);
    const key = `${prefix}/webhook/gamma/real call.wav`;
    const etag = await put(key, questioned); // versitygw posts the event to the route by itself
    const workflowId = s3EventDetectionId({ bucket: BUCKET, key, etag });
    await waitForWorkflow(workflowId);
    const view = await waitForDetection(harness.client, workflowId, { timeoutMs: 30_000 });
    expect(view.state).toBe('completed');
    if (view.state !== 'completed') return;
    expect(view.result.questioned).toMatchObject({ bucket: BUCKET, key });
    const document = await s3.send(
      new (await import('@aws-sdk/client-s3')).GetObjectCommand({
        Bucket: BUCKET,
        Key: `results/${workflowId}.json`,
      }),
    );
    expect(JSON.parse(await document.Body!.transformToString())).toMatchObject({
      workflowId,
      verdict: view.result.verdict,
    });
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 's3 event: detection started', workflowId }),
    );
  });
});

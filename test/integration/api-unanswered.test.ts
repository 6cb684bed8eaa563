/**
 * The API when a dependency accepts connections but never answers, and the request errors a fresh
 * user met (issue 8 review): real HTTP, the shared Temporal dev server and versitygw, a worker of
 * this file's own (detection harness). "Temporal down" and "S3 down" are a real TCP server that
 * accepts and never replies, so a call waits until its deadline: every route must answer 503
 * (a hang fails the test through the fetch's own abort).
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument --
   response bodies are read as JSON */
import { request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.ts';
import { startBatch, waitForBatch } from '../../src/client/batches.ts';
import { s3EventDetectionId } from '../../src/client/object-detections.ts';
import { loadApiConfig } from '../../src/config/api.ts';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

let harness: Harness;
let blackHole: Server;
let blackHoleAddress: string;
const sockets = new Set<Socket>();
/** Real Temporal, real S3. */
let live: FastifyInstance;
let liveUrl: string;
/** Temporal is the black hole. */
let noTemporal: FastifyInstance;
let noTemporalUrl: string;
let noTemporalConnection: Connection;
/** S3 is the black hole. */
let noS3: FastifyInstance;
let noS3Url: string;
let deadS3: S3Client;
let batchId: string;
let prefix: string;

beforeAll(async () => {
  blackHole = createServer((socket) => {
    sockets.add(socket); // accepted, never answered
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  blackHoleAddress = `127.0.0.1:${(blackHole.address() as { port: number }).port}`;

  harness = await startHarness({ processing: { fixedMs: 100 } });
  prefix = harness.taskQueue;
  const env = {
    ...harness.env,
    RDD_API_PORT: '0',
    S3_EVENT_RULES: JSON.stringify([
      { match: `${prefix}/calls/{customer}/{call}.wav`, reference: `${prefix}/references/{customer}.wav` },
    ]),
  };
  const config = loadApiConfig(env);
  live = await createApiServer({ client: harness.client, s3: harness.s3, config });
  liveUrl = await live.listen({ host: '127.0.0.1', port: 0 });

  noTemporalConnection = Connection.lazy({ address: blackHoleAddress, connectTimeout: 60_000 });
  noTemporal = await createApiServer({
    client: new Client({ connection: noTemporalConnection, namespace: 'default' }),
    s3: harness.s3,
    config,
  });
  noTemporalUrl = await noTemporal.listen({ host: '127.0.0.1', port: 0 });

  const deadConfig = loadApiConfig({ ...env, S3_ENDPOINT: `http://${blackHoleAddress}` });
  deadS3 = createS3Client(deadConfig.storage);
  noS3 = await createApiServer({ client: harness.client, s3: deadS3, config: deadConfig });
  noS3Url = await noS3.listen({ host: '127.0.0.1', port: 0 });

  // A finished batch with a report, for the report route.
  const voice = await speechWav({ text: 'A recording for the unanswered report.', voice: 'en+m3' });
  const reference = await harness.upload(voice, `${prefix}/batch/ref/ref.wav`);
  await harness.upload(voice, `${prefix}/batch/in/a.wav`);
  ({ batchId } = await startBatch(
    harness.client,
    {
      reference,
      prefix: { bucket: harness.bucket, prefix: `${prefix}/batch/in/` },
      polling: FAST_POLLING,
    },
    { taskQueue: harness.taskQueue },
  ));
  const view = await waitForBatch(harness.client, batchId, { intervalMs: 250, timeoutMs: 90_000 });
  expect(view.state).toBe('completed');
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await live?.close();
  await noTemporal?.close();
  await noS3?.close();
  deadS3?.destroy();
  await noTemporalConnection?.close().catch(() => undefined);
  await new Promise((resolve) => blackHole?.close(resolve));
  await harness?.close();
});

interface Answer {
  status: number;
  type: string;
  body: any;
  text: string;
}

/** Calls the API; a request left unanswered for 60 s fails (aborts) instead of hanging the file. */
async function call(base: string, method: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(60_000), ...init });
  const text = await response.text();
  const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim();
  return { status: response.status, type, text, body: type.endsWith('json') ? JSON.parse(text) : text };
}

function expectProblem(answer: Answer, status: number, detail: RegExp, type = 'about:blank'): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.type).toBe('application/problem+json');
  expect(answer.body).toMatchObject({
    status,
    type,
    title: expect.any(String),
    instance: expect.any(String),
  });
  expect(answer.body.detail).toMatch(detail);
}

const json = { 'content-type': 'application/json' };

function s3Event(key: string, eTag?: string) {
  return JSON.stringify({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: harness.bucket }, object: { key, ...(eTag !== undefined && { eTag }) } },
      },
    ],
  });
}

describe('Temporal accepts connections but never answers', () => {
  it('POST /v1/s3-events answers 503 (bounded like the detection routes), not a hung request', async () => {
    const answer = await call(noTemporalUrl, 'POST', '/v1/s3-events', {
      headers: json,
      body: s3Event(`${prefix}/calls/acme/hang.wav`, 'abc2'),
    });
    expectProblem(answer, 503, /Temporal cannot be reached/, 'urn:rdd:problem:unavailable');
    // The route takes no Idempotency-Key: the advice is its own.
    expect(answer.body.detail).toContain('resending the same events is safe');
    expect(answer.text).not.toContain('Idempotency-Key');
  });

  it('a pause answers 503 saying the change may have been applied, not that resending is safe', async () => {
    const answer = await call(noTemporalUrl, 'POST', '/v1/batches/some-batch/pause');
    expectProblem(answer, 503, /Temporal cannot be reached/, 'urn:rdd:problem:unavailable');
    expect(answer.body.detail).toContain('the change may have been applied');
    expect(answer.text).not.toContain('Idempotency-Key');
  });

  it('a read answers 503 without the start-only Idempotency-Key advice', async () => {
    const answer = await call(noTemporalUrl, 'GET', '/v1/detections/some-id');
    expectProblem(
      answer,
      503,
      /^Temporal cannot be reached; try again later$/,
      'urn:rdd:problem:unavailable',
    );
    expect(answer.text).not.toContain('Idempotency-Key');
  });
});

describe('S3 accepts connections but never answers', () => {
  it('GET /v1/batches/{id}/report as JSON Lines answers 503 naming S3', async () => {
    const answer = await call(noS3Url, 'GET', `/v1/batches/${batchId}/report`, {
      headers: { accept: 'application/x-ndjson' },
    });
    expectProblem(
      answer,
      503,
      /^S3 did not answer within 5 s \(the report of batch /,
      'urn:rdd:problem:unavailable',
    );
    // The same report from a live S3: its rows.
    const rows = await call(liveUrl, 'GET', `/v1/batches/${batchId}/report`, {
      headers: { accept: 'application/x-ndjson' },
    });
    expect(rows.status).toBe(200);
    expect(rows.text.trim().split('\n')).toHaveLength(1);
  });

  it('an S3 event without eTag answers 503 when its HEAD gets no answer', async () => {
    const answer = await call(noS3Url, 'POST', '/v1/s3-events', {
      headers: json,
      body: s3Event(`${prefix}/calls/acme/no-etag.wav`),
    });
    expectProblem(
      answer,
      503,
      /^S3 did not answer within 5 s \(the ETag of s3:\/\//,
      'urn:rdd:problem:unavailable',
    );
  });
});

describe('S3 events without eTag', () => {
  it('get the id of the object version (its ETag from a HEAD), so no second detection starts', async () => {
    const voice = await speechWav({ text: 'An object whose event has no ETag.', voice: 'en+f3' });
    await harness.upload(voice, `${prefix}/references/acme.wav`);
    const key = `${prefix}/calls/acme/etagless.wav`;
    const { ETag } = await harness.s3.send(
      new PutObjectCommand({ Bucket: harness.bucket, Key: key, Body: Buffer.from('not audio, id only') }),
    );
    const workflowId = s3EventDetectionId({ bucket: harness.bucket, key, etag: ETag });
    const withEtag = await call(liveUrl, 'POST', '/v1/s3-events', {
      headers: json,
      body: s3Event(key, ETag!.replace(/"/g, '')),
    });
    expect(withEtag.status, withEtag.text).toBe(202);
    expect(withEtag.body.started).toEqual([{ bucket: harness.bucket, key, workflowId }]);
    const without = await call(liveUrl, 'POST', '/v1/s3-events', { headers: json, body: s3Event(key) });
    expect(without.status, without.text).toBe(202);
    expect(without.body).toEqual({
      started: [],
      existing: [{ bucket: harness.bucket, key, workflowId }],
      ignored: [],
    });
    // An object that is not there (and its event has no ETag): ignored, saying why.
    const gone = await call(liveUrl, 'POST', '/v1/s3-events', {
      headers: json,
      body: s3Event(`${prefix}/calls/acme/never-uploaded.wav`),
    });
    expect(gone.body.ignored).toEqual([
      {
        bucket: harness.bucket,
        key: `${prefix}/calls/acme/never-uploaded.wav`,
        reason: 'the record has no eTag and the object is gone',
      },
    ]);
  });
});

describe('request errors', () => {
  it('a 2000-character id is a 414 problem document that does not echo the path', async () => {
    const id = 'a'.repeat(2000);
    const answer = await call(liveUrl, 'GET', `/v1/detections/${id}`);
    expectProblem(answer, 414, /path segment is longer than 300 characters/);
    expect(answer.body.title).toBe('URI Too Long');
    expect(answer.text).not.toContain('a'.repeat(100));
  });

  it('a prefix window whose modifiedAfter is not before modifiedBefore is a 422 naming the field', async () => {
    const answer = await call(liveUrl, 'POST', '/v1/batches', {
      headers: json,
      body: JSON.stringify({
        reference: { bucket: harness.bucket, key: `${prefix}/batch/ref/ref.wav` },
        prefix: {
          bucket: harness.bucket,
          prefix: `${prefix}/batch/in/`,
          modifiedAfter: '2025-01-01T00:00:00Z',
          modifiedBefore: '2020-01-01T00:00:00Z',
        },
      }),
    });
    expectProblem(
      answer,
      422,
      /prefix\/modifiedAfter must be before \/prefix\/modifiedBefore/,
      'urn:rdd:problem:validation',
    );
    expect(answer.body.errors).toEqual([
      { in: 'body', path: '/prefix/modifiedAfter', message: expect.stringContaining('must be before') },
    ]);
  });

  it('two Idempotency-Key headers are a 400 saying so; a bad one a 422 in plain grammar', async () => {
    const url = new URL(`${liveUrl}/v1/detections`);
    const twice = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          // Two header lines (Node sends one per array element).
          headers: { 'content-type': 'application/json', 'idempotency-key': ['k1', 'k2'] },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              type: (res.headers['content-type'] ?? '').split(';', 1)[0]!,
              text,
              body: JSON.parse(text),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expectProblem(twice, 400, /^Idempotency-Key was sent 2 times; send it once per request$/);
    const spaced = await call(liveUrl, 'POST', '/v1/batches', {
      headers: { ...json, 'idempotency-key': 'has space' },
      body: JSON.stringify({
        reference: { bucket: harness.bucket, key: `${prefix}/batch/ref/ref.wav` },
        prefix: { bucket: harness.bucket, prefix: `${prefix}/batch/in/` },
      }),
    });
    expectProblem(spaced, 422, /^the request headers are invalid: /, 'urn:rdd:problem:validation');
  });
});

describe('the OpenAPI document', () => {
  it('lists 400 and 415 on pause/resume/cancel, and the query token of /v1/s3-events', async () => {
    const doc = (await call(liveUrl, 'GET', '/openapi.json')).body;
    for (const verb of ['pause', 'resume', 'cancel']) {
      const responses = doc.paths[`/v1/batches/{id}/${verb}`].post.responses;
      expect(Object.keys(responses), verb).toEqual(expect.arrayContaining(['400', '415']));
    }
    const s3Events = doc.paths['/v1/s3-events'].post;
    expect(s3Events.parameters).toContainEqual(
      expect.objectContaining({ in: 'query', name: 'token', required: false }),
    );
    expect(s3Events.description).toContain('?token=');
    // And they are answered: a text body is a 415, malformed JSON a 400.
    const text = await call(liveUrl, 'POST', `/v1/batches/${batchId}/pause`, {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    const bad = await call(liveUrl, 'POST', `/v1/batches/${batchId}/pause`, { headers: json, body: '{' });
    expect(bad.status).toBe(400);
  });
});

/**
 * `rdd serve`'s API over real HTTP, against a real worker (detection harness: the shared Temporal
 * dev server and versitygw, an emulator of this file's own): every route, every error status with
 * its problem document, auth on and off, idempotency keys, and the OpenAPI 3.1 document — itself
 * validated, listing exactly the routes, and every real response checked against its schema.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   response bodies are first validated against the document's schema (ajv), then read as JSON */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Client, Connection } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.ts';
import type { ApiPlugin } from '../../src/api/plugins.ts';
import { loadApiConfig, type ApiConfig } from '../../src/config/api.ts';
import { sha256File, speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

const TOKEN = 'test-token_0123456789';

let harness: Harness;
let config: ApiConfig;
/** Auth off, plus a route that throws (hidden from the document). */
let open: FastifyInstance;
let openUrl: string;
/** Auth on. */
let guarded: FastifyInstance;
let guardedUrl: string;
let reference: { bucket: string; key: string };
let questioned: { bucket: string; key: string };
let slowKey: string;
let doc: OpenApiDocument;
let ajv: Ajv2020;
/** `METHOD /path/template` of every operation a real response was validated for. */
const validated = new Set<string>();

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
}

/** A route that fails with an internal error whose message and stack must never reach a client. */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async plugin
const throwingPlugin: ApiPlugin = async (app) => {
  app.get('/test/boom', { schema: { hide: true } }, () => {
    throw new Error('secret internal detail /srv/rdd/src/api/boom.ts:12');
  });
};

beforeAll(async () => {
  const voices = ['en+m3', 'en+f3', 'en+m7'];
  const files = [];
  for (const [i, voice] of voices.entries())
    files.push(await speechWav({ text: `Recording ${i + 1} sent through the HTTP API.`, voice }));
  const slow = await speechWav({ text: 'This API batch pair takes a very long time.', voice: 'en+m1' });
  harness = await startHarness({ fixtures: { [await sha256File(slow)]: { processingMs: 600_000 } } });
  const prefix = `${harness.taskQueue}`;
  reference = await harness.upload(files[0]!, `${prefix}/ref.wav`);
  questioned = await harness.upload(files[1]!, `${prefix}/q1.wav`);
  await harness.upload(files[2]!, `${prefix}/batch/q-a.wav`);
  await harness.upload(files[1]!, `${prefix}/batch/q-b.wav`);
  slowKey = `${prefix}/slow/q-slow.wav`;
  await harness.upload(slow, slowKey);
  await harness.upload(files[2]!, `${prefix}/slow/q-fast.wav`);

  config = loadApiConfig({ ...harness.env, RDD_API_PORT: '0' });
  open = await createApiServer({ client: harness.client, s3: harness.s3, config, plugins: [throwingPlugin] });
  openUrl = await open.listen({ host: '127.0.0.1', port: 0 });
  const guardedConfig = loadApiConfig({ ...harness.env, RDD_API_PORT: '0', RDD_API_TOKEN: TOKEN });
  guarded = await createApiServer({ client: harness.client, s3: harness.s3, config: guardedConfig });
  guardedUrl = await guarded.listen({ host: '127.0.0.1', port: 0 });

  doc = (await (await fetch(`${openUrl}/openapi.json`)).json()) as OpenApiDocument;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
}, 180_000);

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await harness?.close();
});

/** JSON Pointer escaping of one token. */
const escape = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** An answer read fully, with its body parsed by content type. */
interface Answer {
  status: number;
  headers: Headers;
  type: string;
  body: any;
  text: string;
}

/**
 * Calls the API and checks the answer against the document's schema for that operation, status
 * and content type (a response the document does not declare fails the test).
 */
async function call(
  method: string,
  path: string,
  options: {
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    base?: string;
    template?: string;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${options.base ?? openUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim();
  const parsed = /^application\/(.+\+)?json$/.test(type) ? JSON.parse(text) : text;
  const answer = { status: response.status, headers: response.headers, type, body: parsed, text };
  const template = options.template ?? path;
  const operation = doc.paths[template]?.[method.toLowerCase()];
  if (operation !== undefined) {
    const declared = operation.responses[String(answer.status)];
    expect(declared, `${method} ${template} answered ${answer.status}, not in the document`).toBeDefined();
    expect(Object.keys(declared!.content ?? {})).toContain(type);
    const pointer = `openapi.json#/paths/${escape(template)}/${method.toLowerCase()}/responses/${answer.status}/content/${escape(type)}/schema`;
    const valid = ajv.validate({ $ref: pointer }, parsed);
    expect(valid, `${method} ${template} ${answer.status}: ${ajv.errorsText(ajv.errors)}\n${text}`).toBe(
      true,
    );
    if (answer.status < 300) validated.add(`${method.toUpperCase()} ${template}`);
  }
  return answer;
}

/** Asserts a problem document: status, content type, members, no stack trace. */
function expectProblem(answer: Answer, status: number, detail?: RegExp): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.type).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  expect(answer.body.instance).toMatch(/^\//);
  if (detail) expect(answer.body.detail).toMatch(detail);
  expect(answer.text).not.toMatch(/\n\s+at |\.ts:\d+/);
}

/** Reads a detection until it is no longer running. */
async function settledDetection(id: string, base?: string): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await call('GET', `/v1/detections/${id}`, {
      template: '/v1/detections/{id}',
      ...(base && { base }),
    });
    if (answer.body.state !== 'running' || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function batchView(id: string): Promise<Answer> {
  return await call('GET', `/v1/batches/${id}`, { template: '/v1/batches/{id}' });
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document listing exactly the routes', async () => {
    const answer = await call('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(answer.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz',
        '/readyz',
        '/v1/batches',
        '/v1/batches/{id}',
        '/v1/batches/{id}/cancel',
        '/v1/batches/{id}/pause',
        '/v1/batches/{id}/report',
        '/v1/batches/{id}/resume',
        '/v1/detections',
        '/v1/detections/{id}',
      ].sort(),
    );
    expect(doc.paths['/test/boom']).toBeUndefined();
  });
});

describe('detections', () => {
  it('starts once per Idempotency-Key: 201, then 200 with the same workflow; another body is a 409', async () => {
    const key = `${harness.taskQueue}-d1`;
    const body = { reference, questioned, polling: FAST_POLLING };
    const first = await call('POST', '/v1/detections', { body, headers: { 'idempotency-key': key } });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toEqual({ id: `api-detect-${key}`, existing: false });
    expect(first.headers.get('location')).toBe(`/v1/detections/api-detect-${key}`);
    const { runId } = await harness.client.workflow.getHandle(first.body.id).describe();

    const again = await call('POST', '/v1/detections', { body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, existing: true });
    expect((await harness.client.workflow.getHandle(first.body.id).describe()).runId).toBe(runId);

    const other = await call('POST', '/v1/detections', {
      body: { ...body, threshold: 2 },
      headers: { 'idempotency-key': key },
    });
    expectProblem(other, 409, /different request/);
    expect(other.body.type).toBe('urn:rdd:problem:id-conflict');

    const done = await settledDetection(first.body.id);
    expect(done.body.state).toBe('completed');
    expect(done.body.result.workflowId).toBe(first.body.id);
    expect(typeof done.body.result.score).toBe('number');
    expect(await harness.readResult(done.body.result.resultLocation.key)).toMatchObject({
      score: done.body.result.score,
    });
  });

  it('derives the id from the request without a key, and shows a running detection', async () => {
    const body = { reference: questioned, questioned: reference, polling: FAST_POLLING };
    const first = await call('POST', '/v1/detections', { body });
    expect(first.status).toBe(201);
    expect(first.body.id).toMatch(/^detect-[0-9a-f]{32}$/);
    const running = await call('GET', `/v1/detections/${first.body.id}`, { template: '/v1/detections/{id}' });
    expect(['running', 'completed']).toContain(running.body.state);
    const again = await call('POST', '/v1/detections', { body });
    expect(again.body).toEqual({ id: first.body.id, existing: true });
    expect((await settledDetection(first.body.id)).body.state).toBe('completed');
  });

  it('reports a failed detection with its failure type and message', async () => {
    const missing = { bucket: reference.bucket, key: `${harness.taskQueue}/no-such.wav` };
    const started = await call('POST', '/v1/detections', {
      body: { reference: missing, questioned, polling: FAST_POLLING },
    });
    expect(started.status).toBe(201);
    const failed = await settledDetection(started.body.id);
    expect(failed.body.state).toBe('failed');
    expect(failed.body.failure.type).toBe('MediaNotFound');
    expect(failed.body.failure.message).toContain('no-such.wav');
  });

  it('answers 404 for an unknown id and for the id of a batch', async () => {
    expectProblem(
      await call('GET', '/v1/detections/nope-123', { template: '/v1/detections/{id}' }),
      404,
      /no detection nope-123/,
    );
    const batch = await call('POST', '/v1/batches', {
      body: { reference, prefix: { bucket: reference.bucket, prefix: `${harness.taskQueue}/batch/` } },
      headers: { 'idempotency-key': `${harness.taskQueue}-kind` },
    });
    expect(batch.status).toBe(201);
    expectProblem(
      await call('GET', `/v1/detections/${batch.body.id}`, { template: '/v1/detections/{id}' }),
      404,
    );
    expectProblem(await call('GET', '/v1/batches/detect-0', { template: '/v1/batches/{id}' }), 404);
  });
});

describe('request errors are problem documents', () => {
  it('422 names every invalid field by JSON Pointer', async () => {
    const answer = await call('POST', '/v1/detections', {
      body: { reference: { bucket: 'Bad_Bucket', key: 'a.wav', channel: -1 }, upload: 'bytes' },
    });
    expectProblem(answer, 422);
    expect(answer.body.type).toBe('urn:rdd:problem:validation');
    const paths = (answer.body.errors as { in: string; path: string }[]).map((e) => `${e.in}:${e.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'body:/reference/bucket',
        'body:/reference/channel',
        'body:/questioned',
        'body:',
      ]),
    );
    expect(JSON.stringify(answer.body.errors)).toContain('upload');
  });

  it('422 for an Idempotency-Key that cannot be an id, and for a batch without a source', async () => {
    const key = await call('POST', '/v1/detections', {
      body: { reference, questioned },
      headers: { 'idempotency-key': 'a/b' },
    });
    expectProblem(key, 422);
    expect(key.body.errors[0]).toMatchObject({ in: 'headers', path: '/idempotency-key' });
    const batch = await call('POST', '/v1/batches', { body: { concurrency: 0 } });
    expectProblem(batch, 422);
    const paths = (batch.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/concurrency', '/reference', '/prefix']));
  });

  it('422 lists an invalid Idempotency-Key together with the body problems', async () => {
    const answer = await call('POST', '/v1/detections', { body: {}, headers: { 'idempotency-key': 'a/b' } });
    expectProblem(answer, 422, /^the request body and request headers are invalid: /);
    const where = (answer.body.errors as { in: string; path: string }[]).map((e) => `${e.in}:${e.path}`);
    expect(where).toEqual(expect.arrayContaining(['headers:/idempotency-key', 'body:/reference']));
    const batch = await call('POST', '/v1/batches', { body: {}, headers: { 'idempotency-key': 'a b' } });
    expectProblem(batch, 422);
    expect(batch.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: 'headers', path: '/idempotency-key' })]),
    );
  });

  it('an id over 255 characters is a 422, over 300 a 414, both as the document declares them', async () => {
    for (const [template, path] of [
      ['/v1/detections/{id}', (id: string) => `/v1/detections/${id}`],
      ['/v1/batches/{id}', (id: string) => `/v1/batches/${id}`],
      ['/v1/batches/{id}/report', (id: string) => `/v1/batches/${id}/report`],
    ] as const) {
      const long = await call('GET', path('x'.repeat(256)), { template });
      expectProblem(long, 422, /^the path parameters are invalid: \/id /);
      const longer = await call('GET', path('x'.repeat(301)), { template });
      expectProblem(longer, 414);
    }
    const pause = await call('POST', `/v1/batches/${'x'.repeat(301)}/pause`, {
      template: '/v1/batches/{id}/pause',
    });
    expectProblem(pause, 414);
  });

  it('refuses a batch over a whole bucket without a suffix, and compares only valid window bounds', async () => {
    const whole = await call('POST', '/v1/batches', {
      body: { reference, prefix: { bucket: harness.bucket, prefix: '' } },
    });
    expectProblem(whole, 422, /empty prefix takes every object in the bucket/);
    expect(whole.body.errors).toEqual([expect.objectContaining({ in: 'body', path: '/prefix/prefix' })]);
    // With a suffix the empty prefix is accepted (here the batch is refused for its concurrency only).
    const suffixed = await call('POST', '/v1/batches', {
      body: { reference, prefix: { bucket: harness.bucket, prefix: '', suffix: '.wav' }, concurrency: 0 },
    });
    expectProblem(suffixed, 422);
    expect((suffixed.body.errors as { path: string }[]).map((e) => e.path)).toEqual(['/concurrency']);
    const window = await call('POST', '/v1/batches', {
      body: {
        reference,
        prefix: {
          bucket: harness.bucket,
          prefix: 'in/',
          modifiedAfter: '2026-12-02T00:00:00Z',
          modifiedBefore: '2026-12-01',
        },
      },
    });
    expectProblem(window, 422);
    expect((window.body.errors as { path: string }[]).map((e) => e.path)).toEqual(['/prefix/modifiedBefore']);
  });

  it('400 for malformed JSON, 413 for a body over the limit, 415 for another content type', async () => {
    expectProblem(
      await call('POST', '/v1/detections', {
        raw: '{"reference": ',
        headers: { 'content-type': 'application/json' },
      }),
      400,
    );
    const big = { reference, questioned, config: { padding: 'x'.repeat(config.api.bodyLimitBytes) } };
    expectProblem(await call('POST', '/v1/detections', { body: big }), 413);
    expectProblem(
      await call('POST', '/v1/detections', { raw: 'reference=a', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    expectProblem(
      await call('POST', '/v1/detections', {
        raw: 'x',
        headers: { 'content-type': 'application/octet-stream' },
      }),
      415,
    );
  });

  it('404 for an unknown route; 500 without a stack trace or the internal message', async () => {
    expectProblem(await call('GET', '/v1/nothing-here'), 404, /no route GET \/v1\/nothing-here/);
    const boom = await call('GET', '/test/boom');
    expectProblem(boom, 500, /internal error/);
    expect(boom.text).not.toContain('secret');
    expect(boom.text).not.toContain('boom.ts');
  });
});

describe('auth', () => {
  it('requires the bearer token on every route but health, readiness and the document', async () => {
    const base = guardedUrl;
    const none = await call('GET', '/v1/detections/x', { base, template: '/v1/detections/{id}' });
    expectProblem(none, 401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="rdd"$/);
    const wrong = await call('POST', '/v1/detections', {
      base,
      body: { reference, questioned },
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expectProblem(wrong, 401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // An unknown route says 401 too: without the token, nothing about the API is revealed.
    expectProblem(await call('GET', '/v1/unknown', { base }), 401);

    const right = await call('POST', '/v1/detections', {
      base,
      body: { reference, questioned, polling: FAST_POLLING },
      headers: { authorization: `Bearer ${TOKEN}`, 'idempotency-key': `${harness.taskQueue}-auth` },
    });
    expect(right.status).toBe(201);
    expect((await call('GET', '/healthz', { base })).status).toBe(200);
    expect((await call('GET', '/readyz', { base })).status).toBe(200);
    const document = await call('GET', '/openapi.json', { base });
    expect(document.body.security).toEqual([{ bearer: [] }]);
    expect(document.body.paths['/healthz'].get.security).toEqual([]);
  });

  it('leaves every route open without a token configured', async () => {
    expect(doc).not.toHaveProperty('security');
    expect((await call('GET', '/v1/detections/x', { template: '/v1/detections/{id}' })).status).toBe(404);
  });
});

describe('batches', () => {
  it('runs a batch once per key and serves its report as links and as JSON Lines', async () => {
    const key = `${harness.taskQueue}-b1`;
    const body = {
      reference,
      prefix: { bucket: reference.bucket, prefix: `${harness.taskQueue}/batch/`, suffix: '.wav' },
      polling: FAST_POLLING,
    };
    const first = await call('POST', '/v1/batches', { body, headers: { 'idempotency-key': key } });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toEqual({ id: `api-batch-${key}`, existing: false });
    expect(first.headers.get('location')).toBe(`/v1/batches/api-batch-${key}`);
    const again = await call('POST', '/v1/batches', { body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(200);
    expect(again.body.existing).toBe(true);
    expectProblem(
      await call('POST', '/v1/batches', {
        body: { ...body, threshold: 1 },
        headers: { 'idempotency-key': key },
      }),
      409,
    );

    let view = await batchView(first.body.id);
    const deadline = Date.now() + 90_000;
    while (view.body.state === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      view = await batchView(first.body.id);
    }
    expect(view.body.state).toBe('completed');
    expect(view.body.summary.counts.scored).toBe(2);

    const links = await call('GET', `/v1/batches/${first.body.id}/report`, {
      template: '/v1/batches/{id}/report',
    });
    expect(links.status).toBe(200);
    expect(links.body.jsonl).toBe(
      `s3://${view.body.summary.files.jsonl.bucket}/${view.body.summary.files.jsonl.key}`,
    );
    expect(links.body.status).toBe('completed');
    const rows = await call('GET', `/v1/batches/${first.body.id}/report`, {
      template: '/v1/batches/{id}/report',
      headers: { accept: 'application/x-ndjson' },
    });
    expect(rows.status).toBe(200);
    expect(rows.type).toBe('application/x-ndjson');
    const lines = rows.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((row) => row.questioned).sort()).toEqual(
      [
        `s3://${reference.bucket}/${harness.taskQueue}/batch/q-a.wav`,
        `s3://${reference.bucket}/${harness.taskQueue}/batch/q-b.wav`,
      ].sort(),
    );

    const late = await call('POST', `/v1/batches/${first.body.id}/cancel`, {
      template: '/v1/batches/{id}/cancel',
    });
    expectProblem(late, 409);
    expect(late.body.type).toBe('urn:rdd:problem:update-refused');
  }, 120_000);

  it('pauses, refuses a second pause, resumes and cancels a running batch; no report until it ends', async () => {
    const started = await call('POST', '/v1/batches', {
      body: {
        reference,
        prefix: { bucket: reference.bucket, prefix: `${harness.taskQueue}/slow/` },
        polling: FAST_POLLING,
      },
    });
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    const steer = (name: string) =>
      call('POST', `/v1/batches/${id}/${name}`, { template: `/v1/batches/{id}/${name}` });

    const paused = await steer('pause');
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.paused).toBe(true);
    const twice = await steer('pause');
    expectProblem(twice, 409, /already paused/);
    const resumed = await steer('resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body.paused).toBe(false);

    const running = await batchView(id);
    expect(running.body.state).toBe('running');
    expect(running.body.progress).toMatchObject({ cancelled: false });
    const early = await call('GET', `/v1/batches/${id}/report`, { template: '/v1/batches/{id}/report' });
    expectProblem(early, 409, /still running/);

    const cancelled = await steer('cancel');
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.cancelled).toBe(true);
    let view = running;
    const deadline = Date.now() + 60_000;
    while (view.body.state === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      view = await batchView(id);
    }
    expect(view.body.summary.status).toBe('cancelled');
    const report = await call('GET', `/v1/batches/${id}/report`, { template: '/v1/batches/{id}/report' });
    expect(report.body.status).toBe('cancelled');
    expect(slowKey).toContain('/slow/');
  }, 120_000);
});

describe('health', () => {
  it('healthz answers; readyz checks Temporal and S3', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { temporal: { ok: true }, s3: { ok: true } } });
  });

  it('readyz is 503 naming what is down, and a start is 503 while Temporal is unreachable', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
    const down = new Client({ connection, namespace: 'default' });
    const broken = loadApiConfig({ ...harness.env, S3_BUCKET: 'rdd-no-such-bucket-api' });
    const app = await createApiServer({ client: down, s3: harness.s3, config: broken });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const t0 = Date.now();
      const ready = await call('GET', '/readyz', { base });
      expect(Date.now() - t0).toBeLessThan(5_000);
      expectProblem(ready, 503, /temporal: .*s3: bucket rdd-no-such-bucket-api: HTTP 404/);
      expect(ready.body.checks.temporal.ok).toBe(false);
      expect(ready.body.checks.s3.ok).toBe(false);
      const since = Date.now();
      const start = await call('POST', '/v1/detections', { base, body: { reference, questioned } });
      expectProblem(start, 503, /Temporal cannot be reached/);
      // Bounded by the route's Temporal deadline (5 s), not the client's retries (~18 s).
      expect(Date.now() - since).toBeLessThan(10_000);
    } finally {
      await app.close();
      await connection.close().catch(() => undefined);
    }
  });
});

describe('coverage of the document', () => {
  it('validated a real success response of every operation the document lists', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((operation) => !validated.has(operation))).toEqual([]);
  });
});

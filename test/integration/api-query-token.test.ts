/**
 * The S3 webhook's token in the query (`POST /v1/s3-events?token=…`, for targets like versitygw's
 * that send no Authorization header): accepted on that route only, a wrong one refused, and the
 * query string never in a log line (fastify's request log captured, grepped for the token).
 * Real HTTP, the shared Temporal dev server.
 */
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.ts';
import { loadApiConfig } from '../../src/config/api.ts';
import { s3Client, testServices, uniqueTaskQueue } from '../helpers/services.ts';

const TOKEN = 'webhook-query_token-9f8e7d';
const logLines: string[] = [];
let app: FastifyInstance;
let url: string;
let connection: Connection;
const s3 = s3Client();
const taskQueue = uniqueTaskQueue('query-token');

beforeAll(async () => {
  const services = testServices();
  connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection, namespace: services.namespace });
  const config = loadApiConfig({
    S3_BUCKET: services.s3.bucket,
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.namespace,
    RDD_TASK_QUEUE: taskQueue,
    RDD_API_TOKEN: TOKEN,
    S3_EVENT_RULES: JSON.stringify([
      { match: `${taskQueue}/calls/{c}/{id}.wav`, reference: `${taskQueue}/refs/{c}.wav` },
    ]),
  });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  app = await createApiServer({ client, s3, config, logger: { level: 'debug', stream } });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  s3.destroy();
});

function event(key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventName: 's3:ObjectCreated:Put',
        s3: { bucket: { name: testServices().s3.bucket }, object: { key, eTag: '"abc123"' } },
      },
    ],
  });
}

const post = (path: string, body: string) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the token in the query of POST /v1/s3-events', () => {
  it('starts a detection with the right token, refuses a wrong or missing one', async () => {
    const ok = await post(`/v1/s3-events?token=${TOKEN}`, event(`${taskQueue}/calls/acme/1.wav`));
    expect(ok.status).toBe(202);
    const body = (await ok.json()) as { started: { workflowId: string }[] };
    expect(body.started).toHaveLength(1);

    const wrong = await post('/v1/s3-events?token=not-the-token', event(`${taskQueue}/calls/acme/2.wav`));
    expect(wrong.status).toBe(401);
    const problem = (await wrong.json()) as { instance: string };
    expect(problem.instance).toBe('/v1/s3-events');
    expect((await post('/v1/s3-events', event(`${taskQueue}/calls/acme/3.wav`))).status).toBe(401);
    expect((await post('/v1/s3-events?token=', event(`${taskQueue}/calls/acme/3.wav`))).status).toBe(401);
  });

  it('is not accepted on any other route', async () => {
    const res = await fetch(`${url}/v1/detections/anything?token=${TOKEN}`);
    expect(res.status).toBe(401);
    const header = await fetch(`${url}/v1/detections/anything`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(header.status).toBe(404);
  });

  it('never writes the query string to the log', async () => {
    const webhook = await post(`/v1/s3-events?token=${TOKEN}&x=1`, JSON.stringify({ Event: 's3:TestEvent' }));
    expect(webhook.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const requests = logLines.filter((line) => line.includes('"url":"/v1/s3-events"'));
    expect(requests.length).toBeGreaterThanOrEqual(4); // the log saw these requests …
    expect(logLines.join('\n')).not.toContain(TOKEN); // … but never the token
    expect(logLines.join('\n')).not.toContain('token=');
  });
});

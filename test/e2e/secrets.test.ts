/**
 * Secrets never leak: every credential is set to a marker unique to this run — the S3 secret key
 * (a versitygw of this file's own, started with it), the API's bearer token, a DETECTOR_HEADERS
 * bearer value, the payload encryption key, the codec server's token — then `rdd worker`,
 * `rdd serve` and `rdd codec-server` run as processes: a detection, a failing detection, a request
 * with a wrong token, a batch with its report, codec calls. Everything is then searched for each
 * marker: the processes' stdout and stderr, every API answer, the raw histories of every workflow
 * on the task queue, and every object in S3 (results, batch reports).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../dev/emulator/index.ts';
import { findTool } from '../../dev/stack/tools.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING } from '../helpers/detection-harness.ts';
import { historyText } from '../helpers/history.ts';
import { testServices, uniqueTaskQueue } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));
const run = randomBytes(4).toString('hex');
const encryptionKey = randomBytes(32).toString('base64');

/** Each secret, unique to this run; none may appear anywhere the test can read. */
const MARKERS = {
  s3Secret: `s3-secret-marker-${run}-abcdefghij`,
  apiToken: `api-token-marker-${run}-klmnopqrst`,
  detectorBearer: `detector-bearer-marker-${run}-uvwxyz`,
  encryptionKey,
  codecToken: `codec-token-marker-${run}-0123456789`,
};

const bucket = `secrets-${run}`;
const taskQueue = uniqueTaskQueue('secrets');
const children: ChildProcess[] = [];
const outputs: Record<string, string> = {};
/** Every API and codec-server answer (status line and body). */
const answers: string[] = [];
let s3Dir: string;
let s3: S3Client;
let env: Record<string, string>;
let apiUrl: string;
let codecUrl: string;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let gateway: Server;
/** Whether the gateway has refused its one submit yet. */
let refused = false;

/**
 * A gateway in front of the emulator that refuses the first submit with 401, echoing the
 * Authorization header it got in its error body (as some gateways do); everything else passes.
 */
async function startEchoingGateway(upstream: string): Promise<string> {
  gateway = createServer((req, res) => {
    if (!refused && req.method === 'POST') {
      refused = true;
      req.resume();
      req.on('end', () => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            type: 'unauthorized',
            message: `invalid credentials: ${req.headers.authorization}`,
          }),
        );
      });
      return;
    }
    const forward = httpRequest(
      new URL(req.url!, upstream),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
}

/** Waits (the test's timeout bounds it) until `check` is true. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check().catch(() => false))) await new Promise((r) => setTimeout(r, 200));
}

/** Starts `rdd <args>`; its output collects in `outputs[name]`. Resolves once `ready` shows. */
async function startRdd(name: string, args: string[], ready: RegExp): Promise<RegExpExecArray> {
  const child = spawn(process.execPath, [RDD, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  children.push(child);
  outputs[name] = '';
  child.stdout.on('data', (chunk: Buffer) => (outputs[name] += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (outputs[name] += chunk.toString()));
  let match: RegExpExecArray | null = null;
  await until(() => {
    if (child.exitCode !== null) throw new Error(`rdd ${name} exited: ${outputs[name]}`);
    match = ready.exec(outputs[name]!);
    return Promise.resolve(match !== null);
  });
  return match!;
}

/** A request whose answer is kept for the search. */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  answers.push(`${response.status} ${url}\n${JSON.stringify([...response.headers])}\n${text}`);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // NDJSON or text: kept as is
  }
  return { status: response.status, body };
}

function api(method: string, route: string, body?: unknown, token = MARKERS.apiToken) {
  return call(`${apiUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

beforeAll(async () => {
  const services = testServices();
  // versitygw of our own: its root secret is the marker.
  s3Dir = mkdtempSync(path.join(tmpdir(), 'rdd-secrets-s3-'));
  const s3Port = await getPort();
  const versitygw = spawn(
    findTool('versitygw'),
    ['--port', `127.0.0.1:${s3Port}`, '--region', 'us-east-1', '--quiet', 'posix', s3Dir],
    {
      env: {
        ...process.env,
        ROOT_ACCESS_KEY_ID: `rdd-secrets-${run}`,
        ROOT_SECRET_ACCESS_KEY: MARKERS.s3Secret,
      },
    },
  );
  children.push(versitygw);
  outputs.versitygw = '';
  const endpoint = `http://127.0.0.1:${s3Port}`;
  s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: `rdd-secrets-${run}`, secretAccessKey: MARKERS.s3Secret },
  });
  await until(async () => (await s3.send(new ListBucketsCommand({}))).$metadata.httpStatusCode === 200);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  emulator = await startEmulator({ processing: { fixedMs: 150 }, version: `4.0.0-emulator+${run}` });
  const platformUrl = await startEchoingGateway(emulator.url);
  env = {
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.namespace,
    TASK_QUEUE: taskQueue,
    DETECTOR_URL: platformUrl,
    DETECTOR_HEADERS: JSON.stringify({ Authorization: `Bearer ${MARKERS.detectorBearer}` }),
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: `rdd-secrets-${run}`,
    AWS_SECRET_ACCESS_KEY: MARKERS.s3Secret,
    RDD_ENCRYPTION_KEYS: `k1:${MARKERS.encryptionKey}`,
    RDD_API_TOKEN: MARKERS.apiToken,
    RDD_API_PORT: '0',
    RDD_CODEC_SERVER_TOKEN: MARKERS.codecToken,
    // Debug: more lines pass through the worker's redaction.
    RDD_LOG_LEVEL: 'debug',
  };
  await startRdd('worker', ['worker'], /worker polling task queue/);
  apiUrl = (await startRdd('serve', ['serve'], /rdd serve listening on (\S+)/))[1]!;
  codecUrl = (await startRdd('codec-server', ['codec-server', '--port', '0'], /listening on (\S+)/))[1]!;
}, 240_000);

afterAll(async () => {
  for (const child of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  s3?.destroy();
  await emulator?.close();
  if (gateway) await new Promise((resolve) => gateway.close(resolve));
  if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
});

describe('secrets never leak', () => {
  it('appear in no log, answer, history or S3 object after detections, a failure, a batch and a bad token', async () => {
    const speech = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
    const other = await speechWav({
      text: 'The weather today is calm and the sea is quiet.',
      voice: 'en+m3',
    });
    for (const [key, file] of [
      ['media/reference.wav', speech],
      ['media/batch/one.wav', other],
      ['media/batch/two.wav', speech],
    ] as const) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
    }
    const reference = { bucket, key: 'media/reference.wav' };

    // First, alone: the detection whose submit the gateway refuses, echoing the bearer token.
    const echoed = await api('POST', '/v1/detections', {
      reference,
      questioned: { bucket, key: 'media/batch/two.wav' },
      polling: FAST_POLLING,
    });
    expect(echoed.status).toBe(201);
    const echoedId = (echoed.body as { id: string }).id;
    await until(
      async () =>
        ((await api('GET', `/v1/detections/${echoedId}`)).body as { state: string }).state === 'failed',
    );
    expect(refused).toBe(true);

    const good = await api('POST', '/v1/detections', {
      reference,
      questioned: { bucket, key: 'media/batch/one.wav' },
      polling: FAST_POLLING,
    });
    expect(good.status).toBe(201);
    const failing = await api('POST', '/v1/detections', {
      reference,
      questioned: { bucket, key: 'media/missing.wav' },
      polling: FAST_POLLING,
    });
    expect(failing.status).toBe(201);
    expect(
      (await api('GET', `/v1/detections/${(good.body as { id: string }).id}`, undefined, 'wrong-token'))
        .status,
    ).toBe(401);
    const batch = await api('POST', '/v1/batches', {
      reference,
      prefix: { bucket, prefix: 'media/batch/' },
      polling: FAST_POLLING,
    });
    expect(batch.status).toBe(201);
    const ids = [good, failing].map((answer) => (answer.body as { id: string }).id);
    const batchId = (batch.body as { id: string }).id;

    await until(
      async () =>
        ((await api('GET', `/v1/detections/${ids[0]}`)).body as { state: string }).state === 'completed',
    );
    await until(
      async () =>
        ((await api('GET', `/v1/detections/${ids[1]}`)).body as { state: string }).state === 'failed',
    );
    await until(
      async () =>
        ((await api('GET', `/v1/batches/${batchId}`)).body as { state: string }).state === 'completed',
    );
    const report = await api('GET', `/v1/batches/${batchId}/report`);
    expect(report.status).toBe(200);

    // The codec server: a wrong token, then a real decode of a payload from a history.
    expect(
      (
        await call(`${codecUrl}/decode`, {
          method: 'POST',
          headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
          body: '{"payloads":[]}',
        })
      ).status,
    ).toBe(401);

    // Every workflow on the task queue (detections, the batch and its children), raw.
    const connection = await Connection.connect({ address: testServices().temporalAddress });
    const client = new Client({ connection, namespace: testServices().namespace });
    const histories: string[] = [];
    try {
      const workflowIds = new Set<string>([...ids, echoedId, batchId]);
      // Listed raw: the SDK's list would decode the (encrypted) memos.
      await until(async () => {
        const listed = await client.workflowService.listWorkflowExecutions({
          namespace: testServices().namespace,
          query: `TaskQueue = "${taskQueue}"`,
        });
        for (const execution of listed.executions ?? []) workflowIds.add(execution.execution!.workflowId!);
        return (listed.executions ?? []).length >= 6; // 3 detections, the batch, its 2 pairs
      });
      for (const workflowId of workflowIds) {
        const { history } = await client.workflowService.getWorkflowExecutionHistory({
          namespace: testServices().namespace,
          execution: { workflowId },
        });
        histories.push(historyText(history));
      }
      const decoded = await call(`${codecUrl}/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MARKERS.codecToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ payloads: [] }),
      });
      expect(decoded.status).toBe(200);
    } finally {
      await connection.close();
    }

    // Every object in the bucket but the uploaded media: results and the batch's reports.
    const objects: string[] = [];
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const { Key } of listed.Contents ?? []) {
      if (Key!.startsWith('media/')) continue;
      const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      objects.push(`${Key}\n${await answer.Body!.transformToString()}`);
    }

    // Not vacuous: each place holds what it should.
    expect(outputs.worker).toContain(ids[0]);
    expect(outputs.serve).toContain('"statusCode":401');
    expect(outputs['codec-server']).toContain('"statusCode":200');
    expect(answers.join('\n')).toContain('MediaNotFound');
    expect(histories.length).toBeGreaterThanOrEqual(6);
    expect(objects.some((o) => o.startsWith(`results/${ids[0]}`))).toBe(true);
    expect(objects.filter((o) => o.includes(batchId)).length).toBeGreaterThanOrEqual(2);

    const places: Record<string, string> = {
      ...Object.fromEntries(Object.entries(outputs).map(([name, text]) => [`rdd ${name} output`, text])),
      'API and codec-server answers': answers.join('\n'),
      'workflow histories': histories.join('\n'),
      'S3 objects': objects.join('\n'),
    };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [secret, marker] of Object.entries(MARKERS)) {
        const forms = [marker, encodeURIComponent(marker), Buffer.from(marker).toString('base64')];
        if (forms.some((form) => text.includes(form))) leaks.push(`${secret} in ${place}`);
      }
    }
    expect(leaks).toEqual([]);
    // The gateway's refusal reached the user, its credential did not.
    expect(answers.join('\n')).toContain('invalid credentials: [redacted]');
  });
});

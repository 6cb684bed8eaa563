/**
 * Parts for the infrastructure chaos scenarios (dev/chaos/scenarios/infra.ts): a Temporal dev server
 * and a versitygw of the scenario's own that can be stopped and restarted on the same port and data,
 * an in-process emulator, `rdd worker` child processes under a small supervisor, an S3 proxy that
 * answers `503 SlowDown` (and can serve media reads slowly), a batch of pairs run by the batch
 * workflow (`startBatch`) and the measurements (progress, outcome: one result object per pair,
 * one report row per manifest line). Everything listens on 127.0.0.1. Development tool: not shipped.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { mulberry32 } from '../emulator/faults.ts';
import { startEmulator, type RunningEmulator } from '../emulator/index.ts';
import { LOOPBACK, pickPort } from '../stack/ports.ts';
import {
  readLogSince,
  spawnService,
  terminateGroup,
  waitHealthy,
  type ServiceProcess,
} from '../stack/process.ts';
import { LOCAL_S3_CREDENTIALS, startS3, type S3Service } from '../stack/s3.ts';
import { startTemporal, type TemporalService } from '../stack/temporal.ts';
import { REPO_ROOT } from '../stack/tools.ts';
import { clientOptions } from '../../src/client/connection.ts';
import { getBatch, startBatch, type BatchView } from '../../src/client/batches.ts';
import { getDetection } from '../../src/client/detections.ts';
import type { DetectionResult, PollingPolicy } from '../../src/shared/detection.ts';
import { DETECT_WORKFLOW_TYPE } from '../../src/shared/workflows.ts';
import { speechWav } from '../../test/helpers/audio.ts';
import { onInterrupt } from './interrupt.ts';
import type { ChaosContext, ChaosFailure, ChaosOutcome } from './scenario.ts';

const RDD = path.join(REPO_ROOT, 'src/starters/rdd.ts');
const BUCKET = 'chaos';
const RESULT_PREFIX = 'results/';

/** Polling fast enough that a batch of short pairs finishes in seconds (as bench/batch.ts does). */
const FAST_POLLING: Partial<PollingPolicy> = {
  firstCheckBase: 0.2,
  firstCheckPerAudioSecond: 0,
  minInterval: 0.2,
  maxInterval: 1,
  backoff: 1.5,
};

/**
 * A process-backed service (Temporal, versitygw) that can be stopped and started again on the same
 * port and data, as an operator restarting it would.
 */
export interface Restartable {
  /** Stops it (SIGTERM to its process group, SIGKILL after 5 s); idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it serves. No-op when running. */
  start(): Promise<void>;
}

/** What the SlowDown proxy answers 503 to. */
export interface SlowDownFault {
  /** Fraction 0…1 of requests answered 503 SlowDown (drawn from the seeded generator). */
  fraction: number;
  /** Until this epoch ms every request is answered 503 SlowDown (a throttling window). */
  allUntil?: number;
}

/**
 * An HTTP proxy in front of S3 that answers some requests `503 SlowDown` as AWS S3 does, and can
 * serve whole-object reads slowly (the upload's streaming read; inspection's ranged reads stay fast).
 */
export interface SlowDownProxy {
  /** `http://127.0.0.1:<port>`, for `S3_ENDPOINT`. */
  endpoint: string;
  /** Replaces the fault; `{ fraction: 0 }` passes everything through. */
  setFault(fault: SlowDownFault): void;
  /**
   * Serves the body of every GET without a `Range` header (a whole object: the submit activity's
   * streaming read) at `bytesPerSecond`; undefined: at full speed.
   */
  setSlowReads(bytesPerSecond: number | undefined): void;
  /** Slow whole-object reads begun so far, and those still being served. */
  slowReads(): { started: number; inFlight: number };
  /** Requests passed through to S3 and requests answered 503 SlowDown so far. */
  counts(): { forwarded: number; slowDown: number };
  /** Stops listening and closes every connection; idempotent. */
  close(): Promise<void>;
}

/** Headers that belong to one hop (RFC 9110 §7.6.1) or that undici sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/**
 * Starts a proxy on 127.0.0.1 that forwards every request to `target` (an S3 endpoint) over an
 * undici `Pool`, except those picked by the fault, which get AWS's throttling answer: status 503,
 * `<Error><Code>SlowDown</Code>…</Error>`. The `Host` header is forwarded unchanged, so SigV4
 * signatures made for the proxy's address still verify at S3. A request with
 * `Expect: 100-continue` that is picked is refused before its body is sent, as S3 does.
 * @throws the listen error.
 * @example const proxy = await startSlowDownProxy('http://127.0.0.1:7070', 1); proxy.setFault({ fraction: 0.2 })
 */
export async function startSlowDownProxy(target: string, seed: number): Promise<SlowDownProxy> {
  const pool = new Pool(target, { connections: 32 });
  const random = mulberry32(seed);
  let fault: SlowDownFault = { fraction: 0 };
  let forwarded = 0;
  let slowDown = 0;
  let slowReadBps: number | undefined;
  let slowReadsStarted = 0;
  let slowReadsInFlight = 0;
  const picked = () =>
    (fault.allUntil !== undefined && Date.now() < fault.allUntil) ||
    (fault.fraction > 0 && random() < fault.fraction);

  const refuse = (req: IncomingMessage, res: ServerResponse) => {
    slowDown++;
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>' +
      '<Message>Please reduce your request rate.</Message>' +
      `<RequestId>${randomUUID()}</RequestId></Error>`;
    res.writeHead(503, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      // The body of the request (if any) is not read: close rather than leave it on the socket.
      connection: 'close',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    forwarded++;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    try {
      const answer = await pool.request({
        method: req.method as 'GET',
        path: req.url ?? '/',
        headers,
        ...(hasBody && { body: req }),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode, out);
      const bps = slowReadBps;
      if (
        bps !== undefined &&
        req.method === 'GET' &&
        req.headers.range === undefined &&
        answer.statusCode === 200
      ) {
        // A whole object, served in tenth-of-a-second pieces at `bps`: the reader waits on S3.
        slowReadsStarted++;
        slowReadsInFlight++;
        try {
          const piece = Math.max(1, Math.floor(bps / 10));
          for await (const chunk of answer.body) {
            const buffer = chunk as Buffer;
            for (let offset = 0; offset < buffer.byteLength; offset += piece) {
              if (res.destroyed) throw new Error('reader went away');
              const part = buffer.subarray(offset, offset + piece);
              await sleep((part.byteLength / bps) * 1000);
              res.write(part);
            }
          }
        } finally {
          slowReadsInFlight--;
        }
      } else {
        for await (const chunk of answer.body) res.write(chunk);
      }
      res.end();
    } catch {
      // S3 itself is unreachable or the client went away: drop the connection, as a dead S3 would.
      res.destroy();
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    if (picked()) return refuse(req, res);
    if (expectsContinue) res.writeContinue();
    void forward(req, res);
  };
  const server = createServer((req, res) => handle(req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handle(req, res, true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    setFault: (next) => (fault = next),
    setSlowReads: (bps) => (slowReadBps = bps),
    slowReads: () => ({ started: slowReadsStarted, inFlight: slowReadsInFlight }),
    counts: () => ({ forwarded, slowDown }),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await pool.close();
      })();
      return closing;
    },
  };
}

/** `rdd worker` child processes with a supervisor that restarts one that exits on its own. */
export interface WorkerSupervisor {
  /** Starts one more worker; resolves once it polls its task queue. */
  add(): Promise<void>;
  /** Exits the supervisor noticed (not asked for), e.g. `worker 1 exited (exit code 5), restarted`. */
  unexpectedExits: string[];
  /** Process ids of the workers running now (each leads its own process group). */
  pids(): number[];
  /** Stops every worker (SIGTERM, then SIGKILL after the grace) and stops restarting them. */
  stopAll(): Promise<void>;
}

/** The parts of one infrastructure scenario. */
export interface InfraParts {
  temporal: Restartable & { address: string };
  /** versitygw; `endpoint` is its own address (not the proxy's). */
  s3: Restartable & { endpoint: string };
  /** Present when started with `slowDownProxy: true`; the workers then talk to S3 through it. */
  proxy: SlowDownProxy | undefined;
  emulator: RunningEmulator;
  workers: WorkerSupervisor;
  /** A Temporal client on the scenario's server (reconnects by itself after a restart). */
  client: Client;
  /** An S3 client straight to versitygw (not through the proxy). */
  s3Client: S3Client;
  taskQueue: string;
  bucket: string;
  /** Stops everything started, in reverse order; idempotent, never throws. */
  close(): Promise<void>;
}

/** Options of `startInfra`. */
export interface InfraOptions {
  /** Emulator slots and DETECTOR_CAPACITY. Default 4. */
  capacity?: number;
  /** Emulator processing time per job (ms). Default 1500. */
  processingMs?: number;
  /** Put a SlowDown proxy between the workers and S3. Default false. */
  slowDownProxy?: boolean;
  /**
   * Serve whole-object S3 reads (the upload's streaming read of the media) at this many bytes per
   * second, through the proxy (started for it). Default: full speed.
   */
  slowS3ReadsBps?: number;
}

/**
 * Starts a scenario's own Temporal dev server (SQLite under `ctx.workDir`), versitygw (data under
 * `ctx.workDir`), the emulator in this process (so its accounting is read directly), an optional
 * SlowDown proxy, one `rdd worker` child, and a client.
 * @throws ServiceStartError when a part does not come up (everything already started is stopped).
 * @example const parts = await startInfra(ctx); try { … } finally { await parts.close(); }
 */
export async function startInfra(ctx: ChaosContext, options: InfraOptions = {}): Promise<InfraParts> {
  const capacity = options.capacity ?? 4;
  const logDir = path.join(ctx.workDir, 'logs');
  const taken = new Set<number>();
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    unregister();
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  // SIGINT/SIGTERM to the runner stops these parts too (dev/chaos/interrupt.ts).
  const unregister = onInterrupt(close);
  try {
    const temporalPort = await pickPort(0, taken);
    let temporalService: TemporalService | undefined;
    const temporal = {
      address: `${LOOPBACK}:${temporalPort}`,
      async start() {
        if (temporalService && !temporalService.process.hasExited()) return;
        temporalService = await startTemporal({
          port: temporalPort,
          dbFile: path.join(ctx.workDir, 'temporal.db'),
          logDir,
          detach: false,
          timeoutMs: 90_000,
        });
      },
      async stop() {
        if (!temporalService) return;
        await stopService(temporalService.process);
        temporalService = undefined;
      },
    };
    closers.push(() => temporal.stop());
    await temporal.start();

    const s3Port = await pickPort(0, taken);
    let s3Service: S3Service | undefined;
    const s3 = {
      endpoint: `http://${LOOPBACK}:${s3Port}`,
      async start() {
        if (s3Service && !s3Service.process.hasExited()) return;
        s3Service = await startS3({
          port: s3Port,
          dataDir: path.join(ctx.workDir, 's3'),
          bucket: BUCKET,
          logDir,
          detach: false,
          timeoutMs: 30_000,
        });
      },
      async stop() {
        if (!s3Service) return;
        await stopService(s3Service.process);
        s3Service = undefined;
      },
    };
    closers.push(() => s3.stop());
    await s3.start();
    const s3Client = new S3Client({
      endpoint: s3.endpoint,
      region: LOCAL_S3_CREDENTIALS.region,
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
    });
    closers.push(() => Promise.resolve(s3Client.destroy()));

    const proxy =
      options.slowDownProxy || options.slowS3ReadsBps !== undefined
        ? await startSlowDownProxy(s3.endpoint, ctx.seed)
        : undefined;
    if (proxy) closers.push(() => proxy.close());
    proxy?.setSlowReads(options.slowS3ReadsBps);

    const emulator = await startEmulator({
      capacity,
      processing: { fixedMs: options.processingMs ?? 1_500 },
    });
    closers.push(() => emulator.close());

    const taskQueue = `chaos-infra-${randomUUID().slice(0, 8)}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: taskQueue,
      DETECTOR_URL: emulator.url,
      DETECTOR_CAPACITY: String(capacity),
      S3_ENDPOINT: proxy?.endpoint ?? s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_RESULT_BUCKET: BUCKET,
      AWS_REGION: LOCAL_S3_CREDENTIALS.region,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      // A restarted worker waits for Temporal as long as a scenario's outage lasts.
      WORKER_CONNECT_TIMEOUT_MS: '600000',
    };
    const workers = superviseWorkers(env, logDir, (line) => ctx.log(line));
    closers.push(() => workers.stopAll());
    await workers.add();

    const connection = await Connection.connect({ address: temporal.address });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default', ...clientOptions() });

    return { temporal, s3, proxy, emulator, workers, client, s3Client, taskQueue, bucket: BUCKET, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function stopService(service: ServiceProcess): Promise<void> {
  await terminateGroup(service.pid, 5_000);
  await service.exited;
}

function superviseWorkers(
  env: Record<string, string | undefined>,
  logDir: string,
  log: (line: string) => void,
): WorkerSupervisor {
  const running = new Set<ServiceProcess>();
  const unexpectedExits: string[] = [];
  let stopping = false;
  let count = 0;

  const spawnWorker = async (n: number, waitReady: boolean): Promise<void> => {
    const service = await spawnService({
      name: `worker-${n}`,
      command: process.execPath,
      args: [RDD, 'worker'],
      env,
      cwd: REPO_ROOT,
      logDir,
      detach: false,
    });
    running.add(service);
    void service.exited.then(async (how) => {
      running.delete(service);
      if (stopping) return;
      // What a supervisor (systemd, Kubernetes) does: note it and start it again.
      unexpectedExits.push(`worker ${n} exited on its own (${how}); restarted`);
      log(`worker ${n} exited on its own (${how}); restarting it`);
      // Not waiting for it to poll: with Temporal still down it waits to connect, which is fine.
      await spawnWorker(n, false).catch((err: unknown) =>
        unexpectedExits.push(`worker ${n} could not be restarted: ${String(err)}`),
      );
    });
    if (!waitReady) return;
    await waitHealthy(
      service,
      () =>
        Promise.resolve(
          readLogSince(service.logFile, service.logOffset).includes('worker polling task queue'),
        ),
      { timeoutMs: 120_000, what: 'worker polling task queue', intervalMs: 250 },
    );
  };

  return {
    unexpectedExits,
    pids: () => [...running].map((service) => service.pid),
    async add() {
      count++;
      await spawnWorker(count, true);
    },
    async stopAll() {
      stopping = true;
      await Promise.all([...running].map((service) => stopService(service)));
    },
  };
}

/** A batch of pairs started by `startPairs`: one batch workflow, one child detection per pair. */
export interface PairBatch {
  /** The batch workflow's id. */
  batchId: string;
  /** Manifest lines (pairs), all distinct. */
  lines: number;
  /** Epoch ms when the batch was started. */
  startedAt: number;
}

/** Pairs a batch runs at once: at most this many detections in flight (the rest wait in the manifest). */
const BATCH_CONCURRENCY = 64;

/**
 * Uploads `n` distinct pairs (two short synthetic speech recordings under per-pair keys), writes a
 * manifest CSV of them (`id,reference,questioned`, ids `p0`…) and starts one batch over it through
 * the client (`startBatch`, id `<tag>-batch`, cache off, fast polling, up to 64 pairs at once): the
 * batch workflow starts one child detection per line, as a user's batch would.
 * @throws the first upload or start error.
 * @example const batch = await startPairs(parts, 'temporal-stop-10s', 20) // batch temporal-stop-10s-batch, 20 lines
 */
export async function startPairs(parts: InfraParts, tag: string, n: number): Promise<PairBatch> {
  const reference = await readFile(
    await speechWav({ text: 'Please confirm my identity with this sample.', voice: 'en+m3' }),
  );
  const questioned = await readFile(
    await speechWav({ text: 'I would like to move money between accounts.', voice: 'en+f3' }),
  );
  const lines = ['id,reference,questioned'];
  for (let i = 0; i < n; i++) {
    const ref = `media/${tag}/${i}/reference.wav`;
    const q = `media/${tag}/${i}/questioned.wav`;
    await parts.s3Client.send(new PutObjectCommand({ Bucket: parts.bucket, Key: ref, Body: reference }));
    await parts.s3Client.send(new PutObjectCommand({ Bucket: parts.bucket, Key: q, Body: questioned }));
    lines.push(`p${i},s3://${parts.bucket}/${ref},s3://${parts.bucket}/${q}`);
  }
  const manifest = { bucket: parts.bucket, key: `manifests/${tag}.csv` };
  await parts.s3Client.send(
    new PutObjectCommand({ Bucket: manifest.bucket, Key: manifest.key, Body: `${lines.join('\n')}\n` }),
  );
  const { batchId } = await startBatch(
    parts.client,
    { manifest, cache: false, polling: FAST_POLLING, concurrency: Math.min(n, BATCH_CONCURRENCY) },
    { id: `${tag}-batch`, taskQueue: parts.taskQueue },
  );
  return { batchId, lines: n, startedAt: Date.now() };
}

/**
 * Keys under `results/` in the bucket, read straight from versitygw.
 * @throws the S3 error (e.g. while versitygw is stopped).
 * @example (await listResults(parts)).length // result objects recorded so far
 */
export async function listResults(parts: InfraParts): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await parts.s3Client.send(
      new ListObjectsV2Command({ Bucket: parts.bucket, Prefix: RESULT_PREFIX, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Watches progress every 250 ms: the number of result objects (straight from versitygw; skipped
 * while S3 is down) and the jobs the emulator accepted and finished, each with the time it was
 * first seen. Stop it with `stop()`.
 */
export interface ProgressWatch {
  /** Result objects seen so far (the last successful listing). */
  results(): number;
  /** Jobs the emulator accepted so far. */
  accepted(): number;
  /**
   * Seconds from `since` (epoch ms) to the first progress after it: a new result object, or a job
   * the emulator accepted after `since` (a submission, which only a running workflow makes); null
   * when nothing progressed yet. Resolution 0.25 s (the listing interval).
   */
  recoverySeconds(since: number): number | null;
  /** Resolves once at least `count` result objects exist; rejects after `timeoutMs`. */
  waitForResults(count: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

/**
 * Starts a `ProgressWatch` over `parts`.
 * @example const watch = watchProgress(parts); await watch.waitForResults(3, 120_000)
 */
export function watchProgress(parts: InfraParts): ProgressWatch {
  let count = 0;
  const increases: number[] = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      try {
        const now = (await listResults(parts)).length;
        if (now > count) increases.push(Date.now());
        count = Math.max(count, now);
      } catch {
        // S3 is down: no reading this round.
      }
      await sleep(250);
    }
  };
  void loop();
  return {
    results: () => count,
    accepted: () => parts.emulator.accounting().jobs.length,
    recoverySeconds(since) {
      const events = [...increases];
      // Accepted only: a job finishing in the emulator runs on its own clock, not the workflow's.
      for (const job of parts.emulator.accounting().jobs) events.push(job.acceptedAt);
      const first = events.filter((t) => t >= since).sort((a, b) => a - b)[0];
      return first === undefined ? null : Math.round((first - since) / 100) / 10;
    },
    async waitForResults(target, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < target) {
        if (Date.now() > deadline)
          throw new Error(`only ${count} of ${target} results after ${timeoutMs} ms`);
        await sleep(250);
      }
    },
    stop: () => {
      stopped = true;
    },
  };
}

/** A row of the batch's JSONL report, the fields the chaos check reads. */
interface ReportRow {
  line: number | null;
  workflowId: string | null;
  errorType: string | null;
  errorMessage: string | null;
  duplicateOf: string | null;
}

/** Every detection workflow on the scenario's own Temporal server (the batch's children). */
async function listDetections(parts: InfraParts): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of parts.client.workflow.list({
    query: `WorkflowType = '${DETECT_WORKFLOW_TYPE}'`,
  })) {
    ids.push(execution.workflowId);
  }
  return [...new Set(ids)];
}

/**
 * Waits until the batch has closed or `timeoutMs` has passed (Temporal errors while it is
 * unreachable are ridden out), then measures the ChaosOutcome per pair (started = manifest lines):
 * - a completed batch's JSONL report must hold exactly one row per manifest line; a row with an
 *   error is a failure with the reason the user sees, a line without exactly one row a failure
 *   naming it;
 * - a pair counts as completed only when its child detection completed and its result object (one,
 *   under `results/<child id>.json`) holds the job and score the child returned;
 * - result objects of no child of the batch's rows are duplicates (a second detection of a pair);
 * - duplicate submissions come from the emulator's accounting (accepted jobs beyond one per
 *   completed detection);
 * - a batch still running at the deadline leaves its unfinished pairs stuck.
 * `recoverySeconds` and `seconds` are the caller's to fill (null and 0 here).
 * @throws the S3 error when the report or the result listing cannot be read (S3 down at the end).
 * @example const outcome = await settle(parts, batch, 4 * 60_000); outcome.stuck // 0
 */
export async function settle(parts: InfraParts, batch: PairBatch, timeoutMs: number): Promise<ChaosOutcome> {
  const deadline = Date.now() + timeoutMs;
  let view: BatchView | undefined;
  while (Date.now() < deadline) {
    try {
      view = await getBatch(parts.client, batch.batchId);
      if (view.state !== 'running') break;
    } catch {
      // Temporal unreachable: try again next round
    }
    await sleep(1_000);
  }
  const failed: ChaosFailure[] = [];
  const notes: string[] = [];
  // The children: from the report when the batch completed, else every detection on the server.
  let children: string[];
  const rowsPerLine = new Map<number, number>();
  if (view?.state === 'completed') {
    const rows = await readReportRows(parts, view.summary.files.jsonl.key);
    children = [];
    for (const row of rows) {
      if (row.line !== null) rowsPerLine.set(row.line, (rowsPerLine.get(row.line) ?? 0) + 1);
      const who = row.workflowId ?? `line ${row.line ?? '?'}`;
      if (row.errorType !== null)
        failed.push({ workflowId: who, reason: `${row.errorType}: ${row.errorMessage ?? ''}` });
      else if (row.duplicateOf !== null)
        failed.push({ workflowId: who, reason: `reported as a duplicate of ${row.duplicateOf}` });
      else if (row.workflowId !== null) children.push(row.workflowId);
    }
    // Manifest lines 2 … lines + 1 (line 1 is the header): exactly one row each.
    for (let line = 2; line < batch.lines + 2; line++) {
      const count = rowsPerLine.get(line) ?? 0;
      if (count !== 1)
        failed.push({
          workflowId: `line ${line}`,
          reason: `${count} report rows for manifest line ${line} (must be 1)`,
        });
    }
  } else {
    children = await listDetections(parts).catch(() => []);
    if (view?.state === 'failed')
      notes.push(`the batch failed: ${view.failure.type}: ${view.failure.message}`);
  }
  const keys = await listResults(parts);
  const perId = new Map<string, number>();
  let strays = 0;
  for (const key of keys) {
    const id = key.slice(RESULT_PREFIX.length).replace(/\.json$/, '');
    if (children.includes(id)) perId.set(id, (perId.get(id) ?? 0) + 1);
    else strays++;
  }
  let completed = 0;
  let open = 0;
  for (const id of children) {
    let child: Awaited<ReturnType<typeof getDetection>> | undefined;
    try {
      child = await getDetection(parts.client, id);
    } catch (err) {
      failed.push({
        workflowId: id,
        reason: `could not be read: ${err instanceof Error ? err.message : String(err)}`,
      });
      continue;
    }
    if (child.state === 'completed') {
      const problem =
        (perId.get(id) ?? 0) === 0
          ? 'completed, but no result object in S3'
          : await resultMismatch(parts, `${RESULT_PREFIX}${id}.json`, child.result);
      if (problem === undefined) completed++;
      else failed.push({ workflowId: id, reason: problem });
    } else if (child.state === 'failed') {
      // Counted from the row already when the batch completed.
      if (view?.state !== 'completed')
        failed.push({ workflowId: id, reason: `${child.failure.type}: ${child.failure.message}` });
    } else if (child.state === 'running') open++;
    else failed.push({ workflowId: id, reason: 'not found in Temporal after the restart' });
  }
  const stuck = view?.state === 'completed' ? open : Math.max(0, batch.lines - completed - failed.length);
  if (view?.state === 'running' || view === undefined)
    notes.push(`the batch was still open at the deadline (${children.length} child detection(s) started)`);
  if (strays > 0)
    notes.push(
      `${strays} result object(s) under ${RESULT_PREFIX} that belong to no pair of the batch's report`,
    );
  const duplicateResults = strays + [...perId.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const accepted = parts.emulator.accounting().jobs.length;
  notes.push(
    `batch ${batch.batchId}: ${children.length} child detection(s) for ${batch.lines} manifest line(s)`,
  );
  return {
    started: batch.lines,
    completed,
    failed,
    stuck,
    duplicateResults,
    duplicateSubmissions: Math.max(0, accepted - completed),
    recoverySeconds: null,
    seconds: 0,
    notes,
  };
}

/** The rows of the batch's JSONL report. */
async function readReportRows(parts: InfraParts, key: string): Promise<ReportRow[]> {
  const answer = await parts.s3Client.send(new GetObjectCommand({ Bucket: parts.bucket, Key: key }));
  const text = (await answer.Body?.transformToString('utf8')) ?? '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReportRow);
}

/**
 * Why the result object at `key` is not the result the workflow returned (another platform job, another
 * score: a second recording), or undefined when it is.
 */
async function resultMismatch(
  parts: InfraParts,
  key: string,
  returned: DetectionResult,
): Promise<string | undefined> {
  const answer = await parts.s3Client.send(new GetObjectCommand({ Bucket: parts.bucket, Key: key }));
  const recorded = JSON.parse(
    (await answer.Body?.transformToString('utf8')) ?? 'null',
  ) as DetectionResult | null;
  if (recorded?.workflowId !== returned.workflowId) return `result object ${key} names another workflow`;
  if (recorded.jobId !== returned.jobId || recorded.score !== returned.score) {
    return `result object ${key} holds job ${recorded.jobId} (score ${recorded.score}), the workflow returned job ${returned.jobId} (score ${returned.score})`;
  }
  return undefined;
}

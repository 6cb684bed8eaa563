/**
 * The emulator's HTTP server: routes, request validation, and the wire format of the Phonexia
 * Speech Platform 4 referential deepfake detection API (see docs/platform-api.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

import type { Upload } from './analysis.ts';
import { ApiError, ErrorType, type ErrorDetail } from './api-error.ts';
import { FaultInjector, type FaultCounts } from './faults.ts';
import { FixtureBook, loadFixtureFile, parseFixtures, type FixtureMap } from './fixtures.ts';
import { MediaProbeError, probeMedia } from './media-probe.ts';
import { MultipartParseError, readMultipart, UploadTooLargeError } from './multipart.ts';
import {
  resolveOptions,
  validateFaults,
  type EmulatorFaults,
  type EmulatorOptions,
  type ResolvedOptions,
} from './options.ts';
import { TaskScheduler, TaskState, type SchedulerStats } from './task-scheduler.ts';
import { RequestKind, type AccountingSnapshot } from './accounting.ts';

/** Path of the referential deepfake detection endpoint; tasks live under `<this>/<task_id>`. */
export const RDD_ENDPOINT = '/api/technology/experimental/referential-deepfake-detection';
const INFO_PATH = '/api/system/info';
const STATUS_PATH = '/api/system/status';
/**
 * Dev-only admin routes (with `admin: true`), outside the platform's `/api/` paths:
 * `GET <ADMIN_PREFIX>/accounting` → {@link AccountingSnapshot}; `POST <ADMIN_PREFIX>/accounting/reset`
 * → 204, a new measurement window; `PUT <ADMIN_PREFIX>/model` with JSON
 * `{ capacity?, processing?: { fixedMs?, baseMs?, perAudioSecondMs? } }` → 200 with the model now in force;
 * `GET <ADMIN_PREFIX>/faults` → `{ faults, injected }` (the faults in force, counts injected since
 * they were set); `POST <ADMIN_PREFIX>/faults` with JSON {@link EmulatorFaults} → 200, replaces every
 * fault, restarts the windows' clock and the counts (400 naming the field when invalid: an unknown
 * field, a status that injects nothing, a number out of range); `POST <ADMIN_PREFIX>/restart` → 204, forgets every task like an appliance restart.
 */
export const ADMIN_PREFIX = '/_emulator';

/** A started emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:8600`, without a trailing slash. */
  url: string;
  port: number;
  /** Stops listening, drops open connections and every task. Idempotent. */
  close(): Promise<void>;
  /** Forgets every task, like an appliance restart: polls of earlier tasks then answer 404. */
  restart(): void;
  /**
   * Replaces the injected faults (see `EmulatorFaults`); the windows' clock and the counts of
   * injected faults start again.
   * @throws RangeError naming the first invalid field.
   */
  setFaults(faults: EmulatorFaults): void;
  /** Faults injected since the faults were set, by kind, e.g. `{ "submit:503": 4, "task:vanish": 1 }`. */
  faultsInjected(): FaultCounts;
  /**
   * Adds or replaces fixtures by SHA-256; replaced hashes count tasks from zero again.
   * @throws FixtureError for a malformed map.
   */
  addFixtures(fixtures: FixtureMap): void;
  /** Queue and storage counts. */
  stats(): SchedulerStats;
  /** Benchmark accounting since start or the last reset (also served by the admin route). */
  accounting(): AccountingSnapshot;
}

interface Context {
  options: ResolvedOptions;
  scheduler: TaskScheduler;
  fixtures: FixtureBook;
  faults: FaultInjector;
  /** Used for absolute Locations when a request has no Host header. */
  fallbackOrigin: string;
}

/**
 * Serve HTTPS with this key and certificate (PEM), e.g. to test a platform whose certificate is
 * signed by a private CA (DETECTOR_CA_FILE). `url` is then `https://…`.
 */
export interface EmulatorTls {
  key: string | Buffer;
  cert: string | Buffer;
}

type Role = 'reference' | 'questioned';
const FIELDS: Record<Role, string> = { reference: 'file_reference', questioned: 'file_questioned' };

/**
 * Starts an emulator of the Speech Platform's referential deepfake detection API.
 * @throws RangeError for invalid options; FixtureError for a bad fixtures file; the listen error
 *   (e.g. EADDRINUSE) when the port is taken.
 * @example
 * const emulator = await startEmulator({ processing: { fixedMs: 50 } });
 * await fetch(`${emulator.url}/api/system/info`); // {"version":"4.0.0-emulator"}
 * await emulator.close();
 */
export async function startEmulator(
  options: Partial<EmulatorOptions> & { tls?: EmulatorTls } = {},
): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  const fixtures = new FixtureBook(
    typeof resolved.fixtures === 'string'
      ? await loadFixtureFile(resolved.fixtures)
      : parseFixtures(resolved.fixtures),
  );
  const log = resolved.log;
  const scheduler = new TaskScheduler({ ...resolved, ...(log ? { log: (line: string) => log(line) } : {}) });
  const ctx: Context = {
    options: resolved,
    scheduler,
    fixtures,
    faults: new FaultInjector(resolved.faults),
    fallbackOrigin: '',
  };

  // The appliance's "single upload duration" limit: the whole request must arrive in time (408).
  const timeouts = {
    requestTimeout: resolved.uploadTimeoutMs,
    headersTimeout: Math.min(60_000, resolved.uploadTimeoutMs),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => serve(ctx, req, res);
  const server = options.tls
    ? createTlsServer({ ...timeouts, key: options.tls.key, cert: options.tls.cert }, handler)
    : createServer(timeouts, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://${loopbackFor(resolved.host)}:${port}`;
  ctx.fallbackOrigin = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        scheduler.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    restart: () => restartTasks(ctx),
    setFaults: (faults) => {
      validateFaults(faults);
      ctx.faults.set(faults);
    },
    faultsInjected: () => ctx.faults.injected(),
    addFixtures: (map) => fixtures.add(parseFixtures(map)),
    stats: () => scheduler.stats(),
    accounting: () => scheduler.ledger.snapshot(scheduler.capacity),
  };
}

/** Handles one request: ids, routing, errors, the log line. */
function serve(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
  const correlationId = headerValue(req, 'x-correlation-id');
  res.setHeader('x-request-id', requestId);
  if (correlationId !== undefined) res.setHeader('x-correlation-id', correlationId);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  res.once('finish', () => {
    const log = ctx.options.log;
    if (!log) return;
    const durationMs = Math.round(performance.now() - started);
    const entry = {
      method: req.method ?? '?',
      path,
      status: res.statusCode,
      durationMs,
      requestId,
      ...(correlationId ? { correlationId } : {}),
    };
    log(
      `${entry.method} ${path} ${res.statusCode} ${durationMs}ms rid=${requestId}${correlationId ? ` cid=${correlationId}` : ''}`,
      entry,
    );
  });
  route(ctx, req, res).catch((err: unknown) => {
    const apiError =
      err instanceof ApiError
        ? err
        : new ApiError(
            500,
            ErrorType.Internal,
            `Internal error: ${err instanceof Error ? err.message : String(err)}`,
          );
    if (!(err instanceof ApiError))
      ctx.options.log?.(
        `internal error on ${req.method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, apiError.status, apiError.toBody(), apiError.headers);
  });
}

async function route(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const path = url.pathname;
  const ledger = ctx.scheduler.ledger;
  if (ctx.options.admin && path.startsWith(`${ADMIN_PREFIX}/`)) return admin(ctx, req, res, path);
  if (path === RDD_ENDPOINT) {
    ledger.request(RequestKind.Submit);
    allowOnly(req, path, 'POST');
    return submit(ctx, req, res, url);
  }
  if (path.startsWith(`${RDD_ENDPOINT}/`)) {
    ledger.request(RequestKind.Poll);
    const id = path.slice(RDD_ENDPOINT.length + 1);
    if (id === '' || id.includes('/')) throw notFound(`No such endpoint: ${path}`);
    allowOnly(req, path, 'GET');
    return poll(ctx, res, id);
  }
  if (path === INFO_PATH) {
    ledger.request(RequestKind.Info);
    allowOnly(req, path, 'GET');
    return sendJson(res, 200, { version: ctx.options.version });
  }
  if (path === STATUS_PATH) {
    ledger.request(RequestKind.Status);
    allowOnly(req, path, 'GET');
    return sendJson(res, 200, { status: 'ok' });
  }
  ledger.request(RequestKind.Other);
  throw notFound(`No such endpoint: ${path}`);
}

/** The dev-only admin routes (see ADMIN_PREFIX); not counted as platform requests. */
async function admin(ctx: Context, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const { scheduler } = ctx;
  if (path === `${ADMIN_PREFIX}/accounting`) {
    allowOnly(req, path, 'GET');
    return sendJson(res, 200, scheduler.ledger.snapshot(scheduler.capacity));
  }
  if (path === `${ADMIN_PREFIX}/accounting/reset`) {
    allowOnly(req, path, 'POST');
    scheduler.ledger.reset();
    res.writeHead(204).end();
    return;
  }
  if (path === `${ADMIN_PREFIX}/model`) {
    allowOnly(req, path, 'PUT');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: {
      capacity?: number;
      processing?: { fixedMs?: number; baseMs?: number; perAudioSecondMs?: number };
    };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof body;
    } catch {
      throw new ApiError(400, ErrorType.RequestInvalid, 'the model must be a JSON object');
    }
    // Validated like start options: an unset processing field falls back to the defaults.
    let resolved;
    try {
      resolved = resolveOptions({
        capacity: body.capacity ?? scheduler.capacity,
        ...(body.processing !== undefined && { processing: body.processing }),
      });
    } catch (err) {
      throw new ApiError(400, ErrorType.RequestInvalid, err instanceof Error ? err.message : String(err));
    }
    scheduler.setModel({
      capacity: resolved.capacity,
      ...(body.processing !== undefined && { processing: resolved.processing }),
    });
    return sendJson(res, 200, { capacity: scheduler.capacity });
  }
  if (path === `${ADMIN_PREFIX}/faults`) {
    if (req.method === 'GET')
      return sendJson(res, 200, { faults: ctx.faults.current(), injected: ctx.faults.injected() });
    allowOnly(req, path, 'POST');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let faults: EmulatorFaults;
    try {
      faults = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as EmulatorFaults;
      validateFaults(faults);
    } catch (err) {
      throw new ApiError(400, ErrorType.RequestInvalid, err instanceof Error ? err.message : String(err));
    }
    ctx.faults.set(faults);
    return sendJson(res, 200, { faults: ctx.faults.current() });
  }
  if (path === `${ADMIN_PREFIX}/restart`) {
    allowOnly(req, path, 'POST');
    restartTasks(ctx);
    res.writeHead(204).end();
    return;
  }
  throw notFound(`No such admin endpoint: ${path}`);
}

/** Forgets every task, like an appliance restart. */
function restartTasks(ctx: Context): void {
  ctx.scheduler.restart();
  ctx.faults.forgetTasks();
}

/** Reads `bytes` of the request body (or all of it), then resets the connection: a reset mid-upload. */
async function resetAfter(req: IncomingMessage, bytes: number): Promise<void> {
  const socket = req.socket; // detached from `req` once the loop below stops reading
  let received = 0;
  for await (const chunk of req) {
    received += (chunk as Buffer).byteLength;
    if (received >= bytes) break;
  }
  socket.destroy();
}

/** The request body read at `bytesPerSecond`, as a request `readMultipart` accepts (a slow upload). */
function throttled(req: IncomingMessage, bytesPerSecond: number): IncomingMessage {
  async function* slowly(): AsyncGenerator<Buffer> {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      // Pieces of a tenth of a second each, so the pace is even whatever the chunk size.
      const piece = Math.max(1, Math.floor(bytesPerSecond / 10));
      for (let offset = 0; offset < buffer.byteLength; offset += piece) {
        const part = buffer.subarray(offset, offset + piece);
        await delay((part.byteLength / bytesPerSecond) * 1000);
        yield part;
      }
    }
  }
  return Object.assign(Readable.from(slowly(), { objectMode: false }), {
    headers: req.headers,
  }) as unknown as IncomingMessage;
}

/** Sends headers and half the body, then resets the connection: an answer cut mid-way. */
function sendCut(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': text.byteLength,
  });
  res.write(text.subarray(0, Math.floor(text.byteLength / 2)), () => res.socket?.destroy());
}

/** POST: validate, store and queue a task; 202 with its Location. */
async function submit(ctx: Context, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { options, scheduler } = ctx;
  const stall = ctx.faults.takeStall('submit');
  if (stall !== undefined) await delay(stall);
  const resetAt = ctx.faults.takeResetMidUpload();
  if (resetAt !== undefined) return resetAfter(req, resetAt);
  const fault = ctx.faults.take('submitStatus');
  if (fault) throw fault;

  // Refuse a declared oversize body before reading a byte of it.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxUploadBytes) throw tooLarge(options.maxUploadBytes);
  const slow = ctx.faults.takeSlowUpload();
  let form: FormData;
  try {
    form = await readMultipart(slow === undefined ? req : throttled(req, slow), options.maxUploadBytes);
  } catch (err) {
    if (err instanceof UploadTooLargeError) throw tooLarge(options.maxUploadBytes);
    if (err instanceof MultipartParseError) throw new ApiError(400, ErrorType.RequestInvalid, err.message);
    throw err;
  }

  const problems: ErrorDetail[] = [];
  const reference = await readFileField(form, FIELDS.reference, problems);
  const questioned = await readFileField(form, FIELDS.questioned, problems);
  validateConfig(form.get('config'), problems);
  if (!reference || !questioned || problems.length > 0) throw validationError(problems);

  const [referenceProbe, questionedProbe] = await Promise.all([
    probeOrError(reference.bytes),
    probeOrError(questioned.bytes),
  ]);
  const uploads: Record<Role, Upload> = {
    reference: { field: FIELDS.reference, ...reference, probe: referenceProbe, channel: 0 },
    questioned: { field: FIELDS.questioned, ...questioned, probe: questionedProbe, channel: 0 },
  };
  for (const role of ['reference', 'questioned'] as const) {
    uploads[role].channel = selectChannel(uploads[role], options.channelParams[role], url, problems);
  }
  if (problems.length > 0) throw validationError(problems);

  const size = reference.bytes.byteLength + questioned.bytes.byteLength;
  if (scheduler.storedBytes + size > options.storageBytes) {
    throw new ApiError(
      507,
      ErrorType.StorageFull,
      `The temporary input storage is full (${scheduler.storedBytes} of ${options.storageBytes} bytes used); retry later.`,
    );
  }
  const fixturePlan = ctx.fixtures.planFor(createHash('sha256').update(questioned.bytes).digest('hex'));
  // A fixture (any plan beyond a plain "normal") wins over the fault rates.
  const hasFixture = Object.keys(fixturePlan).length > 1 || fixturePlan.outcome !== 'normal';
  const plan = ctx.faults.planTask(fixturePlan, hasFixture);
  const doc = scheduler.submit({ reference: uploads.reference, questioned: uploads.questioned, plan });
  ctx.faults.accepted(doc.task.task_id, hasFixture);
  const taskPath = `${RDD_ENDPOINT}/${doc.task.task_id}`;
  const location = options.relativeLocation ? taskPath : `${originOf(req, ctx.fallbackOrigin)}${taskPath}`;
  if (ctx.faults.takeCutAnswer('submit')) return sendCut(res, 202, doc, { location, 'x-location': location });
  sendJson(res, 202, doc, { location, 'x-location': location });
}

/** GET: the task's document, or 404 when unknown, expired or lost. */
async function poll(ctx: Context, res: ServerResponse, id: string): Promise<void> {
  const stall = ctx.faults.takeStall('poll');
  if (stall !== undefined) await delay(stall);
  const fault = ctx.faults.take('pollStatus');
  if (fault) throw fault;
  const found = ctx.scheduler.get(id);
  if (!found) throw notFound(`Task ${id} does not exist: wrong id, expired, or lost in a restart.`);
  // A task held by the `taskPendingLong` rate shows `pending` (no result yet) until its time is up.
  const doc = ctx.faults.heldPending(id) ? { task: { ...found.task, state: TaskState.Pending } } : found;
  if (ctx.faults.takeCutAnswer('poll')) return sendCut(res, 200, doc);
  sendJson(res, 200, doc);
}

/** A file form field, or a validation problem. */
async function readFileField(
  form: FormData,
  name: string,
  problems: ErrorDetail[],
): Promise<{ filename: string; bytes: Uint8Array } | undefined> {
  const value = form.get(name);
  if (value === null) {
    problems.push({ location: ['body', name], message: `Field required: ${name}.`, type: 'missing' });
    return undefined;
  }
  if (typeof value === 'string') {
    problems.push({
      location: ['body', name],
      message: `${name} must be a file upload, not a text field.`,
      type: 'value_error',
    });
    return undefined;
  }
  return { filename: value.name || name, bytes: new Uint8Array(await value.arrayBuffer()) };
}

/** `config` must be a JSON object in a text field; its keys are not checked (unknown keys are ignored). */
function validateConfig(value: ReturnType<FormData['get']>, problems: ErrorDetail[]): void {
  if (value === null) return;
  const location = ['body', 'config'];
  if (typeof value !== 'string') {
    problems.push({
      location,
      message: 'config must be a text field holding a JSON object.',
      type: 'value_error',
    });
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    problems.push({
      location,
      message: `config is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      type: 'json_invalid',
    });
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({ location, message: 'config must be a JSON object.', type: 'dict_type' });
  }
}

/**
 * The channel to analyse: the query parameter when given (an integer within the file's channels),
 * else 0 — but a multi-channel file without it is a validation problem, as on the platform.
 * Unprobeable files are not range-checked here: they end `rejected` when processed.
 */
function selectChannel(upload: Upload, param: string, url: URL, problems: ErrorDetail[]): number {
  const raw = url.searchParams.get(param);
  const channels = upload.probe instanceof Error ? undefined : upload.probe.channels;
  const file = `${upload.field} ("${upload.filename}")`;
  const location = ['query', param];
  if (raw === null) {
    if (channels !== undefined && channels > 1) {
      problems.push({
        location,
        message: `${file} has ${channels} channels; select one with the query parameter ${param} (0-${channels - 1}).`,
        type: 'missing',
        context: { channels },
      });
    }
    return 0;
  }
  if (!/^\d{1,6}$/.test(raw)) {
    problems.push({
      location,
      message: `${param} must be a 0-based channel index, got "${raw}".`,
      type: 'int_parsing',
    });
    return 0;
  }
  const channel = Number(raw);
  if (channels !== undefined && channel >= channels) {
    problems.push({
      location,
      message: `${param}=${channel} is out of range: ${file} has ${channels} channel${channels === 1 ? '' : 's'} (0-${channels - 1}).`,
      type: 'out_of_range',
      context: { channels },
    });
  }
  return channel;
}

async function probeOrError(bytes: Uint8Array): Promise<Upload['probe']> {
  try {
    return await probeMedia(bytes);
  } catch (err) {
    return err instanceof MediaProbeError
      ? err
      : new MediaProbeError(
          `the media could not be read (${err instanceof Error ? err.message : String(err)})`,
        );
  }
}

function validationError(problems: ErrorDetail[]): ApiError {
  return new ApiError(
    422,
    ErrorType.ValidationError,
    `Request validation failed: ${problems.map((p) => p.message).join(' ')}`,
    { detail: problems },
  );
}

function tooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    ErrorType.SizeLimitExceeded,
    `The request is larger than the upload limit of ${limit} bytes.`,
  );
}

function notFound(message: string): ApiError {
  return new ApiError(404, ErrorType.NotFound, message);
}

/** @throws ApiError 405 with an `allow` header when the method is not `method`. */
function allowOnly(req: IncomingMessage, path: string, method: string): void {
  if (req.method !== method) {
    throw new ApiError(
      405,
      ErrorType.MethodInvalid,
      `Method ${req.method} is not allowed on ${path}; use ${method}.`,
      { headers: { allow: method } },
    );
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The origin the client used (its Host header), so absolute Locations work through port mappings. */
function originOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  // Served over TLS (the `tls` option): the socket says so.
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return host ? `${scheme}://${host}` : fallback;
}

/** A host clients can connect to: wildcard listens are reached over loopback. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

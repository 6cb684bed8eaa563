/**
 * The emulator's HTTP server: routes, request validation, and the wire format of the Phonexia
 * Speech Platform 4 referential deepfake detection API (see docs/platform-api.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Upload } from './analysis.ts';
import { ApiError, ErrorType, type ErrorDetail } from './api-error.ts';
import { FaultInjector } from './faults.ts';
import { FixtureBook, loadFixtureFile, parseFixtures, type FixtureMap } from './fixtures.ts';
import { MediaProbeError, probeMedia } from './media-probe.ts';
import { MultipartParseError, readMultipart, UploadTooLargeError } from './multipart.ts';
import {
  resolveOptions,
  type EmulatorFaults,
  type EmulatorOptions,
  type ResolvedOptions,
} from './options.ts';
import { TaskScheduler, type SchedulerStats } from './task-scheduler.ts';
import { RequestKind, type AccountingSnapshot } from './accounting.ts';

/** Path of the referential deepfake detection endpoint; tasks live under `<this>/<task_id>`. */
export const RDD_ENDPOINT = '/api/technology/experimental/referential-deepfake-detection';
const INFO_PATH = '/api/system/info';
const STATUS_PATH = '/api/system/status';
/**
 * Dev-only admin routes (with `admin: true`), outside the platform's `/api/` paths:
 * `GET <ADMIN_PREFIX>/accounting` → {@link AccountingSnapshot}; `POST <ADMIN_PREFIX>/accounting/reset`
 * → 204, a new measurement window; `PUT <ADMIN_PREFIX>/model` with JSON
 * `{ capacity?, processing?: { fixedMs?, baseMs?, perAudioSecondMs? } }` → 200 with the model now in force.
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
  /** Replaces the injected faults (see `EmulatorFaults`). */
  setFaults(faults: EmulatorFaults): void;
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
export async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
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

  const server = createServer(
    // The appliance's "single upload duration" limit: the whole request must arrive in time (408).
    { requestTimeout: resolved.uploadTimeoutMs, headersTimeout: Math.min(60_000, resolved.uploadTimeoutMs) },
    (req, res) => serve(ctx, req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${loopbackFor(resolved.host)}:${port}`;
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
    restart: () => scheduler.restart(),
    setFaults: (faults) => ctx.faults.set(faults),
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
  throw notFound(`No such admin endpoint: ${path}`);
}

/** POST: validate, store and queue a task; 202 with its Location. */
async function submit(ctx: Context, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { options, scheduler } = ctx;
  const fault = ctx.faults.take('submitStatus');
  if (fault) throw fault;

  // Refuse a declared oversize body before reading a byte of it.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxUploadBytes) throw tooLarge(options.maxUploadBytes);
  let form: FormData;
  try {
    form = await readMultipart(req, options.maxUploadBytes);
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
  const plan = ctx.fixtures.planFor(createHash('sha256').update(questioned.bytes).digest('hex'));
  const doc = scheduler.submit({ reference: uploads.reference, questioned: uploads.questioned, plan });
  const taskPath = `${RDD_ENDPOINT}/${doc.task.task_id}`;
  const location = options.relativeLocation ? taskPath : `${originOf(req, ctx.fallbackOrigin)}${taskPath}`;
  sendJson(res, 202, doc, { location, 'x-location': location });
}

/** GET: the task's document, or 404 when unknown, expired or lost. */
function poll(ctx: Context, res: ServerResponse, id: string): void {
  const fault = ctx.faults.take('pollStatus');
  if (fault) throw fault;
  const doc = ctx.scheduler.get(id);
  if (!doc) throw notFound(`Task ${id} does not exist: wrong id, expired, or lost in a restart.`);
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
  return host ? `http://${host}` : fallback;
}

/** A host clients can connect to: wildcard listens are reached over loopback. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The Speech Platform HTTP client: one multipart POST to submit a referential deepfake detection
 * job, one GET per status check, one GET for the platform version. No retries here: Temporal owns
 * them, so they are durable, visible and bounded.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { DetectorTlsError } from './detector-tls-error.ts';
import { scrubHeaderEcho } from './header-echo.ts';
import { DETECTOR_DEFAULTS } from './defaults.ts';
import { DetectorHttpError, type DetectorOperation } from './detector-http-error.ts';
import { DetectorOriginError, type RefusedUrlSource } from './detector-origin-error.ts';
import { DetectorProtocolError } from './detector-protocol-error.ts';
import { extraHeaderProblems } from './headers.ts';
import { createMultipartBody, type MultipartPart } from './multipart.ts';
import { allowedOriginsFor } from './origins.ts';
import { DetectorErrorCode, isDetectorError } from './detector-error.ts';
import type {
  AcceptedJob,
  DetectorClient,
  DetectorClientOptions,
  DetectorExchange,
  DetectorExchangeError,
  JobStatus,
  RequestOptions,
  SubmitRequest,
  UploadFile,
} from './types.ts';
import {
  describeErrorBody,
  firstHeader,
  parseJson,
  parseRetryAfter,
  readAcceptedTask,
  readJobStatus,
  snip,
} from './wire.ts';

/**
 * The submit endpoint, relative to the base URL. "experimental" is in the platform's own path.
 * @example new URL(`${client.baseUrl}${SUBMIT_PATH}`)
 */
export const SUBMIT_PATH = '/api/technology/experimental/referential-deepfake-detection';
/** @example new URL(`${client.baseUrl}${SYSTEM_INFO_PATH}`) */
export const SYSTEM_INFO_PATH = '/api/system/info';

/** Status answers are a few hundred bytes; a megabyte means something else is answering. */
const SUCCESS_BODY_LIMIT = 1024 * 1024;
/** Enough for any JSON error; an HTML error page is cut (only its start reaches the message). */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * The values LocationResolution may take, for validating configuration.
 * @example LOCATION_RESOLUTIONS.includes('base-path') // true
 */
export const LOCATION_RESOLUTIONS = ['rfc3986', 'base-path'] as const;

/**
 * How a relative `Location` is turned into the URL to poll.
 *
 * - `rfc3986` (default): standard reference resolution (RFC 3986 §5.2) against the submit
 *   request's URL, as RFC 9110 §10.2.2 prescribes. `/api/…` therefore replaces the whole path,
 *   including any prefix of the base URL. Right for a direct connection and for a proxy that
 *   rewrites Location (nginx `proxy_redirect`).
 * - `base-path`: an absolute-path reference (`/api/…`) is appended to the base URL, keeping its
 *   path prefix. For a proxy that publishes the platform under a prefix (`https://host/spe`)
 *   without rewriting Location. Absolute URLs and other relative forms resolve as in `rfc3986`.
 */
export type LocationResolution = (typeof LOCATION_RESOLUTIONS)[number];

/** Optional settings beyond the DetectorClientOptions contract. */
export interface DetectorClientExtraOptions {
  /** Default `rfc3986`; see LocationResolution. */
  locationResolution?: LocationResolution;
}

/**
 * Creates a client for one Speech Platform. Without an injected `dispatcher` it owns an undici
 * Agent (one pool per origin, `connections` sockets each, the CA when given) and `close()` closes
 * it; an injected dispatcher is never closed by the client.
 *
 * Requests go only to the base URL's origin and to `allowedOrigins`: a job URL (Location,
 * X-Location, a stored status URL) elsewhere fails with DetectorOriginError before anything is
 * sent there. The extra headers go with every request, hence only to those origins.
 *
 * @throws TypeError when `baseUrl` is not an http(s) URL, an allowed origin is not a bare
 *   origin, or an extra header is malformed or reserved (the message names the header, never its value).
 * @example
 * const client = createDetectorClient({ baseUrl: 'https://spe.example.com', headers: { authorization: 'Bearer …' } });
 * const job = await client.submit({ reference, questioned, correlationId: workflowId, signal });
 * const status = await client.getJob(job.statusUrl, { signal });
 * await client.close();
 */
export function createDetectorClient(
  options: DetectorClientOptions & DetectorClientExtraOptions,
): DetectorClient {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const endpoint = new URL(`${baseUrl}${SUBMIT_PATH}`);
  const extraHeaders = normaliseHeaders(options.headers ?? {});
  const scrubEcho = scrubHeaderEcho(extraHeaders);
  const allowedOrigins = allowedOriginsFor(baseUrl, options.allowedOrigins);
  const channelParams = options.channelParams ?? DETECTOR_DEFAULTS.channelParams;
  const locationResolution = options.locationResolution ?? DETECTOR_DEFAULTS.locationResolution;
  const headersTimeout = options.headersTimeoutMs ?? DETECTOR_DEFAULTS.headersTimeoutMs;
  const bodyTimeout = options.bodyTimeoutMs ?? DETECTOR_DEFAULTS.bodyTimeoutMs;
  const ownDispatcher = options.dispatcher
    ? undefined
    : new Agent({
        connections: options.connections ?? DETECTOR_DEFAULTS.connections,
        headersTimeout,
        bodyTimeout,
        ...(options.ca ? { connect: { ca: options.ca } } : {}),
      });
  const dispatcher: Dispatcher = options.dispatcher ?? ownDispatcher!;
  let closing: Promise<void> | undefined;
  const onExchange = options.onExchange;

  /** Times one call and tells the observer how it went; the call's outcome is untouched. */
  async function observed<T>(
    operation: DetectorExchange['operation'],
    call: (sent: { bytes: number }) => Promise<T>,
  ): Promise<T> {
    if (onExchange === undefined) {
      return call({ bytes: 0 }).catch((err: unknown) => {
        throw DetectorTlsError.from(err, baseUrl) ?? err;
      });
    }
    const started = performance.now();
    const sent = { bytes: 0 };
    let status: number | undefined;
    let error: DetectorExchangeError | undefined;
    try {
      const value = await call(sent);
      return value;
    } catch (err) {
      ({ status, error } = describeFailure(err));
      // A refused certificate says which URL and how to fix it (DETECTOR_CA_FILE).
      throw DetectorTlsError.from(err, baseUrl) ?? err;
    } finally {
      try {
        onExchange({
          operation,
          durationMs: performance.now() - started,
          status: error === undefined ? expectedStatus[operation] : status,
          error,
          bytesSent: sent.bytes,
        });
      } catch {
        // An observer never changes a call's outcome.
      }
    }
  }

  /**
   * The one gate for every URL the client sends to. Extra headers (maybe a bearer token) go with
   * every request, so this also keeps them on the platform's origins; and any body the client
   * reads, formats into an error or logs came from one of them.
   */
  function assertAllowed(url: URL, operation: DetectorOperation, source: RefusedUrlSource): URL {
    if (!allowedOrigins.includes(url.origin)) {
      throw new DetectorOriginError({ operation, source, offeredOrigin: url.origin, allowedOrigins });
    }
    return url;
  }

  function headersFor(own: Record<string, string>): Record<string, string> {
    return { ...extraHeaders, accept: 'application/json', ...own };
  }

  async function exchange(
    operation: DetectorOperation,
    method: 'GET' | 'POST',
    url: URL,
    init: { headers: Record<string, string>; body?: Readable; signal?: AbortSignal | undefined },
    expected: number,
  ): Promise<{ text: string; headers: Dispatcher.ResponseData['headers'] }> {
    assertAllowed(url, operation, 'status URL');
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: init.headers,
      body: init.body ?? null,
      signal: init.signal ?? null,
      headersTimeout,
      bodyTimeout,
    });
    // Always read the body to its end (or cut it, which closes the socket): an unread body pins
    // the connection and the pool runs dry.
    const ok = response.statusCode === expected;
    const read = await readText(response.body, ok ? SUCCESS_BODY_LIMIT : ERROR_BODY_LIMIT);
    // A gateway may echo a refused credential: never let it into a message, history or log.
    const { text, truncated } = { text: scrubEcho(read.text), truncated: read.truncated };
    const requestId = firstHeader(response.headers, 'x-request-id');
    if (!ok) {
      const said = describeErrorBody(text);
      throw new DetectorHttpError({
        operation,
        status: response.statusCode,
        method,
        url: url.href,
        apiType: said.apiType,
        platformMessage: said.message ?? STATUS_CODES[response.statusCode],
        detail: said.detail,
        retryAfterMs: parseRetryAfter(firstHeader(response.headers, 'retry-after')),
        requestId,
      });
    }
    if (truncated) {
      throw new DetectorProtocolError({
        operation,
        status: response.statusCode,
        method,
        url: url.href,
        reason: `body is larger than ${SUCCESS_BODY_LIMIT} bytes`,
        bodySnippet: snip(text),
        requestId,
      });
    }
    return { text, headers: response.headers };
  }

  function protocolError(
    operation: DetectorOperation,
    method: string,
    url: URL,
    status: number,
    reason: string,
    text: string,
    headers: Dispatcher.ResponseData['headers'],
  ): DetectorProtocolError {
    return new DetectorProtocolError({
      operation,
      status,
      method,
      url: url.href,
      reason,
      bodySnippet: snip(text),
      requestId: firstHeader(headers, 'x-request-id'),
    });
  }

  function submit(request: SubmitRequest): Promise<AcceptedJob> {
    return observed('submit', (sent) => submitCounted(request, sent));
  }

  async function submitCounted(request: SubmitRequest, sent: { bytes: number }): Promise<AcceptedJob> {
    const url = new URL(endpoint);
    for (const [name, value] of Object.entries(request.params ?? {})) url.searchParams.append(name, value);
    // The per-file channel is more specific than a same-named free parameter, so it wins.
    setChannel(url, channelParams.reference, request.reference);
    setChannel(url, channelParams.questioned, request.questioned);

    const parts: MultipartPart[] = [
      filePart('file_reference', request.reference),
      filePart('file_questioned', request.questioned),
    ];
    if (request.config !== undefined) parts.push({ name: 'config', value: JSON.stringify(request.config) });
    const multipart = createMultipartBody(parts);

    const own: Record<string, string> = { 'content-type': multipart.contentType };
    // Without a length undici sends `transfer-encoding: chunked`.
    if (multipart.contentLength !== undefined) own['content-length'] = String(multipart.contentLength);
    if (request.correlationId) own['x-correlation-id'] = request.correlationId;

    // undici stops pulling the body when the request ends, but a file stream stalled mid-read
    // would hold the generator (and its socket) forever: destroy the sources ourselves.
    const sources = [request.reference.body, request.questioned.body];
    const release = () => {
      for (const source of sources) if (isReadable(source) && !source.destroyed) source.destroy();
    };
    request.signal?.addEventListener('abort', release, { once: true });
    try {
      const { text, headers } = await exchange(
        'submit',
        'POST',
        url,
        {
          headers: headersFor(own),
          body: Readable.from(counted(multipart.body, sent), { objectMode: false }),
          signal: request.signal,
        },
        202,
      );
      const task = readAcceptedTask(parseJson(text));
      const located = locate(
        ['Location', resolveLocation(firstHeader(headers, 'location'), url, baseUrl, locationResolution)],
        ['X-Location', resolveLocation(firstHeader(headers, 'x-location'), url, baseUrl, locationResolution)],
        [
          'task id',
          task.jobId !== undefined
            ? new URL(`${endpoint.href}/${encodeURIComponent(task.jobId)}`)
            : undefined,
        ],
      );
      // A job URL on another origin fails the submit here, before anything is sent there.
      const statusUrl = located && assertAllowed(located.url, 'submit', located.source);
      const jobId = task.jobId ?? (statusUrl ? lastSegment(statusUrl) : undefined);
      if (statusUrl === undefined || jobId === undefined) {
        throw protocolError(
          'submit',
          'POST',
          url,
          202,
          'no task.task_id in the body and no Location header',
          text,
          headers,
        );
      }
      return { jobId, statusUrl: statusUrl.href, state: task.state };
    } finally {
      request.signal?.removeEventListener('abort', release);
      release();
    }
  }

  function getJob(statusUrl: string, options: RequestOptions = {}): Promise<JobStatus> {
    return observed('getJob', () => getJobUnobserved(statusUrl, options));
  }

  async function getJobUnobserved(statusUrl: string, options: RequestOptions): Promise<JobStatus> {
    const resolved = resolveLocation(statusUrl, endpoint, baseUrl, locationResolution);
    if (resolved === undefined) throw new TypeError(`invalid status URL "${snip(statusUrl, 200) ?? ''}"`);
    // Defence in depth: a history written by an older version may hold a URL on another origin.
    const url = assertAllowed(resolved, 'getJob', 'status URL');
    const { text, headers } = await exchange(
      'getJob',
      'GET',
      url,
      { headers: headersFor({}), signal: options.signal },
      200,
    );
    const body = parseJson(text);
    if (body === undefined) throw protocolError('getJob', 'GET', url, 200, 'body is not JSON', text, headers);
    const read = readJobStatus(body, lastSegment(url));
    if (!read.ok) throw protocolError('getJob', 'GET', url, 200, read.reason, text, headers);
    return read.value;
  }

  function systemInfo(options: RequestOptions = {}): Promise<{ version: string | null }> {
    return observed('systemInfo', () => systemInfoUnobserved(options));
  }

  async function systemInfoUnobserved(options: RequestOptions): Promise<{ version: string | null }> {
    const url = new URL(`${baseUrl}${SYSTEM_INFO_PATH}`);
    const { text, headers } = await exchange(
      'systemInfo',
      'GET',
      url,
      { headers: headersFor({}), signal: options.signal },
      200,
    );
    const body = parseJson(text);
    if (body === undefined)
      throw protocolError('systemInfo', 'GET', url, 200, 'body is not JSON', text, headers);
    const version =
      typeof body === 'object' && body !== null ? (body as { version?: unknown }).version : undefined;
    if (typeof version === 'string' && version.trim() !== '') return { version };
    if (typeof version === 'number') return { version: String(version) };
    return { version: null };
  }

  function close(): Promise<void> {
    closing ??= ownDispatcher ? ownDispatcher.close() : Promise.resolve();
    return closing;
  }

  return { baseUrl, submit, getJob, systemInfo, close };
}

/**
 * Turns a Location value (or a stored status URL) into an absolute URL; see LocationResolution.
 * `undefined` when absent or unparseable, so the caller can try the next source.
 * @example resolveLocation('/api/x/1', new URL('https://h/spe/api/x'), 'https://h/spe', 'rfc3986')?.href // 'https://h/api/x/1'
 * @example resolveLocation('/api/x/1', new URL('https://h/spe/api/x'), 'https://h/spe', 'base-path')?.href // 'https://h/spe/api/x/1'
 */
export function resolveLocation(
  value: string | undefined,
  requestUrl: URL,
  baseUrl: string,
  mode: LocationResolution,
): URL | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const reference = value.trim();
  try {
    if (mode === 'base-path' && reference.startsWith('/') && !reference.startsWith('//')) {
      return new URL(`${baseUrl}${reference}`);
    }
    const url = new URL(reference, requestUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function normaliseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`detector baseUrl must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`detector baseUrl must be http(s), got "${url.protocol}"`);
  }
  if (url.search || url.hash) throw new TypeError('detector baseUrl must not have a query or fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function normaliseHeaders(headers: Record<string, string>): Record<string, string> {
  // The same rules loadWorkerConfig reports at start-up; values are never echoed (likely credentials).
  const problems = extraHeaderProblems(headers);
  if (problems.length > 0) throw new TypeError(`invalid extra headers: ${problems.join('; ')}`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** The status each operation expects, reported for a successful call. */
const expectedStatus = { submit: 202, getJob: 200, systemInfo: 200 } as const;

/** Counts the bytes undici pulls from a request body, as it pulls them. */
async function* counted(
  body: AsyncIterable<Uint8Array>,
  sent: { bytes: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    sent.bytes += chunk.byteLength;
    yield chunk;
  }
}

/** The status and a fixed-set error type of a failed call, for the observer. */
function describeFailure(err: unknown): { status: number | undefined; error: DetectorExchangeError } {
  if (isDetectorError(err)) {
    const status = (err as { status?: unknown }).status;
    const error: DetectorExchangeError =
      err.code === DetectorErrorCode.Http
        ? 'http'
        : err.code === DetectorErrorCode.Protocol
          ? 'protocol'
          : err.code === DetectorErrorCode.OriginRefused
            ? 'origin_refused'
            : 'upload_size';
    return { status: typeof status === 'number' ? status : undefined, error };
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
    return { status: undefined, error: 'aborted' };
  }
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return { status: undefined, error: 'timeout' };
  }
  if (typeof code === 'string' && (code.startsWith('UND_ERR_') || code.startsWith('E'))) {
    return { status: undefined, error: 'connection' };
  }
  return { status: undefined, error: 'other' };
}

/** The first candidate job URL that is present, with where it came from. */
function locate(
  ...candidates: [RefusedUrlSource, URL | undefined][]
): { source: RefusedUrlSource; url: URL } | undefined {
  for (const [source, url] of candidates) if (url !== undefined) return { source, url };
  return undefined;
}

function setChannel(url: URL, param: string, file: UploadFile): void {
  if (file.channel === undefined) return;
  if (!Number.isSafeInteger(file.channel) || file.channel < 0) {
    throw new RangeError(`channel must be a non-negative integer, got ${file.channel}`);
  }
  url.searchParams.set(param, String(file.channel));
}

function filePart(name: string, file: UploadFile): MultipartPart {
  return { name, filename: file.filename, contentType: file.contentType, body: file.body, size: file.size };
}

function isReadable(body: UploadFile['body']): body is Readable {
  return typeof (body as Readable).destroy === 'function' && 'destroyed' in body;
}

function lastSegment(url: URL): string | undefined {
  const segment = url.pathname.split('/').filter(Boolean).at(-1);
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readText(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (total + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - total));
      truncated = true;
      // Leaving the loop destroys the body; undici then drops that socket instead of reusing it.
      break;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}

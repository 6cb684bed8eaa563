/**
 * The Speech Platform's wire format, and tolerant readers for it. The only place where the
 * platform's `task_id` appears; everything above speaks of detection jobs.
 *
 * Readers never throw: they return what they could read, or a reason, and the client turns a
 * reason into a DetectorProtocolError that carries the request's context.
 */
import type { JobStatus } from './types.ts';

/** `{"task": {...}}` as sent in a 202 and in every status answer. */
export interface WireTask {
  task_id?: string;
  state?: string;
}

/** A status answer (`GET <Location>`). */
export interface WireJobBody {
  task?: WireTask;
  result?: { score?: number | null } | null;
  error?: WireTaskError | null;
}

export interface WireTaskError {
  type?: string;
  message?: string;
  detail?: unknown;
}

/** The documented error body. Some versions or proxies send a bare `{"detail": ...}` instead. */
export interface WireErrorBody {
  type?: string;
  message?: string;
  /** A string, a list of WireErrorDetail, or anything else an older appliance or a proxy sends. */
  detail?: unknown;
}

/** One entry of `detail`; FastAPI-style `loc`/`msg` spellings are accepted too. */
export interface WireErrorDetail {
  location?: (string | number)[];
  loc?: (string | number)[];
  message?: string;
  msg?: string;
  type?: string;
  context?: unknown;
}

export type WireRead<T> = { ok: true; value: T } | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

/**
 * Parses a JSON body; `undefined` when it is empty or not JSON. A UTF-8 BOM is tolerated.
 * @example parseJson('{"a":1}') // { a: 1 }
 */
export function parseJson(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The first value of a response header, or `undefined` when absent or blank.
 * @example firstHeader({ location: ['/a', '/b'] }, 'location') // '/a'
 */
export function firstHeader(headers: Headers, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the
 * past gives 0; anything unparseable gives `undefined`, so the caller falls back to its own backoff.
 * @example parseRetryAfter('120') // 120000
 * @example parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')) // 60000
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Only something that looks like a date: Date.parse accepts plain numbers like "1.5" as years.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Reads `task` from a 202 body. Either part may be missing; the caller decides whether a Location
 * makes up for a missing id.
 * @example readAcceptedTask({ task: { task_id: 'abc', state: 'pending' } }) // { jobId: 'abc', state: 'pending' }
 */
export function readAcceptedTask(body: unknown): { jobId: string | undefined; state: string | undefined } {
  const task = isObject(body) ? body.task : undefined;
  if (!isObject(task)) return { jobId: undefined, state: undefined };
  return { jobId: readId(task.task_id), state: readString(task.state) };
}

/**
 * Reads a status answer. Unknown states pass through as strings. `score` must be a number or
 * null whenever a `result` is present, and a `done` job must have one: a `done` without a score
 * cannot be turned into a verdict.
 * @param fallbackJobId used when `task.task_id` is missing (the status URL's last segment).
 * @example readJobStatus({ task: { task_id: 'a', state: 'done' }, result: { score: 0.5 } }, 'a')
 * // { ok: true, value: { jobId: 'a', state: 'done', score: 0.5 } }
 */
export function readJobStatus(body: unknown, fallbackJobId: string | undefined): WireRead<JobStatus> {
  if (!isObject(body)) return { ok: false, reason: 'body is not a JSON object' };
  const task = body.task;
  if (!isObject(task)) return { ok: false, reason: 'body has no "task" object' };
  const state = readString(task.state);
  if (state === undefined) return { ok: false, reason: 'task.state is missing or not a string' };
  const jobId = readId(task.task_id) ?? fallbackJobId;
  if (jobId === undefined) return { ok: false, reason: 'task.task_id is missing' };

  const status: JobStatus = { jobId, state };
  if (isObject(body.result)) {
    const score = body.result.score;
    if (score !== null && (typeof score !== 'number' || !Number.isFinite(score))) {
      return { ok: false, reason: `result.score is ${describeValue(score)}, expected a number or null` };
    }
    status.score = score;
  } else if (state === 'done') {
    return { ok: false, reason: 'state is "done" but there is no result' };
  }
  if (body.error !== undefined && body.error !== null) status.error = readTaskError(body.error);
  return { ok: true, value: status };
}

/**
 * Reads whatever a non-success answer said, from either body shape or from plain text:
 * `{type, message, detail?: [...]}`, a bare `{detail: "..."}` or `{detail: [...]}`, an HTML page.
 * @example describeErrorBody('{"type":"request.invalid","message":"Bad."}') // { apiType: 'request.invalid', message: 'Bad.', detail: undefined }
 */
export function describeErrorBody(text: string): { apiType?: string; message?: string; detail?: unknown } {
  const body = parseJson(text);
  if (!isObject(body)) {
    const snippet = snip(text);
    return snippet ? { message: snippet } : {};
  }
  const apiType = readString(body.type);
  const parts: string[] = [];
  const main = readString(body.message);
  if (main) parts.push(main);
  parts.push(...detailMessages(body.detail));
  // A JSON body of an unknown shape is still better shown than dropped.
  const message =
    parts.length > 0 ? snip(parts.join('; '), MESSAGE_MAX_CHARS) : apiType ? undefined : snip(text);
  return { apiType: apiType === undefined ? undefined : oneLine(apiType, 100), message, detail: body.detail };
}

/**
 * At most this many characters of a response body reach an error message or a log line.
 * @example snip(page).length <= SNIPPET_MAX_CHARS // true; a trailing `…` marks a cut
 */
export const SNIPPET_MAX_CHARS = 200;
/** At most this many characters of the platform's own words (message + detail messages). */
export const MESSAGE_MAX_CHARS = 500;

/**
 * Makes text from the network fit for one log line: whitespace runs (newlines included) become one
 * space, other control characters and bidi overrides are escaped (`\x1b`, `\u202e`), and the
 * result is cut to at most `max` characters, the last being `…` when cut. Pure, idempotent; never throws.
 * @example oneLine('a\n\tb\u001b[31m', 10) // 'a b\\x1b[31m' (the ESC shown as the 4 characters \x1b)
 */
export function oneLine(text: string, max: number): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .trim()
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
    });
  if (flat.length <= max) return flat;
  let cut = flat.slice(0, Math.max(0, max - 1));
  // Never leave half a surrogate pair (or half an escape) at the end.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/\\(x[0-9a-f]?|u[0-9a-f]{0,3})?$/, '');
  return `${cut}…`;
}

/**
 * The start of a response body for a log line or an error: one line, control characters escaped,
 * at most `max` characters (default SNIPPET_MAX_CHARS). `undefined` for a blank body.
 * Only bodies of the platform's allowed origins ever get here: the client refuses other origins
 * before it sends anything (see origins.ts).
 * @example snip('<html>\n  <h1>Bad gateway</h1>') // '<html> <h1>Bad gateway</h1>'
 */
export function snip(text: string, max = SNIPPET_MAX_CHARS): string | undefined {
  const flat = oneLine(text, max);
  return flat === '' ? undefined : flat;
}

function detailMessages(detail: unknown): string[] {
  if (typeof detail === 'string') return detail.trim() ? [detail.trim()] : [];
  const items = Array.isArray(detail) ? detail : isObject(detail) ? [detail] : [];
  const messages: string[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      messages.push(item);
      continue;
    }
    if (!isObject(item)) continue;
    const text = readString(item.message) ?? readString(item.msg);
    if (!text) continue;
    const where = item.location ?? item.loc;
    messages.push(Array.isArray(where) && where.length > 0 ? `${where.join('.')}: ${text}` : text);
  }
  return messages;
}

function readTaskError(error: unknown): NonNullable<JobStatus['error']> {
  if (!isObject(error)) return { type: 'unknown', message: oneLine(String(error), MESSAGE_MAX_CHARS) };
  const out: NonNullable<JobStatus['error']> = {
    type: oneLine(readString(error.type) ?? 'unknown', 100),
    message: oneLine(readString(error.message) ?? detailMessages(error.detail).join('; '), MESSAGE_MAX_CHARS),
  };
  if (error.detail !== undefined) out.detail = error.detail;
  return out;
}

function readId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return readString(value);
}

function readString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return String(value);
  return `a ${Array.isArray(value) ? 'array' : typeof value} (${snip(JSON.stringify(value) ?? '', 40)})`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

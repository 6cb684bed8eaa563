/**
 * Environment variables as zod schemas: each kind of value (URL, positive integer, JSON headers,
 * PEM file …) is one schema whose messages are predicates of the variable's name ("must be a
 * positive integer, got "x"", ": header "X" has an invalid name"), so a problem reads
 * `VARIABLE must …`. A blank variable counts as unset. Never imported by workflows.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { extraHeaderProblems } from '../activities/detector/headers.ts';
import { parseOrigin } from '../activities/detector/origins.ts';
import { bucketNameProblems } from '../shared/s3-names.ts';
import { ConfigError } from './config-error.ts';
import type { Env } from './env.ts';
import { temporalAddressProblems } from './temporal-address.ts';

export type { Env } from './env.ts';

/** Timers in Node hold at most 2^31-1 ms (about 24.8 days); a larger value fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A variable's text trimmed, or undefined when it is unset or blank. */
function present(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * A variable that may be unset (or blank): `schema` sees only trimmed, non-blank text.
 * @example z.object({ S3_BUCKET: optional(text) })
 */
export function optional<T extends z.ZodType<unknown, string>>(schema: T) {
  return z.preprocess(present, schema.optional());
}

/**
 * A variable that must be set (not blank); reported as `NAME is required`.
 * @example z.object({ DETECTOR_URL: required(baseUrl) })
 */
export function required<T extends z.ZodType<unknown, string>>(schema: T) {
  return z.preprocess(present, z.string({ error: 'is required' }).pipe(schema));
}

/** Any text. */
export const text = z.string();

/** `got "value"` for a message; the input is the variable's trimmed text. */
function got(input: unknown): string {
  return `got "${String(input)}"`;
}

/**
 * A positive safe integer written as plain digits (no sign, exponent or hex), at most `max`
 * (e.g. MAX_TIMER_MS for a `_MS` variable).
 * @example positiveInt(10_000).parse('16') // 16
 */
export function positiveInt(max = Number.MAX_SAFE_INTEGER) {
  return wholeNumber(1, max);
}

/**
 * A non-negative safe integer written as plain digits, at most `max` (0 allowed: "off").
 * @example nonNegativeInt(60_000).parse('0') // 0
 */
export function nonNegativeInt(max = Number.MAX_SAFE_INTEGER) {
  return wholeNumber(0, max);
}

function wholeNumber(min: 0 | 1, max: number) {
  // One transform, not refine(abort) + refine: an aborting issue would stop the checks of the
  // enclosing object, hiding its cross-variable problems (review 5, item 7).
  return z.string().transform((value, ctx) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
      const kind = min === 0 ? 'a non-negative integer' : 'a positive integer';
      ctx.addIssue({ code: 'custom', message: `must be ${kind}, ${got(value)}` });
      return z.NEVER;
    }
    if (number > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max}, ${got(value)}` });
      return z.NEVER;
    }
    return number;
  });
}

/**
 * `true`/`false`, also `1`/`0` and `yes`/`no`, any case.
 * @example boolean.parse('YES') // true
 */
export const boolean = z
  .string()
  .transform((value) => value.toLowerCase())
  .refine((value) => ['1', 'true', 'yes', '0', 'false', 'no'].includes(value), {
    error: (issue) => `must be true or false, ${got(issue.input)}`,
  })
  .transform((value) => ['1', 'true', 'yes'].includes(value));

/**
 * One of a fixed set of words, compared case-insensitively.
 * @example oneOf(['rfc3986', 'base-path']).parse('Base-Path') // 'base-path'
 */
export function oneOf<const T extends string>(allowed: readonly T[]) {
  return z
    .string()
    .refine((value) => allowed.some((word) => word === value.toLowerCase()), {
      error: (issue) => `must be one of ${allowed.join(', ')}, ${got(issue.input)}`,
    })
    .transform((value) => value.toLowerCase() as T);
}

/**
 * A query parameter name: unreserved URL characters only (RFC 3986 §2.3), so it needs no escaping.
 * @example queryName.parse('reference_channel')
 */
export const queryName = z.string().refine((value) => /^[A-Za-z0-9._~-]{1,100}$/.test(value), {
  error: (issue) =>
    `must be a query parameter name (letters, digits, . _ ~ -), got ${JSON.stringify(String(issue.input).slice(0, 100))}`,
});

/**
 * An S3 bucket name that passes {@link bucketNameProblems}, reported as
 * `S3_BUCKET "Bad_Name" is not a valid S3 bucket name: uppercase letters, …`.
 * @example bucketName.parse('results') // 'results'
 */
export const bucketName = z.string().superRefine((value, ctx) => {
  for (const problem of bucketNameProblems(value, ''))
    ctx.addIssue({ code: 'custom', message: problem.trim() });
});

/**
 * A Temporal frontend address, `host` or `host:port` (see {@link temporalAddressProblems}),
 * reported as `TEMPORAL_ADDRESS must be host or host:port …, got "::::"`.
 * @example temporalAddress.parse('127.0.0.1:7233') // '127.0.0.1:7233'
 */
export const temporalAddress = z.string().superRefine((value, ctx) => {
  for (const message of temporalAddressProblems(value)) ctx.addIssue({ code: 'custom', message });
});

/**
 * `value` fit to echo: anything before an `@` in the authority (a user name and password, in any
 * scheme, parsable or not) becomes `***`.
 * @example withoutCredentials('ftp://user:hunter2@x/a') // 'ftp://***@x/a'
 */
export function withoutCredentials(value: string): string {
  return value.replace(/^([^/?#]*?\/\/|)[^/?#]*@/, '$1***@');
}

/** An http(s) URL without credentials (which are never echoed), or an issue and undefined. */
function httpUrl(value: string, ctx: z.RefinementCtx): URL | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // Any scheme may carry a password (ftp://user:secret@host); never echo it.
    ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, ${got(withoutCredentials(value))}` });
    return undefined;
  }
  if (url.username || url.password) {
    // Not echoed: it holds a password.
    ctx.addIssue({
      code: 'custom',
      message: 'must not contain a user name or password (send credentials in headers)',
    });
    return undefined;
  }
  return url;
}

/**
 * An http(s) endpoint URL, trailing slashes removed.
 * @example endpointUrl.parse('http://s3:7070/') // 'http://s3:7070'
 */
export const endpointUrl = z.string().transform((value, ctx) => {
  const url = httpUrl(value, ctx);
  return url ? value.replace(/\/+$/, '') : z.NEVER;
});

/**
 * An http(s) base URL: a path prefix is kept (a platform behind a path-prefixed proxy), a query
 * or fragment is refused. Normalised to `origin + path` without trailing slashes.
 * @example baseUrl.parse('https://proxy.example.com/spe/') // 'https://proxy.example.com/spe'
 */
export const baseUrl = z.string().transform((value, ctx) => {
  const url = httpUrl(value, ctx);
  if (url === undefined) return z.NEVER;
  if (url.search || url.hash) {
    ctx.addIssue({
      code: 'custom',
      message: `must not have a query or fragment (a path prefix is fine), ${got(value)}`,
    });
    return z.NEVER;
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
});

/**
 * Comma-separated bare http(s) origins (`https://node1:8443`), deduplicated; each bad entry is
 * its own problem, and an entry with credentials is not echoed.
 * @example origins.parse('https://a:8443, http://b/') // ['https://a:8443', 'http://b']
 */
export const origins = z.string().transform((value, ctx) => {
  const found: string[] = [];
  let ok = true;
  for (const item of value.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const read = parseOrigin(item);
    if (read.ok) {
      if (!found.includes(read.origin)) found.push(read.origin);
      continue;
    }
    ok = false;
    const shown = /@/.test(item) ? 'an entry' : `"${item}"`;
    ctx.addIssue({
      code: 'custom',
      message: `: ${shown} ${read.reason}, e.g. https://node1.example.com:8443`,
    });
  }
  return ok ? found : z.NEVER;
});

/** A file's text, or undefined after adding an issue naming the path and the error code. */
function readTextFile(path: string, ctx: z.RefinementCtx): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    ctx.addIssue({
      code: 'custom',
      message: `cannot be read (${typeof code === 'string' ? code : 'error'}): ${path}`,
    });
    return undefined;
  }
}

/**
 * The path of a token file → the token on its first line (trimmed); the file's contents are never
 * echoed in an issue. Used by RDD_API_TOKEN_FILE and RDD_CODEC_SERVER_TOKEN_FILE.
 * @example tokenFile.parse('/run/secrets/rdd-token') // 's3cr3t…'
 */
export const tokenFile = z.string().transform((path, ctx) => {
  const content = readTextFile(path, ctx);
  if (content === undefined) return z.NEVER;
  const token = content.split(/\r?\n/)[0]?.trim() ?? '';
  if (token === '') {
    ctx.addIssue({ code: 'custom', message: `holds no token on its first line: ${path}` });
    return z.NEVER;
  }
  return token;
});

/**
 * The path of a readable PEM file with at least one certificate, every one of which parses;
 * the output carries the PEM text, so nothing is left to fail later.
 * @example pemFile.parse('/etc/ssl/ca.pem') // { path: '/etc/ssl/ca.pem', pem: '-----BEGIN …' }
 */
export const pemFile = z.string().transform((path, ctx) => {
  const pem = readTextFile(path, ctx);
  if (pem === undefined) return z.NEVER;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `holds no PEM certificate (-----BEGIN CERTIFICATE-----): ${path}`,
    });
    return z.NEVER;
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `: certificate ${index + 1} in ${path} is not a valid PEM certificate`,
      });
      return z.NEVER;
    }
  }
  return { path, pem };
});

const HEADERS_SHAPE = 'must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}';

/**
 * The parser's complaint without any of the input: V8 quotes the offending text in some messages
 * (`Unexpected token 'B', "…Bearer sec…" is not valid JSON`), and the input may hold a credential.
 */
function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const positioned = /^([^"]*?) at position (\d+)/.exec(message);
  if (positioned) return `${positioned[1]} at position ${positioned[2]}`;
  if (/^Unexpected end of JSON input/.test(message)) return 'Unexpected end of JSON input';
  if (/^Unexpected token/.test(message)) return 'Unexpected token (strings need double quotes)';
  return 'it cannot be parsed';
}

/**
 * A JSON object of string values (`{"Authorization": "Bearer …"}`) that passes the rules the
 * detector client enforces; problems name the header, never its value (likely a credential):
 * `is not valid JSON: Expected property name or '}' in JSON at position 1`, `must be a JSON object …, got an array`,
 * `: header "X" must be a string, got a number`.
 * @example headers.parse('{"X-Tenant":"t1"}') // { 'X-Tenant': 't1' }
 */
export const headers = z.string().transform((value, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is not valid JSON: ${jsonProblem(err)}; it ${HEADERS_SHAPE}` });
    return z.NEVER;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    ctx.addIssue({ code: 'custom', message: `${HEADERS_SHAPE}, got ${kind}` });
    return z.NEVER;
  }
  const record: Record<string, string> = {};
  let ok = true;
  for (const [name, headerValue] of Object.entries(parsed)) {
    if (typeof headerValue === 'string') {
      record[name] = headerValue;
      continue;
    }
    ok = false;
    const kind =
      headerValue === null ? 'null' : Array.isArray(headerValue) ? 'an array' : `a ${typeof headerValue}`;
    ctx.addIssue({
      code: 'custom',
      message: `: header ${JSON.stringify(name.slice(0, 100))} must be a string, got ${kind}`,
    });
  }
  if (!ok) return z.NEVER;
  const problems = extraHeaderProblems(record);
  for (const problem of problems) ctx.addIssue({ code: 'custom', message: `: ${problem}` });
  return problems.length === 0 ? record : z.NEVER;
});

/**
 * One issue as a sentence about its variable: `S3_BUCKET is required`,
 * `DETECTOR_HEADERS: header "x" …`; an issue without a path is already a sentence.
 */
function problemOf(issue: z.core.$ZodIssue): string {
  const name = issue.path.map(String).join('.');
  if (name === '') return issue.message;
  return issue.message.startsWith(':') ? `${name}${issue.message}` : `${name} ${issue.message}`;
}

/** The outputs of a tuple of schemas. */
type Outputs<T extends readonly z.ZodType[]> = { -readonly [K in keyof T]: z.output<T[K]> };

/**
 * Parses `env` with each schema in turn and collects every problem of all of them, in order.
 * @throws ConfigError listing every problem, one per variable (or per header or origin).
 * @example const [storage, detector] = readVariables(env, [storageVariables, detectorVariables])
 */
export function readVariables<const T extends readonly z.ZodType[]>(env: Env, schemas: T): Outputs<T> {
  const problems: string[] = [];
  const outputs = schemas.map((schema) => {
    const result = schema.safeParse(env);
    if (!result.success) problems.push(...result.error.issues.map(problemOf));
    return result.data;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return outputs as Outputs<T>;
}

/**
 * The redaction step of the worker's logs: whatever a log line carries, credentials from the
 * environment, bearer tokens, URL query strings (a presigned URL's signature lives there) and
 * URL user-info never reach the output. Pure, except that `secretsFromEnv` reads the files that
 * secret `…_FILE` variables name (their content is the secret).
 */
import { readFileSync } from 'node:fs';

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/**
 * Variables whose values are credentials, wherever they appear: a name containing SECRET, TOKEN,
 * PASSWORD, CREDENTIAL, API_KEY, … or ending in KEY / KEYS (RDD_ENCRYPTION_KEYS, TEMPORAL_TLS_CLIENT_KEY;
 * not AWS_ACCESS_KEY_ID, an identifier). The same name with `_FILE` / `_PATH` after it names a file
 * holding the credential (RDD_ENCRYPTION_KEYS_FILE, RDD_API_TOKEN_FILE).
 */
const SECRET_VARIABLE = /(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIAL|(?:^|_)KEYS?$)/i;
/** `<secret variable>_FILE` or `_PATH`: the file's content is the credential, its path is not. */
const SECRET_FILE_VARIABLE = /^(.+)_(?:FILE|PATH)$/i;
/** A secret file larger than this is not read (a credential file is small). */
const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** Meta keys whose values are dropped whole, whatever they hold. */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|password|passwd|secret|token|access[-_]?token|session[-_]?token|secret[-_]?access[-_]?key|headers|task[-_]?token|credentials?)$/i;
/** Values shorter than this are not searched for: too likely to match ordinary text. */
const MIN_SECRET_LENGTH = 6;

/** A function from any log text to the same text with secrets replaced by REDACTED. */
export type Redactor = (text: string) => string;

/**
 * The credentials to look for in `env`: every value of DETECTOR_HEADERS (the JSON object of extra
 * platform headers: a bearer token, an API key) and of every variable whose name says it is a
 * secret (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, TEMPORAL_API_KEY, RDD_API_TOKEN,
 * RDD_ENCRYPTION_KEYS, …), with the credential part of `Bearer x` / `Basic x` values too. A list
 * (`id:base64key,id:base64key`, one per line) is searched whole, entry by entry and key by key, so
 * one key printed alone is caught too. A secret variable's `_FILE` / `_PATH` form
 * (RDD_ENCRYPTION_KEYS_FILE, RDD_CODEC_SERVER_TOKEN_FILE, TEMPORAL_TLS_CLIENT_KEY_PATH) is read with
 * `readSecretFile` and its content taken the same way (PEM armour lines excepted); a file that cannot
 * be read is skipped (the configuration loader reports it). Values shorter than 6 characters are
 * left out (they would match ordinary words).
 * @example secretsFromEnv({ DETECTOR_HEADERS: '{"authorization":"Bearer abc123def"}' }) // ['Bearer abc123def', 'abc123def']
 * @example secretsFromEnv({ RDD_ENCRYPTION_KEYS: 'k1:QUJD…,k0:REVG…' }) // the list, 'k1:QUJD…', 'QUJD…', 'k0:REVG…', 'REVG…'
 */
export function secretsFromEnv(
  env: Record<string, string | undefined>,
  readSecretFile: (path: string) => string | undefined = readSmallFile,
): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined) => {
    const text = value?.trim();
    if (!text || text.length < MIN_SECRET_LENGTH) return;
    found.add(text);
    const scheme = /^(?:bearer|basic|token|apikey)\s+(\S+)$/i.exec(text);
    if (scheme?.[1] && scheme[1].length >= MIN_SECRET_LENGTH) found.add(scheme[1]);
  };
  /** The whole value, each line or comma-separated entry, and the part after `id:` in each. */
  const addList = (value: string | undefined) => {
    add(value);
    for (const entry of value?.split(/[,\r\n]+/) ?? []) {
      if (/^-----(BEGIN|END) /.test(entry.trim())) continue;
      add(entry);
      const colon = entry.indexOf(':');
      if (colon > 0) add(entry.slice(colon + 1));
    }
  };
  for (const [name, value] of Object.entries(env)) {
    if (name === 'DETECTOR_HEADERS' && value) {
      try {
        const parsed = JSON.parse(value) as unknown;
        if (typeof parsed === 'object' && parsed !== null) {
          for (const headerValue of Object.values(parsed)) {
            if (typeof headerValue === 'string') add(headerValue);
          }
        }
      } catch {
        add(value); // not JSON: config refuses it, but never print it either
      }
      continue;
    }
    const file = SECRET_FILE_VARIABLE.exec(name);
    if (file?.[1] && SECRET_VARIABLE.test(file[1])) {
      // The path is no secret; what the file holds is.
      if (value?.trim()) addList(readSecretFile(value.trim()));
    } else if (SECRET_VARIABLE.test(name)) {
      addList(value);
    }
  }
  // Longest first, so a value containing a shorter one is replaced whole.
  return [...found].sort((a, b) => b.length - a.length);
}

function readSmallFile(path: string): string | undefined {
  try {
    const text = readFileSync(path);
    return text.length <= MAX_SECRET_FILE_BYTES ? text.toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the redactor for a set of secret values. It replaces, in this order: each secret (also in
 * its JSON-escaped and URL-encoded forms), `Bearer`/`Basic` credentials, the query string of every
 * http(s) URL (presigned S3 URLs carry `X-Amz-Signature`, `X-Amz-Credential` there; the query of
 * a platform URL is kept out as well), and user-info in URLs. Idempotent.
 * @example createRedactor(['s3cr3t-key'])('key s3cr3t-key at https://b.s3/x?X-Amz-Signature=ab') // 'key [redacted] at https://b.s3/x?[redacted]'
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  const ordered = [...forms].filter((form) => form.length > 0).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const form of ordered) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out
      .replace(/\b(Bearer|Basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`)
      .replace(/(\bhttps?:\/\/[^\s"'<>?#]*)\?(?!\[redacted\])[^\s"'<>#]*/gi, `$1?${REDACTED}`)
      .replace(/(\bhttps?:\/\/)[^\s"'<>/@]+@/gi, `$1${REDACTED}@`);
  };
}

/**
 * A copy of log metadata fit for JSON: keys that name credentials (authorization, headers, token,
 * taskToken, …) get REDACTED whatever their value; Errors become `{ name, message, type?, stack,
 * cause? }`; bigints become strings; cycles and depth beyond 6 are cut. String values are not
 * searched here: the redactor runs over the serialised line.
 * @example sanitizeMeta({ headers: { authorization: 'x' }, n: 1n }) // { headers: '[redacted]', n: '1' }
 */
export function sanitizeMeta(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[cycle]';
  if (depth > 6) return '[deep]';
  seen.add(value);
  if (value instanceof Error) {
    const error = value as Error & { type?: unknown; code?: unknown; cause?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof error.type === 'string' && { type: error.type }),
      ...(typeof error.code === 'string' && { code: error.code }),
      ...(error.stack !== undefined && { stack: error.stack }),
      ...(error.cause !== undefined && { cause: sanitizeMeta(error.cause, depth + 1, seen) }),
    };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => sanitizeMeta(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : sanitizeMeta(item, depth + 1, seen);
  }
  return out;
}

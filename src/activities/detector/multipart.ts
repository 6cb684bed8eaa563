/**
 * A streamed `multipart/form-data` body (RFC 7578). Files are piped chunk by chunk from their
 * streams, so an upload of any size costs a few chunks of memory; when every file's size is known
 * the exact byte length is known up front and the request can carry a Content-Length.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DetectorUploadSizeError } from './detector-upload-size-error.ts';

/** A plain text field, e.g. `config`. */
export interface MultipartField {
  name: string;
  value: string;
}

/** A file field, streamed. */
export interface MultipartFile {
  name: string;
  filename: string;
  contentType?: string;
  body: Readable | AsyncIterable<Uint8Array>;
  /** Declared byte length. When set, the stream must deliver exactly this many bytes. */
  size?: number;
}

export type MultipartPart = MultipartField | MultipartFile;

export interface MultipartBody {
  boundary: string;
  /** The request's Content-Type header value. */
  contentType: string;
  /** Exact byte length of `body`, or `undefined` when a file's size is unknown (send chunked). */
  contentLength: number | undefined;
  /** The bytes: each part's headers, the file's chunks as they arrive, then the closing boundary. Single use. */
  body: AsyncGenerator<Uint8Array, void, undefined>;
}

const CRLF = Buffer.from('\r\n');
const DEFAULT_FILE_TYPE = 'application/octet-stream';
/** A media type as RFC 9110 allows it, parameters included; anything else could break the part's headers. */
const SAFE_CONTENT_TYPE =
  /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(?:\s*;\s*[\w!#$&^.+-]+=(?:[\w!#$&^.+-]+|"[^"\\\r\n]*"))*$/;

/**
 * A boundary of 128 random bits: the chance that it occurs inside real media is negligible, which
 * is what lets us stream without scanning the content for it.
 * @example createBoundary() // '----rdd-3f9c…'
 */
export function createBoundary(): string {
  return `----rdd-${randomBytes(16).toString('hex')}`;
}

/**
 * Makes a string safe inside a quoted Content-Disposition parameter the way browsers do (WHATWG
 * "multipart/form-data encoding"): `"`, CR and LF are percent-encoded, other characters stay UTF-8.
 * A backslash is percent-encoded too, because Python multipart parsers (the platform's stack
 * answers in FastAPI style) treat it as an escape or as a Windows path separator and would alter
 * or truncate the name.
 * @example quoteParam('a"b.wav') // 'a%22b.wav'
 */
export function quoteParam(value: string): string {
  return value.replace(
    /["\\\r\n]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * Builds a streamed multipart body from fields and files, in the given order.
 *
 * The returned generator throws DetectorUploadSizeError as soon as a file with a declared `size`
 * delivers more bytes (before they are sent) or ends with fewer. It never closes the file streams
 * it did not read to the end; the caller owns them.
 *
 * @example
 * const mp = createMultipartBody([
 *   { name: 'file_reference', filename: 'a.wav', body: fs.createReadStream('a.wav'), size: 1234 },
 *   { name: 'config', value: '{}' },
 * ]);
 * await request(url, { method: 'POST', body: Readable.from(mp.body), headers: { 'content-type': mp.contentType } });
 */
export function createMultipartBody(
  parts: readonly MultipartPart[],
  options: { boundary?: string } = {},
): MultipartBody {
  const boundary = options.boundary ?? createBoundary();
  if (!/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/.test(boundary))
    throw new TypeError(`invalid multipart boundary "${boundary}"`);
  // Headers are encoded once: the same buffers feed the length and the stream, so they cannot disagree.
  const encoded = parts.map((part) => ({ part, head: Buffer.from(partHead(boundary, part), 'utf8') }));
  const tail = Buffer.from(`--${boundary}--\r\n`, 'latin1');

  let contentLength: number | undefined = tail.length;
  for (const { part, head } of encoded) {
    const size = 'value' in part ? Buffer.byteLength(part.value, 'utf8') : part.size;
    if (size === undefined || contentLength === undefined) {
      contentLength = undefined;
      continue;
    }
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`invalid size ${size} for ${part.name}`);
    contentLength += head.length + size + CRLF.length;
  }

  async function* generate(): AsyncGenerator<Uint8Array, void, undefined> {
    for (const { part, head } of encoded) {
      yield head;
      if ('value' in part) yield Buffer.from(part.value, 'utf8');
      else yield* fileChunks(part);
      yield CRLF;
    }
    yield tail;
  }

  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    body: generate(),
  };
}

function partHead(boundary: string, part: MultipartPart): string {
  if ('value' in part) {
    return `--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(part.name)}"\r\n\r\n`;
  }
  // An empty filename makes some parsers treat the part as a text field.
  const filename = quoteParam(part.filename || 'file');
  // The type may come from object metadata: never let it inject header lines.
  const type =
    part.contentType && SAFE_CONTENT_TYPE.test(part.contentType) ? part.contentType : DEFAULT_FILE_TYPE;
  return (
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${quoteParam(part.name)}"; filename="${filename}"\r\n` +
    `Content-Type: ${type}\r\n\r\n`
  );
}

async function* fileChunks(file: MultipartFile): AsyncGenerator<Uint8Array, void, undefined> {
  let seen = 0;
  for await (const raw of file.body as AsyncIterable<unknown>) {
    const chunk = toBytes(raw, file.name);
    // An empty chunk would terminate a chunked request early; skip it.
    if (chunk.byteLength === 0) continue;
    seen += chunk.byteLength;
    if (file.size !== undefined && seen > file.size)
      throw new DetectorUploadSizeError(file.name, file.size, seen);
    yield chunk;
  }
  if (file.size !== undefined && seen !== file.size)
    throw new DetectorUploadSizeError(file.name, file.size, seen);
}

function toBytes(chunk: unknown, field: string): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  // A Readable with setEncoding() yields strings; treat them as the UTF-8 they were decoded from.
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`${field}: stream yielded ${typeof chunk}, expected bytes`);
}

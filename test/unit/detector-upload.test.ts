/**
 * The submit request as it arrives on a real socket: a local node:http server captures the raw
 * bytes, and the multipart body is parsed back with the platform-independent WHATWG parser.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.ts';
import {
  createDetectorClient,
  DetectorHttpError,
  DetectorUploadSizeError,
  SUBMIT_PATH,
  type DetectorClient,
  type SubmitRequest,
  type UploadFile,
} from '../../src/activities/detector/index.ts';

const JOB_ID = 'job-1';
const MiB = 1024 * 1024;

interface Captured {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server, scheme = 'http'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A platform that reads the whole upload, remembers it, and accepts the job. */
async function capturingPlatform(): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = createServer(
    handleAsync(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      requests.push({
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://platform'),
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      accept(res);
    }),
  );
  return { url: await listen(server), requests };
}

/** An async request handler for node:http, whose errors end the response instead of floating. */
function handleAsync(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handler(req, res).catch((err: unknown) => res.destroy(err as Error));
  };
}

function accept(res: ServerResponse): void {
  res.writeHead(202, { 'content-type': 'application/json', location: `${SUBMIT_PATH}/${JOB_ID}` });
  res.end(JSON.stringify({ task: { task_id: JOB_ID, state: 'pending' } }));
}

function client(
  baseUrl: string,
  extra: Partial<Parameters<typeof createDetectorClient>[0]> = {},
): DetectorClient {
  const created = createDetectorClient({ baseUrl, ...extra });
  cleanups.push(() => created.close());
  return created;
}

/** A stream of `bytes` in uneven chunks, so part boundaries never line up with chunk boundaries. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 1; at < bytes.length; n = (n * 7 + 3) % 65_521) {
    const size = 1 + (n % 40_000);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

function upload(bytes: Buffer, file: Partial<UploadFile> = {}): UploadFile {
  return { body: chunked(bytes), filename: 'a.wav', contentType: 'audio/wav', size: bytes.length, ...file };
}

async function parseForm(captured: Captured): Promise<FormData> {
  return new Response(new Uint8Array(captured.body), {
    headers: { 'content-type': String(captured.headers['content-type']) },
  }).formData();
}

async function bytesOf(entry: ReturnType<FormData['get']>): Promise<Buffer> {
  if (!(entry instanceof Blob)) throw new Error(`expected a file, got ${typeof entry}`);
  return Buffer.from(await entry.arrayBuffer());
}

describe('submit on the wire', () => {
  it('sends a well-formed multipart body with both files intact, the config JSON, the query and the headers', async () => {
    const platform = await capturingPlatform();
    const reference = randomBytes(300_000);
    const questioned = randomBytes(1_000_003);
    const config = { max_speech_length: 60, nested: { 'key with "quotes"': 'žluťoučký' } };
    const detector = client(platform.url, { headers: { Authorization: 'Bearer secret' } });

    const job = await detector.submit({
      reference: upload(reference, { filename: 'ref.wav', channel: 0 }),
      questioned: upload(questioned, { filename: 'questioned.mp3', contentType: 'audio/mpeg', channel: 1 }),
      config,
      params: { segment_start: '1.5', segment_end: '9' },
      correlationId: 'wf-42',
    });

    expect(job).toEqual({
      jobId: JOB_ID,
      statusUrl: `${platform.url}${SUBMIT_PATH}/${JOB_ID}`,
      state: 'pending',
    });
    expect(platform.requests).toHaveLength(1);
    const [request] = platform.requests as [Captured];
    expect(request.method).toBe('POST');
    expect(request.url.pathname).toBe(SUBMIT_PATH);
    expect(Object.fromEntries(request.url.searchParams)).toEqual({
      segment_start: '1.5',
      segment_end: '9',
      reference_channel: '0',
      questioned_channel: '1',
    });
    expect(request.headers).toMatchObject({
      authorization: 'Bearer secret',
      'x-correlation-id': 'wf-42',
      accept: 'application/json',
    });
    expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=----rdd-[0-9a-f]{32}$/);
    expect(request.headers['transfer-encoding']).toBeUndefined();
    expect(Number(request.headers['content-length'])).toBe(request.body.length);

    const form = await parseForm(request);
    expect([...form.keys()]).toEqual(['file_reference', 'file_questioned', 'config']);
    const ref = form.get('file_reference') as File;
    expect(ref.name).toBe('ref.wav');
    expect(ref.type).toBe('audio/wav');
    expect((await bytesOf(ref)).equals(reference)).toBe(true);
    const que = form.get('file_questioned') as File;
    expect(que.name).toBe('questioned.mp3');
    expect(que.type).toBe('audio/mpeg');
    expect((await bytesOf(que)).equals(questioned)).toBe(true);
    expect(form.get('config')).toBe(JSON.stringify(config));
  });

  it('omits config and channel parameters that were not given, and uses configured channel names', async () => {
    const platform = await capturingPlatform();
    const detector = client(platform.url, {
      channelParams: { reference: 'channel_a', questioned: 'channel_b' },
    });
    await detector.submit({
      reference: upload(randomBytes(10)),
      questioned: upload(randomBytes(10), { channel: 2 }),
    });

    const [request] = platform.requests as [Captured];
    expect(Object.fromEntries(request.url.searchParams)).toEqual({ channel_b: '2' });
    expect([...(await parseForm(request)).keys()]).toEqual(['file_reference', 'file_questioned']);
    expect(request.headers).not.toHaveProperty('x-correlation-id');
  });

  it('sends chunked when a size is unknown, and the body still parses', async () => {
    const platform = await capturingPlatform();
    const reference = randomBytes(200_000);
    const questioned = randomBytes(123_457);
    await client(platform.url).submit({
      reference: upload(reference, { size: undefined }),
      questioned: upload(questioned),
      config: {},
    });

    const [request] = platform.requests as [Captured];
    expect(request.headers['transfer-encoding']).toBe('chunked');
    expect(request.headers['content-length']).toBeUndefined();
    const form = await parseForm(request);
    expect((await bytesOf(form.get('file_reference'))).equals(reference)).toBe(true);
    expect((await bytesOf(form.get('file_questioned'))).equals(questioned)).toBe(true);
    expect(form.get('config')).toBe('{}');
  });

  it('escapes filenames so they cannot break out of the part headers', async () => {
    const platform = await capturingPlatform();
    await client(platform.url).submit({
      reference: upload(randomBytes(5), { filename: 'evil".wav\r\nContent-Type: text/html\r\n\r\nx' }),
      questioned: upload(randomBytes(5), {
        filename: 'Žluťoučký kůň\\1.wav',
        contentType: 'audio/wav\r\nX-Bad: 1',
      }),
    });

    const [request] = platform.requests as [Captured];
    const form = await parseForm(request);
    expect([...form.keys()]).toEqual(['file_reference', 'file_questioned']);
    // On the wire the quote and line breaks are percent-encoded, as browsers do…
    expect(request.body.includes('filename="evil%22.wav%0D%0AContent-Type: text/html%0D%0A%0D%0Ax"')).toBe(
      true,
    );
    // …and a WHATWG parser decodes them back, inside the one part they belong to.
    const ref = form.get('file_reference') as File;
    expect(ref.name).toBe('evil".wav\r\nContent-Type: text/html\r\n\r\nx');
    expect(ref.type).toBe('audio/wav');
    // UTF-8 stays as it is; a backslash is encoded because Python parsers treat it as an escape.
    const que = form.get('file_questioned') as File;
    expect(que.name).toBe('Žluťoučký kůň%5C1.wav');
    // A content type that would inject a header line is replaced, not sent.
    expect(que.type).toBe('application/octet-stream');
    expect(request.body.includes('X-Bad')).toBe(false);
  });

  it('streams a 64 MiB file without buffering it, and the bytes arrive intact', async () => {
    const total = 64 * MiB;
    const chunk = randomBytes(64 * 1024);
    let produced = 0;
    let received = 0;
    let maxInFlight = 0;
    let receivedBeforeLastChunk = -1;

    // eslint-disable-next-line @typescript-eslint/require-await -- an async source, as S3's body is
    async function* generate(): AsyncGenerator<Uint8Array> {
      while (produced < total) {
        if (produced + chunk.length >= total) receivedBeforeLastChunk = received;
        // Fresh buffers: a buffering client would have to keep every one of them.
        const copy = Buffer.from(chunk);
        produced += copy.length;
        maxInFlight = Math.max(maxInFlight, produced - received);
        yield copy;
      }
    }

    // The server keeps only a hash, the first and the last KiB: it must not buffer either.
    const bodyHash = createHash('sha256');
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    let headers: IncomingHttpHeaders = {};
    const server = createServer(
      handleAsync(async (req, res) => {
        headers = req.headers;
        for await (const data of req as AsyncIterable<Buffer>) {
          received += data.length;
          bodyHash.update(data);
          if (head.length < 1024) head = Buffer.concat([head, data]).subarray(0, 1024);
          tail = Buffer.concat([tail, data]).subarray(-1024);
        }
        accept(res);
      }),
    );
    const url = await listen(server);
    const small = randomBytes(16);

    await client(url).submit({
      reference: { body: generate(), filename: 'big.wav', size: total },
      questioned: upload(small),
    });

    expect(Number(headers['content-length'])).toBe(received);
    // The platform had most of the file before the client produced its last chunk…
    expect(receivedBeforeLastChunk).toBeGreaterThan(total / 2);
    // …and bytes produced but not yet received (socket buffers, a few chunks) never neared the file.
    expect(maxInFlight).toBeLessThan(16 * MiB);

    // body = part headers ‖ file ‖ everything after the file; rebuild its hash from the file we sent.
    const fileStart = head.indexOf('\r\n\r\n') + 4;
    const boundary = String(headers['content-type']).split('boundary=')[1]!;
    const fileEnd = tail.indexOf(`\r\n--${boundary}\r\n`);
    expect(fileStart).toBeGreaterThan(4);
    expect(fileEnd).toBeGreaterThan(-1);
    expect(received - tail.length + fileEnd - fileStart).toBe(total);
    const rebuilt = createHash('sha256').update(head.subarray(0, fileStart));
    for (let at = 0; at < total; at += chunk.length) rebuilt.update(chunk);
    rebuilt.update(tail.subarray(fileEnd));
    expect(bodyHash.digest('hex')).toBe(rebuilt.digest('hex'));
    expect(tail.includes(small)).toBe(true);
  });

  it.each([
    ['more', 11, 10],
    ['fewer', 9, 10],
  ])(
    'fails with DetectorUploadSizeError when a stream delivers %s bytes than declared',
    async (_what, actual, declared) => {
      const platform = await capturingPlatform();
      const err = await rejection(
        client(platform.url).submit({
          reference: upload(randomBytes(actual), { size: declared }),
          questioned: upload(randomBytes(5)),
        }),
      );
      expect(err).toBeInstanceOf(DetectorUploadSizeError);
      expect(err).toMatchObject({
        field: 'file_reference',
        expected: declared,
        code: 'DETECTOR_UPLOAD_SIZE_MISMATCH',
      });
      expect(platform.requests.length === 0 || platform.requests[0]!.body.length < 1000).toBe(true);
    },
  );

  it('aborts an upload whose source stalls, and destroys the sources', async () => {
    let serverSawBytes!: () => void;
    const started = new Promise<void>((resolve) => (serverSawBytes = resolve));
    const server = createServer((req) => {
      req.once('data', () => serverSawBytes());
      req.resume();
    });
    const url = await listen(server);
    const stalled = new Readable({ read() {} });
    stalled.push(randomBytes(1000));
    const controller = new AbortController();
    const request: SubmitRequest = {
      reference: { body: stalled, filename: 'a.wav', size: 10_000 },
      questioned: upload(randomBytes(10)),
      signal: controller.signal,
    };

    const pending = rejection(client(url).submit(request));
    await started;
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(stalled.destroyed).toBe(true);
    expect((request.questioned.body as Readable).destroyed).toBe(true);
  });

  it('reports a 413 sent before the upload finished as DetectorHttpError, not a socket error', async () => {
    const server = createServer((req, res) => {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ type: 'request.size-limit-exceeded', message: 'Payload too large.' }));
      req.resume();
    });
    const url = await listen(server);
    const err = await rejection(
      client(url).submit({ reference: upload(randomBytes(8 * MiB)), questioned: upload(randomBytes(10)) }),
    );
    expect(err).toBeInstanceOf(DetectorHttpError);
    expect(err).toMatchObject({ status: 413, apiType: 'request.size-limit-exceeded' });
  });
});

describe('transport', () => {
  it('times out waiting for headers with the configured headersTimeout', async () => {
    const server = createServer(() => {
      // never answers
    });
    const url = await listen(server);
    const started = Date.now();
    const err = await rejection(client(url, { headersTimeoutMs: 300 }).systemInfo());
    expect(err).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('closes the Agent it created, once, however often close() is called', async () => {
    const server = createServer((_req, res) => res.end('{"version":"1"}'));
    const url = await listen(server);
    const detector = createDetectorClient({ baseUrl: url });
    expect(await detector.systemInfo()).toEqual({ version: '1' });
    await Promise.all([detector.close(), detector.close()]);
    await detector.close();
    expect(await rejection(detector.systemInfo())).toMatchObject({ code: 'UND_ERR_DESTROYED' });
  });

  it('lets connection errors through unchanged', async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await rejection(client(url).systemInfo());
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it.skipIf(!hasOpenssl())('trusts exactly the given CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdd-ca-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const server = createTlsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert },
      (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"version":"tls"}');
      },
    );
    const url = await listen(server, 'https');

    expect(await client(url, { ca: cert }).systemInfo()).toEqual({ version: 'tls' });
    expect(await rejection(client(url).systemInfo())).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

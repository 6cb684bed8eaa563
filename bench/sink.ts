/**
 * A stand-in platform for upload benchmarks: a `node:http` server that hashes every request body
 * as it arrives and discards it, then answers the submit endpoint like the platform (202, a task,
 * a Location). Unlike the emulator it keeps nothing, so its memory does not grow with the upload
 * and it can take bodies of any size.
 *
 * What it received is kept per `x-correlation-id` and served at `GET /__sink/<correlation id>`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SUBMIT_PATH } from '../src/activities/detector/index.ts';

/** What the sink saw of one request body. */
export interface SinkReceipt {
  /** Bytes of the body as received. */
  bytes: number;
  /** The request's Content-Length, when it had one. */
  declaredBytes: number | undefined;
  /** Lowercase hex SHA-256 of the body. */
  sha256: string;
  /** From the request's headers to the body's last byte. */
  ms: number;
}

/** A running sink. */
export interface RunningSink {
  /** Base URL for `createDetectorClient`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

const STATS_PREFIX = '/__sink/';

/**
 * Starts the sink on 127.0.0.1 at a free port.
 * @example const sink = await startSink(); createDetectorClient({ baseUrl: sink.url }); … await sink.close();
 */
export async function startSink(): Promise<RunningSink> {
  const receipts = new Map<string, SinkReceipt>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path.startsWith(STATS_PREFIX)) {
      const receipt = receipts.get(decodeURIComponent(path.slice(STATS_PREFIX.length)));
      res.writeHead(receipt ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(receipt ?? { error: 'no such receipt' }));
      return;
    }
    if (req.method !== 'POST' || path !== SUBMIT_PATH) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no route ${req.method} ${path}` }));
      return;
    }
    const started = performance.now();
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const taskId = randomUUID();
      const correlationId = req.headers['x-correlation-id'];
      const declared = req.headers['content-length'];
      const receipt: SinkReceipt = {
        bytes,
        declaredBytes: declared === undefined ? undefined : Number(declared),
        sha256: hash.digest('hex'),
        ms: performance.now() - started,
      };
      receipts.set(typeof correlationId === 'string' ? correlationId : taskId, receipt);
      res.writeHead(202, {
        'content-type': 'application/json',
        location: `${SUBMIT_PATH}/${taskId}`,
      });
      res.end(JSON.stringify({ task: { task_id: taskId, state: 'pending' } }));
    });
  });
  // Uploads of hundreds of MiB on a busy 2-core box must not hit Node's default request timeout.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Fetches what the sink received for one correlation id.
 * @throws Error when the sink has no receipt for it.
 */
export async function fetchReceipt(sinkUrl: string, correlationId: string): Promise<SinkReceipt> {
  const response = await fetch(`${sinkUrl}${STATS_PREFIX}${encodeURIComponent(correlationId)}`);
  const body = (await response.json()) as SinkReceipt | { error: string };
  if (!response.ok || 'error' in body) throw new Error(`sink has no receipt for ${correlationId}`);
  return body;
}

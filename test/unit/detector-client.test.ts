/**
 * Response handling of the Speech Platform client against undici's MockAgent: where the job URL
 * comes from, how status answers and error bodies are read. Upload bytes are covered by
 * detector-upload.test.ts against a real socket.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.ts';
import { toDetectorFailure } from '../../src/activities/detector-failures.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import {
  createDetectorClient,
  DetectorHttpError,
  DetectorOriginError,
  DetectorProtocolError,
  SUBMIT_PATH,
  type LocationResolution,
  type SubmitRequest,
} from '../../src/activities/detector/index.ts';

const ORIGIN = 'https://spe.test';
const JOB_ID = '123e4567-e89b-12d3-a456-426614174000';
const JOB_PATH = `${SUBMIT_PATH}/${JOB_ID}`;

let agent: MockAgent | undefined;

afterEach(async () => {
  await agent?.close();
  agent = undefined;
});

function setup(
  baseUrl = ORIGIN,
  extra: { locationResolution?: LocationResolution; headers?: Record<string, string> } = {},
) {
  const mock = new MockAgent();
  mock.disableNetConnect();
  agent = mock;
  const client = createDetectorClient({ baseUrl, dispatcher: mock, ...extra });
  return { client, mock, pool: mock.get(new URL(baseUrl).origin) };
}

function request(): SubmitRequest {
  return {
    reference: { body: Readable.from([Buffer.from('ref')]), filename: 'ref.wav', size: 3 },
    questioned: { body: Readable.from([Buffer.from('que')]), filename: 'que.wav', size: 3 },
  };
}

const submitPath = (path: string) => path.startsWith(SUBMIT_PATH) || path.startsWith(`/spe${SUBMIT_PATH}`);
const accepted = { task: { task_id: JOB_ID, state: 'pending' } };

describe('submit: where the job URL comes from', () => {
  it("uses an absolute Location on the platform's origin as it is", async () => {
    const { client, pool } = setup();
    pool.intercept({ path: submitPath, method: 'POST' }).reply(202, accepted, {
      headers: { location: `${ORIGIN}/jobs/${JOB_ID}`, 'x-location': `${ORIGIN}/other` },
    });
    expect(await client.submit(request())).toEqual({
      jobId: JOB_ID,
      statusUrl: `${ORIGIN}/jobs/${JOB_ID}`,
      state: 'pending',
    });
  });

  it.each([
    ['another host', `https://elsewhere.test${JOB_PATH}`, 'https://elsewhere.test'],
    ['another port', `https://spe.test:8443${JOB_PATH}`, 'https://spe.test:8443'],
    ['another scheme', `http://spe.test${JOB_PATH}`, 'http://spe.test'],
    ['a scheme-relative reference', `//elsewhere.test${JOB_PATH}`, 'https://elsewhere.test'],
  ])('refuses a Location on %s, even with a task id to fall back on', async (_what, location, offered) => {
    const { client, pool } = setup();
    pool.intercept({ path: submitPath, method: 'POST' }).reply(202, accepted, { headers: { location } });
    const err = await rejection(client.submit(request()));
    expect(err).toBeInstanceOf(DetectorOriginError);
    expect(err).toMatchObject({
      name: 'DetectorOriginError',
      code: 'DETECTOR_ORIGIN_REFUSED',
      operation: 'submit',
      source: 'Location',
      offeredOrigin: offered,
      allowedOrigins: [ORIGIN],
    });
  });

  it('resolves a relative Location against the base URL', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: submitPath, method: 'POST' })
      .reply(202, accepted, { headers: { location: JOB_PATH } });
    expect((await client.submit(request())).statusUrl).toBe(`${ORIGIN}${JOB_PATH}`);
  });

  it('prefers Location over X-Location', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: submitPath, method: 'POST' })
      .reply(202, accepted, { headers: { location: JOB_PATH, 'x-location': '/api/deprecated/1' } });
    expect((await client.submit(request())).statusUrl).toBe(`${ORIGIN}${JOB_PATH}`);
  });

  it('falls back to X-Location when an older appliance sends only that', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: submitPath, method: 'POST' })
      .reply(202, accepted, { headers: { 'x-location': JOB_PATH } });
    expect((await client.submit(request())).statusUrl).toBe(`${ORIGIN}${JOB_PATH}`);
  });

  it('builds <endpoint>/<task_id> when no header names the job, keeping the base path prefix', async () => {
    const { client, pool } = setup(`${ORIGIN}/spe/`);
    pool.intercept({ path: `/spe${SUBMIT_PATH}`, method: 'POST' }).reply(202, accepted);
    expect(client.baseUrl).toBe(`${ORIGIN}/spe`);
    expect(await client.submit(request())).toEqual({
      jobId: JOB_ID,
      statusUrl: `${ORIGIN}/spe${JOB_PATH}`,
      state: 'pending',
    });
  });

  it('resolves "/api/…" per RFC 3986 by default: a base path prefix is replaced', async () => {
    const { client, pool } = setup(`${ORIGIN}/spe`);
    pool
      .intercept({ path: `/spe${SUBMIT_PATH}`, method: 'POST' })
      .reply(202, accepted, { headers: { location: JOB_PATH } });
    expect((await client.submit(request())).statusUrl).toBe(`${ORIGIN}${JOB_PATH}`);
  });

  it('keeps the base path prefix for "/api/…" in base-path mode (proxy that does not rewrite Location)', async () => {
    const { client, pool } = setup(`${ORIGIN}/spe`, { locationResolution: 'base-path' });
    pool
      .intercept({ path: `/spe${SUBMIT_PATH}`, method: 'POST' })
      .reply(202, accepted, { headers: { location: JOB_PATH } });
    expect((await client.submit(request())).statusUrl).toBe(`${ORIGIN}/spe${JOB_PATH}`);
  });

  it('takes the job id from the Location when the body has none', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: submitPath, method: 'POST' })
      .reply(202, 'accepted', { headers: { location: JOB_PATH } });
    expect(await client.submit(request())).toEqual({
      jobId: JOB_ID,
      statusUrl: `${ORIGIN}${JOB_PATH}`,
      state: undefined,
    });
  });

  it('throws DetectorProtocolError when there is neither a task id nor a Location', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: submitPath, method: 'POST' })
      .reply(202, { task: { state: 'pending' } }, { headers: { 'x-request-id': 'req-1' } });
    const err = await rejection(client.submit(request()));
    expect(err).toBeInstanceOf(DetectorProtocolError);
    expect(err).toMatchObject({
      name: 'DetectorProtocolError',
      code: 'DETECTOR_PROTOCOL_ERROR',
      operation: 'submit',
      status: 202,
      requestId: 'req-1',
    });
    expect((err as Error).message).toMatch(/no task\.task_id/);
  });

  it('throws DetectorHttpError on a non-202 success, because only 202 means accepted', async () => {
    const { client, pool } = setup();
    pool.intercept({ path: submitPath, method: 'POST' }).reply(200, accepted);
    expect(await rejection(client.submit(request()))).toMatchObject({
      name: 'DetectorHttpError',
      status: 200,
    });
  });

  it('sends user params and channel params in the query', async () => {
    const { client, pool } = setup();
    let path = '';
    pool.intercept({ path: submitPath, method: 'POST' }).reply((opts) => {
      path = opts.path;
      return { statusCode: 202, data: accepted };
    });
    const req = request();
    req.params = { max_speech_length: '30', reference_channel: '7' };
    req.questioned.channel = 1;
    await client.submit(req);
    const query = new URL(path, ORIGIN).searchParams;
    expect(query.get('max_speech_length')).toBe('30');
    // The user's free parameter stays; a file's explicit channel would override it.
    expect(query.get('reference_channel')).toBe('7');
    expect(query.get('questioned_channel')).toBe('1');
  });

  it('rejects a negative channel before sending anything', async () => {
    const { client } = setup();
    const req = request();
    req.reference.channel = -1;
    await expect(client.submit(req)).rejects.toThrow(RangeError);
  });
});

describe('getJob: reading status answers', () => {
  const status = (body: unknown, statusCode = 200, headers: Record<string, string> = {}) => {
    const { client, pool } = setup();
    pool.intercept({ path: JOB_PATH, method: 'GET' }).reply(statusCode, body as object, { headers });
    return client.getJob(`${ORIGIN}${JOB_PATH}`);
  };

  it('reads a done job with its score', async () => {
    expect(
      await status({ task: { task_id: JOB_ID, state: 'done' }, result: { score: 0.505038857460022 } }),
    ).toEqual({
      jobId: JOB_ID,
      state: 'done',
      score: 0.505038857460022,
    });
  });

  it('keeps a null score: too little speech is an answer', async () => {
    expect(await status({ task: { task_id: JOB_ID, state: 'done' }, result: { score: null } })).toEqual({
      jobId: JOB_ID,
      state: 'done',
      score: null,
    });
  });

  it('passes running and unknown states through as strings', async () => {
    expect(await status({ task: { task_id: JOB_ID, state: 'running' } })).toEqual({
      jobId: JOB_ID,
      state: 'running',
    });
    expect(await status({ task: { task_id: JOB_ID, state: 'cancelled' } })).toEqual({
      jobId: JOB_ID,
      state: 'cancelled',
    });
  });

  it('reads the error of a failed or rejected job', async () => {
    const body = {
      task: { task_id: JOB_ID, state: 'rejected' },
      error: { type: 'task.validation-error', message: 'Audio too long.', detail: [] },
    };
    expect(await status(body)).toEqual({
      jobId: JOB_ID,
      state: 'rejected',
      error: { type: 'task.validation-error', message: 'Audio too long.', detail: [] },
    });
  });

  it('takes the job id from the URL when the answer omits it', async () => {
    expect(await status({ task: { state: 'pending' } })).toEqual({ jobId: JOB_ID, state: 'pending' });
  });

  it.each([
    [
      'a string score',
      { task: { task_id: JOB_ID, state: 'done' }, result: { score: '0.5' } },
      /result\.score/,
    ],
    ['a done job without result', { task: { task_id: JOB_ID, state: 'done' } }, /no result/],
    ['no task', { result: { score: 1 } }, /no "task"/],
    ['no state', { task: { task_id: JOB_ID } }, /task\.state/],
  ])('throws DetectorProtocolError for %s', async (_what, body, reason) => {
    const err = await rejection(status(body));
    expect(err).toBeInstanceOf(DetectorProtocolError);
    expect((err as DetectorProtocolError).reason).toMatch(reason);
  });

  it('throws DetectorProtocolError for a 200 that is not JSON (a proxy page)', async () => {
    const err = await rejection(status('<html><body>Welcome</body></html>'));
    expect(err).toMatchObject({ name: 'DetectorProtocolError', reason: 'body is not JSON' });
    expect((err as DetectorProtocolError).bodySnippet).toContain('Welcome');
  });

  it('throws DetectorHttpError with the API type on 404 (job lost or expired)', async () => {
    const err = await rejection(
      status({ type: 'resource.not-found', message: 'Task not found.' }, 404, { 'x-request-id': 'r-404' }),
    );
    expect(err).toBeInstanceOf(DetectorHttpError);
    expect(err).toMatchObject({
      name: 'DetectorHttpError',
      code: 'DETECTOR_HTTP_ERROR',
      operation: 'getJob',
      status: 404,
      method: 'GET',
      url: `${ORIGIN}${JOB_PATH}`,
      apiType: 'resource.not-found',
      platformMessage: 'Task not found.',
      requestId: 'r-404',
    });
    expect((err as Error).message).toBe(
      `Speech Platform answered 404 resource.not-found to GET ${JOB_PATH}: Task not found. (x-request-id r-404)`,
    );
  });
});

describe('error answers', () => {
  const failSubmit = async (statusCode: number, body: unknown, headers: Record<string, string> = {}) => {
    const { client, pool } = setup();
    pool.intercept({ path: submitPath, method: 'POST' }).reply(statusCode, body as object, { headers });
    const err = await rejection(client.submit(request()));
    expect(err).toBeInstanceOf(DetectorHttpError);
    return err as DetectorHttpError;
  };

  it('reads the documented shape, detail messages included', async () => {
    const err = await failSubmit(422, {
      type: 'request.validation-error',
      message: 'Request validation failed.',
      detail: [
        {
          location: ['query', 'reference_channel'],
          message: 'Input should be a valid integer',
          type: 'int_parsing',
        },
      ],
    });
    expect(err.apiType).toBe('request.validation-error');
    expect(err.platformMessage).toBe(
      'Request validation failed.; query.reference_channel: Input should be a valid integer',
    );
    expect(err.detail).toEqual([expect.objectContaining({ type: 'int_parsing' })]);
    expect(err.operation).toBe('submit');
    expect(err.method).toBe('POST');
  });

  it('reads a bare {"detail": "..."}', async () => {
    const err = await failSubmit(403, { detail: 'Technology not licensed' });
    expect(err.apiType).toBeUndefined();
    expect(err.platformMessage).toBe('Technology not licensed');
  });

  it('reads a bare {"detail": [...]} in FastAPI spelling', async () => {
    const err = await failSubmit(422, {
      detail: [{ loc: ['body', 'file_reference'], msg: 'Field required' }],
    });
    expect(err.platformMessage).toBe('body.file_reference: Field required');
  });

  it('keeps a truncated text of a non-JSON body', async () => {
    const page = `<html>\n<h1>502 Bad Gateway</h1>\n${'x'.repeat(5000)}</html>`;
    const err = await failSubmit(502, page);
    expect(err.platformMessage).toMatch(/^<html> <h1>502 Bad Gateway<\/h1>/);
    expect(err.platformMessage!.length).toBe(200);
    expect(err.platformMessage!.endsWith('…')).toBe(true);
  });

  it('uses the status text when the body is empty', async () => {
    const err = await failSubmit(503, '');
    expect(err.platformMessage).toBe('Service Unavailable');
  });

  it('parses Retry-After in seconds', async () => {
    const err = await failSubmit(
      429,
      { type: 'request.rate-limit-exceeded', message: 'Slow down.' },
      { 'retry-after': '7' },
    );
    expect(err.retryAfterMs).toBe(7000);
  });

  it('parses Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const err = await failSubmit(
      507,
      { type: 'storage.capacity-exceeded', message: 'Full.' },
      { 'retry-after': at },
    );
    expect(err.retryAfterMs).toBeGreaterThan(115_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('ignores an unparseable Retry-After', async () => {
    const err = await failSubmit(429, {}, { 'retry-after': 'soon' });
    expect(err.retryAfterMs).toBeUndefined();
  });
});

describe('systemInfo', () => {
  it('returns the version', async () => {
    const { client, pool } = setup();
    pool.intercept({ path: '/api/system/info', method: 'GET' }).reply(200, { version: '4.2.1' });
    expect(await client.systemInfo()).toEqual({ version: '4.2.1' });
  });

  it('returns null when the platform will not say', async () => {
    const { client, pool } = setup();
    pool.intercept({ path: '/api/system/info', method: 'GET' }).reply(200, {});
    expect(await client.systemInfo()).toEqual({ version: null });
  });

  it('throws DetectorHttpError on an error status', async () => {
    const { client, pool } = setup();
    pool
      .intercept({ path: '/api/system/info', method: 'GET' })
      .reply(500, { type: 'internal', message: 'Boom.' });
    expect(await rejection(client.systemInfo())).toMatchObject({
      status: 500,
      operation: 'systemInfo',
      apiType: 'internal',
    });
  });
});

describe('headers and lifecycle', () => {
  it('sends extra headers and accept to the platform, and nothing at all to another origin', async () => {
    const { client, mock, pool } = setup(ORIGIN, {
      headers: { Authorization: 'Bearer secret', 'X-Tenant': 't1' },
    });
    const seen: Record<string, unknown>[] = [];
    const capture = (opts: { headers?: unknown }) => {
      seen.push({ ...(opts.headers as Record<string, unknown>) });
      return { statusCode: 200, data: { task: { task_id: JOB_ID, state: 'running' } } };
    };
    pool.intercept({ path: JOB_PATH, method: 'GET' }).reply(capture);
    mock.get('https://elsewhere.test').intercept({ path: JOB_PATH, method: 'GET' }).reply(capture);

    await client.getJob(`${ORIGIN}${JOB_PATH}`);
    expect(seen[0]).toMatchObject({
      authorization: 'Bearer secret',
      'x-tenant': 't1',
      accept: 'application/json',
    });
    // A status URL from an older history, on another origin: refused before any request.
    const err = await rejection(client.getJob(`https://elsewhere.test${JOB_PATH}`));
    expect(err).toMatchObject({ name: 'DetectorOriginError', operation: 'getJob', source: 'status URL' });
    expect(seen).toHaveLength(1);
  });

  it('rejects a malformed or reserved extra header at construction, without echoing its value', () => {
    expect(() => createDetectorClient({ baseUrl: ORIGIN, headers: { 'bad header': 'x' } })).toThrow(
      TypeError,
    );
    const bad = () => createDetectorClient({ baseUrl: ORIGIN, headers: { Authorization: 'Bearer x\nY' } });
    expect(bad).toThrow(/"Authorization"/);
    expect(bad).not.toThrow(/Bearer/);
    expect(() => createDetectorClient({ baseUrl: ORIGIN, headers: { ok: 'a\r\nb: c' } })).toThrow(TypeError);
    expect(() =>
      createDetectorClient({ baseUrl: ORIGIN, headers: { 'Content-Type': 'text/plain' } }),
    ).toThrow(/set by the client/);
    expect(() => createDetectorClient({ baseUrl: 'ftp://spe.test' })).toThrow(TypeError);
    expect(() => createDetectorClient({ baseUrl: ORIGIN, allowedOrigins: ['https://lb.test/spe'] })).toThrow(
      TypeError,
    );
  });

  it('does not close an injected dispatcher', async () => {
    const { client, pool } = setup();
    await client.close();
    pool.intercept({ path: '/api/system/info', method: 'GET' }).reply(200, { version: '1' });
    expect(await client.systemInfo()).toEqual({ version: '1' });
  });

  it('rejects with the signal reason when already aborted', async () => {
    const { client } = setup();
    const reason = new Error('stop');
    const req = request();
    req.signal = AbortSignal.abort(reason);
    expect(await rejection(client.submit(req))).toBe(reason);
    // The client owns the file streams and must not leave them open.
    expect((req.reference.body as Readable).destroyed).toBe(true);
    expect((req.questioned.body as Readable).destroyed).toBe(true);
  });
});

describe('job URLs stay on the platform (real sockets)', () => {
  interface Seen {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
  }
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  /** A node:http server on a free loopback port that records every request it gets. */
  async function serve(
    answer: (seen: Seen, res: ServerResponse) => void,
  ): Promise<{ origin: string; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const entry = { method: req.method ?? '', path: req.url ?? '', headers: req.headers };
        seen.push(entry);
        answer(entry, res);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** The other host: answers anything with a body that must never reach a log. */
  const elsewhere = () =>
    serve((_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>SECRET-FROM-ELSEWHERE</html>');
    });

  /** The platform: accepts every submit with the Location given, answers status checks. */
  const platform = (location: (origin: string) => string, header = 'location') => {
    let own = '';
    return serve((seen, res) => {
      if (seen.method === 'POST') json(res, 202, accepted, { [header]: location(own) });
      else json(res, 200, { task: { task_id: JOB_ID, state: 'running' } });
    }).then((server) => ((own = server.origin), server));
  };

  const headers = { Authorization: 'Bearer secret-token' };

  it.each(['location', 'x-location'])(
    'fails the submit permanently on a %s on another port, and sends nothing there',
    async (header) => {
      const other = await elsewhere();
      const spe = await platform(() => `${other.origin}${JOB_PATH}`, header);
      const client = createDetectorClient({ baseUrl: spe.origin, headers });
      try {
        const err = await rejection(client.submit(request()));
        expect(err).toBeInstanceOf(DetectorOriginError);
        const message = (err as Error).message;
        expect(message).toContain(other.origin);
        expect(message).toContain('DETECTOR_ALLOWED_ORIGINS');
        expect(message).not.toContain('SECRET-FROM-ELSEWHERE');
        const failure = toDetectorFailure(err);
        expect(failure).toMatchObject({ type: FailureType.DetectorOriginRefused, nonRetryable: true });
        expect((failure as Error).message).toBe(message);

        // A status URL with that origin (say, from an older workflow history) is refused too.
        expect(await rejection(client.getJob(`${other.origin}${JOB_PATH}`))).toBeInstanceOf(
          DetectorOriginError,
        );
        expect(other.seen).toEqual([]);
        expect(spe.seen.map((r) => r.method)).toEqual(['POST']);
      } finally {
        await client.close();
      }
    },
  );

  it('follows a Location on an origin the operator allowed, with the extra headers', async () => {
    const other = await serve((_seen, res) =>
      json(res, 200, { task: { task_id: JOB_ID, state: 'done' }, result: { score: 0.5 } }),
    );
    const spe = await platform(() => `${other.origin}${JOB_PATH}`);
    const client = createDetectorClient({
      baseUrl: spe.origin,
      headers,
      allowedOrigins: [`${other.origin}/`],
    });
    try {
      const job = await client.submit(request());
      expect(job.statusUrl).toBe(`${other.origin}${JOB_PATH}`);
      expect(await client.getJob(job.statusUrl)).toEqual({ jobId: JOB_ID, state: 'done', score: 0.5 });
      expect(other.seen).toHaveLength(1);
      expect(other.seen[0]).toMatchObject({ method: 'GET', path: JOB_PATH });
      expect(other.seen[0]!.headers.authorization).toBe('Bearer secret-token');
    } finally {
      await client.close();
    }
  });

  it('follows a relative Location on the platform itself', async () => {
    const spe = await platform(() => JOB_PATH);
    const client = createDetectorClient({ baseUrl: spe.origin, headers });
    try {
      const job = await client.submit(request());
      expect(job.statusUrl).toBe(`${spe.origin}${JOB_PATH}`);
      expect(await client.getJob(job.statusUrl)).toEqual({ jobId: JOB_ID, state: 'running' });
      expect(spe.seen.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
        `POST ${SUBMIT_PATH}`,
        `GET ${JOB_PATH}`,
      ]);
    } finally {
      await client.close();
    }
  });

  it('bounds what a 1 MB error page puts in the message, on one line', async () => {
    const page = `<html>\r\n<h1>503</h1>\u001b[31m\n${'x'.repeat(1024 * 1024)}</html>`;
    const spe = await serve((_seen, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end(page);
    });
    const client = createDetectorClient({ baseUrl: spe.origin });
    try {
      const err = (await rejection(client.submit(request()))) as DetectorHttpError;
      expect(err).toBeInstanceOf(DetectorHttpError);
      expect(err.platformMessage).toMatch(/^<html> <h1>503<\/h1>\\x1b\[31m x+…$/);
      expect(err.platformMessage!.length).toBe(200);
      expect(err.message.length).toBeLessThan(300);
      for (const control of ['\r', '\n', '\u001b']) expect(err.message).not.toContain(control);
    } finally {
      await client.close();
    }
  });

  it('bounds the snippet of a 1 MB status answer that is not JSON', async () => {
    const spe = await serve((_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html>\n${'y'.repeat(1024 * 1024 - 100)}</html>`);
    });
    const client = createDetectorClient({ baseUrl: spe.origin });
    try {
      const err = (await rejection(client.getJob(JOB_PATH))) as DetectorProtocolError;
      expect(err).toBeInstanceOf(DetectorProtocolError);
      expect(err.bodySnippet).toMatch(/^<html> y+…$/);
      expect(err.bodySnippet!.length).toBe(200);
      const failure = toDetectorFailure(err) as { details: { bodySnippet: string }[] };
      expect(failure.details[0]!.bodySnippet).toBe(err.bodySnippet);
    } finally {
      await client.close();
    }
  });
});

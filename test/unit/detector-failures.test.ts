/**
 * Every row of the classification table in toDetectorFailure.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { errors as undiciErrors, MockAgent } from 'undici';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  isCancellation,
  NOT_FOUND_FAILURES,
  PERMANENT_STATUSES,
  RETRYABLE_STATUSES,
  toDetectorFailure,
} from '../../src/activities/detector-failures.ts';
import {
  createDetectorClient,
  DetectorHttpError,
  DetectorOriginError,
  DetectorProtocolError,
  DetectorUploadSizeError,
  SUBMIT_PATH,
  type DetectorOperation,
} from '../../src/activities/detector/index.ts';
import { FailureType } from '../../src/shared/failure-types.ts';

function httpError(status: number, extra: { operation?: DetectorOperation; retryAfterMs?: number } = {}) {
  return new DetectorHttpError({
    operation: extra.operation ?? 'submit',
    status,
    method: 'POST',
    url: `https://spe.test${SUBMIT_PATH}?x=1`,
    apiType: 'some.type',
    platformMessage: 'The platform says no.',
    detail: [{ location: ['query', 'x'], message: 'bad' }],
    retryAfterMs: extra.retryAfterMs,
    requestId: 'req-9',
  });
}

function classify(err: unknown): ApplicationFailure {
  const failure = toDetectorFailure(err);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return failure as ApplicationFailure;
}

describe('HTTP statuses', () => {
  it.each([
    [400, FailureType.DetectorBadRequest],
    [401, FailureType.DetectorForbidden],
    [403, FailureType.DetectorForbidden],
    [405, FailureType.DetectorBadRequest],
    [413, FailureType.DetectorPayloadTooLarge],
    [422, FailureType.DetectorBadRequest],
  ])('%i → %s, non-retryable, even with a Retry-After', (status, type) => {
    const failure = classify(httpError(status, { retryAfterMs: 5000 }));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it.each([
    ['submit', FailureType.DetectorBadRequest],
    ['systemInfo', FailureType.DetectorBadRequest],
    ['getJob', FailureType.DetectorJobLost],
  ] as const)('404 on %s → %s, non-retryable', (operation, type) => {
    const failure = classify(httpError(404, { operation }));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
  });

  it.each([
    [429, FailureType.DetectorRateLimited],
    [507, FailureType.DetectorStorageFull],
    [503, FailureType.DetectorUnavailable],
  ])('%i → %s, retryable after Retry-After', (status, type) => {
    const failure = classify(httpError(status, { retryAfterMs: 7000 }));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
  });

  it.each([429, 507])('%i without Retry-After leaves the delay to the retry policy', (status) => {
    const failure = classify(httpError(status));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('a Retry-After of zero (or a date already past) leaves the delay to the retry policy', () => {
    expect(classify(httpError(429, { retryAfterMs: 0 })).nextRetryDelay).toBeUndefined();
  });

  it.each([500, 502, 504, 200, 302, 409, 418])('%i → DetectorUnavailable, retryable', (status) => {
    const failure = classify(httpError(status));
    expect(failure.type).toBe(FailureType.DetectorUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it('keeps the status, API type and platform message in the message and details, and the error as cause', () => {
    const err = httpError(422);
    const failure = classify(err);
    expect(failure.message).toContain('422');
    expect(failure.message).toContain('some.type');
    expect(failure.message).toContain('The platform says no.');
    expect(failure.cause).toBe(err);
    expect(failure.details).toEqual([
      {
        operation: 'submit',
        status: 422,
        apiType: 'some.type',
        platformMessage: 'The platform says no.',
        method: 'POST',
        url: `https://spe.test${SUBMIT_PATH}?x=1`,
        requestId: 'req-9',
        retryAfterMs: undefined,
      },
    ]);
  });

  it('the exported tables agree with FailureType and do not overlap', () => {
    const values = new Set<string>(Object.values(FailureType));
    for (const type of [
      ...Object.values(PERMANENT_STATUSES),
      ...Object.values(RETRYABLE_STATUSES),
      ...Object.values(NOT_FOUND_FAILURES),
    ]) {
      expect(values.has(type)).toBe(true);
    }
    const overlap = Object.keys(PERMANENT_STATUSES).filter((status) => status in RETRYABLE_STATUSES);
    expect(overlap).toEqual([]);
  });
});

describe('other client errors', () => {
  it('bounds what reaches messages and details however large the answer was', () => {
    const http = new DetectorHttpError({
      operation: 'getJob',
      status: 502,
      method: 'GET',
      url: 'https://spe.test/x',
      platformMessage: `line1\r\nline2 ${'z'.repeat(10_000)}`,
      requestId: `r\n${'q'.repeat(1000)}`,
    });
    expect(http.platformMessage).toHaveLength(500);
    expect(http.requestId).toHaveLength(100);
    expect(http.message).not.toMatch(/[\r\n]/);
    const protocol = new DetectorProtocolError({
      operation: 'getJob',
      status: 200,
      method: 'GET',
      url: 'https://spe.test/x',
      reason: 'body is not JSON',
      bodySnippet: 'b'.repeat(10_000),
    });
    expect(protocol.bodySnippet).toBe(`${'b'.repeat(199)}…`);
    expect((classify(protocol).details![0] as { bodySnippet: string }).bodySnippet).toHaveLength(200);
  });

  it('DetectorProtocolError → DetectorProtocolError, retryable', () => {
    const err = new DetectorProtocolError({
      operation: 'getJob',
      status: 200,
      method: 'GET',
      url: 'https://spe.test/x',
      reason: 'body is not JSON',
      bodySnippet: '<html>',
    });
    const failure = classify(err);
    expect(failure.type).toBe(FailureType.DetectorProtocolError);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('body is not JSON');
    expect(failure.details?.[0]).toMatchObject({
      reason: 'body is not JSON',
      bodySnippet: '<html>',
      status: 200,
    });
    expect(failure.cause).toBe(err);
  });

  it('DetectorOriginError → DetectorOriginRefused, non-retryable, naming the origin and the setting', () => {
    const err = new DetectorOriginError({
      operation: 'submit',
      source: 'Location',
      offeredOrigin: 'http://10.0.0.7:8000',
      allowedOrigins: ['https://spe.test'],
    });
    const failure = classify(err);
    expect(failure.type).toBe(FailureType.DetectorOriginRefused);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      "The Speech Platform's answer to submit named a job URL (Location) on http://10.0.0.7:8000, which is " +
        'not an allowed origin (https://spe.test); refused, nothing was sent there. If http://10.0.0.7:8000 ' +
        'is a node of the platform (e.g. behind a load balancer), add it to DETECTOR_ALLOWED_ORIGINS; ' +
        'otherwise fix the proxy that rewrites Location.',
    );
    expect(failure.details).toEqual([
      {
        operation: 'submit',
        source: 'Location',
        offeredOrigin: 'http://10.0.0.7:8000',
        allowedOrigins: ['https://spe.test'],
      },
    ]);
    expect(failure.cause).toBe(err);
  });

  it('DetectorUploadSizeError → MediaChanged, non-retryable', () => {
    const failure = classify(new DetectorUploadSizeError('file_reference', 10, 9));
    expect(failure.type).toBe(FailureType.MediaChanged);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ field: 'file_reference', expected: 10, actual: 9 }]);
  });
});

describe('network errors → DetectorUnavailable, retryable, original as cause', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  it.each([
    ['ECONNREFUSED', refused],
    ['undici headers timeout', new undiciErrors.HeadersTimeoutError()],
    ['undici body timeout', new undiciErrors.BodyTimeoutError()],
    ['undici socket error', new undiciErrors.SocketError('other side closed')],
    ['undici connect timeout', new undiciErrors.ConnectTimeoutError()],
    ['happy-eyeballs AggregateError', new AggregateError([reset, refused], 'connect failed')],
    ['a wrapper with a socket cause', new Error('fetch failed', { cause: reset })],
    ['AbortSignal.timeout()', new DOMException('The operation timed out.', 'TimeoutError')],
    ['TLS', Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })],
  ])('%s', (_what, err) => {
    const failure = classify(err);
    expect(failure.type).toBe(FailureType.DetectorUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain(err.message);
    expect(failure.cause).toBe(err);
  });
});

describe('pass-through', () => {
  it('an ApplicationFailure is returned as it is', () => {
    const failure = ApplicationFailure.create({ type: FailureType.MediaNotFound, nonRetryable: true });
    expect(toDetectorFailure(failure)).toBe(failure);
  });

  it.each([
    ['CancelledFailure', new CancelledFailure('CANCELLED')],
    ['DOMException AbortError', new DOMException('This operation was aborted', 'AbortError')],
    ['undici RequestAbortedError', new undiciErrors.RequestAbortedError()],
  ])('a cancellation (%s) is returned unchanged so Temporal records a cancellation', (_what, err) => {
    expect(isCancellation(err)).toBe(true);
    expect(toDetectorFailure(err)).toBe(err);
  });

  it.each([
    ['a bug', new TypeError('x is not a function')],
    ['an undici argument error (also a bug)', new undiciErrors.InvalidArgumentError('invalid opts')],
    ['a non-Error', 'string thrown'],
  ])('anything else (%s) is returned unchanged', (_what, err) => {
    expect(toDetectorFailure(err)).toBe(err);
  });
});

describe('end to end with the client', () => {
  it('a 429 with Retry-After becomes DetectorRateLimited with that delay', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://spe.test')
      .intercept({ path: SUBMIT_PATH, method: 'POST' })
      .reply(
        429,
        { type: 'request.rate-limit-exceeded', message: 'Too many requests.' },
        { headers: { 'retry-after': '3' } },
      );
    const client = createDetectorClient({ baseUrl: 'https://spe.test', dispatcher: agent });
    const err = await client
      .submit({
        reference: { body: Readable.from([Buffer.from('a')]), filename: 'a.wav' },
        questioned: { body: Readable.from([Buffer.from('b')]), filename: 'b.wav' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const failure = classify(err);
    expect(failure.type).toBe(FailureType.DetectorRateLimited);
    expect(failure.nextRetryDelay).toBe(3000);
    expect(failure.message).toBe(
      `Speech Platform answered 429 request.rate-limit-exceeded to POST ${SUBMIT_PATH}: Too many requests.`,
    );
    await agent.close();
  });
});

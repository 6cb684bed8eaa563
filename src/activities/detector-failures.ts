/**
 * Classifies what the Speech Platform client throws into the ApplicationFailure a workflow sees.
 * Done once, at the activity boundary: the client knows HTTP, workflows know FailureType names.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.ts';
import {
  isDetectorHttpError,
  type DetectorHttpError,
  type DetectorOperation,
} from './detector/detector-http-error.ts';
import { isDetectorOriginError } from './detector/detector-origin-error.ts';
import { isDetectorProtocolError } from './detector/detector-protocol-error.ts';
import { isDetectorUploadSizeError } from './detector/detector-upload-size-error.ts';

/**
 * Statuses that repeat on an identical request: retrying only burns the budget.
 * 401 is not in the platform's table; it comes from a reverse proxy refusing our credentials,
 * an operator error like 403.
 */
export const PERMANENT_STATUSES: Readonly<Record<number, FailureType>> = {
  400: FailureType.DetectorBadRequest,
  401: FailureType.DetectorForbidden,
  403: FailureType.DetectorForbidden,
  405: FailureType.DetectorBadRequest,
  413: FailureType.DetectorPayloadTooLarge,
  422: FailureType.DetectorBadRequest,
};

/** Statuses with their own retryable type, so workflows and dashboards can tell backpressure apart. */
export const RETRYABLE_STATUSES: Readonly<Record<number, FailureType>> = {
  429: FailureType.DetectorRateLimited,
  507: FailureType.DetectorStorageFull,
};

/**
 * A 404 means different things per call, and none of them is cured by repeating the call:
 * - submit / systemInfo: the path is not there — technology not installed, wrong DETECTOR_URL or
 *   proxy prefix. An operator error, reported as a bad request.
 * - getJob: the job is gone (expired, or the appliance restarted). Polling again cannot find it;
 *   the workflow must resubmit. `checkDetectionJob` turns this 404 into `{ state: 'lost' }` before
 *   it gets here; this row is the backstop for any other caller.
 */
export const NOT_FOUND_FAILURES: Readonly<Record<DetectorOperation, FailureType>> = {
  submit: FailureType.DetectorBadRequest,
  systemInfo: FailureType.DetectorBadRequest,
  getJob: FailureType.DetectorJobLost,
};

/** Socket-level codes that mean "the platform could not be reached or dropped us": worth a retry. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  // TLS: retried rather than failed, so detections resume once an operator fixes the certificate.
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Turns an error from the detector client into what the activity should throw:
 *
 * | error | failure type | retry |
 * |---|---|---|
 * | ApplicationFailure | unchanged | as set |
 * | cancellation (CancelledFailure, AbortError) | unchanged, so Temporal records a cancellation | — |
 * | HTTP 400, 405, 422 | DetectorBadRequest | no |
 * | HTTP 401, 403 | DetectorForbidden | no |
 * | HTTP 413 | DetectorPayloadTooLarge | no |
 * | HTTP 404 | see NOT_FOUND_FAILURES | no |
 * | HTTP 429 | DetectorRateLimited | yes, after Retry-After |
 * | HTTP 507 | DetectorStorageFull | yes, after Retry-After |
 * | any other status (5xx, odd 3xx/4xx) | DetectorUnavailable | yes, after Retry-After if sent |
 * | DetectorProtocolError | DetectorProtocolError | yes |
 * | DetectorOriginError (job URL on an origin not allowed) | DetectorOriginRefused | no |
 * | DetectorUploadSizeError | MediaChanged | no |
 * | socket/undici errors, timeouts | DetectorUnavailable (original as cause) | yes |
 * | anything else (bugs) | unchanged: Temporal retries it as a plain error | yes |
 *
 * Messages carry the status, the API error type and the platform's words; `details[0]` carries
 * them as fields. Never the request headers.
 *
 * @example
 * const job = await client.submit(request).catch((err: unknown) => { throw toDetectorFailure(err); });
 */
export function toDetectorFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure || isCancellation(err)) return err;
  if (isDetectorHttpError(err)) return fromHttpError(err);
  if (isDetectorProtocolError(err)) {
    return ApplicationFailure.create({
      type: FailureType.DetectorProtocolError,
      message: err.message,
      nonRetryable: false,
      details: [
        {
          operation: err.operation,
          status: err.status,
          method: err.method,
          url: err.url,
          reason: err.reason,
          bodySnippet: err.bodySnippet,
          requestId: err.requestId,
        },
      ],
      cause: err,
    });
  }
  if (isDetectorOriginError(err)) {
    // The same answer (or stored URL) names the same origin again: only an operator can fix it,
    // by fixing the proxy or by adding the origin to DETECTOR_ALLOWED_ORIGINS.
    return ApplicationFailure.create({
      type: FailureType.DetectorOriginRefused,
      message: err.message,
      nonRetryable: true,
      details: [
        {
          operation: err.operation,
          source: err.source,
          offeredOrigin: err.offeredOrigin,
          allowedOrigins: err.allowedOrigins,
        },
      ],
      cause: err,
    });
  }
  if (isDetectorUploadSizeError(err)) {
    // The bytes read are not the bytes inspected: the object changed (or its inspection is stale).
    // Repeating the upload with the same inspection cannot fix that; a new detection re-inspects.
    return ApplicationFailure.create({
      type: FailureType.MediaChanged,
      message: `${err.message}; the media changed after it was inspected, start a new detection`,
      nonRetryable: true,
      details: [{ field: err.field, expected: err.expected, actual: err.actual }],
      cause: err,
    });
  }
  if (isNetworkError(err)) {
    return ApplicationFailure.create({
      type: FailureType.DetectorUnavailable,
      message: `Speech Platform unreachable: ${err.message}`,
      nonRetryable: false,
      details: [{ code: errorCode(err) ?? err.name }],
      cause: err,
    });
  }
  return err;
}

/**
 * True for the errors Temporal treats as a cancellation of the activity. They must be rethrown
 * untouched: wrapped, the activity would be reported failed and retried instead of cancelled.
 * @example if (isCancellation(err)) throw err;
 */
export function isCancellation(err: unknown): boolean {
  return err instanceof CancelledFailure || (err instanceof Error && err.name === 'AbortError');
}

function fromHttpError(err: DetectorHttpError): ApplicationFailure {
  const permanent = err.status === 404 ? NOT_FOUND_FAILURES[err.operation] : PERMANENT_STATUSES[err.status];
  const type = permanent ?? RETRYABLE_STATUSES[err.status] ?? FailureType.DetectorUnavailable;
  // A zero delay ("retry now", or a date already past) is left to the retry policy's backoff.
  const nextRetryDelay = permanent === undefined && err.retryAfterMs ? err.retryAfterMs : undefined;
  return ApplicationFailure.create({
    type,
    message: err.message,
    nonRetryable: permanent !== undefined,
    ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
    details: [
      {
        operation: err.operation,
        status: err.status,
        apiType: err.apiType,
        platformMessage: err.platformMessage,
        method: err.method,
        url: err.url,
        requestId: err.requestId,
        retryAfterMs: err.retryAfterMs,
      },
    ],
    cause: err,
  });
}

function isNetworkError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  // AbortSignal.timeout() and undici's own timeouts are the platform being slow, not a cancellation.
  if (err.name === 'TimeoutError') return true;
  // Look through wrappers (`cause`) and happy-eyeballs AggregateErrors for the socket's code.
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 16) {
    const current = queue.shift();
    if (!(current instanceof Error) || seen.has(current)) continue;
    seen.add(current);
    const code = errorCode(current);
    if (code !== undefined && isNetworkCode(code)) return true;
    queue.push(current.cause);
    if (current instanceof AggregateError) queue.push(...(current.errors as unknown[]));
  }
  return false;
}

function isNetworkCode(code: string): boolean {
  // Every undici failure is about the exchange (timeouts, sockets, sizes) except a bad argument,
  // which is our bug and should surface as such.
  if (code.startsWith('UND_ERR_')) return code !== 'UND_ERR_INVALID_ARG';
  return code.startsWith('ERR_SSL_') || NETWORK_CODES.has(code);
}

function errorCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

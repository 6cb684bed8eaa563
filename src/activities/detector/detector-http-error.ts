/**
 * The platform answered, but not with the status the operation expects.
 */
import { DetectorError, DetectorErrorCode } from './detector-error.ts';
import { MESSAGE_MAX_CHARS, oneLine } from './wire.ts';

/** Which client call produced an error; the same status means different things per call (404). */
export type DetectorOperation = 'submit' | 'getJob' | 'systemInfo';

export interface DetectorHttpErrorInit {
  operation: DetectorOperation;
  status: number;
  method: string;
  url: string;
  /** The error body's `type`, e.g. `request.validation-error`; absent for bare or non-JSON bodies. */
  apiType?: string;
  /** The platform's human-readable message (with detail messages), or a truncated non-JSON body. */
  platformMessage?: string;
  /** The error body's `detail`, as sent. */
  detail?: unknown;
  retryAfterMs?: number;
  requestId?: string;
}

/**
 * A non-success HTTP answer from the Speech Platform. The message names the status, the API error
 * type and the platform's own words; never headers (they may carry a bearer token).
 *
 * @example
 * try { await client.getJob(url) } catch (err) {
 *   if (err instanceof DetectorHttpError && err.status === 404) resubmit();
 * }
 */
export class DetectorHttpError extends DetectorError {
  override readonly name = 'DetectorHttpError';
  /** Stable across releases; match on this or on the class, never on the message. */
  readonly code = DetectorErrorCode.Http;
  readonly operation: DetectorOperation;
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly apiType: string | undefined;
  readonly platformMessage: string | undefined;
  readonly detail: unknown;
  /** From `Retry-After` (seconds or HTTP date), in milliseconds; never negative. */
  readonly retryAfterMs: number | undefined;
  /** The platform's `x-request-id`, to find the request in its logs. */
  readonly requestId: string | undefined;

  /**
   * Text from the response (type, message, request id) is bounded and made single-line here, the
   * one place it enters a message: an error page of any size gives a message of a few hundred
   * characters.
   */
  constructor(init: DetectorHttpErrorInit) {
    const bounded: DetectorHttpErrorInit = {
      ...init,
      apiType: init.apiType === undefined ? undefined : oneLine(init.apiType, 100),
      platformMessage:
        init.platformMessage === undefined ? undefined : oneLine(init.platformMessage, MESSAGE_MAX_CHARS),
      requestId: init.requestId === undefined ? undefined : oneLine(init.requestId, 100),
    };
    super(describe(bounded));
    this.operation = init.operation;
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.apiType = bounded.apiType;
    this.platformMessage = bounded.platformMessage;
    this.detail = init.detail;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = bounded.requestId;
  }
}

/**
 * Type guard that also works across module copies (duplicate installs), where `instanceof` fails.
 * @example if (isDetectorHttpError(err) && err.status === 429) wait(err.retryAfterMs);
 */
export function isDetectorHttpError(err: unknown): err is DetectorHttpError {
  return (
    err instanceof DetectorHttpError ||
    (err instanceof Error && (err as { code?: unknown }).code === DetectorErrorCode.Http)
  );
}

function describe(init: DetectorHttpErrorInit): string {
  // The path only: query strings are user data and the origin is in `url` for whoever needs it.
  let path = init.url;
  try {
    path = new URL(init.url).pathname;
  } catch {
    // keep the raw string
  }
  const type = init.apiType ? ` ${init.apiType}` : '';
  const words = init.platformMessage ? `: ${init.platformMessage}` : '';
  const request = init.requestId ? ` (x-request-id ${init.requestId})` : '';
  return `Speech Platform answered ${init.status}${type} to ${init.method} ${path}${words}${request}`;
}

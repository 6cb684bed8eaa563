/**
 * The platform answered with the expected status but a body we cannot use.
 */
import { DetectorError, DetectorErrorCode } from './detector-error.ts';
import type { DetectorOperation } from './detector-http-error.ts';
import { oneLine, SNIPPET_MAX_CHARS } from './wire.ts';

export interface DetectorProtocolErrorInit {
  operation: DetectorOperation;
  status: number;
  method: string;
  url: string;
  /** What is wrong, e.g. `body is not JSON`, `result.score is a string`. */
  reason: string;
  /** The start of the body, for the logs; cut to SNIPPET_MAX_CHARS, one line. */
  bodySnippet?: string;
  requestId?: string;
}

/**
 * A successful status with an unreadable answer: not JSON, no job id and no Location, a score
 * that is neither a number nor null. Usually a proxy's HTML page, occasionally an appliance
 * version we do not know; worth a retry either way.
 *
 * @example
 * catch (err) { if (err instanceof DetectorProtocolError) log.warn(err.reason, { body: err.bodySnippet }) }
 */
export class DetectorProtocolError extends DetectorError {
  override readonly name = 'DetectorProtocolError';
  /** Stable across releases; match on this or on the class, never on the message. */
  readonly code = DetectorErrorCode.Protocol;
  readonly operation: DetectorOperation;
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly reason: string;
  readonly bodySnippet: string | undefined;
  readonly requestId: string | undefined;

  constructor(init: DetectorProtocolErrorInit) {
    let path = init.url;
    try {
      path = new URL(init.url).pathname;
    } catch {
      // keep the raw string
    }
    // Response text is bounded here, where it enters the error: the snippet and reason reach logs.
    const reason = oneLine(init.reason, 300);
    super(`Unreadable ${init.status} answer to ${init.method} ${path}: ${reason}`);
    this.operation = init.operation;
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.reason = reason;
    this.bodySnippet =
      init.bodySnippet === undefined ? undefined : oneLine(init.bodySnippet, SNIPPET_MAX_CHARS);
    this.requestId = init.requestId === undefined ? undefined : oneLine(init.requestId, 100);
  }
}

/**
 * Type guard that also works across module copies, where `instanceof` fails.
 * @example if (isDetectorProtocolError(err)) log.warn(err.reason);
 */
export function isDetectorProtocolError(err: unknown): err is DetectorProtocolError {
  return (
    err instanceof DetectorProtocolError ||
    (err instanceof Error && (err as { code?: unknown }).code === DetectorErrorCode.Protocol)
  );
}

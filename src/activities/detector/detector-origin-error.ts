/**
 * The platform pointed the client at an origin it may not talk to.
 */
import { DetectorError, DetectorErrorCode } from './detector-error.ts';
import type { DetectorOperation } from './detector-http-error.ts';
import { oneLine } from './wire.ts';

/** Where the refused URL came from. */
export type RefusedUrlSource = 'Location' | 'X-Location' | 'task id' | 'status URL';

export interface DetectorOriginErrorInit {
  operation: DetectorOperation;
  source: RefusedUrlSource;
  /** The origin of the refused URL, e.g. `http://10.0.0.7:8000`. */
  offeredOrigin: string;
  /** The origins the client may use: the platform's first. */
  allowedOrigins: readonly string[];
}

/**
 * A job URL (from a 202's `Location` / `X-Location`, or a status URL stored in a workflow
 * history) on an origin other than the platform's and those in `DETECTOR_ALLOWED_ORIGINS`. Thrown
 * BEFORE any request goes there. Permanent: the same answer or history gives the same URL; an
 * operator either fixes the proxy or allows the origin.
 *
 * @example
 * catch (err) { if (isDetectorOriginError(err)) log.error(err.message, { offered: err.offeredOrigin }) }
 */
export class DetectorOriginError extends DetectorError {
  override readonly name = 'DetectorOriginError';
  /** Stable across releases; match on this or on the class, never on the message. */
  readonly code = DetectorErrorCode.OriginRefused;
  readonly operation: DetectorOperation;
  readonly source: RefusedUrlSource;
  readonly offeredOrigin: string;
  readonly allowedOrigins: readonly string[];

  constructor(init: DetectorOriginErrorInit) {
    const offered = oneLine(init.offeredOrigin, 200);
    const allowed = init.allowedOrigins.join(', ');
    const what =
      init.source === 'status URL'
        ? `The stored job status URL is on ${offered}`
        : `The Speech Platform's answer to ${init.operation} named a job URL (${init.source}) on ${offered}`;
    super(
      `${what}, which is not an allowed origin (${allowed}); refused, nothing was sent there. ` +
        `If ${offered} is a node of the platform (e.g. behind a load balancer), add it to ` +
        `DETECTOR_ALLOWED_ORIGINS; otherwise fix the proxy that rewrites Location.`,
    );
    this.operation = init.operation;
    this.source = init.source;
    this.offeredOrigin = offered;
    this.allowedOrigins = [...init.allowedOrigins];
  }
}

/**
 * Type guard that also works across module copies, where `instanceof` fails.
 * @example if (isDetectorOriginError(err)) throw nonRetryable(err);
 */
export function isDetectorOriginError(err: unknown): err is DetectorOriginError {
  return (
    err instanceof DetectorOriginError ||
    (err instanceof Error && (err as { code?: unknown }).code === DetectorErrorCode.OriginRefused)
  );
}

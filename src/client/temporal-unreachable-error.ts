import { isGrpcServiceError } from '@temporalio/client';

/**
 * Temporal could not be reached (connection refused, server restarting, gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED) for longer than the caller was willing to wait. Not a workflow outcome:
 * whatever was running on the server keeps running.
 * @example if (err instanceof TemporalUnreachableError) console.error(`${err.address} is down`)
 */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  /** `host:port` that could not be reached. */
  readonly address: string;
  /**
   * @param address `host:port`, for the message.
   * @param cause the last transport error.
   * @param waitedMs how long the caller tried, if it retried (ms).
   * @param hint appended to the message, e.g. `; TEMPORAL_API_KEY turns TLS on: …`.
   */
  constructor(address: string, cause: unknown, waitedMs?: number, hint = '') {
    const waited = waitedMs === undefined ? '' : ` after trying for ${Math.round(waitedMs / 1000)} s`;
    super(`cannot reach Temporal at ${address}${waited} (${transportReason(cause)})${hint}`, { cause });
    this.address = address;
  }
}

/**
 * The shortest text that says why a transport failed: the gRPC details or the innermost message.
 * Pure.
 * @example transportReason(err) // 'Connection refused (os error 111)'
 */
export function transportReason(err: unknown): string {
  let current = err;
  for (let depth = 0; depth < 5; depth++) {
    if (isGrpcServiceError(current)) return current.details || current.message;
    if (!(current instanceof Error) || current.cause === undefined) break;
    current = current.cause;
  }
  const message = current instanceof Error ? current.message : String(current);
  // The Rust core's errors are Debug dumps; the useful part is the OS message.
  return /message: "([^"]+)"/.exec(message)?.[1] ?? message;
}

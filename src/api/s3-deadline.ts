/**
 * How routes call S3: bounded by a deadline, so a request answers 503 (`urn:rdd:problem:unavailable`)
 * rather than hanging while S3 accepts connections but does not answer, or cannot be reached.
 */
import { s3Status } from '../storage/s3-errors.ts';
import { ProblemError } from './problem-error.ts';
import { ProblemType } from './problems.ts';

/** How long one request may wait for S3 (ms) before it answers 503. */
export const S3_DEADLINE_MS = 5_000;

/**
 * Runs `fn` with an abort signal that fires after `ms`; pass it to `s3.send(command, { abortSignal })`.
 * S3's own answers (404, 403, … with a status) are thrown as they are; a timeout or a transport
 * error (no status: refused, reset, DNS) becomes `ProblemError` 503 naming `what`. The deadline
 * covers the answer's headers only: a body streamed afterwards is not bounded here.
 * @throws ProblemError 503 (type `urn:rdd:problem:unavailable`); S3 service errors as they are.
 * @example await boundedS3('the report', (abortSignal) => s3.send(new GetObjectCommand(ref), { abortSignal }))
 */
export async function boundedS3<T>(
  what: string,
  fn: (abortSignal: AbortSignal) => Promise<T>,
  ms = S3_DEADLINE_MS,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new S3DeadlineError());
    }, ms);
  });
  try {
    // The race also covers an SDK that keeps retrying (or waiting) after the abort.
    return await Promise.race([fn(controller.signal), deadline]);
  } catch (err) {
    if (!(err instanceof S3DeadlineError || isTransportError(err))) throw err;
    const why = err instanceof S3DeadlineError ? `did not answer within ${ms / 1000} s` : 'cannot be reached';
    throw new ProblemError(503, `S3 ${why} (${what}); try again later`, {
      type: ProblemType.Unavailable,
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

class S3DeadlineError extends Error {
  override name = 'S3DeadlineError';
}

/** A socket-level failure (no S3 answer): `ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, an abort, … */
function isTransportError(err: unknown): boolean {
  if (!(err instanceof Error) || s3Status(err) !== undefined) return false;
  const code = (err as { code?: unknown }).code;
  return (
    (typeof code === 'string' && /^E[A-Z]+$/.test(code)) || ['AbortError', 'TimeoutError'].includes(err.name)
  );
}

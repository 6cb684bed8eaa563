/**
 * An upload delivered a different number of bytes than its declared `size`.
 */
import { DetectorError, DetectorErrorCode } from './detector-error.ts';

/**
 * Thrown from inside the multipart body when a file's stream yields more or fewer bytes than the
 * `size` it was declared with. Raised by us rather than left to undici because, without it, a
 * Content-Length request would fail with an opaque length mismatch and a chunked one would
 * silently upload different bytes than were inspected.
 *
 * @example
 * catch (err) { if (err instanceof DetectorUploadSizeError) log.warn(`${err.field}: ${err.actual}/${err.expected}`) }
 */
export class DetectorUploadSizeError extends DetectorError {
  override readonly name = 'DetectorUploadSizeError';
  /** Stable across releases; match on this or on the class, never on the message. */
  readonly code = DetectorErrorCode.UploadSizeMismatch;
  /** The form field, e.g. `file_reference`. */
  readonly field: string;
  readonly expected: number;
  /** Bytes seen when the mismatch was detected (for "too many", the count that crossed the line). */
  readonly actual: number;

  constructor(field: string, expected: number, actual: number) {
    const what = actual > expected ? 'more than' : 'only';
    super(`${field} was declared as ${expected} bytes but its stream delivered ${what} ${actual}`);
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Type guard that also works across module copies, where `instanceof` fails.
 * @example if (isDetectorUploadSizeError(err)) reinspect();
 */
export function isDetectorUploadSizeError(err: unknown): err is DetectorUploadSizeError {
  return (
    err instanceof DetectorUploadSizeError ||
    (err instanceof Error && (err as { code?: unknown }).code === DetectorErrorCode.UploadSizeMismatch)
  );
}

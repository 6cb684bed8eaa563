/**
 * The base of every error the Speech Platform client raises.
 */

/** The stable `code` of each detector error, one per subclass. */
export const DetectorErrorCode = {
  Http: 'DETECTOR_HTTP_ERROR',
  Protocol: 'DETECTOR_PROTOCOL_ERROR',
  OriginRefused: 'DETECTOR_ORIGIN_REFUSED',
  UploadSizeMismatch: 'DETECTOR_UPLOAD_SIZE_MISMATCH',
} as const;
export type DetectorErrorCode = (typeof DetectorErrorCode)[keyof typeof DetectorErrorCode];

const CODES: ReadonlySet<unknown> = new Set(Object.values(DetectorErrorCode));

/**
 * What the platform client threw, as opposed to a socket error, a timeout or an abort (which
 * undici raises and Temporal retries). Each subclass keeps its own explicit `name` and a `code`
 * from {@link DetectorErrorCode}; match on the class, the code, or the type guards, never on the
 * message. Not constructed directly.
 *
 * @example
 * catch (err) { if (isDetectorError(err)) log.warn(err.message, { code: err.code }) }
 */
export abstract class DetectorError extends Error {
  /** Stable across releases; match on this or on the class, never on the message. */
  abstract readonly code: DetectorErrorCode;
}

/**
 * Type guard for any detector error, also across module copies (duplicate installs), where
 * `instanceof` fails: it then matches on the stable `code`.
 * @example if (isDetectorError(err)) throw toDetectorFailure(err);
 */
export function isDetectorError(err: unknown): err is DetectorError {
  return (
    err instanceof DetectorError || (err instanceof Error && CODES.has((err as { code?: unknown }).code))
  );
}

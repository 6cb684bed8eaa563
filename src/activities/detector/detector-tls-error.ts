/**
 * The platform's TLS certificate was refused: not signed by a trusted CA, expired, or not naming
 * the host. Raised by the platform client in place of undici's bare socket error, so every
 * message (activity failures, `rdd worker`'s start-up check) says which URL, why, and how to fix it.
 */

/** The TLS verification codes (OpenSSL's, as Node reports them) that mean "certificate refused". */
export const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The code of the first error in `err`'s cause chain (or AggregateError members) that is a refusal. */
function refusalCode(err: unknown): { code: string; reason: string } | undefined {
  const queue: unknown[] = [err];
  for (let seen = 0; queue.length > 0 && seen < 16; seen++) {
    const current = queue.shift();
    if (!(current instanceof Error)) continue;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
      return { code, reason: current.message };
    }
    queue.push(current.cause);
    if (current instanceof AggregateError) queue.push(...(current.errors as unknown[]));
  }
  return undefined;
}

/**
 * The platform at `url` presented a certificate this process does not accept. `code` is the
 * TLS code (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), so the activities classify it as they did
 * undici's error (retryable `DetectorUnavailable`: detections resume once an operator fixes it).
 * @example
 * const refused = DetectorTlsError.from(err, 'https://platform.internal');
 * if (refused) console.error(refused.message); // "… set DETECTOR_CA_FILE to …"
 */
export class DetectorTlsError extends Error {
  override name = 'DetectorTlsError';
  /** The TLS code Node reported; one of `UNTRUSTED_CERTIFICATE_CODES`. */
  readonly code: string;
  /** The platform's base URL. */
  readonly url: string;

  constructor(url: string, code: string, reason: string, options?: ErrorOptions) {
    const fix =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'its names do not include this host; set DETECTOR_URL to a name the certificate lists'
        : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
          ? 'it is outside its validity period; renew the certificate on the platform'
          : 'it is not signed by a trusted CA; set DETECTOR_CA_FILE to the PEM file of the CA that signed it';
    super(
      `the Speech Platform at ${url} presented a TLS certificate that is not trusted (${code}: ${reason}): ${fix}`,
      options,
    );
    this.code = code;
    this.url = url;
  }

  /**
   * The refusal in `err` (searched through `cause` and AggregateErrors) as a DetectorTlsError for
   * `url`, or undefined when `err` is not a certificate refusal. Pure.
   */
  static from(err: unknown, url: string): DetectorTlsError | undefined {
    if (err instanceof DetectorTlsError) return err;
    const refusal = refusalCode(err);
    return refusal && new DetectorTlsError(url, refusal.code, refusal.reason, { cause: err });
  }
}

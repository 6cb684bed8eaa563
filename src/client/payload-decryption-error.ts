/**
 * A payload could not be decrypted: it names the key id it was written with (never key material)
 * and why. Thrown by `AesGcmCodec.decode`; the SDK surfaces it where the payload was read
 * (a client's `result()`, a worker's workflow task).
 */

/** Why a payload could not be decrypted. */
export const DecryptionProblem = {
  /** The payload's key id is not among the configured keys (a key removed too early, or another deployment's data). */
  UnknownKey: 'unknown-key',
  /** The key id is known but authentication failed: the data was altered, or the key under that id changed. */
  NotAuthentic: 'not-authentic',
  /** The payload is not one this codec wrote (metadata or length wrong). */
  Malformed: 'malformed',
} as const;
export type DecryptionProblem = (typeof DecryptionProblem)[keyof typeof DecryptionProblem];

/**
 * @example
 * try { await codec.decode(payloads) } catch (err) {
 *   if (err instanceof PayloadDecryptionError && err.problem === 'unknown-key') console.error(err.keyId)
 * }
 */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
  /** The key id in the payload's metadata, when it has one. */
  readonly keyId: string | undefined;
  readonly problem: DecryptionProblem;
  constructor(problem: DecryptionProblem, keyId: string | undefined, knownKeyIds: readonly string[]) {
    const known = `configured key ids: ${knownKeyIds.join(', ') || 'none'}`;
    super(
      problem === DecryptionProblem.UnknownKey
        ? `cannot decrypt a payload written with encryption key id "${keyId}": no such key is ` +
            `configured (${known}); add it to RDD_ENCRYPTION_KEYS (after the current key) to read it`
        : problem === DecryptionProblem.NotAuthentic
          ? `cannot decrypt a payload written with encryption key id "${keyId}": authentication ` +
            `failed (the data was altered, or the key under that id is not the one that wrote it)`
          : `cannot decrypt a payload: it is not a well-formed binary/encrypted payload (${known})`,
    );
    this.keyId = keyId;
    this.problem = problem;
  }
}

/**
 * AES-256-GCM payload encryption for Temporal (a `PayloadCodec`): every payload of a workflow's
 * history (inputs, results, failure messages with the encoded failure converter, queries,
 * updates, user metadata) is stored as `binary/encrypted`. Pattern of Temporal's encryption
 * sample (samples-typescript/encryption): the whole Payload protobuf is encrypted, so its
 * metadata (encoding, type) is hidden too.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { EncryptionKey } from './encryption-keys.ts';
import { DecryptionProblem, PayloadDecryptionError } from './payload-decryption-error.ts';

/** The `encoding` metadata of an encrypted payload (the value Temporal's samples use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key holding the id of the key that encrypted a payload (in clear). */
export const KEY_ID_METADATA = 'encryption-key-id';

/** 96-bit IV, the size GCM is specified for (NIST SP 800-38D §5.2.1.1). */
const IV_BYTES = 12;
/** The full 128-bit authentication tag. */
const TAG_BYTES = 16;

/** The Payload protobuf message (a CommonJS package: reached through its default export under ESM). */
const ProtoPayload = proto.temporal.api.common.v1.Payload;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encrypts with the first key, decrypts with whichever key id a payload names. Data layout:
 * `IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, the key id bound as additional authenticated
 * data. A random IV per payload: with 2^32 payloads per key the IV collision chance stays under
 * 2^-32 (SP 800-38D §8.3), so rotate a key well before four billion payloads.
 * Payloads that are not `binary/encrypted` pass through `decode` unchanged (histories written
 * before encryption was turned on stay readable). Stateless apart from the keys; safe to share.
 * @example
 * const codec = new AesGcmCodec([{ id: 'k1', key: randomBytes(32) }]);
 * const [encrypted] = await codec.encode([payload]); // metadata['encryption-key-id'] = 'k1'
 */
export class AesGcmCodec implements PayloadCodec {
  readonly #current: EncryptionKey;
  readonly #byId: ReadonlyMap<string, Buffer>;

  /**
   * @param keys the first encrypts; all decrypt.
   * @throws RangeError when `keys` is empty, a key is not 32 bytes, or an id repeats (never echoing a key).
   */
  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (current === undefined) throw new RangeError('AesGcmCodec needs at least one key');
    const byId = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== 32)
        throw new RangeError(`encryption key "${id}" must be 32 bytes, got ${key.length}`);
      if (byId.has(id)) throw new RangeError(`encryption key id "${id}" is given twice`);
      byId.set(id, key);
    }
    this.#current = current;
    this.#byId = byId;
  }

  /** The id of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Encrypts each payload with the current key and a fresh random IV. */
  // eslint-disable-next-line @typescript-eslint/require-await -- the PayloadCodec interface is async
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { id, key } = this.#current;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(encoder.encode(id));
      const plain = ProtoPayload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(id) },
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      };
    });
  }

  /**
   * Decrypts each `binary/encrypted` payload with the key its metadata names; others pass through.
   * @throws PayloadDecryptionError when the key id is not configured, authentication fails, or
   *   the payload is malformed (the message names the key id, never the key).
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- the PayloadCodec interface is async
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (encoding === undefined || encoding === null || decoder.decode(encoding) !== ENCRYPTED_ENCODING) {
        return payload;
      }
      const rawId = payload.metadata?.[KEY_ID_METADATA];
      const id = rawId ? decoder.decode(rawId) : undefined;
      const data = payload.data;
      if (id === undefined || !data || data.length < IV_BYTES + TAG_BYTES) {
        throw new PayloadDecryptionError(DecryptionProblem.Malformed, id, [...this.#byId.keys()]);
      }
      const key = this.#byId.get(id);
      if (key === undefined) {
        throw new PayloadDecryptionError(DecryptionProblem.UnknownKey, id, [...this.#byId.keys()]);
      }
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(encoder.encode(id));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptionError(DecryptionProblem.NotAuthentic, id, [...this.#byId.keys()]);
      }
      return ProtoPayload.decode(plain);
    });
  }
}

/**
 * Payload encryption keys from the environment (RDD_ENCRYPTION_KEYS or RDD_ENCRYPTION_KEYS_FILE),
 * read by every process that builds a Temporal client or worker (`clientOptions(env)`) and by
 * `rdd codec-server`. No zod here: the client library stays light (test/unit/client-library.test.ts);
 * src/config/encryption.ts wraps the same parser for the processes' config schemas.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.ts';
import type { Env } from '../config/env.ts';

/** One AES-256 key and the id written next to every payload it encrypts. */
export interface EncryptionKey {
  /** 1 to 64 of `A-Z a-z 0-9 . _ -`; stored in clear in each payload's metadata. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** The configured keys: `keys[0]` encrypts, every key decrypts (rotation). */
export interface EncryptionConfig {
  keys: readonly [EncryptionKey, ...EncryptionKey[]];
}

/** A key id: written in clear into payload metadata. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses a key list `id:base64key,id:base64key` (commas or newlines between entries, `#` comment
 * lines). Problems name an entry by position and key id, never by key material, and read as
 * predicates of the variable (`: entry 2 (key id "k1") must hold 32 bytes …`). Pure.
 * @example parseEncryptionKeys(`k1:${randomBytes(32).toString('base64')}`).keys[0].id // 'k1'
 */
export function parseEncryptionKeys(value: string): { keys: EncryptionKey[]; problems: string[] } {
  const keys: EncryptionKey[] = [];
  const problems: string[] = [];
  const entries = value
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    const material = colon < 0 ? '' : entry.slice(colon + 1).trim();
    const where = `: entry ${index + 1}`;
    if (!KEY_ID.test(id)) {
      problems.push(`${where} must be id:base64key with an id of 1-64 letters, digits, . _ -`);
      return;
    }
    const key = Buffer.from(material, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material) || key.length !== 32) {
      problems.push(`${where} (key id "${id}") must hold 32 bytes in base64 (e.g. openssl rand -base64 32)`);
      return;
    }
    if (keys.some((k) => k.id === id)) {
      problems.push(`${where}: key id "${id}" is given twice`);
      return;
    }
    keys.push({ id, key });
  });
  if (entries.length === 0) problems.push('holds no key');
  return { keys, problems };
}

/**
 * The encryption keys `env` configures, or undefined when neither variable is set (or both are
 * blank). RDD_ENCRYPTION_KEYS is `id:base64key[,id:base64key…]`, the first key encrypts and all
 * decrypt; RDD_ENCRYPTION_KEYS_FILE names a file holding the same list. Reads that file, if any.
 * @throws ConfigError naming the variable and the entry, never a key (both variables set, a file
 *   that cannot be read, a malformed entry, a key not 32 bytes, a repeated id).
 * @example loadEncryptionConfig({ RDD_ENCRYPTION_KEYS: `new:${b64},old:${b64old}` })?.keys[0].id // 'new'
 */
export function loadEncryptionConfig(env: Env): EncryptionConfig | undefined {
  const inline = env.RDD_ENCRYPTION_KEYS?.trim() || undefined;
  const file = env.RDD_ENCRYPTION_KEYS_FILE?.trim() || undefined;
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(['RDD_ENCRYPTION_KEYS_FILE and RDD_ENCRYPTION_KEYS are both set; set one']);
  }
  let name = 'RDD_ENCRYPTION_KEYS';
  let text = inline;
  if (file !== undefined) {
    name = 'RDD_ENCRYPTION_KEYS_FILE';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new ConfigError([
        `${name} cannot be read (${typeof code === 'string' ? code : 'error'}): ${file}`,
      ]);
    }
  }
  if (text === undefined) return undefined;
  const { keys, problems } = parseEncryptionKeys(text);
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => (p.startsWith(':') ? `${name}${p}` : `${name} ${p}`)));
  }
  return { keys: keys as [EncryptionKey, ...EncryptionKey[]] };
}

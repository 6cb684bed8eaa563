/**
 * The AES-256-GCM payload codec and the key configuration: round trip, a fresh IV per payload,
 * tampering detected, rotation, and errors that name key ids but never keys.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/client/aes-gcm-codec.ts';
import { clientOptions, dataConverter, dataConverterFor } from '../../src/client/connection.ts';
import { loadEncryptionConfig } from '../../src/client/encryption-keys.ts';
import { PayloadDecryptionError } from '../../src/client/payload-decryption-error.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { rejection } from '../helpers/rejection.ts';

const a = { id: 'a', key: randomBytes(32) };
const b = { id: 'b', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();
const plain: Payload = {
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from('{"key":"alice.wav"}'),
};

describe('AesGcmCodec', () => {
  it('round-trips a payload, hiding its data and metadata behind binary/encrypted and the key id', async () => {
    const codec = new AesGcmCodec([a]);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted!.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(encrypted!.metadata!['encryption-key-id'])).toBe('a');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('alice');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted!]);
    expect(text(decoded!.data)).toBe('{"key":"alice.wav"}');
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV per payload: the same payload encrypts differently each time', async () => {
    const codec = new AesGcmCodec([a]);
    const [x, y] = await codec.encode([plain, plain]);
    expect(Buffer.from(x!.data!).subarray(0, 12)).not.toEqual(Buffer.from(y!.data!).subarray(0, 12));
    expect(Buffer.from(x!.data!)).not.toEqual(Buffer.from(y!.data!));
  });

  it('passes payloads that are not encrypted through decode (histories from before encryption)', async () => {
    expect(await new AesGcmCodec([a]).decode([plain])).toEqual([plain]);
  });

  it('refuses altered data and a key id rewritten in the metadata', async () => {
    const codec = new AesGcmCodec([a, b]);
    const [encrypted] = await codec.encode([plain]);
    const flipped = Buffer.from(encrypted!.data!);
    flipped[20] = flipped[20]! ^ 1;
    const err = await rejection(codec.decode([{ ...encrypted!, data: flipped }]));
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as PayloadDecryptionError).problem).toBe('not-authentic');
    const relabelled = {
      ...encrypted!,
      metadata: { ...encrypted!.metadata, 'encryption-key-id': Buffer.from('b') },
    };
    expect(((await rejection(codec.decode([relabelled]))) as PayloadDecryptionError).problem).toBe(
      'not-authentic',
    );
  });

  it('rotates: the first key writes, every key reads; a missing key is named, never shown', async () => {
    const [old] = await new AesGcmCodec([a]).encode([plain]);
    const rotated = new AesGcmCodec([b, a]);
    const [fresh] = await rotated.encode([plain]);
    expect(text(fresh!.metadata!['encryption-key-id'])).toBe('b');
    expect(text((await rotated.decode([old!]))[0]!.data)).toBe('{"key":"alice.wav"}');
    const err = (await rejection(new AesGcmCodec([a]).decode([fresh!]))) as PayloadDecryptionError;
    expect(err.problem).toBe('unknown-key');
    expect(err.message).toContain('encryption key id "b"');
    expect(err.message).toContain('configured key ids: a');
    for (const key of [a.key, b.key]) {
      expect(err.message).not.toContain(key.toString('base64'));
      expect(err.message).not.toContain(key.toString('hex'));
    }
  });
});

describe('RDD_ENCRYPTION_KEYS / RDD_ENCRYPTION_KEYS_FILE', () => {
  const b64 = (key: Buffer) => key.toString('base64');

  it('reads id:base64 pairs in order, inline or from a file', () => {
    const config = loadEncryptionConfig({ RDD_ENCRYPTION_KEYS: `b:${b64(b.key)}, a:${b64(a.key)}` });
    expect(config?.keys.map((k) => k.id)).toEqual(['b', 'a']);
    expect(config?.keys[0].key.equals(b.key)).toBe(true);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rdd-keys-')), 'keys');
    writeFileSync(file, `# current first\nb:${b64(b.key)}\na:${b64(a.key)}\n`);
    expect(loadEncryptionConfig({ RDD_ENCRYPTION_KEYS_FILE: file })?.keys.map((k) => k.id)).toEqual([
      'b',
      'a',
    ]);
    expect(loadEncryptionConfig({})).toBeUndefined();
  });

  it('names every bad entry by position and id, never echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    let err: unknown;
    try {
      loadEncryptionConfig({
        RDD_ENCRYPTION_KEYS: `a:${short},${b64(b.key)},a:${b64(a.key)},a:${b64(a.key)}`,
      });
    } catch (caught) {
      err = caught;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'RDD_ENCRYPTION_KEYS: entry 1 (key id "a") must hold 32 bytes in base64 (e.g. openssl rand -base64 32)',
      'RDD_ENCRYPTION_KEYS: entry 2 must be id:base64key with an id of 1-64 letters, digits, . _ -',
      'RDD_ENCRYPTION_KEYS: entry 4: key id "a" is given twice',
    ]);
    expect((err as Error).message).not.toContain(short);
    expect((err as Error).message).not.toContain(b64(b.key));
    expect(() =>
      loadEncryptionConfig({ RDD_ENCRYPTION_KEYS: `a:${b64(a.key)}`, RDD_ENCRYPTION_KEYS_FILE: '/nowhere' }),
    ).toThrow(/both set/);
  });

  it('gives every client and worker the codec and the encoded failure converter only when keys are set', () => {
    expect(clientOptions({}).dataConverter).toBe(dataConverter);
    const env = { RDD_ENCRYPTION_KEYS: `a:${b64(a.key)}` };
    const converter = dataConverterFor(env);
    expect(converter.payloadCodecs?.[0]).toBeInstanceOf(AesGcmCodec);
    expect(converter.failureConverterPath).toMatch(/encoded-failure-converter\.(ts|js)$/);
    expect(dataConverterFor({ ...env })).toBe(converter); // one converter per key configuration
  });
});

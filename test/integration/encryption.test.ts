/**
 * Payload encryption end to end: detections on the real dev server, versitygw and the emulator
 * with RDD_ENCRYPTION_KEYS set; the raw history (as the server stores it) holds no clear text of
 * the media keys, the bucket, the result or a failure message; the codec reads it all back; a
 * key rotation keeps old histories readable.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/client/aes-gcm-codec.ts';
import { connectClient } from '../../src/client/connection.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { historyText } from '../helpers/history.ts';
import { rejection } from '../helpers/rejection.ts';
import { runRdd } from '../helpers/run-rdd.ts';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const codec = new AesGcmCodec([
  { id: 'key-a', key: Buffer.from(keyA, 'base64') },
  { id: 'key-b', key: Buffer.from(keyB, 'base64') },
]);

let first: Harness;
let genuine: string;
let other: string;
const tag = randomBytes(4).toString('hex');

beforeAll(async () => {
  genuine = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
  other = await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' });
  first = await startHarness({}, { workerEnv: { RDD_ENCRYPTION_KEYS: `key-a:${keyA}` } });
});

afterAll(async () => {
  await first?.close();
});

/** The raw history as the server returns it: payloads exactly as stored, nothing decoded. */
async function rawHistory(client: Client, workflowId: string) {
  const answer = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
  });
  return answer.history!;
}

/** A history's text as a reader of the database sees it, search attributes left out. */
function textOf(value: unknown): string {
  return historyText(value, ['searchAttributes']);
}

/** Every payload in `value` (objects with a `metadata` and a `data`), search attributes excepted. */
function payloadsOf(value: unknown, out: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) {
    for (const inner of value) payloadsOf(inner, out);
    return out;
  }
  const record = value as Record<string, unknown>;
  if (record.metadata && record.data instanceof Uint8Array) {
    out.push(record);
    return out;
  }
  for (const [key, inner] of Object.entries(record)) if (key !== 'searchAttributes') payloadsOf(inner, out);
  return out;
}

/**
 * The SDK's own bookkeeping in markers, written by the worker's core and never through the codec:
 * a patch marker's id and a local activity marker's `data` (type, attempt, times). They hold no
 * user data; the local activity's result beside them goes through the codec.
 */
function sdkMarkerPayloads(history: { events?: unknown[] | null }): Set<unknown> {
  const own = new Set<unknown>();
  for (const event of (history.events ?? []) as { markerRecordedEventAttributes?: { details?: unknown } }[]) {
    const details = event.markerRecordedEventAttributes?.details as
      Record<string, { payloads?: unknown[] }> | undefined;
    for (const name of ['data', 'patch-data']) for (const p of details?.[name]?.payloads ?? []) own.add(p);
  }
  return own;
}

/** The key ids of a history's payloads (undefined for a payload stored in clear), SDK markers excepted. */
function keyIds(history: { events?: unknown[] | null }): (string | undefined)[] {
  const own = sdkMarkerPayloads(history);
  return payloadsOf(history)
    .filter((payload) => !own.has(payload))
    .map((payload) => {
      const encoding = Buffer.from(payload.metadata!.encoding ?? []).toString();
      const id = payload.metadata!['encryption-key-id'];
      return encoding === 'binary/encrypted' && id ? Buffer.from(id).toString() : undefined;
    });
}

/** The history's payloads decrypted, as one text. */
async function decryptedText(history: unknown): Promise<string> {
  return textOf(await codec.decode(payloadsOf(history)));
}

describe('payload encryption (RDD_ENCRYPTION_KEYS)', () => {
  let completed: WorkflowHandle;
  let completedResult: unknown;

  it('stores a completed detection with no clear text in its history, readable with the key', async () => {
    const reference = await first.upload(genuine, `private-${tag}/alice-reference.wav`);
    const questioned = await first.upload(other, `private-${tag}/alice-questioned.wav`);
    completed = await first.start({ reference, questioned, threshold: -100 });
    completedResult = await completed.result();
    expect(completedResult).toMatchObject({ reference: { key: reference.key }, verdict: 'deepfake' });

    const history = await rawHistory(first.client, completed.workflowId);
    const clear = textOf(history);
    for (const secret of ['alice-reference', 'alice-questioned', first.bucket, '"verdict"', '"score"']) {
      expect(clear).not.toContain(secret);
    }
    // Inputs, activity inputs and results, the workflow result and the summary: all encrypted.
    const ids = keyIds(history);
    expect(ids.length).toBeGreaterThan(5);
    expect(new Set(ids)).toEqual(new Set(['key-a']));

    const decrypted = await decryptedText(history);
    for (const secret of ['alice-reference', 'alice-questioned', first.bucket, '"verdict"', '"score"']) {
      expect(decrypted).toContain(secret);
    }
  });

  it('encrypts failure messages', async () => {
    const handle = await first.start({
      reference: await first.upload(genuine, `private-${tag}/bob-reference.wav`),
      questioned: { bucket: first.bucket, key: `private-${tag}/bob-missing-recording.wav` },
    });
    const failure = await rejection(handle.result());
    // The client decodes the message for its user…
    expect(String((failure as Error).cause)).toContain('bob-missing-recording.wav');
    // …the server holds only ciphertext and "Encoded failure".
    const history = await rawHistory(first.client, handle.workflowId);
    const failed = history.events!.find((event) => event.workflowExecutionFailedEventAttributes);
    expect(failed?.workflowExecutionFailedEventAttributes?.failure?.message).toBe('Encoded failure');
    expect(textOf(history)).not.toContain('bob-missing-recording');
    expect(await decryptedText(history)).toContain('bob-missing-recording.wav');
  });

  it('rotates: new writes use the first key, histories written with the old key still read', async () => {
    const rotatedEnv = { RDD_ENCRYPTION_KEYS: `key-b:${keyB},key-a:${keyA}` };
    const second = await startHarness({}, { workerEnv: rotatedEnv });
    let onlyOld: Client | undefined;
    try {
      // An old history (key-a) through the rotated client.
      expect(await second.client.workflow.getHandle(completed.workflowId).result()).toEqual(completedResult);

      const handle = await second.start({
        reference: await second.upload(genuine, `private-${tag}/carol-reference.wav`),
        questioned: await second.upload(other, `private-${tag}/carol-questioned.wav`),
      });
      await handle.result();
      const history = await rawHistory(second.client, handle.workflowId);
      expect(new Set(keyIds(history))).toEqual(new Set(['key-b']));
      expect(textOf(history)).not.toContain('carol-reference');

      // A process that lacks the new key gets a clear error naming the key id, never a key.
      onlyOld = await connectClient({ ...second.env, RDD_ENCRYPTION_KEYS: `key-a:${keyA}` });
      const err = await rejection(onlyOld.workflow.getHandle(handle.workflowId).result());
      const message = String((err as Error).message);
      expect(message).toContain('encryption key id "key-b"');
      expect(message).toContain('configured key ids: key-a');
      expect(message).not.toContain(keyA);
      expect(message).not.toContain(keyB);
    } finally {
      await onlyOld?.connection.close();
      await second.close();
    }
  });

  it('`rdd detect --wait --json` without the keys: one JSON document and a hint to set them', async () => {
    const reference = await first.upload(genuine, `private-${tag}/dave-reference.wav`);
    const questioned = await first.upload(other, `private-${tag}/dave-questioned.wav`);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    for (const [key, value] of Object.entries(first.env)) if (key !== 'RDD_ENCRYPTION_KEYS') env[key] = value;
    const uri = (ref: { bucket: string; key: string }) => `s3://${ref.bucket}/${ref.key}`;
    const { code, stdout, stderr } = await runRdd(
      ['detect', uri(reference), uri(questioned), '--wait', '--json', '--timeout', '120'],
      env,
      tmpdir(),
    );
    expect(stderr).toContain('the payload is encrypted: set RDD_ENCRYPTION_KEYS');
    expect(JSON.parse(stdout)).toMatchObject({ state: 'unknown', failure: { type: expect.any(String) } });
    expect(code).toBe(1);
  }, 180_000);
});

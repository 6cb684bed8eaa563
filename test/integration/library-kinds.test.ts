/**
 * The library's reads and starts on ids and requests the API already handles (review 8c): a
 * detection id read as a batch and a batch id read as a detection are `not-found`, as is `''`;
 * `startBatch` refuses an unusable `id` before Temporal, naming it; body-derived batch ids do not
 * depend on how a window bound is spelled, nor on an empty suffix. Real Temporal, versitygw and
 * the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchId,
  getBatch,
  InvalidBatchInputError,
  startBatch,
  waitForBatch,
} from '../../src/client/batches.ts';
import { getDetection, waitForDetection } from '../../src/client/detections.ts';
import { InvalidDetectionInputError } from '../../src/client/invalid-detection-input-error.ts';
import type { BatchInput } from '../../src/shared/batch.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

let harness: Harness;
let reference: Awaited<ReturnType<Harness['upload']>>;
let questioned: Awaited<ReturnType<Harness['upload']>>;

beforeAll(async () => {
  harness = await startHarness({ processing: { fixedMs: 50 } });
  reference = await harness.upload(
    await speechWav({ text: 'Library kinds reference.', voice: 'en+m3' }),
    `${harness.taskQueue}/ref/ref.wav`,
  );
  questioned = await harness.upload(
    await speechWav({ text: 'Library kinds questioned.', voice: 'en+f3' }),
    `${harness.taskQueue}/in/q.wav`,
  );
}, 180_000);

afterAll(async () => {
  await harness?.close();
});

describe('library reads check the workflow kind', () => {
  it('answers not-found for a detection read as a batch, a batch read as a detection, and an empty id', async () => {
    const detection = await harness.start({ reference, questioned, polling: FAST_POLLING });
    expect((await waitForDetection(harness.client, detection.workflowId)).state).toBe('completed');
    const { batchId: batch } = await startBatch(
      harness.client,
      {
        reference,
        prefix: { bucket: harness.bucket, prefix: `${harness.taskQueue}/in/` },
        polling: FAST_POLLING,
      },
      { taskQueue: harness.taskQueue },
    );
    expect((await waitForBatch(harness.client, batch, { intervalMs: 250, timeoutMs: 60_000 })).state).toBe(
      'completed',
    );

    expect(await getBatch(harness.client, detection.workflowId)).toEqual({
      batchId: detection.workflowId,
      state: 'not-found',
    });
    expect(await getDetection(harness.client, batch)).toEqual({ workflowId: batch, state: 'not-found' });
    // The right kind still reads.
    expect((await getBatch(harness.client, batch)).state).toBe('completed');
    expect((await getDetection(harness.client, detection.workflowId)).state).toBe('completed');
    expect(await getBatch(harness.client, '')).toEqual({ batchId: '', state: 'not-found' });
    expect(await getDetection(harness.client, '')).toEqual({ workflowId: '', state: 'not-found' });
  }, 120_000);
});

describe('startBatch', () => {
  const input = (): BatchInput => ({
    reference,
    prefix: { bucket: harness.bucket, prefix: `${harness.taskQueue}/none/` },
  });

  it('refuses an unusable id before Temporal, naming the id, and starts nothing', async () => {
    for (const [id, problem] of [
      ['', 'it is empty'],
      ['a/b', '"/" is not allowed'],
      ['x'.repeat(226), 'over the 225 a batch id may have'],
      ['tab\there', 'control characters'],
    ] as const) {
      const error = await startBatch(harness.client, input(), { id, taskQueue: harness.taskQueue }).catch(
        (err: unknown) => err,
      );
      expect(error, id).toBeInstanceOf(InvalidBatchInputError);
      expect(error).toBeInstanceOf(InvalidDetectionInputError);
      expect((error as Error).message).toContain('invalid batch request: id');
      expect((error as Error).message).toContain(problem);
      if (id !== '') expect(await getBatch(harness.client, id)).toMatchObject({ state: 'not-found' });
    }
    // 225 bytes is still a batch id: its pair runs and the batch completes.
    const longest = `${harness.taskQueue}-`.padEnd(225, 'y');
    const scored: BatchInput = {
      reference,
      prefix: { bucket: harness.bucket, prefix: `${harness.taskQueue}/in/` },
      polling: FAST_POLLING,
    };
    expect(await startBatch(harness.client, scored, { id: longest, taskQueue: harness.taskQueue })).toEqual({
      batchId: longest,
      existing: false,
    });
    expect((await waitForBatch(harness.client, longest, { intervalMs: 250, timeoutMs: 60_000 })).state).toBe(
      'completed',
    );
  }, 120_000);

  it('derives one id from one window however its instants are spelled, and from an empty suffix as from none', async () => {
    const spelled = (modifiedAfter: string, suffix?: string): BatchInput => ({
      reference,
      prefix: {
        bucket: harness.bucket,
        prefix: `${harness.taskQueue}/none/`,
        modifiedAfter,
        ...(suffix !== undefined && { suffix }),
      },
    });
    const ids = [
      spelled('2026-01-01T00:00:00Z'),
      spelled('2026-01-01T00:00:00.000Z'),
      spelled('2026-01-01T01:00:00+01:00'),
      spelled('2025-12-31T19:00:00-05:00', ''),
    ].map(batchId);
    expect(new Set(ids).size).toBe(1);
    // A different instant, or a real suffix, is another batch.
    expect(batchId(spelled('2026-01-01T00:00:01Z'))).not.toBe(ids[0]);
    expect(batchId(spelled('2026-01-01T00:00:00Z', '.wav'))).not.toBe(ids[0]);

    const first = await startBatch(harness.client, spelled('2026-01-01T00:00:00Z'), {
      taskQueue: harness.taskQueue,
    });
    const second = await startBatch(harness.client, spelled('2026-01-01T01:00:00+01:00', ''), {
      taskQueue: harness.taskQueue,
    });
    expect(second).toEqual({ batchId: first.batchId, existing: true });
  }, 60_000);
});

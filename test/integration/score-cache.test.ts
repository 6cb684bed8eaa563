/**
 * The score cache and the chain-of-custody hashes, on a real Temporal dev server, versitygw and the
 * emulator over HTTP. The emulator's request log counts the jobs submitted to it (202 answers to
 * the submit POST, per workflow id), so "answered from the cache" means no job reached it.
 */
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.ts';
import { objectIndexKey, pairEntryKey, scoreCacheKey } from '../../src/activities/score-cache-store.ts';
import type { DetectorClient } from '../../src/activities/detector/types.ts';
import { RDD_ENDPOINT } from '../../dev/emulator/server.ts';
import type { DetectInput, DetectionResult } from '../../src/shared/detection.ts';
import type { InspectedMedia, MediaRef } from '../../src/shared/media.ts';
import type {
  LookupScoreCacheInput,
  ScoreCacheEntry,
  ScoreCacheLookup,
} from '../../src/shared/score-cache.ts';
import { resolveMedia } from '../../src/storage/media-upload.ts';
import { sha256File, speechWav, stereoWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

/** Submit POSTs the emulator accepted (202), by the workflow id sent as `x-correlation-id`. */
function jobCounter() {
  const byWorkflow = new Map<string, number>();
  let total = 0;
  return {
    log(_line: string, entry?: { method: string; path: string; status: number; correlationId?: string }) {
      if (entry?.method !== 'POST' || entry.path !== RDD_ENDPOINT || entry.status !== 202) return;
      total += 1;
      const id = entry.correlationId ?? '';
      byWorkflow.set(id, (byWorkflow.get(id) ?? 0) + 1);
    },
    get total() {
      return total;
    },
    of: (workflowId: string) => byWorkflow.get(workflowId) ?? 0,
  };
}

const jobs = jobCounter();
let harness: Harness;
let files: { reference: string; questioned: string; third: string; stereo: string };
let sha: Record<keyof typeof files, string>;

beforeAll(async () => {
  files = {
    reference: await speechWav({
      text: 'The cache keeps what the platform said about this pair.',
      voice: 'en+m2',
    }),
    questioned: await speechWav({ text: 'A second voice reads a different sentence here.', voice: 'en+f2' }),
    third: await speechWav({ text: 'A third recording replaces the first one later.', voice: 'en+m4' }),
    stereo: await stereoWav(),
  };
  sha = {
    reference: await sha256File(files.reference),
    questioned: await sha256File(files.questioned),
    third: await sha256File(files.third),
    stereo: await sha256File(files.stereo),
  };
  harness = await startHarness({ log: jobs.log });
});

afterAll(async () => {
  await harness?.close();
});

/** Starts a detection under a fresh id and waits for its result. */
async function detect(input: DetectInput, on: Harness = harness): Promise<DetectionResult> {
  return (await on.start(input)).result();
}

async function readJson<T>(key: string): Promise<T | undefined> {
  try {
    const answer = await harness.s3.send(new GetObjectCommand({ Bucket: harness.bucket, Key: key }));
    return JSON.parse(await answer.Body!.transformToString()) as T;
  } catch {
    return undefined;
  }
}

describe('score cache', () => {
  let reference: MediaRef;
  let questioned: MediaRef;
  let first: DetectionResult;

  beforeAll(async () => {
    reference = await harness.upload(files.reference, `${harness.taskQueue}/ref.wav`);
    questioned = await harness.upload(files.questioned, `${harness.taskQueue}/q.wav`);
    first = await detect({ reference, questioned });
  });

  it('records the SHA-256 of the bytes sent, and writes the pair and object index entries', async () => {
    expect(first.cached).toBeUndefined();
    expect(first.submissions).toBe(1);
    expect(jobs.of(first.workflowId)).toBe(1);
    expect(first.reference.sha256).toBe(sha.reference);
    expect(first.questioned.sha256).toBe(sha.questioned);
    expect((await harness.readResult(first.resultLocation.key))?.reference.sha256).toBe(sha.reference);

    const key = scoreCacheKey({
      reference,
      questioned,
      referenceSha256: sha.reference,
      questionedSha256: sha.questioned,
      platformVersion: first.platform.version!,
    });
    const entry = await readJson<ScoreCacheEntry>(pairEntryKey(key));
    expect(entry).toMatchObject({
      ...key,
      score: first.score,
      jobId: first.jobId,
      workflowId: first.workflowId,
    });
    const index = await readJson(objectIndexKey(first.reference));
    expect(index).toMatchObject({ sha256: sha.reference, etag: first.reference.etag });
  });

  it('answers the same pair again from the cache: no job on the platform, the same score', async () => {
    const before = jobs.total;
    const again = await detect({ reference, questioned });
    expect(again).toMatchObject({
      cached: true,
      cachedFrom: first.workflowId,
      score: first.score,
      jobId: first.jobId,
      submissions: 0,
      uploads: 0,
      checks: 0,
    });
    expect(again.reference.sha256).toBe(sha.reference);
    expect(again.questioned.sha256).toBe(sha.questioned);
    expect(jobs.total).toBe(before);
    expect(await harness.readResult(again.resultLocation.key)).toEqual(again);
  });

  it('takes the threshold of the asking detection, not of the one that scored', async () => {
    const again = await detect({ reference, questioned, threshold: first.score! - 1 });
    expect(again.cached).toBe(true);
    expect(again.verdict).toBe('deepfake');
  });

  it('submits with cache: false (and still records the hashes)', async () => {
    const before = jobs.total;
    const forced = await detect({ reference, questioned, cache: false });
    expect(forced.cached).toBeUndefined();
    expect(forced.submissions).toBe(1);
    expect(jobs.total).toBe(before + 1);
    expect(forced.score).toBe(first.score);
    expect(forced.reference.sha256).toBe(sha.reference);
  });

  it('answers the same bytes under another key once S3 holds their SHA-256 checksum', async () => {
    const key = `${harness.taskQueue}/content-addressed-q.wav`;
    await harness.s3.send(
      new PutObjectCommand({
        Bucket: harness.bucket,
        Key: key,
        Body: await readFile(files.questioned),
        ChecksumSHA256: Buffer.from(sha.questioned, 'hex').toString('base64'),
      }),
    );
    const before = jobs.total;
    const hit = await detect({ reference, questioned: { bucket: harness.bucket, key } });
    expect(hit).toMatchObject({ cached: true, cachedFrom: first.workflowId, score: first.score });
    expect(hit.questioned.sha256).toBe(sha.questioned);
    expect(jobs.total).toBe(before);
  });

  it('answers a plain copy (no checksum) only once its own index entry exists', async () => {
    const key = `${harness.taskQueue}/copy-of-q.wav`;
    await harness.s3.send(
      new CopyObjectCommand({
        Bucket: harness.bucket,
        Key: key,
        CopySource: `${harness.bucket}/${questioned.key}`,
      }),
    );
    const copy = { bucket: harness.bucket, key };
    const miss = await detect({ reference, questioned: copy });
    expect(miss.cached).toBeUndefined();
    expect(jobs.of(miss.workflowId)).toBe(1);
    expect(miss.questioned.sha256).toBe(sha.questioned);
    const hit = await detect({ reference, questioned: copy });
    expect(hit).toMatchObject({ cached: true, score: first.score });
  });

  it('uploads local files with their SHA-256 checksum (rdd detect), so every copy of them is known', async () => {
    const ref = await resolveMedia(harness.s3, harness.bucket, files.third, 'reference');
    const head = await harness.s3.send(
      new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ChecksumMode: 'ENABLED' }),
    );
    expect(Buffer.from(head.ChecksumSHA256 ?? '', 'base64').toString('hex')).toBe(sha.third);
  });

  it('does not answer another config, other params or another channel', async () => {
    const before = jobs.total;
    const withConfig = await detect({ reference, questioned, config: { max_speech_length: 60 } });
    const withParams = await detect({ reference, questioned, params: { note: 'case-4711' } });
    expect(withConfig.cached).toBeUndefined();
    expect(withParams.cached).toBeUndefined();
    expect(jobs.total).toBe(before + 2);

    const stereo = await harness.upload(files.stereo, `${harness.taskQueue}/stereo.wav`);
    const left = await detect({ reference, questioned: { ...stereo, channel: 0 } });
    const right = await detect({ reference, questioned: { ...stereo, channel: 1 } });
    expect(left.cached).toBeUndefined();
    expect(right.cached).toBeUndefined();
    expect(right.score).not.toBe(left.score);
    // The same channel again is answered: the misses above were the key, not a cold cache.
    expect((await detect({ reference, questioned: { ...stereo, channel: 0 } })).cached).toBe(true);
  });

  it('does not answer a changed object (new bytes, new ETag) from what its key held before', async () => {
    const key = `${harness.taskQueue}/changing.wav`;
    const changing = await harness.upload(files.reference, key);
    const original = await detect({ reference: changing, questioned });
    expect(original.cached).toBeUndefined(); // no index entry for this key yet
    expect((await detect({ reference: changing, questioned })).cached).toBe(true);

    await harness.upload(files.third, key);
    const changed = await detect({ reference: changing, questioned });
    expect(changed.cached).toBeUndefined();
    expect(jobs.of(changed.workflowId)).toBe(1);
    expect(changed.reference.etag).not.toBe(original.reference.etag);
    expect(changed.reference.sha256).toBe(sha.third);
    expect(changed.score).not.toBe(original.score);
  });

  it('does not answer from a platform of another version', async () => {
    const jobsThere = jobCounter();
    const other = await startHarness({ version: '4.1.0-emulator', log: jobsThere.log });
    try {
      const result = await detect({ reference, questioned }, other);
      expect(result.cached).toBeUndefined();
      expect(result.platform.version).toBe('4.1.0-emulator');
      expect(jobsThere.of(result.workflowId)).toBe(1);
      expect(result.score).toBe(first.score); // the same emulator scoring: only the version differs
    } finally {
      await other.close();
    }
  });

  it('never caches a platform that will not say its version', async () => {
    const silent: DetectorClient = {
      baseUrl: 'http://platform.test',
      submit: () => Promise.reject(new Error('unexpected')),
      getJob: () => Promise.reject(new Error('unexpected')),
      systemInfo: () => Promise.reject(new Error('unexpected')),
      close: () => Promise.resolve(),
    };
    const activities = createActivities({
      s3: harness.s3,
      detector: silent,
      limits: { maxUploadBytes: 1e9, maxAudioSeconds: 7200 },
      resultBucket: harness.bucket,
    });
    const env = new MockActivityEnvironment(undefined, {
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const media = (ref: MediaRef, recorded: DetectionResult['reference']): InspectedMedia => ({
      ...ref,
      role: 'reference',
      etag: recorded.etag,
      sizeBytes: 0,
      container: 'WAVE',
      channels: 1,
      durationSeconds: recorded.durationSeconds,
    });
    const lookup = (platformVersion: string | null) =>
      env.run<[LookupScoreCacheInput], ScoreCacheLookup, typeof activities.lookupScoreCache>(
        activities.lookupScoreCache,
        {
          reference: media(reference, first.reference),
          questioned: { ...media(questioned, first.questioned), role: 'questioned' },
          platformVersion,
        },
      );
    expect(await lookup(null)).toMatchObject({ hit: false, reason: 'no-platform-version' });

    // A score recorded from a platform without a version writes no pair entry.
    const document = {
      ...first,
      workflowId: `${harness.taskQueue}-no-version`,
      platform: { url: 'http://platform.test', version: null },
      config: undefined,
    };
    const { resultLocation: _, ...result } = document;
    await env.run(activities.recordDetectionResult, {
      result: { ...result, reference: { ...result.reference, key: `${harness.taskQueue}/never.wav` } },
      location: { key: `results/${document.workflowId}.json` },
      cache: { referenceSizeBytes: 1, questionedSizeBytes: 1 },
    });
    const neverIndexed = objectIndexKey({ ...first.reference, key: `${harness.taskQueue}/never.wav` });
    expect(await readJson(neverIndexed)).toBeUndefined();
  });
});

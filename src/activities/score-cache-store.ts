/**
 * The score cache in S3 (not an activity): where its objects live, how their keys are made, and
 * create-only reads and writes of them. Used by `lookupScoreCache` and `recordDetectionResult`.
 *
 * Layout in the result bucket (see src/shared/score-cache.ts for the shapes):
 * - `cache/v1/<sha256 of canonical ScoreCacheKey>.json`: a pair entry (the score);
 * - `cache/v1/objects/<sha256 of bucket "\n" key "\n" etag>.json`: an object index entry (the
 *   content hash of that object version).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json.ts';
import type { InspectedMedia } from '../shared/media.ts';
import {
  SCORE_CACHE_PREFIX,
  type ObjectIndexEntry,
  type ScoreCacheEntry,
  type ScoreCacheKey,
} from '../shared/score-cache.ts';
import { s3Status } from '../storage/s3-errors.ts';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The S3 key of a pair entry: `cache/v1/<sha256 hex of the canonical JSON of the key fields>.json`.
 * Pure; equal keys whatever the order of config/params members.
 * @example pairEntryKey({ referenceSha256: 'ab…', referenceChannel: null, … }) // 'cache/v1/3f9e….json'
 */
export function pairEntryKey(key: ScoreCacheKey): string {
  return `${SCORE_CACHE_PREFIX}${sha256Hex(keyText(key))}.json`;
}

/**
 * The canonical JSON of exactly the key fields of a key or an entry: what the pair entry's key
 * hashes, and how an entry read back is checked against the key it was looked up under. Pure.
 */
export function keyText(key: ScoreCacheKey): string {
  const fields: ScoreCacheKey = {
    referenceSha256: key.referenceSha256,
    referenceChannel: key.referenceChannel,
    questionedSha256: key.questionedSha256,
    questionedChannel: key.questionedChannel,
    config: key.config,
    params: key.params,
    platformVersion: key.platformVersion,
  };
  return canonicalJson(fields);
}

/**
 * The S3 key of an object index entry for one object version. Pure.
 * @example objectIndexKey({ bucket: 'media', key: 'a.wav', etag: '"9b…"' }) // 'cache/v1/objects/71c2….json'
 */
export function objectIndexKey(object: { bucket: string; key: string; etag: string }): string {
  return `${SCORE_CACHE_PREFIX}objects/${sha256Hex(`${object.bucket}\n${object.key}\n${object.etag}`)}.json`;
}

/**
 * The key fields of a pair, from what the workflow knows. Pure.
 * @example scoreCacheKey({ reference, questioned, referenceSha256, questionedSha256, platformVersion: '4.1.0' })
 */
export function scoreCacheKey(pair: {
  reference: { channel?: number | undefined };
  questioned: { channel?: number | undefined };
  referenceSha256: string;
  questionedSha256: string;
  config?: Record<string, unknown> | undefined;
  params?: Record<string, string> | undefined;
  platformVersion: string;
}): ScoreCacheKey {
  return {
    referenceSha256: pair.referenceSha256,
    referenceChannel: pair.reference.channel ?? null,
    questionedSha256: pair.questionedSha256,
    questionedChannel: pair.questioned.channel ?? null,
    // An empty object and none at all send the platform the same request.
    config: pair.config && Object.keys(pair.config).length > 0 ? pair.config : null,
    params: pair.params && Object.keys(pair.params).length > 0 ? pair.params : null,
    platformVersion: pair.platformVersion,
  };
}

/**
 * Reads a JSON object; `undefined` when the key does not exist. Throws what S3 throws otherwise
 * (the caller classifies), and a SyntaxError for a body that is not JSON.
 */
export async function readJson<T>(
  s3: S3Client,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return JSON.parse((await answer.Body?.transformToString('utf8')) ?? '') as T;
  } catch (err) {
    if (s3Status(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Writes a JSON object unless the key exists (`If-None-Match: *`). Idempotent: an existing object
 * (412) counts as written and is left as it is; the first writer of a cache key owns it.
 * @returns true when this call created the object.
 */
export async function putJsonCreateOnly(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return true;
  } catch (err) {
    if (s3Status(err) === 412) return false;
    throw err;
  }
}

/**
 * The content hash of one inspected object version, without reading its bytes: the object's
 * full-object `ChecksumSHA256` (HEAD with `ChecksumMode: ENABLED`, pinned to the inspected ETag)
 * when S3 keeps one, else the object index entry for that bucket, key and ETag (whose recorded
 * size must match). `null` when neither knows it, or the object changed since inspection (412/404:
 * the submit then fails `MediaChanged`/`MediaNotFound` with its own message).
 * @throws what S3 throws for other errors (the caller classifies).
 */
export async function knownSha256(
  s3: S3Client,
  cacheBucket: string,
  media: InspectedMedia,
  signal?: AbortSignal,
): Promise<string | null> {
  let head;
  try {
    head = await s3.send(
      new HeadObjectCommand({
        Bucket: media.bucket,
        Key: media.key,
        IfMatch: media.etag,
        ChecksumMode: 'ENABLED',
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    const status = s3Status(err);
    if (status === 412 || status === 404) return null;
    throw err;
  }
  // A composite checksum (multipart upload: a checksum of part checksums, "…-N") is not the hash
  // of the bytes, so only a full-object one is taken.
  const checksum = head.ChecksumSHA256;
  if (checksum && head.ChecksumType !== 'COMPOSITE' && !checksum.includes('-')) {
    const bytes = Buffer.from(checksum, 'base64');
    if (bytes.length === 32) return bytes.toString('hex');
  }
  const indexed = await readJson<ObjectIndexEntry>(s3, cacheBucket, objectIndexKey(media), signal);
  if (
    indexed &&
    typeof indexed.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(indexed.sha256) &&
    indexed.size === media.sizeBytes &&
    indexed.etag === media.etag
  ) {
    return indexed.sha256;
  }
  return null;
}

/** Checks the shape of a pair entry read from S3 (it could have been written by hand). */
export function isScoreCacheEntry(value: unknown): value is ScoreCacheEntry {
  const entry = value as Partial<ScoreCacheEntry> | null | undefined;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    (typeof entry.score === 'number' || entry.score === null) &&
    typeof entry.jobId === 'string' &&
    typeof entry.workflowId === 'string' &&
    typeof entry.timestamps?.submittedAt === 'string' &&
    typeof entry.timestamps.completedAt === 'string'
  );
}

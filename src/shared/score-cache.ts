/**
 * The score cache's contract: what `lookupScoreCache` takes and answers, and the entries it reads
 * from the result bucket. Importable from workflows: no Node, no I/O.
 *
 * A pair is answered from the cache when both recordings have the same bytes (SHA-256), the same
 * channels, config and params, and the platform reports the same version as when the pair was
 * scored. A platform that will not say its version (`null`) is never cached, in either direction:
 * nothing tells its scores apart from another release's.
 */
import type { InspectedMedia } from './media.ts';

/** Prefix of every cache object in the result bucket; `v1` changes if the key recipe ever does. */
export const SCORE_CACHE_PREFIX = 'cache/v1/';

/**
 * What identifies a score: hashed (SHA-256 of its canonical JSON) into the pair entry's key
 * `cache/v1/<hex>.json`. Channels are `null` when not given (a mono file).
 */
export interface ScoreCacheKey {
  referenceSha256: string;
  referenceChannel: number | null;
  questionedSha256: string;
  questionedChannel: number | null;
  config: Record<string, unknown> | null;
  params: Record<string, string> | null;
  platformVersion: string;
}

/**
 * A pair entry, `cache/v1/<sha256 of canonical ScoreCacheKey>.json`: the score and where it came
 * from. Written create-only by `recordDetectionResult`, so the first detection to score a pair
 * owns the entry; later ones leave it as it is.
 */
export interface ScoreCacheEntry extends ScoreCacheKey {
  score: number | null;
  jobId: string;
  platform: { url: string; version: string | null };
  /** The detection that computed the score, and where its result document is. */
  workflowId: string;
  resultLocation: { bucket: string; key: string };
  /** The original job's timestamps (ISO). */
  timestamps: { startedAt: string; submittedAt: string; completedAt: string };
}

/**
 * An object index entry, `cache/v1/objects/<sha256 of bucket "\n" key "\n" etag>.json`: the content
 * hash of one version of one object, written when its bytes were hashed on the way to the platform,
 * so a later detection of the same version needs no read to know it.
 */
export interface ObjectIndexEntry {
  bucket: string;
  key: string;
  etag: string;
  sha256: string;
  size: number;
}

/** Input of `lookupScoreCache`. */
export interface LookupScoreCacheInput {
  reference: InspectedMedia;
  questioned: InspectedMedia;
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  /** From `getPlatformInfo`; `null` is always a miss. */
  platformVersion: string | null;
}

/**
 * Answer of `lookupScoreCache`. The hashes are those known without reading the media (a full-object
 * `ChecksumSHA256` on the S3 object, or the object index); `null` when neither had one.
 */
export type ScoreCacheLookup =
  | { hit: true; entry: ScoreCacheEntry; referenceSha256: string; questionedSha256: string }
  | {
      hit: false;
      /**
       * `no-platform-version`: the platform would not say its version; `no-cache-bucket`: the worker
       * has no result bucket; `unknown-content`: a recording's hash is not known without reading
       * it; `not-scored`: no entry for this pair.
       */
      reason: 'no-platform-version' | 'no-cache-bucket' | 'unknown-content' | 'not-scored';
      referenceSha256: string | null;
      questionedSha256: string | null;
    };

/**
 * Cache fields of `recordDetectionResult`'s request: present when the workflow wants the pair and
 * object index entries written beside the result (a computed score, under the `score-cache` patch).
 */
export interface ScoreCacheRecord {
  config?: Record<string, unknown>;
  params?: Record<string, string>;
  /** Bytes of each object as inspected (the object index records them beside the hash). */
  referenceSizeBytes: number;
  questionedSizeBytes: number;
}

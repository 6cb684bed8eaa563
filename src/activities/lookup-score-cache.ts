import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { formatMediaRef } from '../shared/media.ts';
import type { LookupScoreCacheInput, ScoreCacheLookup } from '../shared/score-cache.ts';
import {
  isScoreCacheEntry,
  keyText,
  knownSha256,
  pairEntryKey,
  readJson,
  scoreCacheKey,
} from './score-cache-store.ts';
import { toStorageFailure } from './storage-failures.ts';

/**
 * Activity `lookupScoreCache`: answers whether this pair was scored before with the same bytes,
 * channels, config, params and platform version. Reads no media bytes: each recording's content
 * hash comes from its S3 full-object `ChecksumSHA256` or from the object index written when that
 * object version was last sent (see score-cache-store.ts); then one GET of the pair entry in the
 * worker's result bucket. A miss says why (`no-platform-version`, `unknown-content`, `not-scored`).
 *
 * A `null` platform version, or no result bucket configured on the worker, is always a miss.
 * Idempotent: reads only (2 HEADs and at most 3 GETs).
 * @throws ApplicationFailure classified by toStorageFailure (the workflow treats any failure as a
 *   miss, so the cache never fails a detection).
 * @example await new MockActivityEnvironment().run(lookupScoreCache, { s3, resultBucket }, input) // { hit: false, reason: 'not-scored', … }
 */
export async function lookupScoreCache(
  { s3, resultBucket }: { s3: S3Client; resultBucket?: string | undefined },
  input: LookupScoreCacheInput,
): Promise<ScoreCacheLookup> {
  const { platformVersion, reference, questioned } = input;
  if (platformVersion === null) {
    return { hit: false, reason: 'no-platform-version', referenceSha256: null, questionedSha256: null };
  }
  if (!resultBucket)
    return { hit: false, reason: 'no-cache-bucket', referenceSha256: null, questionedSha256: null };
  const signal = Context.current().cancellationSignal;
  const [referenceSha256, questionedSha256] = await Promise.all(
    [reference, questioned].map((media) =>
      knownSha256(s3, resultBucket, media, signal).catch((err: unknown) => {
        throw toStorageFailure(err, `${media.role} ${formatMediaRef(media)}`);
      }),
    ),
  );
  if (!referenceSha256 || !questionedSha256) {
    return {
      hit: false,
      reason: 'unknown-content',
      referenceSha256: referenceSha256 ?? null,
      questionedSha256: questionedSha256 ?? null,
    };
  }
  const key = scoreCacheKey({ ...input, referenceSha256, questionedSha256, platformVersion });
  const where = pairEntryKey(key);
  const entry = await readJson<unknown>(s3, resultBucket, where, signal).catch((err: unknown) => {
    if (err instanceof SyntaxError) return undefined;
    throw toStorageFailure(err, `score cache entry ${formatMediaRef({ bucket: resultBucket, key: where })}`);
  });
  // The key fields are checked too: an entry edited by hand must not answer another pair.
  if (isScoreCacheEntry(entry) && keyText(entry) === keyText(key)) {
    return { hit: true, entry, referenceSha256, questionedSha256 };
  }
  return { hit: false, reason: 'not-scored', referenceSha256, questionedSha256 };
}

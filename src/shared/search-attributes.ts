/**
 * The custom search attributes this project sets, so operators can filter workflows in the
 * Temporal UI and with `temporal workflow list --query`. Pure definitions (no I/O): the workflow
 * sandbox, the client, `rdd setup` and the embedded stack all import them.
 *
 * Search attributes are stored unencrypted and skip the payload codec. None of them may hold an
 * S3 key, a file name or anything that may name a person: only ids, enums, hashes and scores.
 * SQL visibility (SQLite, PostgreSQL) allows 10 Keyword and 3 of each other type per namespace;
 * this set uses 5 Keyword and 1 Double.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Where a detection is (Keyword): `waiting` once the platform has its job, then `done` or `failed`.
 * Unset before the submit: a detection still queued for a capacity lease has no phase.
 */
export const DetectionPhase = defineSearchAttributeKey('DetectionPhase', SearchAttributeType.KEYWORD);
/** `deepfake`, `genuine` or `inconclusive`, set when the result is recorded (Keyword). */
export const DetectionVerdict = defineSearchAttributeKey('DetectionVerdict', SearchAttributeType.KEYWORD);
/** The platform's LLR, set when the result is recorded and the score is not null (Double). */
export const DetectionScore = defineSearchAttributeKey('DetectionScore', SearchAttributeType.DOUBLE);
/** The batch a detection or a batch run belongs to, the batch workflow id (Keyword). */
export const BatchId = defineSearchAttributeKey('BatchId', SearchAttributeType.KEYWORD);
/** The platform's task id (a UUID) of the last submission (Keyword). */
export const PlatformJobId = defineSearchAttributeKey('PlatformJobId', SearchAttributeType.KEYWORD);
/** The `FailureType` of a failed detection, e.g. `MediaNotAudio` (Keyword). */
export const DetectionFailure = defineSearchAttributeKey('DetectionFailure', SearchAttributeType.KEYWORD);

/** Every custom search attribute, for registration (`rdd setup`, the dev server's `--search-attribute`). */
export const SEARCH_ATTRIBUTES = [
  DetectionPhase,
  DetectionVerdict,
  DetectionScore,
  BatchId,
  PlatformJobId,
  DetectionFailure,
] as const;

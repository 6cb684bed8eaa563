/**
 * Detections of created S3 objects: the one mapping from an object (bucket, key, version) to its
 * detection, shared by `POST /v1/s3-events` and the sweep so both start the same workflow.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { matchEventRule, objectRefProblems, type EventRule, type ObjectRef } from '../shared/event-rules.ts';
import { startDetection } from './detections.ts';
import { DetectionIdConflictError } from './detection-id-conflict-error.ts';
import { InvalidDetectionInputError } from './invalid-detection-input-error.ts';

/** A created object and the version an event or a listing saw. */
export interface CreatedObject extends ObjectRef {
  /** ETag, quoted (as S3 answers) or not (as AWS events carry it). */
  etag?: string | null | undefined;
  /** Used only when there is no ETag. */
  versionId?: string | null | undefined;
}

/** What became of one created object. */
export type ObjectDetectionOutcome =
  | { status: 'started' | 'existing'; workflowId: string; ruleIndex: number }
  | { status: 'ignored'; reason: string };

/** An ETag without its quotes, so `"abc"` (S3 listings, versitygw) and `abc` (AWS events) agree. */
function bareEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/**
 * The detection id of one version of an object: `s3evt-` and the first 32 hex digits of
 * sha256(`bucket \n key \n version`), where version is the ETag without quotes, else the version
 * id, else empty. The event path and the sweep compute it alike, so a replayed or duplicated event
 * and a later sweep all name one workflow; a new upload under the same key (a new ETag) is a new
 * detection. Give the ETag whenever there is one: the sweep always has it (from its listing), so an
 * id made without it names a different workflow than the sweep's for the same object
 * (`POST /v1/s3-events` reads a missing ETag with a HEAD first). Pure.
 * @example s3EventDetectionId({ bucket: 'media', key: 'calls/a/1.wav', etag: '"5d41…"' }) // 's3evt-…' (38 characters)
 */
export function s3EventDetectionId(object: CreatedObject): string {
  const version = object.etag ? bareEtag(object.etag) : (object.versionId ?? '');
  const digest = createHash('sha256').update(`${object.bucket}\n${object.key}\n${version}`).digest('hex');
  return `s3evt-${digest.slice(0, 32)}`;
}

/** Options of `startObjectDetection`. */
export interface StartObjectDetectionOptions {
  /** The queue the worker polls; default `rdd-detection`. */
  taskQueue?: string;
}

/**
 * Starts the detection a created object calls for under `s3EventDetectionId(object)`, or finds it
 * (idempotent: the same object version again is `existing`, whatever started it first). An object
 * no rule matches, with a name S3 would refuse, or whose rule yields an unusable request is
 * `ignored` with the reason: never an error, since resending the event cannot change it.
 * @throws TemporalUnreachableError when Temporal does not answer (calling again is safe).
 * @example await startObjectDetection(client, rules, { bucket: 'media', key: 'calls/a/1.wav', etag })
 */
export async function startObjectDetection(
  client: Client,
  rules: readonly EventRule[],
  object: CreatedObject,
  options: StartObjectDetectionOptions = {},
): Promise<ObjectDetectionOutcome> {
  const problems = objectRefProblems(object);
  if (problems.length > 0) return { status: 'ignored', reason: problems.join('; ') };
  const match = matchEventRule(rules, object);
  if (!match) return { status: 'ignored', reason: 'no rule matches the key' };
  const workflowId = s3EventDetectionId(object);
  try {
    const started = await startDetection(client, match.input, {
      id: workflowId,
      ...(options.taskQueue !== undefined && { taskQueue: options.taskQueue }),
    });
    return { status: started.existing ? 'existing' : 'started', workflowId, ruleIndex: match.ruleIndex };
  } catch (err) {
    if (err instanceof InvalidDetectionInputError || err instanceof DetectionIdConflictError)
      return { status: 'ignored', reason: err.message };
    throw err;
  }
}

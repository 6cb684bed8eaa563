import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PrepareDetectionInput, PreparedDetection } from '../shared/activity-types.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type MediaRef } from '../shared/media.ts';
import type { ScoreCacheLookup } from '../shared/score-cache.ts';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes.ts';
import type { DetectorClient } from './detector/types.ts';
import { getPlatformInfo } from './get-platform-info.ts';
import { inspectMedia, type MediaLimits } from './inspect-media.ts';
import { lookupScoreCache } from './lookup-score-cache.ts';
import { platformCapacityWorkflowId } from '../client/platform.ts';

/** How long a "not registered" answer about the search attributes is believed (ms). */
const UNREGISTERED_TTL_MS = 60_000;
const registered = new WeakMap<Client, { ok: boolean; atMs: number }>();

/**
 * Activity `prepareDetection` (a local activity of the lean detection path): everything a
 * detection reads before it submits, in one call, so it costs one history marker instead of four
 * activities: both inspections (`inspectMedia`, at once), then the platform's info
 * (`getPlatformInfo`: a failure is a `null` version), then the score cache (`lookupScoreCache`,
 * when `input.cache`: a failed lookup is a miss), plus the platform's capacity workflow id and
 * whether the namespace has this project's search attributes (asked once per worker; a "no" is
 * asked again after a minute).
 *
 * The same object and channel as both reference and questioned is returned at once, before any
 * read, as `{ ok: false, failure }` of type `InvalidInput` ({@link samePairMessage}): a recording
 * compared with itself tells nothing. A permanent inspection failure is returned as `{ ok: false, failure }`, with the type, message
 * and details the workflow used to fail with: when both files fail permanently, the reference's
 * type, both messages (`<first>; and <second>`) and `details[0].failures`. A transient failure
 * (S3 unreachable) is thrown, and the local activity is retried. Idempotent: reads only.
 * @throws ApplicationFailure StorageUnavailable and other retryable failures of the inspection.
 * @example await prepareDetection(deps, { reference, questioned, cache: true }) // { ok: true, reference, questioned, platform, cache, … }
 */
export async function prepareDetection(
  deps: {
    s3: S3Client;
    detector: DetectorClient;
    limits: MediaLimits;
    resultBucket?: string | undefined;
    platformCapacity?: { temporal: Client; platformUrl: string } | undefined;
  },
  input: PrepareDetectionInput,
): Promise<PreparedDetection> {
  const capacityWorkflowId = platformCapacityWorkflowId(
    deps.platformCapacity?.platformUrl ?? deps.detector.baseUrl,
  );
  const searchAttributes = await searchAttributesRegistered(deps.platformCapacity?.temporal);
  const env = { capacityWorkflowId, searchAttributes };
  if (sameRecording(input.reference, input.questioned)) {
    const message = samePairMessage(input.reference);
    return { ...env, ok: false, failure: { type: FailureType.InvalidInput, message } };
  }
  const [reference, questioned] = await Promise.allSettled([
    inspectMedia(deps, { media: input.reference, role: 'reference' }),
    inspectMedia(deps, { media: input.questioned, role: 'questioned' }),
  ]);
  if (reference.status === 'rejected' || questioned.status === 'rejected') {
    const failures = [reference, questioned].flatMap((settled) =>
      settled.status === 'rejected' ? [settled.reason as unknown] : [],
    );
    const permanent = failures.map((err) =>
      err instanceof ApplicationFailure && err.nonRetryable ? err : undefined,
    );
    const [first, second] = permanent;
    if (failures.length === 2 && first && second) {
      return {
        ...env,
        ok: false,
        failure: {
          type: first.type ?? 'Error',
          message: `${first.message}; and ${second.message}`,
          details: [{ failures: [first, second].map(({ type, message }) => ({ type, message })) }],
        },
      };
    }
    const failure = failures[0];
    if (failure instanceof ApplicationFailure && failure.nonRetryable) {
      return {
        ...env,
        ok: false,
        failure: {
          type: failure.type ?? 'Error',
          message: failure.message,
          ...(failure.details && { details: [...failure.details] }),
        },
      };
    }
    throw failure;
  }
  const platform = await getPlatformInfo(deps);
  let cache: ScoreCacheLookup | undefined;
  if (input.cache) {
    try {
      cache = await lookupScoreCache(deps, {
        reference: reference.value,
        questioned: questioned.value,
        config: input.config,
        params: input.params,
        platformVersion: platform.version,
      });
    } catch (err) {
      // The cache must never fail or hold up a detection that the platform can score.
      Context.current().log.warn('score cache lookup failed; submitting', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return {
    ...env,
    ok: true,
    reference: reference.value,
    questioned: questioned.value,
    platform,
    ...(cache && { cache }),
  };
}

/** Whether two refs name the same channel of the same object (a mono file's channel is 0). */
function sameRecording(a: MediaRef, b: MediaRef): boolean {
  return a.bucket === b.bucket && a.key === b.key && (a.channel ?? 0) === (b.channel ?? 0);
}

/**
 * The message of a detection whose reference and questioned are the same object and channel.
 * Checked in this activity rather than the workflow's input check, so histories of workflows
 * started before the check replay unchanged.
 */
function samePairMessage(media: MediaRef): string {
  return (
    `reference and questioned are the same recording ${formatMediaRef(media)} (channel ${media.channel ?? 0}): ` +
    'a recording compared with itself tells nothing; choose a different questioned recording'
  );
}

/** Whether every custom search attribute of this project is registered in the client's namespace. */
async function searchAttributesRegistered(temporal: Client | undefined): Promise<boolean> {
  if (!temporal) return false;
  const known = registered.get(temporal);
  if (known && (known.ok || Date.now() - known.atMs < UNREGISTERED_TTL_MS)) return known.ok;
  let ok = false;
  try {
    const answer = await temporal.connection.operatorService.listSearchAttributes({
      namespace: temporal.options.namespace,
    });
    const names = new Set(Object.keys(answer.customAttributes ?? {}));
    ok = SEARCH_ATTRIBUTES.every((key) => names.has(key.name));
  } catch (err) {
    Context.current().log.warn('could not list the search attributes; not setting them', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
  registered.set(temporal, { ok, atMs: Date.now() });
  return ok;
}

/**
 * Start, read and steer batches (`batchWorkflow`): the one way the CLI, the tests, the benchmarks
 * and other services talk to them. Starts are idempotent like `startDetection`: the batch id is
 * the caller's key or one derived from the request, and starting it again returns the running or
 * completed batch.
 */
import { createHash } from 'node:crypto';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BATCH_WORKFLOW_TYPE,
  MAX_BATCH_ID_BYTES,
  cancelUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  type BatchInput,
  type BatchPrefix,
  type BatchProgress,
  type BatchSummary,
  type BatchWorkflow,
} from '../shared/batch.ts';
import { capacityStateQuery, LeasePriority } from '../shared/platform-capacity.ts';
import { BatchId } from '../shared/search-attributes.ts';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues.ts';
import { batchDetails, batchSummary } from '../shared/ui-text.ts';
import { utf8Length, workflowIdProblems } from '../shared/s3-names.ts';
import { BatchUpdateRejectedError } from './batch-update-rejected-error.ts';
import { canonicalJson, type DetectionFailure } from './detections.ts';
import { DetectionIdConflictError } from './detection-id-conflict-error.ts';
import { InvalidDetectionInputError } from './invalid-detection-input-error.ts';
import { startIdempotently } from './idempotent-start.ts';
import { reachable } from './reachable.ts';
import { searchAttributesRegistered } from './search-attributes-registered.ts';
import { TemporalUnreachableError } from './temporal-unreachable-error.ts';

/** Options of `startBatch`. */
export interface StartBatchOptions {
  /** The batch id (workflow id). Default `batchId(input)`: `batch-` and 32 hex of the request's hash. */
  id?: string;
  /** Default `rdd-detection`; must be the queue the worker polls. Children run on the same queue. */
  taskQueue?: string;
}

/** Where a batch stands, as `getBatch` and `waitForBatch` see it. */
export type BatchView =
  | {
      batchId: string;
      state: 'running';
      progress: BatchProgress;
      /**
       * Pairs of this batch waiting for a platform lease (queued at the capacity workflow, nothing
       * submitted yet). Absent when the capacity workflow is not known or not running.
       */
      waitingForCapacity?: number;
      /**
       * Lease requests (of people, services or other batches) granted before this batch's first
       * waiting pair: its queue position − 1. Present only while `waitingForCapacity > 0`.
       */
      ahead?: number;
    }
  | { batchId: string; state: 'completed'; summary: BatchSummary }
  | { batchId: string; state: 'failed'; failure: DetectionFailure }
  | { batchId: string; state: 'not-found' };

/**
 * The batch id derived from a request: `batch-` and the first 32 hex digits of the sha256 of its
 * canonical JSON. Pure.
 * @example batchId({ manifest: { bucket: 'm', key: 'pairs.csv' } }) // 'batch-…'
 */
export function batchId(input: BatchInput): string {
  return `batch-${hashOf(input).slice(0, 32)}`;
}

/**
 * A batch request that cannot run; so far, an unusable `id` (`batchIdProblems`). Thrown by
 * `startBatch` before it calls Temporal: nothing was started. A kind of
 * `InvalidDetectionInputError`, so one `instanceof` check covers both starts.
 * @example if (err instanceof InvalidBatchInputError) console.error(err.problems.join('\n'))
 */
export class InvalidBatchInputError extends InvalidDetectionInputError {
  override name = 'InvalidBatchInputError';
  constructor(problems: string[]) {
    super(problems);
    this.message = `invalid batch request: ${problems.join('; ')}`;
  }
}

/**
 * Everything wrong with a caller's batch id (`[]` when usable): empty, over `MAX_BATCH_ID_BYTES`
 * (225) bytes of UTF-8 (each pair's child id is the batch id, `-` and 24 hex, and becomes a result
 * key segment), a `/`, or control characters. Each problem names the id. Pure.
 * @example batchIdProblems('a/b') // ['id "a/b" is not usable: "/" is not allowed (…)']
 */
export function batchIdProblems(id: string): string[] {
  const bytes = utf8Length(id);
  if (bytes > MAX_BATCH_ID_BYTES)
    return [
      `id ${JSON.stringify(id.slice(0, 40))}… is ${bytes} bytes, over the ${MAX_BATCH_ID_BYTES} a batch id may have (its pairs' ids add 25)`,
    ];
  return workflowIdProblems(id, 'id');
}

function hashOf(input: BatchInput): string {
  return createHash('sha256')
    .update(canonicalJson(canonicalBatchRequest(input)))
    .digest('hex');
}

/**
 * The request as its id and hash see it: window bounds (`modifiedAfter`, `modifiedBefore`) that
 * parse as times re-spelled in UTC (`2026-01-01T01:00:00+01:00` and `2026-01-01T00:00:00.000Z`
 * are `2026-01-01T00:00:00Z`; milliseconds kept only when not zero), and an empty `suffix` left
 * out (it filters nothing, like no suffix). The workflow still gets the input as given. Pure.
 * @example canonicalBatchRequest({ reference, prefix: { bucket: 'b', prefix: 'in/', suffix: '' } }).prefix // { bucket: 'b', prefix: 'in/' }
 */
export function canonicalBatchRequest(input: BatchInput): BatchInput {
  if (!('prefix' in input) || input.prefix === undefined) return input;
  const { suffix, modifiedAfter, modifiedBefore, ...rest } = input.prefix;
  const prefix: BatchPrefix = {
    ...rest,
    ...(suffix !== undefined && suffix !== '' && { suffix }),
    ...(modifiedAfter !== undefined && { modifiedAfter: utcInstant(modifiedAfter) }),
    ...(modifiedBefore !== undefined && { modifiedBefore: utcInstant(modifiedBefore) }),
  };
  return { ...input, prefix };
}

/** An ISO time in UTC, without `.000`; the text itself when it is no time. */
function utcInstant(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * Starts a batch, or finds the one already started under its id (`existing: true`): the same
 * request sent twice is one batch. A batch that failed is started afresh; its pairs already scored
 * come back as duplicates resolved from their results. Where the namespace has this project's
 * search attributes, the batch starts with `BatchId` = its id, and sets it on every detection it
 * starts (filter `BatchId="<id>"` in the Temporal UI). The batch id is the workflow id, which
 * Temporal stores in the clear anyway, so the attribute exposes nothing new.
 * @throws InvalidBatchInputError when `options.id` is not usable (`batchIdProblems`): nothing started.
 * @throws DetectionIdConflictError when `options.id` names a batch of a different request.
 * @throws TemporalUnreachableError when Temporal does not answer (calling again is safe).
 * @example const { batchId } = await startBatch(client, { manifest: { bucket: 'media', key: 'pairs.csv' } })
 */
export async function startBatch(
  client: Client,
  input: BatchInput,
  options: StartBatchOptions = {},
): Promise<{ batchId: string; existing: boolean }> {
  if (options.id !== undefined) {
    const problems = batchIdProblems(options.id);
    if (problems.length > 0) throw new InvalidBatchInputError(problems);
  }
  const hash = hashOf(input);
  const id = options.id ?? `batch-${hash.slice(0, 32)}`;
  return await reachable(client, async () => {
    const { existing } = await startIdempotently<BatchWorkflow>(client, {
      workflowType: BATCH_WORKFLOW_TYPE,
      workflowId: id,
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [input],
      requestHash: hash,
      conflict: (workflowId) => new DetectionIdConflictError(workflowId),
      staticSummary: batchSummary(id, input),
      staticDetails: batchDetails(id, input),
      // The batch sets BatchId on its children only when it carries one itself (it is registered).
      ...((await searchAttributesRegistered(client)) && {
        typedSearchAttributes: [{ key: BatchId, value: id }],
      }),
    });
    return { batchId: id, existing };
  });
}

/**
 * Where a batch stands, read once: `running` with its progress, `completed` with its summary,
 * `failed`, or `not-found` (also for `''` and for an id that holds another kind of workflow, such
 * as a detection). Follows continue-as-new (reads the latest run). Reads only.
 * A running batch also says how many of its pairs wait for platform capacity and how many lease
 * requests are ahead of the first of them (`waitingForCapacity`, `ahead`): the batch names its
 * platform's capacity workflow in its progress (`capacityWorkflowId`, learnt from the worker that
 * reads its manifest), whose `capacityState` lists the waiting requests by fairness key = batch id.
 * @throws TemporalUnreachableError when Temporal does not answer.
 */
export async function getBatch(client: Client, id: string): Promise<BatchView> {
  // Temporal refuses an empty id with a raw INVALID_ARGUMENT: no batch has it.
  if (id === '') return { batchId: id, state: 'not-found' };
  return await reachable(client, async () => {
    const handle = client.workflow.getHandle<BatchWorkflow>(id);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { batchId: id, state: 'not-found' };
      throw err;
    }
    // A detection (or any other workflow) under this id is no batch: its result is no BatchSummary.
    if (description.type !== BATCH_WORKFLOW_TYPE) return { batchId: id, state: 'not-found' };
    if (description.status.name === 'RUNNING') {
      const progress = await handle.query(progressQuery);
      return { batchId: id, state: 'running', progress, ...(await capacityOf(client, id, progress)) };
    }
    try {
      return { batchId: id, state: 'completed', summary: await handle.result() };
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        return { batchId: id, state: 'failed', failure: failureOf(err) };
      throw err;
    }
  });
}

/** This batch's place in the platform's lease queue; `{}` when it cannot be known. */
async function capacityOf(
  client: Client,
  id: string,
  progress: BatchProgress,
): Promise<{ waitingForCapacity?: number; ahead?: number }> {
  if (progress.capacityWorkflowId === undefined) return {};
  let state;
  try {
    state = await client.workflow.getHandle(progress.capacityWorkflowId).query(capacityStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return {};
    throw err;
  }
  // `waiting` is in grant order; a batch's requests carry its id as fairness key.
  const mine = state.waiting.filter((w) => w.priority === LeasePriority.Batch && w.fairnessKey === id);
  if (mine.length === 0) return { waitingForCapacity: 0 };
  return { waitingForCapacity: mine.length, ahead: mine[0]!.position - 1 };
}

async function steer(
  client: Client,
  id: string,
  update: typeof pauseUpdate,
  name: string,
): Promise<BatchProgress> {
  return await reachable(client, async () => {
    try {
      return await client.workflow.getHandle(id).executeUpdate(update);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = err.cause instanceof Error ? err.cause.message : err.message;
        throw new BatchUpdateRejectedError(id, name, reason);
      }
      if (err instanceof WorkflowNotFoundError)
        throw new BatchUpdateRejectedError(id, name, 'no running batch');
      throw err;
    }
  });
}

/**
 * Pauses a batch: no new pair starts, those in flight finish. Returns the progress after it.
 * @throws BatchUpdateRejectedError when it is already paused, cancelled, finishing or not running.
 */
export function pauseBatch(client: Client, id: string): Promise<BatchProgress> {
  return steer(client, id, pauseUpdate, 'pause');
}

/**
 * Resumes a paused batch.
 * @throws BatchUpdateRejectedError when it is not paused or not running.
 */
export function resumeBatch(client: Client, id: string): Promise<BatchProgress> {
  return steer(client, id, resumeUpdate, 'resume');
}

/**
 * Cancels a batch and returns once every child in flight is closed (the batch then writes its
 * reports and completes with status `cancelled`; `waitForBatch` gives the summary).
 * @throws BatchUpdateRejectedError when it is already cancelled, finishing or not running.
 */
export function cancelBatch(client: Client, id: string): Promise<BatchProgress> {
  return steer(client, id, cancelUpdate, 'cancel');
}

/** Options of `waitForBatch`. */
export interface WaitForBatchOptions {
  /**
   * Called with the progress every `intervalMs` while the batch runs; the second argument is the
   * whole running view (with `waitingForCapacity` and `ahead`).
   */
  onProgress?: (progress: BatchProgress, view: Extract<BatchView, { state: 'running' }>) => void;
  /** Default 1000. */
  intervalMs?: number;
  /** Stop waiting after this long and return the `running` view. Default: as long as it runs. */
  timeoutMs?: number;
  /** Give up after Temporal was unreachable this long in a row (ms). Default 600 000. */
  outageBudgetMs?: number;
}

/**
 * Waits for a batch to end, polling its progress, and returns its `completed` or `failed` view
 * (`not-found` when unknown). Rides out a Temporal outage up to `outageBudgetMs`.
 * @throws TemporalUnreachableError when Temporal stayed unreachable for the whole budget.
 */
export async function waitForBatch(
  client: Client,
  id: string,
  options: WaitForBatchOptions = {},
): Promise<BatchView> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const budget = options.outageBudgetMs ?? 10 * 60_000;
  const interval = options.intervalMs ?? 1000;
  let outageSince: number | undefined;
  for (;;) {
    let view: BatchView;
    try {
      view = await getBatch(client, id);
      outageSince = undefined;
    } catch (err) {
      if (!(err instanceof TemporalUnreachableError)) throw err;
      outageSince ??= Date.now();
      if (Date.now() - outageSince > budget) throw err;
      await sleep(Math.min(interval * 2, 5000));
      continue;
    }
    if (view.state !== 'running') return view;
    options.onProgress?.(view.progress, view);
    if (Date.now() >= deadline) return view;
    await sleep(Math.max(0, Math.min(interval, deadline - Date.now())));
  }
}

function failureOf(err: WorkflowFailedError): DetectionFailure {
  let current: unknown = err.cause;
  while (current instanceof Error && 'cause' in current && current.cause && !('type' in current))
    current = current.cause;
  const type = (current as { type?: unknown } | undefined)?.type;
  return {
    type: typeof type === 'string' ? type : ((current as Error | undefined)?.name ?? 'Error'),
    message: current instanceof Error ? current.message : err.message,
  };
}

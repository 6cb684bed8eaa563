/**
 * Start and read detections: the one way the CLI, the demo, the tests, the benchmarks and other
 * services talk to `detectWorkflow`.
 *
 * Starts are idempotent. A detection's workflow id is the caller's business key (`id`) or a key
 * derived from the request; starting the same id again returns the running or completed detection
 * instead of starting a second one. A detection that ended without a result (failed, cancelled,
 * terminated, timed out) is started afresh, so a request that failed for a reason since fixed (a
 * missing file uploaded, the platform back) can simply be sent again.
 */
import { createHash } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  TemporalFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalJson } from '../shared/canonical-json.ts';
import {
  DEFAULT_POLLING,
  DEFAULT_RESUBMIT,
  type DetectInput,
  type DetectionResult,
  type DetectionStatus,
} from '../shared/detection.ts';
import { detectionDetails, detectionSummary } from '../shared/ui-text.ts';
import { detectInputProblems, temporalIdProblems, workflowIdProblems } from '../shared/validate-input.ts';
import {
  DEFAULT_TASK_QUEUE,
  DETECT_WORKFLOW_TYPE,
  statusQuery,
  type DetectWorkflow,
} from '../shared/workflows.ts';
import { isTemporalUnreachable } from './connection.ts';
import { DetectionIdConflictError } from './detection-id-conflict-error.ts';
import { startIdempotently } from './idempotent-start.ts';
import { InvalidDetectionInputError } from './invalid-detection-input-error.ts';
import { leasesAhead } from './platform.ts';
import { TemporalUnreachableError } from './temporal-unreachable-error.ts';

/** Options of `startDetection`. */
export interface StartDetectionOptions {
  /**
   * The business key, used as the workflow id. Default: `detectionId(input)`, a key derived from
   * the request, so the same request maps to the same detection.
   */
  id?: string;
  /** Default `DEFAULT_TASK_QUEUE` (`rdd-detection`); must be the queue the worker polls. */
  taskQueue?: string;
}

/** A detection that `startDetection` started or found. */
export interface StartedDetection {
  workflowId: string;
  /** True when the detection was already running or completed: nothing new was started. */
  existing: boolean;
}

/** The failure of a detection that ended without a result. */
export interface DetectionFailure {
  /**
   * A `FailureType` (`MediaNotFound`, `ResultNotRecorded`, …) for the workflow's own failures;
   * `Cancelled`, `Terminated` or `TimedOut` when someone or something ended the run.
   */
  type: string;
  message: string;
  /**
   * The failure's details, when it has any: for `ResultNotRecorded`, `details[0]` is the whole
   * `DetectionResult`, score included.
   */
  details?: unknown[];
}

/** Where one detection stands, as `getDetection` and `waitForDetection` see it. */
export type DetectionView =
  | {
      workflowId: string;
      state: 'running';
      status: DetectionStatus;
      /** In phase `waiting-for-capacity`: how many lease requests are granted before this one. */
      ahead?: number;
    }
  | { workflowId: string; state: 'completed'; result: DetectionResult }
  | { workflowId: string; state: 'failed'; failure: DetectionFailure }
  | { workflowId: string; state: 'not-found' };

export { canonicalJson };

/** Members of `value` that differ from `defaults`, or undefined when none does. */
function unlessDefault<T extends object>(value: Partial<T> | undefined, defaults: T): Partial<T> | undefined {
  if (value === undefined) return undefined;
  const kept = Object.entries(value).filter(
    ([key, member]) => member !== undefined && member !== defaults[key as keyof T],
  );
  return kept.length === 0 ? undefined : (Object.fromEntries(kept) as Partial<T>);
}

/** `value` unless it is an object without members. */
function unlessEmpty<T extends object>(value: T | undefined): T | undefined {
  return value !== undefined && Object.values(value).every((member) => member === undefined)
    ? undefined
    : value;
}

/**
 * The request with every member equal to its default left out, so that spelling a default out
 * (`threshold: 0`, `config: {}`, `params: {}`, `cache: true`, `result: {}`, a polling or resubmit
 * value equal to DEFAULT_POLLING / DEFAULT_RESUBMIT) names the same request as leaving it out. What
 * `detectionId` and the request hash are computed from; the workflow still gets the input as given
 * (it behaves the same). A request without defaults spelled out comes back equal. Pure.
 * @example canonicalRequest({ reference, questioned, threshold: 0, config: {} }) // { reference, questioned }
 */
export function canonicalRequest(input: DetectInput): DetectInput {
  const { threshold, config, params, cache, result, polling, resubmit, ...rest } = input;
  const canonical: DetectInput = { ...rest };
  if (threshold !== undefined && threshold !== 0) canonical.threshold = threshold;
  const configKept = unlessEmpty(config);
  if (configKept) canonical.config = configKept;
  const paramsKept = unlessEmpty(params);
  if (paramsKept) canonical.params = paramsKept;
  if (cache === false) canonical.cache = false;
  const resultKept = unlessEmpty(result);
  if (resultKept) canonical.result = resultKept;
  const pollingKept = unlessDefault(polling, DEFAULT_POLLING);
  if (pollingKept) canonical.polling = pollingKept;
  const resubmitKept = unlessDefault(resubmit, DEFAULT_RESUBMIT);
  if (resubmitKept) canonical.resubmit = resubmitKept;
  return canonical;
}

/** sha256 (hex) of the canonical JSON of a detection request, defaults left out. */
function requestHash(input: DetectInput): string {
  return createHash('sha256')
    .update(canonicalJson(canonicalRequest(input)))
    .digest('hex');
}

/**
 * The workflow id derived from a request: `detect-` and the first 32 hex digits of the sha256 of
 * its canonical JSON (`canonicalRequest`: defaults spelled out count as left out). The same request
 * (same media, channels, config, threshold, result location, policies) always gives the same id,
 * whatever the key order and whether `threshold: 0` or `config: {}` is written. Pure.
 * @example detectionId({ reference: { bucket: 'm', key: 'r.wav' }, questioned: { bucket: 'm', key: 'q.wav' } })
 *   // 'detect-3f1c…' (39 characters)
 */
export function detectionId(input: DetectInput): string {
  return `detect-${requestHash(input).slice(0, 32)}`;
}

/**
 * Starts a detection, or finds the one already started for this id. Idempotent: the workflow id
 * is `options.id` or `detectionId(input)`; a running or completed detection with that id is
 * returned (`existing: true`) and nothing new starts, so the same request sent twice yields one
 * workflow and one result. A detection with that id that ended without a result is started again.
 * Does not wait for the detection: see `waitForDetection`. The Temporal UI shows the start's static
 * summary `detection of pair <tag> · threshold <t>` and details (`detectionSummary`,
 * `detectionDetails`): a tag of the pair, never its keys.
 * @throws InvalidDetectionInputError when the request or `options.id` is unusable (a bucket or key
 *   S3 would refuse, a negative channel, a NaN threshold, …): thrown before any call to Temporal,
 *   so nothing is started.
 * @throws DetectionIdConflictError when `options.id` names a running or completed detection of a
 *   different request (nothing is started).
 * @throws TemporalUnreachableError when Temporal does not answer; the start may or may not have
 *   reached it, and calling again with the same id is safe.
 * @example const { workflowId, existing } = await startDetection(client, { reference, questioned })
 */
export async function startDetection(
  client: Client,
  input: DetectInput,
  options: StartDetectionOptions = {},
): Promise<StartedDetection> {
  const problems = [
    ...detectInputProblems(input),
    // The id becomes the default result key; with a key of its own, only Temporal's rules apply.
    ...(options.id === undefined
      ? []
      : input?.result?.key === undefined
        ? workflowIdProblems(options.id, 'id')
        : temporalIdProblems(options.id, 'id')),
  ];
  if (problems.length > 0) throw new InvalidDetectionInputError(problems);
  const hash = requestHash(input);
  const workflowId = options.id ?? `detect-${hash.slice(0, 32)}`;
  return await reachable(client, async () => {
    const { existing } = await startIdempotently<DetectWorkflow>(client, {
      workflowType: DETECT_WORKFLOW_TYPE,
      workflowId,
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [input],
      requestHash: hash,
      conflict: (id) => new DetectionIdConflictError(id),
      staticSummary: detectionSummary(input),
      staticDetails: detectionDetails(input),
    });
    return { workflowId, existing };
  });
}

/**
 * Where a detection stands, read once: its live status (the `status` query) while running, its
 * result once completed, its failure once it ended without one, or `not-found` (also for `''` and
 * for an id that holds another kind of workflow, such as a batch). Idempotent, no side effects.
 * Reads the latest run of `workflowId`. A detection waiting for a platform lease
 * also says how many requests are `ahead` of it (asked of the platform's capacity workflow).
 * @throws TemporalUnreachableError when Temporal does not answer.
 * @example const view = await getDetection(client, 'detect-1'); if (view.state === 'running') view.status.phase
 */
export async function getDetection(client: Client, workflowId: string): Promise<DetectionView> {
  // Temporal refuses an empty id with a raw INVALID_ARGUMENT: no detection has it.
  if (workflowId === '') return { workflowId, state: 'not-found' };
  return await reachable(client, async () => {
    const handle = client.workflow.getHandle<DetectWorkflow>(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { workflowId, state: 'not-found' };
      throw err;
    }
    // A batch (or any other workflow) under this id is no detection: its result is no DetectionResult.
    if (description.type !== DETECT_WORKFLOW_TYPE) return { workflowId, state: 'not-found' };
    if (description.status.name === 'RUNNING') {
      const status = await handle.query(statusQuery);
      // The lean path waits for its lease inside the submit activity, where the workflow cannot see
      // it (phase `submitting`, lease not granted): the capacity workflow knows whether it waits.
      const asking =
        (status.phase === 'waiting-for-capacity' || status.phase === 'submitting') &&
        status.lease &&
        !status.lease.granted;
      const ahead = asking
        ? await leasesAhead(client, status.lease!.capacityWorkflowId, status.lease!.leaseId)
        : undefined;
      if (ahead !== undefined) status.phase = 'waiting-for-capacity';
      return { workflowId, state: 'running', status, ...(ahead !== undefined && { ahead }) };
    }
    return await outcome(client, workflowId);
  });
}

/** Options of `waitForDetection`. */
export interface WaitForDetectionOptions {
  /**
   * Stop waiting after this long (ms) and return where the detection stands (a `running` view,
   * unless it ended at that moment). Default: wait as long as the detection runs.
   */
  timeoutMs?: number;
  /**
   * Without `timeoutMs`: give up after Temporal has been unreachable this long in a row (ms).
   * Default 600 000 (10 minutes).
   */
  outageBudgetMs?: number;
  /** Called once per retry while Temporal is unreachable, with the error and the wait before the retry (ms). */
  onOutage?: (err: unknown, retryInMs: number) => void;
  /** First retry delay during an outage (ms), doubling up to `maxDelayMs`. Defaults 1000 and 15 000. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Waits for a detection to end and returns its `completed` or `failed` view (`not-found` when there
 * is no such detection). A transport error (server stopped, restarting, network) is not an
 * outcome: the wait reconnects with back-off and goes on, until `timeoutMs`, or without one until
 * the outage has lasted `outageBudgetMs`. Reading is idempotent, so a retry cannot change what is
 * returned.
 * @throws TemporalUnreachableError when Temporal stayed unreachable (to the timeout, or for the
 *   whole outage budget). The detection itself may still be running.
 * @example const view = await waitForDetection(client, workflowId, { timeoutMs: 60_000 })
 */
export async function waitForDetection(
  client: Client,
  workflowId: string,
  options: WaitForDetectionOptions = {},
): Promise<DetectionView> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const outageBudgetMs = options.outageBudgetMs ?? 10 * 60_000;
  const initialDelayMs = options.initialDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 15_000;
  let delayMs = initialDelayMs;
  let outageStarted: number | undefined;
  let lastError: unknown;
  const unreachable = () =>
    new TemporalUnreachableError(
      clientAddress(client),
      lastError,
      Date.now() - (outageStarted ?? Date.now()),
    );
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      if (outageStarted !== undefined) throw unreachable();
      return await getDetection(client, workflowId);
    }
    const controller = new AbortController();
    const timer = Number.isFinite(remaining) ? setTimeout(() => controller.abort(), remaining) : undefined;
    try {
      if (outageStarted !== undefined) {
        // A cheap call first: once it answers, the outage is over (the result call long-polls).
        await client.withAbortSignal(controller.signal, () =>
          client.workflow.getHandle(workflowId).describe(),
        );
        outageStarted = undefined;
        delayMs = initialDelayMs;
      }
      const result = await client.withAbortSignal(controller.signal, () =>
        client.workflow.result<DetectWorkflow>(workflowId),
      );
      return { workflowId, state: 'completed', result };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { workflowId, state: 'failed', failure: failureOf(err) };
      if (err instanceof WorkflowNotFoundError) return { workflowId, state: 'not-found' };
      if (controller.signal.aborted) continue; // the deadline: decided at the top of the loop
      if (!isTemporalUnreachable(err)) throw err;
      lastError = err;
      outageStarted ??= Date.now();
      const budgetLeft = Number.isFinite(deadline) ? Infinity : outageStarted + outageBudgetMs - Date.now();
      if (budgetLeft <= 0) throw unreachable();
      const wait = Math.max(0, Math.min(delayMs, budgetLeft, deadline - Date.now()));
      options.onOutage?.(err, wait);
      if (wait > 0) await sleep(wait);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The outcome of a closed detection: its result or its failure. */
async function outcome(client: Client, workflowId: string): Promise<DetectionView> {
  try {
    const result = await client.workflow.result<DetectWorkflow>(workflowId);
    return { workflowId, state: 'completed', result };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { workflowId, state: 'failed', failure: failureOf(err) };
    throw err;
  }
}

/**
 * The failure to show for a failed run: the workflow's own ApplicationFailure (which names the bad
 * input; the workflow lifts permanent activity failures to it), or how the run was ended.
 */
function failureOf(err: WorkflowFailedError): DetectionFailure {
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return { type: 'Cancelled', message: cause.message };
  if (cause instanceof TerminatedFailure) return { type: 'Terminated', message: cause.message };
  if (cause instanceof TimeoutFailure) return { type: 'TimedOut', message: cause.message };
  let current: unknown = cause;
  while (current instanceof TemporalFailure && !(current instanceof ApplicationFailure) && current.cause) {
    current = current.cause;
  }
  if (current instanceof ApplicationFailure) {
    return {
      type: current.type ?? 'Error',
      message: current.message,
      ...(current.details?.length ? { details: [...current.details] } : {}),
    };
  }
  return { type: 'Error', message: current instanceof Error ? current.message : err.message };
}

/** Runs `fn`, turning a transport error into TemporalUnreachableError. */
async function reachable<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isTemporalUnreachable(err)) throw new TemporalUnreachableError(clientAddress(client), err);
    throw err;
  }
}

/** `host:port` of the client's connection, for messages. */
function clientAddress(client: Client): string {
  const { connection } = client;
  const address = 'options' in connection ? (connection.options as { address?: unknown }).address : undefined;
  return typeof address === 'string' ? address : 'the configured address';
}

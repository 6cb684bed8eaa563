/**
 * The idempotent start shared by `startDetection` and `startBatch`: one workflow id per request,
 * and a second start of the same request finds the first one instead of starting another.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type Workflow } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';

/** Memo keys an idempotently started workflow carries. Wire contract: renaming breaks the check on runs in flight. */
export const StartMemo = {
  /** sha256 of the canonical JSON of the input: tells the same request from another one. */
  RequestHash: 'rddRequestHash',
  /** A token unique to one start call: tells "I started it" from "it was already there". */
  StartToken: 'rddStartToken',
} as const;

/** What `startIdempotently` needs: the workflow, its id and input, and the request's hash. */
export interface IdempotentStartRequest<W extends Workflow> {
  /** The workflow type name, e.g. `DETECT_WORKFLOW_TYPE`. */
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: Parameters<W>;
  /** sha256 hex of the request, kept in the memo under `StartMemo.RequestHash`. */
  requestHash: string;
  /** The caller's error for an id taken by a different request (e.g. `DetectionIdConflictError`). */
  conflict: (workflowId: string) => Error;
  /** One line the Temporal UI shows for the workflow (a payload: through the codec, if any). */
  staticSummary?: string;
  /** Markdown the Temporal UI shows on the workflow's page. */
  staticDetails?: string;
  /** Search attributes set at start (only ones registered in the namespace, or the start fails). */
  typedSearchAttributes?: SearchAttributePair[];
}

/**
 * Starts `workflowId`, or finds the workflow already started under it. A running one is joined
 * (`USE_EXISTING`), a completed one is kept, one that ended without completing is started afresh
 * (`ALLOW_DUPLICATE_FAILED_ONLY`). The start response does not say whether it started a run or
 * joined one, so the memo does: a fresh start token means this call started it (`existing:
 * false`); otherwise the memo's request hash must equal `requestHash`. Continue-as-new keeps the
 * memo, so the first run's memo answers for the whole chain. A workflow started without a hash
 * (by hand, or before hashes) cannot be checked and counts as the same request.
 * Transport errors are passed through as they are (callers wrap them, see `reachable`).
 * @throws the error `conflict(workflowId)` returns, when the id belongs to a different request
 *   (nothing is started).
 * @example const { existing } = await startIdempotently(client, { workflowType, workflowId, taskQueue, args: [input], requestHash, conflict: (id) => new DetectionIdConflictError(id) })
 */
export async function startIdempotently<W extends Workflow>(
  client: Client,
  request: IdempotentStartRequest<W>,
): Promise<{ existing: boolean }> {
  const { workflowId, requestHash } = request;
  const token = randomUUID();
  let runId: string | undefined;
  try {
    // The caller's `W` typed `args`; the start itself needs no more than the type name.
    const handle = await client.workflow.start(request.workflowType, {
      taskQueue: request.taskQueue,
      workflowId,
      args: request.args as unknown[],
      // A running one is returned, not duplicated…
      workflowIdConflictPolicy: 'USE_EXISTING',
      // …a completed one is kept (WorkflowExecutionAlreadyStartedError), a failed one re-run.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      memo: { [StartMemo.RequestHash]: requestHash, [StartMemo.StartToken]: token },
      ...(request.staticSummary !== undefined && { staticSummary: request.staticSummary }),
      ...(request.staticDetails !== undefined && { staticDetails: request.staticDetails }),
      ...(request.typedSearchAttributes?.length && { typedSearchAttributes: request.typedSearchAttributes }),
    });
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const { memo } = await client.workflow.getHandle(workflowId, runId).describe();
  if (memo?.[StartMemo.StartToken] === token) return { existing: false };
  const theirs = memo?.[StartMemo.RequestHash];
  if (typeof theirs === 'string' && theirs !== requestHash) throw request.conflict(workflowId);
  return { existing: true };
}

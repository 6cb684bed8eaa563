/**
 * How routes call Temporal: bounded by a deadline (503 rather than a hung request), and only on
 * an id that holds a workflow of the expected type, so `GET /v1/detections/<a batch id>` is a 404,
 * not a batch summary read as a result.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ProblemError } from './problem-error.ts';

/**
 * Resolves when the latest run of `id` is a workflow of `type`.
 * @throws ProblemError 404 (`no <noun> <id>`) when there is none, or it is of another type;
 *   a transport error as is (the error handler answers 503).
 * @example await requireWorkflow(client, id, DETECT_WORKFLOW_TYPE, 'detection')
 */
export async function requireWorkflow(client: Client, id: string, type: string, noun: string): Promise<void> {
  let actual: string;
  try {
    actual = (await client.workflow.getHandle(id).describe()).type;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ProblemError(404, `no ${noun} ${id}`);
    throw err;
  }
  if (actual !== type) throw new ProblemError(404, `no ${noun} ${id}`);
}

/** How long one request may wait for Temporal (ms) before it answers 503. */
export const TEMPORAL_DEADLINE_MS = 5_000;

/**
 * Runs `fn` with every Temporal call in it bounded by `ms`, so a request answers 503 (deadline
 * exceeded counts as unreachable) instead of hanging while Temporal is down or a query waits for a
 * worker that is gone.
 * @example await bounded(client, () => getDetection(client, id))
 */
export async function bounded<T>(
  client: Client,
  fn: () => Promise<T>,
  ms = TEMPORAL_DEADLINE_MS,
): Promise<T> {
  return await client.withDeadline(Date.now() + ms, fn);
}

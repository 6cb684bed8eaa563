/**
 * Read and change the platform's capacity: the `platformCapacityWorkflow` of a platform URL, which
 * grants every detection its lease. Used by `rdd platform`, the tests and other services.
 */
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  capacityProblems,
  capacityStateQuery,
  capacityWorkflowIdFromHash,
  setCapacityUpdate,
  type CapacityState,
} from '../shared/platform-capacity.ts';

export type { CapacityState } from '../shared/platform-capacity.ts';

/**
 * The capacity workflow id of a platform base URL (exactly as the worker's DETECTOR_URL, after its
 * normalisation: no trailing slash): `platform-capacity-` + 16 hex digits of sha256(url). Pure.
 * @example platformCapacityWorkflowId('http://127.0.0.1:8600') // 'platform-capacity-…'
 */
export function platformCapacityWorkflowId(platformUrl: string): string {
  return capacityWorkflowIdFromHash(createHash('sha256').update(platformUrl).digest('hex'));
}

/** Thrown when the platform's capacity workflow does not run yet (no detection has asked for a lease). */
export class PlatformCapacityNotStartedError extends Error {
  override readonly name = 'PlatformCapacityNotStartedError';
  readonly workflowId: string;
  constructor(platformUrl: string, workflowId: string, options?: ErrorOptions) {
    super(
      `no capacity workflow runs for the platform ${platformUrl} (${workflowId}): ` +
        'it starts with the first detection a worker submits there',
      options,
    );
    this.workflowId = workflowId;
  }
}

/**
 * The platform's capacity state: capacity, allowance, held leases, the waiting queue in grant
 * order, busy-until. Reads only.
 * @throws PlatformCapacityNotStartedError when no capacity workflow runs for `platformUrl`.
 * @example (await getPlatformCapacity(client, 'http://127.0.0.1:8600')).leases.length
 */
export async function getPlatformCapacity(client: Client, platformUrl: string): Promise<CapacityState> {
  const workflowId = platformCapacityWorkflowId(platformUrl);
  try {
    return await client.workflow.getHandle(workflowId).query(capacityStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new PlatformCapacityNotStartedError(platformUrl, workflowId, { cause: err });
    throw err;
  }
}

/**
 * Sets the platform's capacity at run time (update `setCapacity`); returns the new state. Takes
 * effect at once for grants; leases held above a lowered capacity run out as their jobs end.
 * Idempotent (setting the same value twice changes nothing).
 * @throws RangeError when `capacity` is not a positive integer ≤ 10 000 (checked before sending,
 *   and again by the workflow's validator).
 * @throws PlatformCapacityNotStartedError when no capacity workflow runs for `platformUrl`.
 * @example await setPlatformCapacity(client, 'http://127.0.0.1:8600', 6)
 */
export async function setPlatformCapacity(
  client: Client,
  platformUrl: string,
  capacity: number,
): Promise<CapacityState> {
  const problems = capacityProblems(capacity);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const workflowId = platformCapacityWorkflowId(platformUrl);
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(setCapacityUpdate, { args: [capacity] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new PlatformCapacityNotStartedError(platformUrl, workflowId, { cause: err });
    if (err instanceof WorkflowUpdateFailedError)
      throw new RangeError(err.cause?.message ?? err.message, { cause: err });
    throw err;
  }
}

/**
 * How many waiting lease requests are ahead of `leaseId` on the capacity workflow
 * `capacityWorkflowId` (0 = granted next), or undefined when it is not waiting there (granted,
 * withdrawn, or the capacity workflow cannot be asked). Reads only.
 */
export async function leasesAhead(
  client: Client,
  capacityWorkflowId: string,
  leaseId: string,
): Promise<number | undefined> {
  try {
    const state = await client.workflow.getHandle(capacityWorkflowId).query(capacityStateQuery);
    const position = state.waiting.find((wait) => wait.leaseId === leaseId)?.position;
    return position === undefined ? undefined : position - 1;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

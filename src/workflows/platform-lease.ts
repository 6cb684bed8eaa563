/**
 * A detection's side of the platform's capacity: ask the capacity workflow for a lease, wait for
 * the grant with a durable `condition`, give it back. Deterministic (workflow code).
 */
import {
  CancellationScope,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { DetectInput, DetectionStatus } from '../shared/detection.ts';
import { leaseGrantedSignal, LeasePriority } from '../shared/platform-capacity.ts';
import { TEMPORAL_SIGNAL } from './activity-options.ts';
import { signalLeaseRelease } from './job-outcome.ts';

const { requestPlatformLease } = proxyActivities<Activities>(TEMPORAL_SIGNAL);

/** Acquires and releases one platform lease at a time for the running workflow. */
export interface PlatformLease {
  /**
   * Asks for a lease and waits (phase `waiting-for-capacity`) until it is granted. Throws the
   * cancellation when the workflow (or the deadline scope) is cancelled while waiting; the request
   * is then withdrawn by `release()`.
   */
  acquire(): Promise<void>;
  /** Gives back the lease held or waited for, if any. Never throws, never cancelled; idempotent. */
  release(): Promise<void>;
}

/**
 * The lease keeper of a detection: interactive without `input.batchId`, else a batch request with
 * fairness key `batchId`. Registers the `leaseGranted` signal handler, so call it once, early.
 */
export function platformLease(input: DetectInput, status: DetectionStatus): PlatformLease {
  const granted = new Set<string>();
  setHandler(leaseGrantedSignal, ({ leaseId }) => {
    granted.add(leaseId);
  });
  let requests = 0;
  let current: { capacityWorkflowId: string; leaseId: string } | undefined;
  return {
    async acquire() {
      const { workflowId, runId } = workflowInfo();
      requests += 1;
      const leaseId = `${runId}/${requests}`;
      status.phase = 'waiting-for-capacity';
      const batch = input.batchId !== undefined;
      // Not cancellable: once the request may have gone out, we must know where to withdraw it.
      const { capacityWorkflowId } = await CancellationScope.nonCancellable(() =>
        requestPlatformLease({
          leaseId,
          holderWorkflowId: workflowId,
          holderRunId: runId,
          priority: batch ? LeasePriority.Batch : LeasePriority.Interactive,
          ...(batch && { fairnessKey: input.batchId }),
        }),
      );
      current = { capacityWorkflowId, leaseId };
      status.lease = { ...current, granted: false };
      await condition(() => granted.has(leaseId));
      status.lease = { ...current, granted: true };
    },
    async release() {
      const lease = current;
      if (lease === undefined) return;
      current = undefined;
      delete status.lease;
      await signalLeaseRelease(lease);
    },
  };
}

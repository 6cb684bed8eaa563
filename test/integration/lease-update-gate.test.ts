/**
 * Many submit activities asking the capacity workflow for a lease at once (the bench's 400
 * detections at once never finished: past Temporal's 10 updates in flight per workflow, the refused
 * update-with-start calls cost the capacity workflow its workflow task and no update completed).
 * One worker process must keep at most LEASE_UPDATES_IN_FLIGHT_PER_PROCESS `acquireLease` updates
 * in flight, and every request must still be granted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LEASE_UPDATES_IN_FLIGHT_PER_PROCESS } from '../../src/activities/lease-update-gate.ts';
import { acquirePlatformLease } from '../../src/activities/platform-capacity.ts';
import { LeasePriority } from '../../src/shared/platform-capacity.ts';
import { startCapacityHarness, stopCapacityHarness } from '../helpers/capacity.ts';
import type { Harness } from '../helpers/detection-harness.ts';

let harness: Harness | undefined;

afterEach(async () => {
  if (!harness) return;
  await stopCapacityHarness(harness);
  harness = undefined;
});

describe('acquireLease updates from one process', () => {
  it('keeps at most a few in flight to the capacity workflow, and grants every request', async () => {
    const { harness: h } = await startCapacityHarness({
      emulatorCapacity: 1000,
      detectorCapacity: 1000,
      processingMs: 0,
    });
    harness = h;
    // Count the update calls in flight at once, as the server would see them from this process.
    const workflow = h.client.workflow;
    const original = workflow.executeUpdateWithStart.bind(workflow);
    let inFlight = 0;
    let most = 0;
    workflow.executeUpdateWithStart = (async (...args: Parameters<typeof original>) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        return await original(...args);
      } finally {
        inFlight -= 1;
      }
    }) as typeof workflow.executeUpdateWithStart;

    const deps = {
      temporal: h.client,
      platformUrl: h.emulator.url,
      initialCapacity: 1000,
      taskQueue: h.taskQueue,
    };
    const requests = 60;
    const answers = await Promise.all(
      Array.from({ length: requests }, (_, n) =>
        acquirePlatformLease(
          deps,
          {
            leaseId: `gate-${n}`,
            holderWorkflowId: `gate-holder-${n}`,
            holderRunId: 'none',
            priority: LeasePriority.Interactive,
          },
          { signal: new AbortController().signal, onWaiting: () => undefined },
        ),
      ),
    );

    expect(answers.filter((a) => a.granted).map((a) => a.leaseId)).toHaveLength(requests);
    expect(new Set(answers.map((a) => a.leaseId)).size).toBe(requests);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(LEASE_UPDATES_IN_FLIGHT_PER_PROCESS);
  }, 120_000);
});

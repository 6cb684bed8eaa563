/**
 * A per-process bound on the `acquireLease` updates in flight to one capacity workflow.
 *
 * Temporal admits at most 10 updates in flight per workflow execution (`history.maxInFlightUpdates`,
 * the default on every server). Past it, each further update (update-with-start or a plain update)
 * is refused with RESOURCE_EXHAUSTED, and on the servers measured (1.32) the refused calls also
 * cost the capacity workflow its speculative workflow task: the worker's completion finds no task
 * ("Workflow task not found"), the admitted updates are aborted (UNAVAILABLE "workflow update was
 * aborted") and retried by the client, and with a few hundred submit activities asking at once no
 * update completes any more (400 at once: none granted in 5 minutes; 8 at a time per process: all
 * 400 in about 7 s). So one worker process keeps at most LEASE_UPDATES_IN_FLIGHT_PER_PROCESS
 * updates in flight per capacity workflow and queues the rest here, in memory, in arrival order.
 */

/**
 * Most `acquireLease` updates one worker process has in flight to one capacity workflow: two
 * workers stay within Temporal's 10 per workflow; more workers may go past it and are then slowed
 * by the server's refusals, not stopped.
 */
export const LEASE_UPDATES_IN_FLIGHT_PER_PROCESS = 4;

interface Gate {
  inFlight: number;
  queue: (() => void)[];
}

const gates = new Map<string, Gate>();

/**
 * Runs `work` (one update call to the workflow `workflowId`) once fewer than `limit` calls to that
 * workflow run in this process; the slot is held until `work` settles, even when the caller stops
 * waiting for it (the server still counts the update). Waiters are let in first come, first served.
 * @throws `signal`'s reason when it aborts while waiting for a slot (`work` is then never called);
 *   else whatever `work` throws.
 */
export async function withLeaseUpdateSlot<T>(
  workflowId: string,
  signal: AbortSignal,
  work: () => Promise<T>,
  limit = LEASE_UPDATES_IN_FLIGHT_PER_PROCESS,
): Promise<T> {
  const gate = gates.get(workflowId) ?? { inFlight: 0, queue: [] };
  gates.set(workflowId, gate);
  while (gate.inFlight >= limit) await waitForSlot(gate, signal);
  signal.throwIfAborted();
  gate.inFlight += 1;
  const leave = () => {
    gate.inFlight -= 1;
    const next = gate.queue.shift();
    if (next) next();
    else if (gate.inFlight === 0) gates.delete(workflowId);
  };
  let running: Promise<T>;
  try {
    running = work();
  } catch (err) {
    leave();
    throw err;
  }
  running.then(leave, leave);
  return await running;
}

/** How many update calls to `workflowId` this process has in flight now (for tests). */
export function leaseUpdatesInFlight(workflowId: string): number {
  return gates.get(workflowId)?.inFlight ?? 0;
}

function waitForSlot(gate: Gate, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const wake = () => {
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      const at = gate.queue.indexOf(wake);
      if (at >= 0) gate.queue.splice(at, 1);
      reject(signal.reason as Error);
    };
    gate.queue.push(wake);
    signal.addEventListener('abort', abort, { once: true });
  });
}

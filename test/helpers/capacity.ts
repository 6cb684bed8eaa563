/**
 * What the platform-capacity tests share: a detection harness whose emulator logs every request,
 * its teardown (the capacity workflow is per platform URL and outlives the worker), a poller that
 * waits for the capacity workflow to exist, and the order in which it granted leases.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { status } from '@grpc/grpc-js';
import { RDD_ENDPOINT } from '../../dev/emulator/server.ts';
import type { EmulatorOptions } from '../../dev/emulator/index.ts';
import { platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { startHarness, type Harness } from './detection-harness.ts';

/** One request the emulator answered, with the time (ms since the epoch) the test saw it. */
export interface EmulatorRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  correlationId?: string;
}

/** Options of `startCapacityHarness`. */
export interface CapacityHarnessOptions {
  /** Jobs the emulator runs at once (beyond them it answers 429). */
  emulatorCapacity: number;
  /** The worker's DETECTOR_CAPACITY: the leases the capacity workflow hands out. */
  detectorCapacity: number;
  /** How long each emulated job takes (ms). */
  processingMs: number;
  fixtures?: EmulatorOptions['fixtures'];
  /** Further worker variables, e.g. `{ DETECTOR_QUEUE_MS: '1500' }` (the harness sets it to 0). */
  workerEnv?: Record<string, string>;
}

/**
 * A detection harness (own emulator, worker and task queue) whose emulator logs every request
 * into `requests`; `submits()` is the accepted submits (POST to the detection endpoint, 202), in
 * the order the platform got them. Close it with `stopCapacityHarness`.
 * @example const { harness, submits } = await startCapacityHarness({ emulatorCapacity: 4, detectorCapacity: 2, processingMs: 200 })
 */
export async function startCapacityHarness(options: CapacityHarnessOptions): Promise<{
  harness: Harness;
  requests: EmulatorRequest[];
  submits: () => EmulatorRequest[];
}> {
  const requests: EmulatorRequest[] = [];
  const harness = await startHarness(
    {
      capacity: options.emulatorCapacity,
      processing: { fixedMs: options.processingMs },
      ...(options.fixtures && { fixtures: options.fixtures }),
      log: (_line, entry) => {
        if (entry) requests.push({ at: Date.now(), ...entry });
      },
    },
    { workerEnv: { DETECTOR_CAPACITY: String(options.detectorCapacity), ...options.workerEnv } },
  );
  const submits = () =>
    requests.filter((r) => r.method === 'POST' && r.path === RDD_ENDPOINT && r.status === 202);
  return { harness, requests, submits };
}

/**
 * Terminates the harness's capacity workflow (it would otherwise wait for leases forever; gone
 * already is fine), then closes the harness.
 */
export async function stopCapacityHarness(harness: Harness): Promise<void> {
  await harness.client.workflow
    .getHandle(platformCapacityWorkflowId(harness.emulator.url))
    .terminate('test over')
    .catch(() => undefined);
  await harness.close();
}

/**
 * Whether `err` is a query the server gave up on before a worker answered it (gRPC
 * DEADLINE_EXCEEDED): on a loaded machine the worker's workflow-task slots can all be busy with
 * the detections under test, so the poll asks again instead of failing.
 */
function queryTimedOut(err: Error): boolean {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return err.name === 'ServiceError' && cause?.code === status.DEADLINE_EXCEEDED;
}

/**
 * Polls `read` every `intervalMs` until `done` holds and returns that value. The capacity workflow
 * starts with the first lease request, so `PlatformCapacityNotStartedError` counts as not yet, and
 * so does a query that timed out before a busy worker answered it.
 * @throws Error `condition not reached in time` after `timeoutMs`; any other error of `read`.
 */
export async function untilCapacity<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await read();
      if (done(value)) return value;
    } catch (err) {
      if (!(err instanceof Error && (err.name === 'PlatformCapacityNotStartedError' || queryTimedOut(err))))
        throw err;
    }
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The holders the capacity workflow granted a lease to, in order (its `leaseGranted` signals to
 * them), over every run of it (it continues as new every ~1000 events): walks back from the
 * latest run through `continuedExecutionRunId`, so it reads histories, not the visibility store.
 */
export async function grantOrder(h: Harness): Promise<string[]> {
  const id = platformCapacityWorkflowId(h.emulator.url);
  const runs: string[][] = [];
  let runId: string | undefined;
  do {
    const history = await h.client.workflow.getHandle(id, runId).fetchHistory();
    const events = history.events ?? [];
    runs.unshift(grantedHolders(events));
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return runs.flat();
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * The holders one run granted leases to, in order: its `leaseGranted` signals (detections from
 * before `lean-history`), its `acquireLease` updates answered `granted: true` (workers from before
 * the lease broker; these updates complete in grant order), and the grants its `awaitLeases`
 * updates carried to the lease brokers (ordered by grant number; a grant delivered again is counted
 * once), holders found from the `requestLeases` signals.
 */
function grantedHolders(events: HistoryEvent[]): string[] {
  const json = (data: Uint8Array | null | undefined): unknown =>
    data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
  const holders = new Map<string, string>();
  const brokerHolders = new Map<string, string>();
  const brokerGranted = new Set<string>();
  const order: string[] = [];
  for (const e of events) {
    const signalled =
      e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId;
    if (signalled) order.push(signalled);
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'requestLeases') {
      const { requests } = json(signal.input?.payloads?.[0]?.data) as {
        requests: { leaseId: string; holderWorkflowId: string }[];
      };
      for (const r of requests) brokerHolders.set(r.leaseId, r.holderWorkflowId);
    }
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted?.meta?.updateId) {
      const request = json(accepted.input?.args?.payloads?.[0]?.data) as { holderWorkflowId?: string };
      if (request.holderWorkflowId) holders.set(accepted.meta.updateId, request.holderWorkflowId);
    }
    const completed = e.workflowExecutionUpdateCompletedEventAttributes;
    const holder = completed?.meta?.updateId ? holders.get(completed.meta.updateId) : undefined;
    const answer = json(completed?.outcome?.success?.payloads?.[0]?.data) as
      { granted?: boolean | { leaseId: string; grantNo: number }[] } | undefined;
    if (holder && answer?.granted === true) order.push(holder);
    if (Array.isArray(answer?.granted)) {
      for (const { leaseId } of [...answer.granted].sort((a, b) => a.grantNo - b.grantNo)) {
        const brokerHolder = brokerHolders.get(leaseId);
        if (brokerHolder && !brokerGranted.has(leaseId)) {
          brokerGranted.add(leaseId);
          order.push(brokerHolder);
        }
      }
    }
  }
  return order;
}

/**
 * The contract of the platform's capacity: one long-lived `platformCapacityWorkflow` per platform
 * URL grants leases to detections, so every batch, single detection and worker process shares the
 * appliance's parallel slots. Names here are wire contracts between running workflows. Importable
 * from workflows: no Node, no I/O.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { observedSeconds, type CompletionModel, type CompletionObservation } from './completion-estimate.ts';

/** The workflow type of the capacity workflow (the exported function in src/workflows). */
export const PLATFORM_CAPACITY_WORKFLOW_TYPE = 'platformCapacityWorkflow';

/** Capacity used when the worker's config names none (DETECTOR_CAPACITY). */
export const DEFAULT_PLATFORM_CAPACITY = 8;

/** The largest capacity `setCapacity` accepts: a guard against typos, not a platform limit. */
export const MAX_PLATFORM_CAPACITY = 10_000;

/**
 * Who goes first: `interactive` (a single detection started by a person or a service: no batchId)
 * before `batch` (a pair of a batch). Batches share among themselves round-robin by fairness key.
 */
export const LeasePriority = { Interactive: 'interactive', Batch: 'batch' } as const;
export type LeasePriority = (typeof LeasePriority)[keyof typeof LeasePriority];

/**
 * A holder's request for one lease (signal `requestLease`, sent by the `requestPlatformLease`
 * activity with signalWithStart). `leaseId` is unique per request (`<runId>/<n>`), so a repeated
 * request (an activity retry) is recognised and ignored.
 */
export interface LeaseRequest {
  leaseId: string;
  holderWorkflowId: string;
  holderRunId: string;
  priority: LeasePriority;
  /** Batches are served round-robin by this key (the batch id); ignored for interactive requests. */
  fairnessKey?: string;
}

/** Input of the `requestPlatformLease` activity: the request plus nothing else (the worker knows the platform). */
export type RequestLeaseInput = LeaseRequest;

/** Result of `requestPlatformLease`: where the lease will come from, and where to release it. */
export interface RequestedLease {
  capacityWorkflowId: string;
}

/** Sent by the capacity workflow to a holder (signal `leaseGranted`): the lease `leaseId` is the holder's. */
export interface LeaseGrant {
  leaseId: string;
  /** Workflow time of the grant (epoch ms). */
  grantedAtMs: number;
}

/** Sent by a holder (signal `releaseLease`): it no longer holds or wants `leaseId`. Idempotent. */
export interface LeaseRelease {
  leaseId: string;
  /**
   * How long the job of this lease took on the platform (sent by `awaitDetectionJob` when it saw
   * the job terminal): the capacity workflow learns its completion-time estimate from it. Counted
   * once per lease id (a repeated release adds nothing).
   */
  observation?: CompletionObservation;
}

/**
 * Argument of the `acquireLease` update (sent by the submit activity with update-with-start): the
 * request, as with `requestLease`. Idempotent per `leaseId`: asking again for a lease already held
 * answers `granted: true` again, so an activity retried after a worker crash gets its lease back.
 */
export type AcquireLease = LeaseRequest;

/** Answer of the `acquireLease` update. */
export interface LeaseAnswer {
  leaseId: string;
  /** True: the lease is the holder's (submit now). False: ask again (still queued, or the run is closing). */
  granted: boolean;
  /** Requests granted before this one (0 = next); 0 once granted. */
  ahead: number;
  /** The platform's current completion-time estimate (see src/shared/completion-estimate.ts). */
  estimate: CompletionModel;
}

/** Sent by the submit activity on 429/507 (signal `platformBusy`): grant nothing before `untilMs` (epoch ms). */
export interface PlatformBusy {
  untilMs: number;
}

/** One held lease, as the `capacityState` query shows it. */
export interface HeldLease extends LeaseRequest {
  /** When it was granted (ISO). */
  since: string;
}

/** One waiting request, as the `capacityState` query shows it. */
export interface WaitingLease extends LeaseRequest {
  /** When it was requested (ISO). */
  requestedAt: string;
  /** 1 = granted next; the order follows priority and the batches' round-robin. */
  position: number;
}

/** Answer of `capacityState` (and of the `setCapacity` update). */
export interface CapacityState {
  platformUrl: string;
  /** Parallel slots of the platform. */
  capacity: number;
  /** Extra leases granted above `capacity` (a queue allowance, see `allowanceFor`): now. */
  allowance: number;
  leases: HeldLease[];
  waiting: WaitingLease[];
  /** No lease is granted before this time (ISO), after a 429/507; null when not busy. */
  busyUntil: string | null;
  /** Leases granted since the first run (carried over continue-as-new). */
  granted: number;
  /** Leases taken back from holders that closed without releasing them. */
  reclaimed: number;
  /** The completion-time estimate learnt from finished jobs (absent in runs from before it existed). */
  estimate?: CompletionModel;
}

/**
 * State carried over continue-as-new; internal to the capacity workflow, but part of its input so
 * it is a wire contract (fields only ever added, optional).
 */
export interface CarriedCapacityState {
  /**
   * `viaUpdate`: asked for with `acquireLease`; `brokerId`: queued by a broker's `requestLeases`
   * (`undelivered` until the broker acknowledged the grant; `grantNo`: the grant's number); neither:
   * by the `requestLease` signal.
   */
  leases: (LeaseRequest & {
    sinceMs: number;
    viaUpdate?: boolean;
    brokerId?: string;
    undelivered?: boolean;
    grantNo?: number;
    deliveryNo?: number;
  })[];
  /** `reported`: a broker's request whose position an `awaitLeases` answer has carried. */
  waiting: (LeaseRequest & {
    requestedAtMs: number;
    seq: number;
    viaUpdate?: boolean;
    brokerId?: string;
    reported?: boolean;
  })[];
  busyUntilMs: number;
  lastBatchKey: string | null;
  granted: number;
  reclaimed: number;
  seq: number;
  /** The newest completion observations (at most COMPLETION_WINDOW); absent before the estimate existed. */
  observations?: CompletionObservation[];
}

/** Input of `platformCapacityWorkflow`. */
export interface PlatformCapacityInput {
  /** The platform's base URL (for people reading the state: the id is derived from it). */
  platformUrl: string;
  /** Initial parallel slots (positive integer); change it at run time with `setCapacity`. */
  capacity: number;
  /**
   * How often (ms) held and waiting leases are checked for holders that closed without releasing
   * (default 5 minutes). Also checked when requests wait while every lease has been held this long.
   */
  reclaimIntervalMs?: number;
  /** Continue-as-new after this many history events (default 1000, or when the server suggests it). */
  continueAsNewAfterEvents?: number;
  /**
   * Work (ms) to keep queued on the platform beyond the capacity, at the learnt typical job time
   * (`allowanceFor`; the worker's DETECTOR_QUEUE_MS). Absent or 0: the fixed allowance ⌈capacity / 4⌉
   * (capacity workflows started before this setting existed keep it).
   */
  queueMs?: number;
  /** Carried state (continue-as-new only). */
  state?: CarriedCapacityState;
}

/** The `platformCapacityWorkflow` signature, for typed starts without importing workflow code. */
export type PlatformCapacityWorkflow = (input: PlatformCapacityInput) => Promise<void>;

/** A holder asks for a lease. */
export const requestLeaseSignal = defineSignal<[LeaseRequest]>('requestLease');
/** A holder gives a lease back (or stops waiting for one). */
export const releaseLeaseSignal = defineSignal<[LeaseRelease]>('releaseLease');
/** The platform answered 429/507: back off the whole platform until `untilMs`. */
export const platformBusySignal = defineSignal<[PlatformBusy]>('platformBusy');
/** Sent to a holder when its lease is granted. */
export const leaseGrantedSignal = defineSignal<[LeaseGrant]>('leaseGranted');
/**
 * Sets the capacity at run time. Validated: a positive integer ≤ MAX_PLATFORM_CAPACITY, else the
 * update is rejected (nothing is written to history). Held leases above a lowered capacity run out
 * as their jobs end. Returns the new state.
 */
export const setCapacityUpdate = defineUpdate<CapacityState, [number]>('setCapacity');
/**
 * Asks for a lease. The first call queues the request; a request near the front of the queue
 * (fewer than LEASE_LONG_POLL_AHEAD ahead) waits (long-polls) up to `LEASE_POLL_MS` for the grant.
 * Answers `granted: false` with the queue position when the grant did not come (ask again with the
 * same request), and at once while the capacity workflow is about to continue as new. A request
 * asked again while still far back is rejected by the validator with type LEASE_QUEUED_FAILURE and
 * `details[0].ahead`, leaving no history event. Idempotent per `leaseId`. Also answers the current
 * completion-time estimate.
 */
export const acquireLeaseUpdate = defineUpdate<LeaseAnswer, [AcquireLease]>('acquireLease');
/** How long one `acquireLease` update waits for the grant before answering `granted: false` (ms). */
export const LEASE_POLL_MS = 20_000;
/**
 * Only requests with fewer than this many ahead of them long-poll (`acquireLease` waits for the
 * grant); the others are answered at once. Temporal allows few updates in flight per workflow
 * (10 by default), so the whole queue must not wait inside updates.
 */
export const LEASE_LONG_POLL_AHEAD = 4;
/**
 * The failure type of an `acquireLease` update rejected by its validator because the request is
 * queued and not yet near the front (details[0]: `{ ahead }`); a rejected update leaves no event in
 * the capacity workflow's history. Ask again later.
 */
export const LEASE_QUEUED_FAILURE = 'LeaseQueued';
/**
 * Signal `requestLeases`: a worker process's lease broker (src/activities/lease-broker.ts) queues
 * the lease requests of its submit activities, many per signal. Idempotent per `leaseId`: a request
 * already queued moves to this broker (the activity was retried on another worker), and one already
 * held is delivered to this broker again (its earlier answer was lost with its worker).
 */
export interface BrokerRequests {
  /** The broker: unique per worker process and platform (e.g. `host:pid:8 hex`). */
  brokerId: string;
  requests: LeaseRequest[];
}

/** Argument of the `awaitLeases` update (see `awaitLeasesUpdate`). */
export interface AwaitLeases {
  brokerId: string;
  /**
   * Deliveries of grants this broker has received (not answered again). A delivery number names one
   * delivery: a lease asked for again after its grant was received is delivered anew, and a late
   * acknowledgement of the earlier delivery leaves the new one standing.
   */
  ack: { leaseId: string; deliveryNo: number }[];
  /** False: answer at once (an acknowledgement only); true: long-poll for a grant. */
  wait: boolean;
  /** Lease ids the broker still waits for, to learn which ones the capacity workflow does not know. */
  check?: string[];
}

/** Answer of the `awaitLeases` update. */
export interface LeasesAnswer {
  /** Leases granted to this broker's requests and not yet acknowledged, in grant order. */
  granted: { leaseId: string; grantNo: number; deliveryNo: number }[];
  /** This broker's waiting requests in grant order (at most BROKER_POSITIONS of them) and how many are ahead of each. */
  waiting: { leaseId: string; ahead: number }[];
  /** All of this broker's waiting requests. */
  waitingTotal: number;
  /** Requests ahead of this broker's first waiting request not listed in `waiting` (absent when all are listed). */
  behind?: number;
  /** Of `check`, the ids neither waiting for this broker nor held undelivered to it (queue them again). */
  unknown: string[];
  /** The platform's current completion-time estimate. */
  estimate: CompletionModel;
}

/** Queues lease requests of one worker process's broker (see `BrokerRequests`). */
export const requestLeasesSignal = defineSignal<[BrokerRequests]>('requestLeases');
/**
 * A broker's one long poll for the grants of its requests: acknowledges `ack`, then answers at once
 * when a grant is unacknowledged, when the broker has no waiting request, when one of its requests
 * was never answered a position, while the capacity workflow is about to continue as new, or when
 * `wait` is false; else waits up to LEASE_POLL_MS for a grant to any of this broker's requests.
 * Validated (a malformed argument is rejected, leaving no history event). One update in flight per
 * broker keeps Temporal's limit of in-flight updates per workflow out of reach, whatever the
 * number of waiting detections.
 */
export const awaitLeasesUpdate = defineUpdate<LeasesAnswer, [AwaitLeases]>('awaitLeases');
/** The most waiting requests an `awaitLeases` answer lists positions for (the rest: `behind`). */
export const BROKER_POSITIONS = 64;

/** Capacity, allowance, held leases, the waiting queue in grant order, busy-until. */
export const capacityStateQuery = defineQuery<CapacityState>('capacityState');

/**
 * The typical time (s) of the platform's jobs: the median observed time (`observedSeconds`) of the
 * observations, once there are at least `MIN_TYPICAL_SAMPLES`; else undefined (nothing learnt yet).
 * Pure.
 * @example typicalJobSeconds(fiveObservationsOfAboutOneSecond) // ≈ 1
 */
export function typicalJobSeconds(observations: readonly CompletionObservation[]): number | undefined {
  if (observations.length < MIN_TYPICAL_SAMPLES) return undefined;
  const sorted = observations.map(observedSeconds).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Observations needed before `typicalJobSeconds` answers. */
export const MIN_TYPICAL_SAMPLES = 5;

/** Work kept queued on the platform beyond its capacity when the worker names none (DETECTOR_QUEUE_MS). */
export const DEFAULT_PLATFORM_QUEUE_MS = 1_500;

/**
 * The queue allowance: leases granted beyond the capacity, so the next jobs are uploaded and
 * waiting on the platform (state `pending`) when a slot frees. At least max(1, ⌈capacity / 4⌉);
 * with `queueMs` > 0 and a typical job time learnt (`jobSeconds`), enough jobs to cover `queueMs` of
 * the platform's work, ⌈capacity × queueMs / 1000 / jobSeconds⌉, never more than the capacity.
 * Why: a slot that frees waits for the next job's release → grant → upload → submit (about 0.5–1 s
 * here, BENCHMARKS.md); with 1 s jobs a quarter of the capacity does not cover that (80 % utilisation
 * measured), with 10 s jobs it does. Pure.
 * @example allowanceFor(4) // 1; allowanceFor(8) // 2; allowanceFor(8, { queueMs: 1500, jobSeconds: 1 }) // 8
 */
export function allowanceFor(capacity: number, load: { queueMs?: number; jobSeconds?: number } = {}): number {
  const fixed = Math.max(1, Math.ceil(capacity / 4));
  const { queueMs = 0, jobSeconds } = load;
  if (queueMs <= 0 || jobSeconds === undefined || !(jobSeconds > 0)) return fixed;
  return Math.max(fixed, Math.min(capacity, Math.ceil((capacity * queueMs) / 1000 / jobSeconds)));
}

/**
 * The capacity workflow id from the hex sha256 of the platform's base URL (workflows have no
 * crypto: the hash is computed by the caller, see `platformCapacityWorkflowId` in src/client).
 * @example capacityWorkflowIdFromHash('3f1c…') // 'platform-capacity-3f1c…' (16 hex digits)
 */
export function capacityWorkflowIdFromHash(sha256Hex: string): string {
  return `platform-capacity-${sha256Hex.slice(0, 16)}`;
}

/**
 * Problems of a capacity value (empty when fine): a positive integer up to MAX_PLATFORM_CAPACITY.
 * @example capacityProblems(0) // ['capacity must be a positive integer, got 0']
 */
export function capacityProblems(capacity: unknown): string[] {
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    return [`capacity must be a positive integer, got ${String(capacity)}`];
  }
  if (capacity > MAX_PLATFORM_CAPACITY)
    return [`capacity must be at most ${MAX_PLATFORM_CAPACITY}, got ${capacity}`];
  return [];
}

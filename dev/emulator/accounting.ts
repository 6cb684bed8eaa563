/**
 * Benchmark accounting of the emulator: what the platform saw, per job and in total, so a benchmark
 * can compute utilisation (busy slot-seconds over available slot-seconds) and completion latency
 * without trusting the client under test. Read over the dev-only admin route (see server.ts); not
 * part of the platform's API. The pure helpers (`busySeconds`, `utilisation`, `percentile`) have no
 * I/O and are unit-tested.
 */

/** Request kinds the emulator counts. */
export const RequestKind = {
  Submit: 'submit',
  Poll: 'poll',
  Info: 'info',
  Status: 'status',
  Other: 'other',
} as const;
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind];

/**
 * One job as the emulator saw it. Times are Unix epoch milliseconds with sub-millisecond precision
 * (`performance.timeOrigin + performance.now()`), on this machine's clock.
 */
export interface JobRecord {
  jobId: string;
  /** Answered 202. */
  acceptedAt: number;
  /** Took a processing slot (left `pending`). */
  startedAt?: number;
  /** Marked terminal (`done`, `failed`, `rejected`) or lost. */
  finishedAt?: number;
  /** The terminal state, once finished. */
  state?: string;
  /** Audio seconds of both files, as probed. */
  audioSeconds: number;
  /** Processing time the model gave it, ms. */
  processingMs?: number;
  /** GET status requests for this job (answered 200), in any state. */
  polls: number;
  /** GET status requests after it was finished. */
  pollsAfterFinish: number;
}

/** Everything the admin route returns. */
export interface AccountingSnapshot {
  /** When the counters were last reset (epoch ms). */
  since: number;
  /** When this snapshot was taken (epoch ms). */
  now: number;
  /** The current capacity (slots). */
  capacity: number;
  /** Requests per kind since the reset, whatever their answer. */
  requests: Record<RequestKind, number>;
  /** Most jobs unfinished (pending + running) at once since the reset. */
  maxConcurrentJobs: number;
  jobs: JobRecord[];
}

/** Epoch milliseconds with sub-millisecond precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Collects the counters. One per scheduler; `reset()` starts a new measurement window.
 * @example const ledger = new Ledger(); ledger.accepted('id', 12); ledger.started('id'); ledger.finished('id', 'done');
 */
export class Ledger {
  private jobs = new Map<string, JobRecord>();
  private requests = emptyRequests();
  private since = epochMs();
  private unfinished = 0;
  private maxUnfinished = 0;

  /** Forgets all jobs and counters; jobs still running are no longer tracked. */
  reset(): void {
    this.jobs = new Map();
    this.requests = emptyRequests();
    this.since = epochMs();
    this.unfinished = 0;
    this.maxUnfinished = 0;
  }

  request(kind: RequestKind): void {
    this.requests[kind] += 1;
  }

  accepted(jobId: string, audioSeconds: number): void {
    this.jobs.set(jobId, { jobId, acceptedAt: epochMs(), audioSeconds, polls: 0, pollsAfterFinish: 0 });
    this.unfinished += 1;
    this.maxUnfinished = Math.max(this.maxUnfinished, this.unfinished);
  }

  started(jobId: string, processingMs: number): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.startedAt = epochMs();
    job.processingMs = processingMs;
  }

  finished(jobId: string, state: string): void {
    const job = this.jobs.get(jobId);
    if (!job || job.finishedAt !== undefined) return;
    job.finishedAt = epochMs();
    job.state = state;
    this.unfinished -= 1;
  }

  polled(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.polls += 1;
    if (job.finishedAt !== undefined) job.pollsAfterFinish += 1;
  }

  snapshot(capacity: number): AccountingSnapshot {
    return {
      since: this.since,
      now: epochMs(),
      capacity,
      requests: { ...this.requests },
      maxConcurrentJobs: this.maxUnfinished,
      jobs: [...this.jobs.values()].map((job) => ({ ...job })),
    };
  }
}

function emptyRequests(): Record<RequestKind, number> {
  return { submit: 0, poll: 0, info: 0, status: 0, other: 0 };
}

/** A half-open time interval `[start, end)` in any one unit. */
export interface Interval {
  start: number;
  end: number;
}

/**
 * Total length of the parts of `intervals` inside `window`, overlaps counted once per interval (a
 * slot-time sum, not a union): the busy slot-time of jobs that each held one slot. Pure.
 * @example busySeconds([{ start: 0, end: 2 }, { start: 1, end: 3 }], { start: 0, end: 2 }) // 3
 */
export function busySeconds(intervals: readonly Interval[], window: Interval): number {
  let total = 0;
  for (const { start, end } of intervals) {
    const from = Math.max(start, window.start);
    const to = Math.min(end, window.end);
    if (to > from) total += to - from;
  }
  return total;
}

/**
 * Platform utilisation over `window`: busy slot-time / (capacity × window length), 0…1 when no more
 * than `capacity` intervals overlap. Same unit for intervals and window. Pure.
 * @throws RangeError when the window is empty or capacity is not positive.
 * @example utilisation([{ start: 0, end: 10 }], 2, { start: 0, end: 10 }) // 0.5
 */
export function utilisation(intervals: readonly Interval[], capacity: number, window: Interval): number {
  const length = window.end - window.start;
  if (!(length > 0)) throw new RangeError(`utilisation needs a non-empty window, got ${length}`);
  if (!(capacity > 0)) throw new RangeError(`utilisation needs a positive capacity, got ${capacity}`);
  return busySeconds(intervals, window) / (capacity * length);
}

/**
 * Nearest-rank percentile (the smallest value with at least `p` of the values at or below it).
 * Sorts a copy; NaN for no values. Pure.
 * @throws RangeError for `p` outside 0…1.
 * @example percentile([5, 1, 3, 2, 4], 0.5) // 3
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile p must be within 0…1, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

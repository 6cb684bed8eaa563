/**
 * Injected faults: one-shot HTTP answers ("answer the next N submits with 429"), seeded rates of
 * faulty answers and faulty tasks, and connection faults (resets mid-upload and mid-answer, stalls,
 * slow uploads). The server asks this class what to do with each request; it keeps no sockets.
 */
import { ApiError, errorTypeForStatus } from './api-error.ts';
import type { TaskPlan } from './fixtures.ts';
import type { EmulatorFaults, FaultTarget, Fault } from './options.ts';

const MESSAGES: Record<number, string> = {
  429: 'Too many requests (emulated rate limit).',
  500: 'Internal server error (emulated).',
  502: 'Bad gateway (emulated).',
  503: 'Service unavailable (emulated).',
  507: 'The temporary input storage is full (emulated).',
};
const SERVER_ERRORS = [500, 502, 503] as const;
const DEFAULT_PENDING_LONG_MS = 30_000;
const FAILED_TASK_MESSAGE =
  'Internal error while processing the task (emulated fault rate); an identical retry may succeed.';

/**
 * Seeded uniform numbers in [0, 1): mulberry32 (Tommy Ettinger's 32-bit generator), enough for test
 * tooling and repeatable across runs with the same seed.
 * @example const random = mulberry32(1); random() // 0.6270739…
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts of faults injected since start or the last `set` (which resets them), by kind (for chaos reports). */
export type FaultCounts = Record<string, number>;

/** Holds the remaining one-shot faults and the rates; each request of a kind consumes one. */
export class FaultInjector {
  private faults: EmulatorFaults;
  private random: () => number;
  /** Task id → epoch ms until which polls show it `pending`. */
  private pendingUntil = new Map<string, number>();
  private counts: FaultCounts = {};
  /** Epoch ms the faults were set at: the origin of the `windows`. */
  private setAt: number;
  private readonly now: () => number;

  /** `now` is the clock (epoch ms) of the windows and held tasks' origin; tests may pass their own. */
  constructor(faults: EmulatorFaults = {}, now: () => number = Date.now) {
    this.now = now;
    this.faults = structuredClone(faults);
    this.random = mulberry32(faults.rates?.seed ?? 1);
    this.setAt = now();
  }

  /**
   * Replaces all faults, reseeds the generator, restarts the windows' clock and resets the counts of
   * injected faults; tasks already held `pending` stay held.
   */
  set(faults: EmulatorFaults): void {
    this.faults = structuredClone(faults);
    this.random = mulberry32(faults.rates?.seed ?? 1);
    this.setAt = this.now();
    this.counts = {};
  }

  /** The faults in force now (one-shots with what remains of their `times`). */
  current(): EmulatorFaults {
    return structuredClone(this.faults);
  }

  /** Faults injected so far, by kind, e.g. `{ "submit:503": 4, "task:vanish": 1 }`. */
  injected(): FaultCounts {
    return { ...this.counts };
  }

  /** The error to answer this request with (one-shot first, then the rates), if any; consumes it. */
  take(kind: 'submitStatus' | 'pollStatus'): ApiError | undefined {
    const fault: Fault<number> | undefined = this.faults[kind];
    if (fault && fault.times > 0) {
      fault.times--;
      return this.error(kind === 'submitStatus' ? 'submit' : 'poll', fault.status, fault.retryAfterSeconds);
    }
    const target: FaultTarget = kind === 'submitStatus' ? 'submit' : 'poll';
    const elapsed = this.now() - this.setAt;
    const window = this.faults.windows?.find(
      (w) => w.on === target && elapsed >= w.fromMs && (w.untilMs === undefined || elapsed < w.untilMs),
    );
    if (window) return this.error(target, window.status, window.retryAfterSeconds);
    const rates = this.faults.rates;
    if (!rates) return undefined;
    const retryAfter = rates.retryAfterSeconds ?? 1;
    const draw = this.random();
    const options: [number | undefined, () => ApiError][] =
      kind === 'submitStatus'
        ? [
            [rates.submit5xx, () => this.error('submit', this.serverError())],
            [rates.submit429, () => this.error('submit', 429, retryAfter)],
            [rates.submit507, () => this.error('submit', 507, retryAfter)],
          ]
        : [
            [rates.poll5xx, () => this.error('poll', this.serverError())],
            [rates.poll429, () => this.error('poll', 429, retryAfter)],
          ];
    let edge = 0;
    for (const [rate, make] of options) {
      edge += rate ?? 0;
      if (draw < edge) return make();
    }
    return undefined;
  }

  /**
   * The plan of a newly accepted task under the task rates: a fixture's plan is kept; a normal task
   * may be turned into one that ends `failed` or vanishes.
   */
  planTask(plan: TaskPlan, hasFixture: boolean): TaskPlan {
    const rates = this.faults.rates;
    if (!rates || hasFixture || plan.outcome !== 'normal') return plan;
    const draw = this.random();
    const failed = rates.taskFailed ?? 0;
    const vanish = failed + (rates.taskVanish ?? 0);
    if (draw < failed) {
      this.count('task:failed');
      return { outcome: 'fail', message: FAILED_TASK_MESSAGE };
    }
    if (draw < vanish) {
      this.count('task:vanish');
      return { outcome: 'lose' };
    }
    return plan;
  }

  /** After a task was accepted: maybe hold it `pending` (the `taskPendingLong` rate). */
  accepted(taskId: string, hasFixture: boolean): void {
    const rates = this.faults.rates;
    if (!rates?.taskPendingLong || hasFixture) return;
    if (this.random() < rates.taskPendingLong) {
      this.count('task:pending-long');
      this.pendingUntil.set(taskId, Date.now() + (rates.pendingLongMs ?? DEFAULT_PENDING_LONG_MS));
    }
  }

  /** Whether polls of this task must show it `pending` now. */
  heldPending(taskId: string): boolean {
    const until = this.pendingUntil.get(taskId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.pendingUntil.delete(taskId);
    return false;
  }

  /** Forgets held tasks (the emulator restarted). */
  forgetTasks(): void {
    this.pendingUntil.clear();
  }

  /** Bytes of the body to read before resetting the connection, if this submit must be reset. */
  takeResetMidUpload(): number | undefined {
    const fault = this.faults.resetMidUpload;
    if (!fault || fault.times <= 0) return undefined;
    fault.times--;
    this.count('submit:reset-mid-upload');
    return fault.afterBytes ?? 1024;
  }

  /** Whether this answer of `target` must be cut after its headers; consumes one. */
  takeCutAnswer(target: FaultTarget): boolean {
    const fault = this.faults.cutAnswer;
    if (!fault || fault.times <= 0 || (fault.on ?? 'poll') !== target) return false;
    fault.times--;
    this.count(`${target}:cut-answer`);
    return true;
  }

  /** How long to hold this request of `target` (ms), if it must stall; consumes one. */
  takeStall(target: FaultTarget): number | undefined {
    const fault = this.faults.stall;
    if (!fault || fault.times <= 0 || (fault.on ?? 'poll') !== target) return undefined;
    fault.times--;
    this.count(`${target}:stall`);
    return fault.ms;
  }

  /** The rate (bytes/s) to read this submit's body at, if it must be slow; consumes one. */
  takeSlowUpload(): number | undefined {
    const fault = this.faults.slowUpload;
    if (!fault || fault.times <= 0) return undefined;
    fault.times--;
    this.count('submit:slow-upload');
    return fault.bytesPerSecond;
  }

  private serverError(): number {
    return SERVER_ERRORS[Math.floor(this.random() * SERVER_ERRORS.length)] ?? 503;
  }

  private error(target: FaultTarget, status: number, retryAfterSeconds?: number): ApiError {
    this.count(`${target}:${status}`);
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    if (status === 429) {
      headers['x-ratelimit-limit'] = '10';
      headers['x-ratelimit-remaining'] = '0';
      headers['x-ratelimit-reset'] = String(retryAfterSeconds ?? 1);
    }
    return new ApiError(status, errorTypeForStatus(status), MESSAGES[status] ?? `Emulated ${status}.`, {
      headers,
    });
  }

  private count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
}

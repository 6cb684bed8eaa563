/**
 * Core's gRPC retry warnings, summarised. While Temporal is unreachable, Core logs one WARN
 * `gRPC call <call> retried <n> times` (target `temporalio_client::retry`) per retried call, tens of
 * lines a second for a busy worker. This Logger wrapper lets the first one through as a single
 * "Temporal is unreachable" line, counts the rest into one summary a minute, and says when no call
 * has been retried for a while ("Temporal answers again"). Every other line passes unchanged.
 */
import type { Logger, LogLevel, LogMetadata } from '@temporalio/worker';
import { LevelLogger } from './json-logger.ts';

/** The target of Core's retry warnings (temporalio_client's retry module). */
export const CORE_RETRY_TARGET = 'temporalio_client::retry';

const RETRY_MESSAGE = /^gRPC call (\S+) retried (\d+) times/;

/** Options of CoreRetryFilter. */
export interface CoreRetryFilterOptions {
  /** Where Temporal is, for the messages (e.g. `127.0.0.1:7233`). */
  address?: string | undefined;
  /** How often (ms) a summary of the retries is written while they go on. Default 60 000. */
  summaryEveryMs?: number;
  /** How long (ms) without a retry means Temporal answers again. Default 20 000. */
  quietMs?: number;
  /** The clock (ms since the epoch); default Date.now. For tests. */
  now?: () => number;
  /** Checks for the quiet period on a timer of its own (unref'd); default true. Tests call check(). */
  timer?: boolean;
}

/**
 * A Temporal `Logger` that passes everything to `downstream` except Core's gRPC retry warnings,
 * which become at most: one WARN when they start, one WARN summary per `summaryEveryMs` while they
 * go on, one INFO once none came for `quietMs`. Never throws; `close()` stops its timer (idempotent).
 * @example Runtime.install({ logger: new CoreRetryFilter(new JsonLogger(), { address }) })
 */
export class CoreRetryFilter extends LevelLogger {
  readonly #downstream: Logger;
  readonly #address: string;
  readonly #summaryEveryMs: number;
  readonly #quietMs: number;
  readonly #now: () => number;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  /** Set while retries go on. */
  #outage:
    { since: number; last: number; summarisedAt: number; retries: number; sinceSummary: number } | undefined;

  constructor(downstream: Logger, options: CoreRetryFilterOptions = {}) {
    super();
    this.#downstream = downstream;
    this.#address = options.address ?? 'Temporal';
    this.#summaryEveryMs = options.summaryEveryMs ?? 60_000;
    this.#quietMs = options.quietMs ?? 20_000;
    this.#now = options.now ?? Date.now;
    if (options.timer ?? true) {
      this.#timer = setInterval(() => this.check(), Math.max(1_000, Math.floor(this.#quietMs / 4)));
      this.#timer.unref();
    }
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const retry =
      (meta as { target?: unknown } | undefined)?.target === CORE_RETRY_TARGET
        ? RETRY_MESSAGE.exec(message)
        : null;
    if (!retry) {
      this.#downstream.log(level, message, meta);
      return;
    }
    const now = this.#now();
    const outage = this.#outage;
    if (!outage) {
      this.#outage = { since: now, last: now, summarisedAt: now, retries: 1, sinceSummary: 0 };
      this.#downstream.log(
        'WARN',
        `Temporal at ${this.#address} is unreachable: gRPC calls are being retried ` +
          `(first: ${retry[1]}, ${retry[2]} times); one summary every ${Math.round(this.#summaryEveryMs / 1000)} s until it answers`,
        { ...meta, sdkComponent: 'core', call: retry[1] },
      );
      return;
    }
    outage.last = now;
    outage.retries += 1;
    outage.sinceSummary += 1;
    if (now - outage.summarisedAt >= this.#summaryEveryMs) {
      this.#downstream.log(
        'WARN',
        `Temporal at ${this.#address} still unreachable after ${Math.round((now - outage.since) / 1000)} s: ` +
          `${outage.sinceSummary} gRPC call retries in the last ${Math.round((now - outage.summarisedAt) / 1000)} s`,
        { ...meta, sdkComponent: 'core', call: retry[1] },
      );
      outage.summarisedAt = now;
      outage.sinceSummary = 0;
    }
  }

  /** Ends an outage once no retry came for `quietMs`, with one INFO line. Called by the timer. */
  check(): void {
    const outage = this.#outage;
    if (!outage) return;
    const now = this.#now();
    if (now - outage.last < this.#quietMs) return;
    this.#outage = undefined;
    this.#downstream.log(
      'INFO',
      `Temporal at ${this.#address} answers again: no gRPC call retried for ${Math.round((now - outage.last) / 1000)} s ` +
        `(${outage.retries} retries over ${Math.round((outage.last - outage.since) / 1000)} s)`,
      { sdkComponent: 'core' },
    );
  }

  /** Stops the quiet-period timer. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

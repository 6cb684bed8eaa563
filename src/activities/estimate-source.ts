/**
 * The current completion-time estimate of each platform, shared by every `awaitDetectionJob`
 * activity of a worker process. The estimate lives in the platform's capacity workflow, which
 * refits it whenever a job ends; a waiting activity was given the estimate of its lease's grant,
 * which is stale by the time other jobs finish. This source asks the capacity workflow (query
 * `capacityState`) about once a second while at least one activity watches that workflow, and tells
 * the watchers when the answer changes, so a job started with the prior moves its checks to the
 * learnt finish.
 */
import type { Client } from '@temporalio/client';
import { sameCompletionModel, type CompletionModel } from '../shared/completion-estimate.ts';
import { capacityStateQuery } from '../shared/platform-capacity.ts';

/** An estimate as fetched: the model and when the answer arrived (epoch ms, this process's clock). */
export interface FetchedEstimate {
  model: CompletionModel;
  fetchedAtMs: number;
}

/**
 * Asks for the current estimate of capacity workflow `capacityWorkflowId`; resolves `undefined`
 * when it has none (a run from before the estimate existed). May reject (it is caught). Must stop
 * when `signal` aborts.
 */
export type EstimateQuery = (
  capacityWorkflowId: string,
  signal: AbortSignal,
) => Promise<CompletionModel | undefined>;

/** One activity's interest in one capacity workflow's estimate (see `EstimateSource.watch`). */
export interface EstimateWatch {
  /** The newest estimate fetched so far (possibly by an earlier watcher), or undefined before any answer. */
  readonly latest: FetchedEstimate | undefined;
  /** Stops watching: the listener is not called again. Idempotent. */
  close(): void;
}

/** Options of `createEstimateSource`. */
export interface EstimateSourceOptions {
  /** Fetches one estimate (production: `capacityEstimateQuery(client)`). */
  query: EstimateQuery;
  /** Least time between the starts of two queries of the same workflow (ms); default 1000. */
  intervalMs?: number;
  /** A query taking longer than this is abandoned (ms; the last estimate is kept); default 5000. */
  queryTimeoutMs?: number;
  /** Called with every failed query (optional; the failure is otherwise only counted). */
  onError?: (capacityWorkflowId: string, err: unknown) => void;
}

/** The process-wide estimate source (`createEstimateSource`). */
export interface EstimateSource {
  /**
   * Watches the estimate of `capacityWorkflowId`: a query is started at once (or as soon as the
   * interval since the previous one allows), then every `intervalMs` while any watch of that id is
   * open, never two at a time. `listener` is called (synchronously, from the poll) each time an
   * answer differs from the previous one, field by field; an answer equal to the last one, a failed
   * query or an absent estimate call nothing. Close the watch when done: the last close of an id
   * stops its polling (a query in flight is aborted); the last answer is kept (one small entry per
   * capacity workflow id, i.e. per platform, for the life of the source) and offered to the next
   * watch as `latest`. After `close()` of the source, a watch never hears anything. Never throws.
   */
  watch(capacityWorkflowId: string, listener: (estimate: FetchedEstimate) => void): EstimateWatch;
  /** Stops every poll and aborts queries in flight; leaves no timer behind. Idempotent. */
  close(): void;
  /** Queries started and failed so far, per process (for tests and diagnostics). */
  readonly stats: { queries: number; failures: number };
}

interface Entry {
  listeners: Set<(estimate: FetchedEstimate) => void>;
  latest: FetchedEstimate | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  inFlight: AbortController | undefined;
  /** When the last query started (epoch ms; 0: never). */
  startedAtMs: number;
}

/**
 * Creates the process-wide source of completion-time estimates. Creating it does no I/O and starts
 * no timer: polling runs only while a watch is open.
 * @example
 * const estimates = createEstimateSource({ query: capacityEstimateQuery(client) });
 * const watch = estimates.watch(lease.capacityWorkflowId, (e) => reschedule(e.model));
 * try { … } finally { watch.close(); }
 */
export function createEstimateSource(options: EstimateSourceOptions): EstimateSource {
  const intervalMs = options.intervalMs ?? 1_000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  const entries = new Map<string, Entry>();
  const stats = { queries: 0, failures: 0 };
  let closed = false;

  function schedule(id: string, entry: Entry): void {
    if (closed || entry.timer || entry.inFlight || entry.listeners.size === 0) return;
    const wait = Math.max(0, entry.startedAtMs + intervalMs - Date.now());
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void poll(id, entry);
    }, wait);
  }

  async function poll(id: string, entry: Entry): Promise<void> {
    if (closed || entry.listeners.size === 0) return;
    const controller = new AbortController();
    entry.inFlight = controller;
    entry.startedAtMs = Date.now();
    stats.queries += 1;
    // Our own timer rather than AbortSignal.timeout, so it is cleared with the query (no timer left).
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`capacityState query of ${id} took over ${queryTimeoutMs} ms`));
    }, queryTimeoutMs);
    try {
      // Raced against the signal too, so a query that ignores it cannot stall the polling.
      const model = await untilAborted(options.query(id, controller.signal), controller.signal);
      if (controller.signal.aborted || !model) return;
      const fetched = { model: { ...model }, fetchedAtMs: Date.now() };
      const changed = !entry.latest || !sameCompletionModel(entry.latest.model, fetched.model);
      entry.latest = fetched;
      if (changed) {
        for (const listener of [...entry.listeners]) {
          try {
            listener(fetched);
          } catch {
            // A listener's failure is its own: the others still hear, and polling goes on.
          }
        }
      }
    } catch (err) {
      if (controller.signal.aborted && !timedOut) return;
      stats.failures += 1;
      options.onError?.(id, err);
    } finally {
      clearTimeout(timeout);
      if (entry.inFlight === controller) entry.inFlight = undefined;
      schedule(id, entry);
    }
  }

  return {
    stats,
    watch(capacityWorkflowId, listener) {
      let entry = entries.get(capacityWorkflowId);
      if (!entry) {
        entry = {
          listeners: new Set(),
          latest: undefined,
          timer: undefined,
          inFlight: undefined,
          startedAtMs: 0,
        };
        entries.set(capacityWorkflowId, entry);
      }
      const watched = entry;
      // A listener object of this watch's own, so the same function may watch twice.
      const own = (estimate: FetchedEstimate) => listener(estimate);
      if (!closed) watched.listeners.add(own);
      schedule(capacityWorkflowId, watched);
      return {
        get latest() {
          return watched.latest;
        },
        close() {
          if (!watched.listeners.delete(own) || watched.listeners.size > 0) return;
          clearTimeout(watched.timer);
          watched.timer = undefined;
          watched.inFlight?.abort();
          watched.inFlight = undefined;
        },
      };
    },
    close() {
      closed = true;
      for (const entry of entries.values()) {
        entry.listeners.clear();
        clearTimeout(entry.timer);
        entry.timer = undefined;
        entry.inFlight?.abort();
        entry.inFlight = undefined;
      }
    },
  };
}

/**
 * The production `EstimateQuery`: query `capacityState` of the capacity workflow through `client`,
 * answering its `estimate` (undefined when the run has none). Rejects as the query does (workflow
 * not found, no worker answered in time, aborted by `signal`).
 */
export function capacityEstimateQuery(client: Client): EstimateQuery {
  return async (capacityWorkflowId, signal) => {
    const state = await client.withAbortSignal(signal, () =>
      client.workflow.getHandle(capacityWorkflowId).query(capacityStateQuery),
    );
    return state.estimate;
  };
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    // Settle-or-abort, whichever comes first; the query's own outcome is always observed.
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

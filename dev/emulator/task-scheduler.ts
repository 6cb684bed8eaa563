/**
 * In-memory tasks, like the appliance's: a FIFO of `pending` tasks, `capacity` processing slots,
 * finished tasks kept until they expire, everything forgotten on restart.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import { analysePair, type AnalysisOutcome, type Upload } from './analysis.ts';
import { ErrorType } from './api-error.ts';
import type { TaskPlan } from './fixtures.ts';
import type { ResolvedOptions } from './options.ts';
import { Ledger } from './accounting.ts';

/** Task states the platform reports. */
export const TaskState = {
  Pending: 'pending',
  Running: 'running',
  Done: 'done',
  Failed: 'failed',
  Rejected: 'rejected',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** The wire shape of a task, as the submit (202) and poll (200) answers carry it. */
export interface TaskDocument {
  task: { task_id: string; state: TaskState };
  result?: { score: number | null };
  error?: { type: string; message: string };
}

/** What the server hands over for a new task. */
export interface NewTask {
  reference: Upload;
  questioned: Upload;
  plan: TaskPlan;
}

/** Counts for tests and logs. */
export interface SchedulerStats {
  pending: number;
  running: number;
  /** Finished tasks not yet expired. */
  finished: number;
  /** Upload bytes held by unfinished tasks (the "temporary input storage"). */
  storedBytes: number;
  /**
   * The most tasks held at once not yet terminal (pending + running), since start or the last
   * restart: what a client's capacity lease must bound (capacity + allowance).
   */
  maxConcurrentJobs: number;
}

interface Task extends NewTask {
  id: string;
  state: TaskState;
  storedBytes: number;
  audioSeconds: number;
  expiresAt?: number;
  result?: { score: number | null };
  error?: { type: string; message: string };
}

type Outcome = AnalysisOutcome | { state: 'failed'; message: string } | { state: 'lost' };

export type SchedulerOptions = Pick<
  ResolvedOptions,
  'capacity' | 'processing' | 'expiryMs' | 'maxAudioSeconds' | 'maxAnalysisSeconds'
> & {
  log?: (line: string) => void;
};

const NO_BYTES = new Uint8Array(0);

/**
 * Runs tasks. Not thread-safe by design: it lives on one event loop.
 * @example const doc = scheduler.submit({ reference, questioned, plan: { outcome: 'normal' } });
 */
export class TaskScheduler {
  private options: SchedulerOptions;
  /** Benchmark accounting: per-job timestamps and poll counts (see accounting.ts). */
  readonly ledger = new Ledger();
  private tasks = new Map<string, Task>();
  private queue: Task[] = [];
  private running = 0;
  private stored = 0;
  private maxUnfinished = 0;
  /** Aborted on restart/close: every sleeping or analysing task of the old generation stops. */
  private generation = new AbortController();
  private closed = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  /** Bytes of uploads held by unfinished tasks. */
  get storedBytes(): number {
    return this.stored;
  }

  /**
   * Accepts a task: it is queued `pending` and starts when a slot is free.
   * @throws Error after `close()`.
   */
  submit(input: NewTask): TaskDocument {
    if (this.closed) throw new Error('the task scheduler is closed');
    this.sweep();
    const probed = [input.reference.probe, input.questioned.probe];
    const task: Task = {
      ...input,
      id: randomUUID(),
      state: TaskState.Pending,
      storedBytes: input.reference.bytes.byteLength + input.questioned.bytes.byteLength,
      audioSeconds: probed.reduce((sum, p) => sum + (p instanceof Error ? 0 : p.durationSeconds), 0),
    };
    this.tasks.set(task.id, task);
    this.ledger.accepted(task.id, task.audioSeconds);
    this.stored += task.storedBytes;
    this.queue.push(task);
    this.maxUnfinished = Math.max(this.maxUnfinished, this.queue.length + this.running);
    this.log(
      `task ${task.id} pending (${this.queue.length} queued, ${this.running}/${this.options.capacity} running)`,
    );
    // The 202 answer shows the task as queued, even when a free slot starts it right away.
    const accepted = toDocument(task);
    this.pump();
    return accepted;
  }

  /** The task's current document, or undefined when unknown, lost or expired. */
  get(id: string): TaskDocument | undefined {
    const task = this.tasks.get(id);
    if (!task) return undefined;
    if (task.expiresAt !== undefined && task.expiresAt <= Date.now()) {
      this.tasks.delete(id);
      return undefined;
    }
    this.ledger.polled(id);
    return toDocument(task);
  }

  stats(): SchedulerStats {
    this.sweep();
    let finished = 0;
    for (const task of this.tasks.values()) if (task.expiresAt !== undefined) finished++;
    return {
      pending: this.queue.length,
      running: this.running,
      finished,
      storedBytes: this.stored,
      maxConcurrentJobs: this.maxUnfinished,
    };
  }

  /** The current capacity (slots). */
  get capacity(): number {
    return this.options.capacity;
  }

  /**
   * Changes the capacity and the processing-time model for tasks that start from now on (a
   * benchmark sets them per run). A larger capacity starts queued tasks at once; a smaller one lets
   * running tasks finish.
   * @throws RangeError for a capacity that is not a positive integer.
   */
  setModel(model: { capacity?: number; processing?: SchedulerOptions['processing'] }): void {
    if (model.capacity !== undefined && !(Number.isInteger(model.capacity) && model.capacity >= 1))
      throw new RangeError(`capacity must be an integer ≥ 1, got ${model.capacity}`);
    this.options = {
      ...this.options,
      ...(model.capacity !== undefined && { capacity: model.capacity }),
      ...(model.processing !== undefined && { processing: model.processing }),
    };
    this.pump();
  }

  /** Forgets every task, like an appliance restart; running work is abandoned. */
  restart(): void {
    this.generation.abort();
    this.generation = new AbortController();
    this.tasks = new Map();
    this.queue = [];
    this.running = 0;
    this.stored = 0;
    this.maxUnfinished = 0;
    this.log('restart: all tasks forgotten');
  }

  /** Stops all work; further submits throw. Idempotent. */
  close(): void {
    this.closed = true;
    this.generation.abort();
    this.tasks.clear();
    this.queue = [];
    this.running = 0;
    this.stored = 0;
  }

  private pump(): void {
    while (this.running < this.options.capacity) {
      const task = this.queue.shift();
      if (!task) return;
      this.running++;
      void this.run(task, this.generation.signal);
    }
  }

  private async run(task: Task, signal: AbortSignal): Promise<void> {
    task.state = TaskState.Running;
    const ms = this.processingMs(task);
    this.ledger.started(task.id, ms);
    this.log(`task ${task.id} running (${ms} ms)`);
    const work = this.outcomeOf(task).catch((err: unknown): Outcome => ({
      state: 'failed',
      message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    }));
    try {
      // The task finishes when both the emulated processing time is over and the analysis is done.
      await delay(ms, undefined, { signal, ref: false });
    } catch {
      return; // restart or close: this generation's bookkeeping is gone
    }
    const outcome = await work;
    if (signal.aborted) return;
    this.finish(task, outcome);
    this.running--;
    this.pump();
  }

  private processingMs(task: Task): number {
    const { fixedMs, baseMs, perAudioSecondMs } = this.options.processing;
    return Math.round(task.plan.processingMs ?? fixedMs ?? baseMs + perAudioSecondMs * task.audioSeconds);
  }

  private async outcomeOf(task: Task): Promise<Outcome> {
    const { plan } = task;
    switch (plan.outcome) {
      case 'lose':
        return { state: 'lost' };
      case 'fail':
        return { state: 'failed', message: plan.message };
      case 'reject':
        return { state: 'rejected', message: plan.message };
      case 'normal': {
        const limits = {
          maxAudioSeconds: this.options.maxAudioSeconds,
          maxAnalysisSeconds: this.options.maxAnalysisSeconds,
        };
        return analysePair(
          task.reference,
          task.questioned,
          plan.forcedScore === undefined ? limits : { ...limits, forcedScore: plan.forcedScore },
        );
      }
    }
  }

  private finish(task: Task, outcome: Outcome): void {
    this.stored -= task.storedBytes;
    task.storedBytes = 0;
    // Release the uploads: finished tasks only keep their small result.
    task.reference = { ...task.reference, bytes: NO_BYTES };
    task.questioned = { ...task.questioned, bytes: NO_BYTES };
    this.ledger.finished(task.id, outcome.state);
    if (outcome.state === 'lost') {
      this.tasks.delete(task.id);
      this.log(`task ${task.id} lost (emulated restart of this task)`);
      return;
    }
    task.expiresAt = Date.now() + this.options.expiryMs;
    if (outcome.state === 'done') {
      task.state = TaskState.Done;
      task.result = { score: outcome.score };
      this.log(`task ${task.id} done score=${outcome.score}`);
    } else {
      task.state = outcome.state === 'failed' ? TaskState.Failed : TaskState.Rejected;
      task.error = {
        type: outcome.state === 'failed' ? ErrorType.Internal : ErrorType.TaskValidationError,
        message: outcome.message,
      };
      this.log(`task ${task.id} ${task.state}: ${outcome.message}`);
    }
  }

  /** Drops expired tasks. Lazy (on submit and stats; `get` checks its own task) so no timer outlives the emulator. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, task] of this.tasks) {
      if (task.expiresAt !== undefined && task.expiresAt <= now) this.tasks.delete(id);
    }
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}

function toDocument(task: Task): TaskDocument {
  const doc: TaskDocument = { task: { task_id: task.id, state: task.state } };
  if (task.result) doc.result = task.result;
  if (task.error) doc.error = task.error;
  return doc;
}

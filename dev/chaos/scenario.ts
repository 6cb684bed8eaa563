/**
 * The contract between `npm run chaos` (dev/chaos/run.ts) and its scenarios (dev/chaos/scenarios/*.ts,
 * each exporting `scenarios: ChaosScenario[]`). A scenario starts the parts it breaks itself (its own
 * Temporal dev server on a SQLite file, versitygw, emulator, worker processes), all on 127.0.0.1,
 * injects its fault, waits within a bounded time, checks the promise ("once a detection is accepted,
 * its score is recorded exactly once, or the user gets a clear, specific reason why not") and stops
 * everything it started. Development tool: not shipped.
 */

/** What the runner gives every scenario. */
export interface ChaosContext {
  /** `--quick`: the smaller size of each scenario (the whole quick suite stays under ten minutes). */
  quick: boolean;
  /** A fresh directory for this scenario's databases, logs and buckets. */
  workDir: string;
  /** Progress for the operator (stderr), one line at a time. */
  log(line: string): void;
  /** Seed for every random fault rate, so a run can be repeated. */
  seed: number;
}

/** A workflow that did not record its score, with the reason the user sees (the failure type and message). */
export interface ChaosFailure {
  workflowId: string;
  reason: string;
}

/** What one scenario measured; the runner prints these and writes them to RELIABILITY.md. */
export interface ChaosOutcome {
  /** Pairs accepted: the lines of the scenario's batch manifest. */
  started: number;
  /** Pairs whose child detection completed with its one result object written (and matching). */
  completed: number;
  /**
   * Pairs that failed, each with the reason the user sees (the report row's error, or what the
   * check found: a line without exactly one report row, a result object that does not match).
   */
  failed: ChaosFailure[];
  /** Pairs still unfinished when the scenario's time bound ran out (must be 0). */
  stuck: number;
  /** Result objects beyond one per pair (must be 0), counted in S3. */
  duplicateResults: number;
  /** Submissions the platform accepted beyond one per completed detection (the emulator's count). */
  duplicateSubmissions: number;
  /** Seconds from the fault ending to the first workflow progressing again; null when not applicable. */
  recoverySeconds: number | null;
  /** Wall time of the scenario (s). */
  seconds: number;
  /** Scenario-specific findings, one line each (e.g. "SIGTERM grace: 2 uploads finished in 3.1 s"). */
  notes: string[];
}

/** One way of breaking the system. */
export interface ChaosScenario {
  /** Short kebab-case id, e.g. `worker-sigkill-after-accept`; selectable with `--only`. */
  name: string;
  /** One sentence for RELIABILITY.md: what is broken and what must hold. */
  description: string;
  /** Part of `--quick`. */
  quick: boolean;
  /**
   * Runs the scenario. Resolves with what it measured; the runner judges the invariants
   * (stuck = 0, duplicateResults = 0, completed + failed = started, and `check` when given).
   * @throws only when the scenario could not run at all (a part did not start); the runner reports it as an error.
   */
  run(ctx: ChaosContext): Promise<ChaosOutcome>;
  /** Extra invariant of this scenario; returns the violations (empty when it held). */
  check?(outcome: ChaosOutcome): string[];
}

/**
 * A local emulator of the Phonexia Speech Platform 4 "referential deepfake detection" API, for
 * development and tests without an appliance. It reproduces the documented wire behaviour (202 +
 * Location, task states, 404 after expiry or restart, error bodies, limits) and scores pairs with a
 * deterministic stand-in that is NOT a deepfake detector (see `SCORING_DESCRIPTION`).
 *
 * @example
 * import { startEmulator } from './emulator/index.ts';
 * const emulator = await startEmulator({ capacity: 2, processing: { fixedMs: 100 } });
 * // … point the client at emulator.url …
 * await emulator.close();
 */
export { startEmulator, RDD_ENDPOINT, ADMIN_PREFIX, type RunningEmulator } from './server.ts';
export {
  busySeconds,
  percentile,
  utilisation,
  type AccountingSnapshot,
  type Interval,
  type JobRecord,
} from './accounting.ts';
export {
  DEFAULT_OPTIONS,
  validateFaults,
  type EmulatorFaults,
  type EmulatorOptions,
  type Fault,
  type FaultRates,
  type FaultTarget,
  type FaultWindow,
  type PollFaultStatus,
  type ProcessingTimes,
  type RequestLogEntry,
  type SubmitFaultStatus,
} from './options.ts';
export {
  FixtureError,
  loadFixtureFile,
  parseFixtures,
  type FixtureMap,
  type TaskFixture,
} from './fixtures.ts';
export { FaultInjector, mulberry32, type FaultCounts } from './faults.ts';
export { ErrorType, type ErrorBody, type ErrorDetail } from './api-error.ts';
export { TaskState, type SchedulerStats, type TaskDocument } from './task-scheduler.ts';
export { MIN_SPEECH_SECONDS, SCORING_DESCRIPTION } from './scoring.ts';
export { scoreFiles, type ScoreFilesOptions } from './score-files.ts';
export type { AnalysisOutcome } from './analysis.ts';

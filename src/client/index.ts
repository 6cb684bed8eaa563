/**
 * The rdd-orchestrator client: start and read referential deepfake detections from any
 * TypeScript service. Import it as the package (`import { startDetection } from 'rdd-orchestrator'`).
 *
 * @example
 * import { connectClient, startDetection, waitForDetection } from 'rdd-orchestrator';
 * const client = await connectClient(process.env);
 * const { workflowId } = await startDetection(client, {
 *   reference: { bucket: 'media', key: 'calls/ref.wav' },
 *   questioned: { bucket: 'media', key: 'calls/q.wav' },
 * });
 * const view = await waitForDetection(client, workflowId);
 * if (view.state === 'completed') console.log(view.result.verdict, view.result.score);
 * await client.connection.close();
 */
export {
  canonicalJson,
  canonicalRequest,
  detectionId,
  getDetection,
  startDetection,
  waitForDetection,
  type DetectionFailure,
  type DetectionView,
  type StartDetectionOptions,
  type StartedDetection,
  type WaitForDetectionOptions,
} from './detections.ts';
export {
  clientOptions,
  connectClient,
  dataConverter,
  dataConverterFor,
  isTemporalUnreachable,
  temporalAddress,
  workerOptions,
} from './connection.ts';
export { DetectionIdConflictError } from './detection-id-conflict-error.ts';
export { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './aes-gcm-codec.ts';
export { loadEncryptionConfig, type EncryptionConfig, type EncryptionKey } from './encryption-keys.ts';
export { DecryptionProblem, PayloadDecryptionError } from './payload-decryption-error.ts';
export { InvalidDetectionInputError } from './invalid-detection-input-error.ts';
export { ConfigError } from '../config/config-error.ts';
export type { Env } from '../config/env.ts';
export {
  batchId,
  batchIdProblems,
  canonicalBatchRequest,
  InvalidBatchInputError,
  cancelBatch,
  getBatch,
  pauseBatch,
  resumeBatch,
  startBatch,
  waitForBatch,
  type BatchView,
  type StartBatchOptions,
  type WaitForBatchOptions,
} from './batches.ts';
export { BatchUpdateRejectedError } from './batch-update-rejected-error.ts';
export {
  backfillBatchSchedule,
  BATCH_SCHEDULE_POLICIES,
  batchScheduleId,
  createBatchSchedule,
  DEFAULT_BACKFILL_MAX_RUNS,
  deleteBatchSchedule,
  describeBatchSchedule,
  estimatedScheduleRuns,
  InvalidScheduleError,
  listBatchSchedules,
  pauseBatchSchedule,
  triggerBatchSchedule,
  unpauseBatchSchedule,
  type BatchScheduleInput,
  type BatchScheduleRun,
  type BatchScheduleSpec,
  type BatchScheduleSummary,
  type BatchScheduleView,
  type CreateBatchScheduleOptions,
} from './schedules.ts';
export { cronProblems, estimatedCronRuns, timezoneProblem } from './cron-problems.ts';
export { BatchScheduleConflictError } from './batch-schedule-conflict-error.ts';
export {
  deleteSweepSchedule,
  ensureSweepSchedule,
  SWEEP_SCHEDULE_POLICIES,
  sweepScheduleId,
  triggerSweepSchedule,
  type SweepScheduleOptions,
} from './sweeps.ts';
export {
  s3EventDetectionId,
  startObjectDetection,
  type CreatedObject,
  type ObjectDetectionOutcome,
  type StartObjectDetectionOptions,
} from './object-detections.ts';
export { matchEventRule, parseEventRules, type EventRule, type ObjectRef } from '../shared/event-rules.ts';
export { BatchScheduleNotFoundError } from './batch-schedule-not-found-error.ts';
export {
  BATCH_WORKFLOW_TYPE,
  progressQuery,
  type BatchInput,
  type BatchProgress,
  type BatchSummary,
  type BatchWorkflow,
} from '../shared/batch.ts';
export { TemporalUnreachableError } from './temporal-unreachable-error.ts';
export {
  getPlatformCapacity,
  leasesAhead,
  PlatformCapacityNotStartedError,
  platformCapacityWorkflowId,
  setPlatformCapacity,
  type CapacityState,
} from './platform.ts';
export {
  DEFAULT_TASK_QUEUE,
  DETECT_WORKFLOW_TYPE,
  statusQuery,
  type DetectWorkflow,
} from '../shared/workflows.ts';
export {
  Verdict,
  type DetectInput,
  type DetectionResult,
  type DetectionStatus,
  type PollingPolicy,
  type RecordedMedia,
  type ResubmitPolicy,
  type ResultLocation,
} from '../shared/detection.ts';
export { FailureType } from '../shared/failure-types.ts';
export type { MediaRef } from '../shared/media.ts';

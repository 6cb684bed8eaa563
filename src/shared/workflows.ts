/**
 * The names a caller needs to start and read our workflows: workflow types, query definitions and
 * the default task queue. These strings are wire contracts: renaming one breaks runs in flight and
 * the committed replay histories. Importable from workflows: no Node, no I/O.
 */
import { defineQuery } from '@temporalio/workflow';
import type { DetectInput, DetectionResult, DetectionStatus } from './detection.ts';

export { DEFAULT_TASK_QUEUE } from './task-queues.ts';

/**
 * The workflow type of one referential deepfake detection (the exported function `detectWorkflow`
 * in src/workflows). The only place the string appears in src/.
 */
export const DETECT_WORKFLOW_TYPE = 'detectWorkflow';

/**
 * Where a detection stands: phase, current job, checks and submissions so far. Answered by a
 * running `detectWorkflow`, and by a closed one while its history is retained.
 * @example const status = await client.workflow.getHandle(id).query(statusQuery)
 */
export const statusQuery = defineQuery<DetectionStatus>('status');

/** The signature of `detectWorkflow`, for typed starts without importing workflow code. */
export type DetectWorkflow = (input: DetectInput) => Promise<DetectionResult>;

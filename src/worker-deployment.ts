/**
 * Worker Versioning for our workers: which deployment version a worker polls as, and the
 * behaviour a workflow gets when its definition does not declare one.
 */
import type { VersioningBehavior } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerDeployment } from './config/worker-deployment.ts';

/**
 * What a workflow type without its own `setWorkflowOptions({ versioningBehavior })` gets: PINNED,
 * the safe choice, since a pinned run only ever replays on the code that started it. Each workflow
 * still declares its behaviour (detections PINNED; batch, sweep and platform capacity AUTO_UPGRADE),
 * so this default only covers a workflow type added without one.
 */
export const DEFAULT_VERSIONING_BEHAVIOR: VersioningBehavior = 'PINNED';

/**
 * The `Worker.create` options for `deployment`: with a version, the worker polls as that worker
 * deployment version (Worker Versioning on) and gets only the tasks Temporal routes to it; without
 * one, nothing (an unversioned worker, which takes every task of its queue). Pure, idempotent.
 * @example await Worker.create({ ...options, ...workerDeploymentOptions({ name: 'rdd', buildId: '1.4.2' }) })
 */
export function workerDeploymentOptions(
  deployment: WorkerDeployment | undefined,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (deployment === undefined) return {};
  return {
    workerDeploymentOptions: {
      useWorkerVersioning: true,
      version: { deploymentName: deployment.name, buildId: deployment.buildId },
      defaultVersioningBehavior: DEFAULT_VERSIONING_BEHAVIOR,
    },
  };
}

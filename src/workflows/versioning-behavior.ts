/**
 * A workflow type's Worker Versioning behaviour, declared only on versioned workers.
 *
 * The server refuses a workflow task completion that names a versioning behaviour when the worker
 * has no deployment options ("versioning behavior cannot be specified without deployment options"),
 * so every workflow on an unversioned worker (the dev flow, the embedded stack, `npm test`) would
 * stall. The SDK evaluates this getter once, just before the workflow function first runs; core
 * reports the worker's deployment version there, with an empty deployment name when the worker is
 * unversioned (sdk-core `computed_deployment_version`). Deterministic: workflow code.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';

/**
 * `setWorkflowOptions(versioningBehavior('PINNED'), fn)`: `{ versioningBehavior }` when the
 * running worker has a deployment version with a name, `{}` otherwise. Never throws.
 */
export function versioningBehavior(behavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  return () =>
    workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {};
}

/**
 * Worker Versioning settings (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID): which worker deployment
 * version a worker belongs to. Off unless both are set, so a development worker stays unversioned
 * and needs no `temporal worker deployment set-current-version` before it gets work.
 */
import { z } from 'zod';
import { optional } from './variables.ts';

/**
 * A worker deployment version, as Temporal names it: `deploymentName.buildId` (the form
 * `temporal worker deployment … --deployment-name N --build-id B` and the UI show).
 */
export interface WorkerDeployment {
  /** The deployment, e.g. `rdd`: one per application; letters, digits, `_` and `-`. */
  name: string;
  /**
   * This code's build, e.g. `1.4.2` or a commit hash; letters, digits, `.`, `_` and `-`. Two builds
   * whose workflow code differs must never share one (pinned detections would replay on the other).
   */
  buildId: string;
}

/** Temporal's limit on both names (bytes; the allowed characters are one byte each). */
const MAX_LENGTH = 255;
/** No `.` in the name: the canonical version string joins name and build id with one. */
const NAME = /^[A-Za-z0-9_-]+$/;
const BUILD_ID = /^[A-Za-z0-9._-]+$/;

function identifier(pattern: RegExp, allowed: string) {
  return z.string().refine((value) => pattern.test(value) && value.length <= MAX_LENGTH, {
    error: (issue) =>
      `must be at most ${MAX_LENGTH} of ${allowed}, got ${JSON.stringify(String(issue.input).slice(0, 100))}`,
  });
}

/**
 * WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID: both set turns Worker Versioning on, neither leaves
 * it off, one alone is a configuration error (a worker would silently run unversioned).
 * @example readVariables({ WORKER_DEPLOYMENT_NAME: 'rdd', WORKER_BUILD_ID: '1.4.2' }, [workerDeploymentVariables])
 *   // [{ name: 'rdd', buildId: '1.4.2' }]
 */
export const workerDeploymentVariables = z
  .object({
    WORKER_DEPLOYMENT_NAME: optional(identifier(NAME, 'letters, digits, _ and -')),
    WORKER_BUILD_ID: optional(identifier(BUILD_ID, 'letters, digits, ., _ and -')),
  })
  .refine((vars) => (vars.WORKER_DEPLOYMENT_NAME === undefined) === (vars.WORKER_BUILD_ID === undefined), {
    when: () => true,
    path: [],
    error:
      'WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID turn Worker Versioning on together: set both or neither',
  })
  .transform((vars): WorkerDeployment | undefined =>
    vars.WORKER_DEPLOYMENT_NAME !== undefined && vars.WORKER_BUILD_ID !== undefined
      ? { name: vars.WORKER_DEPLOYMENT_NAME, buildId: vars.WORKER_BUILD_ID }
      : undefined,
  );

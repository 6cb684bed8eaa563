/**
 * A detection id is already taken by a detection of a different request (its request hash, kept
 * in the workflow's memo, differs). Nothing was started; the existing detection is untouched.
 * Pick another `id`, or leave `id` out to use the key derived from the request.
 * @example if (err instanceof DetectionIdConflictError) console.error(`${err.workflowId} is taken`)
 */
export class DetectionIdConflictError extends Error {
  override name = 'DetectionIdConflictError';
  /** The workflow id that is taken. */
  readonly workflowId: string;
  constructor(workflowId: string) {
    super(
      `detection ${workflowId} already exists for a different request; ` +
        'use another id, or none to derive one from the request',
    );
    this.workflowId = workflowId;
  }
}

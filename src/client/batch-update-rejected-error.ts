/**
 * A `pause`, `resume` or `cancel` of a batch was refused: its validator rejected it (already
 * paused, not paused, cancelled, finishing) or there is no running batch under that id. Nothing
 * changed.
 * @example if (err instanceof BatchUpdateRejectedError) console.error(err.reason)
 */
export class BatchUpdateRejectedError extends Error {
  override name = 'BatchUpdateRejectedError';
  readonly batchId: string;
  /** `pause`, `resume` or `cancel`. */
  readonly update: string;
  /** Why, as the batch said it: `the batch is already paused`, … */
  readonly reason: string;
  constructor(batchId: string, update: string, reason: string) {
    super(`cannot ${update} batch ${batchId}: ${reason}`);
    this.batchId = batchId;
    this.update = update;
    this.reason = reason;
  }
}

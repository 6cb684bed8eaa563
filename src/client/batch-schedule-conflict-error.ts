/**
 * A batch schedule of that name exists with a different spec, batch input or task queue. Nothing
 * was changed: a nightly job is never silently redefined. Delete it first, or pick another name.
 * @example if (err instanceof BatchScheduleConflictError) console.error(err.message)
 */
export class BatchScheduleConflictError extends Error {
  override name = 'BatchScheduleConflictError';
  /** The schedule id that is taken. */
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(
      `schedule ${scheduleId} already exists with a different spec or batch; ` +
        'delete it first (rdd schedule delete) or use another name',
    );
    this.scheduleId = scheduleId;
  }
}

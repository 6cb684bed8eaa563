/**
 * No batch schedule of that name (`batch-schedule-<name>`) exists: never created, or deleted.
 * @example if (err instanceof BatchScheduleNotFoundError) console.error(`${err.scheduleId} is unknown`)
 */
export class BatchScheduleNotFoundError extends Error {
  override name = 'BatchScheduleNotFoundError';
  /** The schedule id looked for. */
  readonly scheduleId: string;
  constructor(scheduleId: string, options?: ErrorOptions) {
    super(`schedule ${scheduleId} does not exist (rdd schedule list shows those that do)`, options);
    this.scheduleId = scheduleId;
  }
}

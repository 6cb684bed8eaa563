/** The default task queue for detection workflows and their activities. Override with `TASK_QUEUE`. */
export const DEFAULT_TASK_QUEUE = 'rdd-detection';

/** Reads a finished workflow's history for assertions about what it did. */
import type { WorkflowHandle } from '@temporalio/client';

/** Names of the activities a workflow scheduled, in order. */
export async function scheduledActivities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((name): name is string => typeof name === 'string');
}

/** Durations (ms) of the timers a workflow started, in order. */
export async function timerDurationsMs(handle: WorkflowHandle): Promise<number[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.timerStartedEventAttributes?.startToFireTimeout)
    .filter((timeout) => timeout != null)
    .map((timeout) => Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6));
}

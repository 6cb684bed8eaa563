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

/**
 * The local activities a workflow ran, in order, with the attempt that ended each (from the SDK's
 * `core_local_activity` markers: local activities leave no scheduled event).
 */
export async function localActivities(handle: WorkflowHandle): Promise<{ type: string; attempt: number }[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    if (!data) return [];
    const meta = JSON.parse(Buffer.from(data).toString('utf8')) as {
      activity_type?: string;
      attempt?: number;
    };
    return [{ type: meta.activity_type ?? '', attempt: meta.attempt ?? 0 }];
  });
}

/**
 * Every string and byte string in `value` (a raw history, a payload list) as one text: bytes as
 * Latin-1, so ASCII in them reads as is; what a reader of the database sees. Keys named in `skip`
 * are left out with what they hold (e.g. `searchAttributes`, which hold no personal data by design).
 * @example historyText(history, ['searchAttributes']).includes('alice') // false when encrypted
 */
export function historyText(value: unknown, skip: readonly string[] = []): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((inner) => historyText(inner, skip)).join('\n');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([key]) => !skip.includes(key))
      .map(([key, inner]) => `${key}=${historyText(inner, skip)}`)
      .join('\n');
  }
  return String(value);
}

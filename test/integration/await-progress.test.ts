/**
 * What the Temporal UI shows of a detection that waits for its platform job: the pending
 * `awaitDetectionJob` activity's heartbeat details carry the checks made so far and when the next
 * one is due (`nextCheckAt`, UTC). Real dev server, worker and emulator; the details are read as
 * the UI reads them, from DescribeWorkflowExecution's pending activities.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwaitJobProgress } from '../../src/shared/activity-types.ts';
import { speechWav } from '../helpers/audio.ts';
import { stopCapacityHarness } from '../helpers/capacity.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

let h: Harness;

beforeAll(async () => {
  // Jobs of three minutes: the test reads the heartbeat while the job still runs, even on a loaded machine.
  h = await startHarness({ processing: { fixedMs: 180_000 } });
});

afterAll(() => stopCapacityHarness(h));

describe("awaitDetectionJob's heartbeat while the job runs", () => {
  it('says how many checks were made and when the next one is due', async () => {
    const handle = await h.start({
      reference: await h.upload(
        await speechWav({ text: 'The caller gives a date of birth.', voice: 'en+m3' }),
      ),
      questioned: await h.upload(
        await speechWav({ text: 'The agent reads it back slowly.', voice: 'en+f3' }),
      ),
      cache: false,
    });
    const progress = async (): Promise<AwaitJobProgress | undefined> => {
      const { raw } = await handle.describe();
      const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'awaitDetectionJob');
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      return payload ? defaultPayloadConverter.fromPayload<AwaitJobProgress>(payload) : undefined;
    };
    // The first check comes early while the platform's estimate is young; poll until it was made.
    await expect
      .poll(async () => (await progress())?.checks ?? 0, { timeout: 120_000, interval: 500 })
      .toBeGreaterThanOrEqual(1);
    const details = (await progress())!;
    expect(details.lastState).toMatch(/pending|running/);
    // A UTC instant near now (the schedule's next check; it may be just past on a loaded machine).
    expect(details.nextCheckAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(details.nextCheckAt!) - Date.now())).toBeLessThan(10 * 60_000);
    await handle.cancel();
  }, 300_000);
});

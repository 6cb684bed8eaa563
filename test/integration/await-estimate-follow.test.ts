/**
 * A waiting `awaitDetectionJob` follows the platform's estimate as it learns: a job started with a
 * prior far too short (nothing had finished yet) would back off past its finish, but when another
 * job finishes meanwhile and teaches the capacity workflow, the waiting activity hears the new
 * estimate (the worker's shared EstimateSource) and moves its next checks to the learnt finish.
 * Real dev server, worker and emulator; the checks are read from the emulator's request log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RDD_ENDPOINT } from '../../dev/emulator/server.ts';
import type { DetectInput } from '../../src/shared/detection.ts';
import type { MediaRef } from '../../src/shared/media.ts';
import { speechWav } from '../helpers/audio.ts';
import { startCapacityHarness, stopCapacityHarness, type EmulatorRequest } from '../helpers/capacity.ts';
import type { Harness } from '../helpers/detection-harness.ts';

/** Every job takes this long on the emulator (ms). */
const JOB_MS = 8_000;
/**
 * The learner's schedule misses the finish by a back-off this long (s): after its dense window
 * (prior 1 s + 2 s) its next check is due 30 s later, ~25 s after the job really finished.
 */
const BACKOFF_SECONDS = 30;

let harness: Harness;
let requests: EmulatorRequest[];
let reference: MediaRef;
let questioned: MediaRef;

beforeAll(async () => {
  ({ harness, requests } = await startCapacityHarness({
    emulatorCapacity: 8,
    detectorCapacity: 8,
    processingMs: JOB_MS,
  }));
  reference = await harness.upload(
    await speechWav({ text: 'Please confirm the transfer to my savings account.', voice: 'en+m3' }),
  );
  questioned = await harness.upload(
    await speechWav({ text: 'I confirm the transfer to the savings account.', voice: 'en+m3' }),
  );
});

afterAll(() => stopCapacityHarness(harness));

/** When the emulator answered status checks (GET) of `jobId`, in order (epoch ms). */
function checksOf(jobId: string): number[] {
  return requests
    .filter((r) => r.method === 'GET' && r.path === `${RDD_ENDPOINT}/${jobId}`)
    .map((r) => r.at)
    .sort((a, b) => a - b);
}

describe('awaitDetectionJob follows the estimate learnt while it waits', () => {
  it('moves the checks of a job started with a far too short prior to the finish another job taught', async () => {
    const pair = { reference, questioned, cache: false } satisfies DetectInput;
    // The teacher's own prior is right (8 s flat): it sees its job done within a dense interval and
    // releases its lease with a tight observation, so the capacity workflow learns ~8 s.
    const teacher = await harness.start({
      ...pair,
      polling: {
        firstCheckBase: JOB_MS / 1000,
        firstCheckPerAudioSecond: 0,
        minInterval: 1,
        maxInterval: 30,
        backoff: 1.5,
      },
    });
    // The learner starts at once, before anything finished, so its lease carries no learnt estimate:
    // its prior says 1 s, and without the feature it would check densely until ~3 s, then not
    // again before ~33 s.
    const learner = await harness.start({
      ...pair,
      polling: {
        firstCheckBase: 1,
        firstCheckPerAudioSecond: 0,
        minInterval: BACKOFF_SECONDS,
        maxInterval: BACKOFF_SECONDS,
        backoff: 1.5,
      },
    });
    const [taught, learnt] = await Promise.all([teacher.result(), learner.result()]);
    expect(taught.verdict).not.toBe('error');
    expect(learnt.verdict).not.toBe('error');

    const teacherChecks = checksOf(taught.jobId);
    const learnerChecks = checksOf(learnt.jobId);
    expect(learnerChecks).toHaveLength(learnt.checks);
    const teacherDone = teacherChecks.at(-1)!;
    const learnerFirst = learnerChecks[0]!;
    const learnerDone = learnerChecks.at(-1)!;
    // The learner's prior schedule checked densely early on (its job was not done then) …
    expect(learnerChecks.filter((at) => at < teacherDone).length).toBeGreaterThanOrEqual(3);
    // … and its terminal check came after the teacher had finished (it was taught, not lucky) and
    // long before its prior's back-off would have checked again: the schedule moved to the finish.
    expect(learnerDone).toBeGreaterThan(teacherDone);
    expect((learnerDone - learnerFirst) / 1000).toBeLessThan(BACKOFF_SECONDS / 2);
    // No gap of the prior's back-off between two checks.
    const gaps = learnerChecks.slice(1).map((at, i) => (at - learnerChecks[i]!) / 1000);
    expect(Math.max(...gaps)).toBeLessThan(BACKOFF_SECONDS / 2);
  }, 120_000);
});

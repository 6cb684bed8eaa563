/**
 * The lean detection path (patch `lean-history`) on a real Temporal dev server, real versitygw and
 * the emulator over real HTTP: a small history per detection, a completion-time estimate that the
 * platform's capacity workflow learns from finished jobs, and few status checks per job once it
 * has learnt. Each test has its own emulator (so its own platform URL, capacity workflow and
 * estimate) and worker.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RDD_ENDPOINT } from '../../dev/emulator/server.ts';
import { getPlatformCapacity, platformCapacityWorkflowId } from '../../src/client/platform.ts';
import { predictSeconds } from '../../src/shared/completion-estimate.ts';
import type { DetectInput } from '../../src/shared/detection.ts';
import type { DetectWorkflow } from '../../src/shared/workflows.ts';
import { silenceWav, speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { recordHistory } from '../helpers/record-history.ts';

let genuine: string;
let other: string;
let harness: Harness | undefined;

beforeAll(async () => {
  genuine = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
  other = await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' });
});

afterEach(async () => {
  if (!harness) return;
  await harness.client.workflow
    .getHandle(platformCapacityWorkflowId(harness.emulator.url))
    .terminate('test over')
    .catch(() => undefined);
  await harness.close();
  harness = undefined;
});

/** Status GETs per platform job, from the emulator's request log. */
function checksPerJob(requests: { method: string; path: string }[]): Map<string, number> {
  const checks = new Map<string, number>();
  for (const r of requests) {
    if (r.method !== 'GET' || !r.path.startsWith(`${RDD_ENDPOINT}/`)) continue;
    const id = r.path.slice(RDD_ENDPOINT.length + 1);
    checks.set(id, (checks.get(id) ?? 0) + 1);
  }
  return checks;
}

describe('the lean detection path', () => {
  it('scores a pair in at most 25 history events: local activities, one submit, one await, two upserts', async () => {
    const h = (harness = await startHarness());
    const handle = await h.start({
      reference: await h.upload(genuine),
      questioned: await h.upload(other),
      cache: false,
    });
    const result = await handle.result();
    expect(typeof result.score).toBe('number');
    expect(result.submissions).toBe(1);
    expect(await h.readResult(result.resultLocation.key)).toEqual(result);

    const events = (await handle.fetchHistory()).events ?? [];
    const markers = events.flatMap((e) =>
      e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes] : [],
    );
    const scheduled = events.flatMap((e) => {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return name ? [name] : [];
    });
    const upserts = events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    console.log(
      `lean happy path: ${events.length} history events, ${JSON.stringify(await handle.fetchHistory()).length} bytes; ` +
        `activities ${scheduled.join(', ')}; ${markers.length} markers; ${upserts.length} upserts; ${result.checks} checks`,
    );
    // The lean path, not the one before it (66 events): no lease signals, no per-check activity.
    expect(events.length).toBeLessThanOrEqual(25);
    expect(scheduled).toEqual(['submitDetectionJob', 'awaitDetectionJob']);
    expect(markers.map((m) => m.markerName)).toContain('core_patch');
    expect(events.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);
    // The search attributes are registered on the test server: set after the submit and at the end
    // (a third upsert, of TemporalChangeVersion, is the SDK's own for the `lean-history` patch).
    const ours = upserts.filter(
      (e) =>
        !(
          'TemporalChangeVersion' in
          (e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {})
        ),
    );
    expect(ours).toHaveLength(2);
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({
      DetectionPhase: ['done'],
      DetectionVerdict: [result.verdict],
      PlatformJobId: [result.jobId],
    });
    await recordHistory('detect-lean-happy-path', handle);
  });

  it('learns the platform 3× slower than the default model, then checks a job at most 4 times', async () => {
    const requests: { method: string; path: string }[] = [];
    // The emulator runs 3× the default model (2 s + 0.1 s per audio second): 6 s + 0.3 s/s.
    const h = (harness = await startHarness(
      {
        capacity: 8,
        processing: { baseMs: 6_000, perAudioSecondMs: 300 },
        log: (_line, entry) => {
          if (entry) requests.push(entry);
        },
      },
      { workerEnv: { DETECTOR_CAPACITY: '8' } },
    ));
    const reference = await h.upload(genuine);
    // Questioned files of several lengths, so the rate per audio second can be told from the base.
    const lengths = [1, 4, 8, 12, 16, 20];
    const questioned = await Promise.all(
      lengths.map(async (seconds) =>
        h.upload(await silenceWav(seconds), `${h.taskQueue}/silence-${seconds}.wav`),
      ),
    );
    // The default model as the prior; short back-off intervals keep the brackets of the first wave tight.
    const polling = { firstCheckBase: 2, firstCheckPerAudioSecond: 0.1, minInterval: 0.2, maxInterval: 0.5 };
    const wave = async (name: string) => {
      const handles: WorkflowHandle<DetectWorkflow>[] = await Promise.all(
        questioned.map((q, i) =>
          h.start(
            { reference, questioned: q, cache: false, polling } satisfies DetectInput,
            `${h.taskQueue}-${name}-${i}`,
          ),
        ),
      );
      return Promise.all(handles.map((handle) => handle.result()));
    };

    const first = await wave('learn');
    const learnt = (await getPlatformCapacity(h.client, h.emulator.url)).estimate!;
    expect(learnt.samples).toBe(lengths.length);
    const audio = (r: (typeof first)[number]) => r.reference.durationSeconds + r.questioned.durationSeconds;
    const truth = (x: number) => 6 + 0.3 * x;
    console.log(
      `learnt from ${learnt.samples} jobs: ${learnt.baseSeconds.toFixed(2)} s + ${learnt.perAudioSecond.toFixed(3)} s/s ` +
        `(true 6 s + 0.300 s/s), spread ${learnt.spreadSeconds.toFixed(3)} s; first-wave checks ${first.map((r) => r.checks).join(',')}`,
    );
    expect(learnt.perAudioSecond).toBeGreaterThan(0.25);
    expect(learnt.perAudioSecond).toBeLessThan(0.35);
    for (const r of first) {
      expect(Math.abs(predictSeconds(learnt, audio(r)) - truth(audio(r))) / truth(audio(r))).toBeLessThan(
        0.1,
      );
    }

    const before = new Set(checksPerJob(requests).keys());
    const second = await wave('learnt');
    const perJob = [...checksPerJob(requests)].filter(([id]) => !before.has(id)).map(([, n]) => n);
    console.log(
      `after learning: checks per job ${second.map((r) => r.checks).join(',')} (platform GETs ${perJob.join(',')})`,
    );
    expect(perJob).toHaveLength(lengths.length);
    for (const r of second) expect(r.checks).toBeLessThanOrEqual(4);
    for (const n of perJob) expect(n).toBeLessThanOrEqual(4);
    // The first wave, scheduled by the 3× too optimistic prior, needed more.
    expect(Math.max(...first.map((r) => r.checks))).toBeGreaterThan(4);
  });

  it('keeps the estimate across the capacity workflow continuing as new', async () => {
    const h = (harness = await startHarness({ capacity: 2, processing: { fixedMs: 300 } }));
    const id = platformCapacityWorkflowId(h.emulator.url);
    const first = await h.client.workflow.start('platformCapacityWorkflow', {
      workflowId: id,
      taskQueue: h.taskQueue,
      args: [{ platformUrl: h.emulator.url, capacity: 2, continueAsNewAfterEvents: 40 }],
    });
    const reference = await h.upload(genuine);
    const questioned = await h.upload(other);
    const handles = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.start({ reference, questioned, cache: false }, `${h.taskQueue}-can-${i}`),
      ),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((r) => r.submissions)).toEqual(handles.map(() => 1));
    const { runId } = await h.client.workflow.getHandle(id).describe();
    expect(runId).not.toBe(first.firstExecutionRunId);
    const state = await getPlatformCapacity(h.client, h.emulator.url);
    expect(state).toMatchObject({ granted: 12, leases: [], waiting: [] });
    // Every job taught it, in whichever run it finished.
    expect(state.estimate?.samples).toBe(12);
  });
});

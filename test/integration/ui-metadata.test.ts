/**
 * What the Temporal UI shows, read through the same APIs the UI uses, on a real Temporal dev server
 * (search attributes registered), real versitygw and the emulator: a detection's static summary and
 * details (a pair tag, never a key), its current details, the summaries on its activities and
 * timers; a batch's BatchId on every child (listed by a visibility query, across continue-as-new),
 * the children's summaries and the batch's current details.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBatch, waitForBatch } from '../../src/client/batches.ts';
import {
  createBatchSchedule,
  deleteBatchSchedule,
  triggerBatchSchedule,
} from '../../src/client/schedules.ts';
import { waitForDetection } from '../../src/client/detections.ts';
import { BatchId } from '../../src/shared/search-attributes.ts';
import { detectionSummary } from '../../src/shared/ui-text.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

let harness: Harness;
let reference: string;
let questioned: string;

beforeAll(async () => {
  reference = await speechWav({ text: 'The operator reads the summary of this detection.', voice: 'en+m3' });
  questioned = await speechWav({
    text: 'Every timer in the history says what it waits for.',
    voice: 'en+f3',
  });
  harness = await startHarness({ processing: { fixedMs: 300 } });
}, 180_000);

afterAll(async () => {
  await harness?.close();
});

/** The UI's query for a workflow's current details (answered by the worker, also after it closed). */
async function currentDetails(client: Client, workflowId: string): Promise<string | undefined> {
  const metadata = await client.workflow
    .getHandle(workflowId)
    .query<temporal.api.sdk.v1.IWorkflowMetadata>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? undefined;
}

/** The decoded summaries of a workflow's history events, in order, as the UI's timeline shows them. */
async function eventSummaries(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: string[] = [];
  for (const event of history.events ?? []) {
    const summary = await decodeOptionalSinglePayload<string>(
      client.options.loadedDataConverter,
      event.userMetadata?.summary,
    );
    if (summary) out.push(summary);
  }
  return out;
}

describe('Temporal UI metadata', () => {
  it('a detection shows a summary naming its pair by a tag, current details and a summary on every activity', async () => {
    const prefix = `${harness.taskQueue}/pair`;
    const ref = await harness.upload(reference, `${prefix}/alice-reference.wav`);
    const q = await harness.upload(questioned, `${prefix}/alice-questioned.wav`);
    const input = { reference: ref, questioned: q };
    const handle = await harness.start(input);
    const workflowId = handle.workflowId;
    const view = await waitForDetection(harness.client, workflowId);
    expect(view.state).toBe('completed');
    const verdict = view.state === 'completed' ? view.result.verdict : 'none';

    const description = await handle.describe();
    const summary = await description.staticSummary();
    const details = await description.staticDetails();
    expect(summary).toBe(detectionSummary(input));
    expect(summary).toMatch(/^detection of pair [0-9a-f]{8} · threshold 0$/);
    expect(details).toContain('threshold: 0');
    // Keys and file names stay out of what the UI shows.
    for (const text of [summary, details]) {
      expect(text).not.toContain('alice');
      expect(text).not.toContain(prefix);
    }

    expect(await currentDetails(harness.client, workflowId)).toMatch(
      new RegExp(`^done: ${verdict} \\(score -?[0-9.e-]+ [≥<] threshold 0\\); result recorded$`),
    );

    const summaries = await eventSummaries(harness.client, workflowId);
    expect(summaries[0]).toBe(summary); // WorkflowExecutionStarted carries the static summary
    const jobId = view.state === 'completed' ? view.result.jobId : '';
    expect(summaries.slice(1)).toEqual([
      'inspect reference + questioned, platform info, score cache',
      expect.stringMatching(
        /^upload pair [0-9a-f]{8} to the platform \(submission 1, after a capacity lease\)$/,
      ),
      expect.stringMatching(
        new RegExp(`^wait for job ${jobId.slice(0, 8)}… \\(predicted done at \\d\\d:\\d\\d:\\d\\d UTC\\)$`),
      ),
      `record result: ${verdict}`,
    ]);
  }, 120_000);

  it('a batch sets BatchId on every child, across continue-as-new, and counts its rows in its current details', async () => {
    const prefix = `${harness.taskQueue}/batch`;
    await harness.upload(reference, `${prefix}/ref.wav`);
    await harness.upload(questioned, `${prefix}/q1.wav`);
    await harness.upload(reference, `${prefix}/q2.wav`);
    const uri = (key: string) => `s3://${harness.bucket}/${prefix}/${key}`;
    const manifest = { bucket: harness.bucket, key: `${prefix}/pairs.csv` };
    await harness.s3.send(
      new PutObjectCommand({
        Bucket: manifest.bucket,
        Key: manifest.key,
        Body: [
          'id,reference,questioned',
          `a,${uri('ref.wav')},${uri('q1.wav')}`,
          `b,${uri('ref.wav')},${uri('q2.wav')}`,
        ].join('\n'),
      }),
    );
    const id = `${harness.taskQueue}-ui-batch`;
    // One start per run: the second pair is started by the continued run.
    await startBatch(
      harness.client,
      { manifest, polling: FAST_POLLING, continueAsNewEvery: 1 },
      { id, taskQueue: harness.taskQueue },
    );
    const view = await waitForBatch(harness.client, id, { intervalMs: 250 });
    expect(view.state).toBe('completed');
    if (view.state === 'completed') expect(view.summary.runs).toBeGreaterThanOrEqual(2);

    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const info of harness.client.workflow.list({ query })) ids.push(info.workflowId);
      return ids.sort();
    };
    const children = `BatchId = '${id}' AND WorkflowType = 'detectWorkflow'`;
    await expect.poll(() => listed(children), { timeout: 20_000 }).toHaveLength(2);
    const childIds = await listed(children);
    for (const childId of childIds) expect(childId.startsWith(`${id}-`)).toBe(true);
    // The batch itself carries its id too, on every run.
    const runs = `BatchId = '${id}' AND WorkflowType = 'batchWorkflow'`;
    await expect.poll(async () => (await listed(runs)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(new Set(await listed(runs))).toEqual(new Set([id]));

    const child = await harness.client.workflow.getHandle(childIds[0]!).describe();
    expect(child.typedSearchAttributes.get(BatchId)).toBe(id);
    expect(await child.staticSummary()).toMatch(
      new RegExp(`^detection of pair [0-9a-f]{8} · threshold 0 · batch ${id} · line [23]$`),
    );
    expect(await currentDetails(harness.client, id)).toMatch(
      /^2\/2 done \(0 failed\), 0 in flight \(done\) · run \d+$/,
    );
    // The static summary is the first run's: continue-as-new carries no user metadata (SDK 1.24).
    const first: { runId: string; startTime: Date }[] = [];
    for await (const info of harness.client.workflow.list({ query: `WorkflowId = '${id}'` }))
      first.push({ runId: info.runId, startTime: info.startTime });
    first.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    const batch = await harness.client.workflow.getHandle(id, first[0]!.runId).describe();
    expect(await batch.staticSummary()).toBe(`batch ${id} · pairs from a manifest · threshold 0`);
  }, 180_000);

  it('a batch started by a schedule replaces the schedule id in BatchId with its own, and tags its pairs', async () => {
    const dir = `${harness.taskQueue}/scheduled`;
    const ref = await harness.upload(reference, `${dir}/ref/ref.wav`);
    await harness.upload(questioned, `${dir}/in/q.wav`);
    const name = `ui-${harness.taskQueue.replace(/[^A-Za-z0-9-]/g, '-')}`.slice(0, 60);
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '24h' },
      input: {
        reference: ref,
        prefix: { bucket: harness.bucket, prefix: `${dir}/in/`, suffix: '.wav' },
        polling: FAST_POLLING,
      },
      taskQueue: harness.taskQueue,
    });
    try {
      const { run } = await triggerBatchSchedule(harness.client, name, { waitMs: 15_000 });
      expect(run).not.toBeNull();
      const id = run!.batchId;
      expect((await waitForBatch(harness.client, id, { intervalMs: 250, timeoutMs: 60_000 })).state).toBe(
        'completed',
      );
      const batch = await harness.client.workflow.getHandle(id).describe();
      expect(batch.typedSearchAttributes.get(BatchId)).toBe(id);
      expect(await batch.staticSummary()).toMatch(
        new RegExp(`^batch of schedule ${name} \\(every 24h\\) · `),
      );
      const ids: string[] = [];
      await expect
        .poll(
          async () => {
            ids.length = 0;
            for await (const info of harness.client.workflow.list({ query: `BatchId = '${id}'` }))
              ids.push(info.workflowId);
            return ids.length;
          },
          { timeout: 20_000 },
        )
        .toBe(2);
      expect(ids).toContain(id);
      expect(ids.find((other) => other !== id)).toMatch(new RegExp(`^${id}-[0-9a-f]{24}$`));
    } finally {
      await deleteBatchSchedule(harness.client, name);
    }
  }, 120_000);
});

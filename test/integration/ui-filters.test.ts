/**
 * The README's list filter "detections waiting for the platform for more than N minutes", as
 * written in the README's table, on a real Temporal dev server (its visibility store): it finds a
 * detection that really waits for its platform job, and no longer finds it once it is cancelled,
 * although the cancelled run still carries `DetectionPhase="waiting"` (the last phase it reached).
 */
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechWav } from '../helpers/audio.ts';
import { stopCapacityHarness } from '../helpers/capacity.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

let h: Harness;

beforeAll(async () => {
  // Jobs that take two minutes: the detection is still waiting for its job when the test looks.
  h = await startHarness({ processing: { fixedMs: 120_000 } });
});

afterAll(() => stopCapacityHarness(h));

/** The query of the README's filter-table row whose description starts with `what`. */
async function readmeQuery(what: string): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const row = readme.split('\n').find((line) => line.startsWith(`| ${what}`));
  const query = row && /`([^`]+)`/.exec(row)?.[1];
  if (!query) throw new Error(`README has no filter row "${what}"`);
  return query;
}

/** Workflow ids visibility lists for `query`, narrowed to this test's task queue. */
async function list(client: Client, query: string, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of client.workflow.list({ query: `(${query}) AND TaskQueue="${taskQueue}"` }))
    ids.push(info.workflowId);
  return ids;
}

describe("the README's 'waiting for the platform' filter", () => {
  it('finds a detection waiting for its job, and not once it is cancelled', async () => {
    const template = await readmeQuery('detections waiting for the platform');
    // "Started before <cutoff>": a cutoff in the future counts this detection as old enough.
    const query = template.replace(/StartTime < "[^"]+"/, () => {
      return `StartTime < "${new Date(Date.now() + 60 * 60_000).toISOString()}"`;
    });
    expect(query).not.toBe(template);
    const handle = await h.start({
      reference: await h.upload(
        await speechWav({ text: 'A caller asks about the balance.', voice: 'en+m3' }),
      ),
      questioned: await h.upload(
        await speechWav({ text: 'Please confirm the last payment.', voice: 'en+f3' }),
      ),
      cache: false,
    });
    // Generous: on a loaded 2-core machine the lease, the upload and visibility each take a while.
    const poll = (q: string) =>
      expect.poll(() => list(h.client, q, h.taskQueue), { timeout: 90_000, interval: 500 });

    await poll(query).toEqual([handle.workflowId]);

    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    // The phase stays where the run stopped; only the execution status tells it is no longer waiting.
    await poll(`DetectionPhase="waiting" AND WorkflowId="${handle.workflowId}"`).toEqual([handle.workflowId]);
    await poll(query).toEqual([]);
  }, 300_000);
});

/**
 * Scheduled batches on the real Temporal dev server (its Schedules), real versitygw and the
 * emulator: a schedule created once and described with its policies, triggered runs whose batches
 * complete with reports, `sinceScheduleRun` windows between runs, a backfill over a past window,
 * pause/unpause, list, delete, and `rdd schedule` as a child process.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForBatch, type BatchView } from '../../src/client/batches.ts';
import { BatchScheduleConflictError } from '../../src/client/batch-schedule-conflict-error.ts';
import { BatchScheduleNotFoundError } from '../../src/client/batch-schedule-not-found-error.ts';
import {
  backfillBatchSchedule,
  createBatchSchedule,
  deleteBatchSchedule,
  describeBatchSchedule,
  InvalidScheduleError,
  listBatchSchedules,
  pauseBatchSchedule,
  triggerBatchSchedule,
  unpauseBatchSchedule,
  type BatchScheduleInput,
  type BatchScheduleRun,
} from '../../src/client/schedules.ts';
import { loadReportRows } from '../../src/reports/load-rows.ts';
import type { BatchReportRow } from '../../src/reports/types.ts';
import type { BatchSummary } from '../../src/shared/batch.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

const run = promisify(execFile);
const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');

let harness: Harness;
const recordings: string[] = [];
const created: string[] = [];

beforeAll(async () => {
  for (const [i, voice] of ['en+m3', 'en+f3', 'en+m7'].entries())
    recordings.push(await speechWav({ text: `Scheduled batch recording number ${i + 1}.`, voice }));
  harness = await startHarness({ processing: { fixedMs: 100 } });
}, 180_000);

afterAll(async () => {
  for (const name of created) await deleteBatchSchedule(harness.client, name).catch(() => undefined);
  await harness?.close();
});

/** A schedule name of this file's own, deleted after the file. */
function scheduleName(what: string): string {
  const name = `${harness.taskQueue}-${what}`;
  created.push(name);
  return name;
}

/** A reference at `<dir>/ref/ref.wav` (outside the scored prefix) and the prefix input. */
async function prefixInput(
  dir: string,
  extra: Partial<BatchScheduleInput> = {},
): Promise<BatchScheduleInput> {
  const reference = await harness.upload(recordings[0]!, `${dir}/ref/ref.wav`);
  return {
    reference,
    prefix: { bucket: harness.bucket, prefix: `${dir}/in/`, suffix: '.wav' },
    polling: FAST_POLLING,
    ...extra,
  };
}

async function completed(batchId: string): Promise<{ summary: BatchSummary; rows: BatchReportRow[] }> {
  const view = await waitForBatch(harness.client, batchId, { intervalMs: 250, timeoutMs: 60_000 });
  expect(view.state, JSON.stringify(view)).toBe('completed');
  const summary = (view as Extract<BatchView, { state: 'completed' }>).summary;
  const answer = await harness.s3.send(
    new GetObjectCommand({ Bucket: harness.bucket, Key: summary.files.jsonl.key }),
  );
  return { summary, rows: loadReportRows(await answer.Body!.transformToString()) };
}

async function trigger(name: string): Promise<BatchScheduleRun> {
  const { run: started } = await triggerBatchSchedule(harness.client, name, { waitMs: 15_000 });
  expect(started).not.toBeNull();
  return started!;
}

/** LastModified has whole seconds: let the second of the last upload pass before a run is scheduled. */
const nextSecond = () => sleep(1100);

describe('batch schedules', () => {
  it('creates a schedule once, describes its spec and policies, and refuses a different definition', async () => {
    const name = scheduleName('nightly');
    const input = await prefixInput(`${harness.taskQueue}/nightly`);
    const options = { name, spec: { cron: '0 2 * * *' }, input, taskQueue: harness.taskQueue };

    expect(await createBatchSchedule(harness.client, options)).toEqual({
      scheduleId: `batch-schedule-${name}`,
      existing: false,
    });
    expect(await createBatchSchedule(harness.client, options)).toEqual({
      scheduleId: `batch-schedule-${name}`,
      existing: true,
    });
    await expect(
      createBatchSchedule(harness.client, { ...options, spec: { cron: '0 3 * * *' } }),
    ).rejects.toBeInstanceOf(BatchScheduleConflictError);

    const view = await describeBatchSchedule(harness.client, name);
    expect(view).toMatchObject({
      scheduleId: `batch-schedule-${name}`,
      spec: { cron: '0 2 * * *' },
      specText: 'cron "0 2 * * *" (UTC)',
      overlap: 'BUFFER_ONE',
      catchupWindowMs: 3_600_000,
      paused: false,
      taskQueue: harness.taskQueue,
      actionsTaken: 0,
    });
    expect(view.input).toEqual(input);
    // The spec is the server's: the next runs are at 02:00 UTC.
    expect(view.nextRuns.length).toBeGreaterThan(0);
    for (const next of view.nextRuns) expect(next).toMatch(/T02:00:00\.000Z$/);

    // One schedule under the name, as list (visibility, eventually consistent) shows.
    let listed = await listBatchSchedules(harness.client);
    for (let i = 0; i < 50 && !listed.some((s) => s.name === name); i++) {
      await sleep(200);
      listed = await listBatchSchedules(harness.client);
    }
    expect(listed.filter((s) => s.name === name)).toEqual([
      expect.objectContaining({ scheduleId: `batch-schedule-${name}`, specText: 'cron "0 2 * * *" (UTC)' }),
    ]);
  });

  it('triggers a run whose batch scores every object under the prefix and writes its reports', async () => {
    const name = scheduleName('triggered');
    const dir = `${harness.taskQueue}/triggered`;
    const input = await prefixInput(dir);
    await harness.upload(recordings[1]!, `${dir}/in/a.wav`);
    await harness.upload(recordings[2]!, `${dir}/in/b.wav`);
    await harness.upload(recordings[2]!, `${dir}/in/notes.txt`);
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '24h' },
      input,
      taskQueue: harness.taskQueue,
    });

    const started = await trigger(name);
    expect(started.batchId).toMatch(
      new RegExp(`^batch-schedule-${name}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`),
    );
    const { summary, rows } = await completed(started.batchId);

    expect(rows.map((r) => r.questioned).sort()).toEqual([
      `s3://${harness.bucket}/${dir}/in/a.wav`,
      `s3://${harness.bucket}/${dir}/in/b.wav`,
    ]);
    expect(rows.every((r) => r.errorType === null && typeof r.score === 'number')).toBe(true);
    expect(summary.location).toBe(`s3://${harness.bucket}/batches/${started.batchId}/`);
    for (const file of [summary.files.csv, summary.files.html]) {
      const answer = await harness.s3.send(new GetObjectCommand({ Bucket: file.bucket, Key: file.key }));
      expect((await answer.Body!.transformToString()).length).toBeGreaterThan(0);
    }
    const view = await describeBatchSchedule(harness.client, name);
    expect(view.recentRuns.map((r) => r.batchId)).toEqual([started.batchId]);
  });

  it('with sinceScheduleRun, each run takes only the objects modified since the previous run', async () => {
    const name = scheduleName('since');
    const dir = `${harness.taskQueue}/since`;
    const input = await prefixInput(dir, {});
    (input as Extract<BatchScheduleInput, { prefix: unknown }>).prefix.sinceScheduleRun = true;
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '24h' },
      input,
      taskQueue: harness.taskQueue,
    });
    const key = (k: string) => `s3://${harness.bucket}/${dir}/in/${k}`;

    await harness.upload(recordings[1]!, `${dir}/in/old-1.wav`);
    await harness.upload(recordings[2]!, `${dir}/in/old-2.wav`);
    await nextSecond();
    // The first run has no previous one: everything modified before it.
    const first = await completed((await trigger(name)).batchId);
    expect(first.rows.map((r) => r.questioned).sort()).toEqual([key('old-1.wav'), key('old-2.wav')]);

    await harness.upload(recordings[1]!, `${dir}/in/new-1.wav`);
    await nextSecond();
    const second = await completed((await trigger(name)).batchId);
    expect(second.rows.map((r) => r.questioned)).toEqual([key('new-1.wav')]);
    expect(second.rows[0]!.errorType).toBeNull();

    // Nothing new: an empty batch, still completed with its (empty) reports.
    await nextSecond();
    const third = await completed((await trigger(name)).batchId);
    expect(third.rows).toEqual([]);
  });

  it('two triggers in a row get two batch ids (the id has whole seconds)', async () => {
    const name = scheduleName('twice');
    const input = await prefixInput(`${harness.taskQueue}/twice`);
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '24h' },
      input,
      taskQueue: harness.taskQueue,
    });
    const first = await triggerBatchSchedule(harness.client, name, { waitMs: 15_000 });
    expect(first.run).not.toBeNull();
    await completed(first.run!.batchId).catch(() => undefined);
    // At once, within the second of the first run: the trigger waits for the next second.
    const second = await triggerBatchSchedule(harness.client, name, { waitMs: 15_000 });
    expect(second.run).not.toBeNull();
    expect(second.run!.batchId).not.toBe(first.run!.batchId);
    expect(Math.floor(Date.parse(second.run!.scheduledAt) / 1000)).toBeGreaterThan(
      Math.floor(Date.parse(first.run!.scheduledAt) / 1000),
    );
  });

  /** An hourly schedule `<tag>` batching the prefix `<queue>/<tag>/in/`, which holds one recording. */
  async function hourlyScheduleOverOneFile(tag: string): Promise<{ name: string; dir: string }> {
    const name = scheduleName(tag);
    const dir = `${harness.taskQueue}/${tag}`;
    const input = await prefixInput(dir);
    await harness.upload(recordings[1]!, `${dir}/in/a.wav`);
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '1h' },
      input,
      taskQueue: harness.taskQueue,
    });
    return { name, dir };
  }

  it('backfills a past window: one batch per scheduled time in it, each completed', async () => {
    const { name, dir } = await hourlyScheduleOverOneFile('backfill');

    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    // [H−2.5h, H−0.5h] holds exactly the full hours H−2h and H−1h.
    await backfillBatchSchedule(harness.client, name, {
      from: new Date(hour - 2.5 * 3_600_000),
      to: new Date(hour - 0.5 * 3_600_000),
    });
    const expected = [hour - 2 * 3_600_000, hour - 3_600_000].map((t) => new Date(t).toISOString());
    let runs: BatchScheduleRun[] = [];
    for (let i = 0; i < 150; i++) {
      runs = (await describeBatchSchedule(harness.client, name)).recentRuns.filter((r) =>
        expected.includes(r.scheduledAt),
      );
      if (runs.length === expected.length) break;
      await sleep(200);
    }
    expect(runs.map((r) => r.scheduledAt).sort()).toEqual(expected);
    for (const r of runs) {
      expect(r.batchId).toBe(`batch-schedule-${name}-${r.scheduledAt.replace('.000Z', 'Z')}`);
      const { rows } = await completed(r.batchId);
      expect(rows.map((row) => row.questioned)).toEqual([`s3://${harness.bucket}/${dir}/in/a.wav`]);
    }
  });

  it('one scheduled time is one batch: a repeated or overlapping backfill starts only the missing times', async () => {
    const { name } = await hourlyScheduleOverOneFile('rebackfill');
    const H = 3_600_000;
    const hour = Math.floor(Date.now() / H) * H;
    const iso = (t: number) => new Date(t).toISOString();
    const idOf = (t: number) => `batch-schedule-${name}-${iso(t).replace('.000Z', 'Z')}`;
    /** Every run the schedule took, waiting until `count` are there and none runs. */
    const settled = async (count: number) => {
      for (let i = 0; i < 300; i++) {
        const view = await describeBatchSchedule(harness.client, name);
        if (view.recentRuns.length >= count && view.running.length === 0) return view;
        await sleep(200);
      }
      throw new Error(`fewer than ${count} runs`);
    };

    // H−3h and H−2h.
    const first = await backfillBatchSchedule(harness.client, name, {
      from: new Date(hour - 3.5 * H),
      to: new Date(hour - 1.5 * H),
    });
    expect(first.skipped).toEqual([]);
    await settled(2);
    for (const t of [hour - 3 * H, hour - 2 * H]) await completed(idOf(t));
    // Visibility is eventually consistent: let the completed runs show in the list.
    await sleep(2000);

    // The same window again: nothing new. An overlapping one: only H−1h.
    const again = await backfillBatchSchedule(harness.client, name, {
      from: new Date(hour - 3.5 * H),
      to: new Date(hour - 1.5 * H),
    });
    expect(again.skipped).toEqual([idOf(hour - 3 * H), idOf(hour - 2 * H)]);
    const overlapping = await backfillBatchSchedule(harness.client, name, {
      from: new Date(hour - 2.5 * H),
      to: new Date(hour - 0.5 * H),
    });
    expect(overlapping.skipped).toEqual([idOf(hour - 2 * H)]);
    const view = await settled(3);
    await completed(idOf(hour - H));
    await sleep(1000);
    const after = await describeBatchSchedule(harness.client, name);
    expect(after.recentRuns.map((r) => r.scheduledAt).sort()).toEqual(
      [hour - 3 * H, hour - 2 * H, hour - H].map(iso),
    );
    expect(view.actionsTaken).toBe(3);
    // Each id ran once.
    for (const t of [hour - 3 * H, hour - 2 * H, hour - H]) {
      const runs = [];
      for await (const wf of harness.client.workflow.list({ query: `WorkflowId = '${idOf(t)}'` }))
        runs.push(wf);
      expect(runs).toHaveLength(1);
    }
  });

  it('refuses a bad cron field or time zone with InvalidScheduleError, before Temporal is asked', async () => {
    const input = await prefixInput(`${harness.taskQueue}/badspec`);
    for (const [spec, message] of [
      [{ cron: '61 * * * *' }, 'cron "61 * * * *": minute 61 is not in 0–59'],
      [{ cron: '0 2 * * *', timezone: 'Mars/Olympus' }, 'timezone "Mars/Olympus" is not a known IANA'],
      [{ cron: '0 2 31 2 *' }, 'never runs'],
    ] as const) {
      const name = scheduleName(`badspec-${spec.cron.replace(/\W/g, '')}`);
      const error = await createBatchSchedule(harness.client, { name, spec, input }).catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(InvalidScheduleError);
      expect((error as Error).message).toContain(message);
      await expect(describeBatchSchedule(harness.client, name)).rejects.toBeInstanceOf(
        BatchScheduleNotFoundError,
      );
    }
  });

  it('pauses, unpauses and deletes a schedule', async () => {
    const name = scheduleName('steer');
    const input = await prefixInput(`${harness.taskQueue}/steer`);
    await createBatchSchedule(harness.client, {
      name,
      spec: { every: '1h' },
      input,
      taskQueue: harness.taskQueue,
    });

    expect(await pauseBatchSchedule(harness.client, name, 'maintenance')).toEqual({ changed: true });
    expect(await describeBatchSchedule(harness.client, name)).toMatchObject({
      paused: true,
      note: 'maintenance',
    });
    // Pausing again without a note: nothing changes, the operator's note stays.
    expect(await pauseBatchSchedule(harness.client, name)).toEqual({ changed: false });
    expect(await describeBatchSchedule(harness.client, name)).toMatchObject({
      paused: true,
      note: 'maintenance',
    });
    expect(await unpauseBatchSchedule(harness.client, name)).toEqual({ changed: true });
    expect(await describeBatchSchedule(harness.client, name)).toMatchObject({ paused: false });
    expect(await unpauseBatchSchedule(harness.client, name)).toEqual({ changed: false });

    // A backfill window in the future, or one of more runs than allowed: refused, nothing queued.
    const hour = 3_600_000;
    await expect(
      backfillBatchSchedule(harness.client, name, {
        from: new Date(Date.now() - hour),
        to: new Date(Date.now() + 48 * hour),
      }),
    ).rejects.toThrow(/in the future: a backfill runs past times only/);
    await expect(
      backfillBatchSchedule(harness.client, name, {
        from: new Date(Date.now() - 200 * hour),
        to: new Date(Date.now() - hour),
      }),
    ).rejects.toThrow(/would start about 200 batches \(every 1h\), more than 100/);
    expect((await describeBatchSchedule(harness.client, name)).recentRuns).toEqual([]);

    await deleteBatchSchedule(harness.client, name);
    await expect(describeBatchSchedule(harness.client, name)).rejects.toBeInstanceOf(
      BatchScheduleNotFoundError,
    );
    await expect(pauseBatchSchedule(harness.client, name)).rejects.toBeInstanceOf(BatchScheduleNotFoundError);
  });

  it('rdd schedule create/describe/delete as a child process, with its exit codes', async () => {
    const name = scheduleName('cli');
    const dir = `${harness.taskQueue}/cli`;
    await prefixInput(dir);
    const rdd = (...args: string[]) =>
      run(process.execPath, [RDD, 'schedule', ...args], { env: { ...process.env, ...harness.env } }).then(
        (r) => ({ code: 0, ...r }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    const create = [
      'create',
      name,
      '--reference',
      `s3://${harness.bucket}/${dir}/ref/ref.wav`,
      '--prefix',
      `s3://${harness.bucket}/${dir}/in/`,
      '--suffix',
      '.wav',
      '--every',
      '24h',
      '--since-last-run',
    ];
    const first = await rdd(...create);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`created batch-schedule-${name}`);
    expect((await rdd(...create)).stdout).toContain(`existing batch-schedule-${name}`);
    const differs = await rdd(...create.slice(0, -3), '--every', '12h');
    expect(differs.code).toBe(2);
    expect(differs.stderr).toContain('already exists with a different spec or batch');

    const described = await rdd('describe', name);
    expect(described.stdout).toMatch(/overlap\s+BUFFER_ONE/);
    expect(described.stdout).toMatch(/catch-up\s+1h/);
    expect(described.stdout).toContain('only objects modified since the previous run');
    const json = JSON.parse((await rdd('describe', name, '--json')).stdout) as { input: BatchScheduleInput };
    expect(json.input).toMatchObject({ prefix: { sinceScheduleRun: true, suffix: '.wav' } });

    const usage = await rdd('create', `${name}-x`, '--prefix', 's3://b/p/', '--reference', 's3://b/r.wav');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give exactly one of --cron and --every');

    expect((await rdd('delete', name)).code).toBe(0);
    const gone = await rdd('describe', name);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain('does not exist');
  });
});

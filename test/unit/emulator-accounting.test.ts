/**
 * The emulator's benchmark accounting: the pure math the bench reports with (percentiles,
 * utilisation from busy intervals) and the dev-only admin route (per-job polls, request counts,
 * the processing model set per run, off unless asked for).
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';

import {
  ADMIN_PREFIX,
  busySeconds,
  percentile,
  RDD_ENDPOINT,
  startEmulator,
  utilisation,
  type AccountingSnapshot,
  type RunningEmulator,
} from '../../dev/emulator/index.ts';
import { SENTENCES, speechWav } from '../helpers/audio.ts';

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 1)).toBe(5);
    expect(percentile([5, 1, 3, 2, 4], 0)).toBe(1);
    const hundred = Array.from({ length: 100 }, (_, n) => n + 1);
    expect(percentile(hundred, 0.95)).toBe(95);
    expect(percentile(hundred, 0.99)).toBe(99);
  });

  it('is NaN without values and refuses p outside 0…1', () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });
});

describe('utilisation', () => {
  it('counts busy slot-time inside the window only', () => {
    const jobs = [
      { start: 0, end: 2 },
      { start: 1, end: 3 },
      { start: 5, end: 9 },
    ];
    expect(busySeconds(jobs, { start: 0, end: 2 })).toBe(3);
    expect(busySeconds(jobs, { start: 2.5, end: 6 })).toBe(1.5);
    expect(busySeconds(jobs, { start: 10, end: 20 })).toBe(0);
  });

  it('is busy slot-time over capacity × window', () => {
    expect(utilisation([{ start: 0, end: 10 }], 2, { start: 0, end: 10 })).toBe(0.5);
    const full = Array.from({ length: 4 }, () => ({ start: 0, end: 4 }));
    expect(utilisation(full, 4, { start: 0, end: 4 })).toBe(1);
    expect(utilisation(full, 4, { start: 0, end: 8 })).toBe(0.5);
  });

  it('refuses an empty window or no capacity', () => {
    expect(() => utilisation([], 1, { start: 3, end: 3 })).toThrow(RangeError);
    expect(() => utilisation([], 0, { start: 0, end: 1 })).toThrow(RangeError);
  });
});

describe('the admin route', () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  const submit = async (url: string): Promise<string> => {
    const wav = await readFile(await speechWav({ text: SENTENCES.a }));
    const form = new FormData();
    form.set('file_reference', new Blob([wav]), 'reference.wav');
    form.set('file_questioned', new Blob([wav]), 'questioned.wav');
    const response = await fetch(`${url}${RDD_ENDPOINT}`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    return ((await response.json()) as { task: { task_id: string } }).task.task_id;
  };

  it('is off by default: its paths are unknown, like any other', async () => {
    emulator = await startEmulator();
    const response = await fetch(`${emulator.url}${ADMIN_PREFIX}/accounting`);
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  it('reports each job with its timestamps and polls, and counts requests by kind', async () => {
    emulator = await startEmulator({ admin: true, processing: { fixedMs: 0 } });
    const { url } = emulator;
    const jobId = await submit(url);
    let state = 'pending';
    while (state !== 'done') {
      const poll = await fetch(`${url}${RDD_ENDPOINT}/${jobId}`);
      state = ((await poll.json()) as { task: { state: string } }).task.state;
    }
    await (await fetch(`${url}/api/system/info`)).body?.cancel();

    const snapshot = (await (await fetch(`${url}${ADMIN_PREFIX}/accounting`)).json()) as AccountingSnapshot;
    const job = snapshot.jobs.find((j) => j.jobId === jobId)!;
    expect(job.state).toBe('done');
    expect(job.startedAt).toBeGreaterThanOrEqual(job.acceptedAt);
    expect(job.finishedAt).toBeGreaterThanOrEqual(job.startedAt!);
    expect(job.polls).toBeGreaterThanOrEqual(1);
    expect(job.pollsAfterFinish).toBe(1);
    expect(snapshot.requests).toMatchObject({ submit: 1, poll: job.polls, info: 1 });
    expect(snapshot.maxConcurrentJobs).toBe(1);

    const reset = await fetch(`${url}${ADMIN_PREFIX}/accounting/reset`, { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(emulator.accounting().jobs).toEqual([]);
  });

  it('sets capacity and the processing model per run', async () => {
    emulator = await startEmulator({ admin: true, capacity: 1, processing: { fixedMs: 0 } });
    const { url } = emulator;
    const set = await fetch(`${url}${ADMIN_PREFIX}/model`, {
      method: 'PUT',
      body: JSON.stringify({ capacity: 3, processing: { fixedMs: 60_000 } }),
    });
    expect(await set.json()).toEqual({ capacity: 3 });
    for (let n = 0; n < 4; n++) await submit(url);
    const snapshot = emulator.accounting();
    expect(snapshot.capacity).toBe(3);
    // Three slots run the long jobs; the fourth waits.
    expect(snapshot.jobs.filter((j) => j.startedAt !== undefined)).toHaveLength(3);
    expect(snapshot.jobs.every((j) => j.processingMs === undefined || j.processingMs === 60_000)).toBe(true);

    const bad = await fetch(`${url}${ADMIN_PREFIX}/model`, { method: 'PUT', body: '{"capacity":0}' });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
  });
});

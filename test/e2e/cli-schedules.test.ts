/**
 * `rdd sweep` and `rdd schedule` as a user runs them: child processes of `rdd` against the real
 * Temporal dev server, versitygw and a worker with the emulator. A sweep created, triggered (it
 * starts the detection of an object whose S3 event was never sent, and leaves a scored one alone)
 * and deleted; a batch schedule listed, paused, unpaused, triggered (its batch completes) and
 * backfilled over a past window; and the bad-input paths with their exit codes (2 usage, 4 not
 * found). `rdd schedule create|describe|delete` are also covered in
 * test/integration/schedules.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForBatch } from '../../src/client/batches.ts';
import { waitForDetection } from '../../src/client/detections.ts';
import { s3EventDetectionId, startObjectDetection } from '../../src/client/object-detections.ts';
import { deleteBatchSchedule, type BatchScheduleView } from '../../src/client/schedules.ts';
import { deleteSweepSchedule } from '../../src/client/sweeps.ts';
import { parseEventRules } from '../../src/shared/event-rules.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

let harness: Harness;
/** The children's working directory: empty, so no `.stack/env` of a running dev stack leaks in. */
let cwd: string;
let reference: Buffer;
let questioned: Buffer;
const sweeps: string[] = [];
const schedules: string[] = [];

beforeAll(async () => {
  reference = await readFile(
    await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
  );
  questioned = await readFile(
    await speechWav({ text: 'The weather today is calm and the sea is quiet.', voice: 'en+m3' }),
  );
  harness = await startHarness({ processing: { fixedMs: 100 } });
  cwd = mkdtempSync(path.join(tmpdir(), 'rdd-cli-schedules-'));
}, 180_000);

afterAll(async () => {
  for (const name of sweeps) await deleteSweepSchedule(harness.client, name).catch(() => undefined);
  for (const name of schedules) await deleteBatchSchedule(harness.client, name).catch(() => undefined);
  await harness?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** Runs `rdd …args` with the harness's environment plus `env`. */
function rdd(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = { ...process.env, ...harness.env, ...env };
    for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
    const child = spawn(process.execPath, [RDD, ...args], { cwd, env: merged });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function put(key: string, body: Buffer): Promise<string> {
  const answer = await harness.s3.send(
    new PutObjectCommand({ Bucket: harness.bucket, Key: key, Body: body }),
  );
  return answer.ETag!;
}

/** Waits until a workflow with this id exists (a schedule starts it asynchronously). */
async function waitForWorkflow(workflowId: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await harness.client.workflow.getHandle(workflowId).describe();
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || i > 300) throw err;
      await sleep(100);
    }
  }
}

describe('rdd sweep', () => {
  it('create, trigger: the detection of an unscored object starts, a scored one is left alone; delete', async () => {
    const name = `${harness.taskQueue}-sweep`;
    sweeps.push(name);
    const prefix = `${harness.taskQueue}/sweep`;
    const rules = [
      { match: `${prefix}/calls/{customer}/{call}.wav`, reference: `${prefix}/refs/{customer}.wav` },
    ];
    const env = { S3_EVENT_RULES: JSON.stringify(rules) };
    await put(`${prefix}/refs/acme.wav`, reference);
    const lost = { bucket: harness.bucket, key: `${prefix}/calls/acme/lost.wav` };
    const lostEtag = await put(lost.key, questioned);
    const scored = { bucket: harness.bucket, key: `${prefix}/calls/acme/scored.wav` };
    const scoredEtag = await put(scored.key, questioned);
    // The scored object had its event: detected before the sweep.
    const event = await startObjectDetection(
      harness.client,
      parseEventRules(rules),
      { ...scored, etag: scoredEtag },
      { taskQueue: harness.taskQueue },
    );
    expect(event.status).toBe('started');
    const scoredId = s3EventDetectionId({ ...scored, etag: scoredEtag });
    expect((await waitForDetection(harness.client, scoredId, { timeoutMs: 30_000 })).state).toBe('completed');
    const scoredRun = (await harness.client.workflow.getHandle(scoredId).describe()).runId;
    const lostId = s3EventDetectionId({ ...lost, etag: lostEtag });

    const create = [
      'sweep',
      'create',
      name,
      '--prefix',
      `s3://${harness.bucket}/${prefix}/calls/`,
      '--every',
      '1d',
    ];
    const created = await rdd(create, env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toBe(
      `created sweep-${name}: s3://${harness.bucket}/${prefix}/calls/ every 1d, 1 rule (overlap SKIP, catch-up 1h)\n`,
    );
    expect((await rdd(create, env)).stdout).toMatch(new RegExp(`^unchanged sweep-${name}:`));
    // Created, not run: nothing started the lost object's detection yet.
    await expect(harness.client.workflow.getHandle(lostId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    const triggered = await rdd(['sweep', 'trigger', name]);
    expect(triggered.stderr).toBe('');
    expect(triggered).toMatchObject({ code: 0, stdout: `triggered sweep-${name}\n` });
    await waitForWorkflow(lostId);
    const view = await waitForDetection(harness.client, lostId, { timeoutMs: 30_000 });
    expect(view.state).toBe('completed');
    if (view.state === 'completed') {
      expect(view.result.questioned).toMatchObject(lost);
      expect(view.result.reference).toMatchObject({ bucket: harness.bucket, key: `${prefix}/refs/acme.wav` });
    }
    expect((await harness.client.workflow.getHandle(scoredId).describe()).runId).toBe(scoredRun);

    const deleted = await rdd(['sweep', 'delete', name]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted sweep-${name}\n`, stderr: '' });
    await expect(harness.client.schedule.getHandle(`sweep-${name}`).describe()).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
    // Deleting again is "not found", said so (as `rdd schedule delete`); so is triggering it.
    const again = await rdd(['sweep', 'delete', name]);
    expect(again).toMatchObject({
      code: 4,
      stdout: '',
      stderr: `rdd sweep delete: no such sweep sweep-${name}: nothing to delete\n`,
    });
    const gone = await rdd(['sweep', 'trigger', name]);
    expect(gone.code).toBe(4);
    expectOneLine(gone.stderr);
    expect(gone.stderr).toBe(
      `rdd sweep trigger: no such sweep sweep-${name} (rdd sweep create ${name} … makes it)\n`,
    );
  });

  it('bad input: exit 2 naming the problem, exit 4 for an unknown sweep, nothing created', async () => {
    const name = `${harness.taskQueue}-bad`;
    sweeps.push(name);
    const rules = JSON.stringify([{ match: 'calls/{c}/{id}.wav', reference: 'refs/{c}.wav' }]);
    const unknown = await rdd(['sweep', 'trigger', `${harness.taskQueue}-no-such-sweep`]);
    expect(unknown.code).toBe(4);
    expectOneLine(unknown.stderr);
    expect(unknown.stderr).toContain(`no such sweep sweep-${harness.taskQueue}-no-such-sweep`);

    const cases: [string[], Record<string, string | undefined>, string][] = [
      [
        ['--prefix', `s3://${harness.bucket}/calls/`],
        { S3_EVENT_RULES: rules },
        'give exactly one of --every and --cron',
      ],
      [
        ['--prefix', 'calls/', '--every', '1h'],
        { S3_EVENT_RULES: rules },
        '--prefix "calls/" is not an s3://bucket/prefix URL',
      ],
      [
        ['--prefix', `s3://${harness.bucket}/calls/`, '--every', '1h'],
        { S3_EVENT_RULES: undefined },
        'S3_EVENT_RULES is not set',
      ],
      [
        ['--prefix', `s3://${harness.bucket}/calls/`, '--every', '1h'],
        { S3_EVENT_RULES: '[{"match":"calls/x.wav"}]' },
        'invalid S3 event rules: rules[0].reference must be a non-empty string',
      ],
      [
        ['--prefix', `s3://${harness.bucket}/calls/`, '--every', '10s'],
        { S3_EVENT_RULES: rules },
        'every "10s" must be like 15m, 1h or 1d',
      ],
      [
        ['--prefix', `s3://${harness.bucket}/calls/`, '--every', '1h'],
        { S3_EVENT_RULES: '[]' },
        'S3_EVENT_RULES is an empty list: the sweep needs at least one rule',
      ],
      [
        ['--prefix', `s3://${harness.bucket}/calls/`, '--cron', '61 * * * *'],
        { S3_EVENT_RULES: rules },
        '--cron "61 * * * *": minute 61 is not in 0–59',
      ],
    ];
    for (const [args, env, message] of cases) {
      const answer = await rdd(['sweep', 'create', name, ...args], env);
      expect(answer.code, answer.stderr).toBe(2);
      expect(answer.stderr).toContain(message);
      expect(answer.stderr).not.toMatch(/\n\s+at /);
    }
    const badName = await rdd(['sweep', 'trigger', 'a/b']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('sweep name "a/b" must be 1–100 of A-Z a-z 0-9 . _ -');
    await expect(harness.client.schedule.getHandle(`sweep-${name}`).describe()).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
  });
});

describe('rdd schedule list|pause|unpause|trigger|backfill', () => {
  it('lists, pauses with a note, unpauses, triggers a batch that completes, backfills a past window', async () => {
    const name = `${harness.taskQueue}-nightly`;
    schedules.push(name);
    const dir = `${harness.taskQueue}/nightly`;
    await put(`${dir}/ref/ref.wav`, reference);
    await put(`${dir}/in/a.wav`, questioned);
    const created = await rdd([
      'schedule',
      'create',
      name,
      '--reference',
      `s3://${harness.bucket}/${dir}/ref/ref.wav`,
      '--prefix',
      `s3://${harness.bucket}/${dir}/in/`,
      '--suffix',
      '.wav',
      '--every',
      '1d',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);

    const listed = await rdd(['schedule', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toContainEqual(
      expect.stringMatching(new RegExp(`^${name}  .*  next .*  never ran$`)),
    );
    const listedJson = JSON.parse((await rdd(['schedule', 'list', '--json'])).stdout) as { name: string }[];
    expect(listedJson.map((s) => s.name)).toContain(name);

    const paused = await rdd(['schedule', 'pause', name, '--note', 'maintenance window']);
    expect(paused).toMatchObject({ code: 0, stdout: `paused batch-schedule-${name}: paused\n`, stderr: '' });
    // Pausing again without a note changes nothing, says so, and keeps the operator's note.
    const pausedAgain = await rdd(['schedule', 'pause', name]);
    expect(pausedAgain).toMatchObject({
      code: 0,
      stdout: `batch-schedule-${name} was already paused: nothing changed\n`,
      stderr: '',
    });
    const described = await rdd(['schedule', 'describe', name]);
    expect(described.stdout).toMatch(/state\s+paused — maintenance window/);
    expect((await rdd(['schedule', 'list'])).stdout).toMatch(
      new RegExp(`^${name}  .*  paused  never ran$`, 'm'),
    );
    const unpaused = await rdd(['schedule', 'unpause', name]);
    expect(unpaused).toMatchObject({ code: 0, stdout: `unpaused batch-schedule-${name}: running\n` });
    expect((await rdd(['schedule', 'unpause', name])).stdout).toBe(
      `batch-schedule-${name} was already running: nothing changed\n`,
    );
    // Five years of a daily schedule is ~1,800 batches: refused (nothing queued) unless allowed.
    const huge = await rdd([
      'schedule',
      'backfill',
      name,
      '--from',
      '2020-01-01T00:00:00Z',
      '--to',
      '2025-01-01T00:00:00Z',
    ]);
    expect(huge.code, huge.stderr).toBe(2);
    expect(huge.stderr).toMatch(/would start about 18\d\d batches \(every 1d\), more than 100: .*--max-runs/);

    const triggered = await rdd(['schedule', 'trigger', name, '--json']);
    expect(triggered.stderr).toBe('');
    expect(triggered.code).toBe(0);
    const { run } = JSON.parse(triggered.stdout) as { run: { batchId: string } | null };
    expect(run?.batchId).toMatch(new RegExp(`^batch-schedule-${name}-`));
    const batch = await waitForBatch(harness.client, run!.batchId, { intervalMs: 250, timeoutMs: 60_000 });
    expect(batch.state, JSON.stringify(batch)).toBe('completed');
    if (batch.state === 'completed') expect(batch.summary.counts).toMatchObject({ total: 1, scored: 1 });

    // Every 1d is aligned to 00:00 UTC: [D−1d−12h, D−12h] holds exactly D−1d.
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const from = new Date(day - 1.5 * 86_400_000).toISOString();
    const to = new Date(day - 0.5 * 86_400_000).toISOString();
    const backfill = await rdd(['schedule', 'backfill', name, '--from', from, '--to', to]);
    expect(backfill.stderr).toBe('');
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain(`backfill ${from} – ${to} requested`);
    const expected = new Date(day - 86_400_000).toISOString();
    let view: BatchScheduleView | undefined;
    for (let i = 0; i < 150; i++) {
      view = JSON.parse((await rdd(['schedule', 'describe', name, '--json'])).stdout) as BatchScheduleView;
      if (view.recentRuns.some((r) => r.scheduledAt === expected)) break;
      await sleep(200);
    }
    const backfilled = view!.recentRuns.find((r) => r.scheduledAt === expected);
    expect(backfilled, JSON.stringify(view?.recentRuns)).toBeDefined();
    const past = await waitForBatch(harness.client, backfilled!.batchId, {
      intervalMs: 250,
      timeoutMs: 60_000,
    });
    expect(past.state).toBe('completed');
  });

  it('bad input: exit 4 naming an unknown schedule for every command, exit 2 for a bad window or name', async () => {
    const missing = `${harness.taskQueue}-no-such-schedule`;
    for (const args of [
      ['describe', missing],
      ['pause', missing],
      ['unpause', missing],
      ['trigger', missing],
      ['delete', missing],
      ['backfill', missing, '--from', '2025-01-01T00:00:00Z', '--to', '2025-01-02T00:00:00Z'],
    ]) {
      const answer = await rdd(['schedule', ...args]);
      expect(answer.code, `${args[0]}: ${answer.stderr}`).toBe(4);
      expectOneLine(answer.stderr);
      expect(answer.stderr).toContain(`batch-schedule-${missing}`);
      expect(answer.stderr).toContain('does not exist');
    }
    const reversed = await rdd([
      'schedule',
      'backfill',
      missing,
      '--from',
      '2025-01-02T00:00:00Z',
      '--to',
      '2025-01-01T00:00:00Z',
    ]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('--from must be before --to');
    const notTime = await rdd(['schedule', 'backfill', missing, '--from', 'yesterday', '--to', 'today']);
    expect(notTime.code).toBe(2);
    expect(notTime.stderr).toContain(
      '--from "yesterday" is not an ISO time; --to "today" is not an ISO time',
    );
    const badName = await rdd(['schedule', 'pause', 'a/b']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('"a/b"');
    // A window after now: refused before Temporal is asked (even for a missing schedule).
    const future = await rdd([
      'schedule',
      'backfill',
      missing,
      '--from',
      '2030-01-01T00:00:00Z',
      '--to',
      '2030-01-03T00:00:00Z',
    ]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('--to 2030-01-03T00:00:00.000Z is in the future');
    // Bad cron fields and time zones: exit 2 naming the option, nothing created.
    const create = (...spec: string[]) =>
      rdd([
        'schedule',
        'create',
        missing,
        '--reference',
        `s3://${harness.bucket}/refs/r.wav`,
        '--prefix',
        `s3://${harness.bucket}/in/`,
        ...spec,
      ]);
    for (const [spec, message] of [
      [['--cron', '61 * * * *'], '--cron "61 * * * *": minute 61 is not in 0–59'],
      [
        ['--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'],
        '--timezone "Mars/Olympus" is not a known IANA',
      ],
      [['--cron', '0 2 31 2 *'], '--cron "0 2 31 2 *" never runs'],
      // What Intl or other crons take and Temporal refuses: caught here, naming the option.
      [
        ['--cron', '0 2 * * *', '--timezone', 'utc'],
        '--timezone "utc" must be spelled as the tz database does: UTC',
      ],
      [['--cron', '0 2 * * *', '--timezone', '+02:00'], '--timezone "+02:00" is an offset'],
      [['--cron', '0 0 L * *'], '--cron "0 0 L * *": day of month "L"'],
      [['--cron', '0 2 ? * *'], '--cron "0 2 ? * *": day of month "?"'],
      [
        ['--cron', '0 2 * * *', '--prefix', `s3://${harness.bucket}/`],
        `--prefix s3://${harness.bucket}/ takes every object in the bucket`,
      ],
    ] as const) {
      const answer = await create(...spec);
      expect(answer.code, answer.stderr).toBe(2);
      expect(answer.stderr).toContain(message);
    }
    await expect(harness.client.schedule.getHandle(`batch-schedule-${missing}`).describe()).rejects.toThrow();
  });
});

/**
 * Issue 11: a worker process SIGKILLed while `awaitDetectionJob` waits on a long platform job. A
 * real `rdd worker` child on the shared Temporal dev server and versitygw, the emulator over real
 * HTTP. After the heartbeat timeout Temporal retries the activity on a second worker, which resumes
 * from the last heartbeat (its check count goes on from there) instead of submitting again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RDD_ENDPOINT } from '../../dev/emulator/server.ts';
import { platformCapacityWorkflowId } from '../../src/client/platform.ts';
import type { AwaitJobProgress } from '../../src/shared/activity-types.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** A logged emulator request, with the time it was seen (epoch ms, this process's clock). */
interface Seen {
  method: string;
  path: string;
  at: number;
}

const children: ChildProcess[] = [];
let harness: Harness;
const requests: Seen[] = [];

/** Starts `rdd worker` for the harness and resolves once it polls its task queue. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [RDD, 'worker'], { env: { ...process.env, ...harness.env } });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('worker polling task queue')) {
    if (child.exitCode !== null) throw new Error(`rdd worker exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`rdd worker did not start:\n${output}`);
    await sleep(100);
  }
  return child;
}

beforeAll(async () => {
  // A 40 s job: long enough to kill the worker mid-wait and for the retry to find it still running.
  harness = await startHarness(
    {
      processing: { fixedMs: 40_000 },
      log: (_line, entry) => {
        if (entry) requests.push({ ...entry, at: Date.now() });
      },
    },
    { worker: false },
  );
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await harness?.client.workflow
    .getHandle(platformCapacityWorkflowId(harness.emulator.url))
    .terminate('test over')
    .catch(() => undefined);
  await harness?.close();
});

describe('a worker killed while awaitDetectionJob waits', () => {
  it('finishes on a second worker with one submission, one result, and the check count resumed', async () => {
    const reference = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
    const questioned = await speechWav({
      text: 'Please move the money to my other account.',
      voice: 'en+f3',
    });
    const first = await startWorker();
    const handle = await harness.start({
      reference: await harness.upload(reference),
      questioned: await harness.upload(questioned),
      cache: false,
      // Dense checks from the start, so several are heartbeated before the kill.
      polling: {
        firstCheckBase: 0.5,
        firstCheckPerAudioSecond: 0,
        minInterval: 1,
        maxInterval: 1.5,
        backoff: 1.2,
      },
    });

    const awaiting = async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const activity = pending.find((a) => a.activityType?.name === 'awaitDetectionJob');
      const data = activity?.heartbeatDetails?.payloads?.[0]?.data;
      return {
        attempt: activity?.attempt ?? 0,
        progress: data ? (JSON.parse(Buffer.from(data).toString('utf8')) as AwaitJobProgress) : undefined,
      };
    };
    await expect
      .poll(async () => (await awaiting()).progress?.checks ?? 0, { timeout: 30_000, interval: 200 })
      .toBeGreaterThanOrEqual(3);
    const atKill = (await awaiting()).progress!;
    expect(atKill.lastState).toMatch(/pending|running/);

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('close', resolve));
    const killedAt = Date.now();
    await startWorker();

    const result = await handle.result();
    expect(typeof result.score).toBe('number');

    // Exactly one platform job: the retry resumed the wait, it did not submit again.
    const submits = requests.filter((r) => r.method === 'POST' && r.path === RDD_ENDPOINT);
    expect(submits).toHaveLength(1);
    expect(result.submissions).toBe(1);
    // One result object, the one the workflow returned.
    expect(await harness.readResult(result.resultLocation.key)).toEqual(result);

    // The retry started from the heartbeat: its count includes the checks made before the kill.
    // Restarted from zero it would count only the GETs made after the kill.
    const getsAfterKill = requests.filter(
      (r) => r.method === 'GET' && r.path.startsWith(`${RDD_ENDPOINT}/`) && r.at >= killedAt,
    ).length;
    expect(getsAfterKill).toBeGreaterThan(0);
    expect(result.checks).toBeGreaterThanOrEqual(atKill.checks + getsAfterKill);

    // And the activity really was retried (a second attempt), in the same workflow run.
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events.flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [],
    );
    expect(Math.max(...started)).toBeGreaterThanOrEqual(2);
  }, 180_000);
});

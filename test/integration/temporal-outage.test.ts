/**
 * Issue 5, item 4: clients and workers ride out a Temporal outage. A Temporal dev server of this
 * file's own (SQLite, so a restart keeps the workflows) is stopped and restarted under a real
 * `rdd worker` and a real `rdd detect --wait`; real S3 (versitygw) and the emulator do the rest.
 * Also: `rdd worker` against a closed port, and started before the server; and, on the shared
 * Temporal, how `rdd detect --wait` / `rdd result` print a failed detection (items 1 and 2).
 */
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../dev/emulator/index.ts';
import { pickPort } from '../../dev/stack/ports.ts';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { nonAudioFile, sha256File, speechWav } from '../helpers/audio.ts';
import { ownTemporal, type OwnTemporal } from '../helpers/own-temporal.ts';
import { s3Client, testServices, uniqueTaskQueue } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** A running `rdd` child process with its output so far. */
interface Rdd {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves once `text` appears on stdout or stderr; rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

function rdd(args: string[], env: Record<string, string>): Rdd {
  const child = spawn(process.execPath, [RDD, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitFor(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const seen = () =>
        typeof text === 'string' ? (stdout + stderr).includes(text) : text.test(stdout + stderr);
      while (!seen()) {
        if (child.exitCode !== null) throw new Error(`rdd ${args[0]} exited early:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline)
          throw new Error(`no "${String(text)}" from rdd ${args[0]}:\n${stdout}\n${stderr}`);
        await sleep(100);
      }
    },
  };
}

/** Env for a child `rdd` against `temporalAddress`, the shared S3 and `detectorUrl`. */
function rddEnv(temporalAddress: string, detectorUrl: string, taskQueue: string): Record<string, string> {
  const { s3 } = testServices();
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: taskQueue,
    DETECTOR_URL: detectorUrl,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_RESULT_BUCKET: s3.bucket,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

const children: Rdd[] = [];
function track(r: Rdd): Rdd {
  children.push(r);
  return r;
}

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let reference: string;
let questioned: string;

beforeAll(async () => {
  reference = await speechWav({ text: 'Please confirm my identity with this sample.', voice: 'en+m3' });
  questioned = await speechWav({ text: 'I would like to move money between accounts.', voice: 'en+f3' });
  // Slow enough that the detection is mid-wait when Temporal goes down.
  emulator = await startEmulator({ processing: { fixedMs: 3_000 } });
}, 120_000);

afterAll(async () => {
  for (const r of children) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await emulator?.close();
});

describe('a Temporal restart under rdd detect --wait and rdd worker', () => {
  let temporal: OwnTemporal;
  afterAll(() => temporal?.close());

  it('rides out a 25 s outage: the worker survives and detect --wait exits 0 with the result', async () => {
    temporal = await ownTemporal();
    const env = rddEnv(temporal.address, emulator.url, uniqueTaskQueue('outage'));
    const worker = track(rdd(['worker'], env));
    await worker.waitFor('worker polling task queue');

    const detect = track(rdd(['detect', reference, questioned, '--wait'], env));
    await detect.waitFor('started ');
    const workflowId = /started (\S+)/.exec(detect.stdout())![1]!;
    await sleep(2_000);
    await temporal.stop();
    // Longer than the client SDK's own gRPC retries (~20 s): without riding it out, the CLI gives up.
    await sleep(25_000);
    expect(detect.child.exitCode).toBeNull();
    await temporal.start();

    expect(await detect.exited).toBe(0);
    expect(detect.stdout()).toMatch(/verdict\s+(genuine|deepfake)/);
    expect(detect.stdout()).toContain(`workflow    ${workflowId}`);
    expect(detect.stderr()).toContain(`cannot reach Temporal at ${temporal.address}`);
    expect(detect.stderr()).not.toMatch(/^\s+at /m);
    expect(worker.child.exitCode).toBeNull();

    const result = track(rdd(['result', workflowId, '--json'], env));
    expect(await result.exited).toBe(0);
    expect(JSON.parse(result.stdout())).toMatchObject({ workflowId });

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 180_000);

  it('rdd result exits 5, not 1 or 4, when Temporal cannot be reached', async () => {
    await temporal.stop();
    const env = rddEnv(temporal.address, emulator.url, uniqueTaskQueue('outage'));
    const result = track(rdd(['result', 'detect-never-recorded'], env));
    expect(await result.exited).toBe(5);
    expect(result.stderr().trim().split('\n')).toHaveLength(1);
    expect(result.stderr()).toContain(`cannot reach Temporal at ${temporal.address}`);
  }, 60_000);
});

describe('rdd worker when Temporal is down', () => {
  it('retries with one line per attempt and exits 5 without a stack trace after WORKER_CONNECT_TIMEOUT_MS', async () => {
    const port = await pickPort(0, new Set());
    const env = {
      ...rddEnv(`127.0.0.1:${port}`, emulator.url, uniqueTaskQueue('closed')),
      WORKER_CONNECT_TIMEOUT_MS: '3000',
    };
    const started = Date.now();
    const worker = track(rdd(['worker'], env));
    expect(await worker.exited).toBe(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    const lines = worker.stderr().trim().split('\n');
    expect(lines[0]).toBe(
      `rdd worker: cannot reach Temporal at 127.0.0.1:${port} (Connection refused); retrying in 2 s`,
    );
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^rdd worker: cannot reach Temporal at 127\\.0\\.0\\.1:${port} after trying for 3 s .*giving up`,
      ),
    );
    expect(worker.stderr()).not.toMatch(/^\s+at /m);
    expect(worker.stdout()).toBe('');
  }, 60_000);

  it('started before the server, connects once it comes up within the bound', async () => {
    const temporal = await ownTemporal({ started: false });
    try {
      const env = {
        ...rddEnv(temporal.address, emulator.url, uniqueTaskQueue('late')),
        WORKER_CONNECT_TIMEOUT_MS: '90000',
      };
      const worker = track(rdd(['worker'], env));
      await worker.waitFor(`cannot reach Temporal at ${temporal.address}`);
      await temporal.start();
      await worker.waitFor('worker polling task queue', 60_000);
      expect(worker.child.exitCode).toBeNull();

      // Its own id: the same request on the first test's server (same S3) already recorded a result
      // under the id derived from the request, and a second recording there would be a conflict.
      const id = `late-${Date.now()}`;
      const detect = track(rdd(['detect', reference, questioned, '--id', id, '--wait', '--json'], env));
      expect(await detect.exited, detect.stderr()).toBe(0);
      expect(JSON.parse(detect.stdout())).toHaveProperty('verdict');
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await temporal.close();
    }
  }, 180_000);
});

describe('printing failed detections (shared Temporal, a real rdd worker)', () => {
  const missingBucket = `rdd-no-such-results-${process.pid}`;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { temporalAddress } = testServices();
    env = {
      ...rddEnv(temporalAddress, emulator.url, uniqueTaskQueue('print')),
      S3_RESULT_BUCKET: missingBucket,
    };
    // The worker refuses to start without its result bucket; the bucket goes away afterwards,
    // so the score is computed and then cannot be written.
    const s3 = s3Client();
    await s3.send(new CreateBucketCommand({ Bucket: missingBucket }));
    const worker = track(rdd(['worker'], env));
    await worker.waitFor('worker polling task queue');
    await s3.send(new DeleteBucketCommand({ Bucket: missingBucket }));
    s3.destroy();
  }, 90_000);

  it('a score that cannot be recorded: detect --wait and result print score, verdict and reason, exit 1', async () => {
    const detect = track(rdd(['detect', reference, questioned, '--wait', '--threshold=-100'], env));
    expect(await detect.exited).toBe(1);
    const workflowId = /started (\S+)/.exec(detect.stdout())![1]!;
    expect(detect.stdout()).toMatch(/score\s+-?\d+\.\d{4}/);
    expect(detect.stdout()).toContain('verdict     deepfake (threshold -100)');
    expect(detect.stdout()).toContain(`recorded    NO: the score`);
    expect(detect.stderr()).toMatch(
      new RegExp(
        `^rdd detect: detection ${workflowId} failed: ResultNotRecorded: the score .* \\(deepfake\\) was computed but not recorded at s3://${missingBucket}/results/${workflowId}\\.json: .*NoSuchBucket`,
      ),
    );

    const human = track(rdd(['result', workflowId], env));
    expect(await human.exited).toBe(1);
    expect(human.stdout()).toContain('verdict     deepfake (threshold -100)');
    expect(human.stderr()).toContain('ResultNotRecorded: the score');

    const json = track(rdd(['result', workflowId, '--json'], env));
    expect(await json.exited).toBe(1);
    const document = JSON.parse(json.stdout()) as DetectionResult & {
      failure: { type: string; message: string };
    };
    expect(document).toMatchObject({
      workflowId,
      verdict: 'deepfake',
      resultLocation: { bucket: missingBucket, key: `results/${workflowId}.json` },
      failure: { type: 'ResultNotRecorded' },
    });
    expect(typeof document.score).toBe('number');
    expect(document.failure.message).toContain(`score ${document.score} (deepfake)`);
  }, 90_000);

  it('a failure about an uploaded local file names the path the user typed', async () => {
    const bad = await nonAudioFile();
    const detect = track(rdd(['detect', reference, bad, '--wait'], env));
    expect(await detect.exited).toBe(1);
    const key = `media/${await sha256File(bad)}`;
    expect(detect.stderr()).toMatch(
      new RegExp(
        `MediaNotAudio: questioned s3://${testServices().s3.bucket}/${key}\\S* \\(local file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`,
      ),
    );
  }, 90_000);

  it('an invalid --id exits 2 naming it, before anything is started', async () => {
    const id = `bad/${'x'.repeat(300)}`;
    const detect = track(rdd(['detect', reference, questioned, '--id', id, '--wait'], env));
    expect(await detect.exited).toBe(2);
    expect(detect.stderr()).toMatch(
      /^rdd detect: --id "bad\/x+…x+" \(304 bytes\) is not usable: 304 bytes, over 250/,
    );
    expect(detect.stdout()).toBe('');
  });
});

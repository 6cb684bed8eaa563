/**
 * The `rdd` CLI as a user runs it: a real `rdd worker` process, `rdd detect` with local files,
 * `rdd result`, and the bad-input paths, against real Temporal, real S3 and the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { nonAudioFile, sha256File, speechWav, stereoWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));
const BIN_RDD = fileURLToPath(new URL('../../bin/rdd', import.meta.url));

/** A 127.0.0.1 port nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One line on stderr, no stack trace, no SDK noise. */
function expectOneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |streaming request|\$metadata/);
}

let harness: Harness;
let worker: ChildProcess;
let workerOutput = '';
let reference: string;
let questioned: string;

function rdd(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RDD, ...args], {
      env: { ...process.env, ...harness.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  reference = await speechWav({ text: 'Please confirm my identity with this sample.', voice: 'en+m3' });
  questioned = await speechWav({ text: 'I would like to move money between accounts.', voice: 'en+f3' });
  harness = await startHarness({}, { worker: false });
  worker = spawn(process.execPath, [RDD, 'worker'], { env: { ...process.env, ...harness.env } });
  worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rdd worker did not start:\n${workerOutput}`)), 60_000);
    worker.stdout!.on('data', () => {
      if (workerOutput.includes('worker polling task queue')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}, 90_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await harness?.close();
});

describe('rdd CLI', () => {
  let workflowId: string;

  it('detect --wait --json uploads local files content-addressed and prints only the result', async () => {
    const { code, stdout, stderr } = await rdd(['detect', reference, questioned, '--wait', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as DetectionResult;
    expect(typeof result.score).toBe('number');
    expect(['genuine', 'deepfake']).toContain(result.verdict);
    expect(result.reference).toMatchObject({
      bucket: harness.bucket,
      key: `media/${await sha256File(reference)}.wav`,
    });
    expect(result.questioned.key).toBe(`media/${await sha256File(questioned)}.wav`);
    workflowId = result.workflowId;
  });

  it('result prints the recorded result', async () => {
    const { code, stdout } = await rdd(['result', workflowId, '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as DetectionResult).workflowId).toBe(workflowId);
    const human = await rdd(['result', workflowId]);
    expect(human.stdout).toMatch(/verdict\s+(genuine|deepfake)/);
  });

  it('result --json on a running detection prints one JSON document with its status, exit 3', async () => {
    const id = `cli-running-${process.pid}-${Date.now()}`;
    // The platform answers every submit 503 (retried): the detection is surely running while
    // `rdd result` asks.
    harness.emulator.setFaults({ submitStatus: { status: 503, times: 1_000_000, retryAfterSeconds: 1 } });
    const handle = await harness.start(
      {
        reference: await harness.upload(reference),
        questioned: await harness.upload(questioned),
        cache: false,
      },
      id,
    );
    try {
      const { code, stdout, stderr } = await rdd(['result', id, '--json']);
      expect(code).toBe(3);
      const doc = JSON.parse(stdout) as { workflowId: string; state: string; failure: { type: string } };
      expect(doc).toMatchObject({ workflowId: id, state: 'running', failure: { type: 'StillRunning' } });
      expect(stderr).toContain(`${id} is still running`);
    } finally {
      harness.emulator.setFaults({});
      await handle.terminate('test done');
    }
  });

  it('detect with the same --id twice gives one workflow, exit 0 both times with the same result', async () => {
    const id = `cli-same-id-${process.pid}-${Date.now()}`;
    const args = ['detect', reference, questioned, '--id', id, '--threshold', '-0.25'];
    const first = await rdd([...args, '--wait', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const second = await rdd([...args, '--wait', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
    expect((JSON.parse(first.stdout) as DetectionResult).threshold).toBe(-0.25);
    // Without --wait it says so instead of starting another.
    const third = await rdd(args);
    expect(third.code).toBe(0);
    expect(third.stdout).toBe(`existing ${id} (the same request was sent before; nothing new started)\n`);
    const runs = [];
    for await (const run of harness.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('detect without --id derives the id from the request: sending it again starts nothing new', async () => {
    const again = await rdd(['detect', reference, questioned, '--wait', '--json']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as DetectionResult).workflowId).toBe(workflowId);
    // Defaults spelled out are the same request.
    const spelled = await rdd(['detect', reference, questioned, '--threshold', '0', '--config', '{}']);
    expect(spelled.code).toBe(0);
    expect(spelled.stdout).toBe(
      `existing ${workflowId} (the same request was sent before; nothing new started)\n`,
    );
  });

  it('detect with an --id taken by a different request exits 2 and starts nothing', async () => {
    const id = `cli-taken-${process.pid}-${Date.now()}`;
    expect((await rdd(['detect', reference, questioned, '--id', id])).code).toBe(0);
    const { code, stderr } = await rdd(['detect', questioned, reference, '--id', id]);
    expect(code).toBe(2);
    expect(stderr).toContain(`detection ${id} already exists for a different request`);
  });

  it('result says when a detection does not exist', async () => {
    const { code, stderr } = await rdd(['result', 'no-such-detection']);
    expect(code).toBe(4);
    expect(stderr).toContain('no-such-detection');
  });

  it('detect names a missing local file and starts nothing', async () => {
    const { code, stderr } = await rdd(['detect', reference, '/nowhere/missing-take.wav']);
    expect(code).toBe(2);
    expect(stderr).toContain('questioned "/nowhere/missing-take.wav"');
  });

  it('detect names an invalid --config', async () => {
    const { code, stderr } = await rdd(['detect', reference, questioned, '--config', '{not json']);
    expect(code).toBe(2);
    expect(stderr).toContain(
      "rdd detect: option '--config <json>' argument '{not json' is invalid. Not valid JSON",
    );
  });

  it('detect --wait exits 1 naming the file when the workflow fails on bad media', async () => {
    const { code, stderr } = await rdd(['detect', reference, await nonAudioFile(), '--wait']);
    expect(code).toBe(1);
    expect(stderr).toContain('MediaNotAudio');
    expect(stderr).toContain('questioned s3://');
  });

  it('S3 trouble in detect: one line naming the bucket and variable, exit 1, no socket reset', async () => {
    // 680 KB: large enough that an upload to a missing bucket used to end in ECONNRESET.
    const big = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-cli-')), 'big.wav');
    await writeFile(big, Buffer.concat([Buffer.from('RIFF0000WAVE'), Buffer.alloc(680_000, 7)]));
    const missing = await rdd(['detect', big, questioned], { S3_BUCKET: `no-such-bucket-${process.pid}` });
    expect(missing.code).toBe(1);
    expectOneLine(missing.stderr);
    expect(missing.stderr).toContain(`the bucket "no-such-bucket-${process.pid}" does not exist (S3_BUCKET`);
    // Both uploads run at once; whichever fails first is reported.
    expect(missing.stderr).toMatch(
      new RegExp(
        `cannot upload (reference ${big}|questioned ${questioned}) to s3://no-such-bucket-${process.pid}/media/`,
      ),
    );

    const secret = await rdd(['detect', big, questioned], { AWS_SECRET_ACCESS_KEY: 'wrong-secret' });
    expect(secret.code).toBe(1);
    expectOneLine(secret.stderr);
    expect(secret.stderr).toContain('AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY');

    const refused = await rdd(['detect', big, questioned], {
      S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(refused.code).toBe(1);
    expectOneLine(refused.stderr);
    expect(refused.stderr).toMatch(/cannot reach S3 at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('S3 trouble in result: exit 1 with one line; an invalid bucket name is a configuration error (exit 2)', async () => {
    const secret = await rdd(['result', workflowId], { AWS_SECRET_ACCESS_KEY: 'wrong-secret' });
    expect(secret.code).toBe(1);
    expectOneLine(secret.stderr);
    expect(secret.stderr).toContain('S3 refused the credentials (SignatureDoesNotMatch)');

    // A missing result bucket is said, then Temporal is asked: this detection recorded elsewhere.
    const noBucket = await rdd(['result', workflowId, '--json'], { S3_RESULT_BUCKET: 'no-such-results' });
    expect(noBucket.code).toBe(4);
    expect(noBucket.stderr).toContain('the result bucket no-such-results does not exist; asking Temporal');
    expect(noBucket.stderr).toContain('the detection recorded its result at s3://');
    expect(JSON.parse(noBucket.stdout)).toMatchObject({ workflowId, failure: { type: 'NotFound' } });

    const refused = await rdd(['result', workflowId], {
      S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(refused.code).toBe(1);
    expectOneLine(refused.stderr);
    expect(refused.stderr).toContain('cannot reach S3');

    const badName = await rdd(['result', workflowId], { S3_RESULT_BUCKET: 'Bad_Bucket' });
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('S3_RESULT_BUCKET "Bad_Bucket" is not a valid S3 bucket name');
    const badOption = await rdd(['result', workflowId, '--bucket', 'Bad_Bucket']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('--bucket "Bad_Bucket" is not a valid S3 bucket name');
  });

  it('--timeout bounds the connect too; exit 5 says nothing was started (and --json says so)', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await rdd(
      [
        'detect',
        reference,
        questioned,
        '--wait',
        '--timeout',
        '1',
        '--json',
        '--id',
        `cli-down-${process.pid}`,
      ],
      { TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}` },
    );
    expect(code).toBe(5);
    expect(Date.now() - started).toBeLessThan(8_000); // the SDK's own connect deadline is 10 s
    expect(stderr).toContain(`nothing was started (detection cli-down-${process.pid})`);
    expect(JSON.parse(stdout)).toMatchObject({
      workflowId: `cli-down-${process.pid}`,
      state: 'not-started',
      failure: { type: 'TemporalUnreachableError' },
    });
  });

  it('--json on a failed detection prints workflowId, state and failure on stdout (detect and result)', async () => {
    const { code, stdout } = await rdd(['detect', reference, await nonAudioFile(), '--wait', '--json']);
    expect(code).toBe(1);
    const doc = JSON.parse(stdout) as { workflowId: string; state: string; failure: { type: string } };
    expect(doc).toMatchObject({ state: 'failed', failure: { type: 'MediaNotAudio' } });
    const again = await rdd(['result', doc.workflowId, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toEqual(doc);
  });

  it('a multi-channel file without a channel: the message names --questioned-channel', async () => {
    const { code, stderr } = await rdd(['detect', reference, await stereoWav(), '--wait']);
    expect(code).toBe(1);
    expect(stderr).toContain('MediaChannelRequired');
    expect(stderr).toContain('has 2 channels; choose one (0–1) with --questioned-channel');
    expect(stderr.match(/choose/g)).toHaveLength(1);
  });

  it('the upload key takes its extension from the bytes: the same WAV named .flac is the same object', async () => {
    const renamed = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-cli-')), 'really-a-wav.flac');
    await copyFile(questioned, renamed);
    const { code, stdout } = await rdd(['detect', reference, renamed, '--wait', '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as DetectionResult).questioned.key).toBe(
      `media/${await sha256File(questioned)}.wav`,
    );
  });

  it('bin/rdd worker execs down to node: SIGTERM to the process a supervisor started stops it gracefully', async () => {
    const child = spawn(BIN_RDD, ['worker'], { env: { ...process.env, ...harness.env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await expect
      .poll(() => output, { timeout: 60_000, interval: 200 })
      .toContain('worker polling task queue');
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM'); // the pid bin/rdd was started with: node itself, after two execs
    expect(await exited).toBe(0);
    expect(output).toContain('worker stopped');
  }, 90_000);

  it('worker shuts down gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(workerOutput).toContain('worker stopped');
  });
});

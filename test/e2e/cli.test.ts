/**
 * The `rdd` CLI as a user runs it: a real `rdd worker` process, `rdd detect` with local files,
 * `rdd result`, and the bad-input paths, against real Temporal, real S3 and the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { nonAudioFile, sha256File, speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

let harness: Harness;
let worker: ChildProcess;
let workerOutput = '';
let reference: string;
let questioned: string;

function rdd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RDD, ...args], { env: { ...process.env, ...harness.env } });
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

  it('worker shuts down gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(workerOutput).toContain('worker stopped');
  });
});

/**
 * `rdd stack up|down` as a user runs it: real Temporal dev server and versitygw processes, started
 * detached or in the foreground, health-checked, recorded, and gone afterwards.
 */
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.ts';
import { loadClientConfig } from '../../src/config.ts';
import { withStackEnv } from '../../src/starters/stack-env.ts';
import { namespaceServed } from '../../dev/stack/temporal.ts';
import { isAlive } from '../../dev/stack/process.ts';
import { readState } from '../../dev/stack/state.ts';

const RDD = path.resolve(import.meta.dirname, '../../src/starters/rdd.ts');
const STACK_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_UI_URL',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_FORCE_PATH_STYLE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
];

const dirs: string[] = [];
const children: ChildProcess[] = [];
function newDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-stack-e2e-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) {
    await rdd(['stack', 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `rdd …` to completion. */
function rdd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RDD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function servicePids(dir: string): number[] {
  return readState(dir)?.services.map((s) => s.pid) ?? [];
}

async function s3Buckets(env: Record<string, string | undefined>): Promise<string[]> {
  const client = createS3Client(loadClientConfig(env).storage);
  try {
    return ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
  } finally {
    client.destroy();
  }
}

describe('rdd stack', () => {
  it('up --detach leaves healthy services and an env file; down stops them and removes it', async () => {
    const dir = newDir();
    const up = await rdd([
      'stack',
      'up',
      '--detach',
      '--no-worker',
      '--no-emulator',
      '--no-api',
      '--dir',
      dir,
    ]);
    expect(up.stderr).toContain('Temporal UI: http://127.0.0.1:');
    expect(up.code).toBe(0);

    const env = parseEnv(readFileSync(path.join(dir, 'env'), 'utf8'));
    // util.parseEnv returns its keys sorted, whatever the file's order.
    expect(Object.keys(env).sort()).toEqual([...STACK_KEYS].sort());
    expect(env).toMatchObject({
      TEMPORAL_ADDRESS: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      TEMPORAL_NAMESPACE: 'default',
      S3_ENDPOINT: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      S3_BUCKET: 'rdd-media',
    });
    // What `up` prints is what it wrote, and what other commands will read.
    expect(parseEnv(up.stdout)).toEqual(env);
    expect(withStackEnv({}, dir)).toEqual(env);

    // The services outlived `rdd stack up` and answer.
    const pids = servicePids(dir);
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);
    expect(await namespaceServed(env.TEMPORAL_ADDRESS!, 'default')).toBe(true);
    expect(await s3Buckets(env)).toContain('rdd-media');
    expect((await fetch(env.TEMPORAL_UI_URL!)).ok).toBe(true);

    const again = await rdd([
      'stack',
      'up',
      '--detach',
      '--no-worker',
      '--no-emulator',
      '--no-api',
      '--dir',
      dir,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`a stack is already running in ${dir}`);
    expect(servicePids(dir)).toEqual(pids);

    const down = await rdd(['stack', 'down', '--dir', dir]);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('stack stopped (temporal, s3)');
    expect(existsSync(path.join(dir, 'env'))).toBe(false);
    expect(readState(dir)).toBeUndefined();
    expect(pids.some(isAlive)).toBe(false);
  });

  /** Starts `rdd stack up` in the foreground and resolves once it waits for Ctrl-C. */
  async function foreground(dir: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
    const child = spawn(
      process.execPath,
      [RDD, 'stack', 'up', '--no-worker', '--no-emulator', '--no-api', '--headless', '--dir', dir],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(
      () => stderr.includes('Press Ctrl-C to stop.') || child.exitCode !== null,
      'the stack to be up',
    );
    expect(child.exitCode, stderr).toBeNull();
    return { child, exited };
  }

  it('in the foreground, stops everything on SIGINT', async () => {
    const dir = newDir();
    const { child, exited } = await foreground(dir);
    const pids = servicePids(dir);
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(pids.some(isAlive)).toBe(false);
    expect(existsSync(path.join(dir, 'env'))).toBe(false);
  });

  it('in the foreground, leaves no orphans when its process is killed outright', async () => {
    const dir = newDir();
    const { child } = await foreground(dir);
    const pids = servicePids(dir);
    expect(pids.every(isAlive)).toBe(true);

    child.kill('SIGKILL');
    await until(() => !pids.some(isAlive), 'the orphan guard to stop the services', 15_000);
  });

  it('runs the emulator and a worker polling against the stack', async () => {
    const dir = newDir();
    const up = await rdd(['stack', 'up', '--detach', '--headless', '--dir', dir]);
    expect(up.code, up.stderr).toBe(0);
    const env = parseEnv(readFileSync(path.join(dir, 'env'), 'utf8'));
    expect(env.DETECTOR_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${env.DETECTOR_URL}/api/system/info`)).ok).toBe(true);
    expect(readState(dir)?.services.map((s) => s.name)).toEqual(
      expect.arrayContaining(['emulator', 'worker']),
    );
    expect(readFileSync(path.join(dir, 'logs/worker.log'), 'utf8')).toContain('worker polling task queue');
    const pids = servicePids(dir);
    expect((await rdd(['stack', 'down', '--dir', dir])).code).toBe(0);
    expect(pids.some(isAlive)).toBe(false);
  });
});

/**
 * A production install: the project as a user's checkout holds it (every file git tracks, plus new
 * files not ignored, i.e. what the next commit holds), installed with `npm ci --omit=dev`. What
 * ships must run without the development dependencies: `rdd worker --help`, `bin/rdd --help` (the
 * package bin, which must install nothing), and the worker itself against the test run's Temporal
 * and S3. The development commands say they are not available.
 *
 * The copy's commands see no project tools: PATH is Node's directory and the system's, and no
 * Temporal, S3 or detector variable leaks in from the test run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices, uniqueTaskQueue } from '../helpers/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;
/** Node's own directory (it holds npm) and the system's; never node_modules/.bin or .tools/bin. */
const PATH = [path.dirname(NODE), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter);
/** Variables a command reads for its configuration; none may come from the test run. */
const CONFIG_VARIABLE = /^(TEMPORAL_|S3_|AWS_|DETECTOR_|TASK_QUEUE|WORKER_|RDD_|NODE_OPTIONS$|VITEST)/;

let copy: string;

/** The test run's environment minus configuration, with the restricted PATH, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!CONFIG_VARIABLE.test(key) && key !== 'PATH') env[key] = value;
  }
  return { ...env, PATH, ...extra };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node src/starters/rdd.ts …args` in the copy; kills it after `timeoutMs`. */
function rdd(args: string[], env = childEnv(), timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['src/starters/rdd.ts', ...args], { cwd: copy, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'rdd-production-install-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && existsSync(path.join(ROOT, file))); // deleted but not yet committed
  for (const file of files) {
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(copy, file));
  }
  // --prefer-offline: the packages are in the npm cache since the project's own install.
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: copy,
    env: childEnv(),
    stdio: 'pipe',
    timeout: 280_000,
  });
}, 300_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('after npm ci --omit=dev', () => {
  it('has no development dependencies installed', () => {
    for (const name of ['vitest', '@temporalio/testing', 'music-metadata', 'ogg-opus-decoder']) {
      expect(existsSync(path.join(copy, 'node_modules', name)), name).toBe(false);
    }
    expect(existsSync(path.join(copy, 'node_modules', '@temporalio', 'worker'))).toBe(true);
  });

  it('rdd worker --help prints the worker help and exits 0', async () => {
    const run = await rdd(['worker', '--help']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: rdd worker/);
    expect(run.stdout).toContain('DETECTOR_URL');
  });

  it('bin/rdd --help runs on the node on PATH, installs nothing and returns in seconds', async () => {
    const before = readdirSync(path.join(copy, 'node_modules')).sort();
    const started = Date.now();
    const run = await new Promise<Run>((resolve, reject) => {
      const child = spawn(path.join(copy, 'bin', 'rdd'), ['--help'], {
        cwd: copy,
        env: childEnv(),
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    const seconds = (Date.now() - started) / 1000;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: rdd /);
    expect(seconds).toBeLessThan(10);
    // No provisioning: no npm ci (dev packages), no .tools/ (Node, Temporal CLI, versitygw).
    expect(readdirSync(path.join(copy, 'node_modules')).sort()).toEqual(before);
    expect(existsSync(path.join(copy, 'node_modules', 'vitest'))).toBe(false);
    expect(existsSync(path.join(copy, '.tools'))).toBe(false);
  });

  it('the worker starts, polls its task queue, and stops on SIGTERM with exit 0', async () => {
    const { temporalAddress, namespace, s3 } = testServices();
    const taskQueue = uniqueTaskQueue('production-install');
    const child = spawn(NODE, ['src/starters/rdd.ts', 'worker'], {
      cwd: copy,
      stdio: 'pipe',
      env: childEnv({
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        TASK_QUEUE: taskQueue,
        // Never called: the worker only polls here. Not a port anything listens on.
        DETECTOR_URL: 'http://127.0.0.1:9',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      }),
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    try {
      // Worker.create bundles the workflows (webpack + swc, both dependencies of @temporalio/worker).
      const polling = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 90_000);
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes(`worker polling task queue ${taskQueue}`)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      expect(polling, `no "worker polling" line\nstdout:\n${stdout}\nstderr:\n${stderr}`).toBe(true);
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
      expect(stdout).toContain('worker stopped');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it.each([['emulator', '--port', '0'], ['stack', 'up', '--dir', '.stack-test', '--headless'], ['demo']])(
    'rdd %s says it is not available and exits 1',
    async (...args) => {
      const run = await rdd(args, childEnv(), 30_000);
      expect(run.stderr).toContain('not available');
      expect(run.code).toBe(1);
    },
  );
});

/**
 * Issue 10: a prebuilt workflow bundle (scripts/bundle-workflows.ts, WORKER_WORKFLOW_BUNDLE) used to
 * take its failure converter from whether RDD_ENCRYPTION_KEYS happened to be set at build time, and
 * nothing checked it at start-up: a worker with keys running a bundle built without them wrote the
 * failure messages of workflow code to the history in clear text. Now the converter is chosen with
 * `--encoded-failures` (no key needed to build), written as a marker at the start of the file, and
 * `rdd worker` refuses a bundle built for the other setting (exit 2, naming the variable and the
 * fix). Real bundles (webpack), a real `rdd worker` process, and a detection run from a prebuilt
 * bundle with the marker in front.
 */
import { NativeConnection } from '@temporalio/worker';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { readWorkflowBundleMarker, workflowBundleMarker } from '../../src/config/workflow-bundle.ts';
import { ExitCode } from '../../src/starters/exit-codes.ts';
import { createDetectionWorker } from '../../src/worker.ts';
import { speechPairBytes } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { testServices } from '../helpers/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RDD = path.join(ROOT, 'src/starters/rdd.ts');
const KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'rdd-bundle-'));
const plain = path.join(dir, 'plain.js');
const encoded = path.join(dir, 'encoded.js');

/** Runs the bundler as the image does, with `env` only (no keys unless given). */
function bundle(args: string[], env: Record<string, string> = {}): string {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/bundle-workflows.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`bundle-workflows exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** `rdd worker` with only `env`; the configuration check comes before any connection. */
function rddWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RDD, 'worker'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DETECTOR_URL: 'http://127.0.0.1:9',
        S3_BUCKET: 'rdd-media',
        TEMPORAL_ADDRESS: '127.0.0.1:9',
        WORKER_CONNECT_TIMEOUT_MS: '1000',
        ...env,
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(() => {
  // Neither build has a key: --encoded-failures alone chooses the converter.
  expect(bundle([plain])).toContain('plain failures');
  expect(bundle(['--encoded-failures', encoded])).toContain('encoded failures');
}, 120_000);

describe('scripts/bundle-workflows.ts', () => {
  it('marks each bundle with the failure converter compiled in', () => {
    const plainCode = readFileSync(plain, 'utf8');
    const encodedCode = readFileSync(encoded, 'utf8');
    expect(readWorkflowBundleMarker(plainCode)).toEqual({ encodedFailures: false });
    expect(readWorkflowBundleMarker(encodedCode)).toEqual({ encodedFailures: true });
    // The encoded failure converter is really in the one bundle and not in the other.
    expect(encodedCode).toContain('encodeCommonAttributes: true');
    expect(plainCode).not.toContain('encodeCommonAttributes: true');
    // No line break after the marker: the bundle's line numbers are the bundler's.
    expect(plainCode.split('\n', 1)[0]).toMatch(/^\/\* rdd-workflow-bundle \{.*\} \*\/\S/);
  });

  it('implies --encoded-failures when the keys are set at build time, as before', () => {
    const implied = path.join(dir, 'implied.js');
    bundle([implied], { RDD_ENCRYPTION_KEYS: KEYS });
    expect(readWorkflowBundleMarker(readFileSync(implied, 'utf8'))).toEqual({ encodedFailures: true });
  }, 60_000);
});

describe('the start-up check of WORKER_WORKFLOW_BUNDLE', () => {
  const base = { DETECTOR_URL: 'http://127.0.0.1:9', S3_BUCKET: 'rdd-media' };

  it('accepts a bundle built for the worker’s encryption setting', () => {
    expect(loadWorkerConfig({ ...base, WORKER_WORKFLOW_BUNDLE: plain }).worker.workflowBundlePath).toBe(
      plain,
    );
    expect(
      loadWorkerConfig({ ...base, WORKER_WORKFLOW_BUNDLE: encoded, RDD_ENCRYPTION_KEYS: KEYS }).worker
        .workflowBundlePath,
    ).toBe(encoded);
  });

  it('refuses a plain bundle with keys, an encoded one without, and one with no marker', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadWorkerConfig({ ...base, ...env });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ WORKER_WORKFLOW_BUNDLE: plain, RDD_ENCRYPTION_KEYS: KEYS })).toEqual([
      expect.stringMatching(
        /^WORKER_WORKFLOW_BUNDLE .*plain\.js was built without --encoded-failures, but RDD_ENCRYPTION_KEYS .* is set: failures raised by workflow code would reach the history unencrypted; rebuild it with `node scripts\/bundle-workflows.ts --encoded-failures .*plain\.js`, or unset WORKER_WORKFLOW_BUNDLE/,
      ),
    ]);
    expect(problems({ WORKER_WORKFLOW_BUNDLE: encoded })).toEqual([
      expect.stringContaining('was built with --encoded-failures, but neither RDD_ENCRYPTION_KEYS'),
    ]);
    const unmarked = path.join(dir, 'unmarked.js');
    writeFileSync(
      unmarked,
      readFileSync(plain, 'utf8').replace(workflowBundleMarker({ encodedFailures: false }), ''),
    );
    expect(problems({ WORKER_WORKFLOW_BUNDLE: unmarked })).toEqual([
      expect.stringContaining('was not built by scripts/bundle-workflows.ts (no rdd-workflow-bundle marker'),
    ]);
  });

  it('`rdd worker` exits 2 before connecting anywhere, naming the variable and the fix', async () => {
    const run = await rddWorker({ WORKER_WORKFLOW_BUNDLE: plain, RDD_ENCRYPTION_KEYS: KEYS });
    expect(run.code).toBe(ExitCode.Usage);
    expect(run.stderr).toContain('WORKER_WORKFLOW_BUNDLE');
    expect(run.stderr).toContain('--encoded-failures');
    expect(run.stderr).not.toContain(KEYS.slice(3));
  }, 60_000);
});

describe('a prebuilt bundle with its marker', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({}, { worker: false });
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('runs a detection on a worker that loads it (WORKER_WORKFLOW_BUNDLE)', async () => {
    const env = { ...harness.env, WORKER_WORKFLOW_BUNDLE: plain };
    const connection = await NativeConnection.connect({ address: testServices().temporalAddress });
    const { worker, detector } = await createDetectionWorker({
      connection,
      namespace: testServices().namespace,
      config: loadWorkerConfig(env),
      env,
    });
    const running = worker.run();
    try {
      const { reference, questioned } = await speechPairBytes();
      const files = [path.join(dir, 'reference.wav'), path.join(dir, 'questioned.wav')];
      writeFileSync(files[0]!, reference);
      writeFileSync(files[1]!, questioned);
      const handle = await harness.start({
        reference: await harness.upload(files[0]!),
        questioned: await harness.upload(files[1]!),
        cache: false,
      });
      const result = await handle.result();
      expect(typeof result.score).toBe('number');
      expect(await harness.readResult(result.resultLocation.key)).toEqual(result);
    } finally {
      worker.shutdown();
      await running;
      await detector.close();
      await connection.close();
    }
  }, 120_000);
});

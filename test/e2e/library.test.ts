/**
 * The typed client as another service installs it: `npm pack` (whose `prepare` builds dist/ with
 * tsconfig.build.json), the tarball installed into a throwaway consumer project in a temp dir
 * (`npm install <tarball>`, production dependencies only), then
 * - a `.ts` file using startDetection, getDetection, startBatch, getBatch, pauseBatch,
 *   resumeBatch and cancelBatch type-checks with `tsc --noEmit` against the shipped declarations
 *   (strict, `exactOptionalPropertyTypes`, no `allowImportingTsExtensions`), and a
 *   wrong argument type fails to type-check;
 * - a plain `.mjs` runs under Node with type stripping off and starts + reads a detection on the
 *   real Temporal dev server, S3 and a worker with the emulator: the same request twice → one
 *   workflow.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionView, StartedDetection } from '../../src/client/index.ts';
import { speechWav } from '../helpers/audio.ts';
import { FAST_POLLING, startHarness, type Harness } from '../helpers/detection-harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

let dir: string;
let harness: Harness;

/** Runs a command, returning its exit code and output instead of throwing. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `tsc --noEmit` over one file of the consumer; its diagnostics ('' when it type-checks). */
async function typeCheck(file: string): Promise<{ code: number | null; output: string }> {
  const config = `tsconfig.${path.basename(file, '.ts')}.json`;
  writeFileSync(
    path.join(dir, config),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        target: 'es2023',
        types: ['node'],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        // As \`tsc --init\` sets it: @temporalio's own declarations do not pass every strict flag.
        skipLibCheck: true,
        noEmit: true,
      },
      files: [file],
    }),
  );
  const { code, stdout } = await run(process.execPath, [TSC, '-p', config], { cwd: dir });
  return { code, output: stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rdd-library-consumer-'));
  // npm pack runs `prepare`, which builds dist/ afresh: the tarball holds this checkout's client.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = path.join(dir, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toContain('dist/client/index.js');
  expect(files).toContain('dist/client/index.d.ts');
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // The service's own install: the tarball and its production dependencies (from the npm cache
  // the project's install filled), no scripts of ours (the tarball ships dist/ already built).
  execFileSync(
    'npm',
    [
      'install',
      tarball,
      '@types/node@24',
      '--omit=dev',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: dir, stdio: 'pipe', timeout: 280_000 },
  );
  harness = await startHarness();
}, 420_000);

afterAll(async () => {
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the package as a library', () => {
  it('installs compiled JavaScript with declarations, resolved through `exports`', () => {
    const installed = path.join(dir, 'node_modules/rdd-orchestrator');
    expect(existsSync(path.join(installed, 'dist/client/index.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/client/index.d.ts.map'))).toBe(true);
    // Compiled: relative imports point at .js files, no TypeScript syntax is left to strip.
    const detections = path.join(installed, 'dist/client/detections.js');
    const text = readFileSync(detections, 'utf8');
    expect(text).toMatch(/from ["']\.\/[\w-]+\.js["']/);
    expect(text).not.toMatch(/from ["']\.[^"']*\.ts["']/);
    expect(readdirSync(path.join(installed, 'dist'))).toEqual(expect.arrayContaining(['client', 'shared']));
  });

  it('type-checks a service using the client, strictly, against the shipped declarations', async () => {
    writeFileSync(
      path.join(dir, 'service.ts'),
      `import type { Client } from '@temporalio/client';
import {
  cancelBatch,
  getBatch,
  getDetection,
  pauseBatch,
  resumeBatch,
  startBatch,
  startDetection,
  type BatchView,
  type DetectInput,
  type DetectionView,
} from 'rdd-orchestrator';

export async function handle(client: Client): Promise<string> {
  const input: DetectInput = {
    reference: { bucket: 'media', key: 'calls/ref.wav' },
    questioned: { bucket: 'media', key: 'calls/q.wav', channel: 0 },
    threshold: 0.5,
  };
  const { workflowId, existing } = await startDetection(client, input, { id: 'case-4711' });
  const view: DetectionView = await getDetection(client, workflowId);
  const score: number | null = view.state === 'completed' ? view.result.score : null;
  const { batchId } = await startBatch(client, {
    reference: { bucket: 'media', key: 'calls/ref.wav' },
    prefix: { bucket: 'media', prefix: 'incoming/', suffix: '.wav' },
    concurrency: 4,
  });
  const batch: BatchView = await getBatch(client, batchId);
  const paused = await pauseBatch(client, batchId);
  await resumeBatch(client, batchId);
  await cancelBatch(client, batchId);
  return \`\${existing} \${score} \${batch.state} \${paused.paused}\`;
}
`,
    );
    const ok = await typeCheck('service.ts');
    expect(ok.output).toBe('');
    expect(ok.code).toBe(0);
  });

  it('refuses a wrong argument type at compile time', async () => {
    writeFileSync(
      path.join(dir, 'wrong.ts'),
      `import type { Client } from '@temporalio/client';
import { getBatch, startDetection } from 'rdd-orchestrator';

export async function handle(client: Client): Promise<void> {
  // A media reference is { bucket, key }, not an S3 URL string.
  await startDetection(client, {
    reference: 's3://media/calls/ref.wav',
    questioned: { bucket: 'media', key: 'calls/q.wav' },
  });
  // A batch id is a string.
  await getBatch(client, 4711);
}
`,
    );
    const wrong = await typeCheck('wrong.ts');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(
      /wrong\.ts\(7,5\): error TS2322: Type 'string' is not assignable to type 'MediaRef'/,
    );
    expect(wrong.output).toMatch(/wrong\.ts\(11,26\): error TS2345: Argument of type 'number'/);
  });

  it('runs from plain .mjs without type stripping: the same request twice starts one workflow, read to its result', async () => {
    const reference = await harness.upload(
      await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' }),
      `${harness.taskQueue}/library/ref.wav`,
    );
    const questioned = await harness.upload(
      await speechWav({ text: 'Please move the money to the new account today.', voice: 'en+f3' }),
      `${harness.taskQueue}/library/q.wav`,
    );
    writeFileSync(
      path.join(dir, 'service.mjs'),
      `import { setTimeout as sleep } from 'node:timers/promises';
import { connectClient, getDetection, startDetection } from 'rdd-orchestrator';

const input = JSON.parse(process.env.INPUT);
const options = { taskQueue: process.env.TASK_QUEUE };
const client = await connectClient(process.env);
try {
  const first = await startDetection(client, input, options);
  const second = await startDetection(client, input, options);
  let view = await getDetection(client, first.workflowId);
  for (let i = 0; i < 1200 && view.state === 'running'; i++) {
    await sleep(100);
    view = await getDetection(client, first.workflowId);
  }
  console.log(JSON.stringify({ resolved: import.meta.resolve('rdd-orchestrator'), first, second, view }));
} finally {
  await client.connection.close();
}
`,
    );
    const { code, stdout, stderr } = await run(
      process.execPath,
      ['--no-experimental-strip-types', 'service.mjs'],
      {
        cwd: dir,
        env: {
          ...process.env,
          ...harness.env,
          INPUT: JSON.stringify({ reference, questioned, polling: FAST_POLLING }),
        },
      },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      resolved: string;
      first: StartedDetection;
      second: StartedDetection;
      view: DetectionView;
    };
    expect(fileURLToPath(out.resolved)).toBe(
      path.join(dir, 'node_modules/rdd-orchestrator/dist/client/index.js'),
    );
    expect(out.first.existing).toBe(false);
    expect(out.second).toEqual({ workflowId: out.first.workflowId, existing: true });
    expect(out.view).toMatchObject({ workflowId: out.first.workflowId, state: 'completed' });
    if (out.view.state === 'completed') {
      expect(out.view.result.questioned).toMatchObject(questioned);
      expect(['genuine', 'deepfake']).toContain(out.view.result.verdict);
    }
    const runs = [];
    for await (const execution of harness.client.workflow.list({
      query: `WorkflowId = '${out.first.workflowId}'`,
    }))
      runs.push(execution);
    expect(runs).toHaveLength(1);
  });
});

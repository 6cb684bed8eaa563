/**
 * The client as another TypeScript service consumes it (README, "Using the client from another
 * service"): its import graph stays out of the worker (no activities, no worker config, no
 * detector HTTP client, no AWS SDK), a consumer project with `tsc --init`'s strict defaults (plus
 * `allowImportingTsExtensions`) type-checks against it, and Node 24 runs the consumer through a
 * workspace-style link, starting nothing when the request is invalid.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** Every project file reachable from `entry` through static, type-only or dynamic relative imports. */
function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [path.join(ROOT, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      pending.push(path.resolve(path.dirname(file), match[1]!));
    }
  }
  return [...seen].map((file) => path.relative(ROOT, file)).sort();
}

describe('the import graph of src/client/index.ts', () => {
  it('reaches only the client, the contract and the light config pieces', () => {
    const files = importGraph('src/client/index.ts');
    expect(files).toContain('src/client/detections.ts');
    const outside = files.filter(
      (file) =>
        !/^src\/(client|shared)\//.test(file) &&
        !['src/config/config-error.ts', 'src/config/env.ts', 'src/config/temporal-address.ts'].includes(
          file,
        ) &&
        !/^src\/reports\/types\.ts$/.test(file),
    );
    expect(outside).toEqual([]);
  });

  it('imports no package the worker alone needs', () => {
    const packages = new Set<string>();
    for (const file of importGraph('src/client/index.ts')) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/^import [^;]*? from '([^.][^']*)'/gm)) packages.add(match[1]!);
    }
    for (const name of packages) expect(name).not.toMatch(/^(undici|@aws-sdk\/|zod$|@temporalio\/activity)/);
  });
});

describe('a consumer service', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rdd-consumer-'));
    mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true });
    // A workspace or `npm install ../rdd-orchestrator` links the checkout; Node follows the link,
    // so the .ts files run from outside node_modules, where Node strips types.
    symlinkSync(ROOT, path.join(dir, 'node_modules/rdd-orchestrator'));
    symlinkSync(path.join(ROOT, 'node_modules/@types/node'), path.join(dir, 'node_modules/@types/node'));
    // The service's own @temporalio/client, the version the client is built on (1.24).
    symlinkSync(path.join(ROOT, 'node_modules/@temporalio'), path.join(dir, 'node_modules/@temporalio'));
    writeFileSync(
      path.join(dir, 'package.json'),
      '{ "name": "consumer", "type": "module", "private": true }',
    );
    writeFileSync(
      path.join(dir, 'service.ts'),
      [
        "import { startDetection, InvalidDetectionInputError, type DetectInput } from 'rdd-orchestrator';",
        "import type { Client } from '@temporalio/client';",
        'const input: DetectInput = {',
        "  reference: { bucket: 'media-bucket', key: 'calls/ref.wav' },",
        "  questioned: { bucket: 'media-bucket', key: 'calls/q.wav', channel: -1 },",
        '};',
        'try {',
        '  await startDetection({} as Client, input);',
        '} catch (err) {',
        '  if (!(err instanceof InvalidDetectionInputError)) throw err;',
        "  console.log(err.problems.join('; '));",
        '}',
        '',
      ].join('\n'),
    );
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [
      "tsc --init's defaults (exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax)",
      {
        module: 'nodenext',
        target: 'esnext',
        types: ['node'],
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        strict: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        noUncheckedSideEffectImports: true,
        moduleDetection: 'force',
        skipLibCheck: true,
      },
    ],
    [
      'plain strict',
      { module: 'nodenext', target: 'es2022', strict: true, types: ['node'], skipLibCheck: true },
    ],
  ])(
    'type-checks with %s',
    (_, compilerOptions) => {
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { ...compilerOptions, noEmit: true, allowImportingTsExtensions: true },
        }),
      );
      let output = '';
      try {
        execFileSync(process.execPath, [TSC, '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      } catch (err) {
        output = String((err as { stdout?: string }).stdout);
      }
      expect(output).toBe('');
    },
    60_000,
  );

  it('runs on Node 24 and is refused before anything reaches Temporal', () => {
    const stdout = execFileSync(process.execPath, ['service.ts'], { cwd: dir, encoding: 'utf8' });
    expect(stdout.trim()).toBe('questioned.channel must be a 0-based channel index, got -1');
  });
});

/**
 * The client's import graph, which tsconfig.build.json compiles into the package's dist/: it stays
 * out of the worker (no activities, no worker config, no detector HTTP client, no AWS SDK). The
 * built package as a consumer installs, type-checks and runs it is test/e2e/library.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
        ![
          'src/config/config-error.ts',
          'src/config/env.ts',
          'src/config/temporal-address.ts',
          'src/config/temporal-profile.ts',
        ].includes(file) &&
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

// Builds the library other services import: tsconfig.build.json compiles src/client/index.ts and
// what it imports into dist/ (ES2023 modules, .d.ts + declaration maps), after removing the old
// dist/ so no stale file ships. `npm run build` runs it; so does `prepare` (npm install in a
// checkout, a git install, npm pack) with --if-available: an install without the development
// dependencies (`npm ci --omit=dev`, the worker's production install) has no TypeScript and needs
// no dist/, so it skips with a note instead of failing. Plain JavaScript: it runs on any Node npm
// runs on.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  if (process.argv.includes('--if-available')) {
    console.log('rdd-orchestrator: no TypeScript installed (production install); dist/ not built');
    process.exit(0);
  }
  console.error('rdd-orchestrator: TypeScript is not installed: run npm install first');
  process.exit(1);
}
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  process.exit(1);
}

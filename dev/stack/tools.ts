/**
 * Finds the programs the stack runs: `.tools/bin` first (where scripts/provision.sh installs
 * them), then PATH.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ToolNotFoundError } from './tool-not-found-error.ts';

/** The repository root (`dev/stack` → two levels up). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

type Env = Record<string, string | undefined>;

/**
 * The project's tools directory: `RDD_TOOLS_DIR` when set, else `<repo>/.tools`.
 * @example toolsDir() // '/work/main/.tools'
 */
export function toolsDir(env: Env = process.env): string {
  return path.resolve(env.RDD_TOOLS_DIR || path.join(REPO_ROOT, '.tools'));
}

/**
 * Resolves a program to an absolute path, looking in `<tools>/bin` then in each PATH entry.
 * @throws ToolNotFoundError naming `npm run provision` when it is nowhere.
 * @example findTool('temporal') // '/work/main/.tools/bin/temporal'
 */
export function findTool(name: string, env: Env = process.env): string {
  const dirs = [path.join(toolsDir(env), 'bin'), ...(env.PATH ?? '').split(path.delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new ToolNotFoundError(name, [path.join(toolsDir(env), 'bin'), 'PATH']);
}

/**
 * The environment of the embedded local stack, as `rdd stack up` writes it to `<dir>/env`, so that
 * every other `rdd` command finds Temporal, S3 and the emulator without exporting anything.
 * Light on purpose (node:fs and node:path only): every command imports it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** `<repo>/.stack`: where `rdd stack up` keeps its env file, pids, logs and data by default. */
export const DEFAULT_STACK_DIR = path.resolve(import.meta.dirname, '../../.stack');

/** Name of the env file inside a stack dir. */
export const ENV_FILE_NAME = 'env';

type Env = Record<string, string | undefined>;

/**
 * Returns a copy of `env` where the variables in `<dir>/env` fill those not already set (a
 * variable set in the shell wins over the stack). Without an env file, a copy of `env` unchanged.
 * Reads the file on every call; never throws for a missing file.
 * @throws Error when the env file exists but cannot be read or has a malformed line.
 * @example loadConfig(withStackEnv(), ['detector'])
 */
export function withStackEnv(env: Env = process.env, dir: string = DEFAULT_STACK_DIR): Env {
  let text: string;
  try {
    text = readFileSync(path.join(dir, ENV_FILE_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...env };
    throw err;
  }
  const merged: Env = { ...env };
  for (const [key, value] of Object.entries(parseEnvFile(text))) {
    if (merged[key] === undefined || merged[key] === '') merged[key] = value;
  }
  return merged;
}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * Parses shell `KEY=VALUE` lines: blank lines and `#` comments are skipped, an optional `export `
 * prefix is allowed, and a value may be single-quoted (`'it'\''s'`) or double-quoted (no expansion).
 * @throws Error naming the first line that is not an assignment.
 * @example parseEnvFile("A=1\nB='x y'") // { A: '1', B: 'x y' }
 */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) throw new Error(`env file line ${index + 1} is not KEY=VALUE: ${line}`);
    const [, key = '', value = ''] = match;
    vars[key] = unquote(value);
  });
  return vars;
}

function unquote(value: string): string {
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
    return value.slice(1, -1).replaceAll("'\\''", "'");
  }
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
    return value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  }
  return value;
}

/**
 * Formats variables as shell `KEY=VALUE` lines, single-quoting values that need it, so the file
 * can be both `source`d by a shell and read back by `parseEnvFile`.
 * @example formatEnvFile({ A: 'x y' }) // "A='x y'\n"
 */
export function formatEnvFile(vars: Record<string, string | undefined>, header?: string): string {
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) continue;
    lines.push(
      `${key}=${/^[A-Za-z0-9_./:@%+,=-]*$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

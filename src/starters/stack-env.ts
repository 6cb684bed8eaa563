/**
 * The environment of the embedded local stack, as `rdd stack up` writes it to `<dir>/env`, so that
 * every other `rdd` command finds Temporal, S3 and the emulator without exporting anything.
 * Light on purpose (node:fs, node:path and node:util only): every command imports it. The writer,
 * `formatEnvFile`, lives with the stack in dev/stack/env-file.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from '../config.ts';

/** `<repo>/.stack`: where `rdd stack up` keeps its env file, pids, logs and data by default. */
export const DEFAULT_STACK_DIR = path.resolve(import.meta.dirname, '../../.stack');

/** Name of the env file inside a stack dir. */
export const ENV_FILE_NAME = 'env';

/**
 * Returns a copy of `env` where the variables in `<dir>/env` fill those not already set or blank
 * (a variable set in the shell wins over the stack). The file is read with Node's `util.parseEnv`
 * (dotenv syntax: `#` comments, `export ` prefixes, single or double quotes; a line without `=` is
 * skipped). Without an env file, a copy of `env` unchanged. Reads the file on every call.
 * @throws Error when the env file exists but cannot be read (not for a missing file).
 * @example loadClientConfig(withStackEnv(), ['mediaBucket'])
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
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (merged[key] === undefined || merged[key] === '') merged[key] = value;
  }
  return merged;
}

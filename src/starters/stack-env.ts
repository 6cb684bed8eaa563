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
 * Variables that choose a Temporal of the caller's own: when one is set (not blank), the stack's
 * `TEMPORAL_*` variables are all left out, so a profile or config file is never overridden by the
 * stack's TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (envconfig lets variables override a profile).
 */
export const EXPLICIT_TEMPORAL_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/**
 * The API token variables: when the caller sets either (RDD_API_TOKEN even to an empty value,
 * meaning "no auth"; RDD_API_TOKEN_FILE to a path), neither is taken from the stack, so an explicit
 * token file is not "both set" with the stack's token, and `RDD_API_TOKEN= rdd serve` runs open.
 */
export const API_TOKEN_VARIABLES = ['RDD_API_TOKEN', 'RDD_API_TOKEN_FILE'] as const;

function explicitToken(env: Env, name: (typeof API_TOKEN_VARIABLES)[number]): boolean {
  return name === 'RDD_API_TOKEN' ? env[name] !== undefined : (env[name] ?? '').trim() !== '';
}

/**
 * Returns a copy of `env` where the variables in `<dir>/env` fill those not already set or blank
 * (a variable set in the shell wins over the stack). When `env` chooses its own Temporal (one of
 * EXPLICIT_TEMPORAL_VARIABLES set), no `TEMPORAL_*` variable is taken from the stack: the
 * caller's Temporal wins whole, the stack still gives S3 and the emulator; likewise for the API
 * token (API_TOKEN_VARIABLES). The file is read with
 * Node's `util.parseEnv` (dotenv syntax: `#` comments, `export ` prefixes, single or double quotes;
 * a line without `=` is skipped). Without an env file, a copy of `env` unchanged. Reads the file on
 * every call.
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
  const ownTemporal = EXPLICIT_TEMPORAL_VARIABLES.some((name) => (env[name] ?? '').trim() !== '');
  const ownToken = API_TOKEN_VARIABLES.some((name) => explicitToken(env, name));
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (ownTemporal && key.startsWith('TEMPORAL_')) continue;
    if (ownToken && (API_TOKEN_VARIABLES as readonly string[]).includes(key)) continue;
    if (merged[key] === undefined || merged[key] === '') merged[key] = value;
  }
  return merged;
}

/**
 * Messages for what `@temporalio/envconfig` gets wrong in a user's Temporal settings: a profile or
 * config file that is not there (envconfig says only "Profile 'x' not found in config data"), and
 * the TLS an API key switches on. No imports beyond node: src/client and src/config both use it.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The config file envconfig reads for `env`: TEMPORAL_CONFIG_FILE, else the platform's default
 * (`$XDG_CONFIG_HOME/temporalio/temporal.toml`, `~/.config/temporalio/temporal.toml` on Linux), or
 * undefined when neither can be found (no HOME). Pure apart from the platform.
 * @example temporalConfigFile({ HOME: '/home/me' }) // '/home/me/.config/temporalio/temporal.toml'
 */
export function temporalConfigFile(env: Env): string | undefined {
  if (env.TEMPORAL_CONFIG_FILE !== undefined) return env.TEMPORAL_CONFIG_FILE;
  let dir: string | undefined;
  if (os.platform() === 'win32') dir = env.APPDATA || undefined;
  else if (os.platform() === 'darwin')
    dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else {
    const xdg = env.XDG_CONFIG_HOME;
    dir = xdg
      ? path.isAbsolute(xdg)
        ? xdg
        : undefined
      : env.HOME
        ? path.join(env.HOME, '.config')
        : undefined;
  }
  return dir === undefined ? undefined : path.join(dir, 'temporalio', 'temporal.toml');
}

/**
 * The configuration problem behind an error envconfig threw while loading `env`'s Temporal
 * settings, naming the variable and the file searched, or undefined when the error is not one of
 * those (a bad certificate path, say). Reads only whether the config file exists.
 * @example temporalProfileProblem(new Error("Profile 'nosuch' not found in config data"), { TEMPORAL_PROFILE: 'nosuch', HOME: '/h' })
 *   // 'TEMPORAL_PROFILE "nosuch" is not a profile in /h/.config/temporalio/temporal.toml …'
 */
export function temporalProfileProblem(err: unknown, env: Env): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const file = temporalConfigFile(env);
  const where =
    file === undefined ? 'no config file (HOME is not set and TEMPORAL_CONFIG_FILE is not either)' : file;
  const missing = /Profile '([^']*)' not found in config data/.exec(err.message);
  if (missing) {
    return (
      `TEMPORAL_PROFILE ${JSON.stringify(missing[1])} is not a profile in ${where}` +
      `${file !== undefined && !existsSync(file) ? ', which does not exist' : ''}` +
      `${env.TEMPORAL_CONFIG_FILE === undefined ? ' (the default; set TEMPORAL_CONFIG_FILE for another)' : ''}` +
      `: add a [profile.${missing[1]}] table there, or unset TEMPORAL_PROFILE`
    );
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (
    (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') &&
    env.TEMPORAL_CONFIG_FILE !== undefined
  ) {
    return `TEMPORAL_CONFIG_FILE ${JSON.stringify(env.TEMPORAL_CONFIG_FILE)} cannot be read (${code})`;
  }
  if (/^Invalid TOML/i.test(err.message)) {
    return `the Temporal config file ${where} is not valid TOML: ${err.message.split('\n')[0]}`;
  }
  return undefined;
}

/**
 * A hint for "cannot reach Temporal" when an API key is set and TLS is on only because of it
 * (envconfig turns TLS on for an API key unless TLS is configured): a plaintext server (the dev
 * server, a local cluster) then never completes the handshake. Empty otherwise. Pure.
 * @example apiKeyTlsHint({ apiKey: 'k', tls: true }) // '; TEMPORAL_API_KEY turns TLS on: …'
 */
export function apiKeyTlsHint(connection: { apiKey?: unknown; tls?: unknown }): string {
  if (connection.apiKey === undefined || connection.tls !== true) return '';
  return (
    '; TEMPORAL_API_KEY turns TLS on: for a server without TLS (a dev server, a local cluster) ' +
    'set TEMPORAL_TLS=false, or unset TEMPORAL_API_KEY'
  );
}

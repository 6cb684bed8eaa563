/**
 * `rdd stack up` and `rdd stack down`: the embedded local stack (Temporal dev server, versitygw,
 * the emulator, a worker) on 127.0.0.1. `up` writes `<dir>/env`, which every other rdd command
 * reads. The command line is defined in src/starters/dev-commands.ts; this module gets the parsed
 * options.
 */
import { startStack, stopStack } from './index.ts';

/** The options of `rdd stack up`, as parsed. */
export interface StackUpOptions {
  /** Where env, pids, logs and data live (default `.stack/`). */
  dir?: string;
  /** Return once everything is healthy and leave it running. */
  detach: boolean;
  worker: boolean;
  /** Serve the HTTP API (`rdd serve`); default true. */
  api?: boolean;
  emulator: boolean;
  temporalUi: boolean;
  /** Wire versitygw's event webhook to the API; `rules`: a JSON rule file (default: calls/{customer}/{call}.wav → references/{customer}.wav). */
  s3Events?: boolean | { rules?: string };
  /** The platform's capacity for the emulator and the worker (default RDD_PLATFORM_CAPACITY, else 2). */
  capacity?: number;
}

/** Env keys whose values are secrets: named on stderr, never printed. */
const SECRET_KEYS = new Set(['RDD_API_TOKEN']);

/**
 * What `rdd stack up` prints of the stack's env: `KEY=value` lines for stdout, and for each secret
 * (the API token) a line for stderr that names it and the env file instead. The token stays in the
 * owner-only env file, out of a terminal's scroll-back or a CI log. (The local S3 key pair is a
 * fixed development credential of the stack's own versitygw on 127.0.0.1, printed as it is.) Pure.
 * @example envLines({ A: '1', RDD_API_TOKEN: 't' }, '.stack') // { stdout: ['A=1'], stderr: ['RDD_API_TOKEN is set: see .stack/env (not printed)'] }
 */
export function envLines(env: object, dir: string): { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  for (const [key, value] of Object.entries(env) as [string, string][]) {
    if (SECRET_KEYS.has(key)) stderr.push(`${key} is set: see ${dir}/env (not printed)`);
    else stdout.push(`${key}=${value}`);
  }
  return { stdout, stderr };
}

/** Progress goes to stderr, so stdout holds only the env lines. */
const log = (line: string): void => console.error(line);

/**
 * Starts the stack and prints its env (`KEY=value` lines on stdout, as written to `<dir>/env`),
 * except the API token, which is only named on stderr (`envLines`).
 * Detached, resolves once it is healthy; otherwise runs until SIGINT/SIGTERM/SIGHUP (a second
 * Ctrl-C exits at once and leaves the rest to the orphan guard), then stops everything.
 * @throws StackRunningError when a stack already runs in `dir`; Error when a service exited on
 *   its own while in the foreground (everything else was stopped first).
 */
export async function stackUp(options: StackUpOptions): Promise<void> {
  const stack = await startStack({ ...options, log });
  const { stdout, stderr } = envLines(stack.env, stack.dir);
  for (const line of stdout) console.log(line);
  for (const line of stderr) log(line);
  log('');
  if (stack.env.TEMPORAL_UI_URL) log(`Temporal UI: ${stack.env.TEMPORAL_UI_URL}`);
  log(`Logs: ${stack.dir}/logs/. Other rdd commands read ${stack.dir}/env.`);
  if (options.detach) {
    log(
      'The stack runs in the background; stop it with: rdd stack down' +
        (options.dir ? ` --dir ${options.dir}` : ''),
    );
    return;
  }
  log('Press Ctrl-C to stop.');

  let signals = 0;
  const outcome = await new Promise<string | undefined>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) resolve(undefined);
      // A second Ctrl-C does not wait: the orphan guard stops what is left.
      else process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    void stack.exited.then(resolve);
  });
  if (outcome) log(`\n${outcome}; stopping the stack`);
  else log('\nstopping the stack (Ctrl-C again to stop without waiting)');
  await stack.stop();
  log('stack stopped');
  if (outcome) throw new Error(`${outcome}; the stack was stopped`);
}

/**
 * Stops the stack started in `dir` and removes `<dir>/env`; says what it stopped. Idempotent: no
 * stack is not an error.
 */
export async function stackDown(options: { dir?: string }): Promise<void> {
  const { found, stopped } = await stopStack({ dir: options.dir, log });
  log(
    !found
      ? 'no stack was running'
      : stopped.length
        ? `stack stopped (${stopped.join(', ')})`
        : 'stack was not running',
  );
}

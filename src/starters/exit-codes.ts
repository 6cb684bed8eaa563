/**
 * The exit codes of every `rdd` command, the error types that carry them, and the one place that
 * turns whatever a command threw into a line on stderr and an exit code (`reportError`).
 */
import { CommanderError } from '@commander-js/extra-typings';
import { ConfigError } from '../config/config-error.ts';

/**
 * The exit codes of every `rdd` command (documented in the README's "Exit codes" table). A script
 * can tell "the detection failed" (1) from "Temporal could not be reached" (5): after a 5 the
 * detection may well still be running, so ask again later with `rdd result <id>`.
 */
export const ExitCode = {
  /** Done: the result was printed (or the command did what it was asked). */
  Ok: 0,
  /** The detection failed (the reason, and any score, was printed), or the command failed. */
  Failed: 1,
  /** Bad command line or configuration; nothing was started. */
  Usage: 2,
  /** The detection is still running (`rdd result`, or `--timeout` elapsed). */
  StillRunning: 3,
  /** No such detection. */
  NotFound: 4,
  /** Temporal could not be reached (within the connect/wait budget). Says nothing about the detection. */
  TemporalUnreachable: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as `rdd --help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  the detection failed (its reason and any score printed), or the command failed
  2  bad command line or configuration; nothing was started
  3  the detection is still running
  4  no such detection, batch, schedule or sweep
  5  Temporal could not be reached (the detection may still run: rdd result <id>)`;

/**
 * How a command ends with a non-zero exit code: `message` (without the command name; may be empty
 * when the command printed everything itself) goes to stderr as `<command>: <message>`.
 * @example throw new CliError(ExitCode.StillRunning, `${id} is still running`)
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/**
 * A bad command line (an argument, a flag's value, `--id`): nothing was uploaded or started.
 * Printed with a pointer to the command's help; exit code 2. The only usage error of the CLI.
 * @example throw new UsageError('--timeout needs --wait')
 */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super(ExitCode.Usage, message, options);
  }
}

/** The line under a usage error, pointing at the command's generated help. */
export function helpHint(commandPath: string): string {
  return `(${commandPath} --help shows usage)`;
}

/**
 * Maps what a command threw to its exit code, writing its one line to `stderr` (a commander parse
 * error has already been printed by commander, see `rdd.ts`). Never throws.
 * - commander: `--help`/`--version` 0, anything else (unknown flag or command, missing or excess
 *   argument, invalid option value, `rdd` alone) 2;
 * - `CliError` / `UsageError`: its code, `<command>: <message>` (a usage error adds the help hint);
 * - `ConfigError`: 2, every problem listed;
 * - `S3RequestError` (src/storage; by its `name`): 1, its one line (it names object and setting);
 * - `TemporalUnreachableError` (src/client; matched by its `name`, so that parsing and help never
 *   load the Temporal SDK): 5;
 * - anything else: 1, one line `<command>: <name>: <message>` (plus a hint to set
 *   RDD_ENCRYPTION_KEYS when the payload was encrypted); `DEBUG=1` adds the stack.
 * @example process.exitCode = reportError(err, 'rdd detect')
 */
export function reportError(
  err: unknown,
  commandPath: string,
  stderr: (text: string) => void = (text) => process.stderr.write(text),
  env: Record<string, string | undefined> = process.env,
): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  if (err instanceof CliError) {
    if (err.message !== '') stderr(`${commandPath}: ${err.message}\n`);
    if (err instanceof UsageError) stderr(`${helpHint(commandPath)}\n`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    stderr(`${commandPath}: ${err.message}\n`);
    return ExitCode.Usage;
  }
  // S3 refused or did not answer a command's request (src/storage): its message names the object,
  // the setting and what S3 said. Exit 1: the command failed; a bad bucket NAME is a ConfigError.
  if (err instanceof Error && err.name === 'S3RequestError') {
    stderr(`${commandPath}: ${err.message}\n`);
    return ExitCode.Failed;
  }
  if (err instanceof Error && err.name === 'TemporalUnreachableError') {
    stderr(`${commandPath}: ${err.message}\n`);
    return ExitCode.TemporalUnreachable;
  }
  const message =
    err instanceof Error
      ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message.split('\n')[0]}`
      : String(err);
  const stack = env.DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  stderr(`${commandPath}: ${message}${encryptedHint(err)}${stack}\n`);
  return ExitCode.Failed;
}

/**
 * A hint for a payload this process could not decode because it is encrypted (the SDK's
 * `Unknown encoding: binary/encrypted`, anywhere in the cause chain): the process lacks the keys.
 */
function encryptedHint(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e.message.includes('Unknown encoding: binary/encrypted')) {
      return (
        ' (the payload is encrypted: set RDD_ENCRYPTION_KEYS or RDD_ENCRYPTION_KEYS_FILE to the keys ' +
        'the workers use)'
      );
    }
  }
  return '';
}

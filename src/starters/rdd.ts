#!/usr/bin/env node
/**
 * `rdd`: the command line. The program is built from one definition per command or group
 * (`<name>-command.ts`, on commander), so `rdd --help` and `rdd <command> --help` are generated
 * from the same options that are parsed. A definition loads its action (`<name>-action.ts`, or
 * dev/ for the development commands) only when the command runs, so help and parse errors never
 * load the Temporal SDK. Adding a command is its modules plus one line in `COMMANDS`.
 *
 * Every error ends in one place, `reportError` (exit-codes.ts): a parse error (unknown flag or
 * command, missing or excess argument, bad option value) exits 2 naming what was wrong.
 */
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { detectCommand } from './detect-command.ts';
import { demoCommand, emulatorCommand, stackCommand } from './dev-commands.ts';
import { EXIT_CODES_HELP, ExitCode, helpHint, reportError } from './exit-codes.ts';
import { resultCommand } from './result-command.ts';
import { workerCommand } from './worker-command.ts';

/** Every command, in the order `rdd --help` lists them. */
const COMMANDS: readonly (() => CommandUnknownOpts)[] = [
  workerCommand,
  detectCommand,
  resultCommand,
  emulatorCommand,
  stackCommand,
  demoCommand,
];

/**
 * The `rdd` program: every command, with parse errors thrown (never `process.exit`) and printed as
 * `<command path>: <problem>` plus a pointer to the help. Parse with `runCli`.
 * @example createProgram().commands.map((c) => c.name()) // ['worker', 'detect', …]
 */
export function createProgram(): Command {
  const program = new Command('rdd')
    .description(
      'Durable referential deepfake detection on Temporal for Phonexia Speech Platform 4. ' +
        'Every command reads .stack/env (written by `rdd stack up`) for variables not set.',
    )
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);
  for (const command of COMMANDS) program.addCommand(command());
  configureTree(program);
  return program;
}

/** The same error handling on every command: `addCommand` does not pass settings down. */
function configureTree(command: CommandUnknownOpts): void {
  const path = commandPath(command);
  command
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`${path}: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError(helpHint(path));
  for (const sub of command.commands) configureTree(sub);
}

/** `rdd stack up` for the `up` command: the words a user types, for messages. */
function commandPath(command: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs `rdd` with `argv` (without node and the script) and returns the exit code (`ExitCode`).
 * Never throws: every failure is reported by `reportError`.
 * @example process.exitCode = await runCli(['detect', 'ref.wav', 'q.wav', '--wait'])
 */
export async function runCli(argv: readonly string[], program = createProgram()): Promise<ExitCode> {
  let running: CommandUnknownOpts = program;
  program.hook('preAction', (_program, actionCommand) => {
    running = actionCommand;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    return reportError(err, commandPath(running));
  }
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));

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
import { batchCommand } from './batch-command.ts';
import { calibrateCommand } from './calibrate-command.ts';
import { codecServerCommand } from './codec-server-command.ts';
import { demoCommand, emulatorCommand, stackCommand } from './dev-commands.ts';
import { EXIT_CODES_HELP, ExitCode, helpHint, reportError } from './exit-codes.ts';
import { platformCommand } from './platform-command.ts';
import { resultCommand } from './result-command.ts';
import { serveCommand } from './serve-command.ts';
import { setupCommand } from './setup-command.ts';
import { scheduleCommand } from './schedule-command.ts';
import { sweepCommand } from './sweep-command.ts';
import { workerCommand } from './worker-command.ts';

/** Every command, in the order `rdd --help` lists them. */
const COMMANDS: readonly (() => CommandUnknownOpts)[] = [
  workerCommand,
  serveCommand,
  codecServerCommand,
  setupCommand,
  detectCommand,
  batchCommand,
  scheduleCommand,
  sweepCommand,
  calibrateCommand,
  resultCommand,
  platformCommand,
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
  program.helpCommand(false).addCommand(helpCommand(program));
  configureTree(program);
  return program;
}

/**
 * `rdd help [command…]`: the help of a command (`rdd help stack up`), of the program without one.
 * Replaces commander's implicit help command, which answers an unknown name with the program's help
 * and exit 1; here it is a usage error like `rdd bogus`: `unknown command 'bogus'`, exit 2.
 */
function helpCommand(program: CommandUnknownOpts): CommandUnknownOpts {
  return new Command('help')
    .description('display help for command')
    .argument('[command...]', 'the command, e.g. `detect` or `stack up`')
    .action((names) => {
      let target: CommandUnknownOpts = program;
      for (const name of names) {
        const sub = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        // Reported by the command that lacks it, as `rdd stack bogus` is: `rdd stack: unknown …`.
        if (!sub)
          target.error(`unknown command '${name}'`, { code: 'commander.unknownCommand', exitCode: 2 });
        target = sub;
      }
      target.help();
    });
}

/**
 * A reader that closed the pipe early (`rdd worker --help | head -2`) is not a failure of ours:
 * the rest of the output is dropped instead of ending in an unhandled EPIPE and a stack trace.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
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

if (import.meta.main) {
  ignoreClosedPipes();
  const code = await runCli(process.argv.slice(2));
  process.exitCode = code;
  // A failed command ends now: a worker whose start failed may hold native handles (the SDK's
  // Runtime, a connection) that would keep the process alive. stderr is synchronous for files and
  // pipes on Linux, so the message is out.
  if (code !== ExitCode.Ok) process.exit(code);
}

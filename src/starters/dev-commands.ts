/**
 * The development commands: `rdd emulator`, `rdd stack up|down`, `rdd demo`. Their definitions
 * (options, help) live here, so `--help` and flag checking work in every installation; their
 * actions load dev/ lazily. A production install has no dev/ (nor its devDependencies): there the
 * command says so in one line and exits 1.
 *
 * The one module of src/ allowed to reach dev/ (eslint.config.js), and only through `import()`.
 */
import { Command } from '@commander-js/extra-typings';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { numberParser } from './option-values.ts';
import { DEFAULT_STACK_DIR } from './stack-env.ts';

/** The line a dev command prints when dev/ or its devDependencies are not installed. */
export const NOT_AVAILABLE =
  'not available in this installation (development tools are not shipped with production ' +
  'installs; use a source checkout with npm ci)';

/**
 * Loads a dev/ module. Node reports a missing file and a missing package alike as
 * ERR_MODULE_NOT_FOUND: either means a production install.
 * @throws CliError (exit 1, `NOT_AVAILABLE`) when dev/ or a package it needs is missing;
 *   whatever else the import throws, unchanged.
 * @example const { stackDown } = await loadDev(() => import('../../dev/stack/command.ts'))
 */
export async function loadDev<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(ExitCode.Failed, NOT_AVAILABLE, { cause: err });
    }
    throw err;
  }
}

const count = numberParser({ integer: true, min: 1 });
const milliseconds = numberParser({ min: 0 });
const positive = numberParser({ above: 0 });

/**
 * `rdd emulator`: the local Speech Platform emulator, until SIGINT/SIGTERM.
 * @example createProgram().addCommand(emulatorCommand())
 */
export function emulatorCommand() {
  return new Command('emulator')
    .summary('the local Speech Platform emulator (development)')
    .description(
      'Emulates the Phonexia Speech Platform 4 referential deepfake detection API on HTTP, until ' +
        'SIGINT/SIGTERM. Its scores are a deterministic stand-in, not a deepfake detector (README, ' +
        '"The emulator").',
    )
    .option('--port <n>', 'TCP port (0 = any free port)', numberParser({ integer: true, min: 0 }), 8600)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--relative-location', 'send Location/X-Location as a path, not an absolute URL')
    .option('--capacity <n>', 'tasks processed in parallel (default 2); others wait "pending"', count)
    .option('--processing-ms <ms>', 'fixed time each task spends "running"', milliseconds)
    .option('--base-ms <ms>', 'else: base time per task (default 500) …', milliseconds)
    .option(
      '--per-audio-second-ms <ms>',
      '… plus this per second of audio in both files (default 20)',
      milliseconds,
    )
    .option('--expiry-seconds <s>', 'finished tasks are forgotten after this long (default 600)', positive)
    .option('--max-upload-bytes <n>', 'larger requests answer 413 (default 500000000)', count)
    .option(
      '--storage-bytes <n>',
      'input storage of unfinished tasks; full answers 507 (default 1 GiB)',
      count,
    )
    .option('--max-audio-seconds <s>', 'longer audio ends "rejected" (default 7200)', positive)
    .option('--fixtures <file>', 'JSON fixtures keyed by SHA-256 of the questioned file')
    .option(
      '--faults <json|file>',
      'injected faults (dev/emulator/options.ts EmulatorFaults), e.g. \'{"rates":{"seed":1,"submit5xx":0.1}}\'',
    )
    .option('--admin', 'serve the dev-only admin routes under /_emulator/ (faults, restart, accounting)')
    .option('--quiet', 'no request log')
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped by SIGINT/SIGTERM, 1 it could not start (port in use, bad fixtures, or\n' +
        'a production install without dev/), 2 bad arguments.',
    )
    .action(async (options) => {
      const { runEmulator } = await loadDev(() => import('../../dev/emulator/command.ts'));
      await runEmulator(options);
    });
}

/**
 * `rdd stack up|down`: the embedded local stack.
 * @example createProgram().addCommand(stackCommand())
 */
export function stackCommand() {
  const dir = `where env, pids, logs and data live (default ${DEFAULT_STACK_DIR})`;
  return new Command('stack')
    .summary('the embedded local stack: up [--detach] | down (development)')
    .description(
      'Temporal (with its Web UI), S3 (versitygw), the emulator and a worker on 127.0.0.1. `up` ' +
        'writes their settings to <dir>/env, which every other rdd command reads.',
    )
    .addCommand(
      new Command('up')
        .summary('start the stack (in the foreground, or --detach)')
        .description(
          'Starts the stack, prints its settings (KEY=value, as written to <dir>/env) and runs until ' +
            'Ctrl-C; with --detach, returns once everything is healthy and leaves it running.',
        )
        .option('-d, --detach', 'return once everything is healthy (stop it: rdd stack down)')
        .option('--dir <dir>', dir)
        .option('--no-worker', 'no worker (run your own: rdd worker)')
        .option('--no-api', 'no HTTP API (run your own: rdd serve)')
        .option('--no-emulator', 'no emulator (set DETECTOR_URL to a real Speech Platform for the worker)')
        .option('--headless', 'no Temporal Web UI')
        .option(
          '--s3-events',
          "point versitygw's event webhook at the API (POST /v1/s3-events): a PUT matching a rule starts a detection",
        )
        .option(
          '--rules <file>',
          'with --s3-events: the JSON rule file (default: calls/{customer}/{call}.wav → references/{customer}.wav)',
        )
        .option(
          '--capacity <n>',
          "the platform's parallel slots, for the emulator and the worker's leases alike " +
            '(default RDD_PLATFORM_CAPACITY, else 2)',
          count,
        )
        .action(async (options) => {
          if (options.rules !== undefined && !options.s3Events)
            throw new UsageError('--rules needs --s3-events');
          if (options.s3Events && !options.api)
            throw new UsageError('--s3-events needs the API (drop --no-api)');
          const { stackUp } = await loadDev(() => import('../../dev/stack/command.ts'));
          await stackUp({
            ...(options.dir !== undefined && { dir: options.dir }),
            detach: options.detach ?? false,
            worker: options.worker,
            api: options.api,
            emulator: options.emulator,
            temporalUi: !options.headless,
            ...(options.capacity !== undefined && { capacity: options.capacity }),
            ...(options.s3Events && {
              s3Events: options.rules === undefined ? true : { rules: options.rules },
            }),
          });
        }),
    )
    .addCommand(
      new Command('down')
        .summary('stop the stack')
        .description('Stops the stack started in <dir> and removes <dir>/env. No stack is not an error.')
        .option('--dir <dir>', dir)
        .action(async (options) => {
          const { stackDown } = await loadDev(() => import('../../dev/stack/command.ts'));
          await stackDown(options);
        }),
    );
}

/**
 * `rdd demo`: the six-pair example on the embedded stack (what `npm run demo` runs).
 * @example createProgram().addCommand(demoCommand())
 */
export function demoCommand() {
  return new Command('demo')
    .summary('run the six-pair demo on a local stack (development)')
    .description(
      'Starts the local stack (or reuses a running one), synthesises the example recordings with ' +
        'espeak-ng, runs six detections as workflows and prints a table. Exits 1 when one failed.',
    )
    .action(async () => {
      const { runDemo } = await loadDev(() => import('../../dev/demo/demo.ts'));
      if ((await runDemo()) !== 0) throw new CliError(ExitCode.Failed, 'a detection failed (see the table)');
    });
}

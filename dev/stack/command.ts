/**
 * `rdd stack up [--detach] [--dir D] [--no-worker] [--no-emulator] [--headless]` and
 * `rdd stack down [--dir D]`: the embedded local stack (Temporal dev server, versitygw, the
 * emulator, a worker) on 127.0.0.1. `up` writes `<dir>/env`, which every other rdd command reads.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_STACK_DIR, startStack, stopStack } from './index.ts';

const USAGE = `usage: rdd stack up [--detach] [--dir D] [--no-worker] [--no-emulator] [--headless]
       rdd stack down [--dir D]

  up            start Temporal (with its Web UI), S3 (versitygw), the emulator and a worker on
                127.0.0.1, write their settings to <dir>/env, print them, and run until Ctrl-C
  --detach      return once everything is healthy and leave it running (stop: rdd stack down)
  --dir D       where env, pids, logs and data live (default ${DEFAULT_STACK_DIR})
  --no-worker   no worker (run your own: rdd worker)
  --no-emulator no emulator (set DETECTOR_URL to a real Speech Platform for the worker)
  --headless    no Temporal Web UI
  down          stop the stack started in <dir> and remove <dir>/env`;

/**
 * Runs `rdd stack …` and returns the exit code: 0 on success, 1 on failure, 2 on bad usage.
 * @example await run(['up', '--detach'])
 */
export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      allowNegative: true,
      options: {
        detach: { type: 'boolean', short: 'd', default: false },
        dir: { type: 'string' },
        worker: { type: 'boolean', default: true },
        emulator: { type: 'boolean', default: true },
        headless: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`rdd stack: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((action !== 'up' && action !== 'down') || extra.length > 0) {
    console.error(`${USAGE}`);
    return 2;
  }
  const log = (line: string): void => console.error(line);
  try {
    if (action === 'down') {
      const { found, stopped } = await stopStack({ dir: values.dir, log });
      console.error(
        !found
          ? 'no stack was running'
          : stopped.length
            ? `stack stopped (${stopped.join(', ')})`
            : 'stack was not running',
      );
      return 0;
    }
    return await up({
      dir: values.dir,
      detach: values.detach,
      worker: values.worker,
      emulator: values.emulator,
      temporalUi: !values.headless,
      log,
    });
  } catch (err) {
    console.error(`rdd stack ${action}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function up(
  options: Parameters<typeof startStack>[0] & { log: (line: string) => void },
): Promise<number> {
  const { log } = options;
  const stack = await startStack(options);
  for (const [key, value] of Object.entries(stack.env)) console.log(`${key}=${value}`);
  log('');
  if (stack.env.TEMPORAL_UI_URL) log(`Temporal UI: ${stack.env.TEMPORAL_UI_URL}`);
  log(`Logs: ${stack.dir}/logs/. Other rdd commands read ${stack.dir}/env.`);
  if (options.detach) {
    log(
      'The stack runs in the background; stop it with: rdd stack down' +
        (options.dir ? ` --dir ${options.dir}` : ''),
    );
    return 0;
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
  return outcome ? 1 : 0;
}

/**
 * `rdd emulator`: runs the local Speech Platform emulator until SIGINT/SIGTERM.
 *
 * @example node src/starters/rdd.ts emulator --port 8600 --processing-ms 200
 */
import { parseArgs } from 'node:util';

import { SCORING_DESCRIPTION, startEmulator, type EmulatorOptions } from './index.ts';

const USAGE = `usage: rdd emulator [options]

Emulates the Phonexia Speech Platform 4 referential deepfake detection API on HTTP.

  --port N                   TCP port (default 8600; 0 = any free port)
  --host HOST                interface to listen on (default 127.0.0.1)
  --relative-location        send Location/X-Location as a path, not an absolute URL
  --capacity N               tasks processed in parallel (default 2); others wait "pending"
  --processing-ms N          fixed time each task spends "running"
  --base-ms N                else: base time per task (default 500) …
  --per-audio-second-ms N    … plus this per second of audio in both files (default 20)
  --expiry-seconds N         finished tasks are forgotten after N s (default 600)
  --max-upload-bytes N       larger requests answer 413 (default 500000000)
  --storage-bytes N          input storage of unfinished tasks; full answers 507 (default 1 GiB)
  --max-audio-seconds N      longer audio ends "rejected" (default 7200)
  --fixtures FILE            JSON fixtures keyed by SHA-256 of the questioned file
  --quiet                    no request log
  --help                     this text

Scoring:
${SCORING_DESCRIPTION.replace(/^/gm, '  ')}`;

/** Flags that take a number, with the option each sets and the smallest value allowed. */
const NUMERIC_FLAGS = {
  port: { min: 0, integer: true },
  capacity: { min: 1, integer: true },
  'processing-ms': { min: 0, integer: false },
  'base-ms': { min: 0, integer: false },
  'per-audio-second-ms': { min: 0, integer: false },
  'expiry-seconds': { min: Number.MIN_VALUE, integer: false },
  'max-upload-bytes': { min: 1, integer: true },
  'storage-bytes': { min: 1, integer: true },
  'max-audio-seconds': { min: Number.MIN_VALUE, integer: false },
} as const;
type NumericFlag = keyof typeof NUMERIC_FLAGS;

/** Thrown for a bad command line; the message names the flag. */
class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Runs the emulator; resolves with the exit code once a signal stopped it.
 * @returns 0 after a clean stop, 2 for a bad command line, 1 when it could not start.
 */
export async function run(argv: string[]): Promise<number> {
  let options: Partial<EmulatorOptions>;
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    options = parsed;
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    // parseArgs throws TypeError (ERR_PARSE_ARGS_*) whose message names the flag.
    console.error(
      `rdd emulator: ${err.message}\n\n${USAGE.split('\n\n')[0]}\nrdd emulator --help for all options.`,
    );
    return 2;
  }

  let emulator;
  try {
    emulator = await startEmulator(options);
  } catch (err) {
    console.error(`rdd emulator: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.log(`emulator listening on ${emulator.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await emulator.close();
  console.log(`emulator stopped (${signal})`);
  return 0;
}

function parse(argv: string[]): Partial<EmulatorOptions> | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'relative-location': { type: 'boolean' },
      capacity: { type: 'string' },
      'processing-ms': { type: 'string' },
      'base-ms': { type: 'string' },
      'per-audio-second-ms': { type: 'string' },
      'expiry-seconds': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      'storage-bytes': { type: 'string' },
      'max-audio-seconds': { type: 'string' },
      fixtures: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const number = (flag: NumericFlag): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const { min, integer } = NUMERIC_FLAGS[flag];
    const value = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      (integer && !Number.isInteger(value))
    ) {
      const range = min === Number.MIN_VALUE ? 'above 0' : `≥ ${min}`;
      throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} ${range}, got "${raw}"`);
    }
    return value;
  };
  const options: Partial<EmulatorOptions> = {
    port: number('port') ?? 8600,
    relativeLocation: values['relative-location'] ?? false,
    processing: {
      fixedMs: number('processing-ms'),
      baseMs: number('base-ms'),
      perAudioSecondMs: number('per-audio-second-ms'),
    },
    log: values.quiet ? undefined : (line: string) => console.log(`${new Date().toISOString()} ${line}`),
  };
  if (values.host !== undefined) options.host = values.host;
  if (values.fixtures !== undefined) options.fixtures = values.fixtures;
  const capacity = number('capacity');
  if (capacity !== undefined) options.capacity = capacity;
  const expiry = number('expiry-seconds');
  if (expiry !== undefined) options.expiryMs = expiry * 1000;
  const maxUpload = number('max-upload-bytes');
  if (maxUpload !== undefined) options.maxUploadBytes = maxUpload;
  const storage = number('storage-bytes');
  if (storage !== undefined) options.storageBytes = storage;
  const maxAudio = number('max-audio-seconds');
  if (maxAudio !== undefined) options.maxAudioSeconds = maxAudio;
  return options;
}

/**
 * `rdd emulator`: runs the local Speech Platform emulator until SIGINT/SIGTERM. The command line
 * (flags, help, value checks) is defined in src/starters/dev-commands.ts; this module gets the
 * parsed options.
 *
 * @example node src/starters/rdd.ts emulator --port 8600 --processing-ms 200
 */
import { readFileSync } from 'node:fs';

import { UsageError } from '../../src/starters/exit-codes.ts';
import { startEmulator, type EmulatorFaults, type EmulatorOptions } from './index.ts';
import { validateFaults } from './options.ts';

/** The options of `rdd emulator`, as parsed (numbers already checked). */
export interface EmulatorCommandOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  host?: string;
  relativeLocation?: boolean;
  capacity?: number;
  processingMs?: number;
  baseMs?: number;
  perAudioSecondMs?: number;
  expirySeconds?: number;
  maxUploadBytes?: number;
  storageBytes?: number;
  maxAudioSeconds?: number;
  fixtures?: string;
  /** Injected faults: a JSON {@link EmulatorFaults} object, inline or the path of a file holding one. */
  faults?: string;
  /** Serve the dev-only admin routes under /_emulator/ (faults, restart, accounting). */
  admin?: boolean;
  quiet?: boolean;
}

/**
 * The emulator's options for the command's flags: only what was given overrides the defaults.
 * Pure.
 * @example emulatorOptions({ port: 0, expirySeconds: 5 }).expiryMs // 5000
 */
export function emulatorOptions(options: EmulatorCommandOptions): Partial<EmulatorOptions> {
  return {
    port: options.port,
    relativeLocation: options.relativeLocation ?? false,
    processing: {
      fixedMs: options.processingMs,
      baseMs: options.baseMs,
      perAudioSecondMs: options.perAudioSecondMs,
    },
    log: options.quiet ? undefined : (line: string) => console.log(`${new Date().toISOString()} ${line}`),
    ...(options.host !== undefined && { host: options.host }),
    ...(options.fixtures !== undefined && { fixtures: options.fixtures }),
    ...(options.capacity !== undefined && { capacity: options.capacity }),
    ...(options.expirySeconds !== undefined && { expiryMs: options.expirySeconds * 1000 }),
    ...(options.maxUploadBytes !== undefined && { maxUploadBytes: options.maxUploadBytes }),
    ...(options.storageBytes !== undefined && { storageBytes: options.storageBytes }),
    ...(options.maxAudioSeconds !== undefined && { maxAudioSeconds: options.maxAudioSeconds }),
    ...(options.faults !== undefined && { faults: parseFaults(options.faults) }),
    ...(options.admin !== undefined && { admin: options.admin }),
  };
}

/**
 * The `--faults` value: inline JSON (starting with `{`) or the path of a JSON file, checked with
 * `validateFaults` (unknown fields and statuses that inject nothing are refused).
 * @throws Error when the file cannot be read; UsageError (exit 2) naming the problem when the JSON is
 * malformed or the faults are invalid.
 * @example parseFaults('{"rates":{"seed":7,"submit5xx":0.1}}').rates?.seed // 7
 */
export function parseFaults(value: string): EmulatorFaults {
  const text = value.trimStart().startsWith('{') ? value : readFileSync(value, 'utf8');
  let faults: EmulatorFaults;
  try {
    faults = JSON.parse(text) as EmulatorFaults;
  } catch (err) {
    throw new UsageError(`--faults is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  try {
    validateFaults(faults);
  } catch (err) {
    throw new UsageError(`--faults: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return faults;
}

/**
 * Runs the emulator, printing `emulator listening on <url>`, until SIGINT or SIGTERM; resolves
 * once it has closed.
 * @throws UsageError (exit 2) for a malformed or invalid `--faults`; Error "cannot start: …" when it
 * cannot listen or the fixtures file is bad.
 */
export async function runEmulator(options: EmulatorCommandOptions): Promise<void> {
  const resolved = emulatorOptions(options); // a bad --faults is a UsageError (exit 2), not "cannot start"
  let emulator;
  try {
    emulator = await startEmulator(resolved);
  } catch (err) {
    throw new Error(`cannot start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
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
}

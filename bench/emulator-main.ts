/**
 * The bench's emulator process: `node bench/emulator-main.ts '<options JSON>'` starts the emulator
 * with the dev-only admin route on (accounting and processing model, see dev/emulator/server.ts),
 * prints `{"url": …}` on one line, and runs until SIGTERM/SIGINT. A process of its own, so its CPU
 * can be read apart from the worker's and the driver's.
 */
import { startEmulator, type EmulatorOptions } from '../dev/emulator/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as Partial<EmulatorOptions>;
// The stand-in scorer analyses only the first 5 s of each file: the processing model sets job time,
// and analysing minutes of audio per job would take the 2 cores from the stack under test.
const emulator = await startEmulator({
  maxAnalysisSeconds: 5,
  ...options,
  admin: true,
  expiryMs: 60 * 60_000,
  log: undefined,
});
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

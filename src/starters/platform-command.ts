/**
 * `rdd platform status|capacity`: read and change the Speech Platform's capacity, which one
 * capacity workflow per platform URL leases to every detection, batch and worker.
 */
import { Command } from '@commander-js/extra-typings';
import { numberParser } from './option-values.ts';

/** Options shared by `rdd platform` subcommands, as parsed. */
export interface PlatformOptions {
  /** The platform's base URL (default DETECTOR_URL, as the worker has it). */
  platform?: string;
  json?: true;
}

const PLATFORM_OPTION = [
  '--platform <url>',
  "the platform's base URL, as the workers' DETECTOR_URL (default DETECTOR_URL)",
] as const;

/**
 * The `rdd platform` command group: `status` and `capacity <n>`.
 * @example createProgram().addCommand(platformCommand())
 */
export function platformCommand() {
  return new Command('platform')
    .summary("the platform's capacity: status | capacity <n>")
    .description(
      'Every detection holds a lease from submit until its job ends on the platform; the platform ' +
        'gets at most capacity + allowance jobs at once (allowance: max(1, ⌈capacity/4⌉), raised for short ' +
        'jobs to cover DETECTOR_QUEUE_MS of work, at most the capacity). Interactive detections ' +
        'go before batch pairs, and batches share round-robin.',
    )
    .addCommand(
      new Command('status')
        .summary('capacity, held leases and the waiting queue')
        .option(...PLATFORM_OPTION)
        .option('--json', 'print the state as JSON')
        .action(async (options) => {
          const { platformStatus } = await import('./platform-action.ts');
          await platformStatus(options);
        }),
    )
    .addCommand(
      new Command('capacity')
        .summary('set the parallel slots at run time')
        .description(
          'Sets the capacity at once for new grants; leases above a lowered capacity end with their ' +
            'jobs. Keep it equal to the appliance’s parallel slots.',
        )
        .argument('<n>', 'parallel slots (a positive integer)', numberParser({ integer: true, min: 1 }))
        .option(...PLATFORM_OPTION)
        .option('--json', 'print the new state as JSON')
        .action(async (capacity, options) => {
          const { platformCapacity } = await import('./platform-action.ts');
          await platformCapacity(capacity, options);
        }),
    );
}

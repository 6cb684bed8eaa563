/**
 * `rdd setup`: prepares a Temporal cluster (self-hosted, TLS, or Temporal Cloud) for this project:
 * the namespace and the custom search attributes. The action is in setup-action.ts, loaded only
 * when the command runs.
 */
import { Command } from '@commander-js/extra-typings';
import { numberParser } from './option-values.ts';

/** The options of `rdd setup`, as parsed. */
export interface SetupOptions {
  /** Retention of a namespace this command creates (days); an existing one is left as it is. */
  retentionDays: number;
}

/** Retention of a namespace `rdd setup` creates, in days. */
export const DEFAULT_RETENTION_DAYS = 7;

/**
 * The `rdd setup` command.
 * @example createProgram().addCommand(setupCommand())
 */
export function setupCommand() {
  return new Command('setup')
    .summary('create the namespace if missing and register the search attributes (idempotent)')
    .description(
      'Prepares the Temporal cluster that TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (or a ' +
        '@temporalio/envconfig profile) name: creates the namespace when it does not exist, then ' +
        'registers the custom search attributes (DetectionPhase, DetectionVerdict, …) through the ' +
        'operator API. Running it again changes nothing. A search attribute already registered ' +
        'under the same name with another type is an error (exit 2) and nothing is changed.',
    )
    .option(
      '--retention-days <n>',
      'retention of a namespace it creates, in days',
      numberParser({ integer: true, min: 1 }),
      DEFAULT_RETENTION_DAYS,
    )
    .action(async (options) => {
      const { setupClusterCommand } = await import('./setup-action.ts');
      await setupClusterCommand(options);
    });
}

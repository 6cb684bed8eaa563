/**
 * `rdd codec-server`: Temporal's remote codec endpoint for encrypted payloads, so the Temporal UI
 * (and `temporal workflow show --codec-endpoint`) shows decrypted data to authorised users.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { CODEC_SERVER_DEFAULTS } from '../config/codec-server.ts';
import { numberParser } from './option-values.ts';

/** The line `rdd codec-server` prints once it listens. */
export const CODEC_SERVER_READY_LINE = 'rdd codec-server listening on';

/**
 * The `rdd codec-server` command: its help and action.
 * @example createProgram().addCommand(codecServerCommand())
 */
export function codecServerCommand() {
  return new Command('codec-server')
    .summary('serve the payload codec for the Temporal UI (decrypts with RDD_ENCRYPTION_KEYS)')
    .description(
      "Serves Temporal's codec server protocol (POST /encode, POST /decode) so the Temporal UI shows " +
        'decrypted inputs, results and failures. Set the UI\'s "Codec Server endpoint" to this ' +
        "server's URL. Configured by environment (see the README): RDD_ENCRYPTION_KEYS or " +
        'RDD_ENCRYPTION_KEYS_FILE (required), RDD_CODEC_SERVER_TOKEN or RDD_CODEC_SERVER_TOKEN_FILE ' +
        '(bearer token; unset: no auth), RDD_CODEC_SERVER_UI_ORIGINS (CORS origins, comma-separated). ' +
        'Payloads are never logged.',
    )
    .addOption(new Option('--host <host>', 'interface to listen on').default(CODEC_SERVER_DEFAULTS.host))
    .addOption(
      new Option('--port <port>', 'TCP port; 0 picks a free one')
        .default(CODEC_SERVER_DEFAULTS.port)
        .argParser((raw) => numberParser({ integer: true, min: 0 })(raw)),
    )
    .addOption(
      new Option(
        '--ui-origin <origin...>',
        'origin of the Temporal UI allowed by CORS (default RDD_CODEC_SERVER_UI_ORIGINS, else http://127.0.0.1:8233 and http://localhost:8233)',
      ),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped by a signal, 1 a fatal error (e.g. the port is taken),\n2 bad configuration.',
    )
    .action(async (options) => {
      const { codecServer } = await import('./codec-server-action.ts');
      await codecServer(options);
    });
}

/**
 * `rdd serve`: the HTTP API (src/api) until SIGINT/SIGTERM, then a graceful close (requests in
 * flight finish). Other services start and read detections and batches through it.
 */
import { Command } from '@commander-js/extra-typings';

/** The line `rdd serve` prints once it listens; the embedded stack waits for it. */
export const SERVE_READY_LINE = 'rdd serve listening on';

/**
 * The `rdd serve` command: its help and action.
 * @example createProgram().addCommand(serveCommand())
 */
export function serveCommand() {
  return new Command('serve')
    .summary('serve the HTTP API (detections, batches, health, OpenAPI)')
    .description(
      'Serves the HTTP API: POST /v1/detections, GET /v1/detections/{id}, POST /v1/batches, ' +
        'GET /v1/batches/{id}, POST /v1/batches/{id}/pause|resume|cancel, GET /v1/batches/{id}/report, ' +
        'GET /healthz, GET /readyz, GET /openapi.json. Configured by environment (see the README): ' +
        'RDD_API_HOST (127.0.0.1), RDD_API_PORT (8080), RDD_API_TOKEN or RDD_API_TOKEN_FILE (bearer ' +
        'token; unset: no auth), RDD_API_BODY_LIMIT_BYTES (65536), S3_EVENT_RULES, S3_BUCKET / ' +
        'S3_RESULT_BUCKET, S3_ENDPOINT, AWS_*, TEMPORAL_*, TASK_QUEUE. Unset variables are read from ' +
        '.stack/env when a local stack is running.',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped by a signal, 1 a fatal error (e.g. the port is taken),\n' +
        '2 bad configuration, 5 Temporal could not be reached at start.',
    )
    .action(async () => {
      const { serve } = await import('./serve-action.ts');
      await serve();
    });
}

/**
 * `rdd worker`: runs a detection worker until SIGINT/SIGTERM, then shuts down gracefully,
 * letting running activities finish (WORKER_SHUTDOWN_GRACE_MS). A Temporal server that is down at
 * start is retried with back-off for WORKER_CONNECT_TIMEOUT_MS; once running, the worker's core
 * keeps retrying its polls through an outage by itself.
 */
import { Command } from '@commander-js/extra-typings';

/**
 * The `rdd worker` command: its help and action.
 * @example createProgram().addCommand(workerCommand())
 */
export function workerCommand() {
  return new Command('worker')
    .summary('run a worker (graceful shutdown on SIGINT/SIGTERM)')
    .description(
      'Runs a worker for detection workflows. Configured by environment (see the README): ' +
        'DETECTOR_URL, S3_BUCKET / S3_RESULT_BUCKET, S3_ENDPOINT, AWS_*, TEMPORAL_*, TASK_QUEUE, ' +
        'WORKER_CONNECT_TIMEOUT_MS (how long to keep retrying an unreachable Temporal at start, ' +
        'default 5 min). Unset variables are read from .stack/env when a local stack is running.',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped by a signal, 1 a fatal error (one line; DEBUG=1 adds the stack),\n' +
        '2 bad configuration, 5 Temporal could not be reached within WORKER_CONNECT_TIMEOUT_MS.',
    )
    .action(async () => {
      const { worker } = await import('./worker-action.ts');
      await worker();
    });
}

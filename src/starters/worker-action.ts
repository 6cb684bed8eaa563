/**
 * What `rdd worker` does (its definition is worker-command.ts). Loaded only when the command runs.
 */
import { connectWorker, temporalAddress } from '../client/connection.ts';
import { TemporalUnreachableError, transportReason } from '../client/temporal-unreachable-error.ts';
import { loadWorkerConfig } from '../config.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { withStackEnv } from './stack-env.ts';

import { createDetectionWorker } from '../worker.ts';

/**
 * Runs the worker until a shutdown signal; resolves after a graceful stop.
 * @throws ConfigError (exit 2); CliError with exit code 5 when Temporal stayed unreachable for
 *   WORKER_CONNECT_TIMEOUT_MS; anything else is fatal (exit 1).
 */
export async function worker(): Promise<void> {
  const env = withStackEnv();
  const config = loadWorkerConfig(env);
  const address = temporalAddress(env);
  let connected;
  try {
    connected = await connectWorker(env, {
      timeoutMs: config.worker.connectTimeoutMs,
      onRetry: ({ error, delayMs }) =>
        console.error(
          `rdd worker: cannot reach Temporal at ${address} (${transportReason(error)}); ` +
            `retrying in ${Math.max(1, Math.round(delayMs / 1000))} s`,
        ),
    });
  } catch (err) {
    if (err instanceof TemporalUnreachableError) {
      throw new CliError(
        ExitCode.TemporalUnreachable,
        `${err.message}; giving up (WORKER_CONNECT_TIMEOUT_MS)`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const { connection, namespace } = connected;
  let detector: Awaited<ReturnType<typeof createDetectionWorker>>['detector'] | undefined;
  try {
    const created = await createDetectionWorker({ connection, namespace, config });
    detector = created.detector;
    console.log(
      `worker polling task queue ${config.taskQueue} at ${address} ` +
        `(namespace ${namespace}, platform ${config.detector.url})`,
    );
    await created.worker.run();
  } finally {
    await detector?.close();
    await connection.close().catch(() => undefined);
  }
  console.log('worker stopped');
}

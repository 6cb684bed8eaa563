/**
 * `rdd worker`: runs a detection worker until SIGINT/SIGTERM, then shuts down gracefully,
 * letting running activities finish (WORKER_SHUTDOWN_GRACE_MS). A Temporal server that is down at
 * start is retried with back-off for WORKER_CONNECT_TIMEOUT_MS; once running, the worker's core
 * keeps retrying its polls through an outage by itself.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import {
  connectWorker,
  temporalAddress,
  TemporalUnreachableError,
  transportReason,
} from '../client/connection.ts';
import { createDetectionWorker } from '../worker.ts';
import { ExitCode } from './cli-support.ts';
import { withStackEnv } from './stack-env.ts';

const HELP = `usage: rdd worker

Runs a worker for detection workflows. Configured by environment (see README):
DETECTOR_URL, S3_BUCKET / S3_RESULT_BUCKET, S3_ENDPOINT, AWS_*, TEMPORAL_*, TASK_QUEUE,
WORKER_CONNECT_TIMEOUT_MS (how long to keep retrying an unreachable Temporal at start, default 5 min).
Unset variables are read from .stack/env when a local stack is running.
Exit codes: 0 stopped by a signal, 1 a fatal error (one line; DEBUG=1 adds the stack),
2 bad configuration, 5 Temporal could not be reached within WORKER_CONNECT_TIMEOUT_MS.`;

/** Exit code of a fatal worker error (the `1` of ExitCode means "the detection failed" elsewhere). */
const FATAL = 1;

/** The last words of a worker that cannot go on: one line, the stack only when DEBUG is set. */
function fatalLine(err: unknown, env: Record<string, string | undefined>): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const stack = env.DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return `rdd worker: fatal: ${message.split('\n')[0]}${stack}`;
}

/**
 * Runs `rdd worker` until a shutdown signal.
 * @returns the exit code: 0 after a graceful stop, 1 fatal error, 2 bad configuration, 5 Temporal
 *   unreachable for WORKER_CONNECT_TIMEOUT_MS. Never throws: every failure is one line on stderr.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return ExitCode.Ok;
  }
  const env = withStackEnv();
  let config;
  try {
    config = loadConfig(env, ['detector', 'resultBucket']);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`rdd worker: ${err.message}`);
      return ExitCode.Usage;
    }
    console.error(fatalLine(err, env));
    return FATAL;
  }
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
      console.error(`rdd worker: ${err.message}; giving up (WORKER_CONNECT_TIMEOUT_MS)`);
      return ExitCode.TemporalUnreachable;
    }
    console.error(fatalLine(err, env));
    return FATAL;
  }
  const { connection, namespace } = connected;
  let detector: Awaited<ReturnType<typeof createDetectionWorker>>['detector'] | undefined;
  try {
    const created = await createDetectionWorker({
      connection,
      namespace,
      config: { ...config, detector: config.detector! },
    });
    detector = created.detector;
    console.log(
      `worker polling task queue ${config.taskQueue} at ${address} ` +
        `(namespace ${namespace}, platform ${config.detector!.url})`,
    );
    await created.worker.run();
  } catch (err) {
    console.error(fatalLine(err, env));
    return FATAL;
  } finally {
    await detector?.close();
    await connection.close().catch(() => undefined);
  }
  console.log('worker stopped');
  return ExitCode.Ok;
}

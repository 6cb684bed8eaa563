/**
 * `rdd worker`: runs a detection worker until SIGINT/SIGTERM, then shuts down gracefully,
 * letting running activities finish (WORKER_SHUTDOWN_GRACE_MS).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { connectWorker } from '../temporal-connection.ts';
import { createDetectionWorker } from '../worker.ts';
import { withStackEnv } from './stack-env.ts';

const HELP = `usage: rdd worker

Runs a worker for detection workflows. Configured by environment (see README):
DETECTOR_URL, S3_BUCKET / S3_RESULT_BUCKET, S3_ENDPOINT, AWS_*, TEMPORAL_*, TASK_QUEUE.
Unset variables are read from .stack/env when a local stack is running.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const env = withStackEnv();
  let config;
  try {
    config = loadConfig(env, ['detector', 'resultBucket']);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`rdd worker: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const { connection, namespace } = await connectWorker(env);
  const { worker, detector } = await createDetectionWorker({
    connection,
    namespace,
    config: { ...config, detector: config.detector! },
  });
  console.log(
    `worker polling task queue ${config.taskQueue} (namespace ${namespace}, platform ${config.detector!.url})`,
  );
  try {
    await worker.run();
  } finally {
    await detector.close();
    await connection.close();
  }
  console.log('worker stopped');
  return 0;
}

/**
 * What `rdd serve` does (its definition is serve-command.ts). Loaded only when the command runs.
 */
import { once } from 'node:events';
import { jsonLogOptions } from '../api/log-format.ts';
import { loadEventRules } from '../api/s3-events.ts';
import { createApiServer } from '../api/server.ts';
import { connectClient } from '../client/connection.ts';
import { loadApiConfig } from '../config/api.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { SERVE_READY_LINE } from './serve-command.ts';
import { withStackEnv } from './stack-env.ts';

/**
 * Serves the API until SIGINT or SIGTERM, then closes it (requests in flight finish) and the
 * Temporal connection. Logs one JSON line per request (fastify's logger, in the worker's shape:
 * jsonLogOptions), never a token.
 * @throws ConfigError (exit 2, S3_EVENT_RULES included, checked before Temporal is dialled);
 *   TemporalUnreachableError when Temporal does not answer at start
 *   (exit 5); an error of `listen` (port taken: exit 1).
 */
export async function serve(): Promise<void> {
  const env = withStackEnv();
  const config = loadApiConfig(env);
  // Unusable rules are a configuration error (exit 2) whether or not Temporal answers: check them
  // before dialling it. The events plugin loads them again when it registers.
  loadEventRules(config.api.s3EventRules);
  const client = await connectClient(env);
  const s3 = createS3Client(config.storage);
  try {
    const app = await createApiServer({
      client,
      s3,
      config,
      logger: jsonLogOptions(env.LOG_LEVEL ?? 'info'),
    });
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    console.log(
      `${SERVE_READY_LINE} ${address} (task queue ${config.taskQueue}, ` +
        `auth ${config.api.token === undefined ? 'off' : 'bearer token'})`,
    );
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await app.close();
  } finally {
    s3.destroy();
    await client.connection.close().catch(() => undefined);
  }
  console.log('rdd serve stopped');
}

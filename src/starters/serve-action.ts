/**
 * What `rdd serve` does (its definition is serve-command.ts). Loaded only when the command runs.
 */
import { once } from 'node:events';
import { createApiServer } from '../api/server.ts';
import { connectClient } from '../client/connection.ts';
import { loadApiConfig } from '../config/api.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { SERVE_READY_LINE } from './serve-command.ts';
import { withStackEnv } from './stack-env.ts';

/**
 * Serves the API until SIGINT or SIGTERM, then closes it (requests in flight finish) and the
 * Temporal connection. Logs one JSON line per request (fastify's logger), never a token.
 * @throws ConfigError (exit 2); TemporalUnreachableError when Temporal does not answer at start
 *   (exit 5); an error of `listen` (port taken: exit 1).
 */
export async function serve(): Promise<void> {
  const env = withStackEnv();
  const config = loadApiConfig(env);
  const client = await connectClient(env);
  const s3 = createS3Client(config.storage);
  try {
    const app = await createApiServer({ client, s3, config, logger: { level: env.LOG_LEVEL ?? 'info' } });
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

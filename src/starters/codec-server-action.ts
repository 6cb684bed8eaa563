/**
 * What `rdd codec-server` does (its definition is codec-server-command.ts). Loaded only when the
 * command runs.
 */
import { once } from 'node:events';
import { createCodecServer } from '../api/codec-server.ts';
import { AesGcmCodec } from '../client/aes-gcm-codec.ts';
import { loadCodecServerConfig } from '../config/codec-server.ts';
import { CODEC_SERVER_READY_LINE } from './codec-server-command.ts';
import { withStackEnv } from './stack-env.ts';

/** The command line's options. */
export interface CodecServerCliOptions {
  host: string;
  port: number;
  uiOrigin?: string[];
}

/**
 * Serves the codec until SIGINT or SIGTERM, then closes it. Logs one JSON line per request
 * (method, path, status), never a payload or a token.
 * @throws ConfigError (exit 2) when no keys are configured or a variable is invalid; an error of
 *   `listen` (port taken: exit 1).
 */
export async function codecServer(options: CodecServerCliOptions): Promise<void> {
  const env = withStackEnv();
  const config = loadCodecServerConfig(env);
  const codec = new AesGcmCodec(config.encryption.keys);
  const uiOrigins = options.uiOrigin ?? config.uiOrigins;
  const app = await createCodecServer({
    codec,
    token: config.token,
    uiOrigins,
    logger: env.LOG_LEVEL === 'silent' ? false : true,
  });
  const address = await app.listen({ host: options.host, port: options.port });
  console.log(
    `${CODEC_SERVER_READY_LINE} ${address} (writes with key id ${codec.currentKeyId}, ` +
      `${config.encryption.keys.length} key(s); CORS for ${uiOrigins.join(', ')}; ` +
      `auth ${config.token === undefined ? 'off' : 'bearer token'})`,
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await app.close();
  console.log('rdd codec-server stopped');
}

/**
 * What `rdd serve` reads: the client side's settings (task queue, S3 with the result bucket
 * required, for `/readyz` and batch reports) and the API's own (RDD_API_*, S3_EVENT_RULES).
 */
import { z } from 'zod';
import { bucketNameVariables, type ClientConfig, storageVariables, temporalVariables } from './client.ts';
import { encryptionVariables } from './encryption.ts';
import { type Env, optional, positiveInt, readVariables, text, tokenFile } from './variables.ts';

/** Defaults of the API's settings. */
export const API_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  /** 64 KiB: a detection or batch request is a few hundred bytes; media never travel through the API. */
  bodyLimitBytes: 64 * 1024,
} as const;

/** The API server's own settings. */
export interface ApiSettings {
  /** RDD_API_HOST, default 127.0.0.1 (set 0.0.0.0 to listen on every interface). */
  host: string;
  /** RDD_API_PORT, default 8080; 0 picks a free port. */
  port: number;
  /**
   * The bearer token every route but `/healthz`, `/readyz` and `/openapi.json` requires
   * (RDD_API_TOKEN, or the first line of the file RDD_API_TOKEN_FILE); undefined: no auth.
   */
  token?: string;
  /** Largest request body accepted (RDD_API_BODY_LIMIT_BYTES); larger ones get 413. */
  bodyLimitBytes: number;
  /**
   * S3_EVENT_RULES as given (a file path or inline JSON): read by the `/v1/s3-events` plugin,
   * which owns its format (src/shared/event-rules.ts). Undefined when unset.
   */
  s3EventRules?: string;
}

/** Everything `rdd serve` needs. */
export type ApiConfig = ClientConfig<'resultBucket'> & { api: ApiSettings };

/** A TCP port, 0 to 65535 (0: any free port). */
const port = z.string().transform((value, ctx) => {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) {
    ctx.addIssue({ code: 'custom', message: `must be a TCP port (0-65535), got "${value}"` });
    return z.NEVER;
  }
  return number;
});

/** A token's characters: RFC 6750 `b64token`, so it fits an Authorization header as is. */
const token = z.string().refine((value) => /^[A-Za-z0-9\-._~+/]+=*$/.test(value), {
  // Not echoed: it is a secret.
  error: 'must be a bearer token (letters, digits and - . _ ~ + / then any =)',
});

/** RDD_API_*, S3_EVENT_RULES. */
export const apiVariables = z
  .object({
    RDD_API_HOST: optional(text),
    RDD_API_PORT: optional(port),
    RDD_API_TOKEN: optional(token),
    RDD_API_TOKEN_FILE: optional(tokenFile.pipe(token)),
    RDD_API_BODY_LIMIT_BYTES: optional(positiveInt(64 * 1024 * 1024)),
    S3_EVENT_RULES: optional(text),
  })
  .refine((vars) => vars.RDD_API_TOKEN === undefined || vars.RDD_API_TOKEN_FILE === undefined, {
    // Also when other variables are wrong (every problem at once), but not on top of a token
    // variable's own problem (an unreadable file is that, not "both set").
    when: (payload) =>
      !payload.issues.some((issue) =>
        ['RDD_API_TOKEN', 'RDD_API_TOKEN_FILE'].includes(String(issue.path?.[0])),
      ),
    path: ['RDD_API_TOKEN_FILE'],
    error: 'and RDD_API_TOKEN are both set; set one',
  })
  .transform((vars): ApiSettings => ({
    host: vars.RDD_API_HOST ?? API_DEFAULTS.host,
    port: vars.RDD_API_PORT ?? API_DEFAULTS.port,
    ...((vars.RDD_API_TOKEN ?? vars.RDD_API_TOKEN_FILE) !== undefined && {
      token: (vars.RDD_API_TOKEN ?? vars.RDD_API_TOKEN_FILE)!,
    }),
    bodyLimitBytes: vars.RDD_API_BODY_LIMIT_BYTES ?? API_DEFAULTS.bodyLimitBytes,
    ...(vars.S3_EVENT_RULES !== undefined && { s3EventRules: vars.S3_EVENT_RULES }),
  }));

/**
 * Reads what `rdd serve` needs from `env`, every problem at once: a result bucket (S3_RESULT_BUCKET
 * or S3_BUCKET) is required; RDD_API_TOKEN and RDD_API_TOKEN_FILE exclude each other; the token
 * file is read here. A token is never part of a problem. Call once at start-up.
 * @throws ConfigError listing each missing or invalid variable by name.
 * @example loadApiConfig({ S3_BUCKET: 'media', RDD_API_PORT: '0' }).api.port // 0
 */
export function loadApiConfig(env: Env): ApiConfig {
  const [client, , , api] = readVariables(env, [
    storageVariables(['resultBucket']),
    bucketNameVariables,
    temporalVariables,
    apiVariables,
    // Checked here so that bad keys are listed with every other problem (the connection uses them).
    encryptionVariables,
  ]);
  return { ...(client as ClientConfig<'resultBucket'>), api };
}

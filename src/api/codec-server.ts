/**
 * The codec server (`rdd codec-server`): Temporal's remote codec protocol, so the Temporal UI and
 * `temporal` CLI show decrypted payloads to whoever holds the token. `POST /encode` and
 * `POST /decode` take and answer `{ "payloads": [{ "metadata": { k: base64 }, "data": base64 }] }`
 * (the protobuf JSON form of Payloads); the UI sends `X-Namespace`. CORS admits the UI's origins
 * (preflight answered, credentials allowed). Payloads are never logged: fastify logs only the
 * method, path and status.
 * https://docs.temporal.io/production-deployment/data-encryption#codec-server-setup
 */
import fastifyCors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { PayloadDecryptionError } from '../client/payload-decryption-error.ts';
import { CODEC_SERVER_DEFAULTS } from '../config/codec-server.ts';
import { tokenMatches, requestLogSerializer } from './auth.ts';
import { jsonLogOptions } from './log-format.ts';

/** Options of `createCodecServer`. */
export interface CodecServerOptions {
  /** The codec that encodes and decodes, e.g. `new AesGcmCodec(keys)`. */
  codec: PayloadCodec;
  /** Bearer token every /encode and /decode request needs; undefined: no auth (loopback only!). */
  token?: string | undefined;
  /** Origins allowed by CORS (the Temporal UI's), e.g. `['http://127.0.0.1:8233']`. */
  uiOrigins: readonly string[];
  /** Largest request body (bytes); default 4 MiB. */
  bodyLimitBytes?: number;
  /** fastify's logger option: `false` (tests) or `true` (JSON lines to stdout). */
  logger?: FastifyServerOptions['logger'];
}

/** A payload in the protobuf JSON form: metadata values and data in base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** The request and response body of /encode and /decode. */
interface JsonPayloads {
  payloads?: JsonPayload[];
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value ?? []).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The JSON schema of a request body: a list of payloads with base64 strings. `payloads` may be
 * absent: `{}` is the proto3 JSON form of an empty `Payloads`, which the Temporal CLI sends for a
 * query without arguments (`temporal workflow metadata|query --codec-endpoint`).
 */
const bodySchema = {
  type: 'object',
  properties: {
    payloads: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string', pattern: BASE64.source } },
          data: { type: 'string', pattern: BASE64.source },
        },
      },
    },
  },
} as const;

/**
 * Builds the codec server (not listening: call `listen`, or `inject` in tests). Answers 401 with
 * `WWW-Authenticate: Bearer` without the token (compared in constant time), 400 for a body that is
 * not `{payloads?: […]}` (absent means none) or a payload that cannot be decrypted (the message
 * names the key id, never a key), 200 `{payloads}` otherwise. Stateless: every request is independent and idempotent.
 * @example
 * const app = await createCodecServer({ codec: new AesGcmCodec(keys), token, uiOrigins: ['http://127.0.0.1:8233'] });
 * await app.listen({ host: '127.0.0.1', port: 8888 });
 */
export async function createCodecServer(options: CodecServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === true
        ? { ...jsonLogOptions(), serializers: { req: requestLogSerializer } }
        : (options.logger ?? false),
    bodyLimit: options.bodyLimitBytes ?? CODEC_SERVER_DEFAULTS.bodyLimitBytes,
  });
  await app.register(fastifyCors, {
    origin: [...options.uiOrigins],
    credentials: true,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Namespace'],
    maxAge: 600,
  });
  const { token } = options;
  if (token !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'OPTIONS') return; // a CORS preflight carries no credentials
      const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (match === null || !tokenMatches(token, match[1]!)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="rdd-codec-server"')
          .send({ message: 'the codec server needs Authorization: Bearer <token>' });
      }
    });
  }
  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    // Validation and decryption problems are the caller's; their messages hold no payload data.
    const status = error instanceof PayloadDecryptionError ? 400 : (error.statusCode ?? 500);
    return reply.code(status).send({ message: status >= 500 ? 'internal error' : error.message });
  });

  for (const [path, direction] of [
    ['/encode', 'encode'],
    ['/decode', 'decode'],
  ] as const) {
    app.post<{ Body: JsonPayloads }>(path, { schema: { body: bodySchema } }, async (request) => {
      const payloads = (request.body.payloads ?? []).map(fromJson);
      const converted = await options.codec[direction](payloads);
      return { payloads: converted.map(toJson) } satisfies JsonPayloads;
    });
  }
  return app;
}

/**
 * The HTTP API (`rdd serve`): a fastify 5 server whose routes validate with zod, answer every
 * error as an RFC 9457 problem document, and describe themselves in an OpenAPI 3.1 document
 * generated from the same zod schemas (@fastify/swagger with fastify-type-provider-zod's
 * transform, so the document cannot drift from what is validated and serialized).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import fastifySwagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { ApiConfig } from '../config/api.ts';
import { bearerAuth, requestLogSerializer } from './auth.ts';
import { jsonLogOptions } from './log-format.ts';
import { batchRoutes } from './batch-routes.ts';
import { detectionRoutes } from './detection-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { API_PLUGINS, type ApiPlugin } from './plugins.ts';
import {
  frameworkErrorHandler,
  MAX_PARAM_LENGTH,
  problemErrorHandler,
  requestPath,
} from './error-handler.ts';
import { ProblemError } from './problem-error.ts';
import { PROBLEM_CONTENT_TYPE, problemDocument } from './problems.ts';

/** What the routes use: one Temporal client, one S3 client, the config. Owned by the caller. */
export interface ApiDeps {
  client: Client;
  s3: S3Client;
  config: ApiConfig;
}

/** Options of `createApiServer`. */
export interface ApiServerOptions extends ApiDeps {
  /**
   * Plugins registered after the built-in routes, under the same auth, error handling and OpenAPI
   * document. Default `API_PLUGINS` (plugins.ts), e.g. `POST /v1/s3-events`.
   */
  plugins?: readonly ApiPlugin[];
  /**
   * fastify's logger option: `false` (tests), `true` (JSON lines to stdout in the worker's shape,
   * jsonLogOptions) or pino options.
   */
  logger?: FastifyServerOptions['logger'];
}

/** The package version, for the OpenAPI document's `info.version`. */
const API_VERSION = '1.0.0';

/**
 * Builds the API server (not listening: call `listen`, or `inject` in tests). Routes:
 * `POST /v1/detections`, `GET /v1/detections/{id}`, `POST /v1/batches`, `GET /v1/batches/{id}`,
 * `POST /v1/batches/{id}/pause|resume|cancel`, `GET /v1/batches/{id}/report`, `GET /healthz`,
 * `GET /readyz`, `GET /openapi.json`, plus `options.plugins`. With `config.api.token` set, every
 * route but health, readiness and the document needs `Authorization: Bearer <token>`.
 * Closing the server does not close `client` or `s3`.
 * @example
 * const app = await createApiServer({ client, s3, config: loadApiConfig(env) });
 * await app.listen({ host: config.api.host, port: config.api.port });
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: withoutQueryInLogs(options.logger ?? false),
    bodyLimit: config.api.bodyLimitBytes,
    // Ids come from path segments; keep them whole up to Temporal's limit.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A longer segment (414) or an undecodable URL (400) as a problem document too.
    frameworkErrors: frameworkErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a 415, not a string for the schema to refuse (plugins that
  // take other types, like SNS's text/plain, add their parser in their own context).
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        problemDocument(
          404,
          `no route ${request.method} ${requestPath(request.url)}`,
          requestPath(request.url),
        ),
      );
  });
  if (config.api.token !== undefined) app.addHook('onRequest', bearerAuth(config.api.token));
  app.addHook('onRequest', singleIdempotencyKey);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'rdd-orchestrator API',
        description:
          'Start and read referential deepfake detections and batches (media by S3 reference only). ' +
          'Errors are RFC 9457 problem documents (application/problem+json).',
        version: API_VERSION,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(config.api.token !== undefined && { security: [{ bearer: [] }] }),
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  const deps: ApiDeps = { client: options.client, s3: options.s3, config };
  await app.register(healthRoutes, { deps });
  await app.register(detectionRoutes, { deps });
  await app.register(batchRoutes, { deps });
  for (const plugin of options.plugins ?? API_PLUGINS) await app.register(plugin, { deps });
  return app;
}

/**
 * The logger option with the `req` serializer that drops the query string (a webhook's
 * `?token=…` must never be logged); `false` stays `false`, a custom `req` serializer is replaced.
 */
function withoutQueryInLogs(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false || logger === undefined) return false;
  const options = logger === true ? jsonLogOptions() : logger;
  return { ...options, serializers: { ...options.serializers, req: requestLogSerializer } };
}

/**
 * Refuses a request with more than one Idempotency-Key header (Node joins them into `k1, k2`,
 * which would otherwise be judged as one malformed key): 400 saying so.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits an async hook
async function singleIdempotencyKey(request: FastifyRequest): Promise<void> {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'idempotency-key') count += 1;
  if (count > 1)
    throw new ProblemError(400, `Idempotency-Key was sent ${count} times; send it once per request`);
}

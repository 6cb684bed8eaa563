/**
 * The optional bearer token: every route but the public ones (health, readiness, the OpenAPI
 * document) requires `Authorization: Bearer <token>` when a token is configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './problem-error.ts';

/** Paths anyone may call: a load balancer's probes and the API's description carry no data. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/openapi.json']);

/**
 * Paths that also take the token as `?token=…`: S3 webhook targets (versitygw's among them) send
 * no Authorization header, only the configured URL. The query never reaches a log line
 * (`requestLogSerializer`).
 */
export const QUERY_TOKEN_PATHS: ReadonlySet<string> = new Set(['/v1/s3-events']);

/**
 * Whether `presented` is the token, compared in constant time: both are hashed to 32 bytes first,
 * so neither the content nor the length of the token leaks through the comparison's timing.
 * @example tokenMatches('s3cret', 's3cret') // true
 */
export function tokenMatches(expected: string, presented: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/**
 * An `onRequest` hook that refuses a request to a non-public path without the bearer `token`
 * (401 with `WWW-Authenticate: Bearer`, RFC 6750 §3). On `QUERY_TOKEN_PATHS` a request without
 * an Authorization header may carry it as `?token=…` instead, compared the same way. Registered on the root instance, so it
 * covers the routes of plugins too.
 * @example app.addHook('onRequest', bearerAuth('s3cret'))
 */
export function bearerAuth(token: string) {
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify routes an async hook's rejection to the error handler
  return async (request: FastifyRequest): Promise<void> => {
    const [path = '', query] = request.url.split(/\?(.*)/s, 2);
    if (PUBLIC_PATHS.has(path)) return;
    const header = request.headers.authorization;
    if (header === undefined && query !== undefined && QUERY_TOKEN_PATHS.has(path)) {
      const presented = new URLSearchParams(query).get('token');
      if (presented !== null) {
        if (tokenMatches(token, presented)) return;
        throw new ProblemError(401, 'the token in the query is not valid');
      }
    }
    const match = header === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new ProblemError(401, 'this API needs Authorization: Bearer <token>', {
        headers: { 'www-authenticate': 'Bearer realm="rdd"' },
      });
    }
    if (!tokenMatches(token, match[1]!)) {
      throw new ProblemError(401, 'the bearer token is not valid', {
        headers: { 'www-authenticate': 'Bearer realm="rdd", error="invalid_token"' },
      });
    }
  };
}

/**
 * fastify's `req` log serializer without the query string: the URL of `/v1/s3-events?token=…`
 * must never reach a log line. Otherwise the fields of fastify's default serializer.
 * @example Fastify({ logger: { serializers: { req: requestLogSerializer } } })
 */
export function requestLogSerializer(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.split('?', 1)[0],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * The API's one error handler: every error a route, hook or plugin raises becomes an RFC 9457
 * problem document (problems.ts), never a stack trace. `createApiServer` sets it on the root;
 * route plugins that may also be registered on their own (e.g. `s3EventsRoutes`) set it in their
 * scope, so they answer the same documents either way.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isTemporalUnreachable } from '../client/connection.ts';
import { TemporalUnreachableError } from '../client/temporal-unreachable-error.ts';
import { ProblemError } from './problem-error.ts';
import { PROBLEM_CONTENT_TYPE, problemDocument, ProblemType, type ProblemFieldError } from './problems.ts';

/** `validationContext` of fastify's validation errors, as our `in`. */
const PARTS = new Set(['body', 'headers', 'params', 'querystring']);

/**
 * The path of a request URL without its query (a webhook's `?token=` is never echoed). Pure.
 * @example requestPath('/v1/s3-events?token=x') // '/v1/s3-events'
 */
export function requestPath(url: string): string {
  return url.split('?', 1)[0] ?? url;
}

/**
 * fastify's `frameworkErrors`: errors raised before routing (a path segment over
 * `maxParamLength`: 414; a URL that does not decode: 400) as problem documents, without echoing
 * the path (it may be kilobytes long): `instance` is cut to its first 64 characters.
 * @example Fastify({ frameworkErrors: frameworkErrorHandler })
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const path = requestPath(request.url);
  const instance = path.length > 64 ? `${path.slice(0, 64)}…` : path;
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const status = tooLong ? 414 : (error.statusCode ?? 400);
  const detail = tooLong
    ? `a path segment is longer than ${MAX_PARAM_LENGTH} characters (ids are at most 255)`
    : 'the URL is not valid (a path segment does not decode)';
  void reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problemDocument(status, detail, instance));
}

/** How each part of a request is named in a 422's `detail`. */
const NOUNS: Readonly<Record<string, string>> = {
  body: 'request body',
  headers: 'request headers',
  params: 'path parameters',
  querystring: 'query parameters',
};

/** The route's header schema's complaints about the request's headers (none when it has none). */
function headerErrors(request: FastifyRequest): ProblemFieldError[] {
  const schema = request.routeOptions.schema?.headers as
    | {
        safeParse?: (value: unknown) => {
          success: boolean;
          error?: { issues: { path: PropertyKey[]; message: string }[] };
        };
      }
    | undefined;
  if (typeof schema?.safeParse !== 'function') return [];
  const parsed = schema.safeParse(request.headers);
  if (parsed.success) return [];
  return (parsed.error?.issues ?? []).map((issue) => ({
    in: 'headers',
    path: issue.path.map((segment) => `/${String(segment)}`).join(''),
    message: issue.message,
  }));
}

/**
 * What a 503 says about sending the request again: only the start routes take an
 * Idempotency-Key; S3 events start one detection per object however often they come; a pause,
 * resume or cancel may have been applied (sent again, it would answer 409); a read is asked again.
 */
function unavailableAdvice(request: FastifyRequest): string {
  const route = request.routeOptions.url ?? '';
  if (request.method !== 'POST') return '';
  if (route === '/v1/detections' || route === '/v1/batches')
    return ' (resending the same request, or the same Idempotency-Key, is safe)';
  if (route === '/v1/s3-events')
    return ' (resending the same events is safe: each object starts one detection)';
  return ' (the change may have been applied: read the batch before sending it again)';
}

/** The longest path segment (id) the router takes; longer ones are a 414. */
export const MAX_PARAM_LENGTH = 300;

/**
 * Every error as a problem document, never with a stack: ours (`ProblemError`, its headers set),
 * validation (422, type `urn:rdd:problem:validation`, each field in `errors` with its part and
 * JSON Pointer), fastify's own 4xx (malformed JSON 400, 413, 415, …), Temporal unreachable (503,
 * type `urn:rdd:problem:unavailable`), anything else 500 with the details in the log only.
 * @example app.setErrorHandler(problemErrorHandler)
 */
export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const instance = requestPath(request.url);
  let status: number;
  let detail: string;
  let extra: Parameters<typeof problemDocument>[3] = {};
  if (error instanceof ProblemError) {
    status = error.status;
    detail = error.message;
    extra = {
      ...(error.type !== undefined && { type: error.type }),
      ...(error.errors !== undefined && { errors: error.errors }),
      ...(error.extensions !== undefined && { extensions: error.extensions }),
    };
    for (const [name, value] of Object.entries(error.headers ?? {})) void reply.header(name, value);
  } else if (hasZodFastifySchemaValidationErrors(error)) {
    const part = PARTS.has(error.validationContext ?? '') ? error.validationContext : 'body';
    const errors: ProblemFieldError[] = error.validation.map((issue) => ({
      in: part as ProblemFieldError['in'],
      path: issue.instancePath === '/' ? '' : issue.instancePath,
      message: issue.message ?? 'is invalid',
    }));
    // fastify stops at the first invalid part and checks headers last: a bad Idempotency-Key
    // next to a bad body is listed too, so one answer names every field to fix.
    if (part !== 'headers') errors.push(...headerErrors(request));
    status = 422;
    const parts = [...new Set(errors.map((e) => e.in))];
    const verb = parts.length === 1 && parts[0] === 'body' ? 'is' : 'are';
    detail = `the ${parts.map((p) => NOUNS[p]).join(' and ')} ${verb} invalid: ${errors.map((e) => `${e.path || e.in} ${e.message}`).join('; ')}`;
    extra = { type: ProblemType.Validation, errors };
  } else if (error instanceof TemporalUnreachableError || isTemporalUnreachable(error)) {
    request.log.warn({ err: error }, 'Temporal unreachable');
    status = 503;
    detail = `Temporal cannot be reached; try again later${unavailableAdvice(request)}`;
    extra = { type: ProblemType.Unavailable };
  } else if (
    !isResponseSerializationError(error) &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    // fastify's own client errors (FST_ERR_CTP_*): their messages name the problem, not our code.
    status = error.statusCode;
    detail = error.message;
  } else {
    request.log.error({ err: error }, 'internal error');
    status = 500;
    detail = `internal error; the server log has the details (request ${request.id})`;
  }
  void reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problemDocument(status, detail, instance, extra));
}

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
    status = 422;
    detail = `the request ${part} is invalid: ${errors.map((e) => `${e.path || part} ${e.message}`).join('; ')}`;
    extra = { type: ProblemType.Validation, errors };
  } else if (error instanceof TemporalUnreachableError || isTemporalUnreachable(error)) {
    request.log.warn({ err: error }, 'Temporal unreachable');
    status = 503;
    detail = 'Temporal cannot be reached; try again later (a start with the same Idempotency-Key is safe)';
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

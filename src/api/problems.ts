/**
 * RFC 9457 problem documents: the one shape of every error the API answers with, its zod schema
 * (documented in the OpenAPI document as `Problem`), and the OpenAPI responses a route declares.
 */
import { z } from 'zod';

/** The media type of a problem document. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The `type` URIs of the problems that mean more than their status (stable; listed in the README).
 * Any other problem has type `about:blank`: its status and title say it all (RFC 9457 §4.2.1).
 */
export const ProblemType = {
  /** 422: the request is invalid; `errors` lists each field. */
  Validation: 'urn:rdd:problem:validation',
  /** 409: the id (Idempotency-Key) names a detection or batch of a different request. */
  IdConflict: 'urn:rdd:problem:id-conflict',
  /** 409: the batch refused pause/resume/cancel (already paused, finishing, …). */
  UpdateRefused: 'urn:rdd:problem:update-refused',
  /** 409: the batch has no report yet (running) or will have none (failed). */
  ReportNotReady: 'urn:rdd:problem:report-not-ready',
  /** 503: Temporal (or, for /readyz, S3) cannot be reached. */
  Unavailable: 'urn:rdd:problem:unavailable',
} as const;
export type ProblemType = (typeof ProblemType)[keyof typeof ProblemType];

/** The title of each `ProblemType` (the same for every occurrence, as RFC 9457 §3.1.3 asks). */
const TYPE_TITLES: Readonly<Record<string, string>> = {
  [ProblemType.Validation]: 'Invalid request',
  [ProblemType.IdConflict]: 'Id taken by a different request',
  [ProblemType.UpdateRefused]: 'Batch refused the change',
  [ProblemType.ReportNotReady]: 'Batch report not available',
  [ProblemType.Unavailable]: 'Dependency unreachable',
};

/** One field problem of a 422 (or 400): where in the request, and what is wrong. */
export const ProblemFieldErrorSchema = z
  .object({
    in: z.enum(['body', 'headers', 'params', 'querystring']).describe('the part of the request'),
    path: z
      .string()
      .describe('JSON Pointer (RFC 6901) into that part, e.g. `/reference/bucket`; `` for the whole part'),
    message: z.string(),
  })
  .meta({ id: 'ProblemFieldError' });

/** One field problem of a 422. */
export type ProblemFieldError = z.infer<typeof ProblemFieldErrorSchema>;

/** An RFC 9457 problem document; extension members (e.g. `checks` of /readyz) are allowed. */
export const ProblemSchema = z
  .looseObject({
    type: z.string().describe('URI naming the kind of problem'),
    title: z.string().describe('short summary of the kind of problem'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('what went wrong with this request'),
    instance: z.string().describe('the request path'),
    errors: z.array(ProblemFieldErrorSchema).optional().describe('field problems (422)'),
  })
  .meta({ id: 'Problem' });

/** An RFC 9457 problem document. */
export type Problem = z.infer<typeof ProblemSchema>;

/** Titles of the statuses we answer with (RFC 9110 reason phrases). */
export const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** What each status means in this API, for the OpenAPI document. */
const DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Malformed request (e.g. the body is not valid JSON, or a header is sent twice)',
  401: 'Missing or wrong bearer token',
  404: 'No such resource',
  409: 'Conflict: the id is taken by another request, or the batch refused the change',
  413: 'The body is larger than RDD_API_BODY_LIMIT_BYTES',
  414: 'A path segment (id) is longer than 300 characters',
  415: 'The body is not application/json',
  422: 'The request is well-formed but invalid; `errors` names each field',
  500: 'An internal error (details are in the server log, never in the response)',
  503: 'Temporal or S3 cannot be reached',
};

/**
 * A problem document for `status`. Pure.
 * @example problemDocument(404, 'no detection d1', '/v1/detections/d1')
 */
export function problemDocument(
  status: number,
  detail: string,
  instance: string,
  extra: {
    type?: string;
    title?: string;
    errors?: ProblemFieldError[];
    extensions?: Record<string, unknown>;
  } = {},
): Problem {
  const title =
    extra.title ??
    TYPE_TITLES[extra.type ?? ''] ??
    STATUS_TITLES[status] ??
    (status >= 500 ? 'Server Error' : 'Client Error');
  return {
    ...extra.extensions,
    type: extra.type ?? 'about:blank',
    title,
    status,
    detail,
    instance,
    ...(extra.errors !== undefined && { errors: extra.errors }),
  };
}

/**
 * The OpenAPI responses of the given error statuses, each an `application/problem+json`
 * `Problem`; spread into a route's `schema.response`. 500 is always added.
 * @example response: { 200: View, ...problemResponses(401, 404) }
 */
export function problemResponses(...statuses: number[]) {
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const status of [...statuses, 500]) {
    responses[status] = {
      description: DESCRIPTIONS[status] ?? STATUS_TITLES[status] ?? 'Error',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    };
  }
  return responses;
}

/**
 * An OpenAPI response with a description and an `application/json` body, for a route's
 * `schema.response`.
 * @example response: { 201: jsonResponse('Started', StartedSchema) }
 */
export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}

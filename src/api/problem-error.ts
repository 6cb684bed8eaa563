import type { ProblemFieldError } from './problems.ts';

/**
 * An HTTP error a route answers with: the error handler renders it as an RFC 9457 problem
 * document (`application/problem+json`) with this status, type and detail (the title is the
 * status's reason phrase). Thrown by route
 * handlers and plugins; never carries a stack trace to the client.
 * @example throw new ProblemError(404, `no detection ${id}`)
 */
export class ProblemError extends Error {
  override name = 'ProblemError';
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The problem's `type` URI (a `ProblemType`), `about:blank` when undefined. */
  readonly type: string | undefined;
  /** Field problems, for 422. */
  readonly errors: ProblemFieldError[] | undefined;
  /** Extension members added to the document (RFC 9457 §3.2), e.g. readiness checks. */
  readonly extensions: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. `WWW-Authenticate`. */
  readonly headers: Record<string, string> | undefined;
  constructor(
    status: number,
    detail: string,
    options: {
      type?: string;
      errors?: ProblemFieldError[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.status = status;
    this.type = options.type;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

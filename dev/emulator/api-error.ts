/**
 * The platform's error body (`{ type, message, detail? }`) and the error class the emulator's
 * handlers throw to produce one.
 */

/** Error `type` values the platform documents, by HTTP status. */
export const ErrorType = {
  RequestInvalid: 'request.invalid',
  Forbidden: 'request.forbidden',
  NotFound: 'resource.not-found',
  MethodInvalid: 'method.invalid',
  SizeLimitExceeded: 'request.size-limit-exceeded',
  ValidationError: 'request.validation-error',
  RateLimitExceeded: 'request.rate-limit-exceeded',
  StorageFull: 'storage.capacity-exceeded',
  Internal: 'internal',
  /** Inside a task's `error`: the input was found invalid while processing (state `rejected`). */
  TaskValidationError: 'task.validation-error',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** One entry of `detail`, shaped like the platform's (and FastAPI's) validation errors. */
export interface ErrorDetail {
  /** Where the problem is, e.g. `["body", "file_reference"]` or `["query", "reference_channel"]`. */
  location: Array<string | number>;
  message: string;
  type: string;
  context?: Record<string, unknown>;
}

/** The JSON body of every non-2xx answer. */
export interface ErrorBody {
  type: string;
  message: string;
  detail?: ErrorDetail[];
}

/**
 * Thrown by request handlers; the server turns it into `status` + an {@link ErrorBody}.
 * @example throw new ApiError(404, ErrorType.NotFound, 'Task 123 does not exist.');
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly type: string;
  readonly detail: ErrorDetail[] | undefined;
  /** Extra response headers, e.g. `retry-after` or `allow`. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: string,
    message: string,
    options: { detail?: ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  /** The wire body. */
  toBody(): ErrorBody {
    return this.detail
      ? { type: this.type, message: this.message, detail: this.detail }
      : { type: this.type, message: this.message };
  }
}

/** The `type` the platform uses for a status the emulator can be told to fake. */
export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return ErrorType.RequestInvalid;
    case 403:
      return ErrorType.Forbidden;
    case 404:
      return ErrorType.NotFound;
    case 405:
      return ErrorType.MethodInvalid;
    case 413:
      return ErrorType.SizeLimitExceeded;
    case 422:
      return ErrorType.ValidationError;
    case 429:
      return ErrorType.RateLimitExceeded;
    case 507:
      return ErrorType.StorageFull;
    default:
      return ErrorType.Internal;
  }
}

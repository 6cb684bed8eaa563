/**
 * The Speech Platform client's surface, as the activities use it. Wire names (`task_id`) stay in
 * `wire.ts`; here a platform task is a *detection job*.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** One file of the multipart upload, streamed: never buffered whole. */
export interface UploadFile {
  /** Bytes of the file; consumed exactly once. */
  body: Readable | AsyncIterable<Uint8Array>;
  /** Filename sent in the part's Content-Disposition (the platform may use its extension). */
  filename: string;
  contentType?: string;
  /** Byte length, when known; with both lengths known the request carries a Content-Length. */
  size?: number;
  /** 0-based channel to analyse; sent as the configured query parameter for this file. */
  channel?: number;
}

export interface SubmitRequest {
  reference: UploadFile;
  questioned: UploadFile;
  /** Serialised into the `config` form field. */
  config?: Record<string, unknown>;
  /** Extra query parameters, passed through untouched. */
  params?: Record<string, string>;
  /** Sent as `x-correlation-id`. */
  correlationId?: string;
  signal?: AbortSignal;
}

/** A job the platform accepted. `statusUrl` is absolute. */
export interface AcceptedJob {
  jobId: string;
  statusUrl: string;
  /** State in the 202 body, if any (normally `pending`). */
  state: string | undefined;
}

/** A status answer. `state` is the platform's string as it is: unknown states are not errors. */
export interface JobStatus {
  jobId: string;
  state: string;
  /** Present when `state === 'done'`; `null` means too little speech. */
  score?: number | null;
  error?: { type: string; message: string; detail?: unknown };
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** The client. No retries inside: Temporal owns retries. */
export interface DetectorClient {
  /** Base URL it talks to, without a trailing slash. */
  readonly baseUrl: string;
  /**
   * POSTs both files to the referential deepfake detection endpoint.
   * @throws DetectorHttpError on any non-202 answer; DetectorProtocolError on an unreadable 202;
   *   DetectorOriginError when the answer names a job URL on an origin that is not allowed.
   */
  submit(request: SubmitRequest): Promise<AcceptedJob>;
  /**
   * GETs a job's status.
   * @throws DetectorHttpError on a non-200 answer (404 = lost or expired); DetectorOriginError,
   *   before sending, when `statusUrl` is on an origin that is not allowed.
   */
  getJob(statusUrl: string, options?: RequestOptions): Promise<JobStatus>;
  /** GET /api/system/info. @throws DetectorHttpError */
  systemInfo(options?: RequestOptions): Promise<{ version: string | null }>;
  close(): Promise<void>;
}

/**
 * What the client tells its observer after each call (DetectorClientOptions.onExchange): for
 * metrics. Carries no URL, header or body, so an observer cannot leak a credential.
 */
export interface DetectorExchange {
  operation: 'submit' | 'getJob' | 'systemInfo';
  /** From the call until its answer was read or it failed (ms). */
  durationMs: number;
  /** The HTTP status, when an answer came; `undefined` for a socket error, a timeout, an abort. */
  status: number | undefined;
  /**
   * Why it failed, from a fixed set; `undefined` on success: `http` (an unexpected status),
   * `protocol` (an unreadable answer), `origin_refused`, `upload_size`, `timeout`, `aborted`,
   * `connection` (a socket error), `other`.
   */
  error: DetectorExchangeError | undefined;
  /** Request body bytes handed to the socket (submit; 0 for the GETs). */
  bytesSent: number;
}

/** The values of DetectorExchange.error. */
export type DetectorExchangeError =
  'http' | 'protocol' | 'origin_refused' | 'upload_size' | 'timeout' | 'aborted' | 'connection' | 'other';

export interface DetectorClientOptions {
  baseUrl: string;
  /**
   * Called after every call with its operation, duration and outcome (src/activities/metrics.ts
   * records them). Synchronous; an observer that throws is ignored.
   */
  onExchange?: (exchange: DetectorExchange) => void;
  /** Injected dispatcher (tests: MockAgent). Default: a Pool-backed Agent built from the options below. */
  dispatcher?: Dispatcher;
  /**
   * Sent with every request, hence only to the allowed origins. Names are RFC 9110 tokens, values
   * field values; reserved ones (content-type, host, …) are refused (see headers.ts).
   */
  headers?: Record<string, string>;
  /**
   * Origins besides the base URL's that job URLs may point to, e.g. the nodes behind a load
   * balancer that answers with a node's address: `['https://node1.example.com:8443']`. Bare
   * origins only (no path). Default none: a job URL elsewhere fails with DetectorOriginError.
   */
  allowedOrigins?: readonly string[];
  /** PEM text of a CA to trust in addition to none: replaces the default trust store for this client. */
  ca?: string;
  channelParams?: { reference: string; questioned: string };
  connections?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

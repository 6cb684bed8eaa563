/**
 * Temporal connection settings come from `@temporalio/envconfig` (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, config files), so a worker
 * moves from the local dev server to Temporal Cloud by environment alone.
 *
 * The one place `Client` and `Worker` options are built (data converter, interceptors): every
 * client and worker, the tests' included, gets them from `clientOptions()` / `workerOptions()`, so
 * a payload codec added here reaches every path.
 *
 * It also tells "Temporal could not be reached" (a transport problem: the server is down,
 * restarting, or the network is) from every other error, so callers ride out an outage instead of
 * reporting it as a failed detection.
 */
import { Client, Connection, ServiceError, isGrpcServiceError, type ClientOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AesGcmCodec } from './aes-gcm-codec.ts';
import { loadEncryptionConfig } from './encryption-keys.ts';
import { ConfigError } from '../config/config-error.ts';
import type { Env } from '../config/env.ts';
import { temporalAddressProblems } from '../config/temporal-address.ts';
import { apiKeyTlsHint, temporalProfileProblem } from '../config/temporal-profile.ts';
import { TemporalUnreachableError, transportReason } from './temporal-unreachable-error.ts';

export { TemporalUnreachableError, transportReason };
// Exported (not only loaded by path) so the library build (dist/) compiles the module.
export { failureConverter as encodedFailureConverter } from './encoded-failure-converter.ts';

/**
 * The data converter of every client and worker without encryption keys: default payload
 * conversion. With keys, `dataConverterFor(env)` adds the AES-256-GCM codec.
 */
export const dataConverter: DataConverter = {};

/** The failure converter module used with encryption (message and stack trace become a payload). */
export const ENCODED_FAILURE_CONVERTER_PATH = fileURLToPath(
  // .ts from source, .js from the built library (dist/).
  new URL(`./encoded-failure-converter${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** Converters already built, by the key variables' text, so every client of a process shares one. */
const converters = new Map<string, DataConverter>();

/**
 * The data converter `env` configures: `dataConverter` when neither RDD_ENCRYPTION_KEYS nor
 * RDD_ENCRYPTION_KEYS_FILE is set; otherwise the AES-256-GCM codec (`AesGcmCodec`, the first key
 * encrypts, all decrypt) and the encoded failure converter, so inputs, results, failure messages,
 * queries, updates and summaries are all stored encrypted. Memoised per key configuration.
 * @throws ConfigError when a key variable is invalid (naming the entry, never the key).
 * @example new Client({ connection, dataConverter: dataConverterFor(process.env) })
 */
export function dataConverterFor(env: Env = process.env): DataConverter {
  const cacheKey = JSON.stringify([env.RDD_ENCRYPTION_KEYS ?? '', env.RDD_ENCRYPTION_KEYS_FILE ?? '']);
  let converter = converters.get(cacheKey);
  if (converter === undefined) {
    const encryption = loadEncryptionConfig(env);
    converter = encryption
      ? {
          payloadCodecs: [new AesGcmCodec(encryption.keys)],
          failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH,
        }
      : dataConverter;
    converters.set(cacheKey, converter);
  }
  return converter;
}

/**
 * The options every `Client` of ours is built with: the data converter `env` configures (see
 * `dataConverterFor`; default `process.env`). Spread them into `new Client({ connection,
 * namespace, ...clientOptions(env) })`.
 * @throws ConfigError when the encryption key variables are invalid.
 * @example const client = new Client({ connection, namespace, ...clientOptions(env) })
 */
export function clientOptions(env: Env = process.env): Pick<ClientOptions, 'dataConverter' | 'interceptors'> {
  return { dataConverter: dataConverterFor(env) };
}

/**
 * The options every `Worker` of ours (and every replay worker) is built with: the same data
 * converter as `clientOptions(env)`, so what a client encodes the worker decodes. A prebuilt
 * workflow bundle must be built with the same `failureConverterPath` (scripts/bundle-workflows.ts).
 * @throws ConfigError when the encryption key variables are invalid.
 * @example await Worker.create({ connection, taskQueue, activities, ...workerOptions(env) })
 */
export function workerOptions(env: Env = process.env): Pick<WorkerOptions, 'dataConverter' | 'interceptors'> {
  return { dataConverter: dataConverterFor(env) };
}

/** The address used when neither TEMPORAL_ADDRESS nor a profile names one (envconfig's default). */
const DEFAULT_ADDRESS = 'localhost:7233';

function connectConfig(env: Env) {
  const defined = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  let loaded;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: defined });
  } catch (err) {
    // envconfig's own messages name neither the variable nor the file it searched.
    const problem = temporalProfileProblem(err, defined);
    if (problem !== undefined) throw new ConfigError([problem]);
    throw err;
  }
  const { connectionOptions, namespace } = loaded;
  // Checked here, not by the SDK's bare TypeError, so that a bad address is a configuration error
  // naming where it came from (the variable, or a profile in a config file).
  const address = connectionOptions.address;
  const problems = address === undefined ? [] : temporalAddressProblems(address);
  if (problems.length > 0) {
    const source = defined.TEMPORAL_ADDRESS?.trim()
      ? 'TEMPORAL_ADDRESS'
      : `the address of Temporal profile "${defined.TEMPORAL_PROFILE ?? 'default'}"`;
    throw new ConfigError(problems.map((problem) => `${source} ${problem}`));
  }
  return { connectionOptions, namespace: namespace ?? 'default' };
}

/**
 * The Temporal frontend address `env` selects, for messages.
 * @throws ConfigError when the address is not `host` or `host:port`.
 * @example temporalAddress({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }) // '127.0.0.1:7233'
 */
export function temporalAddress(env: Env): string {
  return connectConfig(env).connectionOptions.address ?? DEFAULT_ADDRESS;
}

/** gRPC status codes (grpc/doc/statuscodes.md) this module reads. */
const GrpcStatus = {
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** gRPC codes that mean "no answer", never "the server said no". */
const TRANSPORT_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
]);

/** Messages of low-level failures that reach us as plain errors or as INTERNAL/UNKNOWN statuses. */
const TRANSPORT_MESSAGE =
  /failed to connect before the deadline|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|RST_STREAM|GOAWAY|connection (refused|reset|closed)|no connection established|transport error|tcp connect error/i;

/**
 * Whether `err` means Temporal did not answer (a transport problem) rather than that it answered
 * with an error. True for `ServiceError`s wrapping gRPC UNAVAILABLE / DEADLINE_EXCEEDED /
 * RESOURCE_EXHAUSTED, for the worker's `TransportError`, for "Failed to connect before the
 * deadline", and for socket errors (ECONNREFUSED, ECONNRESET, RST_STREAM, …). A
 * `WorkflowFailedError` or `WorkflowNotFoundError` is never one. Pure.
 * @example isTemporalUnreachable(await handle.result().catch((e) => e)) // true while the server is down
 */
export function isTemporalUnreachable(err: unknown): boolean {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; depth++) {
    // The worker's native TransportError, known by name so the client does not load the worker.
    if (current.name === 'TransportError') return true;
    if (isGrpcServiceError(current)) {
      const code: number = current.code;
      if (TRANSPORT_CODES.has(code)) return true;
      if (code === GrpcStatus.INTERNAL || code === GrpcStatus.UNKNOWN) {
        return TRANSPORT_MESSAGE.test(current.details || current.message);
      }
      return false;
    }
    if (!(current instanceof ServiceError) && TRANSPORT_MESSAGE.test(current.message)) return true;
    if ('code' in current && typeof current.code === 'string' && TRANSPORT_MESSAGE.test(current.code)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

/** Options of `retryConnect`. */
export interface RetryConnectOptions {
  /** Address in messages and in the final error. */
  address: string;
  /** Give up after this long (ms, from the first attempt). */
  timeoutMs: number;
  /** First delay between attempts (ms); doubles each time up to `maxDelayMs`. Default 2000. */
  initialDelayMs?: number;
  /** Default 30 000. */
  maxDelayMs?: number;
  /** Called before each wait, e.g. to print one line. */
  onRetry?: (info: { error: unknown; delayMs: number; attempt: number }) => void;
  /** Appended to the final error's message (e.g. apiKeyTlsHint). */
  hint?: string;
}

/**
 * Runs `connect` until it succeeds, retrying only transport errors (`isTemporalUnreachable`) with
 * exponential back-off (2 s, 4 s, 8 s … capped at 30 s, the last wait clipped to the budget).
 * @throws TemporalUnreachableError when Temporal stayed unreachable for `timeoutMs`.
 * @throws whatever else `connect` throws (bad TLS settings, auth), at once and unchanged.
 * @example await retryConnect(() => NativeConnection.connect(opts), { address, timeoutMs: 300_000 })
 */
export async function retryConnect<T>(connect: () => Promise<T>, options: RetryConnectOptions): Promise<T> {
  const started = Date.now();
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.initialDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (!isTemporalUnreachable(err)) throw err;
      const remaining = started + options.timeoutMs - Date.now();
      if (remaining <= 0)
        throw new TemporalUnreachableError(options.address, err, Date.now() - started, options.hint);
      const wait = Math.min(delayMs, remaining);
      options.onRetry?.({ error: err, delayMs: wait, attempt });
      await sleep(wait);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

/** Options of `connectClient`. */
export interface ConnectClientOptions {
  /** Give up connecting after this long (ms). Default 10 000, the SDK's. */
  connectTimeoutMs?: number;
}

/**
 * A workflow client for starters. Call `client.connection.close()` when done.
 * @throws ConfigError when TEMPORAL_ADDRESS (or the profile's address) is not `host` or `host:port`.
 * @throws TemporalUnreachableError when the server does not answer within the connect timeout
 *   (`options.connectTimeoutMs`, default 10 s).
 */
export async function connectClient(env: Env, options: ConnectClientOptions = {}): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig(env);
  try {
    const connection = await Connection.connect({
      ...connectionOptions,
      ...(options.connectTimeoutMs !== undefined && {
        connectTimeout: Math.max(1, Math.round(options.connectTimeoutMs)),
      }),
    });
    return new Client({ connection, namespace, ...clientOptions(env) });
  } catch (err) {
    if (isTemporalUnreachable(err))
      throw new TemporalUnreachableError(
        temporalAddress(env),
        err,
        undefined,
        apiKeyTlsHint(connectionOptions),
      );
    throw err;
  }
}

/**
 * A worker connection and the namespace to poll. With `retry`, a server that is down is retried
 * with back-off (see `retryConnect`) for `retry.timeoutMs`; without, the first failure throws.
 * @throws ConfigError when TEMPORAL_ADDRESS (or the profile's address) is not `host` or `host:port`.
 * @throws TemporalUnreachableError when Temporal cannot be reached (within the retry budget).
 */
export async function connectWorker(
  env: Env,
  retry?: Omit<RetryConnectOptions, 'address'>,
): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectConfig(env);
  const address = temporalAddress(env);
  // Loaded here, not at the top: a service that only starts detections need not load the worker.
  const { NativeConnection } = await import('@temporalio/worker');
  const connect = () => NativeConnection.connect(connectionOptions);
  const hint = apiKeyTlsHint(connectionOptions);
  const connection = await retryConnect(connect, { timeoutMs: 0, hint, ...retry, address });
  return { connection, namespace };
}

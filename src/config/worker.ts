/**
 * What `rdd worker` reads: the client side's settings (with the result bucket required), the
 * Speech Platform (DETECTOR_*, DETECTOR_URL required) and the worker's own limits (WORKER_*).
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { LOCATION_RESOLUTIONS, type LocationResolution } from '../activities/detector/client.ts';
import { DETECTOR_DEFAULTS } from '../activities/detector/defaults.ts';
import {
  DEFAULT_PLATFORM_CAPACITY,
  DEFAULT_PLATFORM_QUEUE_MS,
  MAX_PLATFORM_CAPACITY,
} from '../shared/platform-capacity.ts';
import { bucketNameVariables, type ClientConfig, storageVariables, temporalVariables } from './client.ts';
import { type WorkerDeployment, workerDeploymentVariables } from './worker-deployment.ts';
import { type WorkerTelemetry, workerTelemetryVariables } from './worker-telemetry.ts';
import {
  baseUrl,
  type Env,
  headers,
  MAX_TIMER_MS,
  nonNegativeInt,
  oneOf,
  optional,
  origins,
  pemFile,
  positiveInt,
  queryName,
  readVariables,
  required,
} from './variables.ts';
import { workflowBundleVariables } from './workflow-bundle.ts';
import { encryptionVariables } from './encryption.ts';

export interface DetectorConfig {
  /**
   * Base URL of the Speech Platform, e.g. `https://spe.example.com` or `https://proxy/spe` (a path
   * prefix is kept); http(s), no query, fragment or credentials, no trailing slash.
   */
  url: string;
  /**
   * Extra headers on every request, e.g. a bearer token for a reverse proxy. Validated: names are
   * RFC 9110 tokens, values field values, none reserved (see detector/headers.ts).
   */
  headers: Record<string, string>;
  /** PEM file with the CA that signs the platform's certificate, when it is not a public one. */
  caFile?: string | undefined;
  /** The PEM text of `caFile`, read and checked (every certificate parses) by the loader. */
  ca?: string;
  /**
   * Origins besides DETECTOR_URL's that job URLs (Location) may point to, e.g. the nodes behind a
   * load balancer (DETECTOR_ALLOWED_ORIGINS, comma-separated). Serialised origins, no path.
   */
  allowedOrigins: string[];
  /** How a relative Location is resolved (DETECTOR_LOCATION_RESOLUTION); see LocationResolution. */
  locationResolution: LocationResolution;
  /** Query parameter names that select the channel of each file. The platform does not document them. */
  referenceChannelParam: string;
  questionedChannelParam: string;
  /** The appliance's single-upload limit in bytes (default 500 MB); larger pairs fail before upload. */
  maxUploadBytes: number;
  /** The appliance's maximum audio length in seconds (default 2 hours). */
  maxAudioSeconds: number;
  /** Connections kept to the platform by one worker. */
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /**
   * The platform's parallel slots (DETECTOR_CAPACITY, default 8): the capacity the platform's
   * capacity workflow starts with when this worker starts it. Later changes go through
   * `rdd platform capacity N`, not this variable.
   */
  capacity: number;
  /**
   * Work (ms, DETECTOR_QUEUE_MS, default 1500) the capacity workflow keeps queued on the platform
   * beyond its capacity, at the learned job time, when this worker starts it: see `allowanceFor`.
   * 0 keeps the fixed allowance ⌈capacity / 4⌉.
   */
  queueMs: number;
}

/** The worker's own limits. */
export interface WorkerSettings {
  /**
   * Activities run at once by this worker (WORKER_MAX_CONCURRENT_ACTIVITIES, default 200). High on
   * purpose: a submit waiting for a platform lease and a job being awaited are mostly an awaited
   * promise (a long poll, a sleep), so each holds a slot while costing almost nothing. Uploads stay
   * bounded by the platform's leases (capacity + allowance at once), not by this number.
   */
  maxConcurrentActivities: number;
  /** How long running activities get to finish after SIGINT/SIGTERM (ms). */
  shutdownGraceMs: number;
  /** How long `rdd worker` keeps retrying to reach Temporal at start-up (WORKER_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs: number;
  /**
   * An absolute path to a workflow bundle prebuilt by scripts/bundle-workflows.ts
   * (WORKER_WORKFLOW_BUNDLE; the container image sets it): the worker loads it instead of bundling
   * the workflows with webpack at start-up. Undefined (the default): bundle at start-up.
   */
  workflowBundlePath?: string | undefined;
  /**
   * The worker deployment version (WORKER_DEPLOYMENT_NAME + WORKER_BUILD_ID) when Worker Versioning
   * is on; undefined (the default) runs an unversioned worker.
   */
  deployment?: WorkerDeployment | undefined;
  /** Metrics and health endpoints, log level (RDD_METRICS_BIND, RDD_HEALTH_BIND, RDD_LOG_LEVEL). */
  telemetry?: WorkerTelemetry | undefined;
}

/** Everything `rdd worker` (or a test's in-process worker) needs; nothing optional left to check. */
export type WorkerConfig = ClientConfig<'resultBucket'> & {
  detector: DetectorConfig;
  worker: WorkerSettings;
};

const PARAM = {
  reference: 'DETECTOR_REFERENCE_CHANNEL_PARAM',
  questioned: 'DETECTOR_QUESTIONED_CHANNEL_PARAM',
} as const;

/**
 * DETECTOR_*, every variable checked even when DETECTOR_URL itself is wrong, so one run reports
 * every problem; unset ones take DETECTOR_DEFAULTS.
 */
export const detectorVariables = z
  .object({
    DETECTOR_URL: required(baseUrl),
    DETECTOR_CA_FILE: optional(pemFile),
    [PARAM.reference]: optional(queryName),
    [PARAM.questioned]: optional(queryName),
    DETECTOR_HEADERS: optional(headers),
    DETECTOR_ALLOWED_ORIGINS: optional(origins),
    DETECTOR_LOCATION_RESOLUTION: optional(oneOf(LOCATION_RESOLUTIONS)),
    DETECTOR_MAX_UPLOAD_BYTES: optional(positiveInt()),
    DETECTOR_MAX_AUDIO_SECONDS: optional(positiveInt()),
    DETECTOR_CONNECTIONS: optional(positiveInt(10_000)),
    DETECTOR_HEADERS_TIMEOUT_MS: optional(positiveInt(MAX_TIMER_MS)),
    DETECTOR_BODY_TIMEOUT_MS: optional(positiveInt(MAX_TIMER_MS)),
    DETECTOR_CAPACITY: optional(positiveInt(MAX_PLATFORM_CAPACITY)),
    DETECTOR_QUEUE_MS: optional(nonNegativeInt(10 * 60_000)),
  })
  .refine(
    (vars) =>
      (vars[PARAM.reference] ?? DETECTOR_DEFAULTS.channelParams.reference) !==
      (vars[PARAM.questioned] ?? DETECTOR_DEFAULTS.channelParams.questioned),
    {
      // Checked even when another variable is invalid, so one run reports every problem.
      when: () => true,
      path: [],
      error: (issue) => {
        const vars = issue.input as Record<string, string | undefined>;
        const both = vars[PARAM.reference] ?? DETECTOR_DEFAULTS.channelParams.reference;
        return `${PARAM.reference} and ${PARAM.questioned} must differ, both are "${both}"`;
      },
    },
  )
  .transform((vars): DetectorConfig => {
    const reference = vars[PARAM.reference] ?? DETECTOR_DEFAULTS.channelParams.reference;
    const questioned = vars[PARAM.questioned] ?? DETECTOR_DEFAULTS.channelParams.questioned;
    return {
      url: vars.DETECTOR_URL,
      headers: vars.DETECTOR_HEADERS ?? {},
      caFile: vars.DETECTOR_CA_FILE?.path,
      ...(vars.DETECTOR_CA_FILE && { ca: vars.DETECTOR_CA_FILE.pem }),
      allowedOrigins: vars.DETECTOR_ALLOWED_ORIGINS ?? [],
      locationResolution: vars.DETECTOR_LOCATION_RESOLUTION ?? DETECTOR_DEFAULTS.locationResolution,
      referenceChannelParam: reference,
      questionedChannelParam: questioned,
      maxUploadBytes: vars.DETECTOR_MAX_UPLOAD_BYTES ?? DETECTOR_DEFAULTS.maxUploadBytes,
      maxAudioSeconds: vars.DETECTOR_MAX_AUDIO_SECONDS ?? DETECTOR_DEFAULTS.maxAudioSeconds,
      connections: vars.DETECTOR_CONNECTIONS ?? DETECTOR_DEFAULTS.connections,
      headersTimeoutMs: vars.DETECTOR_HEADERS_TIMEOUT_MS ?? DETECTOR_DEFAULTS.headersTimeoutMs,
      bodyTimeoutMs: vars.DETECTOR_BODY_TIMEOUT_MS ?? DETECTOR_DEFAULTS.bodyTimeoutMs,
      capacity: vars.DETECTOR_CAPACITY ?? DEFAULT_PLATFORM_CAPACITY,
      queueMs: vars.DETECTOR_QUEUE_MS ?? DEFAULT_PLATFORM_QUEUE_MS,
    };
  });

/**
 * A file the process can read, as an absolute path: checked at start-up, so a prebuilt workflow
 * bundle that is missing is a configuration error (exit 2), not a failure inside Worker.create.
 */
const readableFile = z.string().transform((file, ctx) => {
  const absolute = resolvePath(file);
  try {
    accessSync(absolute, fsConstants.R_OK);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    ctx.addIssue({
      code: 'custom',
      message: `cannot be read (${typeof code === 'string' ? code : 'error'}): ${absolute}`,
    });
    return z.NEVER;
  }
  return absolute;
});

/** WORKER_*. */
export const workerVariables = z
  .object({
    WORKER_MAX_CONCURRENT_ACTIVITIES: optional(positiveInt()),
    WORKER_SHUTDOWN_GRACE_MS: optional(positiveInt(MAX_TIMER_MS)),
    WORKER_CONNECT_TIMEOUT_MS: optional(positiveInt()),
    WORKER_WORKFLOW_BUNDLE: optional(readableFile),
  })
  .transform((vars): WorkerSettings => ({
    maxConcurrentActivities: vars.WORKER_MAX_CONCURRENT_ACTIVITIES ?? 200,
    shutdownGraceMs: vars.WORKER_SHUTDOWN_GRACE_MS ?? 10 * 60_000,
    connectTimeoutMs: vars.WORKER_CONNECT_TIMEOUT_MS ?? 5 * 60_000,
    workflowBundlePath: vars.WORKER_WORKFLOW_BUNDLE,
  }));

/**
 * Reads everything a worker needs from `env`, every problem at once: DETECTOR_URL and a result
 * bucket (S3_RESULT_BUCKET or S3_BUCKET) are required, bucket names must be valid S3 names, the
 * CA file is read and parsed here.
 * Call once at start-up.
 * @throws ConfigError listing each missing or invalid variable by name (never a secret's value).
 * @example const config = loadWorkerConfig(process.env); config.detector.url // no `!`
 */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const [client, , detector, worker, , deployment, telemetry] = readVariables(env, [
    storageVariables(['resultBucket']),
    bucketNameVariables,
    detectorVariables,
    workerVariables,
    temporalVariables,
    workerDeploymentVariables,
    workerTelemetryVariables,
    // A prebuilt bundle must fit the encryption setting (src/config/workflow-bundle.ts).
    workflowBundleVariables,
    // Checked here so that bad keys are listed with every other problem (the connection uses them).
    encryptionVariables,
  ]);
  return {
    ...(client as ClientConfig<'resultBucket'>),
    detector,
    worker: { ...worker, deployment, telemetry },
  };
}

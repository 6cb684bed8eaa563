/**
 * Application settings from the environment, read once at start-up and reported all at once.
 * The Temporal connection is not here: `@temporalio/envconfig` owns it (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles). Never imported by workflows.
 */
import { DEFAULT_TASK_QUEUE } from './shared/task-queues.ts';

export interface DetectorConfig {
  /** Base URL of the Speech Platform, e.g. `https://spe.example.com`. */
  url: string;
  /** Extra headers on every request, e.g. a bearer token for a reverse proxy. */
  headers: Record<string, string>;
  /** PEM file with the CA that signs the platform's certificate, when it is not a public one. */
  caFile?: string;
  /** Query parameter names that select the channel of each file. The platform does not document them. */
  referenceChannelParam: string;
  questionedChannelParam: string;
  /** The appliance's single-upload limit (default 500 MB); larger pairs fail before upload. */
  maxUploadBytes: number;
  /** The appliance's maximum audio length (default 2 hours). */
  maxAudioSeconds: number;
  /** Connections kept to the platform by one worker. */
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface StorageConfig {
  /** Custom S3 endpoint (versitygw, Ceph, …); unset means AWS S3. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Bucket for media uploaded by `rdd detect` from local files. */
  mediaBucket?: string;
  /** Bucket for result documents; defaults to the media bucket. */
  resultBucket?: string;
  /**
   * Static keys when AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are in the env given to loadConfig
   * (which may be .stack/env merged in, not process.env); otherwise the SDK's default chain.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface AppConfig {
  taskQueue: string;
  storage: StorageConfig;
  detector?: DetectorConfig;
  worker: { maxConcurrentActivities: number; shutdownGraceMs: number };
}

/** What a command cannot run without. */
export type ConfigNeed = 'detector' | 'mediaBucket' | 'resultBucket';

/** Thrown by `loadConfig` with every problem found, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates settings from `env`, collecting every problem before throwing.
 * @throws ConfigError listing each missing or invalid variable by name.
 * @example loadConfig(process.env, ['detector']).detector.url
 */
export function loadConfig(env: Env, needs: readonly ConfigNeed[] = []): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const mediaBucket = read.string('S3_BUCKET');
  const storage: StorageConfig = {
    endpoint: read.url('S3_ENDPOINT'),
    region: read.string('AWS_REGION') ?? read.string('AWS_DEFAULT_REGION') ?? 'us-east-1',
    forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE') ?? env.S3_ENDPOINT !== undefined,
    mediaBucket,
    resultBucket: read.string('S3_RESULT_BUCKET') ?? mediaBucket,
    credentials: staticCredentials(read),
  };
  if (needs.includes('mediaBucket') && !storage.mediaBucket) problems.push('S3_BUCKET is required');
  if (needs.includes('resultBucket') && !storage.resultBucket) {
    problems.push('S3_RESULT_BUCKET (or S3_BUCKET) is required');
  }

  const detectorUrl = read.url('DETECTOR_URL');
  if (needs.includes('detector') && !detectorUrl) problems.push('DETECTOR_URL is required');
  const detector: DetectorConfig | undefined = detectorUrl
    ? {
        url: detectorUrl,
        headers: read.headers('DETECTOR_HEADERS') ?? {},
        caFile: read.string('DETECTOR_CA_FILE'),
        referenceChannelParam: read.string('DETECTOR_REFERENCE_CHANNEL_PARAM') ?? 'reference_channel',
        questionedChannelParam: read.string('DETECTOR_QUESTIONED_CHANNEL_PARAM') ?? 'questioned_channel',
        maxUploadBytes: read.positiveInt('DETECTOR_MAX_UPLOAD_BYTES') ?? 500 * 1000 * 1000,
        maxAudioSeconds: read.positiveInt('DETECTOR_MAX_AUDIO_SECONDS') ?? 2 * 60 * 60,
        connections: read.positiveInt('DETECTOR_CONNECTIONS') ?? 16,
        headersTimeoutMs: read.positiveInt('DETECTOR_HEADERS_TIMEOUT_MS') ?? 60_000,
        bodyTimeoutMs: read.positiveInt('DETECTOR_BODY_TIMEOUT_MS') ?? 60_000,
      }
    : undefined;

  const config: AppConfig = {
    taskQueue: read.string('TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    storage,
    detector,
    worker: {
      maxConcurrentActivities: read.positiveInt('WORKER_MAX_CONCURRENT_ACTIVITIES') ?? 50,
      shutdownGraceMs: read.positiveInt('WORKER_SHUTDOWN_GRACE_MS') ?? 10 * 60_000,
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function staticCredentials(read: EnvReader): StorageConfig['credentials'] {
  const accessKeyId = read.string('AWS_ACCESS_KEY_ID');
  const secretAccessKey = read.string('AWS_SECRET_ACCESS_KEY');
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = read.string('AWS_SESSION_TOKEN');
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
}

/** Parses variables, recording a problem instead of throwing so all are reported together. */
class EnvReader {
  private readonly env: Env;
  private readonly problems: string[];
  constructor(env: Env, problems: string[]) {
    this.env = env;
    this.problems = problems;
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  url(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be an http(s) URL, got "${value}"`);
      return undefined;
    }
  }

  positiveInt(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed <= 0) {
      this.problems.push(`${name} must be a positive integer, got "${value}"`);
      return undefined;
    }
    return parsed;
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (['1', 'true', 'yes'].includes(value)) return true;
    if (['0', 'false', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false, got "${value}"`);
    return undefined;
  }

  /** A JSON object of string values: `{"Authorization": "Bearer …"}`. */
  headers(name: string): Record<string, string> | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(value);
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every((v) => typeof v === 'string')
      ) {
        return parsed as Record<string, string>;
      }
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}`);
    return undefined;
  }
}

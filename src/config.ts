/**
 * Application settings from the environment, read once at start-up and reported all at once.
 * The Temporal connection is not here: `@temporalio/envconfig` owns it (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles). Never imported by workflows.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LOCATION_RESOLUTIONS, type LocationResolution } from './activities/detector/client.ts';
import { extraHeaderProblems } from './activities/detector/headers.ts';
import { parseOrigin } from './activities/detector/origins.ts';
import { DEFAULT_TASK_QUEUE } from './shared/task-queues.ts';

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
  caFile?: string;
  /** The PEM text of `caFile`, read and checked (every certificate parses) by loadConfig. */
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
  worker: {
    maxConcurrentActivities: number;
    shutdownGraceMs: number;
    /** How long `rdd worker` keeps retrying to reach Temporal at start-up (WORKER_CONNECT_TIMEOUT_MS). */
    connectTimeoutMs: number;
  };
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
    forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE') ?? read.string('S3_ENDPOINT') !== undefined,
    mediaBucket,
    resultBucket: read.string('S3_RESULT_BUCKET') ?? mediaBucket,
    credentials: staticCredentials(read),
  };
  if (needs.includes('mediaBucket') && !storage.mediaBucket) problems.push('S3_BUCKET is required');
  if (needs.includes('resultBucket') && !storage.resultBucket) {
    problems.push('S3_RESULT_BUCKET (or S3_BUCKET) is required');
  }

  // Every DETECTOR_* variable is checked once the detector is configured or needed, even when
  // DETECTOR_URL itself is wrong, so one run reports every problem.
  const detectorWanted = read.string('DETECTOR_URL') !== undefined || needs.includes('detector');
  const detectorUrl = read.baseUrl('DETECTOR_URL');
  if (needs.includes('detector') && read.string('DETECTOR_URL') === undefined) {
    problems.push('DETECTOR_URL is required');
  }
  const detectorSettings = detectorWanted ? readDetectorSettings(read) : undefined;
  const detector: DetectorConfig | undefined =
    detectorUrl && detectorSettings ? { url: detectorUrl, ...detectorSettings } : undefined;

  const config: AppConfig = {
    taskQueue: read.string('TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    storage,
    detector,
    worker: {
      maxConcurrentActivities: read.positiveInt('WORKER_MAX_CONCURRENT_ACTIVITIES') ?? 50,
      shutdownGraceMs: read.positiveInt('WORKER_SHUTDOWN_GRACE_MS', MAX_TIMER_MS) ?? 10 * 60_000,
      connectTimeoutMs: read.positiveInt('WORKER_CONNECT_TIMEOUT_MS') ?? 5 * 60_000,
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Timers in Node hold at most 2^31-1 ms (about 24.8 days); a larger value fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

function readDetectorSettings(read: EnvReader): Omit<DetectorConfig, 'url'> {
  const ca = read.pemFile('DETECTOR_CA_FILE');
  const referenceChannelParam = read.queryName('DETECTOR_REFERENCE_CHANNEL_PARAM') ?? 'reference_channel';
  const questionedChannelParam = read.queryName('DETECTOR_QUESTIONED_CHANNEL_PARAM') ?? 'questioned_channel';
  if (referenceChannelParam === questionedChannelParam) {
    read.problem(
      `DETECTOR_REFERENCE_CHANNEL_PARAM and DETECTOR_QUESTIONED_CHANNEL_PARAM must differ, both are "${referenceChannelParam}"`,
    );
  }
  return {
    headers: read.headers('DETECTOR_HEADERS') ?? {},
    caFile: ca?.path,
    ...(ca ? { ca: ca.pem } : {}),
    allowedOrigins: read.origins('DETECTOR_ALLOWED_ORIGINS') ?? [],
    locationResolution: read.oneOf('DETECTOR_LOCATION_RESOLUTION', LOCATION_RESOLUTIONS) ?? 'rfc3986',
    referenceChannelParam,
    questionedChannelParam,
    maxUploadBytes: read.positiveInt('DETECTOR_MAX_UPLOAD_BYTES') ?? 500 * 1000 * 1000,
    maxAudioSeconds: read.positiveInt('DETECTOR_MAX_AUDIO_SECONDS') ?? 2 * 60 * 60,
    connections: read.positiveInt('DETECTOR_CONNECTIONS', 10_000) ?? 16,
    headersTimeoutMs: read.positiveInt('DETECTOR_HEADERS_TIMEOUT_MS', MAX_TIMER_MS) ?? 60_000,
    bodyTimeoutMs: read.positiveInt('DETECTOR_BODY_TIMEOUT_MS', MAX_TIMER_MS) ?? 60_000,
  };
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

  problem(text: string): void {
    this.problems.push(text);
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  url(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const url = this.httpUrl(name, value);
    return url ? value.replace(/\/+$/, '') : undefined;
  }

  /** An http(s) base URL: a path prefix is kept, a query or fragment is refused. Normalised. */
  baseUrl(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const url = this.httpUrl(name, value);
    if (url === undefined) return undefined;
    if (url.search || url.hash) {
      this.problems.push(`${name} must not have a query or fragment (a path prefix is fine), got "${value}"`);
      return undefined;
    }
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  }

  private httpUrl(name: string, value: string): URL | undefined {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      this.problems.push(`${name} must be an http(s) URL, got "${value}"`);
      return undefined;
    }
    if (url.username || url.password) {
      // Not echoed: it holds a password.
      this.problems.push(`${name} must not contain a user name or password (send credentials in headers)`);
      return undefined;
    }
    return url;
  }

  /** A positive safe integer, at most `max` (e.g. the largest timer delay for a `_MS` variable). */
  positiveInt(name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed <= 0) {
      this.problems.push(`${name} must be a positive integer, got "${value}"`);
      return undefined;
    }
    if (parsed > max) {
      this.problems.push(`${name} must be at most ${max}, got "${value}"`);
      return undefined;
    }
    return parsed;
  }

  /** One of a fixed set of words, compared case-insensitively. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const found = allowed.find((word) => word === value.toLowerCase());
    if (found === undefined) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    return found;
  }

  /** A query parameter name: unreserved URL characters only (RFC 3986 §2.3), so it needs no escaping. */
  queryName(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9._~-]{1,100}$/.test(value)) {
      this.problems.push(
        `${name} must be a query parameter name (letters, digits, . _ ~ -), got ${JSON.stringify(value.slice(0, 100))}`,
      );
      return undefined;
    }
    return value;
  }

  /** Comma-separated bare http(s) origins (`https://node1:8443`), each reported on its own. */
  origins(name: string): string[] | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const origins: string[] = [];
    let ok = true;
    for (const item of value.split(',').map((part) => part.trim())) {
      if (item === '') continue;
      const read = parseOrigin(item);
      if (read.ok) {
        if (!origins.includes(read.origin)) origins.push(read.origin);
        continue;
      }
      ok = false;
      // An item with credentials is not echoed.
      const shown = /@/.test(item) ? 'an entry' : `"${item}"`;
      this.problems.push(`${name}: ${shown} ${read.reason}, e.g. https://node1.example.com:8443`);
    }
    return ok ? origins : undefined;
  }

  /** A readable PEM file with at least one certificate, every one of which parses. */
  pemFile(name: string): { path: string; pem: string } | undefined {
    const path = this.string(name);
    if (path === undefined) return undefined;
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.problems.push(`${name} cannot be read (${typeof code === 'string' ? code : 'error'}): ${path}`);
      return undefined;
    }
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
      this.problems.push(`${name} holds no PEM certificate (-----BEGIN CERTIFICATE-----): ${path}`);
      return undefined;
    }
    for (const [index, block] of blocks.entries()) {
      try {
        new X509Certificate(block);
      } catch {
        this.problems.push(`${name}: certificate ${index + 1} in ${path} is not a valid PEM certificate`);
        return undefined;
      }
    }
    return { path, pem };
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
        // The rules the client enforces, reported by header name; values are never shown.
        const problems = extraHeaderProblems(parsed as Record<string, string>);
        for (const problem of problems) this.problems.push(`${name}: ${problem}`);
        return problems.length === 0 ? (parsed as Record<string, string>) : undefined;
      }
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}`);
    return undefined;
  }
}

/**
 * Emulator settings: the appliance's limits (defaults from the platform's documentation), timing of
 * the emulated processing, fixtures and injected faults.
 */
import { z } from 'zod';

import type { FixtureMap } from './fixtures.ts';

/**
 * How long a task stays `running`: `fixedMs` when set, otherwise
 * `baseMs + perAudioSecondMs × (audio seconds of both files)`. A fixture's `processingMs` wins over both.
 */
export interface ProcessingTimes {
  fixedMs?: number;
  /** Default 500. */
  baseMs?: number;
  /** Default 20 (a 2 × 60 s pair runs 2.9 s). */
  perAudioSecondMs?: number;
}

/** Statuses the submit endpoint can be told to answer instead of accepting a task. */
export type SubmitFaultStatus = 429 | 500 | 502 | 503 | 507;
/** Statuses the poll endpoint can be told to answer instead of the task. */
export type PollFaultStatus = 429 | 500 | 502 | 503;

/** One injected fault: answer `status` to the next `times` requests of its kind. */
export interface Fault<S extends number> {
  status: S;
  times: number;
  /** Sent as `retry-after` (seconds). For 429 also `x-ratelimit-*` headers are sent. */
  retryAfterSeconds?: number;
}

/**
 * Seeded fault rates: each a fraction 0…1, drawn per request (submits, polls) or per accepted task
 * from one mulberry32 generator seeded with `seed`, so a run repeats. Rates of one kind are
 * exclusive (one draw decides between them), so their sum must stay ≤ 1.
 */
export interface FaultRates {
  /** Seed of the generator. Default 1. */
  seed?: number;
  /** Submits answered 500/502/503 (one of the three, drawn). */
  submit5xx?: number;
  /** Submits answered 429 with `retry-after` and `x-ratelimit-*`. */
  submit429?: number;
  /** Submits answered 507 (temporary input storage full) with `retry-after`. */
  submit507?: number;
  /** Polls answered 500/502/503. */
  poll5xx?: number;
  /** Polls answered 429 with `retry-after`. */
  poll429?: number;
  /** `retry-after` (s) of the 429 and 507 answers. Default 1. */
  retryAfterSeconds?: number;
  /** Accepted tasks (without a fixture) that end `failed` (internal error, retry may succeed). */
  taskFailed?: number;
  /** Accepted tasks (without a fixture) that vanish when they would finish: polls then answer 404. */
  taskVanish?: number;
  /** Accepted tasks (without a fixture) that polls show `pending` for `pendingLongMs` from acceptance. */
  taskPendingLong?: number;
  /** How long a `taskPendingLong` task shows `pending` (ms). Default 30 000. */
  pendingLongMs?: number;
}

/** Which endpoint a connection fault applies to. */
export type FaultTarget = 'submit' | 'poll';

/**
 * Faults for client tests and chaos scenarios. The `…Status` and connection faults are one-shots:
 * each request of its kind consumes one of `times`; `rates` hold for every request.
 */
export interface EmulatorFaults {
  submitStatus?: Fault<SubmitFaultStatus>;
  pollStatus?: Fault<PollFaultStatus>;
  rates?: FaultRates;
  /** The next `times` submits: read `afterBytes` of the body (default 1024), then reset the connection. */
  resetMidUpload?: { times: number; afterBytes?: number };
  /**
   * The next `times` answers of `on` (default poll): headers and half the body sent, then the
   * connection is reset. On a submit the task is accepted first (its answer is lost, as on a real
   * network), so a client that resubmits makes a second task.
   */
  cutAnswer?: { times: number; on?: FaultTarget };
  /** The next `times` requests of `on` (default poll) are held `ms` before being handled. */
  stall?: { times: number; ms: number; on?: FaultTarget };
  /** The next `times` submits read their body at `bytesPerSecond`. */
  slowUpload?: { times: number; bytesPerSecond: number };
  /**
   * Time windows (a schedule): every request of `on` from `fromMs` until `untilMs` (ms after these
   * faults were set; no `untilMs` = until the faults change) is answered `status`. One-shots win over
   * windows, windows over rates; the first matching window wins.
   */
  windows?: FaultWindow[];
}

/**
 * One window of a fault schedule, e.g. `{ on: 'submit', status: 503, fromMs: 10_000, untilMs: 25_000 }`
 * (submits answered 503 from 10 s to 25 s after the faults were set). A poll window takes a
 * {@link PollFaultStatus}.
 */
export interface FaultWindow {
  on: FaultTarget;
  status: SubmitFaultStatus;
  /** Start, ms after the faults were set (inclusive). */
  fromMs: number;
  /** End, ms after the faults were set (exclusive); absent = open-ended. */
  untilMs?: number;
  /** Sent as `retry-after` (seconds). */
  retryAfterSeconds?: number;
}

/** One request, as logged. */
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  correlationId?: string;
}

/** Everything `startEmulator` accepts; every field has a default. */
export interface EmulatorOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port: number;
  /** Send `Location`/`X-Location` as a path (as the API reference shows) instead of an absolute URL. Default false. */
  relativeLocation: boolean;
  /** Tasks processed in parallel; further tasks wait `pending` in FIFO order. Default 2. */
  capacity: number;
  processing: ProcessingTimes;
  /** Finished tasks are forgotten (404) this long after finishing. Default 10 minutes. */
  expiryMs: number;
  /** Largest request body accepted; larger → 413. Default 500 MB. */
  maxUploadBytes: number;
  /** Temporary input storage: bytes of uploads held by unfinished tasks; full → 507. Default 1 GiB. */
  storageBytes: number;
  /** Longest audio accepted per file; longer → task `rejected`. Default 7200 s. */
  maxAudioSeconds: number;
  /** Only the first this-many seconds of each file are analysed for the score. Default 300. */
  maxAnalysisSeconds: number;
  /** Time allowed to receive a whole request ("single upload duration"); slower → 408. Default 2 minutes. */
  uploadTimeoutMs: number;
  /** Reported by `GET /api/system/info`. */
  version: string;
  /** Query parameter names selecting each file's channel. */
  channelParams: { reference: string; questioned: string };
  /** Fixtures (see `fixtures.ts`): a map, or the path of a JSON file holding one. */
  fixtures: FixtureMap | string;
  faults: EmulatorFaults;
  /**
   * Serve the dev-only admin routes under `/_emulator/` (benchmark accounting and the processing
   * model, see server.ts). Not part of the platform's API. Default false (404 like any unknown path).
   */
  admin: boolean;
  /** Receives one line per request and per task transition; silent when absent. */
  log: ((line: string, entry?: RequestLogEntry) => void) | undefined;
}

/** Options after defaults were applied, fixtures not yet loaded. */
export type ResolvedOptions = Omit<EmulatorOptions, 'processing'> & {
  processing: { fixedMs: number | undefined; baseMs: number; perAudioSecondMs: number };
};

const DEFAULT_BASE_MS = 500;
const DEFAULT_PER_AUDIO_SECOND_MS = 20;

export const DEFAULT_OPTIONS: EmulatorOptions = {
  host: '127.0.0.1',
  port: 0,
  relativeLocation: false,
  capacity: 2,
  processing: { baseMs: DEFAULT_BASE_MS, perAudioSecondMs: DEFAULT_PER_AUDIO_SECOND_MS },
  expiryMs: 10 * 60_000,
  maxUploadBytes: 500 * 1000 * 1000,
  storageBytes: 1024 ** 3,
  maxAudioSeconds: 2 * 60 * 60,
  maxAnalysisSeconds: 300,
  uploadTimeoutMs: 2 * 60_000,
  version: '4.0.0-emulator',
  channelParams: { reference: 'reference_channel', questioned: 'questioned_channel' },
  fixtures: {},
  faults: {},
  admin: false,
  log: undefined,
};

/**
 * Applies defaults and checks numbers.
 * @throws RangeError naming the first invalid option.
 */
export function resolveOptions(options: Partial<EmulatorOptions> = {}): ResolvedOptions {
  const merged: EmulatorOptions = {
    ...DEFAULT_OPTIONS,
    ...stripUndefined(options),
    channelParams: { ...DEFAULT_OPTIONS.channelParams, ...stripUndefined(options.channelParams ?? {}) },
  };
  const nonNegative = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < 0))
      throw new RangeError(`emulator option ${name} must be a non-negative number, got ${value}`);
  };
  const positive = (name: string, value: number): void => {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`emulator option ${name} must be a positive number, got ${value}`);
  };
  if (!Number.isInteger(merged.port) || merged.port < 0 || merged.port > 65535)
    throw new RangeError(`emulator option port must be 0-65535, got ${merged.port}`);
  if (!Number.isInteger(merged.capacity) || merged.capacity < 1)
    throw new RangeError(`emulator option capacity must be an integer ≥ 1, got ${merged.capacity}`);
  positive('expiryMs', merged.expiryMs);
  positive('maxUploadBytes', merged.maxUploadBytes);
  positive('storageBytes', merged.storageBytes);
  positive('maxAudioSeconds', merged.maxAudioSeconds);
  positive('maxAnalysisSeconds', merged.maxAnalysisSeconds);
  positive('uploadTimeoutMs', merged.uploadTimeoutMs);
  const p = options.processing ?? {};
  nonNegative('processing.fixedMs', p.fixedMs);
  nonNegative('processing.baseMs', p.baseMs);
  nonNegative('processing.perAudioSecondMs', p.perAudioSecondMs);
  const processing = {
    fixedMs: p.fixedMs,
    baseMs: p.baseMs ?? DEFAULT_BASE_MS,
    perAudioSecondMs: p.perAudioSecondMs ?? DEFAULT_PER_AUDIO_SECOND_MS,
  };
  validateFaults(merged.faults);
  return { ...merged, processing };
}

const SUBMIT_FAULT_STATUSES = [429, 500, 502, 503, 507] as const;
const POLL_FAULT_STATUSES = [429, 500, 502, 503] as const;
const times = z.int().nonnegative();
const positive = z.number().positive().finite();
const target = z.enum(['submit', 'poll']);
const fraction = z.number().min(0).max(1);
const statusOf = (statuses: readonly number[]): z.ZodType<number> =>
  z.number().refine((s) => statuses.includes(s), {
    message: `must be one of ${statuses.join(', ')} (a status that injects a fault)`,
  });

/** The schema of {@link EmulatorFaults}: strict objects (an unknown field is an error). */
const FAULTS_SCHEMA = z.strictObject({
  submitStatus: z
    .strictObject({ status: statusOf(SUBMIT_FAULT_STATUSES), times, retryAfterSeconds: times.optional() })
    .optional(),
  pollStatus: z
    .strictObject({ status: statusOf(POLL_FAULT_STATUSES), times, retryAfterSeconds: times.optional() })
    .optional(),
  rates: z
    .strictObject({
      seed: z.int().optional(),
      submit5xx: fraction.optional(),
      submit429: fraction.optional(),
      submit507: fraction.optional(),
      poll5xx: fraction.optional(),
      poll429: fraction.optional(),
      retryAfterSeconds: times.optional(),
      taskFailed: fraction.optional(),
      taskVanish: fraction.optional(),
      taskPendingLong: fraction.optional(),
      pendingLongMs: positive.optional(),
    })
    .optional(),
  resetMidUpload: z.strictObject({ times, afterBytes: positive.optional() }).optional(),
  cutAnswer: z.strictObject({ times, on: target.optional() }).optional(),
  stall: z.strictObject({ times, ms: positive, on: target.optional() }).optional(),
  slowUpload: z.strictObject({ times, bytesPerSecond: positive }).optional(),
  windows: z
    .array(
      z
        .strictObject({
          on: target,
          status: statusOf(SUBMIT_FAULT_STATUSES),
          fromMs: z.number().nonnegative().finite(),
          untilMs: positive.optional(),
          retryAfterSeconds: times.optional(),
        })
        .refine((w) => w.on === 'submit' || POLL_FAULT_STATUSES.some((s) => s === w.status), {
          message: `a poll window's status must be one of ${POLL_FAULT_STATUSES.join(', ')}`,
          path: ['status'],
        })
        .refine((w) => w.untilMs === undefined || w.untilMs > w.fromMs, {
          message: 'must be after fromMs',
          path: ['untilMs'],
        }),
    )
    .optional(),
});

/**
 * Checks injected faults (start options, `--faults` and `POST /_emulator/faults`) against the
 * schema of {@link EmulatorFaults}: unknown fields, statuses that inject no fault (e.g. 200, 418),
 * out-of-range numbers and rates of one kind adding up to more than 1 are refused. Pure.
 * @throws RangeError naming the first invalid field, e.g. `emulator option faults.rates.submit5XX: unknown field`.
 * @example validateFaults({ rates: { submit5xx: 0.1 } }) // ok
 */
export function validateFaults(faults: EmulatorFaults): void {
  if (typeof faults !== 'object' || faults === null || Array.isArray(faults))
    throw new RangeError('emulator faults must be an object');
  const parsed = FAULTS_SCHEMA.safeParse(faults);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = ['faults', ...(issue?.path ?? []).map(String)];
    if (issue?.code === 'unrecognized_keys')
      throw new RangeError(`emulator option ${[...at, issue.keys[0] ?? ''].join('.')}: unknown field`);
    const got = (issue?.path ?? []).reduce<unknown>(
      (value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key],
      faults,
    );
    throw new RangeError(
      `emulator option ${at.join('.')}: ${issue?.message ?? 'invalid'}` +
        (got === undefined ? '' : `, got ${JSON.stringify(got)}`),
    );
  }
  const rates = faults.rates;
  if (!rates) return;
  const fractions = {
    submit: ['submit5xx', 'submit429', 'submit507'],
    poll: ['poll5xx', 'poll429'],
    task: ['taskFailed', 'taskVanish', 'taskPendingLong'],
  } as const;
  for (const [group, names] of Object.entries(fractions)) {
    const sum = names.reduce((total, name) => total + (rates[name] ?? 0), 0);
    if (sum > 1) throw new RangeError(`emulator faults.rates of ${group} add up to ${sum}, more than 1`);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The embedded local stack: a Temporal dev server, versitygw as S3, the Speech Platform emulator
 * and a worker, all on 127.0.0.1, for the demo, the tests and `rdd stack up`. Nothing here is for
 * production: see docker-compose.yml for the same services as containers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_STACK_DIR, ENV_FILE_NAME } from '../../src/starters/stack-env.ts';
import { parseEventRules } from '../../src/shared/event-rules.ts';
import { startApi } from './api.ts';
import { formatEnvFile } from './env-file.ts';
import { startEmulator } from './emulator.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { isSameProcess, type ServiceProcess, terminateGroup } from './process.ts';
import { LOCAL_S3_CREDENTIALS, startS3 } from './s3.ts';
import { StackRunningError } from './stack-running-error.ts';
import {
  claimDir,
  clearState,
  livePids,
  readState,
  type ServiceRecord,
  type StackState,
  writeState,
} from './state.ts';
import { startTemporal } from './temporal.ts';
import { findTool } from './tools.ts';
import { startWorker } from './worker.ts';

export { ServiceStartError } from './service-start-error.ts';
export { StackRunningError } from './stack-running-error.ts';
export { ToolNotFoundError } from './tool-not-found-error.ts';
export { DEFAULT_STACK_DIR };

/** Ports of the stack's services; 0 means any free port. */
export interface StackPorts {
  temporal: number;
  temporalUi: number;
  s3: number;
  emulator: number;
  /** `rdd serve`, the HTTP API. */
  api: number;
  /** The worker's Prometheus `/metrics` (RDD_METRICS_BIND). */
  metrics: number;
  /** The worker's `/healthz` (RDD_HEALTH_BIND). */
  health: number;
}

/** Preferred ports; a busy one is replaced by a free one. */
export const DEFAULT_PORTS: StackPorts = {
  temporal: 7233,
  temporalUi: 8233,
  s3: 7070,
  emulator: 8600,
  api: 8080,
  metrics: 9464,
  health: 9465,
};

/** The media bucket the stack creates. */
export const DEFAULT_BUCKET = 'rdd-media';

/** What a client of the stack needs, as environment variables (also written to `<dir>/env`). */
export interface StackEnv {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  /** Absent when the stack runs Temporal headless. */
  TEMPORAL_UI_URL?: string;
  S3_ENDPOINT: string;
  S3_BUCKET: string;
  S3_FORCE_PATH_STYLE: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  /** The emulator's URL; absent when the stack runs without it. */
  DETECTOR_URL?: string;
  /** The platform's capacity the worker starts with: the emulator's capacity, so they agree. */
  DETECTOR_CAPACITY?: string;
  /** The HTTP API (`rdd serve`); absent when the stack runs without it. */
  RDD_API_URL?: string;
  /** The API's bearer token: RDD_API_TOKEN of the environment `rdd stack up` ran in, when set. */
  RDD_API_TOKEN?: string;
  /** With `s3Events`: the rule file the API (and `rdd sweep create`) read. */
  S3_EVENT_RULES?: string;
  /** The worker's Prometheus endpoint (`…/metrics`); absent when the stack runs without a worker. */
  RDD_METRICS_URL?: string;
  /** The worker's health endpoint (`…/healthz`); absent when the stack runs without a worker. */
  RDD_HEALTH_URL?: string;
}

/** The rules `s3Events` uses without a file of its own: calls/{customer}/{call}.wav → references/{customer}.wav. */
export const DEFAULT_STACK_EVENT_RULES = [
  { match: 'calls/{customer}/{call}.wav', reference: 'references/{customer}.wav' },
] as const;

/** Options of `startStack`; every field has a default. */
export interface StartStackOptions {
  /** Where env file, pids, logs and data live. Default `<repo>/.stack`. */
  dir?: string;
  /** Run a worker (`rdd worker`). Default true. */
  worker?: boolean;
  /** Serve the HTTP API (`rdd serve`, RDD_API_URL). Default true. */
  api?: boolean;
  /**
   * Wire versitygw's event webhook to the API (`${RDD_API_URL}/v1/s3-events`, `?token=` when
   * RDD_API_TOKEN is set): a PUT matching a rule starts a detection. `rules` is a JSON rule file
   * (default: `<dir>/s3-event-rules.json`, written with `DEFAULT_STACK_EVENT_RULES`). Needs the API.
   * versitygw then starts after the API listens (it exits when its test event gets no answer).
   */
  s3Events?: boolean | { rules?: string };
  /** Run the Speech Platform emulator and point `DETECTOR_URL` at it. Default true. */
  emulator?: boolean;
  /** Leave the services running when this process exits (`rdd stack down` stops them). Default false. */
  detach?: boolean;
  /** Serve the Temporal Web UI. Default true. */
  temporalUi?: boolean;
  /** Keep workflows (`<dir>/temporal.db`) across restarts; S3 objects always stay in `<dir>/s3`. Default true. */
  persist?: boolean;
  /**
   * When a healthy stack already runs in `dir`, return it instead of throwing `StackRunningError`;
   * `stop()` of a reused stack leaves it running. Default false.
   */
  reuse?: boolean;
  /** Preferred ports, merged over `DEFAULT_PORTS`. */
  ports?: Partial<StackPorts>;
  /** Default `rdd-media`. */
  bucket?: string;
  /**
   * The platform's parallel slots, one value for both the emulator (`--capacity`) and the worker
   * (DETECTOR_CAPACITY), so the leases match the slots. Default: RDD_PLATFORM_CAPACITY, else 2
   * (the emulator's default). A running capacity workflow (a persisted stack) is set to it too.
   * @throws RangeError (from startStack) when RDD_PLATFORM_CAPACITY is not a positive integer.
   */
  capacity?: number;
  /** Start-up budget per service. Default 60 s (the worker gets twice that: it bundles workflows). */
  timeoutMs?: number;
  /** Progress lines (`temporal ready …`). Default: silent. */
  log?: (line: string) => void;
}

/** A started (or reused) stack. */
export interface RunningStack {
  env: StackEnv;
  dir: string;
  /** The services this call started; empty when reused. */
  services: readonly { name: string; pid: number; logFile: string }[];
  /** True when the stack was already running and `reuse` was set. */
  reused: boolean;
  /** Settles with a message when a service exits while the stack runs; never rejects. */
  exited: Promise<string>;
  /** Stops the services (worker first), removes `<dir>/env` and the pid file. Idempotent. */
  stop(): Promise<void>;
}

/** Grace periods: a worker drains in-flight activities, the rest stop at once. */
const WORKER_STOP_GRACE_MS = 15_000;
const SERVICE_STOP_GRACE_MS = 10_000;

/**
 * Starts the stack in `dir`, health-checks every service, then writes `<dir>/env`. Without
 * `detach`, the services are tied to this process: a guard process stops them if it dies without
 * calling `stop()` (even on SIGKILL). Signals are left to the caller: on SIGINT/SIGTERM, call `stop()`.
 * On a start-up failure everything already started is stopped before the error is thrown.
 * @throws StackRunningError when `dir` already has a running stack (unless `reuse`);
 *   ToolNotFoundError when temporal or versitygw is not installed (`npm run provision`);
 *   ServiceStartError when a service does not come up, with the end of its log.
 * @example
 * const stack = await startStack({ worker: false });
 * try { await run(stack.env) } finally { await stack.stop() }
 */
export async function startStack(options: StartStackOptions = {}): Promise<RunningStack> {
  const dir = path.resolve(options.dir ?? DEFAULT_STACK_DIR);
  const detach = options.detach ?? false;
  const log = options.log ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 60_000;
  const capacity = options.capacity ?? platformCapacityFromEnv(process.env.RDD_PLATFORM_CAPACITY);

  const s3Events =
    options.s3Events === undefined || options.s3Events === false ? undefined : options.s3Events;
  if (s3Events !== undefined && options.api === false)
    throw new TypeError('s3Events needs the API (the webhook posts to rdd serve)');
  // Before anything starts: a missing tool is the most common first-run failure.
  findTool('temporal');
  findTool('versitygw');

  const claim = claimDir(dir, detach);
  if ('running' in claim) {
    const running = claim.running;
    const healthy =
      running.env !== undefined && running.services.every((s) => isSameProcess(s.pid, s.fingerprint));
    if (options.reuse && healthy) return reusedStack(dir, running);
    throw new StackRunningError(dir, livePids(running));
  }
  const state = claim.claimed;
  const started: ServiceProcess[] = [];
  const reaper = detach ? undefined : spawnReaper();
  const onSpawn = (service: ServiceProcess): void => {
    started.push(service);
    state.services.push({
      name: service.name,
      pid: service.pid,
      fingerprint: service.fingerprint,
      logFile: service.logFile,
    });
    writeState(dir, state);
    reaper?.stdin?.write(`+${service.pid}\n`);
  };
  const logDir = path.join(dir, 'logs');
  const common = { logDir, detach, timeoutMs, onSpawn };

  try {
    const wanted = { ...DEFAULT_PORTS, ...options.ports };
    const taken = new Set<number>();
    const temporalPort = await pickPort(wanted.temporal, taken);
    const uiPort = (options.temporalUi ?? true) ? await pickPort(wanted.temporalUi, taken) : undefined;
    const s3Port = await pickPort(wanted.s3, taken);
    const emulatorPort = (options.emulator ?? true) ? await pickPort(wanted.emulator, taken) : undefined;
    const apiPort = (options.api ?? true) ? await pickPort(wanted.api, taken) : undefined;

    const s3Endpoint = `http://${LOOPBACK}:${s3Port}`;
    const bucket = options.bucket ?? DEFAULT_BUCKET;
    const startS3Now = (eventWebhookUrl?: string) =>
      startS3({
        ...common,
        port: s3Port,
        dataDir: path.join(dir, 's3'),
        bucket,
        ...(eventWebhookUrl !== undefined && { eventWebhookUrl }),
      }).then((s) => (log(`s3        ready at ${s.endpoint}, bucket ${s.bucket} (${elapsed()})`), s));
    const since = Date.now();
    const elapsed = (): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
    // Started together; allSettled so a failure never leaves a sibling spawning after the cleanup.
    const results = await Promise.allSettled([
      startTemporal({
        ...common,
        port: temporalPort,
        uiPort,
        dbFile: (options.persist ?? true) ? path.join(dir, 'temporal.db') : undefined,
      }).then(
        (t) => (log(`temporal  ready at ${t.address}${t.uiUrl ? `, UI ${t.uiUrl}` : ''} (${elapsed()})`), t),
      ),
      s3Events !== undefined ? Promise.resolve(undefined) : startS3Now(),
      emulatorPort === undefined
        ? Promise.resolve(undefined)
        : startEmulator({ ...common, port: emulatorPort, capacity }).then(
            (e) => (log(`emulator  ready at ${e.url} (${elapsed()})`), e),
          ),
    ]);
    const [temporal, , emulator] = [settled(results[0]), settled(results[1]), settled(results[2])];

    const env: StackEnv = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      ...(temporal.uiUrl !== undefined && { TEMPORAL_UI_URL: temporal.uiUrl }),
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: bucket,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: LOCAL_S3_CREDENTIALS.region,
      ...(emulator !== undefined && { DETECTOR_URL: emulator.url }),
      ...(emulator !== undefined && { DETECTOR_CAPACITY: String(capacity) }),
    };
    const startApiNow = async (): Promise<void> => {
      const api = await startApi({ ...common, port: apiPort!, env: { ...process.env, ...env } });
      env.RDD_API_URL = api.url;
      const token = process.env.RDD_API_TOKEN?.trim();
      if (token) env.RDD_API_TOKEN = token;
      log(`api       ready at ${api.url}${token ? ' (bearer token)' : ''} (${elapsed()})`);
    };
    if (s3Events !== undefined) {
      // The API first (Temporal is enough for it): versitygw's start-up test event needs an answer.
      env.S3_EVENT_RULES = stackEventRules(dir, s3Events === true ? undefined : s3Events.rules);
      await startApiNow();
      const token = env.RDD_API_TOKEN;
      await startS3Now(
        `${env.RDD_API_URL}/v1/s3-events${token ? `?token=${encodeURIComponent(token)}` : ''}`,
      );
      log(`s3 events ${env.RDD_API_URL}/v1/s3-events, rules ${env.S3_EVENT_RULES}`);
    }
    if (options.worker ?? true) {
      // The binds go to this worker only, not to <dir>/env: a second `rdd worker` would collide.
      const metricsPort = await pickPort(wanted.metrics, taken);
      const healthPort = await pickPort(wanted.health, taken);
      const binds = {
        RDD_METRICS_BIND: `${LOOPBACK}:${metricsPort}`,
        RDD_HEALTH_BIND: `${LOOPBACK}:${healthPort}`,
      };
      await startWorker({ ...common, timeoutMs: 2 * timeoutMs, env: { ...process.env, ...env, ...binds } });
      env.RDD_METRICS_URL = `http://${LOOPBACK}:${metricsPort}/metrics`;
      env.RDD_HEALTH_URL = `http://${LOOPBACK}:${healthPort}/healthz`;
      log(`worker    polling, metrics ${env.RDD_METRICS_URL}, health ${env.RDD_HEALTH_URL} (${elapsed()})`);
    }
    if (apiPort !== undefined && s3Events === undefined) await startApiNow();
    if (emulator !== undefined) await agreeOnCapacity(env, emulator.url, capacity, log);

    writeFileSync(
      path.join(dir, ENV_FILE_NAME),
      formatEnvFile(
        { ...env },
        `The local stack, written by \`rdd stack up\` (pid ${process.pid}) at ${new Date().toISOString()}.\n` +
          'Every rdd command reads it; `rdd stack down` removes it.',
      ),
      // It may hold RDD_API_TOKEN: owner-only, like the logs.
      { mode: 0o600 },
    );
    chmodSync(path.join(dir, ENV_FILE_NAME), 0o600);
    state.env = { ...env };
    writeState(dir, state);
    return ownedStack(dir, env, state, started, reaper, log);
  } catch (err) {
    await stopServices(state.services);
    clearState(dir);
    reaper?.stdin?.end('done\n');
    throw err;
  }
}

/**
 * The rule file of `s3Events`: `rules` resolved and checked (so a bad file fails here, naming it),
 * or `<dir>/s3-event-rules.json` written with `DEFAULT_STACK_EVENT_RULES`.
 * @throws TypeError when `rules` cannot be read or holds no valid rules.
 */
function stackEventRules(dir: string, rules: string | undefined): string {
  if (rules !== undefined) {
    const file = path.resolve(rules);
    try {
      parseEventRules(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new TypeError(`--rules ${file}: ${(err as Error).message}`, { cause: err });
    }
    return file;
  }
  const file = path.join(dir, 's3-event-rules.json');
  writeFileSync(file, `${JSON.stringify(DEFAULT_STACK_EVENT_RULES, null, 2)}\n`);
  return file;
}

/** What `stopStack` found and did. */
export interface StopStackResult {
  /** Whether `dir` had a stack at all (running or stale). */
  found: boolean;
  /** Names of the services that were still running and are now stopped. */
  stopped: string[];
}

/**
 * Stops the stack recorded in `dir` (`rdd stack down`): a foreground stack is asked to stop by
 * SIGTERM to its owner; detached services get SIGTERM, then SIGKILL after a grace period. Removes
 * `<dir>/env` and the pid file. Idempotent: without a stack it only clears stale files.
 * @example await stopStack({ dir: '.stack' })
 */
export async function stopStack(
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<StopStackResult> {
  const dir = path.resolve(options.dir ?? DEFAULT_STACK_DIR);
  const log = options.log ?? (() => {});
  const state = readState(dir);
  if (!state) {
    clearState(dir);
    return { found: false, stopped: [] };
  }
  const running = state.services.filter((s) => isSameProcess(s.pid, s.fingerprint)).map((s) => s.name);
  const owner = state.owner;
  if (!state.detached && owner.pid !== process.pid && isSameProcess(owner.pid, owner.fingerprint)) {
    log(`asking the stack's owner (pid ${owner.pid}) to stop it`);
    try {
      process.kill(owner.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + WORKER_STOP_GRACE_MS + SERVICE_STOP_GRACE_MS + 5_000;
    while (readState(dir) && isSameProcess(owner.pid, owner.fingerprint) && Date.now() < deadline)
      await sleep(100);
  }
  const left = readState(dir);
  if (left) await stopServices(left.services, log);
  clearState(dir);
  return { found: true, stopped: running };
}

/** Stops recorded services: the worker first (it drains through Temporal), then the rest together. */
async function stopServices(
  services: readonly ServiceRecord[],
  log: (line: string) => void = () => {},
): Promise<void> {
  const alive = services.filter((s) => isSameProcess(s.pid, s.fingerprint));
  const stop = async (s: ServiceRecord, graceMs: number): Promise<void> => {
    const killed = await terminateGroup(s.pid, graceMs);
    log(`${s.name.padEnd(9)} stopped${killed ? ` (killed after ${graceMs / 1000} s)` : ''}`);
  };
  for (const worker of alive.filter((s) => s.name === 'worker')) await stop(worker, WORKER_STOP_GRACE_MS);
  await Promise.all(alive.filter((s) => s.name !== 'worker').map((s) => stop(s, SERVICE_STOP_GRACE_MS)));
}

function ownedStack(
  dir: string,
  env: StackEnv,
  state: StackState,
  started: readonly ServiceProcess[],
  reaper: ChildProcess | undefined,
  log: (line: string) => void,
): RunningStack {
  let stopping: Promise<void> | undefined;
  const exited = new Promise<string>((resolve) => {
    for (const service of started) {
      void service.exited.then((how) => {
        if (!stopping) resolve(`${service.name} exited (${how}); see ${service.logFile}`);
      });
    }
  });
  return {
    env,
    dir,
    services: started.map(({ name, pid, logFile }) => ({ name, pid, logFile })),
    reused: false,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        await stopServices(state.services, log);
        clearState(dir);
        reaper?.stdin?.end('done\n');
      })()),
  };
}

function reusedStack(dir: string, state: StackState): RunningStack {
  return {
    env: state.env as unknown as StackEnv,
    dir,
    services: [],
    reused: true,
    exited: new Promise<string>(() => {}),
    stop: () => Promise.resolve(),
  };
}

/** The orphan guard of a foreground stack (see reaper.ts); it must not keep this process alive. */
function spawnReaper(): ChildProcess {
  const reaper = spawn(process.execPath, [path.join(import.meta.dirname, 'reaper.ts')], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  reaper.unref();
  reaper.stdin?.on('error', () => {}); // a reaper that died cannot guard; nothing else to do
  (reaper.stdin as { unref?: () => void } | null)?.unref?.();
  return reaper;
}

/** The value of a settled promise, or its rejection thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** The stack's default platform capacity: the emulator's own default. */
const DEFAULT_STACK_CAPACITY = 2;

/**
 * RDD_PLATFORM_CAPACITY as a capacity, or the default when unset or blank.
 * @throws RangeError when it is set but not a positive integer.
 */
export function platformCapacityFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_STACK_CAPACITY;
  const capacity = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || capacity < 1) {
    throw new RangeError(`RDD_PLATFORM_CAPACITY must be a positive integer, got "${value}"`);
  }
  return capacity;
}

/**
 * A persisted stack may still run the platform's capacity workflow with an older capacity: set it
 * to this stack's, so the leases and the emulator agree. Nothing to do when none runs yet (the
 * worker starts it with DETECTOR_CAPACITY). Best effort: a failure is logged, not thrown.
 */
async function agreeOnCapacity(
  env: StackEnv,
  platformUrl: string,
  capacity: number,
  log: (line: string) => void,
): Promise<void> {
  const { connectClient } = await import('../../src/client/connection.ts');
  const { PlatformCapacityNotStartedError, setPlatformCapacity } =
    await import('../../src/client/platform.ts');
  let client;
  try {
    client = await connectClient({ ...env });
    await setPlatformCapacity(client, platformUrl, capacity);
    log(`capacity  ${capacity} (set on the running capacity workflow)`);
  } catch (err) {
    if (!(err instanceof PlatformCapacityNotStartedError)) {
      log(`capacity  not set on the capacity workflow: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    await client?.connection.close();
  }
}

/**
 * Service processes: spawned in their own process group with output to a log file, health-checked,
 * and stopped by group (SIGTERM, a grace period, then SIGKILL).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceStartError } from './service-start-error.ts';

/** What to run for one service. */
export interface ServiceSpec {
  /** Short name, also the log file's: `temporal` → `<logDir>/temporal.log`. */
  name: string;
  command: string;
  args: readonly string[];
  logDir: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Keep running after this process exits (`rdd stack up --detach`). */
  detach: boolean;
  /** Called as soon as the process exists, before any health check: the place to record its pid. */
  onSpawn?: (service: ServiceProcess) => void;
}

/** What every launcher takes besides its own settings. */
export interface LaunchOptions {
  logDir: string;
  detach: boolean;
  /** How long to wait for the service to become healthy. */
  timeoutMs: number;
  onSpawn?: (service: ServiceProcess) => void;
}

/** A spawned service. */
export interface ServiceProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Size of the log before this run, so readiness looks only at this run's output. */
  logOffset: number;
  /** Identity of the process at spawn (its start time), to tell it from a later one with the same pid. */
  fingerprint: string | undefined;
  child: ChildProcess;
  /** Settles when the process exits, with a description such as `exit code 1` or `signal SIGKILL`. */
  exited: Promise<string>;
  /** Whether the process has exited. */
  hasExited(): boolean;
}

/**
 * Spawns a service as the leader of a new process group (so a stop reaches whatever it forks and a
 * terminal's Ctrl-C does not hit it before its dependants are stopped), stdout and stderr appended
 * to `<logDir>/<name>.log` (mode 0600: readable by its owner only). With `detach`, the child is unref'd and outlives this process.
 * @throws Error when the program cannot be executed (ENOENT, EACCES).
 * @example const s = await spawnService({ name: 'temporal', command, args, logDir, detach: false })
 */
export async function spawnService(spec: ServiceSpec): Promise<ServiceProcess> {
  mkdirSync(spec.logDir, { recursive: true });
  const logFile = path.join(spec.logDir, `${spec.name}.log`);
  // Owner-only: a log may carry a secret the service prints (versitygw logs its event webhook URL,
  // whose `?token=` is the API token), as `.stack/env` does.
  const fd = openSync(logFile, 'a', 0o600);
  fchmodSync(fd, 0o600);
  const logOffset = statSync(logFile).size;
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let done: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      resolve(done);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(new Error(`cannot run ${spec.command}: ${err.message}`, { cause: err })),
    );
  });
  if (spec.detach) child.unref();
  const pid = child.pid!;
  const service: ServiceProcess = {
    name: spec.name,
    pid,
    logFile,
    logOffset,
    fingerprint: processFingerprint(pid),
    child,
    exited,
    hasExited: () => done !== undefined,
  };
  spec.onSpawn?.(service);
  return service;
}

/**
 * Polls `check` until it returns true, failing fast when the service exits.
 * @throws ServiceStartError with the end of the service's log on exit or timeout.
 * @example await waitHealthy(s, () => tcpOpen(7233), { timeoutMs: 30_000, what: 'gRPC' })
 */
export async function waitHealthy(
  service: ServiceProcess,
  check: () => Promise<boolean>,
  { timeoutMs, what, intervalMs = 200 }: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (service.hasExited()) {
      throw new ServiceStartError(
        service.name,
        `it exited (${await service.exited}) before ${what}`,
        service.logFile,
        logTail(service.logFile, service.logOffset),
      );
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new ServiceStartError(
        service.name,
        `no ${what} after ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`,
        service.logFile,
        logTail(service.logFile, service.logOffset),
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * The last `lines` lines a service wrote to its log since `fromOffset`.
 * @example logTail('.stack/logs/temporal.log')
 */
export function logTail(file: string, fromOffset = 0, lines = 20): string {
  return readLogSince(file, fromOffset)
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/**
 * What a service wrote to its log after byte `offset`; empty when the log cannot be read.
 * @example readLogSince(service.logFile, service.logOffset).includes('ready')
 */
export function readLogSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * Whether a process exists and is not a zombie.
 * @example isAlive(process.pid) // true
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The start time of a process (Linux: clock ticks since boot from /proc; elsewhere `ps -o lstart`),
 * which with the pid identifies it; undefined when the process is gone or it cannot be told.
 * @example processFingerprint(process.pid) // '1234567'
 */
export function processFingerprint(pid: number): string | undefined {
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    }
    return execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still the process recorded with `fingerprint` (a recycled pid is not).
 * @example isSameProcess(rec.pid, rec.fingerprint)
 */
export function isSameProcess(pid: number, fingerprint: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  return fingerprint === undefined || processFingerprint(pid) === fingerprint;
}

/**
 * Stops a process group led by `pid`: SIGTERM, up to `graceMs` for it to exit, then SIGKILL.
 * Idempotent: a group that is already gone is fine. Resolves true when it had to use SIGKILL.
 * @example await terminateGroup(service.pid, 10_000)
 */
export async function terminateGroup(pid: number, graceMs: number): Promise<boolean> {
  if (!signalGroup(pid, 'SIGTERM')) return false;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      signalGroup(pid, 'SIGKILL'); // whatever the leader left behind in its group
      return false;
    }
    await sleep(50);
  }
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 40 && isAlive(pid); i++) await sleep(50);
  return true;
}

/** Sends `signal` to the group led by `pid`, falling back to the pid alone; false if neither exists. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return true;
    } catch {
      // no such group (or process); try the next form
    }
  }
  return false;
}

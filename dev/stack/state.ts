/**
 * The bookkeeping of a stack directory: `<dir>/stack.json` records who owns the stack and the
 * pid of each service, so `rdd stack down` (another process) can stop a detached stack, and a second
 * `rdd stack up` on the same directory is refused.
 */
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENV_FILE_NAME } from '../../src/starters/stack-env.ts';
import { isSameProcess, processFingerprint } from './process.ts';

export const STATE_FILE_NAME = 'stack.json';

/** One service as recorded: enough to find and stop it from another process. */
export interface ServiceRecord {
  name: string;
  pid: number;
  fingerprint: string | undefined;
  logFile: string;
}

/** Contents of `<dir>/stack.json`. */
export interface StackState {
  version: 1;
  /** The process that ran `startStack`; for a foreground stack it stops the services on SIGTERM. */
  owner: { pid: number; fingerprint: string | undefined };
  detached: boolean;
  startedAt: string;
  /** In start order. */
  services: ServiceRecord[];
  /** Set once every service is healthy. */
  env?: Record<string, string>;
}

/**
 * Reads `<dir>/stack.json`; undefined when there is none (or it is unreadable: a torn write of a
 * crashed owner is treated as no stack).
 */
export function readState(dir: string): StackState | undefined {
  try {
    const state = JSON.parse(readFileSync(path.join(dir, STATE_FILE_NAME), 'utf8')) as StackState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces `<dir>/stack.json` atomically (write, then rename), mode 0600. */
export function writeState(dir: string, state: StackState): void {
  const file = path.join(dir, STATE_FILE_NAME);
  // It holds the stack's env (RDD_API_TOKEN, the local S3 secret): owner-only, like env and logs.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
}

/** Removes the state and env files; idempotent. */
export function clearState(dir: string): void {
  rmSync(path.join(dir, STATE_FILE_NAME), { force: true });
  rmSync(path.join(dir, ENV_FILE_NAME), { force: true });
}

/** Pids of a recorded stack that are still running: its owner (while starting or in foreground) and services. */
export function livePids(state: StackState): number[] {
  const pids = state.services.filter((s) => isSameProcess(s.pid, s.fingerprint)).map((s) => s.pid);
  // A detached stack's owner exits once the stack is up; while starting, it counts.
  const ownerCounts = !state.detached || state.env === undefined;
  if (ownerCounts && isSameProcess(state.owner.pid, state.owner.fingerprint)) pids.unshift(state.owner.pid);
  return pids;
}

/**
 * Claims `dir` for a new stack by creating `stack.json` exclusively, so two concurrent
 * `stack up` cannot both win. A stale claim (nothing of it alive) is cleared first.
 * @returns the new state, or the running stack's state when the directory is taken.
 */
export function claimDir(dir: string, detached: boolean): { claimed: StackState } | { running: StackState } {
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const state: StackState = {
      version: 1,
      owner: { pid: process.pid, fingerprint: processFingerprint(process.pid) },
      detached,
      startedAt: new Date().toISOString(),
      services: [],
    };
    // Written in full under a private name, then hard-linked: the claim appears complete or not at all.
    const file = path.join(dir, STATE_FILE_NAME);
    const draft = `${file}.${process.pid}`;
    writeFileSync(draft, `${JSON.stringify(state, null, 2)}\n`);
    try {
      linkSync(draft, file);
      return { claimed: state };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(draft, { force: true });
    }
    const existing = readState(dir);
    if (existing && livePids(existing).length > 0) return { running: existing };
    clearState(dir);
  }
  throw new Error(`could not claim ${dir}: ${STATE_FILE_NAME} keeps reappearing`);
}

/**
 * Stopping a chaos run on SIGINT/SIGTERM: the parts a scenario started register their clean-up here
 * (`onInterrupt`), and `stopEverything` runs every registered clean-up, then stops any child process
 * left (a part interrupted while it was starting), SIGKILLing what does not exit after a short grace.
 * Development tool: not shipped.
 */
import { readdirSync, readFileSync } from 'node:fs';

import { terminateGroup } from '../stack/process.ts';

const cleanups = new Set<() => Promise<unknown>>();

/** Longest wait for the registered clean-ups before the leftovers are killed (ms). */
const CLEANUP_TIMEOUT_MS = 30_000;
/** Grace between SIGTERM and SIGKILL for a leftover child process group (ms). */
const LEFTOVER_GRACE_MS = 2_000;

/**
 * Registers a clean-up to run on an interrupt; returns the function that unregisters it (call it
 * once the part is closed normally). The clean-up must be idempotent and should not throw.
 * @example const done = onInterrupt(close); try { … } finally { done(); await close(); }
 */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/**
 * The pids of this process's descendants, from /proc (Linux; empty elsewhere). Never throws.
 * @example descendants(process.pid) // [4711, 4712]
 */
export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, ppid] of parentOf)
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
  }
  return found;
}

/**
 * Runs every registered clean-up (at most 30 s), then sends SIGTERM to the process group of every
 * child process still running and SIGKILL after 2 s (a worker draining against a Temporal that is
 * gone does not exit on SIGTERM). Resolves with the number of process groups that needed SIGKILL.
 * Never throws.
 */
export async function stopEverything(): Promise<number> {
  const running = [...cleanups];
  cleanups.clear();
  await Promise.race([
    Promise.allSettled(running.map((cleanup) => cleanup())),
    new Promise((resolve) => setTimeout(resolve, CLEANUP_TIMEOUT_MS).unref()),
  ]);
  const left = descendants(process.pid);
  const killed = await Promise.all(
    left.map((pid) => terminateGroup(pid, LEFTOVER_GRACE_MS).catch(() => false)),
  );
  return killed.filter(Boolean).length;
}

/**
 * The orphan guard of a foreground stack, run as its own process by `startStack`: it reads
 * `+<pid>` lines (a service's process group) from stdin, and when stdin closes without a `done`
 * line first — the stack's owner died, even by SIGKILL — it stops those groups (SIGTERM, then
 * SIGKILL after a grace period). A clean `stop()` sends `done` and nothing is killed.
 * Not a module to import: `node reaper.ts` only.
 */
import { createInterface } from 'node:readline';
import { terminateGroup } from './process.ts';

const GRACE_MS = 5_000;
const groups: number[] = [];
let done = false;

// The owner's terminal may signal its whole session; this process must outlive the owner.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'done') done = true;
  else if (/^\+\d+$/.test(line)) groups.push(Number(line.slice(1)));
});
lines.on('close', () => {
  if (done) return;
  // Stop in reverse start order (the worker before what it talks to), all within one grace period.
  void Promise.all(groups.reverse().map((pid) => terminateGroup(pid, GRACE_MS))).finally(() =>
    process.exit(0),
  );
});

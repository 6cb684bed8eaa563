/**
 * The local stack's service logs are owner-only (0600): versitygw prints its event webhook URL,
 * whose `?token=` is the API token, to `.stack/logs/s3.log`. A real child process writes a secret
 * to its log, as versitygw does.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnService } from '../../dev/stack/process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('spawnService logs', () => {
  it('are readable by their owner only, also a log left world-readable by an older stack', async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'rdd-stack-logs-'));
    dirs.push(logDir);
    // An s3.log from before the fix: 0644.
    writeFileSync(path.join(logDir, 'old.log'), 'earlier run\n');
    chmodSync(path.join(logDir, 'old.log'), 0o644);
    for (const name of ['s3', 'old']) {
      const service = await spawnService({
        name,
        command: process.execPath,
        args: ['-e', 'console.log("webhook http://127.0.0.1:8080/v1/s3-events?token=s3cr3t")'],
        logDir,
        detach: false,
      });
      await service.exited;
      expect(statSync(service.logFile).mode & 0o777, name).toBe(0o600);
      expect(readFileSync(service.logFile, 'utf8')).toContain('token=s3cr3t');
    }
  });
});

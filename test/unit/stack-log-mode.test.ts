/**
 * The local stack's service logs and state file are owner-only (0600), and `rdd stack up` never
 * prints the API token. The logs: versitygw prints its event webhook URL,
 * whose `?token=` is the API token, to `.stack/logs/s3.log`. A real child process writes a secret
 * to its log, as versitygw does.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envLines } from '../../dev/stack/command.ts';
import { spawnService } from '../../dev/stack/process.ts';
import { STATE_FILE_NAME, writeState, type StackState } from '../../dev/stack/state.ts';

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

describe('the stack state file', () => {
  it('is owner-only (it holds the API token and the local S3 secret), also over an older 0644 one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdd-stack-state-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, STATE_FILE_NAME), '{}\n');
    chmodSync(path.join(dir, STATE_FILE_NAME), 0o644);
    writeState(dir, { version: 1 } as StackState);
    expect(statSync(path.join(dir, STATE_FILE_NAME)).mode & 0o777).toBe(0o600);
  });
});

describe('rdd stack up output', () => {
  it('names the API token on stderr and never prints it', () => {
    const { stdout, stderr } = envLines({ S3_BUCKET: 'rdd-media', RDD_API_TOKEN: 's3cr3t-token' }, '.stack');
    expect(stdout).toEqual(['S3_BUCKET=rdd-media']);
    expect(stderr).toEqual(['RDD_API_TOKEN is set: see .stack/env (not printed)']);
    expect([...stdout, ...stderr].join('\n')).not.toContain('s3cr3t-token');
  });
});

/**
 * docker-compose.yml agrees with the rest of the project (review 911, items 2, 10, 11): the task
 * queue default is the CLI's, S3_RESULT_BUCKET reaches the worker and the API and its bucket is
 * created, and the Temporal server version is the one `npm run test:cluster` builds and tests.
 * The bucket one-shot's shell command runs here with a recording `aws` on PATH (no Docker engine).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/task-queues.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Service {
  image?: string;
  environment?: Record<string, string>;
  command?: string[];
}
const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** Compose's interpolation of `${NAME:-default}` / `${NAME:-}` / `$$` with `vars` as the environment. */
function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value
    .replace(
      /(?<!\$)\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g,
      (_: string, name: string, fallback: string | undefined) => vars[name] || fallback || '',
    )
    .replace(/\$\$/g, '$');
}

describe('docker-compose.yml defaults', () => {
  it('polls the task queue the CLI and the API start detections on', () => {
    for (const name of ['worker', 'api']) {
      expect(interpolate(service(name).environment!.TASK_QUEUE!), name).toBe(DEFAULT_TASK_QUEUE);
    }
  });

  it('runs the Temporal server version that npm run test:cluster builds', () => {
    const tested = /^TEMPORAL_SERVER_VERSION=(\S+)$/m.exec(
      readFileSync(path.join(ROOT, 'scripts/cluster-tools.sh'), 'utf8'),
    )?.[1];
    expect(tested).toBeDefined();
    for (const name of ['temporal', 'temporal-schema', 'temporal-setup']) {
      expect(interpolate(service(name).image!).split(':')[1], name).toBe(tested);
    }
  });

  it('passes S3_RESULT_BUCKET to the worker and the API (blank when unset)', () => {
    for (const name of ['worker', 'api']) {
      const env = service(name).environment!;
      expect(interpolate(env.S3_RESULT_BUCKET!, { S3_RESULT_BUCKET: 'rdd-results' }), name).toBe(
        'rdd-results',
      );
      expect(interpolate(env.S3_RESULT_BUCKET!), name).toBe('');
    }
  });

  it('passes the platform, encryption, log and versioning settings through from .env (blank when unset)', () => {
    const passed = [
      'DETECTOR_CAPACITY',
      'DETECTOR_HEADERS',
      'DETECTOR_CA_FILE',
      'RDD_ENCRYPTION_KEYS',
      'RDD_ENCRYPTION_KEYS_FILE',
      'RDD_LOG_LEVEL',
      'WORKER_DEPLOYMENT_NAME',
      'WORKER_BUILD_ID',
    ];
    for (const name of ['worker', 'api']) {
      const env = service(name).environment!;
      for (const variable of passed) {
        expect(interpolate(env[variable] ?? '', { [variable]: 'set' }), `${name} ${variable}`).toBe('set');
        expect(interpolate(env[variable]!), `${name} ${variable}`).toBe('');
      }
    }
  });

  it('runs the Temporal UI version the README, the screenshots and the browser test were made with', () => {
    expect(interpolate(service('temporal-ui').image!)).toBe('temporalio/ui:2.54.1');
  });

  /** Runs the s3-bucket one-shot's command with `vars`; returns the `aws` calls it made. */
  function bucketOneShot(vars: Record<string, string>): string[] {
    const dir = mkdtempSync(path.join(tmpdir(), 'rdd-compose-aws-'));
    const log = path.join(dir, 'calls');
    // head-bucket fails (no bucket yet), create-bucket succeeds.
    writeFileSync(
      path.join(dir, 'aws'),
      `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in *head-bucket*) exit 1;; esac\nexit 0\n`,
    );
    chmodSync(path.join(dir, 'aws'), 0o755);
    const one = service('s3-bucket');
    const env: Record<string, string> = { PATH: `${dir}:/usr/bin:/bin` };
    for (const [key, value] of Object.entries(one.environment ?? {}))
      env[key] = interpolate(String(value), vars);
    execFileSync('/bin/sh', ['-c', interpolate(one.command!.join(' '), vars)], { env });
    return readFileSync(log, 'utf8').trim().split('\n');
  }

  it('creates the media bucket, and the result bucket only when S3_RESULT_BUCKET is set', () => {
    const created = (calls: string[]) =>
      calls.filter((c) => c.includes('create-bucket')).map((c) => /--bucket (\S+)/.exec(c)?.[1]);
    expect(created(bucketOneShot({}))).toEqual(['rdd-media']);
    expect(created(bucketOneShot({ S3_RESULT_BUCKET: 'rdd-results' }))).toEqual(['rdd-media', 'rdd-results']);
  });
});

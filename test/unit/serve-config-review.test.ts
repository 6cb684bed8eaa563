/**
 * `rdd serve`'s configuration as a fresh user meets it: an explicit token variable wins over the
 * stack's (`.stack/env`), "both set" only when both are really set and never on top of a token
 * file's own problem, and S3_EVENT_RULES problems are configuration errors (exit 2) naming it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEventRules } from '../../src/api/s3-events.ts';
import { loadApiConfig } from '../../src/config/api.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { reportError } from '../../src/starters/exit-codes.ts';
import { withStackEnv } from '../../src/starters/stack-env.ts';
import { runRdd } from '../helpers/run-rdd.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-serve-review-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stack dir whose env sets a token, as `RDD_API_TOKEN=… rdd stack up` writes it. */
function stackWithToken(): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'env'), 'S3_BUCKET=rdd-media\nRDD_API_TOKEN=stack-token\n');
  return dir;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the API token and .stack/env', () => {
  it('an explicit RDD_API_TOKEN_FILE wins over the stack token (no "both set")', () => {
    const file = path.join(tempDir(), 'token');
    writeFileSync(file, 'file-token\n');
    const env = withStackEnv({ RDD_API_TOKEN_FILE: file }, stackWithToken());
    expect(env.RDD_API_TOKEN).toBeUndefined();
    expect(env.S3_BUCKET).toBe('rdd-media');
    expect(loadApiConfig(env).api.token).toBe('file-token');
  });

  it('an explicitly empty RDD_API_TOKEN turns auth off despite the stack token', () => {
    const env = withStackEnv({ RDD_API_TOKEN: '' }, stackWithToken());
    expect(loadApiConfig(env).api.token).toBeUndefined();
    // Without either variable the stack's token still applies.
    expect(loadApiConfig(withStackEnv({}, stackWithToken())).api.token).toBe('stack-token');
  });

  it('"both set" only when both are set, never on top of an unreadable token file', () => {
    const missing = path.join(tempDir(), 'no-such-token');
    const unreadable = problemsOf(() =>
      loadApiConfig({ S3_BUCKET: 'rdd-media', RDD_API_TOKEN: 'tok', RDD_API_TOKEN_FILE: missing }),
    );
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]).toMatch(/^RDD_API_TOKEN_FILE .*ENOENT/);
    const file = path.join(tempDir(), 'token');
    writeFileSync(file, 'file-token\n');
    expect(
      problemsOf(() =>
        loadApiConfig({ S3_BUCKET: 'rdd-media', RDD_API_TOKEN: 'tok', RDD_API_TOKEN_FILE: file }),
      ),
    ).toEqual(['RDD_API_TOKEN_FILE and RDD_API_TOKEN are both set; set one']);
  });
});

describe('S3_EVENT_RULES', () => {
  it('is a configuration error (exit 2) naming the variable, for a path, bad JSON or bad rules', () => {
    for (const [value, message] of [
      ['not json', /^S3_EVENT_RULES: cannot read not json \(ENOENT/],
      ['[{"match":', /^S3_EVENT_RULES: the value is not JSON/],
      [
        '[{"match":"calls/{a}/{a}.wav","reference":"r/{b}.wav"}]',
        /^S3_EVENT_RULES: invalid S3 event rules: /,
      ],
    ] as const) {
      let thrown: unknown;
      try {
        loadEventRules(value);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, value).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).problems).toEqual([expect.stringMatching(message)]);
      expect(reportError(thrown, 'rdd serve', () => undefined)).toBe(2);
    }
  });

  it('[] and no value are no rules', () => {
    expect(loadEventRules('[]')).toEqual([]);
    expect(loadEventRules(undefined)).toEqual([]);
    expect(loadEventRules('  ')).toEqual([]);
  });

  it('`rdd serve` exits 2 on bad rules before it dials Temporal (which does not answer here)', async () => {
    const { code, stderr } = await runRdd(
      ['serve'],
      {
        PATH: process.env.PATH ?? '',
        HOME: tempDir(),
        TEMPORAL_ADDRESS: '127.0.0.1:1', // nothing listens: reaching it would be exit 5
        S3_BUCKET: 'rdd-media',
        AWS_REGION: 'us-east-1',
        S3_EVENT_RULES: '[{"match":',
      },
      tempDir(), // no .stack/env here
    );
    expect(stderr).toContain('S3_EVENT_RULES: the value is not JSON');
    expect(code).toBe(2);
  }, 60_000);
});

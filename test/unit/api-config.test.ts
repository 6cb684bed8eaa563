/** `loadApiConfig`: RDD_API_* with defaults, the token from the environment or a file, every problem at once. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_DEFAULTS, loadApiConfig } from '../../src/config/api.ts';
import { ConfigError } from '../../src/config/config-error.ts';

const base = { S3_BUCKET: 'media' };

function problems(env: Record<string, string>): string[] {
  try {
    loadApiConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadApiConfig', () => {
  it('defaults to 127.0.0.1:8080, 64 KiB bodies and no token', () => {
    const config = loadApiConfig(base);
    expect(config.api).toEqual({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 65_536 });
    expect(API_DEFAULTS.bodyLimitBytes).toBe(65_536);
    expect(config.storage.resultBucket).toBe('media');
  });

  it('reads the token from RDD_API_TOKEN or the first line of RDD_API_TOKEN_FILE', async () => {
    expect(loadApiConfig({ ...base, RDD_API_TOKEN: 'abc.DEF-123' }).api.token).toBe('abc.DEF-123');
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-token-')), 'token');
    await writeFile(file, 'from-file_42\n');
    expect(loadApiConfig({ ...base, RDD_API_TOKEN_FILE: file }).api.token).toBe('from-file_42');
  });

  it('reports every problem at once, never echoing a token', () => {
    const found = problems({
      RDD_API_PORT: '70000',
      RDD_API_TOKEN: 'has space secret',
      RDD_API_TOKEN_FILE: '/nonexistent/token',
      RDD_API_BODY_LIMIT_BYTES: '0',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^S3_RESULT_BUCKET \(or S3_BUCKET\) is required/),
        expect.stringMatching(/^RDD_API_PORT must be a TCP port/),
        expect.stringMatching(/^RDD_API_TOKEN must be a bearer token/),
        expect.stringMatching(/^RDD_API_TOKEN_FILE cannot be read \(ENOENT\)/),
        expect.stringMatching(/^RDD_API_BODY_LIMIT_BYTES must be a positive integer/),
      ]),
    );
    expect(found.join('\n')).not.toContain('secret');
  });

  it('refuses RDD_API_TOKEN and RDD_API_TOKEN_FILE together', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-token-')), 'token');
    await writeFile(file, 'x\n');
    expect(problems({ ...base, RDD_API_TOKEN: 'a', RDD_API_TOKEN_FILE: file })).toEqual([
      'RDD_API_TOKEN_FILE and RDD_API_TOKEN are both set; set one',
    ]);
  });
});

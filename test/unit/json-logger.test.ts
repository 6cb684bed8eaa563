/**
 * The worker's JSON logger and its redaction step: credentials from the environment, bearer
 * tokens, presigned URLs and credential-named metadata never reach a line, whatever path they
 * take into it (message, metadata, an error's message or cause).
 */
import { LogTimestamp } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { JsonLogger } from '../../src/telemetry/json-logger.ts';
import { createRedactor, REDACTED, secretsFromEnv } from '../../src/telemetry/redact.ts';

const BEARER = 'bearer-marker-0123456789';
const S3_SECRET = 's3-secret-marker-abcdefghij';
const API_TOKEN = 'api-token-marker-klmnopqrst';
const ENV = {
  DETECTOR_HEADERS: JSON.stringify({ Authorization: `Bearer ${BEARER}`, 'X-Api-Token': API_TOKEN }),
  AWS_SECRET_ACCESS_KEY: S3_SECRET,
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  TEMPORAL_ADDRESS: 'localhost:7233',
};

function capture(level: 'DEBUG' | 'INFO' = 'INFO') {
  const lines: string[] = [];
  const logger = new JsonLogger({
    level,
    redact: createRedactor(secretsFromEnv(ENV)),
    write: (line) => lines.push(line),
  });
  return { logger, lines, text: () => lines.join('') };
}

describe('secretsFromEnv', () => {
  it('takes every DETECTOR_HEADERS value, the bearer credential alone, and secret-named variables', () => {
    const secrets = secretsFromEnv(ENV);
    expect(secrets).toEqual(expect.arrayContaining([`Bearer ${BEARER}`, BEARER, API_TOKEN, S3_SECRET]));
    expect(secrets).not.toContain('AKIAEXAMPLE');
    expect(secrets).not.toContain('localhost:7233');
  });

  it('takes RDD_ENCRYPTION_KEYS whole, entry by entry and key by key, and any *_KEY / *_KEYS', () => {
    const newKey = Buffer.alloc(32, 7).toString('base64');
    const oldKey = Buffer.alloc(32, 9).toString('base64');
    const secrets = secretsFromEnv({
      RDD_ENCRYPTION_KEYS: `new:${newKey},old:${oldKey}`,
      SIGNING_KEY: 'signing-marker-123456',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    });
    expect(secrets).toEqual(
      expect.arrayContaining([`new:${newKey},old:${oldKey}`, newKey, oldKey, 'signing-marker-123456']),
    );
    expect(secrets).not.toContain('AKIAEXAMPLE');
    // One key printed alone, in a log line, is caught too.
    const redact = createRedactor(secrets);
    expect(redact(`decrypting with ${oldKey}`)).toBe(`decrypting with ${REDACTED}`);
  });

  it('reads the files that secret *_FILE / *_PATH variables name, and keeps their paths', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    const files: Record<string, string> = {
      '/run/secrets/keys': `k1:${key}\n`,
      '/run/secrets/token': 'codec-token-marker-0987\n',
      '/run/secrets/client.key':
        '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n',
    };
    const read: string[] = [];
    const secrets = secretsFromEnv(
      {
        RDD_ENCRYPTION_KEYS_FILE: '/run/secrets/keys',
        RDD_CODEC_SERVER_TOKEN_FILE: '/run/secrets/token',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/run/secrets/client.key',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/run/secrets/client.pem',
        RDD_API_TOKEN_FILE: '/nonexistent',
      },
      (path) => {
        read.push(path);
        return files[path];
      },
    );
    expect(secrets).toEqual(
      expect.arrayContaining([key, `k1:${key}`, 'codec-token-marker-0987', 'MIIEvQIBADANBgkqhkiG9w0B']),
    );
    // The certificate is public; paths are not secrets; PEM armour is ordinary text.
    expect(read.sort()).toEqual([
      '/nonexistent',
      '/run/secrets/client.key',
      '/run/secrets/keys',
      '/run/secrets/token',
    ]);
    expect(secrets.some((s) => s.startsWith('/'))).toBe(false);
    expect(secrets).not.toContain('-----BEGIN PRIVATE KEY-----');
    expect(secrets).not.toContain('-----END PRIVATE KEY-----');
  });

  it('reads a real secret file by default and skips one it cannot read', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'redact-'));
    const file = join(dir, 'keys');
    const key = Buffer.alloc(32, 5).toString('base64');
    await writeFile(file, `only:${key}\n`);
    const secrets = secretsFromEnv({
      RDD_ENCRYPTION_KEYS_FILE: file,
      RDD_API_TOKEN_FILE: join(dir, 'missing'),
    });
    expect(secrets).toContain(key);
    expect(createRedactor(secrets)(`key ${key}`)).toBe(`key ${REDACTED}`);
  });
});

describe('JsonLogger', () => {
  it('writes one JSON object per line with time, level, message and the metadata', () => {
    const { logger, lines } = capture();
    logger.info('detection job submitted', {
      workflowId: 'wf-1',
      workflowRunId: 'run-1',
      activityType: 'submitDetectionJob',
      jobId: 'job-7',
      [LogTimestamp]: 1_700_000_000_000_000_000n,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2023-11-14T22:13:20.000Z',
      level: 'info',
      message: 'detection job submitted',
      workflowId: 'wf-1',
      runId: 'run-1',
      activityType: 'submitDetectionJob',
      platformJobId: 'job-7',
    });
  });

  it('drops lines below its level', () => {
    const { logger, lines } = capture('INFO');
    logger.debug('noise');
    logger.warn('kept');
    expect(lines.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual(['kept']);
  });

  it('never writes a credential, wherever it appears', () => {
    const { logger, text } = capture('DEBUG');
    logger.info(`request with Authorization: Bearer ${BEARER}`);
    logger.warn('headers', { headers: { Authorization: `Bearer ${BEARER}` }, taskToken: 'dGFzay10b2tlbg==' });
    logger.error('upload failed', {
      error: new Error(`S3 said: signature mismatch for secret ${S3_SECRET}`, {
        cause: new Error(`token ${API_TOKEN} refused`),
      }),
    });
    logger.info('presigned', {
      url: 'https://bucket.s3.example/key.wav?X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=deadbeefcafe',
    });
    logger.info('json-escaped', { body: JSON.stringify({ token: API_TOKEN }) });
    logger.info('basic', { note: 'Basic dXNlcjpwYXNzd29yZA==' });
    logger.info('userinfo', { url: 'https://user:hunter2@proxy.example/spe' });
    const out = text();
    for (const secret of [
      BEARER,
      S3_SECRET,
      API_TOKEN,
      'deadbeefcafe',
      'dXNlcjpwYXNzd29yZA==',
      'hunter2',
      'dGFzay10b2tlbg==',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(REDACTED);
    // What is not secret stays readable.
    expect(out).toContain('https://bucket.s3.example/key.wav?');
    expect(out).toContain('signature mismatch for secret');
    expect(
      out
        .split('\n')
        .filter(Boolean)
        .every((line) => typeof JSON.parse(line) === 'object'),
    ).toBe(true);
  });
});

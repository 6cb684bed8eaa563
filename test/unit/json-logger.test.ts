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

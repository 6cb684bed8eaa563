import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/task-queues.ts';

/** The ConfigError `loadConfig` throws for `env`, or a failed expectation when it does not throw. */
function problemsOf(env: Record<string, string>, needs: Parameters<typeof loadConfig>[1] = []): string[] {
  try {
    loadConfig(env, needs);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).name).toBe('ConfigError');
    return (err as ConfigError).problems;
  }
  expect.fail('loadConfig did not throw');
}

describe('loadConfig', () => {
  it('applies defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      taskQueue: DEFAULT_TASK_QUEUE,
      storage: {
        endpoint: undefined,
        region: 'us-east-1',
        forcePathStyle: false,
        mediaBucket: undefined,
        resultBucket: undefined,
      },
      detector: undefined,
      worker: { maxConcurrentActivities: 50, shutdownGraceMs: 600_000 },
    });
  });

  it('fills every detector default once DETECTOR_URL is set', () => {
    const { detector } = loadConfig({ DETECTOR_URL: 'https://spe.example.com/' }, ['detector']);
    expect(detector).toEqual({
      url: 'https://spe.example.com',
      headers: {},
      caFile: undefined,
      referenceChannelParam: 'reference_channel',
      questionedChannelParam: 'questioned_channel',
      maxUploadBytes: 500_000_000,
      maxAudioSeconds: 7200,
      connections: 16,
      headersTimeoutMs: 60_000,
      bodyTimeoutMs: 60_000,
    });
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      TASK_QUEUE: 'tq',
      S3_ENDPOINT: 'http://127.0.0.1:7070',
      AWS_REGION: 'eu-central-1',
      S3_BUCKET: 'media',
      S3_RESULT_BUCKET: 'results',
      DETECTOR_URL: 'http://spe:8000',
      DETECTOR_CA_FILE: '/etc/ca.pem',
      DETECTOR_REFERENCE_CHANNEL_PARAM: 'ref_ch',
      DETECTOR_QUESTIONED_CHANNEL_PARAM: 'q_ch',
      DETECTOR_MAX_UPLOAD_BYTES: '1000',
      DETECTOR_MAX_AUDIO_SECONDS: '60',
      DETECTOR_CONNECTIONS: '4',
      DETECTOR_HEADERS_TIMEOUT_MS: '1500',
      DETECTOR_BODY_TIMEOUT_MS: '2500',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '7',
      WORKER_SHUTDOWN_GRACE_MS: '1000',
    });
    expect(config.taskQueue).toBe('tq');
    expect(config.storage).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      region: 'eu-central-1',
      forcePathStyle: true,
      mediaBucket: 'media',
      resultBucket: 'results',
    });
    expect(config.detector).toMatchObject({
      url: 'http://spe:8000',
      caFile: '/etc/ca.pem',
      referenceChannelParam: 'ref_ch',
      questionedChannelParam: 'q_ch',
      maxUploadBytes: 1000,
      maxAudioSeconds: 60,
      connections: 4,
      headersTimeoutMs: 1500,
      bodyTimeoutMs: 2500,
    });
    expect(config.worker).toEqual({ maxConcurrentActivities: 7, shutdownGraceMs: 1000 });
  });

  it('reports every problem at once, each naming its variable', () => {
    const problems = problemsOf(
      {
        S3_ENDPOINT: 'ftp://files.example.com',
        S3_FORCE_PATH_STYLE: 'maybe',
        WORKER_MAX_CONCURRENT_ACTIVITIES: '0',
        WORKER_SHUTDOWN_GRACE_MS: '1.5',
      },
      ['detector', 'mediaBucket', 'resultBucket'],
    );
    expect(problems).toEqual([
      'S3_ENDPOINT must be an http(s) URL, got "ftp://files.example.com"',
      'S3_FORCE_PATH_STYLE must be true or false, got "maybe"',
      'S3_BUCKET is required',
      'S3_RESULT_BUCKET (or S3_BUCKET) is required',
      'DETECTOR_URL is required',
      'WORKER_MAX_CONCURRENT_ACTIVITIES must be a positive integer, got "0"',
      'WORKER_SHUTDOWN_GRACE_MS must be a positive integer, got "1.5"',
    ]);
  });

  it('puts every problem in the error message, one per line', () => {
    expect(() =>
      loadConfig({ DETECTOR_URL: 'spe.example.com', DETECTOR_CONNECTIONS: 'many' }, ['mediaBucket']),
    ).toThrow(
      'Invalid configuration:\n  - S3_BUCKET is required\n  - DETECTOR_URL must be an http(s) URL, got "spe.example.com"',
    );
  });

  it('validates detector numbers together with the URL', () => {
    const problems = problemsOf({
      DETECTOR_URL: 'http://spe',
      DETECTOR_CONNECTIONS: '-3',
      DETECTOR_MAX_UPLOAD_BYTES: 'lots',
      DETECTOR_BODY_TIMEOUT_MS: '9007199254740993',
    });
    expect(problems).toEqual([
      'DETECTOR_MAX_UPLOAD_BYTES must be a positive integer, got "lots"',
      'DETECTOR_CONNECTIONS must be a positive integer, got "-3"',
      'DETECTOR_BODY_TIMEOUT_MS must be a positive integer, got "9007199254740993"',
    ]);
  });

  it.each([
    ['http://spe:8000', 'http://spe:8000'],
    ['https://spe.example.com/api//', 'https://spe.example.com/api'],
    ['  https://spe.example.com  ', 'https://spe.example.com'],
  ])('accepts the URL %j as %j', (value, expected) => {
    expect(loadConfig({ DETECTOR_URL: value }).detector?.url).toBe(expected);
  });

  it.each(['spe.example.com', 'ftp://spe', 'file:///etc/passwd', 'http//spe', 'localhost:8000'])(
    'rejects the URL %j',
    (value) => {
      expect(problemsOf({ DETECTOR_URL: value })).toEqual([
        `DETECTOR_URL must be an http(s) URL, got "${value}"`,
      ]);
    },
  );

  it('parses DETECTOR_HEADERS as a JSON object of strings', () => {
    const { detector } = loadConfig({
      DETECTOR_URL: 'http://spe',
      DETECTOR_HEADERS: '{"Authorization":"Bearer abc","X-Tenant":"t1"}',
    });
    expect(detector?.headers).toEqual({ Authorization: 'Bearer abc', 'X-Tenant': 't1' });
  });

  it.each(['{"Authorization": 42}', '["Bearer abc"]', 'null', '"Bearer abc"', '{Authorization: x}'])(
    'rejects DETECTOR_HEADERS %j',
    (value) => {
      expect(problemsOf({ DETECTOR_URL: 'http://spe', DETECTOR_HEADERS: value })).toEqual([
        'DETECTOR_HEADERS must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}',
      ]);
    },
  );

  it('treats blank variables as unset', () => {
    const config = loadConfig({ S3_BUCKET: '  ', TASK_QUEUE: '', DETECTOR_URL: ' ' });
    expect(config.storage.mediaBucket).toBeUndefined();
    expect(config.taskQueue).toBe(DEFAULT_TASK_QUEUE);
    expect(config.detector).toBeUndefined();
  });

  it('derives the result bucket, path style and region', () => {
    const config = loadConfig({
      S3_BUCKET: 'media',
      S3_ENDPOINT: 'http://s3:7070',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(config.storage.resultBucket).toBe('media');
    expect(config.storage.forcePathStyle).toBe(true);
    expect(config.storage.region).toBe('eu-west-1');
    expect(
      loadConfig({ S3_ENDPOINT: 'http://s3:7070', S3_FORCE_PATH_STYLE: 'no' }).storage.forcePathStyle,
    ).toBe(false);
    expect(loadConfig({ S3_FORCE_PATH_STYLE: 'YES' }).storage.forcePathStyle).toBe(true);
    expect(loadConfig({ AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-west-1' }).storage.region).toBe(
      'ap-south-1',
    );
  });

  it('is satisfied by a result bucket alone when only results are needed', () => {
    expect(loadConfig({ S3_RESULT_BUCKET: 'results' }, ['resultBucket']).storage.resultBucket).toBe(
      'results',
    );
    expect(problemsOf({ S3_RESULT_BUCKET: 'results' }, ['mediaBucket'])).toEqual(['S3_BUCKET is required']);
  });

  it('takes static S3 credentials from the env it is given, not only process.env', () => {
    const storage = loadConfig({ AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret' }).storage;
    expect(storage.credentials).toEqual({ accessKeyId: 'key', secretAccessKey: 'secret' });
    expect(
      loadConfig({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' }).storage
        .credentials,
    ).toEqual({
      accessKeyId: 'k',
      secretAccessKey: 's',
      sessionToken: 't',
    });
    // Without both keys the SDK's default chain (profiles, roles) decides.
    expect(loadConfig({ AWS_ACCESS_KEY_ID: 'key' }).storage.credentials).toBeUndefined();
  });
});

import { loadApiConfig } from '../../src/config/api.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config.ts';
import { DETECTOR_DEFAULTS } from '../../src/activities/detector/defaults.ts';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/task-queues.ts';

/** A scratch folder with a real self-signed CA (cert.pem) and a few broken PEM files. */
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rdd-config-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
      '-subj',
      '/CN=rdd test CA',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'not-pem.txt'), 'just some text\n');
  writeFileSync(
    join(dir, 'bad-pem.pem'),
    '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems of the ConfigError `load` throws, or a failed expectation when it does not throw. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).name).toBe('ConfigError');
    return (err as ConfigError).problems;
  }
  expect.fail('the loader did not throw');
}

/** What a worker needs at least. */
const WORKER_ENV = { DETECTOR_URL: 'http://spe', S3_BUCKET: 'media' };

describe('loadClientConfig', () => {
  it('applies defaults to an empty environment', () => {
    expect(loadClientConfig({})).toEqual({
      taskQueue: DEFAULT_TASK_QUEUE,
      storage: {
        endpoint: undefined,
        region: 'us-east-1',
        forcePathStyle: false,
        mediaBucket: undefined,
        resultBucket: undefined,
      },
    });
  });

  it('does not need, read or check DETECTOR_* or WORKER_* (the worker does)', () => {
    const config = loadClientConfig(
      { S3_BUCKET: 'media', DETECTOR_HEADERS: 'not json', WORKER_SHUTDOWN_GRACE_MS: 'soon' },
      ['mediaBucket', 'resultBucket'],
    );
    expect(config).toEqual({
      taskQueue: DEFAULT_TASK_QUEUE,
      storage: expect.objectContaining({ mediaBucket: 'media', resultBucket: 'media' }),
    });
    expect(config).not.toHaveProperty('detector');
  });

  it('reads every variable it knows', () => {
    const config = loadClientConfig({
      TASK_QUEUE: 'tq',
      S3_ENDPOINT: 'http://127.0.0.1:7070/',
      AWS_REGION: 'eu-central-1',
      S3_BUCKET: 'media',
      S3_RESULT_BUCKET: 'results',
    });
    expect(config).toEqual({
      taskQueue: 'tq',
      storage: {
        endpoint: 'http://127.0.0.1:7070',
        region: 'eu-central-1',
        forcePathStyle: true,
        mediaBucket: 'media',
        resultBucket: 'results',
      },
    });
  });

  it('reports every problem at once, each naming its variable', () => {
    expect(
      problemsOf(() =>
        loadClientConfig({ S3_ENDPOINT: 'ftp://files.example.com', S3_FORCE_PATH_STYLE: 'maybe' }, [
          'mediaBucket',
          'resultBucket',
        ]),
      ),
    ).toEqual([
      'S3_ENDPOINT must be an http(s) URL, got "ftp://files.example.com"',
      'S3_FORCE_PATH_STYLE must be true or false, got "maybe"',
      'S3_BUCKET is required',
      'S3_RESULT_BUCKET (or S3_BUCKET) is required',
    ]);
  });

  it('treats blank variables as unset', () => {
    const config = loadClientConfig({ S3_BUCKET: '  ', TASK_QUEUE: '' });
    expect(config.storage.mediaBucket).toBeUndefined();
    expect(config.taskQueue).toBe(DEFAULT_TASK_QUEUE);
    expect(problemsOf(() => loadClientConfig({ S3_BUCKET: ' ' }, ['mediaBucket']))).toEqual([
      'S3_BUCKET is required',
    ]);
  });

  it('derives the result bucket, path style and region', () => {
    const config = loadClientConfig({
      S3_BUCKET: 'media',
      S3_ENDPOINT: 'http://s3:7070',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(config.storage.resultBucket).toBe('media');
    expect(config.storage.forcePathStyle).toBe(true);
    expect(config.storage.region).toBe('eu-west-1');
    expect(
      loadClientConfig({ S3_ENDPOINT: 'http://s3:7070', S3_FORCE_PATH_STYLE: 'no' }).storage.forcePathStyle,
    ).toBe(false);
    expect(loadClientConfig({ S3_FORCE_PATH_STYLE: 'YES' }).storage.forcePathStyle).toBe(true);
    expect(
      loadClientConfig({ AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-west-1' }).storage.region,
    ).toBe('ap-south-1');
  });

  it('is satisfied by a result bucket alone when only results are needed', () => {
    expect(loadClientConfig({ S3_RESULT_BUCKET: 'results' }, ['resultBucket']).storage.resultBucket).toBe(
      'results',
    );
    expect(problemsOf(() => loadClientConfig({ S3_RESULT_BUCKET: 'results' }, ['mediaBucket']))).toEqual([
      'S3_BUCKET is required',
    ]);
  });

  it('takes static S3 credentials from the env it is given, not only process.env', () => {
    const storage = loadClientConfig({ AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret' }).storage;
    expect(storage.credentials).toEqual({ accessKeyId: 'key', secretAccessKey: 'secret' });
    expect(
      loadClientConfig({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' }).storage
        .credentials,
    ).toEqual({ accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' });
    // Without both keys the SDK's default chain (profiles, roles) decides.
    expect(loadClientConfig({ AWS_ACCESS_KEY_ID: 'key' }).storage.credentials).toBeUndefined();
  });
});

describe('loadWorkerConfig', () => {
  it('demands DETECTOR_URL and a result bucket, which the client side does not', () => {
    expect(problemsOf(() => loadWorkerConfig({}))).toEqual([
      'S3_RESULT_BUCKET (or S3_BUCKET) is required',
      'DETECTOR_URL is required',
    ]);
    expect(problemsOf(() => loadWorkerConfig({ DETECTOR_URL: '  ', S3_RESULT_BUCKET: 'results' }))).toEqual([
      'DETECTOR_URL is required',
    ]);
    expect(() => loadClientConfig({})).not.toThrow();
  });

  it('lists bad encryption keys with every other problem, not after them', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({ S3_BUCKET: 'media', RDD_ENCRYPTION_KEYS: 'k1:not-a-key' }),
    );
    expect(problems).toContain('DETECTOR_URL is required');
    expect(problems.some((p) => p.startsWith('RDD_ENCRYPTION_KEYS'))).toBe(true);
    expect(problems.join('\n')).not.toContain('not-a-key');
    expect(
      problemsOf(() => loadApiConfig({ S3_BUCKET: 'media', RDD_ENCRYPTION_KEYS: 'k1:not-a-key' })).some((p) =>
        p.startsWith('RDD_ENCRYPTION_KEYS'),
      ),
    ).toBe(true);
  });

  it('fills every detector and worker default, the same the HTTP client uses', () => {
    const config = loadWorkerConfig({ DETECTOR_URL: 'https://spe.example.com/', S3_BUCKET: 'media' });
    expect(config.detector).toEqual({
      url: 'https://spe.example.com',
      headers: {},
      caFile: undefined,
      allowedOrigins: [],
      locationResolution: 'rfc3986',
      referenceChannelParam: 'reference_channel',
      questionedChannelParam: 'questioned_channel',
      maxUploadBytes: 500_000_000,
      maxAudioSeconds: 7200,
      connections: 16,
      headersTimeoutMs: 60_000,
      bodyTimeoutMs: 60_000,
      capacity: 8,
      queueMs: 1500,
    });
    expect(config.detector).toMatchObject({
      referenceChannelParam: DETECTOR_DEFAULTS.channelParams.reference,
      connections: DETECTOR_DEFAULTS.connections,
      headersTimeoutMs: DETECTOR_DEFAULTS.headersTimeoutMs,
    });
    expect(config.worker).toEqual({
      maxConcurrentActivities: 200,
      shutdownGraceMs: 600_000,
      connectTimeoutMs: 300_000,
      telemetry: { metricsBind: undefined, healthBind: undefined, logLevel: 'INFO' },
    });
    expect(config.storage.resultBucket).toBe('media');
  });

  it('reads every variable it knows', () => {
    const config = loadWorkerConfig({
      TASK_QUEUE: 'tq',
      S3_ENDPOINT: 'http://127.0.0.1:7070',
      AWS_REGION: 'eu-central-1',
      S3_BUCKET: 'media',
      S3_RESULT_BUCKET: 'results',
      DETECTOR_URL: 'http://spe:8000',
      DETECTOR_CA_FILE: join(dir, 'cert.pem'),
      DETECTOR_ALLOWED_ORIGINS: 'https://node1.example.com:8443, http://10.0.0.7:8000/',
      DETECTOR_LOCATION_RESOLUTION: 'base-path',
      DETECTOR_REFERENCE_CHANNEL_PARAM: 'ref_ch',
      DETECTOR_QUESTIONED_CHANNEL_PARAM: 'q_ch',
      DETECTOR_MAX_UPLOAD_BYTES: '1000',
      DETECTOR_MAX_AUDIO_SECONDS: '60',
      DETECTOR_CONNECTIONS: '4',
      DETECTOR_HEADERS_TIMEOUT_MS: '1500',
      DETECTOR_BODY_TIMEOUT_MS: '2500',
      DETECTOR_CAPACITY: '6',
      DETECTOR_QUEUE_MS: '0',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '7',
      WORKER_SHUTDOWN_GRACE_MS: '1000',
      WORKER_CONNECT_TIMEOUT_MS: '3000',
      RDD_METRICS_BIND: '0.0.0.0:9464',
      RDD_HEALTH_BIND: '[::1]:9465',
      RDD_LOG_LEVEL: 'Debug',
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
      caFile: join(dir, 'cert.pem'),
      ca: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
      allowedOrigins: ['https://node1.example.com:8443', 'http://10.0.0.7:8000'],
      locationResolution: 'base-path',
      referenceChannelParam: 'ref_ch',
      questionedChannelParam: 'q_ch',
      maxUploadBytes: 1000,
      maxAudioSeconds: 60,
      connections: 4,
      headersTimeoutMs: 1500,
      bodyTimeoutMs: 2500,
      capacity: 6,
      queueMs: 0,
    });
    expect(config.worker).toEqual({
      maxConcurrentActivities: 7,
      shutdownGraceMs: 1000,
      connectTimeoutMs: 3000,
      telemetry: {
        metricsBind: { host: '0.0.0.0', port: 9464 },
        healthBind: { host: '::1', port: 9465 },
        logLevel: 'DEBUG',
      },
    });
  });

  it('reports every problem at once across S3, DETECTOR and WORKER variables, each naming its variable', () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          S3_ENDPOINT: 'ftp://files.example.com',
          S3_FORCE_PATH_STYLE: 'maybe',
          DETECTOR_URL: 'spe.example.com',
          DETECTOR_CONNECTIONS: 'many',
          DETECTOR_QUEUE_MS: '-1',
          DETECTOR_LOCATION_RESOLUTION: 'Relative',
          WORKER_MAX_CONCURRENT_ACTIVITIES: '0',
          WORKER_SHUTDOWN_GRACE_MS: '1.5',
        }),
      ),
    ).toEqual([
      'S3_ENDPOINT must be an http(s) URL, got "ftp://files.example.com"',
      'S3_FORCE_PATH_STYLE must be true or false, got "maybe"',
      'S3_RESULT_BUCKET (or S3_BUCKET) is required',
      'DETECTOR_URL must be an http(s) URL, got "spe.example.com"',
      'DETECTOR_LOCATION_RESOLUTION must be one of rfc3986, base-path, got "Relative"',
      'DETECTOR_CONNECTIONS must be a positive integer, got "many"',
      'DETECTOR_QUEUE_MS must be a non-negative integer, got "-1"',
      'WORKER_MAX_CONCURRENT_ACTIVITIES must be a positive integer, got "0"',
      'WORKER_SHUTDOWN_GRACE_MS must be a positive integer, got "1.5"',
    ]);
  });

  it('puts every problem in the error message, one per line', () => {
    expect(() => loadWorkerConfig({ DETECTOR_URL: 'spe.example.com', DETECTOR_CONNECTIONS: 'many' })).toThrow(
      'Invalid configuration:\n  - S3_RESULT_BUCKET (or S3_BUCKET) is required' +
        '\n  - DETECTOR_URL must be an http(s) URL, got "spe.example.com"' +
        '\n  - DETECTOR_CONNECTIONS must be a positive integer, got "many"',
    );
  });

  it('validates detector numbers together with the URL', () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          ...WORKER_ENV,
          DETECTOR_CONNECTIONS: '-3',
          DETECTOR_MAX_UPLOAD_BYTES: 'lots',
          DETECTOR_BODY_TIMEOUT_MS: '9007199254740993',
        }),
      ),
    ).toEqual([
      'DETECTOR_MAX_UPLOAD_BYTES must be a positive integer, got "lots"',
      'DETECTOR_CONNECTIONS must be a positive integer, got "-3"',
      'DETECTOR_BODY_TIMEOUT_MS must be a positive integer, got "9007199254740993"',
    ]);
  });

  it.each([
    ['http://spe:8000', 'http://spe:8000'],
    ['https://spe.example.com/api//', 'https://spe.example.com/api'],
    ['  https://spe.example.com  ', 'https://spe.example.com'],
    ['https://proxy.example.com/spe/', 'https://proxy.example.com/spe'],
  ])('accepts the URL %j as %j', (value, expected) => {
    expect(loadWorkerConfig({ ...WORKER_ENV, DETECTOR_URL: value }).detector.url).toBe(expected);
  });

  it.each(['spe.example.com', 'ftp://spe', 'file:///etc/passwd', 'http//spe', 'localhost:8000'])(
    'rejects the URL %j',
    (value) => {
      expect(problemsOf(() => loadWorkerConfig({ ...WORKER_ENV, DETECTOR_URL: value }))).toEqual([
        `DETECTOR_URL must be an http(s) URL, got "${value}"`,
      ]);
    },
  );

  it('resolves Location against a path-prefixed proxy with DETECTOR_LOCATION_RESOLUTION=base-path', () => {
    const { detector } = loadWorkerConfig({
      ...WORKER_ENV,
      DETECTOR_URL: 'https://proxy.example.com/spe',
      DETECTOR_LOCATION_RESOLUTION: 'BASE-PATH',
    });
    expect(detector).toMatchObject({ url: 'https://proxy.example.com/spe', locationResolution: 'base-path' });
  });

  it('parses DETECTOR_HEADERS as a JSON object of strings', () => {
    const { detector } = loadWorkerConfig({
      ...WORKER_ENV,
      DETECTOR_HEADERS: '{"Authorization":"Bearer abc","X-Tenant":"t1"}',
    });
    expect(detector.headers).toEqual({ Authorization: 'Bearer abc', 'X-Tenant': 't1' });
  });

  it.each([
    [
      '{Authorization: Bearer hunter2}',
      'DETECTOR_HEADERS is not valid JSON: Expected property name or \'}\' in JSON at position 1; it must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}',
    ],
    [
      '{"Authorization": Bearer hunter2}',
      'DETECTOR_HEADERS is not valid JSON: Unexpected token (strings need double quotes); it must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}',
    ],
    [
      '{"Authorization":"Bearer hunter2"',
      'DETECTOR_HEADERS is not valid JSON: Expected \',\' or \'}\' after property value in JSON at position 33; it must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}',
    ],
    [
      '["Bearer hunter2"]',
      'DETECTOR_HEADERS must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}, got an array',
    ],
    [
      'null',
      'DETECTOR_HEADERS must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}, got null',
    ],
    [
      '"Bearer hunter2"',
      'DETECTOR_HEADERS must be a JSON object of strings, e.g. {"Authorization":"Bearer …"}, got a string',
    ],
    ['{"Authorization": 42}', 'DETECTOR_HEADERS: header "Authorization" must be a string, got a number'],
  ])(
    'rejects DETECTOR_HEADERS %s with its own message, never the value (review 5, item 8)',
    (value, problem) => {
      const problems = problemsOf(() => loadWorkerConfig({ ...WORKER_ENV, DETECTOR_HEADERS: value }));
      expect(problems).toEqual([problem]);
      expect(problems.join('\n')).not.toMatch(/hunter2|42/);
    },
  );

  it('names every header whose value is not a string, and no value', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({
        ...WORKER_ENV,
        DETECTOR_HEADERS: '{"X-A": 5, "X-B": null, "X-C": ["s3cret"], "X-D": "ok"}',
      }),
    );
    expect(problems).toEqual([
      'DETECTOR_HEADERS: header "X-A" must be a string, got a number',
      'DETECTOR_HEADERS: header "X-B" must be a string, got null',
      'DETECTOR_HEADERS: header "X-C" must be a string, got an array',
    ]);
  });

  it.each([
    [
      'DETECTOR_URL',
      'ftp://user:hunter2@spe.example.com',
      'DETECTOR_URL must be an http(s) URL, got "ftp://***@spe.example.com"',
    ],
    [
      'DETECTOR_URL',
      'user:hunter2@spe.example.com',
      'DETECTOR_URL must be an http(s) URL, got "***@spe.example.com"',
    ],
    [
      'S3_ENDPOINT',
      'ftp://key:hunter2@s3.example.com/',
      'S3_ENDPOINT must be an http(s) URL, got "ftp://***@s3.example.com/"',
    ],
  ])('never echoes the password in %s=%s, whatever the scheme (review 5, item 4)', (name, value, problem) => {
    const problems = problemsOf(() => loadWorkerConfig({ ...WORKER_ENV, [name]: value }));
    expect(problems).toEqual([problem]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('checks the bucket names it writes results with (review 5, item 2)', () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          DETECTOR_URL: 'http://spe',
          S3_BUCKET: 'Media_2024',
          S3_RESULT_BUCKET: 'results..x',
        }),
      ),
    ).toEqual([
      'S3_BUCKET "Media_2024" is not a valid S3 bucket name: uppercase letters, "_" is not allowed',
      'S3_RESULT_BUCKET "results..x" is not a valid S3 bucket name: adjacent dots ".."',
    ]);
    expect(problemsOf(() => loadWorkerConfig({ DETECTOR_URL: 'http://spe', S3_BUCKET: 'ab' }))).toEqual([
      'S3_BUCKET "ab" is not a valid S3 bucket name: must be 3 to 63 characters, has 2',
    ]);
  });

  it('lists WORKER_SHUTDOWN_GRACE_MS=-1 along with every bad DETECTOR_* value (review 5, item 7)', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({
        ...WORKER_ENV,
        DETECTOR_URL: 'ftp://user:hunter2@spe',
        DETECTOR_HEADERS: '{"X-A": 1}',
        DETECTOR_ALLOWED_ORIGINS: 'node1',
        DETECTOR_REFERENCE_CHANNEL_PARAM: 'ch',
        DETECTOR_QUESTIONED_CHANNEL_PARAM: 'ch',
        DETECTOR_MAX_UPLOAD_BYTES: '-5',
        DETECTOR_CA_FILE: join(dir, 'not-pem.txt'),
        WORKER_SHUTDOWN_GRACE_MS: '-1',
      }),
    );
    expect(problems.map((problem) => problem.split(/[ :]/)[0])).toEqual([
      'DETECTOR_URL',
      'DETECTOR_CA_FILE',
      'DETECTOR_HEADERS',
      'DETECTOR_ALLOWED_ORIGINS',
      'DETECTOR_MAX_UPLOAD_BYTES',
      'DETECTOR_REFERENCE_CHANNEL_PARAM',
      'WORKER_SHUTDOWN_GRACE_MS',
    ]);
    expect(problems.at(-1)).toBe('WORKER_SHUTDOWN_GRACE_MS must be a positive integer, got "-1"');
  });

  it('reports the CR/LF header value by variable and header name, never the secret (issue 5, item 6)', () => {
    let error: unknown;
    try {
      loadWorkerConfig({ ...WORKER_ENV, DETECTOR_HEADERS: '{"Authorization":"Bearer x\\nY"}' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'DETECTOR_HEADERS: header "Authorization" has a value that is not a valid HTTP field value (CR, LF, NUL or another control character); the value is not shown',
    ]);
    expect((error as Error).message).not.toContain('Bearer x');
  });

  it.each([
    ['DETECTOR_HEADERS', '{"bad name":"v"}', 'DETECTOR_HEADERS: header "bad name" has an invalid name'],
    [
      'DETECTOR_HEADERS',
      '{"Content-Type":"text/plain"}',
      'DETECTOR_HEADERS: header "Content-Type" is set by the client',
    ],
    ['DETECTOR_HEADERS', '{"X-A":"1","x-a":"2"}', 'DETECTOR_HEADERS: header "x-a" is given twice'],
    [
      'DETECTOR_HEADERS',
      '{"X-Token":"abc\\u0000def"}',
      'DETECTOR_HEADERS: header "X-Token" has a value that is not',
    ],
    ['DETECTOR_URL', 'https://spe.example.com/?tenant=1', 'DETECTOR_URL must not have a query or fragment'],
    ['DETECTOR_URL', 'https://spe.example.com/#x', 'DETECTOR_URL must not have a query or fragment'],
    [
      'DETECTOR_URL',
      'https://admin:hunter2@spe.example.com',
      'DETECTOR_URL must not contain a user name or password',
    ],
    [
      'DETECTOR_ALLOWED_ORIGINS',
      'https://node1:8443,https://lb.example.com/spe',
      'DETECTOR_ALLOWED_ORIGINS: "https://lb.example.com/spe" must be an origin only',
    ],
    ['DETECTOR_ALLOWED_ORIGINS', 'node1:8443', 'DETECTOR_ALLOWED_ORIGINS: "node1:8443" is not http(s)'],
    ['DETECTOR_ALLOWED_ORIGINS', 'not a url', 'DETECTOR_ALLOWED_ORIGINS: "not a url" is not a URL'],
    [
      'DETECTOR_ALLOWED_ORIGINS',
      'https://u:hunter2@node1',
      'DETECTOR_ALLOWED_ORIGINS: an entry must not contain a user name or password',
    ],
    [
      'DETECTOR_LOCATION_RESOLUTION',
      'relative',
      'DETECTOR_LOCATION_RESOLUTION must be one of rfc3986, base-path, got "relative"',
    ],
    [
      'DETECTOR_REFERENCE_CHANNEL_PARAM',
      'ref channel',
      'DETECTOR_REFERENCE_CHANNEL_PARAM must be a query parameter name',
    ],
    [
      'DETECTOR_QUESTIONED_CHANNEL_PARAM',
      'q&x=1',
      'DETECTOR_QUESTIONED_CHANNEL_PARAM must be a query parameter name',
    ],
    [
      'DETECTOR_QUESTIONED_CHANNEL_PARAM',
      'reference_channel',
      'DETECTOR_REFERENCE_CHANNEL_PARAM and DETECTOR_QUESTIONED_CHANNEL_PARAM must differ',
    ],
    [
      'DETECTOR_CA_FILE',
      '/nonexistent/ca.pem',
      'DETECTOR_CA_FILE cannot be read (ENOENT): /nonexistent/ca.pem',
    ],
    ['DETECTOR_CA_FILE', '<dir>', 'DETECTOR_CA_FILE cannot be read (EISDIR)'],
    ['DETECTOR_CA_FILE', '<dir>/not-pem.txt', 'DETECTOR_CA_FILE holds no PEM certificate'],
    ['DETECTOR_CA_FILE', '<dir>/bad-pem.pem', 'DETECTOR_CA_FILE: certificate 1 in'],
    [
      'DETECTOR_HEADERS_TIMEOUT_MS',
      '9999999999',
      'DETECTOR_HEADERS_TIMEOUT_MS must be at most 2147483647, got "9999999999"',
    ],
    ['DETECTOR_BODY_TIMEOUT_MS', '1e3', 'DETECTOR_BODY_TIMEOUT_MS must be a positive integer, got "1e3"'],
    ['DETECTOR_CONNECTIONS', '0x10', 'DETECTOR_CONNECTIONS must be a positive integer, got "0x10"'],
    ['DETECTOR_CONNECTIONS', '100000', 'DETECTOR_CONNECTIONS must be at most 10000'],
    ['WORKER_SHUTDOWN_GRACE_MS', '3000000000', 'WORKER_SHUTDOWN_GRACE_MS must be at most 2147483647'],
    ['S3_FORCE_PATH_STYLE', 'sometimes', 'S3_FORCE_PATH_STYLE must be true or false, got "sometimes"'],
    ['S3_ENDPOINT', 'http://key:secret@s3:7070', 'S3_ENDPOINT must not contain a user name or password'],
  ])('reports %s=%j by name', (name, raw, expected) => {
    const value = raw.replace('<dir>', dir);
    const problems = problemsOf(() => loadWorkerConfig({ ...WORKER_ENV, [name]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
    expect(problems[0]).not.toMatch(/hunter2|secret|abc/);
  });

  it('checks every DETECTOR_* variable even when DETECTOR_URL itself is wrong', () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          S3_BUCKET: 'media',
          DETECTOR_URL: 'spe:8000',
          DETECTOR_HEADERS: '{"Authorization":"Bearer x\\r\\nY"}',
          DETECTOR_CA_FILE: '/nonexistent/ca.pem',
          DETECTOR_LOCATION_RESOLUTION: 'weird',
        }),
      ).map((problem) => problem.split(' ')[0]),
    ).toEqual(['DETECTOR_URL', 'DETECTOR_CA_FILE', 'DETECTOR_HEADERS:', 'DETECTOR_LOCATION_RESOLUTION']);
  });

  it('builds a client from every accepted configuration: nothing is left to fail later', async () => {
    const { detectorClientFromConfig } = await import('../../src/worker.ts');
    const { detector } = loadWorkerConfig({
      ...WORKER_ENV,
      DETECTOR_URL: 'https://spe.example.com/spe/',
      DETECTOR_HEADERS: '{"Authorization":"Bearer abc","X-Tenant":"t1"}',
      DETECTOR_CA_FILE: join(dir, 'cert.pem'),
      DETECTOR_ALLOWED_ORIGINS: 'https://node1.example.com:8443',
      DETECTOR_LOCATION_RESOLUTION: 'base-path',
    });
    const client = detectorClientFromConfig(detector);
    expect(client.baseUrl).toBe('https://spe.example.com/spe');
    await client.close();
  });
});

describe('rdd worker with an invalid configuration', () => {
  const RDD = fileURLToPath(new URL('../../bin/rdd', import.meta.url));

  it('exits 2 naming the variable and the header, without the secret or a stack trace', () => {
    const result = spawnSync(RDD, ['worker'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        DETECTOR_URL: 'http://127.0.0.1:1',
        DETECTOR_HEADERS: '{"Authorization":"Bearer x\\nY"}',
        S3_BUCKET: 'media',
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('DETECTOR_HEADERS');
    expect(result.stderr).toContain('"Authorization"');
    expect(result.stderr).not.toContain('Bearer x');
    expect(result.stderr).not.toMatch(/TypeError|^\s+at /m);
    expect(result.stdout).not.toContain('Bearer x');
  });
});

/**
 * toStorageFailure on real answers of the shared versitygw: permanent 4xx fail at once, naming the
 * role, bucket and key and what S3 said; throttling, 5xx and network errors stay retryable.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { toStorageFailure } from '../../src/activities/storage-failures.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const s3 = s3Client();
const bucket = testServices().s3.bucket;
const prefix = `storage-failures-${Date.now().toString(36)}`;

afterAll(() => s3.destroy());

/** What `toStorageFailure` makes of the error an S3 call rejects with. */
async function classify(call: Promise<unknown>, what: string): Promise<unknown> {
  const err = await call.then(
    () => expect.fail('the S3 call succeeded'),
    (e: unknown) => e,
  );
  return toStorageFailure(err, what);
}

function asFailure(value: unknown): ApplicationFailure {
  expect(value).toBeInstanceOf(ApplicationFailure);
  return value as ApplicationFailure;
}

describe('toStorageFailure: permanent answers fail on the first attempt', () => {
  const invalid = 'Call_Recordings..2024';
  const what = `questioned s3://${invalid}/incoming/call-0001.wav`;

  it('HEAD on an invalid bucket name (400, no body) is StorageRequestRejected, naming role, bucket and key', async () => {
    const failure = asFailure(
      await classify(
        s3.send(new HeadObjectCommand({ Bucket: invalid, Key: 'incoming/call-0001.wav' })),
        what,
      ),
    );
    expect(failure.type).toBe(FailureType.StorageRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(what);
    expect(failure.message).toContain('HTTP 400 with no error body');
    expect(failure.message).not.toContain('UnknownError');
    expect(failure.details).toEqual([{ status: 400, code: expect.any(String) }]);
  });

  it('GET on an invalid bucket name says what S3 said: InvalidBucketName', async () => {
    const failure = asFailure(
      await classify(s3.send(new GetObjectCommand({ Bucket: invalid, Key: 'incoming/call-0001.wav' })), what),
    );
    expect(failure.type).toBe(FailureType.StorageRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(what);
    expect(failure.message).toContain('HTTP 400 InvalidBucketName: The specified bucket is not valid.');
  });

  it('a PUT with a 300-byte key segment (KeyTooLongError) is permanent', async () => {
    const key = `${'k'.repeat(300)}.json`;
    const failure = asFailure(
      await classify(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{}', IfNoneMatch: '*' })),
        `result s3://${bucket}/${key}`,
      ),
    );
    expect(failure.type).toBe(FailureType.StorageRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`result s3://${bucket}/${key}`);
    expect(failure.message).toContain('HTTP 400 KeyTooLongError');
  });

  it('a nested key with a 300-byte segment (versitygw: 409 ExistingObjectIsDirectory) is permanent too', async () => {
    const key = `${prefix}/${'k'.repeat(300)}.json`;
    const failure = asFailure(
      await classify(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{}' })),
        `result s3://${bucket}/${key}`,
      ),
    );
    expect(failure.type).toBe(FailureType.StorageRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/HTTP 4\d\d \w+/);
  });

  it('keeps the dedicated types: missing object → MediaNotFound, missing bucket on PUT → MediaNotFound', async () => {
    const missing = asFailure(
      await classify(
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/missing.wav` })),
        `reference s3://${bucket}/${prefix}/missing.wav`,
      ),
    );
    expect(missing.type).toBe(FailureType.MediaNotFound);
    expect(missing.nonRetryable).toBe(true);
    const noBucket = asFailure(
      await classify(
        s3.send(new PutObjectCommand({ Bucket: 'rdd-no-such-bucket', Key: 'results/x.json', Body: '{}' })),
        'result s3://rdd-no-such-bucket/results/x.json',
      ),
    );
    expect(noBucket.type).toBe(FailureType.MediaNotFound);
    expect(noBucket.message).toContain('result s3://rdd-no-such-bucket/results/x.json');
  });

  it('says the BUCKET is missing, not the result, when a PUT meets NoSuchBucket (review 5, item 2)', async () => {
    const noBucket = asFailure(
      await classify(
        s3.send(new PutObjectCommand({ Bucket: 'rdd-no-such-bucket', Key: 'results/x.json', Body: '{}' })),
        'result s3://rdd-no-such-bucket/results/x.json',
      ),
    );
    expect(noBucket.message).toBe(
      'result s3://rdd-no-such-bucket/results/x.json: the bucket rdd-no-such-bucket does not exist ' +
        "(NoSuchBucket); create it, or set S3_RESULT_BUCKET (or the detection's result bucket)",
    );
    expect(noBucket.message).not.toMatch(/x\.json does not exist/);
  });

  it('a GET of a missing key says which key is missing in which bucket', async () => {
    const key = `${prefix}/missing.wav`;
    const missing = asFailure(
      await classify(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
        `reference s3://${bucket}/${key}`,
      ),
    );
    expect(missing.message).toBe(
      `reference s3://${bucket}/${key} does not exist: no object ${key} in bucket ${bucket} (NoSuchKey)`,
    );
  });
});

describe('toStorageFailure: answers a retry can change stay retryable', () => {
  /** Built as the SDK builds them; versitygw cannot be made to throttle or fail on demand. */
  const serviceError = (status: number, name: string, message: string) =>
    new S3ServiceException({
      name,
      message,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
    });

  it.each([
    [503, 'SlowDown', 'Please reduce your request rate.'],
    [500, 'InternalError', 'We encountered an internal error.'],
    [429, 'TooManyRequests', 'Slow down.'],
    [408, 'RequestTimeout', 'Your socket connection was not read from in time.'],
    [400, 'RequestTimeout', 'Your socket connection was not read from in time.'],
    [409, 'OperationAborted', 'A conflicting conditional operation is in progress. Try again.'],
    [409, 'ConditionalRequestConflict', 'A conflicting operation is in progress.'],
  ])('HTTP %i %s → StorageUnavailable, retryable, naming the object', (status, name, message) => {
    const failure = asFailure(
      toStorageFailure(serviceError(status, name, message), 'reference s3://b/k.wav'),
    );
    expect(failure.type).toBe(FailureType.StorageUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('reference s3://b/k.wav');
    expect(failure.message).toContain(`HTTP ${status} ${name}: ${message}`);
  });

  it('a network error (nothing listening) is a retryable StorageUnavailable naming the object (review 5, item 3)', async () => {
    const { s3: services } = testServices();
    const unreachable = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: services.region,
      forcePathStyle: true,
      credentials: { accessKeyId: services.accessKeyId, secretAccessKey: services.secretAccessKey },
      maxAttempts: 1,
    });
    const err = await unreachable
      .send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' }))
      .catch((e: unknown) => e);
    unreachable.destroy();
    const failure = asFailure(toStorageFailure(err, 'reference s3://b/x'));
    expect([failure.type, failure.nonRetryable]).toEqual([FailureType.StorageUnavailable, false]);
    expect(failure.message).toBe(
      'S3 could not be reached for reference s3://b/x (will retry): ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(failure.cause).toBe(err);
  });

  it.each([
    ['a reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    ['a socket hang-up', new Error('socket hang up'), 'ECONNRESET'],
    [
      'a timeout',
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
      'TimeoutError',
    ],
    [
      'happy eyeballs',
      new AggregateError(
        [Object.assign(new Error('connect ECONNREFUSED ::1:9'), { code: 'ECONNREFUSED' })],
        'x',
      ),
      'ECONNREFUSED',
    ],
  ])('%s without an HTTP status is StorageUnavailable (%s)', (_, err, reason) => {
    const failure = asFailure(toStorageFailure(err, 'result s3://b/k.json'));
    expect([failure.type, failure.nonRetryable]).toEqual([FailureType.StorageUnavailable, false]);
    expect(failure.message).toContain(
      `S3 could not be reached for result s3://b/k.json (will retry): ${reason}`,
    );
  });

  it('leaves a cancellation and a plain bug alone', () => {
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    expect(toStorageFailure(abort, 'reference s3://b/x')).toBe(abort);
    const bug = new TypeError('x is undefined');
    expect(toStorageFailure(bug, 'reference s3://b/x')).toBe(bug);
  });
});

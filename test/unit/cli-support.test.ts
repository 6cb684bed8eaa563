/**
 * The CLI's pure pieces: telling a Temporal outage from a failed detection, printing a
 * ResultNotRecorded failure with its score, naming local files next to their uploaded keys, the
 * connect back-off, and mapping errors to exit codes. Errors are built the way the client SDK builds them.
 */
import { Metadata } from '@grpc/grpc-js';
import { ServiceError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { TransportError } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import type { DetectionFailure } from '../../src/client/detections.ts';
import { reportFailure, unrecordedResult, withLocalPaths } from '../../src/starters/cli-support.ts';
import {
  isTemporalUnreachable,
  retryConnect,
  TemporalUnreachableError,
} from '../../src/client/connection.ts';

/** A gRPC error as @grpc/grpc-js rejects a call with it. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

/** What `handle.result()` throws when the call fails after the SDK's own retries. */
function serviceError(code: number, details: string): ServiceError {
  return new ServiceError('Failed to get Workflow execution history', { cause: grpcError(code, details) });
}

const RESULT: DetectionResult = {
  workflowId: 'detect-1',
  reference: { bucket: 'media', key: 'media/aa.wav', etag: '"e1"', durationSeconds: 6.2 },
  questioned: { bucket: 'media', key: 'media/bb.wav', etag: '"e2"', durationSeconds: 6.4 },
  score: 0.505,
  verdict: 'deepfake',
  threshold: 0,
  jobId: 'job-1',
  platform: { url: 'http://spe', version: '4.0.0' },
  timestamps: { startedAt: 't0', submittedAt: 't1', completedAt: 't2' },
  checks: 3,
  submissions: 1,
  resultLocation: { bucket: 'no-such-bucket', key: 'results/detect-1.json' },
};

const NOT_RECORDED_MESSAGE =
  'the score 0.505 (deepfake) was computed but not recorded at s3://no-such-bucket/results/detect-1.json: ' +
  'result bucket no-such-bucket does not exist (NoSuchBucket)';

/** A ResultNotRecorded failure as `getDetection` / `waitForDetection` report it (the contract). */
function notRecorded(details: unknown[] = [RESULT]): DetectionFailure {
  return { type: FailureType.ResultNotRecorded, message: NOT_RECORDED_MESSAGE, details };
}

/** The WorkflowFailedError the SDK throws for that failure. */
function notRecordedError(): WorkflowFailedError {
  const failure = ApplicationFailure.create({
    type: FailureType.ResultNotRecorded,
    message: NOT_RECORDED_MESSAGE,
    nonRetryable: true,
    details: [RESULT],
  });
  return new WorkflowFailedError('Workflow execution failed', failure, RetryState.NON_RETRYABLE_FAILURE);
}

describe('isTemporalUnreachable', () => {
  it.each([
    ['UNAVAILABLE after the SDK retries', serviceError(14, 'No connection established')],
    ['DEADLINE_EXCEEDED', serviceError(4, 'Deadline exceeded')],
    ['INTERNAL from a reset stream', serviceError(13, 'Received RST_STREAM with code 2')],
    ['Connection.connect timing out', new Error('Failed to connect before the deadline')],
    ["the worker's TransportError", new TransportError('tcp connect error ... Connection refused')],
    [
      'a refused socket',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7233'), { code: 'ECONNREFUSED' }),
    ],
  ])('is true for %s', (_, err) => {
    expect(isTemporalUnreachable(err)).toBe(true);
  });

  it.each([
    ['a failed workflow', notRecordedError()],
    ['an unknown workflow', new WorkflowNotFoundError('not found', 'detect-1', undefined)],
    ['a refusal by the server (INVALID_ARGUMENT)', serviceError(3, 'WorkflowId length exceeds limit')],
    ['INTERNAL for another reason', serviceError(13, 'proto decode failed')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
  ])('is false for %s', (_, err) => {
    expect(isTemporalUnreachable(err)).toBe(false);
  });
});

describe('reportFailure', () => {
  it('prints the score, verdict and reason of a ResultNotRecorded failure', () => {
    const report = reportFailure(notRecorded(), { workflowId: 'detect-1', json: false });
    expect(report.stdout).toContain('score       0.5050');
    expect(report.stdout).toContain('verdict     deepfake (threshold 0)');
    expect(report.stdout).toContain(`recorded    NO: ${NOT_RECORDED_MESSAGE}`);
    expect(report.message).toBe(`detection detect-1 failed: ResultNotRecorded: ${NOT_RECORDED_MESSAGE}`);
  });

  it('with --json, prints the document with its failure', () => {
    const report = reportFailure(notRecorded(), { workflowId: 'detect-1', json: true });
    expect(JSON.parse(report.stdout!)).toEqual({
      ...RESULT,
      failure: { type: 'ResultNotRecorded', message: NOT_RECORDED_MESSAGE },
    });
  });

  it('prints only the reason for other failures, naming the local file next to its key', () => {
    const report = reportFailure(
      {
        type: FailureType.MediaNotAudio,
        message: 'questioned s3://media/media/bb.wav is not audio (no audio header)',
      },
      {
        workflowId: 'detect-2',
        json: true,
        uploads: [{ path: './calls/q.wav', ref: { bucket: 'media', key: 'media/bb.wav' } }],
      },
    );
    expect(report.stdout).toBeUndefined();
    expect(report.message).toBe(
      'detection detect-2 failed: MediaNotAudio: questioned s3://media/media/bb.wav ' +
        '(local file ./calls/q.wav) is not audio (no audio header)',
    );
  });

  it('does not take a malformed details[0] for a result', () => {
    expect(unrecordedResult(notRecorded([{ score: 1 }]))).toBeUndefined();
    expect(
      unrecordedResult({ type: FailureType.MediaNotAudio, message: 'x', details: [RESULT] }),
    ).toBeUndefined();
    expect(unrecordedResult(notRecorded())).toEqual(RESULT);
    expect(reportFailure(notRecorded([]), { workflowId: 'd', json: true }).stdout).toBeUndefined();
  });
});

describe('withLocalPaths', () => {
  it('names each local file after every mention of its key, and leaves other objects alone', () => {
    const text = withLocalPaths('s3://m/media/aa.wav and s3://m/media/aa.wav vs s3://other/x.wav', [
      { path: 'ref.wav', ref: { bucket: 'm', key: 'media/aa.wav' } },
    ]);
    expect(text).toBe(
      's3://m/media/aa.wav (local file ref.wav) and s3://m/media/aa.wav (local file ref.wav) vs s3://other/x.wav',
    );
  });
});

describe('retryConnect', () => {
  it('retries transport errors with doubling delays, then gives up with TemporalUnreachableError', async () => {
    const delays: number[] = [];
    const attempt = () => Promise.reject(new Error('Failed to connect before the deadline'));
    const err = await retryConnect(attempt, {
      address: '127.0.0.1:1',
      timeoutMs: 1_000,
      initialDelayMs: 50,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalUnreachableError);
    expect((err as Error).message).toMatch(/^cannot reach Temporal at 127\.0\.0\.1:1 after trying for 1 s/);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
  });

  it('returns once the connection succeeds', async () => {
    let calls = 0;
    const connect = () =>
      ++calls < 3 ? Promise.reject(serviceError(14, 'Connection refused')) : Promise.resolve('connected');
    await expect(retryConnect(connect, { address: 'a', timeoutMs: 5_000, initialDelayMs: 10 })).resolves.toBe(
      'connected',
    );
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const connect = () => {
      calls++;
      return Promise.reject(new Error('TLS: certificate verify failed'));
    };
    await expect(retryConnect(connect, { address: 'a', timeoutMs: 5_000 })).rejects.toThrow('TLS');
    expect(calls).toBe(1);
  });
});

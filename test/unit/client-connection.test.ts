/**
 * The client's connection pieces: telling a Temporal outage from any other error (so waits ride it
 * out instead of reporting a failed detection), the connect back-off, and the one data converter
 * every client and worker is built with. Errors are built the way the client SDK builds them.
 */
import { Metadata } from '@grpc/grpc-js';
import { ServiceError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { TransportError } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  clientOptions,
  dataConverter,
  isTemporalUnreachable,
  retryConnect,
  TemporalUnreachableError,
  workerOptions,
} from '../../src/client/connection.ts';

/** A gRPC error as @grpc/grpc-js rejects a call with it. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

/** What `handle.result()` throws when the call fails after the SDK's own retries. */
function serviceError(code: number, details: string): ServiceError {
  return new ServiceError('Failed to get Workflow execution history', { cause: grpcError(code, details) });
}

/** A failed workflow: an answer from the server, not an outage. */
function notRecordedError(): WorkflowFailedError {
  const failure = ApplicationFailure.create({
    type: 'ResultNotRecorded',
    message: 'not recorded',
    nonRetryable: true,
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

describe('clientOptions / workerOptions', () => {
  it('give every client and worker the one data converter, so a codec added there reaches both', () => {
    expect(clientOptions().dataConverter).toBe(dataConverter);
    expect(workerOptions().dataConverter).toBe(dataConverter);
  });
});

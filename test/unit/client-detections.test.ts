/**
 * The client's pure parts and its outage riding, without a server: the request-derived detection
 * id, and `waitForDetection` against a stand-in client whose calls fail the way the SDK's do while
 * Temporal is down. The real server is exercised in test/integration/client.test.ts.
 */
import { Metadata } from '@grpc/grpc-js';
import { ServiceError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { canonicalJson, detectionId, waitForDetection } from '../../src/client/detections.ts';
import { TemporalUnreachableError } from '../../src/client/temporal-unreachable-error.ts';
import type { DetectInput, DetectionResult } from '../../src/shared/detection.ts';
import { rejection } from '../helpers/rejection.ts';

const INPUT: DetectInput = {
  reference: { bucket: 'media', key: 'calls/ref.wav' },
  questioned: { bucket: 'media', key: 'calls/q.wav', channel: 1 },
  threshold: 0.5,
};

function unavailable(): ServiceError {
  const grpc = Object.assign(new Error('14 UNAVAILABLE: Connection refused'), {
    code: 14,
    details: 'Connection refused',
    metadata: new Metadata(),
  });
  return new ServiceError('Failed to get Workflow execution history', { cause: grpc });
}

/**
 * A stand-in for the parts of `Client` that `waitForDetection` uses. While `down()` says so, every
 * call fails as the SDK's do when the server is unreachable; otherwise `result` answers.
 */
function fakeClient(result: () => Promise<unknown>, down: () => boolean = () => false, calls: string[] = []) {
  const call = <T>(name: string, answer: () => Promise<T>): Promise<T> => {
    calls.push(name);
    return down() ? Promise.reject(unavailable()) : answer();
  };
  const fake = {
    connection: { options: { address: '127.0.0.1:7233' } },
    withAbortSignal: (_signal: AbortSignal, fn: () => Promise<unknown>) => fn(),
    workflow: {
      result: () => call('result', result),
      getHandle: () => ({
        describe: () => call('describe', () => Promise.resolve({ status: { name: 'RUNNING' } })),
      }),
    },
  };
  return fake as unknown as Client;
}

describe('detectionId', () => {
  it('is the same for the same request whatever the key order, and differs for another request', () => {
    const reordered: DetectInput = {
      threshold: 0.5,
      questioned: { channel: 1, key: 'calls/q.wav', bucket: 'media' },
      reference: { key: 'calls/ref.wav', bucket: 'media' },
    };
    expect(detectionId(INPUT)).toMatch(/^detect-[0-9a-f]{32}$/);
    expect(detectionId(reordered)).toBe(detectionId(INPUT));
    expect(detectionId({ ...INPUT, threshold: 0.6 })).not.toBe(detectionId(INPUT));
    expect(detectionId({ ...INPUT, questioned: { ...INPUT.questioned, channel: 0 } })).not.toBe(
      detectionId(INPUT),
    );
  });

  it('ignores undefined members, as the JSON the workflow receives does', () => {
    expect(detectionId({ ...INPUT, config: undefined })).toBe(detectionId(INPUT));
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: undefined })).toBe('{"b":[{"c":2,"d":1}]}');
  });
});

describe('waitForDetection', () => {
  it('rides out a Temporal outage with doubling delays and returns the result', async () => {
    let downFor = 3; // calls: result, describe, describe
    const calls: string[] = [];
    const client = fakeClient(
      () => Promise.resolve({ score: 1 }),
      () => downFor-- > 0,
      calls,
    );
    const waits: number[] = [];
    const view = await waitForDetection(client, 'detect-1', {
      initialDelayMs: 10,
      onOutage: (err, retryInMs) => {
        expect(err).toBeInstanceOf(ServiceError);
        waits.push(retryInMs);
      },
    });
    expect(view).toEqual({ workflowId: 'detect-1', state: 'completed', result: { score: 1 } });
    expect(waits).toEqual([10, 20, 40]);
    // During an outage a cheap describe checks the server is back before the long-poll resumes.
    expect(calls).toEqual(['result', 'describe', 'describe', 'describe', 'result']);
  });

  it('gives up with TemporalUnreachableError once the outage outlasts the budget', async () => {
    const client = fakeClient(
      () => Promise.resolve({}),
      () => true,
    );
    const err = await rejection(
      waitForDetection(client, 'detect-1', { outageBudgetMs: 100, initialDelayMs: 20, maxDelayMs: 20 }),
    );
    expect(err).toBeInstanceOf(TemporalUnreachableError);
    expect((err as Error).message).toMatch(/^cannot reach Temporal at 127\.0\.0\.1:7233 after trying for/);
  });

  it('returns a failed view with the type, message and details of the workflow failure', async () => {
    const document = { workflowId: 'detect-1', score: 0.5 } as Partial<DetectionResult>;
    const failure = ApplicationFailure.create({
      type: 'ResultNotRecorded',
      message: 'the score 0.5 was computed but not recorded',
      nonRetryable: true,
      details: [document],
    });
    const client = fakeClient(() =>
      Promise.reject(new WorkflowFailedError('failed', failure, RetryState.NON_RETRYABLE_FAILURE)),
    );
    expect(await waitForDetection(client, 'detect-1')).toEqual({
      workflowId: 'detect-1',
      state: 'failed',
      failure: {
        type: 'ResultNotRecorded',
        message: 'the score 0.5 was computed but not recorded',
        details: [document],
      },
    });
  });

  it('does not retry an error that is not an outage', async () => {
    const calls: string[] = [];
    const client = fakeClient(() => Promise.reject(new TypeError('a bug')), undefined, calls);
    expect(await rejection(waitForDetection(client, 'detect-1'))).toBeInstanceOf(TypeError);
    expect(calls).toEqual(['result']);
  });
});

describe('the package entry point', () => {
  it('exposes the client under the package name (package.json exports)', async () => {
    const entry = await import('rdd-orchestrator');
    expect(entry.startDetection).toBeTypeOf('function');
    expect(entry.getDetection).toBeTypeOf('function');
    expect(entry.waitForDetection).toBeTypeOf('function');
    expect(entry.DETECT_WORKFLOW_TYPE).toBe('detectWorkflow');
    expect(entry.statusQuery.name).toBe('status');
  });
});

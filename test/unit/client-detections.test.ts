/**
 * The client's pure parts and its outage riding, without a server: the request-derived detection
 * id, and `waitForDetection` against a stand-in client whose calls fail the way the SDK's do while
 * Temporal is down. The real server is exercised in test/integration/client.test.ts.
 */
import { Metadata } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { ServiceError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalRequest,
  detectionId,
  startDetection,
  waitForDetection,
} from '../../src/client/detections.ts';
import { InvalidDetectionInputError } from '../../src/client/invalid-detection-input-error.ts';
import { DEFAULT_POLLING, DEFAULT_RESUBMIT } from '../../src/shared/detection.ts';
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

describe('canonicalRequest', () => {
  const BARE: DetectInput = {
    reference: { bucket: 'media', key: 'calls/ref.wav' },
    questioned: { bucket: 'media', key: 'calls/q.wav' },
  };

  it('gives the id of the bare request when defaults are spelled out', () => {
    const spelled: DetectInput = {
      ...BARE,
      threshold: 0,
      config: {},
      params: {},
      cache: true,
      result: {},
      polling: { ...DEFAULT_POLLING },
      resubmit: { maxLostResubmits: DEFAULT_RESUBMIT.maxLostResubmits },
    };
    expect(canonicalRequest(spelled)).toEqual(BARE);
    expect(detectionId(spelled)).toBe(detectionId(BARE));
    expect(detectionId({ ...BARE, threshold: -0 })).toBe(detectionId(BARE));
  });

  it('keeps every value that changes what the detection does', () => {
    const changed: DetectInput[] = [
      { ...BARE, threshold: 0.5 },
      { ...BARE, config: { max_speech_length: 60 } },
      { ...BARE, params: { segment: '0-10' } },
      { ...BARE, cache: false },
      { ...BARE, result: { key: 'out/r.json' } },
      { ...BARE, polling: { ...DEFAULT_POLLING, deadline: 60 } },
      { ...BARE, resubmit: { maxFailedResubmits: 0 } },
      { ...BARE, reference: { ...BARE.reference, channel: 0 } },
    ];
    const ids = changed.map(detectionId);
    expect(new Set([...ids, detectionId(BARE)]).size).toBe(changed.length + 1);
    expect(canonicalRequest(changed[5]!).polling).toEqual({ deadline: 60 });
  });

  it('leaves a request without defaults as it is (its id is unchanged)', () => {
    expect(canonicalRequest(INPUT)).toEqual(INPUT);
    expect(detectionId(INPUT)).toBe(
      `detect-${createHash('sha256').update(canonicalJson(INPUT)).digest('hex').slice(0, 32)}`,
    );
  });
});

describe('startDetection', () => {
  /** A client whose every call is recorded and refused: none must be made. */
  function untouchable(calls: string[]): Client {
    const refuse = (name: string) => () => {
      calls.push(name);
      return Promise.reject(new Error(`called ${name}`));
    };
    return {
      connection: { options: { address: '127.0.0.1:7233' } },
      workflow: { start: refuse('start'), getHandle: () => ({ describe: refuse('describe') }) },
    } as unknown as Client;
  }

  it('throws InvalidDetectionInputError listing every problem before calling Temporal', async () => {
    const calls: string[] = [];
    const input = {
      reference: { bucket: 'Bad_Bucket', key: '/abs.wav' },
      questioned: { bucket: 'media', key: 'q.wav', channel: -1 },
      threshold: Number.NaN,
    };
    const err = await rejection(startDetection(untouchable(calls), input, { id: 'a/b' }));
    expect(err).toBeInstanceOf(InvalidDetectionInputError);
    const { problems } = err as InvalidDetectionInputError;
    expect(problems).toEqual([
      expect.stringMatching(/^reference\.bucket "Bad_Bucket" is not a valid S3 bucket name/),
      expect.stringMatching(/^reference\.key "\/abs\.wav" is not a usable S3 object key/),
      'questioned.channel must be a 0-based channel index, got -1',
      'threshold must be a finite number, got NaN',
      expect.stringMatching(/^id "a\/b" is not usable: "\/" is not allowed/),
    ]);
    expect(calls).toEqual([]);
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

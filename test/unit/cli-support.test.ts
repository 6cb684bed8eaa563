/**
 * The CLI's pure printing pieces: a ResultNotRecorded failure with its score, and local files named
 * next to their uploaded keys. (Telling an outage from a failure and the connect back-off are the
 * client's: test/unit/client-connection.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { DetectionResult } from '../../src/shared/detection.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import type { DetectionFailure } from '../../src/client/detections.ts';
import { reportFailure, unrecordedResult, withLocalPaths } from '../../src/starters/cli-support.ts';

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
      state: 'failed',
      failure: { type: 'ResultNotRecorded', message: NOT_RECORDED_MESSAGE },
    });
  });

  it('other failures: the reason naming the local file next to its key; --json a failure document', () => {
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
    expect(JSON.parse(report.stdout!)).toEqual({
      workflowId: 'detect-2',
      state: 'failed',
      failure: {
        type: 'MediaNotAudio',
        message: 'questioned s3://media/media/bb.wav is not audio (no audio header)',
      },
    });
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
    expect(reportFailure(notRecorded([]), { workflowId: 'd', json: false }).stdout).toBeUndefined();
    expect(JSON.parse(reportFailure(notRecorded([]), { workflowId: 'd', json: true }).stdout!)).toMatchObject(
      {
        workflowId: 'd',
        state: 'failed',
        failure: { type: 'ResultNotRecorded' },
      },
    );
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

/**
 * The activity set the worker registers: exactly the five names running workflows call (wire
 * contracts), each bound to the deps given to createActivities. No servers: the S3 client is never
 * called and the platform client is a stub.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities/index.ts';
import { DetectorHttpError, type DetectorClient } from '../../src/activities/detector/index.ts';
import type { JobCheck, PlatformInfo } from '../../src/shared/activity-types.ts';

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const env = new MockActivityEnvironment(undefined, { logger: quietLogger });

/** A platform client that answers from the given functions and throws for anything else. */
function stubDetector(overrides: Partial<DetectorClient>): DetectorClient {
  const unexpected = () => Promise.reject(new Error('unexpected call'));
  return {
    baseUrl: 'http://platform.test:8000',
    submit: unexpected,
    getJob: unexpected,
    systemInfo: unexpected,
    close: () => Promise.resolve(),
    ...overrides,
  };
}

function deps(detector: DetectorClient): ActivityDeps {
  return {
    // Never sent anything here: only the activities below that do not touch S3 are run.
    s3: new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
    detector,
    limits: { maxUploadBytes: 1, maxAudioSeconds: 1 },
  };
}

describe('createActivities', () => {
  it('returns exactly the registered activity names, each a function', () => {
    const activities = createActivities(deps(stubDetector({})));
    expect(Object.keys(activities).sort()).toEqual([
      'appendBatchRows',
      'awaitDetectionJob',
      'checkDetectionJob',
      'findClosedWorkflows',
      'findPreviousScheduleRun',
      'getPlatformInfo',
      'inspectMedia',
      'listSweepPage',
      'lookupScoreCache',
      'prepareDetection',
      'readManifestPage',
      'recordDetectionResult',
      'requestPlatformLease',
      'submitDetectionJob',
      'writeBatchReport',
    ]);
    for (const activity of Object.values(activities)) expect(activity).toBeTypeOf('function');
  });

  it('binds each activity to the deps it was given', async () => {
    const activities = createActivities(
      deps(stubDetector({ systemInfo: () => Promise.resolve({ version: '4.2.0' }) })),
    );
    const info = await env.run<[], PlatformInfo, typeof activities.getPlatformInfo>(
      activities.getPlatformInfo,
    );
    expect(info).toEqual({ url: 'http://platform.test:8000', version: '4.2.0' });
  });

  it('checkDetectionJob maps a 404 to a lost job and a done job to its score', async () => {
    const job = { jobId: 'j1', statusUrl: 'http://platform.test:8000/api/technology/x/j1' };
    const lost = createActivities(
      deps(
        stubDetector({
          getJob: () =>
            Promise.reject(
              new DetectorHttpError({ operation: 'getJob', status: 404, method: 'GET', url: job.statusUrl }),
            ),
        }),
      ),
    );
    const done = createActivities(
      deps(stubDetector({ getJob: () => Promise.resolve({ jobId: 'j1', state: 'done', score: 1.5 }) })),
    );
    const run = (check: typeof lost.checkDetectionJob) =>
      env.run<[typeof job], JobCheck, typeof check>(check, job);
    expect(await run(lost.checkDetectionJob)).toEqual({ state: 'lost' });
    expect(await run(done.checkDetectionJob)).toEqual({ state: 'done', score: 1.5 });
  });
});

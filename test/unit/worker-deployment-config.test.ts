/** WORKER_DEPLOYMENT_NAME / WORKER_BUILD_ID: off by default, both or neither, checked names. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig } from '../../src/config.ts';
import { workerDeploymentOptions } from '../../src/worker-deployment.ts';
import { rejection } from '../helpers/rejection.ts';

const BASE = { DETECTOR_URL: 'http://127.0.0.1:8600', S3_BUCKET: 'media' };

async function problemsOf(env: Record<string, string>): Promise<string[]> {
  const err = await rejection(Promise.resolve().then(() => loadWorkerConfig({ ...BASE, ...env })));
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe('worker deployment settings', () => {
  it('leaves Worker Versioning off when neither is set (or both are blank)', () => {
    expect(loadWorkerConfig(BASE).worker.deployment).toBeUndefined();
    expect(
      loadWorkerConfig({ ...BASE, WORKER_DEPLOYMENT_NAME: ' ', WORKER_BUILD_ID: '' }).worker.deployment,
    ).toBeUndefined();
    expect(workerDeploymentOptions(undefined)).toEqual({});
  });

  it('turns it on with both, PINNED by default', () => {
    const config = loadWorkerConfig({
      ...BASE,
      WORKER_DEPLOYMENT_NAME: 'rdd',
      WORKER_BUILD_ID: '1.4.2-3f2a9c',
    });
    expect(config.worker.deployment).toEqual({ name: 'rdd', buildId: '1.4.2-3f2a9c' });
    expect(workerDeploymentOptions(config.worker.deployment)).toEqual({
      workerDeploymentOptions: {
        useWorkerVersioning: true,
        version: { deploymentName: 'rdd', buildId: '1.4.2-3f2a9c' },
        defaultVersioningBehavior: 'PINNED',
      },
    });
  });

  it('refuses one without the other', async () => {
    const message =
      'WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID turn Worker Versioning on together: set both or neither';
    expect(await problemsOf({ WORKER_DEPLOYMENT_NAME: 'rdd' })).toEqual([message]);
    expect(await problemsOf({ WORKER_BUILD_ID: '1.4.2' })).toEqual([message]);
  });

  it('refuses names Temporal could not join or would mangle, each reported', async () => {
    expect(await problemsOf({ WORKER_DEPLOYMENT_NAME: 'rdd.prod', WORKER_BUILD_ID: '1.4 2' })).toEqual([
      'WORKER_DEPLOYMENT_NAME must be at most 255 of letters, digits, _ and -, got "rdd.prod"',
      'WORKER_BUILD_ID must be at most 255 of letters, digits, ., _ and -, got "1.4 2"',
    ]);
    expect(
      await problemsOf({ WORKER_DEPLOYMENT_NAME: 'rdd', WORKER_BUILD_ID: 'x'.repeat(256) }),
    ).toHaveLength(1);
  });
});

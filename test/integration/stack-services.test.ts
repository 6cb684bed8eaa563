/** The shared services the global setup provides: real, reachable, and what services.ts says. */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { namespaceServed } from '../../dev/stack/temporal.ts';
import { s3Client, testServices, uniqueTaskQueue } from '../helpers/services.ts';

describe('test services', () => {
  it('provides a Temporal dev server on a free loopback port, serving the namespace', async () => {
    const { temporalAddress, namespace } = testServices();
    expect(temporalAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await namespaceServed(temporalAddress, namespace)).toBe(true);
  });

  it('provides the Temporal Web UI', async () => {
    const { temporalUiUrl } = testServices();
    expect(temporalUiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(temporalUiUrl!);
    expect(response.ok).toBe(true);
    expect(await response.text()).toContain('<html');
  });

  it('provides versitygw with the test bucket, reachable by s3Client()', async () => {
    const s3 = s3Client();
    try {
      const head = await s3.send(new HeadBucketCommand({ Bucket: testServices().s3.bucket }));
      expect(head.$metadata.httpStatusCode).toBe(200);
    } finally {
      s3.destroy();
    }
  });

  it('gives every caller its own task queue', () => {
    const queues = new Set(Array.from({ length: 100 }, () => uniqueTaskQueue('detect')));
    expect(queues.size).toBe(100);
    expect([...queues][0]).toMatch(/^detect-\d+-[0-9a-f]{8}$/);
  });
});

/**
 * `node dev/stack/create-bucket.ts`: creates `S3_BUCKET` at `S3_ENDPOINT` (credentials
 * from `AWS_*`), retrying for up to a minute while the S3 server starts. The one-shot `bucket`
 * service of docker-compose.yml; `rdd stack up` does the same in-process. Exit 0 once the bucket
 * exists, 1 when it could not be created in time.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBucket } from './s3.ts';

const { S3_ENDPOINT: endpoint, S3_BUCKET: bucket, AWS_REGION: region = 'us-east-1' } = process.env;
if (!bucket) {
  console.error('create-bucket: S3_BUCKET is required');
  process.exit(2);
}
const client = new S3Client({ endpoint, region, forcePathStyle: endpoint !== undefined, maxAttempts: 1 });
const deadline = Date.now() + 60_000;
for (;;) {
  try {
    await ensureBucket(client, bucket);
    console.log(`bucket ${bucket} ready at ${endpoint ?? 'AWS S3'}`);
    break;
  } catch (err) {
    if (Date.now() > deadline) {
      console.error(`create-bucket: could not create ${bucket}: ${(err as Error).message}`);
      process.exit(1);
    }
    await sleep(1_000);
  }
}
client.destroy();

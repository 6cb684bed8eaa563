import { S3Client } from '@aws-sdk/client-s3';
import type { StorageConfig } from '../config.ts';

/**
 * Drops the SDK's own logging: it would print every failed request (error with its stack) and
 * warn about every failed streaming upload on stderr, while our callers report each error once.
 */
const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * Builds the S3 client for media and results. Credentials are the static keys from config when
 * given, else the SDK's default chain (profiles, SSO, instance roles), so the same worker runs on
 * AWS unchanged.
 * @example createS3Client(loadClientConfig(process.env).storage)
 */
export function createS3Client(storage: StorageConfig): S3Client {
  const custom = storage.endpoint !== undefined;
  return new S3Client({
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
    ...(storage.credentials && { credentials: storage.credentials }),
    // Every PUT with a body asks `Expect: 100-continue`, so S3 refuses it (NoSuchBucket, a bad
    // signature) before the body is sent: otherwise a server that answers early and closes leaves
    // the SDK with a socket reset instead of S3's answer. A server without 100-continue support
    // costs at most one second per PUT.
    expectContinueHeader: true,
    logger: SILENT,
    // S3-compatible servers lag behind AWS on the SDK's default CRC checksums; send and verify
    // them only where the operation requires it when the endpoint is not AWS.
    ...(custom && {
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
    }),
  });
}

/**
 * Section 2: the submit activity end to end. `submitDetectionJob`
 * runs under MockActivityEnvironment and streams an object from versitygw, as both reference and
 * questioned, into one multipart POST to the hashing sink. A first row drains the same object
 * straight from S3, as the ceiling the pipeline could reach.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadClientConfig } from '../src/config.ts';
import { createDetectorClient, type DetectorClient } from '../src/activities/detector/index.ts';
import { inspectMedia } from '../src/activities/inspect-media.ts';
import { createS3Client } from '../src/storage/s3-client.ts';
import { submitDetectionJob } from '../src/activities/submit-detection-job.ts';
import type { InspectedMedia, MediaRef, MediaRole } from '../src/shared/media.ts';
import { wavLikeStream } from './payload.ts';
import { fetchReceipt } from './sink.ts';
import { repeatTransfer, type TransferJob, type TransferStats } from './transfer.ts';

const MIB = 1024 * 1024;
/** Far above any case here: this section measures the transfer, not the limits. */
const LIMITS = { maxUploadBytes: 10 * 1024 * MIB, maxAudioSeconds: 24 * 60 * 60 };
const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export interface SubmitInput {
  sinkUrl: string;
  /** Object sizes; each object is sent as both files of one submission. */
  sizesMib: number[];
  /** Runs per case. */
  repeats: number;
}

export interface SubmitRow extends TransferStats {
  label: string;
  objectMib: number;
  /** Whether this is the S3-only ceiling row. */
  drainOnly: boolean;
}

export interface SubmitResult {
  rows: SubmitRow[];
}

export async function measureSubmit(input: SubmitInput): Promise<SubmitResult> {
  const config = loadClientConfig(process.env, ['mediaBucket']);
  const bucket = config.storage.mediaBucket;
  const s3 = createS3Client(config.storage);
  const detector = createDetectorClient({ baseUrl: input.sinkUrl });
  try {
    const objects: { size: number; ref: MediaRef }[] = [];
    for (const size of input.sizesMib) objects.push({ size, ref: await putObject(s3, bucket, size) });
    const smallest = objects[0];
    const largest = objects.at(-1);
    if (!smallest || !largest) return { rows: [] };

    // Warm-up of both paths on the smallest object: connections, JIT. Not reported.
    await drainJob(s3, smallest.ref).send();
    await (await submitJob(s3, detector, input.sinkUrl, smallest.ref)).send();

    const rows: SubmitRow[] = [];
    rows.push({
      label: `S3 GET → discard, ${largest.size} MiB (ceiling)`,
      objectMib: largest.size,
      drainOnly: true,
      ...(await repeatTransfer(input.repeats, () => drainJob(s3, largest.ref))),
    });
    for (const { size, ref } of objects) {
      rows.push({
        label: `submit 2 × ${size} MiB S3 → sink`,
        objectMib: size,
        drainOnly: false,
        ...(await repeatTransfer(input.repeats, () => submitJob(s3, detector, input.sinkUrl, ref))),
      });
    }
    return { rows };
  } finally {
    await detector.close();
    s3.destroy();
  }
}

async function putObject(s3: S3Client, bucket: string, sizeMib: number): Promise<MediaRef> {
  const key = `bench/submit-${sizeMib}mib.wav`;
  const size = sizeMib * MIB;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: wavLikeStream(size),
      ContentLength: size,
      ContentType: 'audio/wav',
    }),
  );
  return { bucket, key };
}

function drainJob(s3: S3Client, ref: MediaRef): TransferJob {
  let bytes = 0;
  let declared: number | undefined;
  return {
    async send() {
      const answer = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      declared = answer.ContentLength;
      for await (const chunk of answer.Body as AsyncIterable<Buffer>) bytes += chunk.length;
    },
    receipt: () => Promise.resolve({ bytes, verified: bytes === declared }),
  };
}

async function submitJob(
  s3: S3Client,
  detector: DetectorClient,
  sinkUrl: string,
  ref: MediaRef,
): Promise<TransferJob> {
  // What the workflow's inspectMedia step hands to the submit activity (it also pins the ETag).
  const env = new MockActivityEnvironment(undefined, { logger: quietLogger });
  const inspect = (role: MediaRole) =>
    env.run<Parameters<typeof inspectMedia>, InspectedMedia, typeof inspectMedia>(
      inspectMedia,
      { s3, limits: LIMITS },
      { media: ref, role },
    );
  const [reference, questioned] = await Promise.all([inspect('reference'), inspect('questioned')]);
  // A header value: ASCII only.
  const correlationId = `bench-submit-${reference.sizeBytes}-${performance.now()}`;
  return {
    send: () => env.run(submitDetectionJob, { s3, detector }, { reference, questioned, correlationId }),
    async receipt() {
      const receipt = await fetchReceipt(sinkUrl, correlationId);
      const verified = receipt.bytes === receipt.declaredBytes && receipt.bytes > 2 * reference.sizeBytes;
      return { bytes: receipt.bytes, verified };
    },
  };
}

/**
 * Section 2: the submit activity end to end. `submitDetection` (the body of `submitDetectionJob`)
 * runs under MockActivityEnvironment and streams an object from versitygw, as both reference and
 * questioned, into one multipart POST to the hashing sink. A first row drains the same object
 * straight from S3, as the ceiling the pipeline could reach.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadConfig } from '../src/config.ts';
import { createDetectorClient } from '../src/activities/detector/index.ts';
import { inspectMediaObject } from '../src/activities/inspect-media.ts';
import { createS3Client } from '../src/activities/s3-client.ts';
import { submitDetection } from '../src/activities/submit-detection-job.ts';
import type { MediaRef } from '../src/shared/media.ts';
import { cpuSecondsSince, startMemorySampler, type MemoryReport } from './memory.ts';
import { wavLikeStream } from './payload.ts';
import { fetchReceipt } from './sink.ts';

const MIB = 1024 * 1024;
/** Far above any case here: this section measures the transfer, not the limits. */
const LIMITS = { maxUploadBytes: 10 * 1024 * MIB, maxAudioSeconds: 24 * 60 * 60 };

export interface SubmitInput {
  sinkUrl: string;
  /** Object sizes; each object is sent as both files of one submission. */
  sizesMib: number[];
}

export interface SubmitRow {
  label: string;
  objectMib: number;
  /** Bytes that left S3 (drain row) or reached the sink (submit rows). */
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  cpuSeconds: number;
  memory: MemoryReport;
  verified: boolean;
}

export interface SubmitResult {
  rows: SubmitRow[];
}

export async function measureSubmit(input: SubmitInput): Promise<SubmitResult> {
  const config = loadConfig(process.env, ['mediaBucket']);
  const bucket = config.storage.mediaBucket!;
  const s3 = createS3Client(config.storage);
  const detector = createDetectorClient({ baseUrl: input.sinkUrl });
  try {
    const objects: { size: number; ref: MediaRef }[] = [];
    for (const size of input.sizesMib) objects.push({ size, ref: await putObject(s3, bucket, size) });

    const rows: SubmitRow[] = [];
    const largest = objects.at(-1);
    if (largest) {
      await drain(s3, objects[0]!.ref); // warm-up: S3 connection, JIT
      rows.push(await drain(s3, largest.ref, `S3 GET → discard, ${largest.size} MiB (ceiling)`, largest.size));
    }
    // Warm-up of the submit path on the smallest object; not reported.
    if (objects[0]) await submitOnce(s3, detector, input.sinkUrl, objects[0].ref, 'warmup', objects[0].size);
    for (const { size, ref } of objects) {
      rows.push(await submitOnce(s3, detector, input.sinkUrl, ref, `submit 2 × ${size} MiB S3 → sink`, size));
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

async function drain(s3: S3Client, ref: MediaRef, label = 'warmup', objectMib = 0): Promise<SubmitRow> {
  const sampler = await startMemorySampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const answer = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  let bytes = 0;
  for await (const chunk of answer.Body as AsyncIterable<Buffer>) bytes += chunk.length;
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const memory = sampler.stop();
  return {
    label,
    objectMib,
    bytes,
    seconds,
    mibPerSecond: bytes / MIB / seconds,
    cpuSeconds,
    memory,
    verified: bytes === answer.ContentLength,
  };
}

async function submitOnce(
  s3: S3Client,
  detector: ReturnType<typeof createDetectorClient>,
  sinkUrl: string,
  ref: MediaRef,
  label: string,
  objectMib: number,
): Promise<SubmitRow> {
  // What the workflow's inspectMedia step hands to the submit activity (also pins the ETag).
  const [reference, questioned] = await Promise.all([
    inspectMediaObject(s3, LIMITS, { media: ref, role: 'reference' }),
    inspectMediaObject(s3, LIMITS, { media: ref, role: 'questioned' }),
  ]);
  const correlationId = `submit-${label}-${Date.now()}`;
  const env = new MockActivityEnvironment();
  const sampler = await startMemorySampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await env.run(submitDetection, s3, detector, {
    reference,
    questioned,
    correlationId,
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const memory = sampler.stop();
  const receipt = await fetchReceipt(sinkUrl, correlationId);
  return {
    label,
    objectMib,
    bytes: receipt.bytes,
    seconds,
    mibPerSecond: receipt.bytes / MIB / seconds,
    cpuSeconds,
    memory,
    verified: receipt.bytes === receipt.declaredBytes && receipt.bytes > 2 * reference.sizeBytes,
  };
}

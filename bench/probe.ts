/**
 * Section 3: the media probe. The `inspectMedia` activity (under MockActivityEnvironment) on WAV, MP3 and
 * FLAC objects of growing length in versitygw: wall time, S3 requests and bytes downloaded per
 * probe. The S3 client's `send` is wrapped to count them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { loadClientConfig } from '../src/config.ts';
import { inspectMedia, type MediaLimits } from '../src/activities/inspect-media.ts';
import type { InspectMediaInput } from '../src/shared/activity-types.ts';
import { createS3Client } from '../src/storage/s3-client.ts';
import type { InspectedMedia, MediaRef } from '../src/shared/media.ts';
import { benchAudio, type AudioFormat } from './audio.ts';

const MIB = 1024 * 1024;
const LIMITS = { maxUploadBytes: 10 * 1024 * MIB, maxAudioSeconds: 24 * 60 * 60 };
const activityEnv = new MockActivityEnvironment();
/** The activity as a worker runs it (in an activity context). */
const inspect = (s3: S3Client, limits: MediaLimits, input: InspectMediaInput) =>
  activityEnv.run<Parameters<typeof inspectMedia>, InspectedMedia, typeof inspectMedia>(
    inspectMedia,
    { s3, limits },
    input,
  );

export interface ProbeInput {
  formats: AudioFormat[];
  minutes: number[];
  /** Probes per file; the table shows the median and the maximum. */
  repeats: number;
}

export interface ProbeRow {
  format: AudioFormat;
  minutes: number;
  objectBytes: number;
  /** What the probe read from the header. */
  durationSeconds: number;
  container: string;
  /** S3 requests of one probe (HEAD + ranged GETs). */
  requests: number;
  /** Bytes of the ranged GETs of one probe. */
  bytesDownloaded: number;
  medianMs: number;
  maxMs: number;
}

export interface ProbeResult {
  rows: ProbeRow[];
  /** Seconds spent making audio files that were not cached yet. */
  generateSeconds: number;
}

export async function measureProbe(input: ProbeInput): Promise<ProbeResult> {
  const config = loadClientConfig(process.env, ['mediaBucket']);
  const bucket = config.storage.mediaBucket;
  const s3 = createS3Client(config.storage);
  const counter = countRequests(s3);
  try {
    const generating = performance.now();
    const files: { format: AudioFormat; minutes: number; path: string }[] = [];
    for (const minutes of input.minutes) {
      for (const format of input.formats)
        files.push({ format, minutes, path: await benchAudio(format, minutes) });
    }
    const generateSeconds = (performance.now() - generating) / 1000;

    const objects = [];
    for (const file of files)
      objects.push({
        ...file,
        ...(await putFile(s3, bucket, file.path, `bench/probe-${file.minutes}min.${file.format}`)),
      });

    // Warm-up: S3 connection, JIT, music-metadata's parser modules. Not reported.
    for (const object of objects.slice(0, 3))
      await inspect(s3, LIMITS, { media: object.ref, role: 'reference' });

    const rows: ProbeRow[] = [];
    for (const object of objects) {
      const times: number[] = [];
      let last: { requests: number; bytes: number; durationSeconds: number; container: string } | undefined;
      for (let i = 0; i < input.repeats; i++) {
        counter.reset();
        const started = performance.now();
        const inspected = await inspect(s3, LIMITS, { media: object.ref, role: 'questioned' });
        times.push(performance.now() - started);
        last = {
          ...counter.read(),
          durationSeconds: inspected.durationSeconds,
          container: inspected.container,
        };
      }
      times.sort((a, b) => a - b);
      rows.push({
        format: object.format,
        minutes: object.minutes,
        objectBytes: object.size,
        durationSeconds: last!.durationSeconds,
        container: last!.container,
        requests: last!.requests,
        bytesDownloaded: last!.bytes,
        medianMs: times[Math.floor(times.length / 2)]!,
        maxMs: times.at(-1)!,
      });
    }
    return { rows, generateSeconds };
  } finally {
    s3.destroy();
  }
}

async function putFile(
  s3: S3Client,
  bucket: string,
  file: string,
  key: string,
): Promise<{ ref: MediaRef; size: number }> {
  const { size } = await stat(file);
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }),
  );
  return { ref: { bucket, key }, size };
}

/** Wraps `s3.send` to count requests and the bytes of GetObject answers. */
function countRequests(s3: S3Client): { reset(): void; read(): { requests: number; bytes: number } } {
  let requests = 0;
  let bytes = 0;
  type Send = (command: unknown, options?: unknown) => Promise<{ ContentLength?: number }>;
  const send = s3.send.bind(s3) as Send;
  const counting: Send = async (command, options) => {
    requests += 1;
    const output = await send(command, options);
    if (command instanceof GetObjectCommand) bytes += output.ContentLength ?? 0;
    return output;
  };
  (s3 as unknown as { send: Send }).send = counting;
  return {
    reset() {
      requests = 0;
      bytes = 0;
    },
    read: () => ({ requests, bytes }),
  };
}

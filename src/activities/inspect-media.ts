import { HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { InspectMediaInput } from '../shared/activity-types.ts';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type InspectedMedia, type MediaRef } from '../shared/media.ts';
import { probeAudio, UnsupportedMediaError, type ProbedAudio } from './media-sniff.ts';
import { MAX_PROBE_BYTES, ProbeBudgetExceededError, S3RangedBlob } from './s3-ranged-blob.ts';
import { s3Status } from '../storage/s3-errors.ts';
import { bucketMissingFailure, toStorageFailure } from './storage-failures.ts';

/** What the platform accepts per upload; the worker's config (DETECTOR_MAX_*) decides. */
export interface MediaLimits {
  maxUploadBytes: number;
  maxAudioSeconds: number;
}

function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Activity `inspectMedia`: looks at one media object before anything is uploaded: HEAD for existence, size and ETag, then
 * a probe of its bytes over ranged reads pinned to that ETag (`media-sniff.ts`). The container and
 * codec are decided from the bytes; the object's Content-Type and key extension are never trusted,
 * because uploaders set them from file names or leave them generic. Fails fast, with a permanent
 * failure naming the input, for what the platform would refuse (docs/platform-api.md §5: WAV as PCM 8–32
 * bit, float, A-law, µ-law or ADPCM; MP3; FLAC; Ogg/Opus). Every message starts with
 * `<role> s3://bucket/key` and says what would work. Reads at most 16 MiB (one 256 KiB read for a
 * WAV; a frame scan of at most 4 MiB for an MP3 without a Xing/Info frame). Idempotent: reads only.
 * A missing object and a missing bucket are told apart (`… does not exist: no object K in bucket B`
 * vs `…: the bucket B does not exist`). A network error reaching S3 is a retryable StorageUnavailable.
 * @throws ApplicationFailure MediaNotFound | MediaEmpty | MediaTooLarge | MediaNotAudio |
 *   MediaTooLong | MediaChannelRequired | MediaChannelOutOfRange (all non-retryable)
 *
 * Registered bound to its deps by `createActivities`; call it directly only under
 * `MockActivityEnvironment` (the activity's cancellation aborts the S3 reads).
 * @example await new MockActivityEnvironment().run(inspectMedia, { s3, limits }, { media, role: 'reference' })
 */
export async function inspectMedia(
  { s3, limits }: { s3: S3Client; limits: MediaLimits },
  { media, role }: InspectMediaInput,
): Promise<InspectedMedia> {
  const signal = Context.current().cancellationSignal;
  const what = `${role} ${formatMediaRef(media)}`;
  const head = await s3
    .send(new HeadObjectCommand({ Bucket: media.bucket, Key: media.key }), { abortSignal: signal })
    .catch(async (err: unknown) => {
      if (s3Status(err) === 404 && (await bucketMissing(s3, media.bucket, signal))) {
        throw bucketMissingFailure(what, media.bucket);
      }
      throw toStorageFailure(err, what);
    });
  const size = head.ContentLength ?? 0;
  const etag = head.ETag;
  if (!etag) throw new Error(`S3 returned no ETag for ${what}`);
  if (size === 0) throw permanent(FailureType.MediaEmpty, `${what} is empty (0 bytes)`);
  if (size > limits.maxUploadBytes) {
    throw permanent(
      FailureType.MediaTooLarge,
      `${what} is ${size} bytes; the platform accepts at most ${limits.maxUploadBytes} bytes per upload`,
    );
  }

  const blob = new S3RangedBlob({ s3, bucket: media.bucket, key: media.key, etag, size, signal });
  const audio = await probe(blob, what);
  const { container, codec, channels, sampleRate, durationSeconds, durationSource } = audio;
  if (durationSeconds > limits.maxAudioSeconds) {
    throw permanent(
      FailureType.MediaTooLong,
      `${what} lasts ${Math.round(durationSeconds)} s; the platform accepts at most ${limits.maxAudioSeconds} s` +
        `: cut it (ffmpeg -i in -t ${limits.maxAudioSeconds} -c copy out)`,
    );
  }
  checkChannel(media, channels, what);

  return {
    ...media,
    role,
    etag,
    sizeBytes: size,
    contentType: audio.mimeType,
    ...(head.ContentType !== undefined && { storedContentType: head.ContentType }),
    container,
    codec,
    channels,
    sampleRate,
    durationSeconds,
    durationSource,
  };
}

/**
 * Whether `bucket` is missing: HEAD answers a bodiless 404 for a missing key and a missing bucket
 * alike, so a 404 is followed by HeadBucket. Any other answer (200, 403, a network error) is not
 * proof, and the object's own 404 stands.
 */
async function bucketMissing(s3: S3Client, bucket: string, signal: AbortSignal): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    return false;
  } catch (err) {
    return s3Status(err) === 404;
  }
}

async function probe(blob: S3RangedBlob, what: string): Promise<ProbedAudio> {
  try {
    return await probeAudio(blob);
  } catch (err) {
    // A failed read (network, 5xx, ETag mismatch) is S3's failure, whatever the probe made of it.
    if (blob.readError !== undefined) throw toStorageFailure(blob.readError, what);
    if (err instanceof UnsupportedMediaError) {
      throw permanent(FailureType.MediaNotAudio, `${what} is ${err.message}`);
    }
    if (err instanceof ProbeBudgetExceededError) {
      throw permanent(
        FailureType.MediaNotAudio,
        `${what} could not be read as audio within ${MAX_PROBE_BYTES} bytes (its headers are damaged or ` +
          `huge); re-encode it (ffmpeg -i in -c:a pcm_s16le out.wav)`,
      );
    }
    throw err;
  }
}

function checkChannel(media: MediaRef, channels: number, what: string): void {
  if (media.channel === undefined) {
    if (channels > 1) {
      throw permanent(
        FailureType.MediaChannelRequired,
        `${what} has ${channels} channels; choose one (0–${channels - 1}) with its channel option`,
      );
    }
    return;
  }
  if (!Number.isInteger(media.channel) || media.channel < 0 || media.channel >= channels) {
    throw permanent(
      FailureType.MediaChannelOutOfRange,
      `${what} has ${channels} channel(s); channel ${media.channel} does not exist (use 0–${channels - 1})`,
    );
  }
}

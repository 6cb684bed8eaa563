import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { parseBlob, type IAudioMetadata } from 'music-metadata';
import { FailureType } from '../shared/failure-types.ts';
import { formatMediaRef, type InspectedMedia, type MediaRef, type MediaRole } from '../shared/media.ts';
import { S3RangedBlob } from './s3-ranged-blob.ts';
import { toStorageFailure } from './storage-failures.ts';

export interface InspectMediaInput {
  media: MediaRef;
  role: MediaRole;
}

export interface MediaLimits {
  maxUploadBytes: number;
  maxAudioSeconds: number;
}

/** Containers the platform's engines take (WAV, MP3, FLAC, Ogg), as music-metadata names them. */
const AUDIO_CONTAINERS = /^(WAVE|RIFF|RF64|MPEG|FLAC|Ogg|AIFF|AIFF-C)/i;

function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Looks at one media object before anything is uploaded: HEAD for existence, size and ETag, then
 * a real parse of its header over ranged reads. Fails fast, with a permanent failure naming the
 * input, for what the platform would refuse. Idempotent: reads only.
 * @throws ApplicationFailure MediaNotFound | MediaEmpty | MediaTooLarge | MediaNotAudio |
 *   MediaTooLong | MediaChannelRequired | MediaChannelOutOfRange (all non-retryable)
 */
export async function inspectMediaObject(
  s3: S3Client,
  limits: MediaLimits,
  { media, role }: InspectMediaInput,
  signal?: AbortSignal,
): Promise<InspectedMedia> {
  const what = `${role} ${formatMediaRef(media)}`;
  const head = await s3
    .send(new HeadObjectCommand({ Bucket: media.bucket, Key: media.key }), { abortSignal: signal })
    .catch((err: unknown) => {
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

  const blob = new S3RangedBlob({
    s3,
    bucket: media.bucket,
    key: media.key,
    etag,
    size,
    contentType: head.ContentType,
    signal,
  });
  const metadata = await parseAudio(blob, what);
  const { container, numberOfChannels, duration } = metadata.format;
  if (!container || !AUDIO_CONTAINERS.test(container) || !numberOfChannels || !duration) {
    throw permanent(
      FailureType.MediaNotAudio,
      `${what} is not audio the platform accepts (found ${container ?? 'no known container'}` +
        `${numberOfChannels ? '' : ', no channels'}${duration ? '' : ', no duration'}); use WAV, MP3, FLAC or Ogg`,
    );
  }
  if (duration > limits.maxAudioSeconds) {
    throw permanent(
      FailureType.MediaTooLong,
      `${what} lasts ${Math.round(duration)} s; the platform accepts at most ${limits.maxAudioSeconds} s`,
    );
  }
  checkChannel(media, numberOfChannels, what);

  return {
    ...media,
    role,
    etag,
    sizeBytes: size,
    contentType: head.ContentType,
    container,
    codec: metadata.format.codec,
    channels: numberOfChannels,
    sampleRate: metadata.format.sampleRate,
    durationSeconds: duration,
  };
}

async function parseAudio(blob: S3RangedBlob, what: string): Promise<IAudioMetadata> {
  try {
    // S3RangedBlob implements the part of Blob that music-metadata's tokenizer reads.
    return await parseBlob(blob as unknown as Blob, { skipCovers: true, duration: false });
  } catch (err) {
    // A failed read (network, 5xx, ETag mismatch) is S3's failure, whatever the parser made of it.
    if (blob.readError !== undefined) throw toStorageFailure(blob.readError, what);
    throw permanent(
      FailureType.MediaNotAudio,
      `${what} is not audio the platform accepts: ${(err as Error).message}; use WAV, MP3, FLAC or Ogg`,
    );
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

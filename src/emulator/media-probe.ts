/**
 * Reads what the platform checks about an upload before processing it: container, codec, channel
 * count and duration, from the bytes alone (file names and Content-Types are ignored, like a
 * server that sniffs content). Backed by `music-metadata`.
 */
import { parseBuffer } from 'music-metadata';

/** The containers the emulator can also decode for scoring. */
export const AudioContainer = {
  Wave: 'WAVE',
  Mpeg: 'MPEG',
  Flac: 'FLAC',
  OggOpus: 'Ogg/Opus',
} as const;
export type AudioContainer = (typeof AudioContainer)[keyof typeof AudioContainer];

/** What was learned about one upload. */
export interface MediaProbe {
  container: AudioContainer;
  /** Codec as `music-metadata` names it, e.g. `PCM`, `MPEG 1 Layer 3`, `Opus`. */
  codec: string;
  channels: number;
  sampleRate: number;
  durationSeconds: number;
}

/** Thrown when the bytes are not audio the emulator accepts; the message is user-facing. */
export class MediaProbeError extends Error {
  override name = 'MediaProbeError';
}

/**
 * Probes an upload.
 * @throws MediaProbeError when the bytes are empty, not a recognised audio format, a format the
 *   emulator cannot decode (e.g. Ogg Vorbis, AAC), or declare no channels or no duration.
 * @example const { channels, durationSeconds } = await probeMedia(bytes);
 */
export async function probeMedia(bytes: Uint8Array): Promise<MediaProbe> {
  if (bytes.byteLength === 0) throw new MediaProbeError('the file is empty');
  let format;
  try {
    ({ format } = await parseBuffer(bytes, undefined, { duration: true, skipCovers: true }));
  } catch (err) {
    throw new MediaProbeError(
      `not a recognised audio format (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const container = toContainer(format.container, format.codec);
  if (!container) {
    const what = [format.container, format.codec].filter(Boolean).join('/') || 'unknown';
    throw new MediaProbeError(`unsupported media format "${what}"; use WAV, MP3, FLAC or Ogg/Opus`);
  }
  const channels = format.numberOfChannels ?? 0;
  const sampleRate = format.sampleRate ?? 0;
  const durationSeconds = format.duration ?? 0;
  if (channels < 1 || sampleRate <= 0)
    throw new MediaProbeError(`the ${container} stream declares no audio channels`);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0)
    throw new MediaProbeError('the audio has no duration');
  return { container, codec: format.codec ?? container, channels, sampleRate, durationSeconds };
}

function toContainer(container: string | undefined, codec: string | undefined): AudioContainer | undefined {
  switch (container) {
    case 'WAVE':
      return AudioContainer.Wave;
    case 'FLAC':
      return AudioContainer.Flac;
    case 'MPEG':
      // Layer I/II decode too, but the platform's examples and our client only ever send Layer III.
      return codec?.includes('Layer') ? AudioContainer.Mpeg : undefined;
    case 'Ogg':
      return codec === 'Opus' ? AudioContainer.OggOpus : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads what the platform checks about an upload before processing it: container, codec, channel
 * count and duration, from the bytes alone (file names and Content-Types are never passed in, like
 * a server that sniffs content). WAV (RIFF, RF64, BW64) is read by our own reader, which knows
 * every documented WAV encoding and counts the frames actually present; other containers by
 * `music-metadata`, whose format detection also looks only at the bytes when given no MIME type.
 *
 * What is accepted is exactly what docs/platform-api.md §5 documents: WAV (PCM 8–32 bit,
 * float, A-law, µ-law, ADPCM), MP3, FLAC and Ogg/Opus. Ogg/Vorbis, AAC/M4A, AIFF, MP2, WMA, … are
 * refused.
 */
import { parseBuffer } from 'music-metadata';

import { flacDecodedSeconds } from './flac-duration.ts';
import { scanMpegFrames } from './mpeg-frames.ts';
import { isWav, readWavInfo, WavFormatError } from './wav.ts';

/** The containers the platform documents, all of which the emulator decodes for scoring. */
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
  /**
   * Codec: for WAV the encoding (`PCM`, `IEEE float`, `A-law`, `µ-law`, `IMA ADPCM`, `MS ADPCM`),
   * otherwise as `music-metadata` names it, e.g. `MPEG 1 Layer 3`, `FLAC`, `Opus`.
   */
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
 * Pure apart from the parse; never looks at a name or MIME type, so a WAV named `.mp3` is a WAV.
 * @throws MediaProbeError when the bytes are empty, not a recognised audio format, a format the
 *   platform does not document (e.g. Ogg/Vorbis, AAC, AIFF, GSM-in-WAV), or declare no channels
 *   or no duration. The message is user-facing and lists what is accepted.
 * @example const { channels, durationSeconds } = await probeMedia(bytes);
 */
export async function probeMedia(bytes: Uint8Array): Promise<MediaProbe> {
  if (bytes.byteLength === 0) throw new MediaProbeError('the file is empty');
  if (isWav(bytes)) return probeWav(bytes);
  let format;
  try {
    ({ format } = await parseBuffer(bytes, undefined, { duration: true, skipCovers: true }));
  } catch (err) {
    throw new MediaProbeError(
      `not a recognised audio format (${err instanceof Error ? err.message : String(err)}); ${ACCEPTED}`,
    );
  }
  const container = toContainer(format.container, format.codec);
  if (!container) {
    const what = [format.container, format.codec].filter(Boolean).join('/') || 'unknown';
    throw new MediaProbeError(`unsupported media format "${what}"; ${ACCEPTED}`);
  }
  const channels = format.numberOfChannels ?? 0;
  const sampleRate = format.sampleRate ?? 0;
  // music-metadata estimates a VBR MP3 without a Xing/Info frame from a few frames; count them all.
  const scan = container === AudioContainer.Mpeg ? scanMpegFrames(bytes) : undefined;
  let durationSeconds = scan?.durationSeconds ?? format.duration ?? 0;
  // Streamed FLAC declares 0 samples in STREAMINFO; the platform decodes it, so count the frames.
  if (container === AudioContainer.Flac && !(durationSeconds > 0))
    durationSeconds = await flacDecodedSeconds(bytes);
  if (channels < 1 || sampleRate <= 0)
    throw new MediaProbeError(`the ${container} stream declares no audio channels`);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0)
    throw new MediaProbeError('the audio has no duration');
  return { container, codec: format.codec ?? container, channels, sampleRate, durationSeconds };
}

/** What the platform documents, appended to every refusal of a format. */
const ACCEPTED =
  'the platform accepts WAV (PCM 8-32 bit, float, A-law, µ-law, IMA or MS ADPCM), MP3, FLAC and Ogg/Opus';

function probeWav(bytes: Uint8Array): MediaProbe {
  let info;
  try {
    info = readWavInfo(bytes);
  } catch (err) {
    if (err instanceof WavFormatError) throw new MediaProbeError(`${err.message}; ${ACCEPTED}`);
    throw err;
  }
  if (info.frames === 0) throw new MediaProbeError('the audio has no duration (the WAV data chunk is empty)');
  return {
    container: AudioContainer.Wave,
    codec: info.encoding,
    channels: info.channels,
    sampleRate: info.sampleRate,
    durationSeconds: info.durationSeconds,
  };
}

function toContainer(container: string | undefined, codec: string | undefined): AudioContainer | undefined {
  switch (container) {
    case 'FLAC':
      return AudioContainer.Flac;
    case 'MPEG':
      // MP3 only: the platform documents MP3, not MPEG Layer I/II.
      return codec?.endsWith('Layer 3') ? AudioContainer.Mpeg : undefined;
    case 'Ogg':
      return codec === 'Opus' ? AudioContainer.OggOpus : undefined;
    default:
      // WAVE never reaches here (read by probeWav); a RIFF that music-metadata calls WAVE but our
      // reader does not is not a WAV.
      return undefined;
  }
}

/**
 * Decodes one channel of an upload to float samples for the scorer: WAV with our own reader, MP3,
 * FLAC and Ogg/Opus with the WebAssembly decoders. Compressed formats are fed in slices and decoding
 * stops once `maxSeconds` are in hand, so a long upload never expands into gigabytes of floats.
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { MPEGDecoder } from 'mpg123-decoder';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

import { AudioContainer, type MediaProbe } from './media-probe.ts';
import { decodeWavChannel, WavFormatError } from './wav.ts';

/** One channel of decoded audio. */
export interface DecodedChannel {
  sampleRate: number;
  samples: Float32Array;
}

/** Thrown when audio that probed fine cannot be decoded; the message is user-facing. */
export class AudioDecodeError extends Error {
  override name = 'AudioDecodeError';
}

/** Bytes handed to a streaming decoder per call. */
const SLICE_BYTES = 256 * 1024;

interface StreamingDecoder {
  /** Decodes the next slice; returns channel data of whatever frames completed. */
  push(slice: Uint8Array): Promise<{ channelData: Float32Array[]; sampleRate: number }>;
  flush(): Promise<{ channelData: Float32Array[]; sampleRate: number } | undefined>;
  free(): void;
}

/**
 * Decodes `channel` (0-based) of an upload, at most its first `maxSeconds`.
 * @throws AudioDecodeError when the data cannot be decoded or yields no samples.
 * @example const { samples, sampleRate } = await decodeChannel(bytes, probe, 0, 600);
 */
export async function decodeChannel(
  bytes: Uint8Array,
  probe: MediaProbe,
  channel: number,
  maxSeconds: number,
): Promise<DecodedChannel> {
  if (channel < 0 || channel >= probe.channels) {
    throw new AudioDecodeError(`channel ${channel} does not exist (the file has ${probe.channels})`);
  }
  if (probe.container === AudioContainer.Wave) {
    try {
      const decoded = decodeWavChannel(bytes, channel, maxSeconds);
      if (decoded.samples.length === 0) throw new AudioDecodeError('the WAV data chunk holds no samples');
      return decoded;
    } catch (err) {
      if (err instanceof WavFormatError) throw new AudioDecodeError(err.message);
      throw err;
    }
  }
  const decoder = await openDecoder(probe.container);
  try {
    return await decodeStream(decoder, bytes, probe, channel, maxSeconds);
  } catch (err) {
    if (err instanceof AudioDecodeError) throw err;
    throw new AudioDecodeError(
      `could not decode ${probe.container} audio (${err instanceof Error ? err.message : String(err)})`,
    );
  } finally {
    decoder.free();
  }
}

async function decodeStream(
  decoder: StreamingDecoder,
  bytes: Uint8Array,
  probe: MediaProbe,
  channel: number,
  maxSeconds: number,
): Promise<DecodedChannel> {
  const parts: Float32Array[] = [];
  let total = 0;
  let sampleRate = 0;
  const take = (decoded: { channelData: Float32Array[]; sampleRate: number } | undefined): void => {
    if (!decoded || decoded.channelData.length === 0) return;
    // mpg123 always outputs two channels; a mono stream has the same samples in both.
    const data = decoded.channelData[Math.min(channel, decoded.channelData.length - 1)];
    if (!data || data.length === 0) return;
    sampleRate = decoded.sampleRate;
    parts.push(data.slice()); // the decoders reuse their output buffers
    total += data.length;
  };
  for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
    take(await decoder.push(bytes.subarray(at, at + SLICE_BYTES)));
    if (sampleRate > 0 && total >= maxSeconds * sampleRate) break;
    await yieldToEventLoop();
  }
  take(await decoder.flush());
  if (total === 0 || sampleRate === 0)
    throw new AudioDecodeError(`no audio could be decoded from the ${probe.container} stream`);
  const limit = Math.min(total, Math.floor(maxSeconds * sampleRate));
  const samples = new Float32Array(limit);
  let offset = 0;
  for (const part of parts) {
    if (offset >= limit) break;
    const n = Math.min(part.length, limit - offset);
    samples.set(part.subarray(0, n), offset);
    offset += n;
  }
  return { sampleRate, samples };
}

async function openDecoder(container: Exclude<AudioContainer, 'WAVE'>): Promise<StreamingDecoder> {
  switch (container) {
    case AudioContainer.Mpeg: {
      const decoder = new MPEGDecoder();
      await decoder.ready;
      return {
        push: (slice) => Promise.resolve(decoder.decode(slice)),
        flush: () => Promise.resolve(undefined),
        free: () => decoder.free(),
      };
    }
    case AudioContainer.Flac: {
      const decoder = new FLACDecoder();
      await decoder.ready;
      return {
        push: (slice) => decoder.decode(slice),
        flush: () => decoder.flush(),
        free: () => decoder.free(),
      };
    }
    case AudioContainer.OggOpus: {
      const decoder = new OggOpusDecoder();
      await decoder.ready;
      return {
        push: (slice) => Promise.resolve(decoder.decode(slice)),
        flush: () => decoder.flush(),
        free: () => decoder.free(),
      };
    }
  }
}

/**
 * The length of a FLAC stream by decoding it, for streamed FLAC (`ffmpeg -i x.wav -f flac - > x.flac`)
 * whose STREAMINFO says 0 total samples: the encoder could not seek back to fill it in, and the
 * platform, which decodes the whole upload anyway, takes such files.
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Bytes handed to the decoder per call, so a long upload never expands into one huge buffer. */
const SLICE_BYTES = 256 * 1024;

/**
 * Seconds of audio in `bytes` (a whole FLAC file), counting the samples every frame decodes to.
 * Yields to the event loop between slices. Pure apart from the WebAssembly decoder it frees.
 * @returns the duration, or 0 when no frame decodes.
 * @example await flacDecodedSeconds(await readFile('streamed.flac')) // 2.6948125
 */
export async function flacDecodedSeconds(bytes: Uint8Array): Promise<number> {
  const decoder = new FLACDecoder();
  await decoder.ready;
  let samples = 0;
  let sampleRate = 0;
  const count = (decoded: { samplesDecoded: number; sampleRate: number }): void => {
    samples += decoded.samplesDecoded;
    if (decoded.sampleRate > 0) sampleRate = decoded.sampleRate;
  };
  try {
    for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
      count(await decoder.decode(bytes.subarray(at, at + SLICE_BYTES)));
      await yieldToEventLoop();
    }
    count(await decoder.flush());
  } finally {
    decoder.free();
  }
  return sampleRate > 0 ? samples / sampleRate : 0;
}

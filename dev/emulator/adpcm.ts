/**
 * The two ADPCM encodings found in WAV files (voicemail, dictation, telephony): IMA/DVI ADPCM
 * (format tag 0x0011) and Microsoft ADPCM (0x0002), both 4 bits per sample in blocks of
 * `blockAlign` bytes. Each block starts from a header that carries the decoder state, so blocks
 * decode independently.
 *
 * Sources: the IMA Digital Audio Focus and Technical Working Groups' "Recommended Practices for
 * Enhancing Digital Audio Compatibility in Multimedia Systems" (1992) and Microsoft's "Multimedia
 * Standards Update" (1994, WAVE_FORMAT_IMA_ADPCM and WAVE_FORMAT_ADPCM). Checked sample for sample
 * against FFmpeg's `adpcm_ima_wav` and `adpcm_ms` decoders (test/unit/emulator-audio.test.ts).
 */

/** IMA step sizes, indexed 0…88. */
const IMA_STEPS = [
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97,
  107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724,
  796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026,
  4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818, 18500,
  20350, 22385, 24623, 27086, 29794, 32767,
] as const;

/** IMA step-index change per nibble. */
const IMA_INDEX_CHANGE = [-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8] as const;

/** MS ADPCM delta adaptation per nibble (×256). */
const MS_ADAPTATION = [
  230, 230, 230, 230, 307, 409, 512, 614, 768, 614, 512, 409, 307, 230, 230, 230,
] as const;

/** The largest MS ADPCM delta whose adaptation stays within 32 bits (as FFmpeg caps it). */
const MS_MAX_DELTA = Math.floor(2147483647 / 768);

/**
 * The seven predictor coefficient pairs (×256) every MS ADPCM file carries in its fmt extension;
 * used when a file's fmt chunk omits them.
 */
export const MS_ADPCM_STANDARD_COEFFICIENTS: ReadonlyArray<readonly [number, number]> = [
  [256, 0],
  [512, -256],
  [0, 0],
  [192, 64],
  [240, 0],
  [460, -208],
  [392, -232],
];

/** Thrown when ADPCM data is inconsistent; the message is user-facing. */
export class AdpcmError extends Error {
  override name = 'AdpcmError';
}

/** The block layout of an ADPCM stream, from the WAV fmt chunk. */
export interface AdpcmLayout {
  channels: number;
  /** Bytes per block, all channels (fmt `nBlockAlign`). */
  blockAlign: number;
}

const clip16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/**
 * Samples per channel in an IMA ADPCM block (or a final, shorter block) of `bytes` bytes: the header
 * sample plus 8 per 4-byte group of each channel. 0 when the block is too short for its headers.
 * @example imaSamplesInBlock(256, 1) // 505
 */
export function imaSamplesInBlock(bytes: number, channels: number): number {
  if (bytes < 4 * channels) return 0;
  return 1 + Math.floor((bytes - 4 * channels) / (4 * channels)) * 8;
}

/**
 * Samples per channel in an MS ADPCM block (or a final, shorter block) of `bytes` bytes: the two
 * header samples plus two per byte and channel. 0 when the block is too short for its headers.
 * @example msSamplesInBlock(256, 1) // 500
 */
export function msSamplesInBlock(bytes: number, channels: number): number {
  if (bytes < 7 * channels) return 0;
  return 2 + Math.floor(((bytes - 7 * channels) * 2) / channels);
}

/**
 * Frames (samples per channel) in a whole ADPCM data chunk, counting a truncated final block.
 * @example adpcmFrames('ima', 2560, { channels: 1, blockAlign: 256 }) // 5050
 */
export function adpcmFrames(kind: 'ima' | 'ms', dataBytes: number, layout: AdpcmLayout): number {
  const perBlock = kind === 'ima' ? imaSamplesInBlock : msSamplesInBlock;
  const whole = Math.floor(dataBytes / layout.blockAlign);
  const rest = dataBytes - whole * layout.blockAlign;
  return whole * perBlock(layout.blockAlign, layout.channels) + perBlock(rest, layout.channels);
}

/**
 * Decodes one channel of IMA ADPCM WAV data (4 bits per sample). Each block holds, per channel, a
 * 4-byte header (int16 first sample, uint8 step index, one reserved byte), then groups of 4 bytes
 * per channel in turn, each group 8 samples, low nibble first.
 * @param data the data chunk's bytes.
 * @param maxFrames stop after this many samples.
 * @returns 16-bit sample values as numbers, scaled to −1…1.
 * @throws AdpcmError when a block header's step index is out of range (corrupt data).
 * @example const samples = decodeImaAdpcm(data, { channels: 1, blockAlign: 256 }, 0, 8000 * 60);
 */
export function decodeImaAdpcm(
  data: Uint8Array,
  layout: AdpcmLayout,
  channel: number,
  maxFrames = Infinity,
): Float32Array {
  const { channels, blockAlign } = layout;
  const frames = Math.min(adpcmFrames('ima', data.byteLength, layout), maxFrames);
  const out = new Float32Array(frames);
  let n = 0;
  for (let block = 0; n < frames; block += blockAlign) {
    const end = Math.min(block + blockAlign, data.byteLength);
    const header = block + 4 * channel;
    let predictor = ((data[header]! | (data[header + 1]! << 8)) << 16) >> 16;
    let index = data[header + 2]!;
    if (index > 88) throw new AdpcmError(`corrupt IMA ADPCM block: step index ${index} > 88`);
    out[n++] = predictor / 32768;
    // Groups of 4 bytes per channel follow the headers; this channel's group is the channel-th.
    for (
      let group = block + 4 * channels + 4 * channel;
      group + 4 <= end && n < frames;
      group += 4 * channels
    ) {
      for (let i = 0; i < 4 && n < frames; i++) {
        const byte = data[group + i]!;
        for (let half = 0; half < 2 && n < frames; half++) {
          const nibble = half === 0 ? byte & 0x0f : byte >> 4; // low nibble first
          const step = IMA_STEPS[index]!;
          // (2·magnitude + 1)·step / 8, multiplied out as FFmpeg does; the IMA paper's shift-and-add
          // rounds differently, and the error would accumulate over the block.
          const diff = ((2 * (nibble & 7) + 1) * step) >> 3;
          predictor = clip16(nibble & 8 ? predictor - diff : predictor + diff);
          index = Math.min(88, Math.max(0, index + IMA_INDEX_CHANGE[nibble]!));
          out[n++] = predictor / 32768;
        }
      }
    }
  }
  return out;
}

/**
 * Decodes one channel of Microsoft ADPCM WAV data (4 bits per sample). Each block starts with, for
 * every channel in turn, a uint8 predictor index, then int16 deltas, then int16 second samples,
 * then int16 first samples; output starts with the first, then the second sample, then one sample
 * per nibble (high nibble first), the nibbles alternating between channels.
 * @param coefficients the predictor pairs (×256) from the fmt extension.
 * @param maxFrames stop after this many samples.
 * @returns samples scaled to −1…1.
 * @throws AdpcmError when a block names a predictor the table does not have (corrupt data).
 * @example decodeMsAdpcm(data, { channels: 1, blockAlign: 256 }, MS_ADPCM_STANDARD_COEFFICIENTS, 0)
 */
export function decodeMsAdpcm(
  data: Uint8Array,
  layout: AdpcmLayout,
  coefficients: ReadonlyArray<readonly [number, number]>,
  channel: number,
  maxFrames = Infinity,
): Float32Array {
  const { channels, blockAlign } = layout;
  const frames = Math.min(adpcmFrames('ms', data.byteLength, layout), maxFrames);
  const out = new Float32Array(frames);
  const int16 = (at: number): number => ((data[at]! | (data[at + 1]! << 8)) << 16) >> 16;
  let n = 0;
  for (let block = 0; n < frames; block += blockAlign) {
    const end = Math.min(block + blockAlign, data.byteLength);
    const predictor = data[block + channel]!;
    const pair = coefficients[predictor];
    if (!pair) throw new AdpcmError(`corrupt MS ADPCM block: predictor ${predictor} is not in the table`);
    const [coef1, coef2] = pair;
    let delta = int16(block + channels + 2 * channel);
    let sample1 = int16(block + 3 * channels + 2 * channel);
    let sample2 = int16(block + 5 * channels + 2 * channel);
    out[n++] = sample2 / 32768;
    if (n < frames) out[n++] = sample1 / 32768;
    // Nibble k of the block's payload belongs to channel k % channels.
    const payload = block + 7 * channels;
    const nibbles = (end - payload) * 2;
    for (let k = channel; k < nibbles && n < frames; k += channels) {
      const byte = data[payload + (k >> 1)]!;
      const nibble = k & 1 ? byte & 0x0f : byte >> 4;
      const signed = nibble & 8 ? nibble - 16 : nibble;
      const predicted = Math.trunc((sample1 * coef1 + sample2 * coef2) / 256) + signed * delta;
      sample2 = sample1;
      sample1 = clip16(predicted);
      // FFmpeg caps the delta so that corrupt data cannot overflow 32 bits.
      delta = Math.min(MS_MAX_DELTA, Math.max(16, (MS_ADAPTATION[nibble]! * delta) >> 8));
      out[n++] = sample1 / 32768;
    }
  }
  return out;
}

/**
 * Counts the audio of an MP3 by walking every frame header, as the platform must for a VBR file
 * without a Xing/Info/VBRI frame (whose length no header states). The emulator holds the whole
 * upload in memory, so a full scan is cheap: a few microseconds per frame, no decoding.
 *
 * Source: ISO/IEC 11172-3 and 13818-3 (frame header, bit-rate and sample-rate tables, Layer III
 * frame size), and the Xing/LAME tag layout (a first frame that carries no audio).
 */

/** Bit rates (kbit/s) of Layer III by index, for MPEG-1 and for MPEG-2/2.5. */
const BITRATES = {
  mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
} as const;

/** Sample rates (Hz) by the header's version bits (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1). */
const SAMPLE_RATES: Record<number, readonly number[]> = {
  0: [11025, 12000, 8000],
  2: [22050, 24000, 16000],
  3: [44100, 48000, 32000],
};

interface FrameHeader {
  bytes: number;
  samples: number;
  sampleRate: number;
  /** Offset of the Xing/Info tag in a frame, after the header and side information. */
  sideInfoEnd: number;
}

/** The result of a frame scan. */
export interface MpegScan {
  /** Layer III frames holding audio (a leading Xing/Info/VBRI frame is not counted). */
  frames: number;
  sampleRate: number;
  /** Samples per channel in those frames ÷ sample rate; includes the encoder's delay and padding. */
  durationSeconds: number;
}

/**
 * Walks the Layer III frames of an MP3: skips ID3v2 tags, finds the first frame confirmed by the
 * frame after it, then follows frame lengths until a header does not parse (an ID3v1/APE tag, or
 * the end). Pure.
 * @returns undefined when no Layer III frame sequence is found.
 * @example scanMpegFrames(bytes)?.durationSeconds // 2.772
 */
export function scanMpegFrames(bytes: Uint8Array): MpegScan | undefined {
  let at = skipId3v2(bytes);
  let first: FrameHeader | undefined;
  // Find a sync whose frame is followed by another frame (a lone 0xFFE… in a tag is not a frame).
  for (const limit = Math.min(bytes.byteLength, at + 64 * 1024); at < limit; at++) {
    const header = readHeader(bytes, at);
    if (header && (at + header.bytes >= bytes.byteLength || readHeader(bytes, at + header.bytes))) {
      first = header;
      break;
    }
  }
  if (!first) return undefined;
  const tag = ascii(bytes, at + first.sideInfoEnd, 4);
  let frames = tag === 'Xing' || tag === 'Info' || ascii(bytes, at + 36, 4) === 'VBRI' ? -1 : 0;
  let samples = 0;
  for (let header: FrameHeader | undefined = first; header; header = readHeader(bytes, at)) {
    if (at + header.bytes > bytes.byteLength) break; // a cut-off last frame does not decode
    if (frames >= 0) samples += header.samples;
    frames++;
    at += header.bytes;
  }
  if (frames <= 0) return undefined;
  return { frames, sampleRate: first.sampleRate, durationSeconds: samples / first.sampleRate };
}

function readHeader(bytes: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > bytes.byteLength) return undefined;
  const [b0, b1, b2, b3] = [bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3;
  const layer = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3)
    return undefined;
  const mpeg1 = version === 3;
  const bitrate = (mpeg1 ? BITRATES.mpeg1 : BITRATES.mpeg2)[bitrateIndex]! * 1000;
  const sampleRate = SAMPLE_RATES[version]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const mono = b3 >> 6 === 3;
  return {
    bytes: Math.floor(((mpeg1 ? 144 : 72) * bitrate) / sampleRate) + padding,
    samples: mpeg1 ? 1152 : 576,
    sampleRate,
    sideInfoEnd: 4 + (mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17),
  };
}

/** Offset just past any ID3v2 tags at the start (size is syncsafe; a footer adds 10 bytes). */
function skipId3v2(bytes: Uint8Array): number {
  let at = 0;
  while (at + 10 <= bytes.byteLength && ascii(bytes, at, 3) === 'ID3') {
    const size =
      ((bytes[at + 6]! & 0x7f) << 21) |
      ((bytes[at + 7]! & 0x7f) << 14) |
      ((bytes[at + 8]! & 0x7f) << 7) |
      (bytes[at + 9]! & 0x7f);
    at += 10 + size + (bytes[at + 5]! & 0x10 ? 10 : 0);
  }
  return at;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, Math.min(at + length, bytes.byteLength)));
}

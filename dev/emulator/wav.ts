/**
 * A RIFF/WAVE reader for every WAV encoding the platform documents (docs/platform-api.md
 * §5: "PCM 8–32 bit, float, A-law, µ-law, ADPCM"): integer PCM 8 (unsigned)/16/24/32-bit, IEEE
 * float 32/64-bit, G.711 A-law and µ-law, IMA ADPCM and Microsoft ADPCM, each also inside
 * WAVE_FORMAT_EXTENSIBLE, in RIFF, RF64 and BW64 files (64-bit sizes in a `ds64` chunk, EBU Tech
 * 3306 / ITU-R BS.2088). The encoding is decided from the fmt chunk alone, never from a file name.
 * Other WAV codecs (GSM 6.10, G.726, MP3-in-WAV, …) are refused with a message naming the format.
 */
import {
  adpcmFrames,
  AdpcmError,
  decodeImaAdpcm,
  decodeMsAdpcm,
  MS_ADPCM_STANDARD_COEFFICIENTS,
} from './adpcm.ts';

/** Decoded audio: one Float32Array per channel, samples in −1…1. */
export interface DecodedAudio {
  sampleRate: number;
  channels: Float32Array[];
}

/** Thrown when bytes are not a WAV this reader can decode; the message says why. */
export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

/** The WAV encodings this reader decodes, named as they appear in probe results and messages. */
export const WavEncoding = {
  Pcm: 'PCM',
  Float: 'IEEE float',
  ALaw: 'A-law',
  MuLaw: 'µ-law',
  ImaAdpcm: 'IMA ADPCM',
  MsAdpcm: 'MS ADPCM',
} as const;
export type WavEncoding = (typeof WavEncoding)[keyof typeof WavEncoding];

/** What the header of a decodable WAV says, with the frame count of the audio actually present. */
export interface WavInfo {
  /** The file's magic: plain `RIFF`, or `RF64`/`BW64` with 64-bit sizes. */
  riff: 'RIFF' | 'RF64' | 'BW64';
  encoding: WavEncoding;
  /** The effective format tag (the SubFormat's for WAVE_FORMAT_EXTENSIBLE). */
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Samples per channel present in the file (a truncated data chunk counts what is there). */
  frames: number;
  durationSeconds: number;
}

/** Format tags from Microsoft's mmreg.h. */
const WAVE_FORMAT = {
  Pcm: 0x0001,
  MsAdpcm: 0x0002,
  IeeeFloat: 0x0003,
  ALaw: 0x0006,
  MuLaw: 0x0007,
  ImaAdpcm: 0x0011,
  Extensible: 0xfffe,
} as const;

/** Bytes 2…15 of every KSDATAFORMAT_SUBTYPE_* GUID whose first two bytes are a format tag. */
const SUBTYPE_GUID_TAIL = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71] as const;

interface WavFormat {
  formatTag: number;
  encoding: WavEncoding;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  /** MS ADPCM predictor pairs (×256), from the fmt extension or the standard seven. */
  coefficients: ReadonlyArray<readonly [number, number]>;
}

interface ParsedWav {
  riff: WavInfo['riff'];
  format: WavFormat;
  data: Uint8Array;
}

/**
 * True when the bytes start like a WAV file (`RIFF`, `RF64` or `BW64`, then `WAVE`), whatever
 * their name or MIME type says. Says nothing about whether the encoding is decodable.
 * @example isWav(bytes) && readWavInfo(bytes)
 */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 12 && RIFF_IDS.has(ascii(bytes, 0, 4)) && ascii(bytes, 8, 4) === 'WAVE';
}
const RIFF_IDS = new Set(['RIFF', 'RF64', 'BW64']);

/**
 * Reads a WAV header and counts the frames present, without decoding. Pure; reads only the chunk
 * headers.
 * @throws WavFormatError when the bytes are not a WAV, lack fmt or data, or use an encoding this
 *   reader cannot decode (the message names the format tag).
 * @example readWavInfo(bytes) // { encoding: 'IMA ADPCM', channels: 1, sampleRate: 8000, … }
 */
export function readWavInfo(bytes: Uint8Array): WavInfo {
  const { riff, format, data } = parseWav(bytes);
  const frames = frameCount(format, data.byteLength);
  const { formatTag, encoding, channels, sampleRate, bitsPerSample } = format;
  return {
    riff,
    encoding,
    formatTag,
    channels,
    sampleRate,
    bitsPerSample,
    frames,
    durationSeconds: frames / sampleRate,
  };
}

/**
 * Decodes a WAV file, or only its first `maxSeconds` when given (long files are not analysed whole).
 * Tolerates a data chunk that claims more bytes than the file holds (streams written before their
 * length was known) by reading what is there.
 * @throws WavFormatError for anything that is not a decodable WAV.
 * @example const { sampleRate, channels } = decodeWav(bytes);
 */
export function decodeWav(bytes: Uint8Array, maxSeconds = Infinity): DecodedAudio {
  const { format, data } = parseWav(bytes);
  const channels = Array.from({ length: format.channels }, (_, c) =>
    decodeSamples(data, format, c, maxSeconds),
  );
  return { sampleRate: format.sampleRate, channels };
}

/**
 * Decodes one channel (0-based) of a WAV file, at most its first `maxSeconds`: the other channels
 * are never converted.
 * @throws WavFormatError for anything that is not a decodable WAV, or a channel it does not have.
 * @example const { samples } = decodeWavChannel(bytes, 1, 300);
 */
export function decodeWavChannel(
  bytes: Uint8Array,
  channel: number,
  maxSeconds = Infinity,
): { sampleRate: number; samples: Float32Array } {
  const { format, data } = parseWav(bytes);
  if (channel < 0 || channel >= format.channels) {
    throw new WavFormatError(`channel ${channel} does not exist (the WAV has ${format.channels})`);
  }
  return { sampleRate: format.sampleRate, samples: decodeSamples(data, format, channel, maxSeconds) };
}

/**
 * Walks the chunks to the format and the sample data. Defects outside the audio do not refuse it:
 * chunks after `data` are never read, and a chunk written without its pad byte (an odd size
 * followed directly by the next chunk id) is recognised and stepped over.
 */
function parseWav(bytes: Uint8Array): ParsedWav {
  if (!isWav(bytes)) throw new WavFormatError('not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = ascii(bytes, 0, 4) as WavInfo['riff'];
  let format: WavFormat | undefined;
  let ds64DataSize: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = ascii(bytes, offset, 4);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'ds64' && riff !== 'RIFF' && body + 16 <= bytes.byteLength) {
      // ds64: riffSize (u64), dataSize (u64), sampleCount (u64), table… — sizes beyond 2^53 are absurd.
      ds64DataSize = Number(view.getBigUint64(body + 8, true));
    } else if (id === 'fmt ') {
      format = readFormat(view, body, Math.min(size, bytes.byteLength - body));
    } else if (id === 'data') {
      if (!format) throw new WavFormatError('data chunk before fmt chunk');
      let declared = size;
      if (size === 0xffffffff && ds64DataSize !== undefined) declared = ds64DataSize;
      // 0 or 0xFFFFFFFF without ds64: written by a streaming recorder that never came back to fix it.
      if (declared === 0 || (size === 0xffffffff && ds64DataSize === undefined)) declared = Infinity;
      const available = Math.min(declared, bytes.byteLength - body);
      return { riff, format, data: bytes.subarray(body, body + available) };
    }
    let next = body + size + (size % 2); // chunks are word-aligned…
    if (size % 2 === 1 && !plausibleChunkId(bytes, next) && plausibleChunkId(bytes, next - 1)) next -= 1; // …unless the writer forgot
    offset = next;
  }
  throw new WavFormatError(format ? 'no data chunk' : 'no fmt chunk');
}

function readFormat(view: DataView, at: number, size: number): WavFormat {
  if (size < 16) throw new WavFormatError('fmt chunk too short');
  let formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (formatTag === WAVE_FORMAT.Extensible) {
    // cbSize 22: valid bits (2), channel mask (4), SubFormat GUID (16) at +24.
    if (size < 40) throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE without SubFormat');
    formatTag = view.getUint16(at + 24, true);
    const tailMatches = SUBTYPE_GUID_TAIL.every((b, i) => view.getUint8(at + 26 + i) === b);
    if (!tailMatches)
      throw new WavFormatError(`unsupported WAV encoding (SubFormat ${guidAt(view, at + 24)})`);
  }
  if (channels === 0 || sampleRate === 0 || blockAlign === 0)
    throw new WavFormatError('fmt chunk declares no audio');
  let coefficients = MS_ADPCM_STANDARD_COEFFICIENTS;
  if (formatTag === WAVE_FORMAT.MsAdpcm && size >= 22) {
    // Extension: cbSize, wSamplesPerBlock, wNumCoef, then wNumCoef pairs of int16.
    const count = view.getUint16(at + 20, true);
    if (count > 0 && size >= 22 + count * 4) {
      coefficients = Array.from(
        { length: count },
        (_, i) => [view.getInt16(at + 22 + i * 4, true), view.getInt16(at + 24 + i * 4, true)] as const,
      );
    }
  }
  const encoding = encodingOf(formatTag, channels, blockAlign, bitsPerSample);
  return { formatTag, encoding, channels, sampleRate, blockAlign, bitsPerSample, coefficients };
}

/** The encoding of a format, or a WavFormatError when its layout is not one this reader decodes. */
function encodingOf(formatTag: number, channels: number, blockAlign: number, bits: number): WavEncoding {
  const bytesPerSample = blockAlign % channels === 0 ? blockAlign / channels : 0;
  switch (formatTag) {
    case WAVE_FORMAT.Pcm:
      if (bytesPerSample >= 1 && bytesPerSample <= 4) return WavEncoding.Pcm;
      break;
    case WAVE_FORMAT.IeeeFloat:
      if (bytesPerSample === 4 || bytesPerSample === 8) return WavEncoding.Float;
      break;
    case WAVE_FORMAT.ALaw:
      if (bytesPerSample === 1) return WavEncoding.ALaw;
      break;
    case WAVE_FORMAT.MuLaw:
      if (bytesPerSample === 1) return WavEncoding.MuLaw;
      break;
    case WAVE_FORMAT.ImaAdpcm:
      if (bits === 4 && blockAlign > 4 * channels) return WavEncoding.ImaAdpcm;
      break;
    case WAVE_FORMAT.MsAdpcm:
      if (bits === 4 && blockAlign >= 7 * channels) return WavEncoding.MsAdpcm;
      break;
  }
  throw new WavFormatError(
    `unsupported WAV encoding (format 0x${formatTag.toString(16).padStart(4, '0')}, ${bits} bits)`,
  );
}

function frameCount(format: WavFormat, dataBytes: number): number {
  const layout = { channels: format.channels, blockAlign: format.blockAlign };
  if (format.encoding === WavEncoding.ImaAdpcm) return adpcmFrames('ima', dataBytes, layout);
  if (format.encoding === WavEncoding.MsAdpcm) return adpcmFrames('ms', dataBytes, layout);
  return Math.floor(dataBytes / format.blockAlign);
}

function decodeSamples(
  data: Uint8Array,
  format: WavFormat,
  channel: number,
  maxSeconds: number,
): Float32Array {
  const { channels, sampleRate, blockAlign, encoding } = format;
  const maxFrames = Math.floor(maxSeconds * sampleRate);
  const layout = { channels, blockAlign };
  try {
    if (encoding === WavEncoding.ImaAdpcm) return decodeImaAdpcm(data, layout, channel, maxFrames);
    if (encoding === WavEncoding.MsAdpcm)
      return decodeMsAdpcm(data, layout, format.coefficients, channel, maxFrames);
  } catch (err) {
    if (err instanceof AdpcmError) throw new WavFormatError(err.message);
    throw err;
  }
  const bytesPerSample = blockAlign / channels;
  const frames = Math.min(Math.floor(data.byteLength / blockAlign), maxFrames);
  const read = sampleReader(encoding, bytesPerSample);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(frames);
  const offset = channel * bytesPerSample;
  for (let i = 0; i < frames; i++) out[i] = read(view, i * blockAlign + offset);
  return out;
}

type SampleReader = (view: DataView, at: number) => number;

/** A reader of one sample for the per-sample encodings (validated by `encodingOf`). */
function sampleReader(encoding: WavEncoding, bytes: number): SampleReader {
  switch (encoding) {
    case WavEncoding.Float:
      return bytes === 4 ? (v, at) => v.getFloat32(at, true) : (v, at) => v.getFloat64(at, true);
    case WavEncoding.ALaw:
      return (v, at) => aLaw(v.getUint8(at)) / 32768;
    case WavEncoding.MuLaw:
      return (v, at) => muLaw(v.getUint8(at)) / 32768;
    default:
      switch (bytes) {
        case 1:
          return (v, at) => (v.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
        case 2:
          return (v, at) => v.getInt16(at, true) / 32768;
        case 3:
          return (v, at) =>
            ((v.getUint8(at + 2) << 24) | (v.getUint8(at + 1) << 16) | (v.getUint8(at) << 8)) / 2147483648;
        default:
          return (v, at) => v.getInt32(at, true) / 2147483648;
      }
  }
}

/** G.711 A-law → 16-bit linear. */
function aLaw(code: number): number {
  const a = code ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** G.711 µ-law → 16-bit linear. */
function muLaw(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = (((u & 0x0f) << 3) + 0x84) << exponent;
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

/** Four printable ASCII bytes at `at`, as every RIFF chunk id is. */
function plausibleChunkId(bytes: Uint8Array, at: number): boolean {
  if (at + 8 > bytes.byteLength) return false;
  for (let i = 0; i < 4; i++) {
    const b = bytes[at + i]!;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

function guidAt(view: DataView, at: number): string {
  const hex = (i: number, n: number): string =>
    Array.from({ length: n }, (_, k) =>
      view
        .getUint8(at + i + k)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  const le = (i: number, n: number): string =>
    Array.from({ length: n }, (_, k) =>
      view
        .getUint8(at + i + n - 1 - k)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(8, 2)}-${hex(10, 6)}`;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

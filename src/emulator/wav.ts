/**
 * A small RIFF/WAVE reader for the formats the platform documents as "PCM 8–32 bit, float":
 * integer PCM 8/16/24/32-bit, IEEE float 32/64-bit, plus A-law and µ-law, each also inside
 * WAVE_FORMAT_EXTENSIBLE. Compressed WAV codecs (ADPCM, …) are refused with a clear message.
 */

/** Decoded audio: one Float32Array per channel, samples in −1…1. */
export interface DecodedAudio {
  sampleRate: number;
  channels: Float32Array[];
}

/** Thrown when bytes are not a WAV this reader can decode; the message says why. */
export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

const WAVE_FORMAT = {
  Pcm: 0x0001,
  IeeeFloat: 0x0003,
  ALaw: 0x0006,
  MuLaw: 0x0007,
  Extensible: 0xfffe,
} as const;

interface WavFormat {
  formatTag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

/**
 * Decodes a WAV file, or only its first `maxSeconds` when given (long files are not analysed whole).
 * Tolerates a data chunk that claims more bytes than the file holds (streams written before their
 * length was known) by reading what is there.
 * @throws WavFormatError for anything that is not a decodable WAV.
 * @example const { sampleRate, channels } = decodeWav(bytes);
 */
export function decodeWav(bytes: Uint8Array, maxSeconds = Infinity): DecodedAudio {
  const { format, data } = locateData(bytes);
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
  const { format, data } = locateData(bytes);
  if (channel < 0 || channel >= format.channels) {
    throw new WavFormatError(`channel ${channel} does not exist (the WAV has ${format.channels})`);
  }
  return { sampleRate: format.sampleRate, samples: decodeSamples(data, format, channel, maxSeconds) };
}

/** Walks the RIFF chunks to the format and the sample data. */
function locateData(bytes: Uint8Array): { format: WavFormat; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = ascii(bytes, offset, 4);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = readFormat(view, body, size);
    } else if (id === 'data') {
      if (!format) throw new WavFormatError('data chunk before fmt chunk');
      const available = Math.min(size, bytes.byteLength - body);
      // Fail on an unsupported encoding here, before any sample is read.
      sampleReader(format.formatTag, Math.floor(format.blockAlign / format.channels), format.bitsPerSample);
      return { format, data: bytes.subarray(body, body + available) };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  throw new WavFormatError(format ? 'no data chunk' : 'no fmt chunk');
}

function readFormat(view: DataView, at: number, size: number): WavFormat {
  if (size < 16 || at + 16 > view.byteLength) throw new WavFormatError('fmt chunk too short');
  let formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (formatTag === WAVE_FORMAT.Extensible) {
    // The real format is the first two bytes of the SubFormat GUID (cbSize 22 → GUID at +24).
    if (size < 40 || at + 26 > view.byteLength)
      throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE without SubFormat');
    formatTag = view.getUint16(at + 24, true);
  }
  if (channels === 0 || sampleRate === 0 || blockAlign === 0)
    throw new WavFormatError('fmt chunk declares no audio');
  return { formatTag, channels, sampleRate, blockAlign, bitsPerSample };
}

function decodeSamples(
  data: Uint8Array,
  format: WavFormat,
  channel: number,
  maxSeconds: number,
): Float32Array {
  const { channels, sampleRate, blockAlign, formatTag } = format;
  const bytesPerSample = Math.floor(blockAlign / channels);
  const frames = Math.min(Math.floor(data.byteLength / blockAlign), Math.floor(maxSeconds * sampleRate));
  const read = sampleReader(formatTag, bytesPerSample, format.bitsPerSample);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(frames);
  const offset = channel * bytesPerSample;
  for (let i = 0; i < frames; i++) out[i] = read(view, i * blockAlign + offset);
  return out;
}

type SampleReader = (view: DataView, at: number) => number;

function sampleReader(formatTag: number, bytes: number, bits: number): SampleReader {
  if (formatTag === WAVE_FORMAT.Pcm) {
    switch (bytes) {
      case 1:
        return (v, at) => (v.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
      case 2:
        return (v, at) => v.getInt16(at, true) / 32768;
      case 3:
        return (v, at) =>
          ((v.getUint8(at + 2) << 24) | (v.getUint8(at + 1) << 16) | (v.getUint8(at) << 8)) / 2147483648;
      case 4:
        return (v, at) => v.getInt32(at, true) / 2147483648;
    }
  } else if (formatTag === WAVE_FORMAT.IeeeFloat) {
    if (bytes === 4) return (v, at) => v.getFloat32(at, true);
    if (bytes === 8) return (v, at) => v.getFloat64(at, true);
  } else if (formatTag === WAVE_FORMAT.ALaw && bytes === 1) {
    return (v, at) => aLaw(v.getUint8(at)) / 32768;
  } else if (formatTag === WAVE_FORMAT.MuLaw && bytes === 1) {
    return (v, at) => muLaw(v.getUint8(at)) / 32768;
  }
  throw new WavFormatError(
    `unsupported WAV encoding (format 0x${formatTag.toString(16).padStart(4, '0')}, ${bits} bits)`,
  );
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

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/**
 * Decides what a recording is from its bytes alone (never its name or Content-Type) and reads its
 * channels, sample rate and duration with a few ranged reads: magic numbers pick the format, then
 * small readers walk the WAV/RF64 chunks, the MPEG frames, FLAC STREAMINFO or the Ogg pages.
 *
 * What the platform takes is docs/platform-api.md §5: WAV (PCM 8–32 bit, float, A-law,
 * µ-law, ADPCM), MP3, FLAC and Ogg/Opus. Everything else (Ogg/Vorbis, AAC/M4A, AIFF, MP2, …) is
 * refused with {@link UnsupportedMediaError}, whose message says what was found and what would work.
 */
import { DurationSource } from '../shared/media.ts';

/** Random access to an object's bytes; `S3RangedBlob` is one. */
export interface ByteSource {
  readonly size: number;
  /** Bytes `[start, end)`, clamped to `size`. */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** What the bytes are. */
export interface ProbedAudio {
  /** `WAVE`, `RF64`, `BW64`, `MPEG`, `FLAC` or `Ogg`. */
  container: string;
  /** `PCM`, `IEEE float`, `A-law`, `µ-law`, `MS ADPCM`, `IMA ADPCM`, `MPEG 1 Layer 3`, `FLAC`, `Opus`. */
  codec: string;
  channels: number;
  /** Hz. */
  sampleRate: number;
  durationSeconds: number;
  durationSource: DurationSource;
  /** The MIME type of the format found, for parsers and uploads (`audio/wav`, `audio/mpeg`, …). */
  mimeType: string;
}

/**
 * The bytes are not audio the platform takes. `found` names what they are ("Ogg/Vorbis", "not a
 * recognised audio format (it starts with "This is…")"); `advice` says what would work. The message
 * is `<found>; <advice>` (just `<found>` when there is no advice: converting cannot help a file
 * with no audio), ready to follow `<role> s3://bucket/key is `.
 */
export class UnsupportedMediaError extends Error {
  override name = 'UnsupportedMediaError';
  readonly found: string;
  readonly advice: string;
  constructor(found: string, advice: string = CONVERT_ADVICE) {
    super(advice ? `${found}; ${advice}` : found);
    this.found = found;
    this.advice = advice;
  }
}

/** What the platform takes, as users read it in refusals. */
export const ACCEPTED_FORMATS = 'WAV (PCM 8–32 bit, float, A-law, µ-law or ADPCM), MP3, FLAC or Ogg/Opus';
const CONVERT_ADVICE = `the platform takes ${ACCEPTED_FORMATS}: convert it (ffmpeg -i in -ac 1 -c:a pcm_s16le out.wav)`;

/** Bytes of MPEG frames counted before the duration is extrapolated from their mean bitrate. */
export const FRAME_SCAN_BYTES = 4 * 1024 * 1024;
/** How far into a file a leading ID3v2 tag and junk may push the first MPEG frame. */
const MPEG_SYNC_SEARCH_BYTES = 64 * 1024;
/** Chunks a WAV may have before its data chunk (bext, iXML, JUNK, LIST, …). */
const MAX_WAV_CHUNKS = 256;
const HEAD_BYTES = 64 * 1024;

/**
 * Probes `source`.
 * @throws UnsupportedMediaError when the bytes are not a format the platform takes, or are one but
 *   declare no channels, no sample rate or no audio. Read errors of `source` pass through unchanged.
 * @example const { container, codec, durationSeconds, durationSource } = await probeAudio(blob);
 */
export async function probeAudio(
  source: ByteSource,
  options: { frameScanBytes?: number } = {},
): Promise<ProbedAudio> {
  const head = await source.read(0, HEAD_BYTES);
  const tag4 = ascii(head, 0, 4);
  const form = ascii(head, 8, 12);
  if ((tag4 === 'RIFF' || tag4 === 'RF64' || tag4 === 'BW64') && form === 'WAVE') {
    return probeWav(source, tag4 === 'RIFF' ? 'WAVE' : tag4);
  }
  if (tag4 === 'RIFF')
    throw new UnsupportedMediaError(`a RIFF file of type "${printable(form)}", not WAVE audio`);
  if (tag4 === 'FORM' && (form === 'AIFF' || form === 'AIFC')) {
    throw new UnsupportedMediaError(
      'AIFF audio, which the platform does not list',
      `the platform takes ${ACCEPTED_FORMATS}: convert it (ffmpeg -i in.aiff -c:a pcm_s16le out.wav)`,
    );
  }
  if (tag4 === 'OggS') return probeOgg(source, head);
  if (ascii(head, 4, 8) === 'ftyp') {
    throw new UnsupportedMediaError(
      `MP4/M4A audio (brand "${printable(ascii(head, 8, 12))}", usually AAC), which the platform does not take`,
      `the platform takes ${ACCEPTED_FORMATS}: convert it (ffmpeg -i in.m4a -c:a pcm_s16le out.wav, or -c:a libmp3lame out.mp3)`,
    );
  }
  const known = KNOWN_OTHER_FORMATS.find(([magic]) => startsWith(head, 0, magic));
  if (known) throw new UnsupportedMediaError(`${known[1]}, which the platform does not take`);

  // ID3v2 tags precede MP3 (and sometimes FLAC) audio; skip them, however large.
  let offset = 0;
  let view = head;
  while (ascii(view, 0, 3) === 'ID3' && view.length >= 10) {
    const tagSize = syncsafe(view, 6) + 10 + (view[5]! & 0x10 ? 10 : 0);
    offset += tagSize;
    view = await source.read(offset, offset + HEAD_BYTES);
  }
  if (ascii(view, 0, 4) === 'fLaC') return probeFlac(source, offset, view);
  const mpeg = await findMpegStart(source, offset, view);
  if (mpeg) return probeMpeg(source, mpeg.offset, mpeg.header, options.frameScanBytes ?? FRAME_SCAN_BYTES);
  if (startsAdts(view)) {
    throw new UnsupportedMediaError(
      'AAC audio (ADTS stream), which the platform does not take',
      `the platform takes ${ACCEPTED_FORMATS}: convert it (ffmpeg -i in.aac -c:a libmp3lame out.mp3)`,
    );
  }
  throw new UnsupportedMediaError(
    `not a recognised audio format (it starts with ${describeStart(head)})`,
    `the platform takes ${ACCEPTED_FORMATS}`,
  );
}

/**
 * The MIME type of a file's first bytes (64 KiB is plenty), for the Content-Type of an upload:
 * `audio/wav`, `audio/mpeg`, `audio/flac`, `audio/ogg`, `audio/mp4`, `audio/aiff`, else
 * `application/octet-stream`. A hint for other tools only: {@link probeAudio} never reads it.
 * Pure; never throws.
 * @example sniffContentType(await readHead('really-wav.mp3')) // 'audio/wav'
 */
export function sniffContentType(head: Uint8Array): string {
  const tag4 = ascii(head, 0, 4);
  const form = ascii(head, 8, 12);
  if ((tag4 === 'RIFF' || tag4 === 'RF64' || tag4 === 'BW64') && form === 'WAVE') return 'audio/wav';
  if (tag4 === 'fLaC') return 'audio/flac';
  if (tag4 === 'OggS') return 'audio/ogg';
  if (tag4 === 'FORM' && (form === 'AIFF' || form === 'AIFC')) return 'audio/aiff';
  if (ascii(head, 4, 8) === 'ftyp') return 'audio/mp4';
  if (ascii(head, 0, 3) === 'ID3') return 'audio/mpeg';
  if (mpegHeader(head, 0) && !startsAdts(head)) return 'audio/mpeg';
  return 'application/octet-stream';
}

// ---------------------------------------------------------------------------------------------
// WAV, RF64, BW64

/** WAVE format tags the platform takes, by name. Source: docs/platform-api.md §5. */
const WAV_CODECS: Record<number, string> = {
  0x0001: 'PCM',
  0x0002: 'MS ADPCM',
  0x0003: 'IEEE float',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
};
/** Tags seen in the wild that the platform does not list, for clearer refusals. */
const OTHER_WAV_CODECS: Record<number, string> = {
  0x0010: 'OKI ADPCM',
  0x0014: 'G.723 ADPCM',
  0x0020: 'Yamaha ADPCM',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0045: 'G.726 ADPCM',
  0x0050: 'MPEG Layer 1/2',
  0x0055: 'MPEG Layer 3',
  0x0064: 'G.726 ADPCM',
  0x0065: 'G.722 ADPCM',
  0x0200: 'Creative ADPCM',
  0x00ff: 'AAC',
  0x0161: 'WMA',
  0x2000: 'AC-3',
};

/**
 * Walks the chunks up to `data`: `ds64` (RF64/BW64 sizes), `fmt `, `fact`. Nothing after the data
 * chunk is read, so a defect there (an unpadded LIST chunk, a truncated trailer) cannot refuse
 * intact audio. A data size of 0 or 0xFFFFFFFF (a recorder that never finalised the header) or
 * larger than the file is taken as "to the end of the file".
 */
async function probeWav(source: ByteSource, container: string): Promise<ProbedAudio> {
  let ds64DataSize: number | undefined;
  let fmt: Uint8Array | undefined;
  let factSamples: number | undefined;
  let at = 12;
  let oddSize = false;
  for (let n = 0; n < MAX_WAV_CHUNKS && at + 8 <= source.size; n++) {
    let header = await source.read(at, at + 8);
    if (oddSize && !/^[\x20-\x7e]{4}$/.test(ascii(header, 0, 4))) {
      // The writer left out the pad byte after an odd-sized chunk; the next id starts one byte earlier.
      at -= 1;
      header = await source.read(at, at + 8);
    }
    const id = ascii(header, 0, 4);
    const size = u32le(header, 4);
    const body = at + 8;
    if (id === 'data') {
      let dataSize = size === 0xffffffff && ds64DataSize !== undefined ? ds64DataSize : size;
      const available = source.size - body;
      if (dataSize === 0 || dataSize === 0xffffffff || dataSize > available) dataSize = available;
      if (!fmt) throw new UnsupportedMediaError(`a ${container} file with no fmt chunk before its data`);
      return wavAudio(container, fmt, dataSize, factSamples);
    }
    if (id === 'ds64') {
      const ds64 = await source.read(body, body + Math.min(size, 28));
      if (ds64.length >= 16) ds64DataSize = u32le(ds64, 8) + u32le(ds64, 12) * 2 ** 32;
    } else if (id === 'fmt ') {
      fmt = await source.read(body, body + Math.min(size, 40));
    } else if (id === 'fact' && size >= 4) {
      factSamples = u32le(await source.read(body, body + 4), 0);
    }
    oddSize = size % 2 === 1;
    at = body + size + (size % 2);
  }
  throw new UnsupportedMediaError(`a ${container} file with no data chunk (no audio)`);
}

function wavAudio(container: string, fmt: Uint8Array, dataSize: number, factSamples?: number): ProbedAudio {
  if (fmt.length < 16) throw new UnsupportedMediaError(`a ${container} file with a truncated fmt chunk`);
  let tag = u16le(fmt, 0);
  const channels = u16le(fmt, 2);
  const sampleRate = u32le(fmt, 4);
  const byteRate = u32le(fmt, 8);
  const bits = u16le(fmt, 14);
  // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first two bytes of the sub-format GUID.
  if (tag === 0xfffe && fmt.length >= 26) tag = u16le(fmt, 24);
  const codec = WAV_CODECS[tag];
  const hexTag = `0x${tag.toString(16).padStart(4, '0')}`;
  const other = OTHER_WAV_CODECS[tag];
  const label = `${container}/${codec ?? other ?? `format tag ${hexTag}`}`;
  const wavAdvice = `the platform takes WAV only as PCM (8–32 bit), float, A-law, µ-law or ADPCM: convert it (ffmpeg -i in.wav -c:a pcm_s16le out.wav) or use MP3, FLAC or Ogg/Opus`;
  if (!codec && other?.endsWith('ADPCM')) {
    // "ADPCM" in the platform's list means two variants only; say which, or users keep trying others.
    throw new UnsupportedMediaError(
      `${container}/${other} audio (format tag ${hexTag})`,
      'the platform takes IMA ADPCM (0x0011) or MS ADPCM (0x0002) among ADPCM WAVs: convert it ' +
        '(ffmpeg -i in.wav -c:a adpcm_ima_wav out.wav, or -c:a pcm_s16le for PCM) or use MP3, FLAC or Ogg/Opus',
    );
  }
  if (!codec)
    throw new UnsupportedMediaError(`${label} audio, a WAV codec the platform does not take`, wavAdvice);
  if (codec === 'PCM' && (bits < 8 || bits > 32)) {
    throw new UnsupportedMediaError(`${bits}-bit ${label} audio (the platform takes 8–32 bit)`, wavAdvice);
  }
  if (channels < 1 || sampleRate < 1 || byteRate < 1) {
    throw new UnsupportedMediaError(
      `a ${label} file that declares ${channels} channel(s) at ${sampleRate} Hz (a broken header)`,
      wavAdvice,
    );
  }
  // Nothing to convert: a recorder that stopped before the first sample, or an export that failed.
  if (dataSize <= 0)
    throw new UnsupportedMediaError(`a ${label} file that has no audio (empty data chunk)`, '');
  // ADPCM blocks are padded; the fact chunk's sample count is exact where the data size is not.
  const compressed = codec.endsWith('ADPCM');
  const durationSeconds =
    compressed && factSamples !== undefined && factSamples > 0
      ? factSamples / sampleRate
      : dataSize / byteRate;
  return {
    container,
    codec,
    channels,
    sampleRate,
    durationSeconds,
    durationSource: DurationSource.Header,
    mimeType: 'audio/wav',
  };
}

// ---------------------------------------------------------------------------------------------
// MPEG audio

interface MpegHeader {
  version: '1' | '2' | '2.5';
  layer: 1 | 2 | 3;
  bitrate: number;
  sampleRate: number;
  channels: number;
  frameLength: number;
  samplesPerFrame: number;
}

const BITRATES: Record<string, number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<string, number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/** Parses a 4-byte MPEG audio frame header (ISO 11172-3 / 13818-3); undefined when it is not one. */
function mpegHeader(bytes: Uint8Array, at: number): MpegHeader | undefined {
  if (at + 4 > bytes.length) return undefined;
  const b1 = bytes[at + 1]!;
  const b2 = bytes[at + 2]!;
  const b3 = bytes[at + 3]!;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  const version = versionBits === 3 ? '1' : versionBits === 2 ? '2' : '2.5';
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const bitrate = BITRATES[`${version === '1' ? 1 : 2}-${layer}`]![bitrateIndex]! * 1000;
  const sampleRate = SAMPLE_RATES[version]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const samplesPerFrame = layer === 1 ? 384 : layer === 2 || version === '1' ? 1152 : 576;
  const frameLength =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((samplesPerFrame / 8) * bitrate) / sampleRate) + padding;
  return {
    version,
    layer,
    bitrate,
    sampleRate,
    channels: b3 >> 6 === 3 ? 1 : 2,
    frameLength,
    samplesPerFrame,
  };
}

/**
 * The first MPEG frame at or after `offset` that is followed by two more valid frames of the same
 * version, layer and sample rate (three in a row do not happen by chance in other data).
 */
async function findMpegStart(
  source: ByteSource,
  offset: number,
  view: Uint8Array,
): Promise<{ offset: number; header: MpegHeader } | undefined> {
  const limit = Math.min(view.length - 4, MPEG_SYNC_SEARCH_BYTES);
  for (let i = 0; i <= limit; i++) {
    if (view[i] !== 0xff) continue;
    const first = mpegHeader(view, i);
    if (!first) continue;
    let at = offset + i + first.frameLength;
    let ok = true;
    for (let k = 0; k < 2 && ok; k++) {
      if (at >= source.size) break; // a file of one or two frames
      const next = mpegHeader(await source.read(at, at + 4), 0);
      ok =
        next !== undefined &&
        next.version === first.version &&
        next.layer === first.layer &&
        next.sampleRate === first.sampleRate;
      if (next) at += next.frameLength;
    }
    if (ok) return { offset: offset + i, header: first };
  }
  return undefined;
}

async function probeMpeg(
  source: ByteSource,
  start: number,
  first: MpegHeader,
  scanBudget: number,
): Promise<ProbedAudio> {
  const codec = `MPEG ${first.version} Layer ${first.layer}`;
  if (first.layer !== 3) {
    throw new UnsupportedMediaError(
      `${codec} audio (MP${first.layer}), not MP3`,
      `the platform takes ${ACCEPTED_FORMATS}: convert it (ffmpeg -i in.mp${first.layer} -c:a libmp3lame out.mp3)`,
    );
  }
  const base = {
    container: 'MPEG',
    codec,
    channels: first.channels,
    sampleRate: first.sampleRate,
    mimeType: 'audio/mpeg',
  };
  const frameSeconds = first.samplesPerFrame / first.sampleRate;

  // Xing/Info (lame, most encoders) or VBRI (Fraunhofer) in the first frame: an exact frame count.
  const frame = await source.read(start, start + Math.max(first.frameLength, 64));
  const sideInfo = first.version === '1' ? (first.channels === 1 ? 17 : 32) : first.channels === 1 ? 9 : 17;
  const xingAt = 4 + sideInfo;
  const xing = ascii(frame, xingAt, xingAt + 4);
  if ((xing === 'Xing' || xing === 'Info') && u32be(frame, xingAt + 4) & 1) {
    const frames = u32be(frame, xingAt + 8);
    if (frames > 0)
      return { ...base, durationSeconds: frames * frameSeconds, durationSource: DurationSource.Header };
  }
  if (ascii(frame, 36, 40) === 'VBRI') {
    const frames = u32be(frame, 36 + 14);
    if (frames > 0)
      return { ...base, durationSeconds: frames * frameSeconds, durationSource: DurationSource.Header };
  }

  // No frame count: count frames over ranged reads, within the budget, then extrapolate.
  const CHUNK = 256 * 1024;
  let frames = 0;
  let seconds = 0;
  let at = start;
  let buffer: Uint8Array = new Uint8Array(0);
  let bufferStart = start;
  while (at < source.size && at - start < scanBudget) {
    if (at + 4 > bufferStart + buffer.length) {
      bufferStart = at;
      buffer = await source.read(at, at + CHUNK);
      if (buffer.length < 4) break;
    }
    const header = mpegHeader(buffer, at - bufferStart);
    if (!header || header.sampleRate !== first.sampleRate || header.layer !== 3) break; // end of audio (ID3v1, APE, junk)
    frames++;
    seconds += header.samplesPerFrame / header.sampleRate;
    at += header.frameLength;
  }
  if (frames === 0) throw new UnsupportedMediaError(`an MP3 file with no audio frames`);
  const reachedEnd = at >= source.size || at - start < scanBudget;
  if (reachedEnd) return { ...base, durationSeconds: seconds, durationSource: DurationSource.FrameScan };
  const bytesPerSecond = (at - start) / seconds;
  return {
    ...base,
    durationSeconds: (source.size - start) / bytesPerSecond,
    durationSource: DurationSource.BitrateEstimate,
  };
}

function startsAdts(view: Uint8Array): boolean {
  return view.length >= 2 && view[0] === 0xff && (view[1]! & 0xf6) === 0xf0;
}

// ---------------------------------------------------------------------------------------------
// FLAC

async function probeFlac(source: ByteSource, offset: number, view: Uint8Array): Promise<ProbedAudio> {
  // The first metadata block is STREAMINFO (RFC 9639 §8.2): 20 bits rate, 3 bits channels − 1,
  // 5 bits bits per sample − 1, 36 bits total samples, starting at byte 10 of its body.
  const info = view.length >= 42 ? view : await source.read(offset, offset + 42);
  if ((info[4]! & 0x7f) !== 0)
    throw new UnsupportedMediaError('a FLAC file whose first block is not STREAMINFO');
  const s = 8 + 10;
  const sampleRate = (info[s]! << 12) | (info[s + 1]! << 4) | (info[s + 2]! >> 4);
  const channels = ((info[s + 2]! >> 1) & 7) + 1;
  const bits = (((info[s + 2]! & 1) << 4) | (info[s + 3]! >> 4)) + 1;
  const totalSamples = (info[s + 3]! & 0x0f) * 2 ** 32 + u32be(info, s + 4);
  if (sampleRate === 0) throw new UnsupportedMediaError('a FLAC file that declares a sample rate of 0 Hz');
  const base = { container: 'FLAC', codec: 'FLAC', channels, sampleRate, mimeType: 'audio/flac' };
  if (totalSamples > 0) {
    return { ...base, durationSeconds: totalSamples / sampleRate, durationSource: DurationSource.Header };
  }
  // Streamed FLAC (`ffmpeg … -f flac -`) cannot go back to fill in total_samples. Its last frame
  // header numbers the frame (fixed block size) or its first sample (variable), which gives the
  // exact length from one read at the end of the file.
  const nominalBlockSize = (info[8]! << 8) | info[9]!;
  const fromFrames = await flacSamplesFromLastFrame(source, offset, {
    sampleRate,
    channels,
    nominalBlockSize,
  });
  if (fromFrames !== undefined) {
    return { ...base, durationSeconds: fromFrames / sampleRate, durationSource: DurationSource.FrameScan };
  }
  // No frame found: FLAC never exceeds PCM size, so this is a lower bound.
  return {
    ...base,
    durationSeconds: (source.size - offset) / ((sampleRate * channels * bits) / 8),
    durationSource: DurationSource.BitrateEstimate,
  };
}

/** Bytes read from the end of a FLAC file for its last frames; a second, larger try follows. */
const FLAC_TAIL_BYTES = [256 * 1024, 4 * 1024 * 1024];

interface FlacFrameHeader {
  /** Offset in the buffer it was found in. */
  at: number;
  variable: boolean;
  /** Frame number (fixed block size) or number of the first sample (variable). */
  number: number;
  blockSize: number;
}

/**
 * Total samples of a FLAC stream from the headers of its last frames (RFC 9639 §9.1), or
 * undefined when none is found in the last few MiB. A header counts when its CRC-8 matches, its
 * channels and sample rate agree with STREAMINFO, and (when there is one before it in the tail)
 * its number follows the previous frame's: a sync code in compressed data rarely passes all three.
 */
async function flacSamplesFromLastFrame(
  source: ByteSource,
  streamStart: number,
  stream: { sampleRate: number; channels: number; nominalBlockSize: number },
): Promise<number | undefined> {
  for (const tailBytes of FLAC_TAIL_BYTES) {
    const start = Math.max(streamStart + 42, source.size - tailBytes);
    const tail = await source.read(start, source.size);
    let last: FlacFrameHeader | undefined;
    let lastConfirmed: FlacFrameHeader | undefined;
    for (let i = 0; i + 6 <= tail.length; i++) {
      if (tail[i] !== 0xff || (tail[i + 1]! & 0xfe) !== 0xf8) continue;
      const frame = flacFrameHeader(tail, i, stream);
      if (!frame) continue;
      const follows =
        last !== undefined &&
        last.variable === frame.variable &&
        (frame.variable ? frame.number === last.number + last.blockSize : frame.number === last.number + 1);
      if (follows) lastConfirmed = frame;
      last = frame;
    }
    const chosen = lastConfirmed ?? last;
    if (chosen) {
      if (chosen.variable) return chosen.number + chosen.blockSize;
      const blockSize = stream.nominalBlockSize > 0 ? stream.nominalBlockSize : chosen.blockSize;
      return chosen.number * blockSize + chosen.blockSize;
    }
    if (start <= streamStart + 42) break; // the whole stream was searched
  }
  return undefined;
}

const FLAC_RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];

/** The frame header at `at`, when it is a valid one for this stream. */
function flacFrameHeader(
  b: Uint8Array,
  at: number,
  stream: { sampleRate: number; channels: number },
): FlacFrameHeader | undefined {
  const variable = (b[at + 1]! & 1) === 1;
  const sizeCode = b[at + 2]! >> 4;
  const rateCode = b[at + 2]! & 0x0f;
  const channelCode = b[at + 3]! >> 4;
  const depthCode = (b[at + 3]! >> 1) & 7;
  if (sizeCode === 0 || rateCode === 15 || channelCode > 10 || depthCode === 3 || (b[at + 3]! & 1) !== 0) {
    return undefined;
  }
  if ((channelCode < 8 ? channelCode + 1 : 2) !== stream.channels) return undefined;
  if (rateCode >= 1 && rateCode <= 11 && FLAC_RATES[rateCode] !== stream.sampleRate) return undefined;
  // The coded number: UTF-8's scheme, up to 7 bytes (36 bits).
  let p = at + 4;
  const first = b[p++];
  if (first === undefined) return undefined;
  let extra = 0;
  let number: number;
  if (first < 0x80) number = first;
  else if (first >= 0xc0 && first < 0xfe) {
    extra = first >= 0xfc ? 5 : first >= 0xf8 ? 4 : first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : 1;
    number = first & (0x3f >> extra);
  } else if (first === 0xfe) {
    extra = 6;
    number = 0;
  } else return undefined;
  for (let k = 0; k < extra; k++) {
    const byte = b[p++];
    if (byte === undefined || (byte & 0xc0) !== 0x80) return undefined;
    number = number * 64 + (byte & 0x3f);
  }
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 * 2 ** (sizeCode - 2);
  else if (sizeCode === 6) blockSize = (b[p++] ?? 0) + 1;
  else if (sizeCode === 7) {
    blockSize = (((b[p] ?? 0) << 8) | (b[p + 1] ?? 0)) + 1;
    p += 2;
  } else blockSize = 256 * 2 ** (sizeCode - 8);
  if (rateCode === 12) p += 1;
  else if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= b.length || crc8(b, at, p) !== b[p]) return undefined;
  return { at, variable, number, blockSize };
}

/** CRC-8 of `b[from, to)`, polynomial x^8 + x^2 + x + 1, initial 0 (the FLAC frame header CRC). */
function crc8(b: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= b[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

// ---------------------------------------------------------------------------------------------
// Ogg

async function probeOgg(source: ByteSource, head: Uint8Array): Promise<ProbedAudio> {
  // The first packet of the first page names the codec (RFC 7845 §5.1 for Opus).
  const segments = head[26] ?? 0;
  const packet = 27 + segments;
  const codecOf = (bytes: Uint8Array, at: number): string | undefined => {
    if (ascii(bytes, at, at + 8) === 'OpusHead') return 'Opus';
    if (bytes[at] === 1 && ascii(bytes, at + 1, at + 7) === 'vorbis') return 'Vorbis';
    if (ascii(bytes, at, at + 5) === 'Speex') return 'Speex';
    if (bytes[at] === 0x7f && ascii(bytes, at + 1, at + 5) === 'FLAC') return 'FLAC';
    if (ascii(bytes, at, at + 7) === 'fishead') return 'Skeleton';
    return undefined;
  };
  let codec = codecOf(head, packet);
  let opusHead = packet;
  if (codec === 'Skeleton' || codec === undefined) {
    // A skeleton stream comes first; find the audio stream's header in the first pages.
    opusHead = indexOf(head, 'OpusHead');
    codec = opusHead >= 0 ? 'Opus' : indexOf(head, '\x01vorbis') >= 0 ? 'Vorbis' : codec;
  }
  if (codec !== 'Opus') {
    const found =
      codec === undefined ? 'an Ogg file with no audio stream the probe knows' : `Ogg/${codec} audio`;
    throw new UnsupportedMediaError(
      found,
      'the platform takes Ogg only with the Opus codec: convert it (ffmpeg -i in.ogg -c:a libopus out.opus) or use WAV, MP3 or FLAC',
    );
  }
  const channels = head[opusHead + 9] ?? 0;
  const preSkip = u16le(head, opusHead + 10);
  const sampleRate = u32le(head, opusHead + 12) || 48000;
  if (channels < 1) throw new UnsupportedMediaError('an Ogg/Opus file that declares no channels');
  // The last page's granule position counts 48 kHz samples from the start (RFC 7845 §4).
  const tailStart = Math.max(0, source.size - 64 * 1024);
  const tail = await source.read(tailStart, source.size);
  const last = lastIndexOf(tail, 'OggS');
  const granule = last >= 0 ? u32le(tail, last + 6) + u32le(tail, last + 10) * 2 ** 32 : 0;
  if (granule <= preSkip) throw new UnsupportedMediaError('an Ogg/Opus file with no audio');
  return {
    container: 'Ogg',
    codec: 'Opus',
    channels,
    sampleRate,
    durationSeconds: (granule - preSkip) / 48000,
    durationSource: DurationSource.Header,
    mimeType: 'audio/ogg',
  };
}

// ---------------------------------------------------------------------------------------------
// bytes

const KNOWN_OTHER_FORMATS: Array<[string, string]> = [
  ['\x1aE\xdf\xa3', 'a Matroska/WebM file'],
  ['0&\xb2u\x8ef\xcf\x11', 'an ASF/WMA file'],
  ['caff', 'a Core Audio (CAF) file'],
  ['#!AMR', 'AMR audio'],
  ['.snd', 'Sun/NeXT AU audio'],
  ['MAC ', "Monkey's Audio (APE)"],
  ['wvpk', 'WavPack audio'],
  ['%PDF', 'a PDF document'],
  ['\x89PNG', 'a PNG image'],
  ['PK\x03\x04', 'a ZIP archive'],
];

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));
}

function startsWith(bytes: Uint8Array, at: number, magic: string): boolean {
  return ascii(bytes, at, at + magic.length) === magic;
}

function indexOf(bytes: Uint8Array, text: string, limit = bytes.length): number {
  const needle = Buffer.from(text, 'latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(limit, bytes.length)).indexOf(needle);
}

function lastIndexOf(bytes: Uint8Array, text: string): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).lastIndexOf(Buffer.from(text, 'latin1'));
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '.');
}

function describeStart(bytes: Uint8Array): string {
  const start = bytes.subarray(0, 16);
  const text = ascii(start, 0, start.length);
  if (/^[\x20-\x7e\t\r\n]*$/.test(text)) return `the text "${text.replace(/\s+/g, ' ').trim()}…"`;
  return `the bytes ${Buffer.from(start.subarray(0, 8)).toString('hex')}`;
}

function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function u32le(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16)) + (b[at + 3] ?? 0) * 2 ** 24;
}

function u32be(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) * 2 ** 24 + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0));
}

function syncsafe(b: Uint8Array, at: number): number {
  return (
    ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f)
  );
}

/**
 * Recordings as users really have them: every WAV sample format the platform lists, RF64, WAVs with
 * sloppy metadata, files with the wrong extension, VBR MP3 without a Xing header, phone recordings
 * at 8 kHz in every encoding a telephone system writes (PCM 8/16 bit, µ-law, A-law, IMA/MS ADPCM,
 * GSM 6.10, G.726, MP3), voice notes of messaging apps (Ogg/Opus at 16 and 48 kHz), what browsers
 * and meeting tools record (WebM/Opus, M4A/AAC), recordings that are mostly or only silence or noise,
 * and formats the platform refuses (Ogg/Vorbis, AAC in M4A, AIFF, text). All are made from the same
 * few seconds of espeak-ng speech (or none) with sox, lame and ffmpeg (or byte by byte where no tool
 * writes the defect), and cached under `os.tmpdir()` keyed by a recipe version and the source's hash.
 *
 * `accepted` is what the platform takes according to docs/platform-api.md §5: WAV (PCM 8–32
 * bit, float, A-law, µ-law, ADPCM), MP3, FLAC and Ogg/Opus. Ogg/Vorbis, AAC/M4A and AIFF are not
 * listed there, so they are `accepted: false`; so are GSM 6.10 and G.726 WAVs (§5 names ADPCM, and
 * both gates take the two ADPCM WAV codecs players agree on, IMA and MS) and WebM. Both
 * `inspectMedia` and the emulator are tested against this one list, so they agree on what a user
 * may send; `speech` says what an accepted one scores as (test/integration/bad-input.test.ts).
 *
 * @example
 * for (const recording of await realWorldRecordings()) {
 *   console.log(recording.name, recording.file, recording.accepted);
 * }
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileExists, runTool, writeAtomically } from '../../dev/demo/speech-synthesis.ts';
import {
  SENTENCES,
  sha256File,
  speechWav,
  stereoWav,
  toFlac,
  toMp3,
  toOggOpus,
  toWavEncoding,
} from './audio.ts';

/** Bump when a recipe below changes, so stale cached files are not reused. */
const RECIPE_VERSION = 'rw3';

/** Where the recordings are cached unless a directory is passed. */
export const REAL_WORLD_AUDIO_DIR = path.join(os.tmpdir(), `rdd-real-world-audio-${RECIPE_VERSION}`);

/** What a correct probe must find in an accepted recording. */
export interface ExpectedAudio {
  /** Container decided from the bytes: `WAVE`, `RF64`, `MPEG`, `FLAC` or `Ogg`. */
  container: 'WAVE' | 'RF64' | 'MPEG' | 'FLAC' | 'Ogg';
  /** Codec, e.g. `PCM`, `IEEE float`, `µ-law`, `A-law`, `IMA ADPCM`, `MS ADPCM`, `MPEG 1 Layer 3`, `FLAC`, `Opus`. */
  codec: string;
  channels: number;
  /** Hz. */
  sampleRate: number;
  /** Seconds of audio, ±0.15 s (MP3 adds encoder delay and padding, ADPCM pads its last block). */
  durationSeconds: number;
}

/** One recording, and whether the platform takes it. */
export interface RealWorldRecording {
  /** Stable id, e.g. `wav-pcm16`, `mp3-vbr-no-xing`; usable in test names and object keys. */
  name: string;
  /** Absolute path; its extension is what a user would have, which may be wrong on purpose. */
  file: string;
  /** How it was made and why it is in the list. */
  description: string;
  /** Whether the platform takes it (with `channel` when it has more than one channel). */
  accepted: boolean;
  /** For refused ones: why (which format it is and that the platform does not list it). */
  why?: string;
  /** The channel to choose, for multi-channel recordings. */
  channel?: number;
  /** What a probe must find, for accepted recordings. */
  expected?: ExpectedAudio;
  /**
   * For accepted recordings: `true` when it holds enough speech for a score, `false` when the
   * platform finds under 0.3 s of speech (silence, faint room noise) and answers `score: null`
   * (verdict `inconclusive`). Loud noise counts as speech to the emulator's energy detector, which
   * is the emulator's limit, not the platform's: such a recording has `speech: true` here.
   */
  speech?: boolean;
}

const inFlight = new Map<string, Promise<RealWorldRecording[]>>();

/**
 * Makes (once per directory and recipe version; later calls reuse the files) and lists the
 * recordings. Concurrent callers, also in other processes, are safe: files are written atomically.
 * @param dir where to keep the files made here; default {@link REAL_WORLD_AUDIO_DIR}. Files that
 *   test/helpers/audio.ts already makes (PCM WAVs, CBR MP3, FLAC, Ogg/Opus, stereo) stay in its cache.
 * @throws MissingToolError when espeak-ng, sox, lame or ffmpeg is missing; Error when a tool fails.
 */
export function realWorldRecordings(dir: string = REAL_WORLD_AUDIO_DIR): Promise<RealWorldRecording[]> {
  let pending = inFlight.get(dir);
  if (!pending) {
    pending = makeAll(dir);
    inFlight.set(dir, pending);
    pending.catch(() => inFlight.delete(dir));
  }
  return pending;
}

async function makeAll(dir: string): Promise<RealWorldRecording[]> {
  await mkdir(dir, { recursive: true });
  const base = await speechWav({ text: SENTENCES.a, voice: 'en+m3' });
  const baseBytes = await readFile(base);
  const seconds = pcmWavSeconds(baseBytes);
  const sourceHash = await sha256File(base);
  const make = (name: string, recipe: (out: string) => Promise<void>): Promise<string> =>
    cached(dir, name, sourceHash, recipe);
  const ffmpeg = (out: string, ...args: string[]): Promise<void> =>
    runTool('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      base,
      ...args,
      '-fflags',
      '+bitexact',
      '-flags:a',
      '+bitexact',
      out,
    ]);
  const wav = (codec: string, channels: number, sampleRate: number): ExpectedAudio => ({
    container: 'WAVE',
    codec,
    channels,
    sampleRate,
    durationSeconds: seconds,
  });
  const mp3 = (sampleRate = 16000): ExpectedAudio => ({
    container: 'MPEG',
    codec: 'MPEG 2 Layer 3',
    channels: 1,
    sampleRate,
    durationSeconds: seconds,
  });

  const [
    pcm8,
    pcm24,
    pcm32,
    float32,
    mulaw,
    alaw,
    imaAdpcm,
    msAdpcm,
    extensible,
    rf64,
    unpaddedList,
    wavAsMp3,
    cbrMp3,
    mp3AsWav,
    vbrNoXing,
    vbrXing,
    id3v2Mp3,
    flac,
    flacStreamed,
    opus,
    vorbis,
    stereo,
    text,
    m4a,
    aiff,
  ] = await Promise.all([
    toWavEncoding(base, { bits: 8 }),
    toWavEncoding(base, { bits: 24 }),
    toWavEncoding(base, { bits: 32 }),
    toWavEncoding(base, { bits: 32, encoding: 'floating-point' }),
    make('wav-mulaw-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'pcm_mulaw')),
    make('wav-alaw-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'pcm_alaw')),
    make('wav-ima-adpcm-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'adpcm_ima_wav')),
    make('wav-ms-adpcm-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'adpcm_ms')),
    make('wav-extensible.wav', (out) => writeFile(out, toExtensible(baseBytes))),
    make('wav-rf64.wav', (out) => ffmpeg(out, '-c:a', 'pcm_s16le', '-rf64', 'always')),
    make('wav-unpadded-list.wav', (out) => writeFile(out, withUnpaddedListChunk(baseBytes))),
    make('really-wav.mp3', (out) => copyFile(base, out)),
    toMp3(base),
    make('really-mp3.wav', async (out) => copyFile(await toMp3(base), out)),
    make('mp3-vbr-no-xing.mp3', (out) => runTool('lame', ['--quiet', '-V', '4', '-t', base, out])),
    make('mp3-vbr-xing.mp3', (out) => runTool('lame', ['--quiet', '-V', '4', base, out])),
    make('mp3-id3v2.mp3', (out) =>
      runTool('lame', [
        '--quiet',
        '--add-id3v2',
        '--tt',
        'A recorded call',
        '--ta',
        'Field recorder',
        // A big tag (padding, as taggers leave room for cover art) puts the audio past the first read.
        '--pad-id3v2-size',
        '300000',
        base,
        out,
      ]),
    ),
    toFlac(base),
    // What a pipe gets (ffmpeg … -f flac - > x.flac): STREAMINFO cannot be rewritten, total_samples 0.
    make('flac-streamed.flac', (out) => ffmpeg(out, '-c:a', 'flac', '-seekable', '0', '-f', 'flac')),
    toOggOpus(base),
    make('ogg-vorbis.ogg', (out) => ffmpeg(out, '-c:a', 'libvorbis', '-q:a', '3')),
    stereoWav(),
    make('text-named.wav', (out) => writeFile(out, 'This is a text file, not a recording.\n'.repeat(40))),
    make('aac.m4a', (out) => ffmpeg(out, '-c:a', 'aac', '-b:a', '64k')),
    make('aiff.aiff', (out) => runTool('sox', ['-R', base, out])),
  ]);
  const noise = (out: string, volume: string): Promise<void> =>
    runTool('sox', [
      '-R',
      '-n',
      '-r',
      '16000',
      '-c',
      '1',
      '-b',
      '16',
      out,
      'synth',
      '10',
      'whitenoise',
      'vol',
      volume,
    ]);
  const [
    phonePcm16,
    phonePcm8,
    phoneGsm,
    phoneG726,
    phoneMp3,
    whatsapp,
    telegram,
    webm,
    meetingM4a,
    longSilence,
    silenceOnly,
    faintNoise,
    loudNoise,
  ] = await Promise.all([
    make('phone-pcm16-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'pcm_s16le')),
    make('phone-pcm8-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'pcm_u8')),
    make('phone-gsm-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'libgsm_ms')),
    make('phone-g726-8k.wav', (out) => ffmpeg(out, '-ar', '8000', '-c:a', 'g726', '-b:a', '32k')),
    make('phone-8k.mp3', (out) => runTool('lame', ['--quiet', '-b', '16', '--resample', '8', base, out])),
    // WhatsApp voice notes: Ogg/Opus, mono, 16 kHz, low bit rate, VoIP tuning.
    make('PTT-20240101-WA0001.opus', (out) =>
      ffmpeg(out, '-ar', '16000', '-c:a', 'libopus', '-b:a', '16k', '-application', 'voip', '-f', 'ogg'),
    ),
    // Telegram voice messages: Ogg/Opus at 48 kHz.
    make('telegram-voice.ogg', (out) => ffmpeg(out, '-ar', '48000', '-c:a', 'libopus', '-b:a', '32k')),
    // Browsers' MediaRecorder (and Google Meet's recorder) write WebM with Opus.
    make('browser-recording.webm', (out) => ffmpeg(out, '-ar', '48000', '-c:a', 'libopus', '-f', 'webm')),
    // Zoom's audio-only recording and iPhone voice memos: AAC in M4A, 32 kHz mono.
    make('zoom-audio-only.m4a', (out) => ffmpeg(out, '-ar', '32000', '-c:a', 'aac', '-b:a', '48k')),
    // 20 s of silence, the speech, then silence up to 60 s: a call where someone speaks once.
    make('long-silence-60s.wav', (out) =>
      runTool('sox', ['-R', base, out, 'pad', '20', (LONG_SILENCE_SECONDS - 20 - seconds).toFixed(4)]),
    ),
    make('silence-only.wav', (out) =>
      runTool('sox', ['-R', '-n', '-r', '16000', '-c', '1', '-b', '16', out, 'trim', '0', '10']),
    ),
    make('faint-room-noise.wav', (out) => noise(out, '0.001')),
    make('loud-noise.wav', (out) => noise(out, '0.5')),
  ]);
  const phone = (codec: string): ExpectedAudio => wav(codec, 1, 8000);
  const tenSeconds = (): ExpectedAudio => ({ ...wav('PCM', 1, 16000), durationSeconds: 10 });

  return [
    {
      name: 'wav-pcm16',
      file: base,
      description: 'mono 16-bit PCM WAV, 16 kHz',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-pcm8',
      file: pcm8,
      description: 'mono 8-bit unsigned PCM WAV',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-pcm24',
      file: pcm24,
      description: 'mono 24-bit PCM WAV (sox)',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-pcm32',
      file: pcm32,
      description: 'mono 32-bit integer PCM WAV (sox)',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-float32',
      file: float32,
      description: 'mono 32-bit float WAV (sox)',
      accepted: true,
      expected: wav('IEEE float', 1, 16000),
    },
    {
      name: 'wav-mulaw-8k',
      file: mulaw,
      description: 'µ-law WAV, 8 kHz (telephony)',
      accepted: true,
      expected: wav('µ-law', 1, 8000),
    },
    {
      name: 'wav-alaw-8k',
      file: alaw,
      description: 'A-law WAV, 8 kHz (telephony)',
      accepted: true,
      expected: wav('A-law', 1, 8000),
    },
    {
      name: 'wav-ima-adpcm-8k',
      file: imaAdpcm,
      description: 'IMA ADPCM WAV, 8 kHz (ffmpeg adpcm_ima_wav)',
      accepted: true,
      expected: wav('IMA ADPCM', 1, 8000),
    },
    {
      name: 'wav-ms-adpcm-8k',
      file: msAdpcm,
      description: 'Microsoft ADPCM WAV, 8 kHz (ffmpeg adpcm_ms)',
      accepted: true,
      expected: wav('MS ADPCM', 1, 8000),
    },
    {
      name: 'wav-extensible',
      file: extensible,
      description: 'WAVE_FORMAT_EXTENSIBLE header around 16-bit PCM',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-rf64',
      file: rf64,
      description: 'RF64 WAV (ffmpeg -rf64 always, as broadcast and field recorders write)',
      accepted: true,
      expected: { ...wav('PCM', 1, 16000), container: 'RF64' },
    },
    {
      name: 'wav-unpadded-list',
      file: unpaddedList,
      description:
        'WAV whose LIST/INFO chunk after the data declares a size without its INAM pad byte (ffmpeg plays it)',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'wav-named-mp3',
      file: wavAsMp3,
      description: 'a PCM WAV named really-wav.mp3',
      accepted: true,
      expected: wav('PCM', 1, 16000),
    },
    {
      name: 'mp3-cbr',
      file: cbrMp3,
      description: 'CBR MP3 (lame defaults; lame 3.100 writes no Info frame at 16 kHz)',
      accepted: true,
      expected: mp3(),
    },
    {
      name: 'mp3-named-wav',
      file: mp3AsWav,
      description: 'a CBR MP3 named really-mp3.wav',
      accepted: true,
      expected: mp3(),
    },
    {
      name: 'mp3-vbr-no-xing',
      file: vbrNoXing,
      description: 'VBR MP3 without a Xing/Info frame (lame -V 4 -t): the duration needs a frame scan',
      accepted: true,
      expected: mp3(),
    },
    {
      name: 'mp3-vbr-xing',
      file: vbrXing,
      description: 'VBR MP3 with a Xing frame (lame -V 4)',
      accepted: true,
      expected: mp3(),
    },
    {
      name: 'mp3-id3v2',
      file: id3v2Mp3,
      description: 'MP3 behind a 300 kB ID3v2 tag',
      accepted: true,
      expected: mp3(),
    },
    {
      name: 'flac',
      file: flac,
      description: 'FLAC (sox)',
      accepted: true,
      expected: {
        container: 'FLAC',
        codec: 'FLAC',
        channels: 1,
        sampleRate: 16000,
        durationSeconds: seconds,
      },
    },
    {
      name: 'flac-streamed',
      file: flacStreamed,
      description:
        'streamed FLAC (ffmpeg to a pipe): STREAMINFO total_samples is 0, the length is in the frames',
      accepted: true,
      expected: {
        container: 'FLAC',
        codec: 'FLAC',
        channels: 1,
        sampleRate: 16000,
        durationSeconds: seconds,
      },
    },
    {
      name: 'ogg-opus',
      file: opus,
      description: 'Ogg/Opus (ffmpeg libopus)',
      accepted: true,
      expected: { container: 'Ogg', codec: 'Opus', channels: 1, sampleRate: 16000, durationSeconds: seconds },
    },
    {
      name: 'ogg-vorbis',
      file: vorbis,
      description: 'Ogg/Vorbis (ffmpeg libvorbis)',
      accepted: false,
      why: 'Ogg with the Vorbis codec; the platform takes Ogg only with Opus',
    },
    {
      name: 'wav-stereo',
      file: stereo,
      description: 'two-channel WAV with different speech per channel',
      accepted: true,
      channel: 1,
      expected: { ...wav('PCM', 2, 16000), durationSeconds: pcmWavSeconds(await readFile(stereo)) },
    },
    {
      name: 'text-named-wav',
      file: text,
      description: 'a text file named .wav',
      accepted: false,
      why: 'not audio at all',
    },
    {
      name: 'aac-m4a',
      file: m4a,
      description: 'AAC in an MP4/M4A container (ffmpeg aac)',
      accepted: false,
      why: 'AAC/M4A is not among the formats the platform lists',
    },
    {
      name: 'aiff',
      file: aiff,
      description: 'AIFF (sox)',
      accepted: false,
      why: 'AIFF is not among the formats the platform lists',
    },
    {
      name: 'phone-pcm16-8k',
      file: phonePcm16,
      description: 'telephone recording: 16-bit PCM WAV, 8 kHz',
      accepted: true,
      expected: phone('PCM'),
    },
    {
      name: 'phone-pcm8-8k',
      file: phonePcm8,
      description: 'telephone recording: 8-bit unsigned PCM WAV, 8 kHz',
      accepted: true,
      expected: phone('PCM'),
    },
    {
      name: 'phone-gsm-8k',
      file: phoneGsm,
      description:
        'telephone recording: GSM 6.10 in WAV (WAVE_FORMAT_GSM610), 8 kHz, as PBXs and voice modems write',
      accepted: false,
      why: 'GSM 6.10 is not among the WAV codecs the platform lists',
    },
    {
      name: 'phone-g726-8k',
      file: phoneG726,
      description: 'telephone recording: G.726 ADPCM (32 kbit/s) in WAV, 8 kHz',
      accepted: false,
      why: 'G.726 is not one of the two ADPCM WAV codecs (IMA, MS) both gates take',
    },
    {
      name: 'phone-mp3-8k',
      file: phoneMp3,
      description: 'telephone recording as MP3 at 8 kHz, 16 kbit/s (MPEG 2.5 Layer 3, lame --resample 8)',
      accepted: true,
      // lame's delay and padding (about 1.5 frames of 576 samples) is 0.1 s longer at 8 kHz than at 16.
      expected: { ...mp3(8000), codec: 'MPEG 2.5 Layer 3', durationSeconds: seconds + 0.12 },
    },
    {
      name: 'voice-note-opus-16k',
      file: whatsapp,
      description: 'WhatsApp-style voice note: Ogg/Opus, 16 kHz mono, 16 kbit/s VoIP, named .opus',
      accepted: true,
      expected: { container: 'Ogg', codec: 'Opus', channels: 1, sampleRate: 16000, durationSeconds: seconds },
    },
    {
      name: 'voice-note-opus-48k',
      file: telegram,
      description: 'Telegram-style voice message: Ogg/Opus, 48 kHz mono',
      accepted: true,
      expected: { container: 'Ogg', codec: 'Opus', channels: 1, sampleRate: 48000, durationSeconds: seconds },
    },
    {
      name: 'webm-opus',
      file: webm,
      description: 'browser MediaRecorder / Google Meet recording: WebM (Matroska) with Opus',
      accepted: false,
      why: 'WebM is not among the containers the platform lists (Opus only in Ogg)',
    },
    {
      name: 'meeting-m4a-aac',
      file: meetingM4a,
      description: 'Zoom audio-only recording / iPhone voice memo: AAC in M4A, 32 kHz mono',
      accepted: false,
      why: 'AAC/M4A is not among the formats the platform lists',
    },
    {
      name: 'long-silence',
      file: longSilence,
      description: `${Math.round(seconds)} s of speech after 20 s of silence, ${LONG_SILENCE_SECONDS} s in all`,
      accepted: true,
      speech: true,
      expected: { ...wav('PCM', 1, 16000), durationSeconds: LONG_SILENCE_SECONDS },
    },
    {
      name: 'silence-only',
      file: silenceOnly,
      description: '10 s of digital silence (a call recorded with the microphone muted)',
      accepted: true,
      speech: false,
      expected: tenSeconds(),
    },
    {
      name: 'faint-noise-only',
      file: faintNoise,
      description: '10 s of white noise at -60 dBFS (room tone, no one speaking)',
      accepted: true,
      speech: false,
      expected: tenSeconds(),
    },
    {
      name: 'loud-noise-only',
      file: loudNoise,
      description:
        '10 s of loud white noise; the emulator detects speech by energy, so it scores it (the platform may not)',
      accepted: true,
      speech: true,
      expected: tenSeconds(),
    },
  ];
}

/** Length of `long-silence-60s.wav`: the speech, then silence up to this many seconds. */
const LONG_SILENCE_SECONDS = 60;

/** Seconds of audio in a canonical PCM WAV (44-byte header, as sox writes it for 16-bit mono). */
function pcmWavSeconds(bytes: Buffer): number {
  const { data, byteRate } = wavParts(bytes);
  return data.length / byteRate;
}

/** The fmt and data chunk payloads of a simple RIFF/WAVE file. */
function wavParts(bytes: Buffer): { fmt: Buffer; data: Buffer; byteRate: number } {
  let fmt: Buffer | undefined;
  let data: Buffer | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = bytes.subarray(at + 8, at + 8 + size);
    if (id === 'fmt ') fmt = body;
    if (id === 'data') data = body;
    at += 8 + size + (size % 2);
  }
  if (!fmt || !data) throw new Error('real-world-audio: the base WAV has no fmt or data chunk');
  return { fmt, data, byteRate: fmt.readUInt32LE(8) };
}

function riff(chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

function chunk(id: string, body: Buffer, pad = true): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, pad && body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** The same PCM under a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk (tag 0xFFFE, KSDATAFORMAT_SUBTYPE_PCM). */
function toExtensible(bytes: Buffer): Buffer {
  const { fmt, data } = wavParts(bytes);
  const ext = Buffer.alloc(40);
  fmt.copy(ext, 0, 0, 16);
  ext.writeUInt16LE(0xfffe, 0);
  ext.writeUInt16LE(22, 16); // cbSize
  ext.writeUInt16LE(fmt.readUInt16LE(14), 18); // valid bits per sample
  ext.writeUInt32LE(0x4, 20); // channel mask: front centre
  Buffer.from('0100000000001000800000aa00389b71', 'hex').copy(ext, 24); // PCM sub-format GUID
  return riff([chunk('fmt ', ext), chunk('data', data)]);
}

/**
 * The same WAV followed by a LIST/INFO chunk whose INAM value has an odd length (5) and whose
 * declared size (17) leaves out INAM's pad byte, though the byte is there: a defect of some tagging
 * tools. A parser that rounds INAM up to its pad is left with -1 bytes of LIST ("Illegal remaining
 * size: -1" from music-metadata); ffmpeg plays the file. The RIFF size counts every byte.
 */
function withUnpaddedListChunk(bytes: Buffer): Buffer {
  const { fmt, data } = wavParts(bytes);
  const info = Buffer.concat([
    Buffer.from('INFO', 'latin1'),
    chunk('INAM', Buffer.from('Call\0', 'latin1'), false),
  ]);
  return riff([chunk('fmt ', fmt), chunk('data', data), chunk('LIST', info, false), Buffer.alloc(1)]);
}

async function cached(
  dir: string,
  name: string,
  sourceHash: string,
  make: (out: string) => Promise<void>,
): Promise<string> {
  const recipe = createHash('sha256')
    .update(`${RECIPE_VERSION}:${sourceHash}:${name}`)
    .digest('hex')
    .slice(0, 12);
  // The hash goes before the name so the name (and its possibly wrong extension) is what the user sees.
  const file = path.join(dir, recipe, name);
  if (await fileExists(file)) return file;
  await mkdir(path.dirname(file), { recursive: true });
  return writeAtomically(file, make);
}

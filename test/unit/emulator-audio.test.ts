/**
 * The emulator's media path without HTTP: probing, the WAV reader, the WebAssembly decoders, the
 * DSP helpers, and the stand-in scorer's properties.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

import { decodeChannel } from '../../dev/emulator/audio-decode.ts';
import { fft, resample } from '../../dev/emulator/dsp.ts';
import { MediaProbeError, probeMedia } from '../../dev/emulator/media-probe.ts';
import { scoreFiles } from '../../dev/emulator/score-files.ts';
import { scoreProfiles, voiceProfile } from '../../dev/emulator/scoring.ts';
import { runTool } from '../../dev/demo/speech-synthesis.ts';
import { decodeWav, WavFormatError } from '../../dev/emulator/wav.ts';
import {
  nonAudioFile,
  SENTENCES,
  silenceWav,
  speechWav,
  stereoWav,
  toFlac,
  toMp3,
  toOggOpus,
  toWavEncoding,
} from '../helpers/audio.ts';

const execFileAsync = promisify(execFile);

/** A copy of `file` cut to its first `bytes` bytes, as a recording interrupted mid-write. */
async function truncated(file: string, bytes: number): Promise<string> {
  const out = file.replace(/\.wav$/, `-cut${bytes}.wav`);
  await writeFile(out, (await readFile(file)).subarray(0, bytes));
  return out;
}

/** A WAV file in memory; `extensible` wraps the format tag in WAVE_FORMAT_EXTENSIBLE. */
function wavBytes(options: {
  formatTag: number;
  bits: number;
  channels: number;
  rate: number;
  data: Uint8Array;
  extensible?: boolean;
}): Uint8Array {
  const { formatTag, bits, channels, rate, data, extensible = false } = options;
  const fmtSize = extensible ? 40 : 16;
  const buffer = new ArrayBuffer(12 + 8 + fmtSize + 8 + data.byteLength);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  const ascii = (at: number, text: string): void =>
    text.split('').forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, buffer.byteLength - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  const blockAlign = (bits / 8) * channels;
  view.setUint16(20, extensible ? 0xfffe : formatTag, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bits, true);
  if (extensible) {
    view.setUint16(36, 22, true); // cbSize
    view.setUint16(38, bits, true); // valid bits
    view.setUint32(40, 0, true); // channel mask
    // SubFormat: KSDATAFORMAT_SUBTYPE_* is the format tag, then a fixed GUID tail.
    view.setUint16(44, formatTag, true);
    bytes.set([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 46);
  }
  const dataAt = 20 + fmtSize;
  ascii(dataAt, 'data');
  view.setUint32(dataAt + 4, data.byteLength, true);
  bytes.set(data, dataAt + 8);
  return bytes;
}

describe('WAV reader', () => {
  it('decodes 8-bit unsigned, 16-, 24- and 32-bit PCM exactly', () => {
    const int16 = new DataView(new ArrayBuffer(6));
    [0, 16384, -32768].forEach((v, i) => int16.setInt16(i * 2, v, true));
    expect([
      ...decodeWav(
        wavBytes({ formatTag: 1, bits: 16, channels: 1, rate: 8000, data: new Uint8Array(int16.buffer) }),
      ).channels[0]!,
    ]).toEqual([0, 0.5, -1]);
    expect([
      ...decodeWav(
        wavBytes({ formatTag: 1, bits: 8, channels: 1, rate: 8000, data: Uint8Array.of(128, 192, 0) }),
      ).channels[0]!,
    ]).toEqual([0, 0.5, -1]);
    // 24-bit little endian: 0x400000 = 0.5, 0x800000 = -1
    const pcm24 = Uint8Array.of(0, 0, 0, 0, 0, 0x40, 0, 0, 0x80);
    expect([
      ...decodeWav(
        wavBytes({ formatTag: 1, bits: 24, channels: 1, rate: 8000, data: pcm24, extensible: true }),
      ).channels[0]!,
    ]).toEqual([0, 0.5, -1]);
    const int32 = new DataView(new ArrayBuffer(8));
    int32.setInt32(0, 1 << 30, true);
    int32.setInt32(4, -(2 ** 31), true);
    expect([
      ...decodeWav(
        wavBytes({ formatTag: 1, bits: 32, channels: 1, rate: 8000, data: new Uint8Array(int32.buffer) }),
      ).channels[0]!,
    ]).toEqual([0.5, -1]);
  });

  it('decodes 32-bit float (also as WAVE_FORMAT_EXTENSIBLE) and splits channels', () => {
    const floats = new Float32Array([0.25, -0.75, 0.5, -0.125]); // interleaved L R L R
    const data = new Uint8Array(floats.buffer);
    for (const extensible of [false, true]) {
      const audio = decodeWav(
        wavBytes({ formatTag: 3, bits: 32, channels: 2, rate: 44100, data, extensible }),
      );
      expect(audio.sampleRate).toBe(44100);
      expect([...audio.channels[0]!]).toEqual([0.25, 0.5]);
      expect([...audio.channels[1]!]).toEqual([-0.75, -0.125]);
    }
  });

  it('honours maxSeconds and refuses what it cannot decode', () => {
    const data = new Uint8Array(8000 * 2 * 3); // 3 s of 16-bit silence
    expect(
      decodeWav(wavBytes({ formatTag: 1, bits: 16, channels: 1, rate: 8000, data }), 1).channels[0]!.length,
    ).toBe(8000);
    expect(() => decodeWav(new TextEncoder().encode('RIFF....WAVEjunk'))).toThrow(WavFormatError);
    // GSM 6.10 in WAV (0x0031) is not among the encodings the platform documents.
    expect(() =>
      decodeWav(wavBytes({ formatTag: 0x31, bits: 8, channels: 1, rate: 8000, data: new Uint8Array(65) })),
    ).toThrow(/unsupported WAV encoding \(format 0x0031, 8 bits\)/);
  });
});

describe('probing and decoding real files', () => {
  it('probes WAV, MP3, FLAC and Ogg/Opus for container, channels and duration', async () => {
    const wav = await speechWav({ text: SENTENCES.a, voice: 'en+m3' });
    const expected = {
      WAVE: wav,
      MPEG: await toMp3(wav),
      FLAC: await toFlac(wav),
      'Ogg/Opus': await toOggOpus(wav),
    };
    const wavProbe = await probeMedia(new Uint8Array(await readFile(wav)));
    for (const [container, file] of Object.entries(expected)) {
      const probe = await probeMedia(new Uint8Array(await readFile(file)));
      expect(probe.container, file).toBe(container);
      expect(probe.channels).toBe(1);
      expect(Math.abs(probe.durationSeconds - wavProbe.durationSeconds), container).toBeLessThan(0.15);
    }
    expect((await probeMedia(new Uint8Array(await readFile(await stereoWav())))).channels).toBe(2);
  });

  it('refuses non-audio and empty files with a MediaProbeError', async () => {
    await expect(probeMedia(new Uint8Array(await readFile(await nonAudioFile())))).rejects.toBeInstanceOf(
      MediaProbeError,
    );
    await expect(probeMedia(new Uint8Array(0))).rejects.toThrow('the file is empty');
  });

  it('decodes every format to the same audio within codec tolerance', async () => {
    const wav = await speechWav({ text: SENTENCES.b, voice: 'en+f3' });
    const decode = async (file: string) => {
      const bytes = new Uint8Array(await readFile(file));
      return decodeChannel(bytes, await probeMedia(bytes), 0, 600);
    };
    const reference = await decode(wav);
    expect(reference.sampleRate).toBe(16000);
    const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    for (const file of [
      await toFlac(wav),
      await toWavEncoding(wav, { bits: 24 }),
      await toWavEncoding(wav, { bits: 32, encoding: 'floating-point' }),
    ]) {
      const decoded = await decode(file);
      expect(decoded.samples.length).toBe(reference.samples.length);
      expect(Math.max(...decoded.samples.map((v, i) => Math.abs(v - reference.samples[i]!)))).toBeLessThan(
        1e-4,
      );
    }
    for (const file of [
      await toMp3(wav),
      await toOggOpus(wav),
      await toWavEncoding(wav, { bits: 8, encoding: 'u-law' }),
    ]) {
      const decoded = await decode(file);
      expect(
        Math.abs(decoded.samples.length / decoded.sampleRate - reference.samples.length / 16000),
        file,
      ).toBeLessThan(0.15);
      expect(Math.abs(rms(decoded.samples) / rms(reference.samples) - 1), file).toBeLessThan(0.1);
    }
  });

  it('decodes only the requested channel, and at most maxSeconds', async () => {
    const bytes = new Uint8Array(await readFile(await stereoWav()));
    const probe = await probeMedia(bytes);
    const left = await decodeChannel(bytes, probe, 0, 600);
    const right = await decodeChannel(bytes, probe, 1, 600);
    expect(left.samples).not.toEqual(right.samples);
    expect((await decodeChannel(bytes, probe, 1, 1)).samples.length).toBe(16000);
    await expect(decodeChannel(bytes, probe, 2, 600)).rejects.toThrow(/channel 2 does not exist/);
  });
});

/** Runs ffmpeg on `source` into a fresh file named `name` in a temporary directory. */
async function ffmpegTo(source: string, name: string, args: string[]): Promise<string> {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-emulator-audio-')), name);
  await runTool('ffmpeg', ['-loglevel', 'error', '-y', '-i', source, ...args, out]);
  return out;
}

/** FFmpeg's own decode of a file: interleaved 16-bit samples and the channel count. */
async function ffmpegDecode(file: string, channels: number): Promise<Int16Array[]> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-loglevel', 'error', '-i', file, '-f', 's16le', '-acodec', 'pcm_s16le', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 28 },
  );
  const all = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 2);
  return Array.from({ length: channels }, (_, c) =>
    Int16Array.from({ length: all.length / channels }, (_, i) => all[i * channels + c]!),
  );
}

/** Largest difference in 16-bit steps between our decode and FFmpeg's, after checking lengths. */
function maxLsbDifference(ours: Float32Array, theirs: Int16Array): number {
  expect(ours.length).toBe(theirs.length);
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    max = Math.max(
      max,
      Math.abs(Math.max(-32768, Math.min(32767, Math.round(ours[i]! * 32768))) - theirs[i]!),
    );
  }
  return max;
}

describe('every documented WAV encoding, checked against FFmpeg’s decoder', () => {
  let mono8k: string;
  let stereo: string;
  beforeAll(async () => {
    mono8k = await ffmpegTo(await speechWav({ text: SENTENCES.a, voice: 'en+m3' }), 'speech-8k.wav', [
      '-ar',
      '8000',
    ]);
    stereo = await stereoWav();
  });

  const cases: Array<{ name: string; make: () => Promise<string>; codec: string; channels: number }> = [
    {
      name: 'IMA ADPCM 8 kHz (ffmpeg)',
      codec: 'IMA ADPCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'ima.wav', ['-c:a', 'adpcm_ima_wav']),
    },
    {
      name: 'IMA ADPCM stereo',
      codec: 'IMA ADPCM',
      channels: 2,
      make: () => ffmpegTo(stereo, 'ima2.wav', ['-c:a', 'adpcm_ima_wav']),
    },
    {
      name: 'MS ADPCM 8 kHz (ffmpeg)',
      codec: 'MS ADPCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'ms.wav', ['-c:a', 'adpcm_ms']),
    },
    {
      name: 'MS ADPCM stereo',
      codec: 'MS ADPCM',
      channels: 2,
      make: () => ffmpegTo(stereo, 'ms2.wav', ['-c:a', 'adpcm_ms']),
    },
    {
      name: 'IMA ADPCM (sox, 256-byte blocks)',
      codec: 'IMA ADPCM',
      channels: 1,
      make: async () => {
        const out = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-emulator-audio-')), 'sox-ima.wav');
        await runTool('sox', [mono8k, '-e', 'ima-adpcm', out]);
        return out;
      },
    },
    {
      name: 'MS ADPCM (sox)',
      codec: 'MS ADPCM',
      channels: 1,
      make: async () => {
        const out = path.join(await mkdtemp(path.join(tmpdir(), 'rdd-emulator-audio-')), 'sox-ms.wav');
        await runTool('sox', [mono8k, '-e', 'ms-adpcm', out]);
        return out;
      },
    },
    {
      name: 'IMA ADPCM in RF64',
      codec: 'IMA ADPCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'rf64-ima.wav', ['-c:a', 'adpcm_ima_wav', '-rf64', 'always']),
    },
    {
      name: 'IMA ADPCM cut off mid-block',
      codec: 'IMA ADPCM',
      channels: 1,
      make: async () => truncated(await ffmpegTo(mono8k, 'ima-full.wav', ['-c:a', 'adpcm_ima_wav']), 10_001),
    },
    {
      name: 'MS ADPCM stereo cut off mid-block',
      codec: 'MS ADPCM',
      channels: 2,
      make: async () => truncated(await ffmpegTo(stereo, 'ms2-full.wav', ['-c:a', 'adpcm_ms']), 20_003),
    },
    {
      name: 'A-law',
      codec: 'A-law',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'alaw.wav', ['-c:a', 'pcm_alaw']),
    },
    {
      name: 'µ-law',
      codec: 'µ-law',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'mulaw.wav', ['-c:a', 'pcm_mulaw']),
    },
    {
      name: '8-bit unsigned',
      codec: 'PCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'u8.wav', ['-c:a', 'pcm_u8']),
    },
    {
      name: '24-bit',
      codec: 'PCM',
      channels: 2,
      make: () => ffmpegTo(stereo, 's24.wav', ['-c:a', 'pcm_s24le']),
    },
    {
      name: '32-bit',
      codec: 'PCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 's32.wav', ['-c:a', 'pcm_s32le']),
    },
    {
      name: '64-bit float',
      codec: 'IEEE float',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'f64.wav', ['-c:a', 'pcm_f64le']),
    },
    {
      name: '16-bit PCM in RF64',
      codec: 'PCM',
      channels: 1,
      make: () => ffmpegTo(mono8k, 'rf64.wav', ['-rf64', 'always']),
    },
  ];

  for (const { name, make, codec, channels } of cases) {
    it(`${name}: probes the encoding and decodes every sample as FFmpeg does (±1 LSB)`, async () => {
      const file = await make();
      const bytes = new Uint8Array(await readFile(file));
      const theirs = await ffmpegDecode(file, channels);
      const probe = await probeMedia(bytes);
      expect(probe).toMatchObject({ container: 'WAVE', codec, channels });
      expect(theirs[0]!.length).toBeGreaterThan(probe.sampleRate); // over a second of audio, not an empty decode
      expect(probe.durationSeconds).toBeCloseTo(theirs[0]!.length / probe.sampleRate, 6);
      const ours = decodeWav(bytes);
      for (let c = 0; c < channels; c++)
        expect(maxLsbDifference(ours.channels[c]!, theirs[c]!), `channel ${c}`).toBeLessThanOrEqual(1);
      // The channel path decodes the same samples, and stops at maxSeconds.
      const last = await decodeChannel(bytes, probe, channels - 1, 1);
      expect(last.samples).toEqual(ours.channels[channels - 1]!.subarray(0, probe.sampleRate));
    });
  }

  it('finds the data after a chunk written without its pad byte, and ignores junk after the data', async () => {
    const pcm = new Int16Array([1000, -2000, 3000, -4000]);
    const plain = wavBytes({
      formatTag: 1,
      bits: 16,
      channels: 1,
      rate: 8000,
      data: new Uint8Array(pcm.buffer),
    });
    // fmt (12..36) | LIST of odd size 5 with no pad | data … | 3 stray bytes
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx')]);
    const bytes = new Uint8Array(
      Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36), Buffer.from([1, 2, 3])]),
    );
    expect([...decodeWav(bytes).channels[0]!]).toEqual([...pcm].map((v) => v / 32768));
    expect(await probeMedia(bytes)).toMatchObject({
      container: 'WAVE',
      codec: 'PCM',
      durationSeconds: 4 / 8000,
    });
  });

  it('refuses WAV encodings the platform does not document, naming the format', async () => {
    const gsm = wavBytes({ formatTag: 0x31, bits: 8, channels: 1, rate: 8000, data: new Uint8Array(65) });
    await expect(probeMedia(gsm)).rejects.toThrow(
      /unsupported WAV encoding \(format 0x0031.*the platform accepts WAV/,
    );
    // WAVE_FORMAT_EXTENSIBLE whose SubFormat is not a KSDATAFORMAT_SUBTYPE_* GUID (e.g. a vendor codec).
    const vendor = wavBytes({
      formatTag: 1,
      bits: 16,
      channels: 1,
      rate: 8000,
      data: new Uint8Array(16),
      extensible: true,
    });
    vendor[52] = 0x42; // 8000-00aa… → 4200-00aa…
    await expect(probeMedia(vendor)).rejects.toThrow(
      /unsupported WAV encoding \(SubFormat 00000001-0000-0010-4200-00aa00389b71\)/,
    );
  });

  it('counts every frame of a VBR MP3 without a Xing/Info frame, as FFmpeg decodes it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-emulator-audio-'));
    const vbr = path.join(dir, 'vbr-no-xing.mp3');
    await runTool('lame', [
      '--quiet',
      '-V',
      '4',
      '-t',
      await speechWav({ text: SENTENCES.a, voice: 'en+m3' }),
      vbr,
    ]);
    const [theirs] = await ffmpegDecode(vbr, 1);
    const probe = await probeMedia(new Uint8Array(await readFile(vbr)));
    expect(probe).toMatchObject({ container: 'MPEG', codec: 'MPEG 2 Layer 3', sampleRate: 16000 });
    // Exact: music-metadata's estimate from the first frames is 0.6 s short on this file.
    expect(probe.durationSeconds).toBe(theirs!.length / 16000);
  });

  it('takes streamed FLAC (total_samples 0) and counts its duration from the frames, as FFmpeg decodes it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rdd-emulator-audio-'));
    const streamed = path.join(dir, 'streamed.flac');
    // What `ffmpeg -i x.wav -f flac - > x.flac` writes: the muxer cannot seek back to STREAMINFO.
    await runTool('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      await speechWav({ text: SENTENCES.a, voice: 'en+m3' }),
      '-c:a',
      'flac',
      '-seekable',
      '0',
      '-f',
      'flac',
      streamed,
    ]);
    const bytes = new Uint8Array(await readFile(streamed));
    expect(Buffer.from(bytes.subarray(21, 26)).toString('hex')).toBe('f000000000'); // 0 total samples
    const [theirs] = await ffmpegDecode(streamed, 1);
    const probe = await probeMedia(bytes);
    expect(probe).toMatchObject({ container: 'FLAC', channels: 1, sampleRate: 16000 });
    expect(probe.durationSeconds).toBe(theirs!.length / 16000);
    const decoded = await decodeChannel(bytes, probe, 0, 600);
    expect(decoded.samples.length).toBe(theirs!.length);
  });

  it('decides the container from the bytes and refuses Ogg/Vorbis, AAC, AIFF and MP2', async () => {
    const refused = {
      'Ogg/Vorbis I': await ffmpegTo(mono8k, 'vorbis.opus', ['-c:a', 'libvorbis']),
      'isom/iso2/mp41/MPEG-4/AAC': await ffmpegTo(mono8k, 'aac.mp3', ['-c:a', 'aac', '-f', 'mp4']),
      'AIFF/PCM': await ffmpegTo(mono8k, 'aiff.wav', ['-f', 'aiff']),
      'MPEG/MPEG 2 Layer 2': await ffmpegTo(mono8k, 'layer2.mp3', [
        '-c:a',
        'mp2',
        '-ar',
        '16000',
        '-f',
        'mp2',
      ]),
    };
    for (const [what, file] of Object.entries(refused)) {
      await expect(probeMedia(new Uint8Array(await readFile(file))), file).rejects.toThrow(
        `unsupported media format "${what}"; the platform accepts WAV`,
      );
    }
  });
});

describe('DSP', () => {
  it('FFT matches a naive DFT', () => {
    const n = 64;
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) + (i % 5) * 0.1);
    const im = new Float64Array(n);
    const input = Float64Array.from(re);
    fft(re, im);
    for (const k of [0, 1, 7, 31, 63]) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        sr += input[t]! * Math.cos((2 * Math.PI * k * t) / n);
        si -= input[t]! * Math.sin((2 * Math.PI * k * t) / n);
      }
      expect(re[k]).toBeCloseTo(sr, 9);
      expect(im[k]).toBeCloseTo(si, 9);
    }
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(RangeError);
  });

  it('resamples keeping in-band tones and removing what would alias', () => {
    const rate = 44100;
    const tone = (hz: number) =>
      Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
    const rms = (x: Float32Array) =>
      Math.sqrt(x.slice(200, -200).reduce((s, v) => s + v * v, 0) / (x.length - 400));
    const kept = resample(tone(1000), rate, 8000);
    expect(kept.length).toBe(8000);
    expect(rms(kept)).toBeCloseTo(Math.SQRT1_2, 2);
    expect(rms(resample(tone(6000), rate, 8000))).toBeLessThan(0.01); // above 4 kHz: filtered, not folded to 2 kHz
  });
});

describe('stand-in scorer', () => {
  it('is deterministic and symmetric', async () => {
    const a = await speechWav({ text: SENTENCES.a, voice: 'en+m3' });
    const b = await toMp3(await speechWav({ text: SENTENCES.a, voice: 'en+m7' }));
    const first = await scoreFiles(a, b);
    expect(first).toEqual({ state: 'done', score: expect.any(Number) });
    expect(await scoreFiles(a, b)).toEqual(first);
    expect(await scoreFiles(b, a)).toEqual(first);
  });

  it('puts other-gender voices far above 0 and a re-encoding of the same audio far below', async () => {
    const male = await speechWav({ text: SENTENCES.a, voice: 'en+m3' });
    const female = await speechWav({ text: SENTENCES.b, voice: 'en+f3' });
    expect((await scoreFiles(male, female)) as { score: number }).toMatchObject({
      score: expect.any(Number),
    });
    expect(((await scoreFiles(male, female)) as { score: number }).score).toBeGreaterThan(3);
    expect(((await scoreFiles(male, await toMp3(male))) as { score: number }).score).toBeLessThan(-3);
    expect(await scoreFiles(male, male)).toEqual({ state: 'done', score: -10 });
  });

  it('answers null without enough speech', async () => {
    const silence = await silenceWav(2);
    expect(await scoreFiles(await speechWav({ text: SENTENCES.a }), silence)).toEqual({
      state: 'done',
      score: null,
    });
    const quiet = await voiceProfile(new Float32Array(16000), 16000);
    expect(quiet.speechSeconds).toBe(0);
    expect(scoreProfiles(quiet, quiet)).toBeNull();
  });
});

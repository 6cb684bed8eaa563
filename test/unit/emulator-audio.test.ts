/**
 * The emulator's media path without HTTP: probing, the WAV reader, the WebAssembly decoders, the
 * DSP helpers, and the stand-in scorer's properties.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { decodeChannel } from '../../src/emulator/audio-decode.ts';
import { fft, resample } from '../../src/emulator/dsp.ts';
import { MediaProbeError, probeMedia } from '../../src/emulator/media-probe.ts';
import { scoreFiles } from '../../src/emulator/score-files.ts';
import { scoreProfiles, voiceProfile } from '../../src/emulator/scoring.ts';
import { decodeWav, WavFormatError } from '../../src/emulator/wav.ts';
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
    view.setUint16(44, formatTag, true); // SubFormat GUID starts with the format tag
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
    expect(() =>
      decodeWav(wavBytes({ formatTag: 2, bits: 16, channels: 1, rate: 8000, data: new Uint8Array(16) })),
    ).toThrow(/unsupported WAV encoding \(format 0x0002, 16 bits\)/);
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

/**
 * Long audio files for the probe benchmark, made with sox (WAV, FLAC) and lame (MP3) and cached in
 * `os.tmpdir()/rdd-bench-audio-<recipe version>/`, so only the first run pays for encoding.
 */
import os from 'node:os';
import path from 'node:path';
import { encodeMp3, fileExists, runTool, writeAtomically } from '../dev/demo/speech-synthesis.ts';

/** Bump when a recipe changes, so stale files are not reused. */
const RECIPE_VERSION = 'v1';
export const BENCH_AUDIO_DIR = path.join(os.tmpdir(), `rdd-bench-audio-${RECIPE_VERSION}`);

export const AudioFormat = { Wav: 'wav', Mp3: 'mp3', Flac: 'flac' } as const;
export type AudioFormat = (typeof AudioFormat)[keyof typeof AudioFormat];

/**
 * `minutes` of pink noise, 16 kHz mono 16-bit (the platform's usual input), in `format`.
 * Noise rather than a tone so FLAC cannot shrink it to nothing.
 * @throws MissingToolError when sox or lame is missing.
 * @example await benchAudio('flac', 60) // '/tmp/rdd-bench-audio-v1/noise-60min.flac'
 */
export async function benchAudio(format: AudioFormat, minutes: number): Promise<string> {
  const wav = await cached(`noise-${minutes}min.wav`, (out) =>
    runTool('sox', [
      '-n',
      '-r',
      '16000',
      '-c',
      '1',
      '-b',
      '16',
      out,
      'synth',
      String(minutes * 60),
      'pinknoise',
      'vol',
      '0.3',
    ]),
  );
  switch (format) {
    case AudioFormat.Wav:
      return wav;
    case AudioFormat.Mp3:
      return cached(`noise-${minutes}min.mp3`, (out) => encodeMp3(wav, out).then(() => undefined));
    case AudioFormat.Flac:
      return cached(`noise-${minutes}min.flac`, (out) => runTool('sox', [wav, out]));
  }
}

async function cached(name: string, make: (out: string) => Promise<void>): Promise<string> {
  const file = path.join(BENCH_AUDIO_DIR, name);
  // writeAtomically creates the directory; a half-made file never sits under the final name.
  return (await fileExists(file)) ? file : writeAtomically(file, make);
}

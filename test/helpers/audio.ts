/**
 * Real audio fixtures for tests, generated with espeak-ng, sox, lame and ffmpeg and cached in
 * `os.tmpdir()/rdd-audio-fixtures-<recipe hash>/`: each file's name carries a hash of how it was
 * made, so a second run (or another test worker) reuses it. Every function returns a file path.
 *
 * If a command is missing, the functions throw `MissingToolError` naming the Debian package to
 * install (espeak-ng, sox, lame, ffmpeg).
 *
 * @example
 * const reference = await speechWav({ text: 'My voice is my password.', voice: 'en+m3' });
 * const questioned = await toMp3(await speechWav({ text: 'My voice is my password.', voice: 'en+f3' }));
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256File } from '../../src/storage/media-upload.ts';

import {
  encodeMp3,
  fileExists,
  runTool,
  synthesizeWav,
  writeAtomically,
} from '../../dev/demo/speech-synthesis.ts';

/** Bump when a recipe below changes, so stale cached files are not reused. */
const RECIPE_VERSION = 'v2';

/** Where generated fixtures are cached. */
export const AUDIO_CACHE_DIR = path.join(
  os.tmpdir(),
  `rdd-audio-fixtures-${hash(RECIPE_VERSION).slice(0, 12)}`,
);

/** Default sentences: about 3 s each at espeak's default speed. */
export const SENTENCES = {
  a: 'My voice is my passport, please verify me.',
  b: 'The weather today is calm and the sea is quiet.',
} as const;

const inFlight = new Map<string, Promise<string>>();

export interface SpeechOptions {
  text: string;
  /** espeak-ng voice[+variant]; default `en+m3`. */
  voice?: string;
  /** Sample rate of the WAV; default 16000. */
  sampleRate?: number;
  /** Also copy the result here (parent directories are created); the return value is then this path. */
  path?: string;
}

/**
 * A mono 16-bit PCM WAV of `text` spoken by `voice`.
 * @example await speechWav({ text: 'Hello there.', voice: 'en+f3' }) // '/tmp/rdd-audio-fixtures-…/speech-en_f3-…wav'
 */
export async function speechWav(options: SpeechOptions): Promise<string> {
  const voice = options.voice ?? 'en+m3';
  const sampleRate = options.sampleRate ?? 16000;
  const file = await cached(
    `speech-${slug(voice)}-${slug(options.text)}`,
    'wav',
    { voice, sampleRate, text: options.text },
    (out) => synthesizeWav({ text: options.text, voice, sampleRate, out }).then(() => undefined),
  );
  return copyTo(file, options.path);
}

/**
 * The same audio encoded as MP3 (lame defaults).
 * @example await toMp3(await speechWav({ text: 'Hi there.' }))
 */
export async function toMp3(wavPath: string, options: { path?: string } = {}): Promise<string> {
  const source = await sha256File(wavPath);
  const file = await cached(`mp3-${path.basename(wavPath, '.wav')}`, 'mp3', { source }, (out) =>
    encodeMp3(wavPath, out).then(() => undefined),
  );
  return copyTo(file, options.path);
}

/** The same audio as FLAC (sox). */
export async function toFlac(wavPath: string, options: { path?: string } = {}): Promise<string> {
  const source = await sha256File(wavPath);
  const file = await cached(`flac-${path.basename(wavPath, '.wav')}`, 'flac', { source }, (out) =>
    runTool('sox', ['-R', wavPath, out]),
  );
  return copyTo(file, options.path);
}

/** The same audio as Ogg/Opus (ffmpeg, libopus, bit-exact flags for reproducible bytes). */
export async function toOggOpus(wavPath: string, options: { path?: string } = {}): Promise<string> {
  const source = await sha256File(wavPath);
  const file = await cached(`opus-${path.basename(wavPath, '.wav')}`, 'opus', { source }, (out) =>
    runTool('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      wavPath,
      '-c:a',
      'libopus',
      '-fflags',
      '+bitexact',
      '-flags:a',
      '+bitexact',
      '-f',
      'ogg',
      out,
    ]),
  );
  return copyTo(file, options.path);
}

/**
 * The same audio re-encoded as a WAV of another sample format (sox), e.g. 24-bit PCM or 32-bit float.
 * @example await toWavEncoding(wav, { bits: 32, encoding: 'floating-point' })
 */
export async function toWavEncoding(
  wavPath: string,
  format: {
    bits: 8 | 16 | 24 | 32;
    encoding?: 'signed-integer' | 'unsigned-integer' | 'floating-point' | 'a-law' | 'u-law';
  },
): Promise<string> {
  const source = await sha256File(wavPath);
  const encoding = format.encoding ?? (format.bits === 8 ? 'unsigned-integer' : 'signed-integer');
  return cached(
    `wav${format.bits}-${encoding}-${path.basename(wavPath, '.wav')}`,
    'wav',
    { source, ...format, encoding },
    (out) => runTool('sox', ['-R', wavPath, '-e', encoding, '-b', String(format.bits), out]),
  );
}

/**
 * A two-channel WAV whose channels hold DIFFERENT speech: channel 0 is `left` (default: en+m3
 * saying sentence a), channel 1 is `right` (default: en+f3 saying sentence b). Multi-channel files
 * need a channel query parameter on the platform.
 */
export async function stereoWav(
  options: { left?: SpeechOptions; right?: SpeechOptions; path?: string } = {},
): Promise<string> {
  const left = await speechWav(options.left ?? { text: SENTENCES.a, voice: 'en+m3' });
  const right = await speechWav(options.right ?? { text: SENTENCES.b, voice: 'en+f3' });
  const key = { left: await sha256File(left), right: await sha256File(right) };
  const file = await cached('stereo', 'wav', key, (out) => runTool('sox', ['-R', '-M', left, right, out]));
  return copyTo(file, options.path);
}

/**
 * A WAV with well under 0.3 s of speech (0.2 s of a spoken word between silences): the platform
 * answers `score: null` for it.
 */
export async function shortSpeechWav(options: { path?: string } = {}): Promise<string> {
  const word = await speechWav({ text: 'Yes.', voice: 'en+m3' });
  const file = await cached('short-speech', 'wav', { source: await sha256File(word) }, (out) =>
    // Strip the leading silence, keep 0.2 s, pad with 0.6 s of silence on both sides.
    runTool('sox', ['-R', word, out, 'silence', '1', '0.01', '1%', 'trim', '0', '0.2', 'pad', '0.6', '0.6']),
  );
  return copyTo(file, options.path);
}

/** A WAV of digital silence, `seconds` long (16 kHz mono): no speech at all → `score: null`. */
export async function silenceWav(seconds = 2, options: { path?: string } = {}): Promise<string> {
  const file = await cached(`silence-${seconds}s`, 'wav', { seconds }, (out) =>
    runTool('sox', ['-R', '-n', '-r', '16000', '-c', '1', '-b', '16', out, 'trim', '0', String(seconds)]),
  );
  return copyTo(file, options.path);
}

/**
 * A file that is not audio but is named `.wav` (a PNG signature followed by text), for the
 * "non-audio → task rejected" paths.
 */
export async function nonAudioFile(options: { path?: string } = {}): Promise<string> {
  const file = await cached('not-audio', 'wav', { kind: 'png-text' }, (out) =>
    writeFile(
      out,
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.from('This is not audio.\n'.repeat(64)),
      ]),
    ),
  );
  return copyTo(file, options.path);
}

/**
 * Lowercase hex SHA-256 of a file's bytes: the key of emulator fixtures (of the questioned file),
 * and the content address `rdd detect` uploads a local file under.
 * @example { [await sha256File(questioned)]: { failTimes: 1 } }
 */
export { sha256File };

/** Generates `<cache>/<name>-<hash>.<ext>` once (per process and across processes), then reuses it. */
async function cached(
  name: string,
  ext: string,
  recipe: unknown,
  make: (out: string) => Promise<void>,
): Promise<string> {
  const file = path.join(
    AUDIO_CACHE_DIR,
    `${name.slice(0, 60)}-${hash(JSON.stringify(recipe)).slice(0, 16)}.${ext}`,
  );
  let pending = inFlight.get(file);
  if (!pending) {
    pending = (async () => {
      if (await fileExists(file)) return file;
      await mkdir(AUDIO_CACHE_DIR, { recursive: true });
      return writeAtomically(file, make);
    })();
    inFlight.set(file, pending);
    pending.catch(() => inFlight.delete(file));
  }
  return pending;
}

async function copyTo(file: string, target: string | undefined): Promise<string> {
  if (target === undefined) return file;
  await mkdir(path.dirname(target), { recursive: true });
  await copyFile(file, target);
  return target;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 32);
}

/**
 * The bytes of the two recordings the S3-event and sweep tests put into buckets: a reference and
 * a questioned recording of the same voice (`en+m3`) saying different sentences. Cached like
 * `speechWav`.
 * @example const { reference, questioned } = await speechPairBytes()
 */
export async function speechPairBytes(): Promise<{ reference: Buffer; questioned: Buffer }> {
  const say = async (text: string) => await readFile(await speechWav({ text, voice: 'en+m3' }));
  const reference = await say('My voice is my password, please verify me.');
  const questioned = await say('The weather today is calm and the sea is quiet.');
  return { reference, questioned };
}

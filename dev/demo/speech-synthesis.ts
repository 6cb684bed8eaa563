/**
 * Makes real speech recordings with espeak-ng, sox, lame and ffmpeg: the demo's recordings and the
 * tests' audio fixtures. Outputs are written atomically (temp file + rename) so concurrent test
 * workers never read a half-written file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Debian package that provides each command. */
export const TOOL_PACKAGES = {
  'espeak-ng': 'espeak-ng',
  sox: 'sox',
  lame: 'lame',
  ffmpeg: 'ffmpeg',
} as const;
export type AudioTool = keyof typeof TOOL_PACKAGES;

/** A command needed to make audio is not installed; the message says which package to install. */
export class MissingToolError extends Error {
  override name = 'MissingToolError';
  readonly tool: AudioTool;
  readonly debianPackage: string;
  constructor(tool: AudioTool) {
    const debianPackage = TOOL_PACKAGES[tool];
    super(
      `The command "${tool}" is not installed; install the Debian package "${debianPackage}" (sudo apt-get install ${debianPackage}).`,
    );
    this.tool = tool;
    this.debianPackage = debianPackage;
  }
}

/**
 * Runs an audio tool.
 * @throws MissingToolError when the command is not on PATH; Error with its stderr when it fails.
 */
export async function runTool(tool: AudioTool, args: string[]): Promise<void> {
  try {
    await execFileAsync(tool, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(tool);
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${tool} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}

/**
 * Produces `out` by letting `make` write to a temporary sibling, then renaming it into place.
 * @example await writeAtomically('/tmp/a.wav', (tmp) => runTool('sox', ['in.wav', tmp]))
 */
/** True when `file` exists; generated fixtures and recordings are reused when they do. */
export async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function writeAtomically(
  out: string,
  make: (tmpPath: string) => Promise<void>,
): Promise<string> {
  await mkdir(dirname(out), { recursive: true });
  const dot = out.lastIndexOf('.');
  const extension = dot > out.lastIndexOf('/') ? out.slice(dot) : '';
  // Keep the extension: sox and ffmpeg pick the output format from it.
  const tmp = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp${extension}`;
  try {
    await make(tmp);
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
  }
  return out;
}

export interface SynthesisOptions {
  text: string;
  /** espeak-ng voice with optional variant, e.g. `en+m3`, `es+m1`, `en+f3`. */
  voice: string;
  /** Output WAV path. */
  out: string;
  /** Output rate; default 16000 (mono, 16-bit PCM, like the vendor's examples). */
  sampleRate?: number;
  /** espeak-ng words per minute; default espeak's own (175). */
  wordsPerMinute?: number;
}

/**
 * Speaks `text` into a mono 16-bit PCM WAV. Deterministic for the same inputs and tool versions.
 * @throws MissingToolError when espeak-ng or sox is missing.
 * @example await synthesizeWav({ text: 'Hello.', voice: 'en+m3', out: '/tmp/hello.wav' })
 */
export async function synthesizeWav(options: SynthesisOptions): Promise<string> {
  const { text, voice, out, sampleRate = 16000 } = options;
  const raw = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.espeak.wav`;
  await mkdir(dirname(out), { recursive: true });
  try {
    const speed = options.wordsPerMinute === undefined ? [] : ['-s', String(options.wordsPerMinute)];
    await runTool('espeak-ng', ['-v', voice, ...speed, '-w', raw, text]);
    // espeak-ng exits 0 even when it could not write (or know) the voice; check its output exists.
    const written = await stat(raw).catch(() => undefined);
    if (!written || written.size <= 44)
      throw new Error(`espeak-ng produced no audio for voice "${voice}" (unknown voice?)`);
    // -R: repeatable dither (same bytes every run); -G: no clipping when resampling espeak's 22.05 kHz.
    return await writeAtomically(out, (tmp) =>
      runTool('sox', ['-R', '-G', raw, '-r', String(sampleRate), '-c', '1', '-b', '16', tmp]),
    );
  } finally {
    await rm(raw, { force: true });
  }
}

/**
 * Encodes a WAV as MP3 with lame (its defaults: joint stereo/mono CBR 128 kbps or the rate's maximum).
 * @throws MissingToolError when lame is missing.
 */
export async function encodeMp3(wav: string, out: string): Promise<string> {
  return writeAtomically(out, (tmp) => runTool('lame', ['--quiet', '--noreplaygain', wav, tmp]));
}

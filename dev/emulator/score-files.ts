/**
 * Scores a pair of files offline, exactly as an emulator task would, without HTTP or timing. Used
 * to calibrate the stand-in scorer and to print the demo's expected scores.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { analysePair, type AnalysisOutcome, type Upload } from './analysis.ts';
import { MediaProbeError, probeMedia } from './media-probe.ts';
import { DEFAULT_OPTIONS } from './options.ts';

export interface ScoreFilesOptions {
  referenceChannel?: number;
  questionedChannel?: number;
  maxAudioSeconds?: number;
  maxAnalysisSeconds?: number;
}

/**
 * The outcome the emulator would give for this pair: `done` with a score (or null), or `rejected`
 * with the platform-style message. Deterministic.
 * @throws the read error when a path cannot be read.
 * @example (await scoreFiles('Harry.wav', 'Harry2.wav')) // { state: 'done', score: -0.9 }
 */
export async function scoreFiles(
  reference: string,
  questioned: string,
  options: ScoreFilesOptions = {},
): Promise<AnalysisOutcome> {
  const load = async (path: string, field: string, channel: number): Promise<Upload> => {
    const bytes = new Uint8Array(await readFile(path));
    const probe = await probeMedia(bytes).catch((err: unknown) =>
      err instanceof MediaProbeError
        ? err
        : new MediaProbeError(err instanceof Error ? err.message : String(err)),
    );
    return { field, filename: basename(path), bytes, probe, channel };
  };
  return analysePair(
    await load(reference, 'file_reference', options.referenceChannel ?? 0),
    await load(questioned, 'file_questioned', options.questionedChannel ?? 0),
    {
      maxAudioSeconds: options.maxAudioSeconds ?? DEFAULT_OPTIONS.maxAudioSeconds,
      maxAnalysisSeconds: options.maxAnalysisSeconds ?? DEFAULT_OPTIONS.maxAnalysisSeconds,
    },
  );
}

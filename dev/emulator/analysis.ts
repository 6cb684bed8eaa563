/**
 * What a `running` task does: validate both uploads the way the platform does while processing
 * (→ `rejected`), then decode the selected channel of each and score the pair.
 */
import { AudioDecodeError, decodeChannel } from './audio-decode.ts';
import type { MediaProbe, MediaProbeError } from './media-probe.ts';
import { scoreProfiles, voiceProfile } from './scoring.ts';

/** One uploaded file, as held by a task until it finishes. */
export interface Upload {
  /** Form field: `file_reference` or `file_questioned`; named in error messages. */
  field: string;
  filename: string;
  bytes: Uint8Array;
  /** What probing found, or why it failed (reported when the task runs, as the platform does). */
  probe: MediaProbe | MediaProbeError;
  /** 0-based channel to analyse (0 for mono files). */
  channel: number;
}

/** How an analysed task ends. */
export type AnalysisOutcome =
  { state: 'done'; score: number | null } | { state: 'rejected'; message: string };

export interface AnalysisLimits {
  maxAudioSeconds: number;
  maxAnalysisSeconds: number;
  /** When given, the score is not computed (a fixture forced it); inputs are still validated. */
  forcedScore?: number | null;
}

/**
 * Validates and scores one pair. Never throws for bad input: that is a `rejected` outcome whose
 * message names the form field and file name.
 * @example await analysePair(reference, questioned, { maxAudioSeconds: 7200, maxAnalysisSeconds: 300 })
 */
export async function analysePair(
  reference: Upload,
  questioned: Upload,
  limits: AnalysisLimits,
): Promise<AnalysisOutcome> {
  for (const upload of [reference, questioned]) {
    const problem = validate(upload, limits.maxAudioSeconds);
    if (problem) return { state: 'rejected', message: `${describe(upload)}: ${problem}` };
  }
  if (limits.forcedScore !== undefined) return { state: 'done', score: limits.forcedScore };
  const profiles = [];
  for (const upload of [reference, questioned]) {
    try {
      const decoded = await decodeChannel(
        upload.bytes,
        upload.probe as MediaProbe,
        upload.channel,
        limits.maxAnalysisSeconds,
      );
      profiles.push(await voiceProfile(decoded.samples, decoded.sampleRate));
    } catch (err) {
      if (err instanceof AudioDecodeError)
        return { state: 'rejected', message: `${describe(upload)}: ${err.message}` };
      throw err;
    }
  }
  const [a, b] = profiles;
  return { state: 'done', score: a && b ? scoreProfiles(a, b) : null };
}

/** The platform's checks during processing; a user-facing problem, or undefined when fine. */
function validate(upload: Upload, maxAudioSeconds: number): string | undefined {
  const { probe } = upload;
  if (probe instanceof Error) return probe.message;
  if (probe.durationSeconds > maxAudioSeconds) {
    return `the audio is ${probe.durationSeconds.toFixed(1)} s long; the maximum audio length is ${maxAudioSeconds} s`;
  }
  return undefined;
}

function describe(upload: Upload): string {
  return `${upload.field} ("${upload.filename}")`;
}

/**
 * The emulator's stand-in for the deepfake model. THIS IS NOT A DEEPFAKE DETECTOR: it measures how
 * different two voices sound with a handful of textbook statistics and maps that difference to an
 * LLR-shaped number, so that clients see realistic, content-dependent, repeatable scores.
 * See {@link SCORING_DESCRIPTION}.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

import { fft, melFilterbank, resampleAsync } from './dsp.ts';

/** Plain-language description of the stand-in scorer, for docs, `--help` and logs. */
export const SCORING_DESCRIPTION = [
  'The emulator does NOT detect deepfakes. Its score is a deterministic stand-in computed from the',
  'audio content of the selected channel of each file (never from names or metadata):',
  '  1. take the first 300 s (option maxAnalysisSeconds), resample to 8 kHz, cut into 25 ms',
  '     frames every 10 ms;',
  '  2. speech = frames within 30 dB of the loud frames and above -50 dBFS; less than 0.3 s of',
  '     speech in either file gives score null, as on the real platform;',
  '  3. per file, over voiced speech frames (autocorrelation pitch, 70-400 Hz): median and 90th',
  '     percentile pitch (semitones), mel-cepstral c1, c8, c10, and the level of the two top mel',
  '     bands (3.3-3.8 kHz) relative to the frame mean;',
  '  4. distance = RMS of the feature differences, each divided by its spread between takes of the',
  '     same espeak-ng voice (a diagonal Mahalanobis distance);',
  '  5. score = clamp(2.5 x ln(distance / 1.65), -10, 10), rounded to 6 decimals: distance 1.65 is',
  '     the decision threshold 0; identical audio gives -10.',
  'The distance is symmetric, so swapping reference and questioned gives the same score. Calibrated',
  'on espeak-ng voices (16 voices x 8 English sentences, 9 x 6 Spanish): on 3-second clips a second',
  'take of the same voice scores below 0 in 98% of pairs, the same text in another same-gender voice',
  'above 0 in 91%, another gender always far above 0; 7-second recordings separate better.',
  'Real human speech, telephone-band audio and noise were NOT calibrated: expect arbitrary scores.',
].join('\n');

/** Rate every file is resampled to before analysis. */
export const ANALYSIS_RATE = 8000;
const FRAME = 200; // 25 ms at 8 kHz
const HOP = 80; // 10 ms
const FFT_SIZE = 256;
const PITCH_FFT_SIZE = 512; // ≥ 2 × FRAME: linear, not circular, autocorrelation
const MEL_BANDS = 24;
const SPEECH_FLOOR_DB = -50;
const SPEECH_RANGE_DB = 30;
/** The platform's model needs at least ~0.3 s of speech per file; below that the score is null. */
export const MIN_SPEECH_SECONDS = 0.3;
const PITCH_MIN_HZ = 70;
const PITCH_MAX_HZ = 400;
const VOICING_THRESHOLD = 0.45;
/** Below this many voiced frames (0.1 s) pitch is not compared and spectra use all speech frames. */
const MIN_VOICED_FRAMES = 10;
/** Frames analysed between yields, so a long file does not stall the HTTP server. */
const FRAMES_PER_SLICE = 4000;

/**
 * The compared features and their spread (standard deviation of the difference) between two takes
 * of the same espeak-ng voice with different sentences — measured, not guessed. Chosen from ~50
 * candidates by the ratio of between-voice to within-voice spread.
 */
const FEATURE_SPREAD = {
  pitchMedian: 0.61, // semitones re 100 Hz
  pitchP90: 0.293,
  cepstrum1: 0.484,
  cepstrum8: 0.319,
  cepstrum10: 0.239,
  band22: 1.955, // dB re the frame's mean band level
  band23: 1.985,
} as const;
type FeatureName = keyof typeof FEATURE_SPREAD;
const PITCH_FEATURES: readonly FeatureName[] = ['pitchMedian', 'pitchP90'];
const CEPSTRA = [1, 8, 10] as const;

/** Score = SCORE_SLOPE × ln(distance / SCORE_PIVOT). Same-voice 3 s takes measure ~0.9 (90%: 1.35),
 * same-gender other voices ~3 (10%: 1.7), other-gender voices 10 and more. */
const SCORE_SLOPE = 2.5;
const SCORE_PIVOT = 1.65;
const SCORE_LIMIT = 10;

/** What the scorer keeps of one file: a few numbers, never the audio. */
export interface VoiceProfile {
  /** Seconds of frames classified as speech. */
  speechSeconds: number;
  /** Seconds of speech frames with a detected pitch. */
  voicedSeconds: number;
  /** Feature values; pitch features are absent when too few frames were voiced. */
  features: Partial<Record<FeatureName, number>>;
}

const filterbank = melFilterbank(MEL_BANDS, FFT_SIZE, ANALYSIS_RATE, 100, 3800);
const hamming = Float64Array.from(
  { length: FRAME },
  (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME - 1)),
);
const dct = CEPSTRA.map((c) =>
  Float64Array.from({ length: MEL_BANDS }, (_, b) => Math.cos((Math.PI * c * (b + 0.5)) / MEL_BANDS)),
);

/** Running sums of the spectral features over a set of frames. */
class SpectralSums {
  frames = 0;
  readonly cepstra = new Float64Array(CEPSTRA.length);
  band22 = 0;
  band23 = 0;

  add(logMel: Float64Array): void {
    this.frames++;
    let mean = 0;
    for (let b = 0; b < MEL_BANDS; b++) mean += logMel[b] ?? 0;
    mean /= MEL_BANDS;
    this.band22 += (logMel[22] ?? 0) - mean;
    this.band23 += (logMel[23] ?? 0) - mean;
    for (let c = 0; c < CEPSTRA.length; c++) {
      const basis = dct[c] ?? new Float64Array(0);
      let acc = 0;
      for (let b = 0; b < MEL_BANDS; b++) acc += (logMel[b] ?? 0) * (basis[b] ?? 0);
      this.cepstra[c] = (this.cepstra[c] ?? 0) + acc / MEL_BANDS;
    }
  }

  means(): Partial<Record<FeatureName, number>> {
    const n = this.frames;
    return {
      cepstrum1: (this.cepstra[0] ?? 0) / n,
      cepstrum8: (this.cepstra[1] ?? 0) / n,
      cepstrum10: (this.cepstra[2] ?? 0) / n,
      band22: this.band22 / n,
      band23: this.band23 / n,
    };
  }
}

/**
 * Analyses one channel of audio. Deterministic; yields to the event loop between slices of frames.
 * @example const profile = await voiceProfile(channel, 16000);
 */
export async function voiceProfile(samples: Float32Array, sampleRate: number): Promise<VoiceProfile> {
  const x = await resampleAsync(samples, sampleRate, ANALYSIS_RATE);
  const frameCount = x.length < FRAME ? 0 : Math.floor((x.length - FRAME) / HOP) + 1;
  const energies = new Float64Array(frameCount);
  for (let f = 0; f < frameCount; f++) {
    let sum = 0;
    const offset = f * HOP;
    for (let i = 0; i < FRAME; i++) {
      const v = x[offset + i] ?? 0;
      sum += v * v;
    }
    energies[f] = 10 * Math.log10(sum / FRAME + 1e-12);
  }
  const threshold = Math.max(SPEECH_FLOOR_DB, percentile(energies, 0.95) - SPEECH_RANGE_DB);

  const speech = new SpectralSums();
  const voiced = new SpectralSums();
  const semitones: number[] = [];
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const logMel = new Float64Array(MEL_BANDS);
  for (let f = 0; f < frameCount; f++) {
    if (f > 0 && f % FRAMES_PER_SLICE === 0) await yieldToEventLoop();
    if ((energies[f] ?? -Infinity) <= threshold) continue;
    const offset = f * HOP;
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < FRAME; i++) {
      const previous = offset + i > 0 ? (x[offset + i - 1] ?? 0) : 0;
      re[i] = ((x[offset + i] ?? 0) - 0.97 * previous) * (hamming[i] ?? 0); // pre-emphasis + window
    }
    fft(re, im);
    for (let b = 0; b < MEL_BANDS; b++) {
      const w = filterbank.weights[b] ?? new Float64Array(0);
      const start = filterbank.start[b] ?? 0;
      let power = 0;
      for (let k = 0; k < w.length; k++) {
        const bin = start + k;
        power += (w[k] ?? 0) * ((re[bin] ?? 0) ** 2 + (im[bin] ?? 0) ** 2);
      }
      logMel[b] = 10 * Math.log10(power + 1e-10);
    }
    speech.add(logMel);
    const pitch = framePitch(x, offset);
    if (pitch !== null) {
      voiced.add(logMel);
      semitones.push(12 * Math.log2(pitch / 100));
    }
  }
  const features: Partial<Record<FeatureName, number>> = {};
  if (voiced.frames >= MIN_VOICED_FRAMES) {
    semitones.sort((p, q) => p - q);
    Object.assign(features, voiced.means(), {
      pitchMedian: quantile(semitones, 0.5),
      pitchP90: quantile(semitones, 0.9),
    });
  } else if (speech.frames > 0) {
    Object.assign(features, speech.means());
  }
  return {
    speechSeconds: (speech.frames * HOP) / ANALYSIS_RATE,
    voicedSeconds: (voiced.frames * HOP) / ANALYSIS_RATE,
    features,
  };
}

/**
 * The stand-in LLR for two profiles: `null` when either has under 0.3 s of speech, otherwise a
 * clamped log map of their voice distance. Symmetric in its arguments.
 * @example scoreProfiles(reference, questioned) // e.g. -1.5 (same voice) or 1.6 (other voice)
 */
export function scoreProfiles(reference: VoiceProfile, questioned: VoiceProfile): number | null {
  const distance = voiceDistance(reference, questioned);
  if (distance === null) return null;
  const llr = distance === 0 ? -Infinity : SCORE_SLOPE * Math.log(distance / SCORE_PIVOT);
  const score = Math.min(SCORE_LIMIT, Math.max(-SCORE_LIMIT, llr));
  // Round so the JSON is stable; `+ 0` turns a -0 into 0.
  return Math.round(score * 1e6) / 1e6 + 0;
}

/**
 * Distance between two voices in units of same-voice spread (exported for calibration); null when
 * either lacks speech. Pitch features count only when both files have them.
 */
export function voiceDistance(a: VoiceProfile, b: VoiceProfile): number | null {
  if (a.speechSeconds < MIN_SPEECH_SECONDS || b.speechSeconds < MIN_SPEECH_SECONDS) return null;
  let sum = 0;
  let count = 0;
  for (const name of Object.keys(FEATURE_SPREAD) as FeatureName[]) {
    const p = a.features[name];
    const q = b.features[name];
    if (p === undefined || q === undefined) {
      if (PITCH_FEATURES.includes(name)) continue;
      return null; // unreachable with speech in both files; kept so a bug cannot fake a score
    }
    sum += ((p - q) / FEATURE_SPREAD[name]) ** 2;
    count++;
  }
  return count === 0 ? null : Math.sqrt(sum / count);
}

const pitchRe = new Float64Array(PITCH_FFT_SIZE);
const pitchIm = new Float64Array(PITCH_FFT_SIZE);

/** Autocorrelation pitch of one frame, or null when it is not clearly periodic. */
function framePitch(x: Float32Array, offset: number): number | null {
  let mean = 0;
  for (let i = 0; i < FRAME; i++) mean += x[offset + i] ?? 0;
  mean /= FRAME;
  pitchRe.fill(0);
  pitchIm.fill(0);
  for (let i = 0; i < FRAME; i++) pitchRe[i] = (x[offset + i] ?? 0) - mean;
  fft(pitchRe, pitchIm);
  // |X|² then a second forward FFT: for a real, even spectrum that equals the inverse (× N).
  for (let k = 0; k < PITCH_FFT_SIZE; k++) {
    pitchRe[k] = (pitchRe[k] ?? 0) ** 2 + (pitchIm[k] ?? 0) ** 2;
    pitchIm[k] = 0;
  }
  fft(pitchRe, pitchIm);
  const r0 = pitchRe[0] ?? 0;
  if (r0 <= 0) return null;
  const minLag = Math.floor(ANALYSIS_RATE / PITCH_MAX_HZ);
  const maxLag = Math.ceil(ANALYSIS_RATE / PITCH_MIN_HZ);
  let bestLag = 0;
  let best = VOICING_THRESHOLD;
  for (let lag = minLag; lag <= maxLag; lag++) {
    // Unbiased: compensate for the shrinking overlap at longer lags.
    const r = ((pitchRe[lag] ?? 0) / r0) * (FRAME / (FRAME - lag));
    if (r > best) {
      best = r;
      bestLag = lag;
    }
  }
  return bestLag === 0 ? null : ANALYSIS_RATE / bestLag;
}

function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) return -Infinity;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? -Infinity;
}

/** `q`-quantile of an ascending array (nearest rank below). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] ?? 0;
}

/**
 * Small, dependency-free signal processing for the emulator's stand-in scorer: a band-limited
 * resampler, a radix-2 FFT and a mel filterbank. Everything here is deterministic (no randomness,
 * a fixed order of floating-point operations), so the same samples always give the same numbers.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Zero crossings of the resampler's windowed-sinc kernel on each side. */
const SINC_ZERO_CROSSINGS = 16;
/** Kernel table resolution: sub-sample phases per input sample. */
const SINC_TABLE_PHASES = 256;

let sincTable: Float64Array | undefined;

/** Blackman-windowed sinc sampled on a fine grid, built once; the resampler looks phases up in it. */
function windowedSincTable(): Float64Array {
  if (sincTable) return sincTable;
  const size = SINC_ZERO_CROSSINGS * SINC_TABLE_PHASES + 1;
  const table = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const x = i / SINC_TABLE_PHASES; // 0 … SINC_ZERO_CROSSINGS
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w =
      0.42 +
      0.5 * Math.cos((Math.PI * x) / SINC_ZERO_CROSSINGS) +
      0.08 * Math.cos((2 * Math.PI * x) / SINC_ZERO_CROSSINGS);
    table[i] = sinc * w;
  }
  sincTable = table;
  return table;
}

/**
 * Resamples `input` from `fromRate` to `toRate` with a windowed-sinc low-pass, so downsampling
 * (44.1 kHz → 8 kHz) does not fold high frequencies into the analysed band.
 * @example resample(samples44k, 44100, 8000).length // ≈ samples44k.length × 8000 / 44100
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return input;
  const output = new Float32Array(Math.floor((input.length * toRate) / fromRate));
  resampleRange(input, output, fromRate, toRate, 0, output.length);
  return output;
}

/** Output samples computed between yields by {@link resampleAsync} (~10 ms of work). */
const RESAMPLE_SLICE = 64 * 1024;

/**
 * {@link resample}, yielding to the event loop between slices so minutes of audio do not stall
 * an HTTP server running on the same thread. Same result, sample for sample.
 */
export async function resampleAsync(
  input: Float32Array,
  fromRate: number,
  toRate: number,
): Promise<Float32Array> {
  if (fromRate === toRate) return input;
  const output = new Float32Array(Math.floor((input.length * toRate) / fromRate));
  for (let start = 0; start < output.length; start += RESAMPLE_SLICE) {
    resampleRange(input, output, fromRate, toRate, start, Math.min(output.length, start + RESAMPLE_SLICE));
    if (start + RESAMPLE_SLICE < output.length) await yieldToEventLoop();
  }
  return output;
}

function resampleRange(
  input: Float32Array,
  output: Float32Array,
  fromRate: number,
  toRate: number,
  from: number,
  to: number,
): void {
  const table = windowedSincTable();
  const ratio = toRate / fromRate;
  // Downsampling: widen the kernel (in input samples) so its cut-off sits at the output Nyquist.
  const cutoff = Math.min(1, ratio);
  const halfWidth = SINC_ZERO_CROSSINGS / cutoff;
  const last = input.length - 1;
  for (let n = from; n < to; n++) {
    const t = n / ratio; // position in input samples
    const first = Math.max(0, Math.ceil(t - halfWidth));
    const end = Math.min(last, Math.floor(t + halfWidth));
    let acc = 0;
    for (let k = first; k <= end; k++) {
      const index = Math.round(Math.abs(t - k) * cutoff * SINC_TABLE_PHASES);
      acc += (input[k] ?? 0) * (table[index] ?? 0);
    }
    output[n] = acc * cutoff;
  }
}

/** Precomputed twiddles and bit reversal for one FFT size. */
interface FftPlan {
  size: number;
  cos: Float64Array;
  sin: Float64Array;
  reversed: Uint32Array;
}

const plans = new Map<number, FftPlan>();

function fftPlan(size: number): FftPlan {
  const cached = plans.get(size);
  if (cached) return cached;
  if (size < 2 || (size & (size - 1)) !== 0)
    throw new RangeError(`FFT size must be a power of two, got ${size}`);
  const half = size / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / size);
    sin[i] = -Math.sin((2 * Math.PI * i) / size);
  }
  const bits = Math.log2(size);
  const reversed = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r = (r << 1) | ((i >>> b) & 1);
    reversed[i] = r;
  }
  const plan = { size, cos, sin, reversed };
  plans.set(size, plan);
  return plan;
}

/**
 * In-place iterative radix-2 complex FFT (forward). `re` and `im` must have the same power-of-two
 * length.
 * @throws RangeError when the length is not a power of two.
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  const { cos, sin, reversed } = fftPlan(n);
  for (let i = 0; i < n; i++) {
    const j = reversed[i] ?? 0;
    if (j > i) {
      const tr = re[i] ?? 0;
      re[i] = re[j] ?? 0;
      re[j] = tr;
      const ti = im[i] ?? 0;
      im[i] = im[j] ?? 0;
      im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >>> 1;
    const step = n / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step] ?? 0;
        const wi = sin[k * step] ?? 0;
        const a = start + k;
        const b = a + half;
        const br = re[b] ?? 0;
        const bi = im[b] ?? 0;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a] ?? 0;
        const ai = im[a] ?? 0;
        re[b] = ar - xr;
        im[b] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
      }
    }
  }
}

function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

/** Triangular filters over FFT bins; `weights[b]` covers bins `start[b]` onward. */
export interface MelFilterbank {
  bands: number;
  start: Uint32Array;
  weights: Float64Array[];
}

/**
 * Builds `bands` triangular mel-spaced filters between `lowHz` and `highHz` for an FFT of
 * `fftSize` at `sampleRate`.
 */
export function melFilterbank(
  bands: number,
  fftSize: number,
  sampleRate: number,
  lowHz: number,
  highHz: number,
): MelFilterbank {
  const lowMel = hzToMel(lowHz);
  const highMel = hzToMel(highHz);
  const edgesHz: number[] = [];
  for (let i = 0; i < bands + 2; i++) edgesHz.push(melToHz(lowMel + ((highMel - lowMel) * i) / (bands + 1)));
  const binHz = sampleRate / fftSize;
  const start = new Uint32Array(bands);
  const weights: Float64Array[] = [];
  for (let b = 0; b < bands; b++) {
    const left = edgesHz[b] ?? 0;
    const centre = edgesHz[b + 1] ?? 0;
    const right = edgesHz[b + 2] ?? 0;
    const first = Math.ceil(left / binHz);
    const last = Math.floor(right / binHz);
    const w = new Float64Array(Math.max(0, last - first + 1));
    for (let bin = first; bin <= last; bin++) {
      const hz = bin * binHz;
      w[bin - first] = hz <= centre ? (hz - left) / (centre - left) : (right - hz) / (right - centre);
    }
    start[b] = first;
    weights.push(w);
  }
  return { bands, start, weights };
}

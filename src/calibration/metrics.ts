import { ASVSPOOF5_COSTS, CONVENTION, assertCosts, type Convention, type Costs } from './convention.ts';
import { DEFAULT_DET_POINTS, detPoints, type CurvePoint, type DetPoint } from './det.ts';
import { minCllr, pavBins, rocch, rocchEer, type Rocch, type ScoreGroup } from './pav.ts';

/** A scored pair with its ground truth. `score: null` (too little speech) is counted and excluded. */
export interface LabelledScore {
  readonly score: number | null;
  readonly label: 'genuine' | 'deepfake';
}

/** Options of {@link computeMetrics}. */
export interface MetricsOptions {
  /** The user's cost model, reported beside ASVspoof 5's. */
  readonly costs?: Costs;
  /** The operating threshold to report error rates at (default 0, the platform's verdict boundary). */
  readonly threshold?: number;
  /** False acceptance rates to find thresholds for, each in [0, 1] (default 1 %, 5 %, 10 %). */
  readonly targetFar?: readonly number[];
  /** The most DET points to return for plotting (default {@link DEFAULT_DET_POINTS}). */
  readonly maxDetPoints?: number;
}

/** How many pairs went in, and how many were left out and why. */
export interface ScoreCounts {
  readonly total: number;
  /** Genuine pairs with a usable score. */
  readonly genuine: number;
  /** Deepfake pairs with a usable score. */
  readonly deepfake: number;
  /** Pairs whose score was `null` (too little speech): excluded from every metric. */
  readonly excludedNull: number;
  /** Pairs whose score was `NaN`: excluded from every metric. */
  readonly excludedNaN: number;
}

/** Error rates at one threshold. */
export interface OperatingPoint {
  /** Deepfake when score > threshold; `null` when infinite (see the convention). */
  readonly threshold: number | null;
  readonly pMiss: number;
  readonly pFa: number;
}

/** Detection costs under one cost model, normalised as in the ASVspoof 5 evaluation package. */
export interface DcfFigures {
  readonly costs: Costs;
  /** `min(C_miss (1 - P_spoof), C_fa P_spoof)`: the cost of the best decision made without the score. */
  readonly defaultCost: number;
  /**
   * The Bayes threshold on the LLR for these costs, `log(C_miss (1 - P_spoof) / (C_fa P_spoof))`,
   * i.e. `-log(prior odds of a deepfake × C_fa / C_miss)`: calibrated scores above it are deepfakes.
   */
  readonly bayesThreshold: number;
  /** `min_t DCF(t) / defaultCost` over the empirical curve (= over the ROCCH). At most 1. */
  readonly minDcf: number;
  /** Where minDCF is reached (the lowest such threshold). */
  readonly minDcfAt: OperatingPoint;
  /** `DCF(bayesThreshold) / defaultCost`: the cost of trusting the scores as LLRs. */
  readonly actDcf: number;
  readonly actDcfAt: OperatingPoint;
}

/** The equal error rates. */
export interface EerFigures {
  /** ROC-convex-hull EER (BOSARIS, llreval, pyllr): interpolated, the EER a calibrated system can reach. */
  readonly rocch: number;
  /**
   * The empirical curve's point where |P_miss − P_fa| is smallest (ties: the highest threshold),
   * reported as the mean of the two, as the ASVspoof evaluation packages' `compute_eer` does.
   */
  readonly nearest: OperatingPoint & { readonly eer: number };
}

/** Every metric of a labelled score set with both classes present. */
export interface CalibrationFigures {
  readonly eer: EerFigures;
  /**
   * Cllr in bits: `(mean_genuine log2(1 + e^s) + mean_deepfake log2(1 + e^-s)) / 2`. 1 for
   * scores that are all 0; `null` when a score of ±Infinity on the wrong side makes it infinite.
   */
  readonly cllr: number | null;
  /** Cllr after the optimal monotone recalibration (PAV): 0 for perfect separation. */
  readonly minCllr: number;
  readonly dcf: { readonly asvspoof5: DcfFigures; readonly user: DcfFigures | null };
  /** Error rates at `options.threshold`. */
  readonly atThreshold: OperatingPoint;
  /** Per target FAR: the highest threshold whose P_fa is at most the target (so the lowest P_miss). */
  readonly thresholdAtFar: readonly (OperatingPoint & { readonly targetFar: number })[];
  /** Vertices of the ROC convex hull (PAV): the curve a calibrated system can reach; few points. */
  readonly rocch: Rocch;
  /** DET points on normal-deviate axes, thinned for plotting. */
  readonly det: readonly DetPoint[];
  /** How many points the full empirical curve has (−∞ and every distinct score). */
  readonly curvePoints: number;
}

/** The result of {@link computeMetrics}: plain data, safe for `JSON.stringify`. */
export interface CalibrationMetrics {
  readonly convention: Convention;
  readonly counts: ScoreCounts;
  /** `null` when a class has no usable score; `reason` says why. */
  readonly figures: CalibrationFigures | null;
  readonly reason: string | null;
}

const DEFAULT_TARGET_FAR = [0.01, 0.05, 0.1] as const;

/** Adds with Neumaier compensation, so that long sums match pairwise-summing references. */
function sum(values: Iterable<number>): number {
  let total = 0;
  let carry = 0;
  for (const v of values) {
    const t = total + v;
    carry += Math.abs(total) >= Math.abs(v) ? total - t + v : v - t + total;
    total = t;
  }
  return total + carry;
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
}

/** Distinct scores in ascending order, with how many pairs of each class have them. */
function groupScores(genuineScores: readonly number[], deepfakeScores: readonly number[]): ScoreGroup[] {
  const labelled = [
    ...genuineScores.map((s) => ({ s, genuine: 1 })),
    ...deepfakeScores.map((s) => ({ s, genuine: 0 })),
  ].sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  const groups: ScoreGroup[] = [];
  for (const { s, genuine } of labelled) {
    const last = groups.at(-1);
    if (last?.score === s) {
      groups[groups.length - 1] = {
        score: s,
        genuine: last.genuine + genuine,
        deepfake: last.deepfake + 1 - genuine,
      };
    } else groups.push({ score: s, genuine, deepfake: 1 - genuine });
  }
  return groups;
}

const finiteOrNull = (t: number): number | null => (Number.isFinite(t) ? t : null);

/**
 * The empirical curve: the point at t = −∞ (every pair deepfake) and one per distinct score, in
 * ascending threshold. Rates are count / class size, so they match any reference exactly.
 */
function empiricalCurve(groups: readonly ScoreGroup[], genuine: number, deepfake: number): CurvePoint[] {
  const curve: CurvePoint[] = [{ threshold: -Infinity, pMiss: 1, pFa: 0 }];
  let g = 0;
  let d = 0;
  for (const group of groups) {
    g += group.genuine;
    d += group.deepfake;
    curve.push({ threshold: group.score, pMiss: (genuine - g) / genuine, pFa: d / deepfake });
  }
  return curve;
}

function point(p: CurvePoint): OperatingPoint {
  return { threshold: finiteOrNull(p.threshold), pMiss: p.pMiss, pFa: p.pFa };
}

function ratesAt(
  genuineScores: readonly number[],
  deepfakeScores: readonly number[],
  threshold: number,
): OperatingPoint {
  const missed = genuineScores.filter((s) => s > threshold).length;
  const accepted = deepfakeScores.filter((s) => s <= threshold).length;
  return {
    threshold: finiteOrNull(threshold),
    pMiss: missed / genuineScores.length,
    pFa: accepted / deepfakeScores.length,
  };
}

function dcfFigures(
  costs: Costs,
  curve: readonly CurvePoint[],
  genuineScores: readonly number[],
  deepfakeScores: readonly number[],
): DcfFigures {
  const pBona = 1 - costs.pSpoof;
  const defaultCost = Math.min(costs.cMiss * pBona, costs.cFa * costs.pSpoof);
  // Same operation order as the reference script, so equal minima compare equal in both.
  const dcf = (p: { pMiss: number; pFa: number }) =>
    (costs.cMiss * pBona * p.pMiss + costs.cFa * costs.pSpoof * p.pFa) / defaultCost;
  let best = curve[0]!;
  let minDcf = dcf(best);
  for (const p of curve) {
    const c = dcf(p);
    if (c < minDcf) {
      minDcf = c;
      best = p;
    }
  }
  const bayesThreshold = Math.log((costs.cMiss * pBona) / (costs.cFa * costs.pSpoof));
  const act = ratesAt(genuineScores, deepfakeScores, bayesThreshold);
  return {
    costs: { pSpoof: costs.pSpoof, cMiss: costs.cMiss, cFa: costs.cFa },
    defaultCost,
    bayesThreshold,
    minDcf,
    minDcfAt: point(best),
    actDcf: dcf(act),
    actDcfAt: act,
  };
}

/**
 * Calibration metrics of a labelled score set, under the convention in {@link CONVENTION}
 * (target = genuine; a high score means deepfake). Pure and deterministic: no I/O, same input →
 * same output, which is plain JSON-able data.
 *
 * - EER: ROC-convex-hull EER via PAV (BOSARIS / llreval) and the nearest-point EER.
 * - minDCF / actDCF under ASVspoof 5's costs and, if given, the user's, normalised by the default
 *   cost as the ASVspoof 5 evaluation package does; the Bayes threshold for each.
 * - Cllr and minCllr (PAV), in bits.
 * - Error rates at `options.threshold`, thresholds at target FARs, DET points for plotting.
 *
 * `null` and `NaN` scores are counted and excluded; ±Infinity is kept (a certain LLR). When either
 * class is empty afterwards, `figures` is `null` and `reason` says which.
 *
 * @throws {RangeError} when `options.costs` is unusable (see `assertCosts`), a target FAR is
 *   outside [0, 1], or `maxDetPoints` < 2.
 * @example
 * const m = computeMetrics([
 *   { score: -2.1, label: 'genuine' },
 *   { score: 3.4, label: 'deepfake' },
 * ]);
 * m.figures?.eer.rocch; // 0
 */
export function computeMetrics(
  scores: readonly LabelledScore[],
  options: MetricsOptions = {},
): CalibrationMetrics {
  if (options.costs) assertCosts(options.costs);
  const targetFar = options.targetFar ?? DEFAULT_TARGET_FAR;
  for (const far of targetFar) {
    if (!(far >= 0 && far <= 1)) throw new RangeError(`a target FAR must be in [0, 1], got ${far}`);
  }
  const threshold = options.threshold ?? 0;

  const genuineScores: number[] = [];
  const deepfakeScores: number[] = [];
  let excludedNull = 0;
  let excludedNaN = 0;
  for (const { score, label } of scores) {
    if (score === null) excludedNull++;
    else if (Number.isNaN(score)) excludedNaN++;
    else (label === 'genuine' ? genuineScores : deepfakeScores).push(score);
  }
  const G = genuineScores.length;
  const D = deepfakeScores.length;
  const counts: ScoreCounts = { total: scores.length, genuine: G, deepfake: D, excludedNull, excludedNaN };
  if (G === 0 || D === 0) {
    const missing = [G === 0 ? 'genuine' : null, D === 0 ? 'deepfake' : null].filter((c) => c !== null);
    return {
      convention: CONVENTION,
      counts,
      figures: null,
      reason: `no ${missing.join(' and no ')} pair with a score: every metric needs both classes`,
    };
  }

  const groups = groupScores(genuineScores, deepfakeScores);
  const curve = empiricalCurve(groups, G, D);
  let nearest = curve[0]!;
  for (const p of curve) {
    // `<=`: among equally near points, the last one, i.e. the highest threshold.
    if (Math.abs(p.pMiss - p.pFa) <= Math.abs(nearest.pMiss - nearest.pFa)) nearest = p;
  }
  const bins = pavBins(groups);
  const hull = rocch(bins, G, D);
  const cllr =
    (sum(genuineScores.map(softplus)) / G + sum(deepfakeScores.map((s) => softplus(-s))) / D) /
    (2 * Math.LN2);

  const figures: CalibrationFigures = {
    eer: {
      rocch: rocchEer(hull),
      nearest: { ...point(nearest), eer: (nearest.pMiss + nearest.pFa) / 2 },
    },
    cllr: Number.isFinite(cllr) ? cllr : null,
    minCllr: minCllr(bins, G, D),
    dcf: {
      asvspoof5: dcfFigures(ASVSPOOF5_COSTS, curve, genuineScores, deepfakeScores),
      user: options.costs ? dcfFigures(options.costs, curve, genuineScores, deepfakeScores) : null,
    },
    atThreshold: ratesAt(genuineScores, deepfakeScores, threshold),
    thresholdAtFar: targetFar.map((far) => {
      // P_fa grows with the threshold and is 0 at −∞, so a last point with P_fa <= far exists.
      const p = curve.findLast((q) => q.pFa <= far)!;
      return { targetFar: far, ...point(p) };
    }),
    rocch: hull,
    det: detPoints(curve, options.maxDetPoints ?? DEFAULT_DET_POINTS),
    curvePoints: curve.length,
  };
  return { convention: CONVENTION, counts, figures, reason: null };
}

/**
 * The full empirical curve (t = −∞ and every distinct usable score, ascending), for exact checks
 * and for callers that draw their own plots. `threshold` is `null` when infinite. Pure.
 *
 * @example
 * empiricalOperatingPoints([{ score: 0, label: 'genuine' }, { score: 1, label: 'deepfake' }]);
 * // [{ threshold: null, pMiss: 1, pFa: 0 }, { threshold: 0, pMiss: 0, pFa: 0 }, { threshold: 1, pMiss: 0, pFa: 1 }]
 */
export function empiricalOperatingPoints(scores: readonly LabelledScore[]): OperatingPoint[] {
  const usable = scores.filter((r) => r.score !== null && !Number.isNaN(r.score));
  const genuineScores = usable.filter((r) => r.label === 'genuine').map((r) => r.score!);
  const deepfakeScores = usable.filter((r) => r.label === 'deepfake').map((r) => r.score!);
  const groups = groupScores(genuineScores, deepfakeScores);
  return empiricalCurve(groups, genuineScores.length, deepfakeScores.length).map(point);
}

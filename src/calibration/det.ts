import { probit } from './probit.ts';

/** A point of the DET curve on normal-deviate axes, with the threshold that reaches it. */
export interface DetPoint {
  /** The threshold (deepfake when score > threshold); `null` when infinite. */
  readonly threshold: number | null;
  readonly pMiss: number;
  readonly pFa: number;
  /** probit(P_miss), the normal deviate plotted on the vertical axis. */
  readonly zMiss: number;
  /** probit(P_fa), the normal deviate plotted on the horizontal axis. */
  readonly zFa: number;
}

/** One point of the empirical curve, before plotting. */
export interface CurvePoint {
  readonly threshold: number;
  readonly pMiss: number;
  readonly pFa: number;
}

/** The default bound on the number of DET points handed to a plot. */
export const DEFAULT_DET_POINTS = 200;

/**
 * DET points for plotting: the curve's points with finite normal deviates (P_miss and P_fa strictly
 * between 0 and 1; 0 and 1 lie at infinity on these axes), without the inner points of horizontal
 * and vertical runs (they add nothing to the drawn line; sklearn's `drop_intermediate` does the
 * same), then, if more than `maxPoints` remain, sampled evenly along the curve's length in the
 * normal-deviate plane. The first and last points are always kept; order is ascending threshold.
 * Pure.
 *
 * @example
 * detPoints(curve, 100).length <= 100; // true
 */
export function detPoints(curve: readonly CurvePoint[], maxPoints = DEFAULT_DET_POINTS): DetPoint[] {
  if (!(maxPoints >= 2)) throw new RangeError(`maxPoints must be >= 2, got ${maxPoints}`);
  const finite = curve.filter((p) => p.pMiss > 0 && p.pMiss < 1 && p.pFa > 0 && p.pFa < 1);
  const kept = finite.filter((p, i) => {
    const prev = finite[i - 1];
    const next = finite[i + 1];
    if (prev === undefined || next === undefined) return true;
    const horizontal = prev.pMiss === p.pMiss && next.pMiss === p.pMiss;
    const vertical = prev.pFa === p.pFa && next.pFa === p.pFa;
    return !horizontal && !vertical;
  });
  const points = kept.map((p) => ({
    threshold: Number.isFinite(p.threshold) ? p.threshold : null,
    pMiss: p.pMiss,
    pFa: p.pFa,
    zMiss: probit(p.pMiss),
    zFa: probit(p.pFa),
  }));
  if (points.length <= maxPoints) return points;

  const length = [0];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    length.push(length[i - 1]! + Math.hypot(b.zMiss - a.zMiss, b.zFa - a.zFa));
  }
  const total = length.at(-1)!;
  const picked: DetPoint[] = [];
  let j = 0;
  for (let k = 0; k < maxPoints; k++) {
    const target = k === maxPoints - 1 ? total : (total * k) / (maxPoints - 1);
    while (j < points.length - 1 && length[j]! < target) j++;
    if (picked.at(-1) !== points[j]) picked.push(points[j]!);
  }
  // The last target is the full length, so the last point is picked; this guards against a
  // zero-length final segment stopping the walk one point early.
  picked[picked.length - 1] = points.at(-1)!;
  return picked;
}

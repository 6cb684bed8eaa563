/**
 * Pool Adjacent Violators (PAV) on grouped scores, and what follows from it: the ROC convex hull
 * (ROCCH), its equal error rate, and minCllr.
 *
 * Source: N. Brümmer and E. de Villiers, "The BOSARIS Toolkit: Theory, Algorithms and Code for
 * Surviving the New DCF", 2013 (arXiv:1304.2865), as implemented in BOSARIS (`pav_rocch`,
 * `rocch2eer`, `min_cllr`) and its Python port `llreval`. Tied scores form one group before PAV
 * (BOSARIS gets the same by sorting ties pessimistically), so a tie is never split.
 */

/** One distinct score with how many genuine and deepfake pairs have it. */
export interface ScoreGroup {
  readonly score: number;
  readonly genuine: number;
  readonly deepfake: number;
}

/** A PAV bin: a run of adjacent groups pooled together. */
export interface PavBin {
  readonly genuine: number;
  readonly deepfake: number;
}

/**
 * The PAV bins of groups sorted by ascending score, listed from the highest score down (the order
 * of the bona fide score `-s` ascending, as in llreval). Within a bin the share of genuine pairs is
 * constant, and it grows from bin to bin: the optimal monotone calibration. Bins of equal share are
 * merged, as llreval does. Pure.
 *
 * @example
 * pavBins([{ score: 0, genuine: 1, deepfake: 1 }]); // [{ genuine: 1, deepfake: 1 }]
 */
export function pavBins(ascending: readonly ScoreGroup[]): PavBin[] {
  const bins: { genuine: number; deepfake: number }[] = [];
  for (let i = ascending.length - 1; i >= 0; i--) {
    const group = ascending[i]!;
    let cur = { genuine: group.genuine, deepfake: group.deepfake };
    // Pool while the previous bin's genuine share is >= this one's (integer cross-products: exact).
    for (let prev = bins.at(-1); prev !== undefined; prev = bins.at(-1)) {
      const prevN = prev.genuine + prev.deepfake;
      const curN = cur.genuine + cur.deepfake;
      if (prev.genuine * curN < cur.genuine * prevN) break;
      bins.pop();
      cur = { genuine: prev.genuine + cur.genuine, deepfake: prev.deepfake + cur.deepfake };
    }
    bins.push(cur);
  }
  return bins;
}

/** Vertices of the ROC convex hull: `pMiss` non-decreasing from 0 to 1, `pFa` non-increasing from 1 to 0. */
export interface Rocch {
  readonly pMiss: number[];
  readonly pFa: number[];
}

/**
 * The ROCCH vertices from PAV bins, as llreval's `PAV.rocch()`. Pure.
 *
 * @example
 * rocch([{ genuine: 0, deepfake: 2 }, { genuine: 3, deepfake: 0 }], 3, 2); // perfect: (0,1) (0,0) (1,0)
 */
export function rocch(bins: readonly PavBin[], genuine: number, deepfake: number): Rocch {
  const pMiss = [0];
  const pFa = [1];
  let g = 0;
  let d = 0;
  for (const bin of bins) {
    g += bin.genuine;
    d += bin.deepfake;
    pMiss.push(g / genuine);
    pFa.push((deepfake - d) / deepfake);
  }
  return { pMiss, pFa };
}

/**
 * The ROCCH equal error rate: where the convex hull crosses `P_miss = P_fa` (BOSARIS `rocch2eer`;
 * the hull is convex, so the crossing is the largest of the segments' line crossings). Pure.
 *
 * @example
 * rocchEer({ pMiss: [0, 0.5, 1], pFa: [1, 0.5, 0] }); // 0.5
 */
export function rocchEer(hull: Rocch): number {
  const { pMiss, pFa } = hull;
  for (let i = 0; i + 1 < pMiss.length; i++) {
    const m0 = pMiss[i]!;
    const f0 = pFa[i]!;
    const m1 = pMiss[i + 1]!;
    const f1 = pFa[i + 1]!;
    if (m0 <= f0 && m1 >= f1) {
      const above = f0 - m0;
      const below = m1 - f1;
      if (above + below === 0) return m0;
      return m0 + ((m1 - m0) * above) / (above + below);
    }
  }
  // Unreachable: the hull runs from (P_miss 0, P_fa 1) to (1, 0), so it crosses the diagonal.
  return Number.NaN;
}

/**
 * minCllr: the Cllr of the PAV-calibrated scores (llreval `min_cllr`). In a bin with `g` genuine
 * and `d` deepfake pairs the calibrated LLR for genuine is `log(g D / (d G))`, so a genuine pair
 * costs `log1p(d G / (g D))` nats and a deepfake `log1p(g D / (d G))`; empty sides cost nothing,
 * which makes perfect separation 0. Pure.
 *
 * @example
 * minCllr([{ genuine: 2, deepfake: 3 }], 2, 3); // 1 (no information)
 */
export function minCllr(bins: readonly PavBin[], genuine: number, deepfake: number): number {
  let genuineCost = 0;
  let deepfakeCost = 0;
  for (const { genuine: g, deepfake: d } of bins) {
    if (g > 0) genuineCost += g * Math.log1p((d * genuine) / (g * deepfake));
    if (d > 0) deepfakeCost += d * Math.log1p((g * deepfake) / (d * genuine));
  }
  return (genuineCost / genuine + deepfakeCost / deepfake) / (2 * Math.LN2);
}

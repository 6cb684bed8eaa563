/**
 * The sign convention and the cost models, named once so that every output can carry them.
 *
 * The platform's score `s` is a log-likelihood ratio of *deepfake* against *genuine*: `s > 0`
 * suggests a deepfake. Speaker-verification and anti-spoofing tooling (BOSARIS, llreval, the
 * ASVspoof evaluation packages) score the other way round (higher = bona fide = target), so here:
 *
 * - **target** = a genuine (bona fide) pair; **non-target** = **spoof** = a deepfake pair;
 * - at a threshold `t`, a pair is called *deepfake* when `s > t` and *genuine* when `s <= t`;
 * - `P_miss(t)` = share of genuine pairs with `s > t` (a genuine pair rejected as a deepfake);
 * - `P_fa(t)` = share of deepfake pairs with `s <= t` (a deepfake accepted as genuine). This is
 *   the **false acceptance rate** (FAR);
 * - the bona fide score the usual tools expect is `-s`.
 */
export const CONVENTION = {
  score: 'log-likelihood ratio of deepfake vs genuine (higher = more likely a deepfake)',
  target: 'genuine (bona fide) pair',
  nonTarget: 'deepfake (spoof) pair',
  decision: 'deepfake when score > threshold, genuine when score <= threshold',
  pMiss: 'share of genuine pairs with score > threshold (genuine rejected)',
  pFa: 'share of deepfake pairs with score <= threshold (deepfake accepted: the false acceptance rate)',
  infiniteThreshold: 'null: -Infinity calls every pair deepfake, +Infinity every pair genuine',
} as const;

/** The convention, as it appears in every output. */
export type Convention = typeof CONVENTION;

/**
 * A detection cost model: the prior of a deepfake pair and the cost of each error.
 *
 * @example
 * const strict: Costs = { pSpoof: 0.01, cMiss: 1, cFa: 100 };
 */
export interface Costs {
  /** Prior probability that a pair is a deepfake, in (0, 1). */
  readonly pSpoof: number;
  /** Cost of rejecting a genuine pair (a miss), > 0. */
  readonly cMiss: number;
  /** Cost of accepting a deepfake as genuine (a false acceptance), > 0. */
  readonly cFa: number;
}

/**
 * The ASVspoof 5 track 1 cost model (evaluation plan, DCF: P_spoof = 0.05, C_miss = 1, C_fa = 10).
 *
 * @example
 * computeMetrics(scores).figures?.dcf.asvspoof5.minDcf; // normalised as in the ASVspoof 5 package
 */
export const ASVSPOOF5_COSTS = { pSpoof: 0.05, cMiss: 1, cFa: 10 } as const satisfies Costs;

/**
 * Throws a `RangeError` unless the costs are usable: `pSpoof` strictly between 0 and 1, both costs
 * finite and positive.
 *
 * @example
 * assertCosts({ pSpoof: 0.05, cMiss: 1, cFa: 10 }); // passes
 */
export function assertCosts(costs: Costs): void {
  const { pSpoof, cMiss, cFa } = costs;
  if (!(pSpoof > 0 && pSpoof < 1)) throw new RangeError(`pSpoof must be in (0, 1), got ${pSpoof}`);
  if (!(cMiss > 0 && Number.isFinite(cMiss))) throw new RangeError(`cMiss must be > 0, got ${cMiss}`);
  if (!(cFa > 0 && Number.isFinite(cFa))) throw new RangeError(`cFa must be > 0, got ${cFa}`);
}

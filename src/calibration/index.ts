/**
 * Calibration metrics for labelled score sets: EER (ROCCH and nearest-point), minDCF and actDCF
 * (ASVspoof 5 and user costs), Cllr and minCllr, Bayes thresholds, thresholds at a false
 * acceptance rate, DET points on normal-deviate axes.
 *
 * Pure TypeScript: no I/O and no Node built-ins, so the report writer, `rdd calibrate` and any
 * other consumer can import it anywhere.
 *
 * Convention (see {@link CONVENTION}): the score is an LLR of deepfake vs genuine, so **target =
 * genuine pair**, non-target = spoof = deepfake pair; deepfake when score > threshold;
 * P_miss = genuine pairs rejected; P_fa = the false acceptance rate = deepfakes accepted as genuine.
 *
 * Checked against llreval, scikit-learn and the ASVspoof 5 evaluation package's definitions by
 * test/unit/calibration.test.ts, on vectors written by scripts/calibration-golden.py.
 */
export { ASVSPOOF5_COSTS, CONVENTION, assertCosts, type Convention, type Costs } from './convention.ts';
export { DEFAULT_DET_POINTS, detPoints, type CurvePoint, type DetPoint } from './det.ts';
export {
  computeMetrics,
  empiricalOperatingPoints,
  type CalibrationFigures,
  type CalibrationMetrics,
  type DcfFigures,
  type EerFigures,
  type LabelledScore,
  type MetricsOptions,
  type OperatingPoint,
  type ScoreCounts,
} from './metrics.ts';
export { minCllr, pavBins, rocch, rocchEer, type PavBin, type Rocch, type ScoreGroup } from './pav.ts';
export { probit } from './probit.ts';

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ASVSPOOF5_COSTS,
  computeMetrics,
  empiricalOperatingPoints,
  pavBins,
  probit,
  type CalibrationFigures,
  type Costs,
  type LabelledScore,
  type OperatingPoint,
  type ScoreGroup,
} from '../../src/calibration/index.ts';

/** test/fixtures/calibration-golden.json, written by scripts/calibration-golden.py (llreval, sklearn). */
interface GoldenDcf {
  costs: Costs;
  bayesThreshold: number;
  minDcf: number;
  minDcfLlreval: number;
  minDcfThreshold: number | null;
  minDcfPMiss: number;
  minDcfPFa: number;
  actDcf: number;
  actPMiss: number;
  actPFa: number;
}
interface GoldenCase {
  name: string;
  scores: LabelledScore[];
  options: { costs?: Costs; threshold?: number; targetFar: number[] };
  expected: {
    counts: { total: number; genuine: number; deepfake: number; excludedNull: number };
    empty?: true;
    curve: { threshold: (number | null)[]; pMiss: number[]; pFa: number[] };
    sklearnDet: { threshold: (number | null)[]; pMiss: number[]; pFa: number[] };
    nearestEer: { eer: number; pMiss: number; pFa: number; threshold: number | null };
    rocchEer: number;
    rocchEerLlreval: number;
    rocch: { pMiss: number[]; pFa: number[] };
    cllr: number;
    minCllr: number;
    dcf: { asvspoof5: GoldenDcf; user?: GoldenDcf };
    thresholdAtFar: { targetFar: number; threshold: number | null; pMiss: number; pFa: number }[];
    atThreshold: { threshold: number; pMiss: number; pFa: number };
  };
}
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/calibration-golden.json', import.meta.url), 'utf8'),
) as { asvspoof5: Costs; probit: { p: number; z: number }[]; cases: GoldenCase[] };

/** |a − b| <= rel · max(|a|, |b|), with a floor for values that are 0. */
function expectClose(actual: number | null | undefined, expected: number, rel = 1e-9): void {
  expect(actual).toBeTypeOf('number');
  const a = actual!;
  const tolerance = rel * Math.max(Math.abs(a), Math.abs(expected)) + 1e-300;
  if (!(Math.abs(a - expected) <= tolerance)) expect(a).toBe(expected); // fails with both values shown
}

function figuresOf(scores: readonly LabelledScore[], options?: Parameters<typeof computeMetrics>[1]) {
  const { figures, reason } = computeMetrics(scores, options);
  expect(reason).toBeNull();
  return figures!;
}

/** A small deterministic PRNG (mulberry32) and Box–Muller normals, so property tests are repeatable. */
function normals(seed: number, n: number, mean: number, sd: number): number[] {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => {
    const u = 1 - uniform();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  });
}

function labelled(genuine: readonly number[], deepfake: readonly number[]): LabelledScore[] {
  return [
    ...genuine.map((score) => ({ score, label: 'genuine' as const })),
    ...deepfake.map((score) => ({ score, label: 'deepfake' as const })),
  ];
}

const mapScores = (rows: readonly LabelledScore[], f: (s: number) => number): LabelledScore[] =>
  rows.map((r) => ({ label: r.label, score: r.score === null ? null : f(r.score) }));

/** The figures that depend on the order of the scores only, not on their values. */
function rankFigures(f: CalibrationFigures) {
  return {
    rocchEer: f.eer.rocch,
    nearestEer: f.eer.nearest.eer,
    minCllr: f.minCllr,
    minDcf: f.dcf.asvspoof5.minDcf,
    rocch: f.rocch,
    far: f.thresholdAtFar.map((p) => [p.pMiss, p.pFa]),
  };
}

describe('calibration metrics against the golden vectors (llreval, scikit-learn, ASVspoof 5 definitions)', () => {
  it('covers every case the brief names', () => {
    expect(golden.cases.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'ties',
        'one-genuine',
        'all-equal',
        'perfect-separation',
        'null-scores',
        'large',
      ]),
    );
    expect(golden.asvspoof5).toEqual(ASVSPOOF5_COSTS);
  });

  for (const c of golden.cases) {
    describe(c.name, () => {
      const result = computeMetrics(c.scores, c.options);
      const e = c.expected;

      it('counts pairs, and null scores apart', () => {
        expect(result.counts).toEqual({ ...e.counts, excludedNaN: 0 });
        expect(result.convention.target).toMatch(/genuine/);
      });

      if (e.empty) {
        it('gives no figures, and says why', () => {
          expect(result.figures).toBeNull();
          expect(result.reason).toMatch(e.counts.genuine === 0 ? /no genuine/ : /no deepfake/);
        });
        return;
      }
      const f = result.figures!;

      it('matches the empirical curve exactly (sklearn roc_curve), and holds every sklearn det_curve point', () => {
        const curve = empiricalOperatingPoints(c.scores);
        expect(curve.map((p) => p.threshold)).toEqual(e.curve.threshold);
        expect(curve.map((p) => p.pMiss)).toEqual(e.curve.pMiss);
        expect(curve.map((p) => p.pFa)).toEqual(e.curve.pFa);
        expect(f.curvePoints).toBe(curve.length);
        e.sklearnDet.threshold.forEach((t, i) => {
          const p = curve.find((q) => q.threshold === t);
          expect(p).toEqual<OperatingPoint>({
            threshold: t,
            pMiss: e.sklearnDet.pMiss[i]!,
            pFa: e.sklearnDet.pFa[i]!,
          });
        });
      });

      it('matches the nearest-point EER, the threshold at each FAR and the rates at the threshold exactly', () => {
        expect(f.eer.nearest).toEqual(e.nearestEer);
        expect(f.thresholdAtFar).toEqual(e.thresholdAtFar);
        expect(f.atThreshold).toEqual(e.atThreshold);
      });

      it('matches the ROCCH (llreval PAV) exactly and its EER to 1e-9', () => {
        expect(f.rocch).toEqual(e.rocch);
        expectClose(f.eer.rocch, e.rocchEer);
        expectClose(f.eer.rocch, e.rocchEerLlreval, 1e-6); // llreval maximises numerically
      });

      it('matches Cllr and minCllr (llreval) to 1e-9', () => {
        expectClose(f.cllr, e.cllr);
        expectClose(f.minCllr, e.minCllr);
      });

      for (const model of ['asvspoof5', 'user'] as const) {
        const g = e.dcf[model];
        if (g === undefined) continue;
        it(`matches minDCF, actDCF and the Bayes threshold under the ${model} costs`, () => {
          const d = f.dcf[model]!;
          expect(d.costs).toEqual(g.costs);
          expectClose(d.bayesThreshold, g.bayesThreshold, 1e-12);
          expectClose(d.minDcf, g.minDcf);
          expectClose(d.minDcf, g.minDcfLlreval);
          expect(d.minDcfAt).toEqual({
            threshold: g.minDcfThreshold,
            pMiss: g.minDcfPMiss,
            pFa: g.minDcfPFa,
          });
          expectClose(d.actDcf, g.actDcf);
          expect([d.actDcfAt.pMiss, d.actDcfAt.pFa]).toEqual([g.actPMiss, g.actPFa]);
        });
      }
      if (e.dcf.user === undefined) {
        it('reports no user cost model when none is given', () => expect(f.dcf.user).toBeNull());
      }

      it('is plain JSON', () => {
        expect(JSON.parse(JSON.stringify(result))).toEqual(result);
      });
    });
  }

  it('computes the probit as scipy.special.ndtri does, to 1e-13 (AS241)', () => {
    for (const { p, z } of golden.probit) expectClose(probit(p), z, 1e-13);
  });
});

describe('calibration metric properties', () => {
  const genuine = normals(1, 500, -1, 1.5);
  const deepfake = normals(2, 400, 1.2, 2);
  const base = labelled(genuine, deepfake);

  it('leaves EER, minCllr, minDCF, the ROCCH and the rates at each FAR unchanged under increasing maps', () => {
    const reference = rankFigures(figuresOf(base));
    for (const f of [(s: number) => 3 * s - 2, (s: number) => s ** 3 + s, (s: number) => Math.exp(s / 4)]) {
      expect(rankFigures(figuresOf(mapScores(base, f)))).toEqual(reference);
    }
    // Cllr is about calibration, so it does move.
    expect(figuresOf(mapScores(base, (s) => 3 * s)).cllr).not.toBeCloseTo(figuresOf(base).cllr!, 3);
  });

  it('never has Cllr below minCllr, nor actDCF below minDCF', () => {
    for (const c of golden.cases.filter((g) => !g.expected.empty)) {
      const f = figuresOf(c.scores, c.options);
      expect(f.cllr!).toBeGreaterThanOrEqual(f.minCllr - 1e-12);
      expect(f.dcf.asvspoof5.actDcf).toBeGreaterThanOrEqual(f.dcf.asvspoof5.minDcf);
      expect(f.dcf.asvspoof5.minDcf).toBeLessThanOrEqual(1);
    }
  });

  it('gives the PAV-calibrated scores a Cllr equal to minCllr (so PAV is the optimal calibration)', () => {
    // Recalibrate by hand: each pair gets its PAV bin's LLR (deepfake vs genuine), ±Infinity included.
    const sorted = [...base].sort((a, b) => b.score! - a.score!);
    const groups: ScoreGroup[] = [...sorted].reverse().map((r) => ({
      score: r.score!,
      genuine: r.label === 'genuine' ? 1 : 0,
      deepfake: r.label === 'deepfake' ? 1 : 0,
    }));
    const bins = pavBins(groups);
    const G = genuine.length;
    const D = deepfake.length;
    const calibrated: LabelledScore[] = [];
    let i = 0;
    for (const bin of bins) {
      const llr = Math.log(bin.deepfake * G) - Math.log(bin.genuine * D);
      for (let k = 0; k < bin.genuine + bin.deepfake; k++) calibrated.push({ ...sorted[i++]!, score: llr });
    }
    const f = figuresOf(calibrated);
    const minimum = figuresOf(base).minCllr;
    expectClose(f.cllr, minimum, 1e-12);
    expectClose(f.minCllr, minimum, 1e-12);
  });

  it('scores well-calibrated Gaussian LLRs close to minCllr, and actDCF close to minDCF', () => {
    // x | genuine ~ N(−1, 1), x | deepfake ~ N(1, 1)  ⇒  LLR(deepfake : genuine) = 2x.
    const llr = labelled(
      normals(3, 5000, -1, 1).map((x) => 2 * x),
      normals(4, 5000, 1, 1).map((x) => 2 * x),
    );
    const f = figuresOf(llr);
    expect(f.cllr! - f.minCllr).toBeLessThan(0.01);
    expect(f.dcf.asvspoof5.actDcf - f.dcf.asvspoof5.minDcf).toBeLessThan(0.05);
    // Theory: EER = Φ(−1) = 0.1587 for these distributions.
    expect(f.eer.rocch).toBeCloseTo(0.1587, 1);
    // Overconfident scores lose calibration but not discrimination.
    const over = figuresOf(mapScores(llr, (s) => 4 * s));
    expect(over.cllr!).toBeGreaterThan(f.cllr! + 0.2);
    expect(over.minCllr).toBe(f.minCllr);
  });

  it('is symmetric: negating the scores and swapping the labels keeps Cllr and both EERs', () => {
    const swapped = base.map((r) => ({
      score: -r.score!,
      label: r.label === 'genuine' ? ('deepfake' as const) : ('genuine' as const),
    }));
    const a = figuresOf(base);
    const b = figuresOf(swapped);
    expectClose(b.cllr, a.cllr!, 1e-12);
    expectClose(b.eer.rocch, a.eer.rocch, 1e-12);
    // The empirical curve is not exactly symmetric (a threshold equal to a score belongs to one
    // side), so the nearest point may move by one pair.
    expect(Math.abs(b.eer.nearest.eer - a.eer.nearest.eer)).toBeLessThanOrEqual(1 / deepfake.length);
    expect(b.minCllr).toBeCloseTo(a.minCllr, 12);
  });

  it('gives all-zero scores Cllr 1, minCllr 1 and EER 0.5, and perfect separation EER 0 and minCllr 0', () => {
    const zero = figuresOf(labelled([0, 0, 0], [0, 0]));
    expect([zero.cllr, zero.minCllr, zero.eer.rocch, zero.eer.nearest.eer]).toEqual([1, 1, 0.5, 0.5]);
    const perfect = figuresOf(labelled([-3, -2, -1], [1, 2]));
    expect([
      perfect.minCllr,
      perfect.eer.rocch,
      perfect.eer.nearest.eer,
      perfect.dcf.asvspoof5.minDcf,
    ]).toEqual([0, 0, 0, 0]);
    expect(perfect.eer.nearest.threshold).toBe(-1);
  });

  it('keeps ±Infinity scores, excludes NaN, and reports an infinite Cllr as null', () => {
    const right = computeMetrics([
      ...labelled([-Infinity, -1, 0.5], [Infinity, 1, -0.5]),
      { score: Number.NaN, label: 'genuine' },
      { score: null, label: 'deepfake' },
    ]);
    expect(right.counts).toEqual({ total: 8, genuine: 3, deepfake: 3, excludedNull: 1, excludedNaN: 1 });
    expect(right.figures!.cllr).toBeTypeOf('number');
    expect(right.figures!.curvePoints).toBe(7);
    expect(JSON.parse(JSON.stringify(right))).toEqual(right);
    const wrong = figuresOf(labelled([Infinity, -1], [1, 2]));
    expect(wrong.cllr).toBeNull();
    expect(wrong.minCllr).toBeGreaterThan(0);
  });

  it('says which class is missing', () => {
    expect(computeMetrics([]).reason).toMatch(/no genuine and no deepfake/);
    expect(computeMetrics(labelled([], [1])).reason).toMatch(/no genuine pair/);
    expect(computeMetrics(labelled([1], [])).figures).toBeNull();
  });

  it('places the Bayes threshold at log(C_miss (1 − P_spoof) / (C_fa P_spoof)) for each cost model', () => {
    const f = figuresOf(base, { costs: { pSpoof: 0.5, cMiss: 1, cFa: 1 } });
    expect(f.dcf.asvspoof5.bayesThreshold).toBeCloseTo(Math.log(0.95 / 0.5), 15);
    expect(f.dcf.asvspoof5.defaultCost).toBeCloseTo(0.5, 15);
    expect(f.dcf.user!.bayesThreshold).toBe(0);
  });

  it('thins the DET curve to the bound, keeping its ends, its order and finite normal deviates', () => {
    const large = labelled(normals(5, 3000, -1, 1), normals(6, 3000, 1, 1));
    const all = figuresOf(large, { maxDetPoints: 100_000 }).det;
    const det = figuresOf(large, { maxDetPoints: 60 }).det;
    expect(det.length).toBeLessThanOrEqual(60);
    expect(det.length).toBeGreaterThan(40);
    expect(det[0]).toEqual(all[0]);
    expect(det.at(-1)).toEqual(all.at(-1));
    for (let i = 1; i < det.length; i++) {
      expect(det[i]!.pMiss).toBeLessThanOrEqual(det[i - 1]!.pMiss);
      expect(det[i]!.pFa).toBeGreaterThanOrEqual(det[i - 1]!.pFa);
    }
    for (const p of det) {
      expect(Number.isFinite(p.zMiss) && Number.isFinite(p.zFa)).toBe(true);
      expect(p.zMiss).toBe(probit(p.pMiss));
    }
  });

  it('rejects unusable options', () => {
    expect(() => computeMetrics(base, { costs: { pSpoof: 1, cMiss: 1, cFa: 1 } })).toThrow(RangeError);
    expect(() => computeMetrics(base, { costs: { pSpoof: 0.1, cMiss: 0, cFa: 1 } })).toThrow(RangeError);
    expect(() => computeMetrics(base, { targetFar: [1.5] })).toThrow(RangeError);
    expect(() => computeMetrics(base, { maxDetPoints: 1 })).toThrow(RangeError);
  });

  it('has the probit edges and symmetry', () => {
    expect([probit(0), probit(1), probit(0.5)]).toEqual([-Infinity, Infinity, 0]);
    expect(probit(-0.1)).toBeNaN();
    expect(probit(Number.NaN)).toBeNaN();
    expect(probit(0.25)).toBe(-probit(0.75));
  });
});

#!/usr/bin/env python3
"""Writes test/fixtures/calibration-golden.json: score sets and the metrics reference tools give for them.

The TypeScript module src/calibration/ is compared against these numbers in
test/unit/calibration.test.ts. This script installs nothing; run it once, in a virtual environment:

    python3 -m venv /tmp/calvenv
    /tmp/calvenv/bin/pip install llreval scikit-learn numpy
    /tmp/calvenv/bin/python scripts/calibration-golden.py

and commit the JSON it writes. It is deterministic (fixed seed), so a rerun with the same package
versions writes the same file.

Convention (the platform's): the score s is a log-likelihood ratio of deepfake vs genuine, so a
HIGH score means deepfake. "target" = a genuine (bona fide) pair, "non-target"/"spoof" = a deepfake pair.
A pair is called deepfake when s > t and genuine when s <= t, so
    P_miss(t) = #{genuine with s > t} / #genuine      (a genuine pair rejected)
    P_fa(t)   = #{deepfake with s <= t} / #deepfake   (a deepfake accepted as genuine: the FAR)
The bona fide score the reference tools expect (higher = target) is therefore x = -s.

Where each reference value comes from:
- empirical curve (P_miss, P_fa at every distinct score) and the threshold at a FAR:
  sklearn.metrics.roc_curve(y = genuine, -s, drop_intermediate=False); sklearn's rule "positive when
  score >= thr" on x = -s is exactly "genuine when s <= -thr". The DET points of
  sklearn.metrics.det_curve are kept too: every one must be a point of our curve.
- ROCCH-EER: the vertices of llreval's PAV/ROCCH, and the EER taken from them with BOSARIS's
  rocch2eer formula (per hull segment, the crossing of its line with P_miss = P_fa; the largest).
  llreval's own ROCCH.EER() maximises the Bayes error rate numerically (scipy minimize_scalar), so
  it is only accurate to ~1e-8: it is kept as `rocchEerLlreval` and checked here to 1e-6.
- Cllr: llreval.cllr.cllr; minCllr: llreval.cllr.min_cllr(PAV).
- minDCF: llreval ROCCH Bayes error rate at the effective prior, rescaled (a linear cost is minimal on
  a hull vertex, so this is the minimum over the empirical curve), and independently the straight
  minimum over the empirical curve (ASVspoof 5 evaluation plan, eq. for DCF; normalised by
  min(C_miss * (1 - P_spoof), C_fa * P_spoof) as in the ASVspoof 5 evaluation package's
  compute_mindcf). The two must agree.
- actDCF: the ASVspoof 5 evaluation package's compute_actDCF definition, written out here: Bayes
  threshold tau = log(C_miss (1 - P_spoof) / (C_fa P_spoof)) on s, P_miss(tau), P_fa(tau), normalised
  as above; cross-checked with llreval.bayes_error_rate.fast_Bayes_error_rate.
- nearest-point EER: the point of the empirical curve where |P_miss - P_fa| is smallest (ties: the
  highest threshold, the first in the ASVspoof 5 package's compute_eer order), reported as the mean.
  On tie-free sets it is checked against the ASVspoof 5 package's compute_eer, written out here.
- probit: scipy.special.ndtri at fixed probabilities (reference for the inverse normal CDF).
"""

import json
import math
import os

import numpy as np
from llreval.bayes_error_rate import fast_Bayes_error_rate
from llreval.cllr import cllr, min_cllr
from llreval.pav_rocch import PAV, ROCCH
from scipy.special import ndtri
from sklearn.metrics import det_curve, roc_curve

ASVSPOOF5 = {"pSpoof": 0.05, "cMiss": 1.0, "cFa": 10.0}
TARGET_FAR = [0.0, 0.01, 0.05, 0.1, 0.5]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "calibration-golden.json")


def num(x):
    """A JSON number, or null for an infinite threshold."""
    x = float(x)
    return None if math.isinf(x) else x


def curve(s, genuine):
    """Empirical (t, P_miss, P_fa) at t = -inf and every distinct score, ascending t, from sklearn."""
    G = int(genuine.sum())
    fpr, tpr, thr = roc_curve(genuine.astype(int), -s, pos_label=1, drop_intermediate=False)
    t = -thr  # thr[0] = +inf  ->  t = -inf
    tps = np.rint(tpr * G).astype(int)
    p_miss = (G - tps) / G
    return t, p_miss, fpr


def dcf_norm(costs, p_miss, p_fa):
    p_bona = 1 - costs["pSpoof"]
    c_def = min(costs["cMiss"] * p_bona, costs["cFa"] * costs["pSpoof"])
    return (costs["cMiss"] * p_bona * p_miss + costs["cFa"] * costs["pSpoof"] * p_fa) / c_def


def dcf(costs, s, genuine, t, p_miss, p_fa, pav):
    p_bona = 1 - costs["pSpoof"]
    c_def = min(costs["cMiss"] * p_bona, costs["cFa"] * costs["pSpoof"])
    # Straight minimum over the empirical curve (ASVspoof 5 compute_mindcf, over achievable thresholds).
    d = dcf_norm(costs, p_miss, p_fa)
    i = int(np.argmin(d))  # first = lowest threshold among equal minima
    # llreval: optimal Bayes error at the effective prior of a genuine pair, rescaled to the DCF.
    w_miss, w_fa = costs["cMiss"] * p_bona, costs["cFa"] * costs["pSpoof"]
    plo = math.log(w_miss / w_fa)
    ber = ROCCH(pav).Bayes_error_rate(plo)
    min_llreval = ber * (w_miss + w_fa) / c_def
    assert math.isclose(min_llreval, d[i], rel_tol=1e-12, abs_tol=1e-15), (min_llreval, d[i])
    # actDCF as in the ASVspoof 5 package's compute_actDCF, in our sign convention.
    tau = math.log(costs["cMiss"] * p_bona / (costs["cFa"] * costs["pSpoof"]))
    g, f = s[genuine], s[~genuine]
    a_miss = np.sum(g > tau) / g.size
    a_fa = np.sum(f <= tau) / f.size
    act = (costs["cMiss"] * p_bona * a_miss + costs["cFa"] * costs["pSpoof"] * a_fa) / c_def
    # llreval's fast Bayes error rate applies the same rule (targets below -plo missed, non-targets at or above it accepted).
    _, _, lm, lf = fast_Bayes_error_rate(-s, genuine.astype(int), np.array([plo]), return_der_Pmiss_Pfa=True)
    assert lm[0] == a_miss and lf[0] == a_fa, (lm, lf, a_miss, a_fa)
    return {
        "costs": costs,
        "bayesThreshold": tau,
        "minDcf": float(d[i]),
        "minDcfLlreval": float(min_llreval),
        "minDcfThreshold": num(t[i]),
        "minDcfPMiss": float(p_miss[i]),
        "minDcfPFa": float(p_fa[i]),
        "actDcf": float(act),
        "actPMiss": float(a_miss),
        "actPFa": float(a_fa),
    }


def rocch_eer(pav):
    """BOSARIS rocch2eer on llreval's ROCCH vertices."""
    pmiss, pfa = ROCCH(pav).Pmiss_Pfa()
    eer = 0.0
    for i in range(len(pmiss) - 1):
        xx, yy = pfa[i : i + 2], pmiss[i : i + 2]
        assert xx[1] <= xx[0] and yy[0] <= yy[1]
        if xx[0] - xx[1] == 0 or yy[0] - yy[1] == 0:
            continue
        seg = np.linalg.solve(np.array([[xx[0], yy[0]], [xx[1], yy[1]]]), np.array([1.0, 1.0]))
        eer = max(eer, 1.0 / seg.sum())
    return eer, pmiss, pfa


def asvspoof5_compute_eer(bona, spoof):
    """The ASVspoof 5 package's compute_det_curve + compute_eer, on bona fide scores (higher = genuine)."""
    n = bona.size + spoof.size
    all_scores = np.concatenate((bona, spoof))
    labels = np.concatenate((np.ones(bona.size), np.zeros(spoof.size)))
    idx = np.argsort(all_scores, kind="mergesort")
    labels = labels[idx]
    tar_sums = np.cumsum(labels)
    non_sums = spoof.size - (np.arange(1, n + 1) - tar_sums)
    frr = np.concatenate(([0], tar_sums / bona.size))
    far = np.concatenate(([1], non_sums / spoof.size))
    k = int(np.argmin(np.abs(frr - far)))
    return float(np.mean((frr[k], far[k])))


def reference(case):
    rows = [r for r in case["scores"] if r["score"] is not None]
    s = np.array([r["score"] for r in rows], dtype=np.float64)
    genuine = np.array([r["label"] == "genuine" for r in rows], dtype=bool)
    G, D = int(genuine.sum()), int((~genuine).sum())
    out = {
        "counts": {
            "total": len(case["scores"]),
            "genuine": G,
            "deepfake": D,
            "excludedNull": len(case["scores"]) - len(rows),
        }
    }
    if G == 0 or D == 0:
        out["empty"] = True
        return out

    t, p_miss, p_fa = curve(s, genuine)
    out["curve"] = {"threshold": [num(x) for x in t], "pMiss": p_miss.tolist(), "pFa": p_fa.tolist()}
    # sklearn's own DET points (positive = genuine, score = -s): every one is a point of our curve.
    fpr, fnr, thr = det_curve(genuine.astype(int), -s, pos_label=1)
    out["sklearnDet"] = {"threshold": [num(-x) for x in thr], "pFa": fpr.tolist(), "pMiss": fnr.tolist()}

    # Nearest-point EER: smallest |P_miss - P_fa|, ties to the highest threshold.
    diff = np.abs(p_miss - p_fa)
    j = int(np.flatnonzero(diff == diff.min())[-1])
    out["nearestEer"] = {
        "eer": float((p_miss[j] + p_fa[j]) / 2),
        "pMiss": float(p_miss[j]),
        "pFa": float(p_fa[j]),
        "threshold": num(t[j]),
    }
    if np.unique(s).size == s.size:
        assert out["nearestEer"]["eer"] == asvspoof5_compute_eer(-s[genuine], -s[~genuine])

    # PAV / ROCCH on the bona fide score x = -s (llreval: class 1 = target = genuine).
    pav = PAV(-s, genuine.astype(int))
    eer, hull_miss, hull_fa = rocch_eer(pav)
    eer_llreval = ROCCH(pav).EER()
    assert abs(eer - eer_llreval) <= 1e-6, (eer, eer_llreval)
    out["rocchEer"] = eer
    out["rocchEerLlreval"] = float(eer_llreval)
    # "+ 0.0" turns llreval's -0.0 (from dividing by -N) into 0.0, as JSON readers expect.
    out["rocch"] = {"pMiss": (hull_miss + 0.0).tolist(), "pFa": (hull_fa + 0.0).tolist()}
    with np.errstate(over="ignore"):
        out["cllr"] = float(cllr(-s[genuine], -s[~genuine]))
    out["minCllr"] = float(min_cllr(pav))

    out["dcf"] = {"asvspoof5": dcf(ASVSPOOF5, s, genuine, t, p_miss, p_fa, pav)}
    if "costs" in case["options"]:
        out["dcf"]["user"] = dcf(case["options"]["costs"], s, genuine, t, p_miss, p_fa, pav)

    # Threshold at a FAR: the highest threshold whose P_fa <= the target (so the lowest P_miss).
    far_rows = []
    for x in case["options"].get("targetFar", TARGET_FAR):
        k = int(np.flatnonzero(p_fa <= x)[-1])
        far_rows.append({"targetFar": x, "threshold": num(t[k]), "pMiss": float(p_miss[k]), "pFa": float(p_fa[k])})
    out["thresholdAtFar"] = far_rows

    th = case["options"].get("threshold", 0.0)
    out["atThreshold"] = {
        "threshold": th,
        "pMiss": float(np.sum(s[genuine] > th) / G),
        "pFa": float(np.sum(s[~genuine] <= th) / D),
    }
    return out


def rows(genuine, deepfake):
    return [{"score": float(x), "label": "genuine"} for x in genuine] + [
        {"score": float(x), "label": "deepfake"} for x in deepfake
    ]


def cases():
    rng = np.random.default_rng(20250607)
    out = []

    def add(name, scores, **options):
        options.setdefault("targetFar", TARGET_FAR)
        out.append({"name": name, "scores": scores, "options": options})

    # Overlapping Gaussians, not calibrated (scale and shift off).
    add("gaussian-overlap", rows(rng.normal(-1.0, 2.0, 200), rng.normal(1.5, 2.5, 150)),
        costs={"pSpoof": 0.5, "cMiss": 1.0, "cFa": 1.0}, threshold=0.0)
    # Calibrated LLRs: x | genuine ~ N(-1, 1), x | deepfake ~ N(1, 1)  ->  LLR(deepfake : genuine) = 2x.
    add("gaussian-calibrated", rows(2 * rng.normal(-1.0, 1.0, 400), 2 * rng.normal(1.0, 1.0, 400)),
        costs={"pSpoof": 0.01, "cMiss": 1.0, "cFa": 100.0})
    # Ties inside and across the classes (scores on a 0.5 grid).
    add("ties", rows(np.round(rng.normal(-0.5, 1.0, 120) * 2) / 2, np.round(rng.normal(0.5, 1.0, 90) * 2) / 2),
        threshold=0.5, targetFar=[0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0])
    add("one-genuine", rows([0.3], rng.normal(1.0, 1.0, 50)))
    add("one-deepfake", rows(rng.normal(-1.0, 1.0, 50), [-0.2]))
    add("one-each", rows([0.4], [0.4]))
    add("all-equal", rows([0.7] * 20, [0.7] * 30))
    add("perfect-separation", rows(rng.normal(-5.0, 1.0, 40), rng.normal(5.0, 1.0, 60)))
    # Separated except for one shared score at the boundary.
    add("touching", rows([-3.0, -2.0, -1.0, 0.0], [0.0, 1.0, 2.0, 3.0]))
    nulls = rows(rng.normal(-1.0, 1.5, 60), rng.normal(1.0, 1.5, 60))
    for i in range(0, len(nulls), 7):
        nulls[i] = {"score": None, "label": nulls[i]["label"]}
    add("null-scores", nulls)
    # Huge LLRs, some on the wrong side: softplus must not overflow.
    add("huge", rows([-1e300, -800.0, -50.0, 1e-300, 700.0, 1e300], [-1e300, -700.0, 0.0, 40.0, 900.0, 1e300]),
        costs={"pSpoof": 0.2, "cMiss": 2.0, "cFa": 3.0})
    add("large", rows(rng.normal(-1.5, 1.2, 1000), rng.normal(1.0, 1.6, 1000)),
        costs={"pSpoof": 0.5, "cMiss": 1.0, "cFa": 1.0})
    add("empty-deepfake", rows(rng.normal(0.0, 1.0, 5), []))
    add("all-null", [{"score": None, "label": "genuine"}, {"score": None, "label": "deepfake"}])
    return out


def main():
    golden = {
        "generator": "scripts/calibration-golden.py",
        "convention": "score = LLR deepfake vs genuine; target = genuine; deepfake when score > threshold",
        "versions": {
            "llreval": __import__("importlib.metadata").metadata.version("llreval"),
            "scikit-learn": __import__("importlib.metadata").metadata.version("scikit-learn"),
            "numpy": np.__version__,
        },
        "asvspoof5": ASVSPOOF5,
        "probit": [
            {"p": p, "z": float(ndtri(p))}
            for p in [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.02425, 0.05, 0.1, 0.2, 0.3, 0.425, 0.5,
                      0.575, 0.7, 0.9, 0.97575, 0.99, 0.999, 1 - 1e-10, 1 / 3, 1 / 7]
        ],
        "cases": [],
    }
    for case in cases():
        case["expected"] = reference(case)
        golden["cases"].append(case)
    with open(OUT, "w") as fh:
        json.dump(golden, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(golden['cases'])} cases")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference values for metrics_test: scikit-learn (and numpy where sklearn has no metric) on
seeded prediction sets. Usage: metrics_reference.py OUT_JSON. Run with Debian's /usr/bin/python3."""
import csv
import json
import os
import sys
import warnings

import numpy as np
from sklearn import metrics as skm

MASK64 = (1 << 64) - 1


class SplitMix64:
    """The generator compute_metrics draws bootstrap indices from."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def finite_or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None


def try_metric(fn):
    try:
        return finite_or_none(fn())
    except ValueError:
        return None


def present(y, k):
    return 0 < np.sum(y == k) < len(y)


def headline_auc(y, probs):
    k_count = probs.shape[1]
    if k_count == 2:
        return try_metric(lambda: skm.roc_auc_score(y, probs[:, 1]))
    ks = [k for k in range(k_count) if present(y, k)]
    if len(ks) == k_count:
        return finite_or_none(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro",
                                                labels=list(range(k_count))))
    if not ks:
        return None
    return float(np.mean([skm.roc_auc_score(y == k, probs[:, k]) for k in ks]))


def weighted_auc(y, probs):
    k_count = probs.shape[1]
    if k_count == 2:
        return headline_auc(y, probs)
    ks = [k for k in range(k_count) if present(y, k)]
    if len(ks) == k_count:
        return float(skm.roc_auc_score(y, probs, multi_class="ovr", average="weighted",
                                       labels=list(range(k_count))))
    if not ks:
        return None
    weights = np.array([np.sum(y == k) for k in ks], dtype=float)
    aucs = np.array([skm.roc_auc_score(y == k, probs[:, k]) for k in ks])
    return float(np.sum(aucs * weights) / np.sum(weights))


def macro_ap(y, probs):
    k_count = probs.shape[1]
    if k_count == 2:
        return try_metric(lambda: skm.average_precision_score(y, probs[:, 1])
                          if np.any(y == 1) else float("nan"))
    ks = [k for k in range(k_count) if np.any(y == k)]
    if len(ks) == k_count:
        onehot = np.eye(k_count)[y]
        return float(skm.average_precision_score(onehot, probs, average="macro"))
    return float(np.mean([skm.average_precision_score(y == k, probs[:, k]) for k in ks]))


def headline_f1(y, pred, k_count):
    if k_count == 2:
        return float(skm.f1_score(y, pred, zero_division=0))
    return float(skm.f1_score(y, pred, average="macro", zero_division=0))


def specificities(y, pred, labels=None):
    mcm = skm.multilabel_confusion_matrix(y, pred, labels=labels)
    tn, fp = mcm[:, 0, 0].astype(float), mcm[:, 0, 1].astype(float)
    denom = tn + fp
    return np.where(denom > 0, tn / np.where(denom > 0, denom, 1), 0.0)


def brier(y, probs):
    if probs.shape[1] == 2:
        return float(skm.brier_score_loss(y, probs[:, 1]))
    onehot = np.eye(probs.shape[1])[y]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def calibration(y, probs, bins):
    """Top-label bins (lower, upper] on numpy.linspace edges; ECE weights |conf - acc| by size."""
    pred = np.argmax(probs, axis=1)
    conf = probs[np.arange(len(y)), pred]
    correct = (pred == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece, rows = 0.0, []
    for b in range(bins):
        mask = (conf > edges[b]) & (conf <= edges[b + 1])
        prop = mask.mean()
        if prop > 0:
            ece += abs(conf[mask].mean() - correct[mask].mean()) * prop
        rows.append({"lower": float(edges[b]), "upper": float(edges[b + 1]),
                     "count": int(mask.sum()),
                     "confidence": float(conf[mask].mean()) if mask.any() else None,
                     "accuracy": float(correct[mask].mean()) if mask.any() else None})
    return float(ece), rows


def per_class(y, pred, probs):
    k_count = probs.shape[1]
    labels = list(range(k_count))
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    spec = specificities(y, pred, labels)
    rows = []
    for k in labels:
        auc = skm.roc_auc_score(y == k, probs[:, k]) if present(y, k) else None
        ap = skm.average_precision_score(y == k, probs[:, k]) if np.any(y == k) else None
        rows.append({"precision": float(p[k]), "recall": float(r[k]),
                     "specificity": float(spec[k]), "f1": float(f[k]), "support": int(s[k]),
                     "auc": auc if auc is None else float(auc),
                     "average_precision": ap if ap is None else float(ap)})
    return rows


def curves(y, probs):
    rocs, prs = [], []
    for k in range(probs.shape[1]):
        if present(y, k):
            fpr, tpr, thr = skm.roc_curve(y == k, probs[:, k])
            rocs.append({"class_index": k, "fpr": fpr.tolist(), "tpr": tpr.tolist(),
                         "thresholds": thr[1:].tolist()})
        if np.any(y == k):
            prec, rec, thr = skm.precision_recall_curve(y == k, probs[:, k])
            prs.append({"class_index": k, "precision": prec.tolist(), "recall": rec.tolist(),
                        "thresholds": thr.tolist()})
    return rocs, prs


def youden(y, probs):
    if not present(y, 1):
        return None
    fpr, tpr, thr = skm.roc_curve(y, probs[:, 1])
    best = int(np.argmax(tpr - fpr))
    return {"threshold": float(thr[best]) if best > 0 else None,
            "sensitivity": float(tpr[best]), "specificity": float(1 - fpr[best])}


def bootstrap(y, probs, resamples, seed):
    rng = SplitMix64(seed)
    n, k_count = len(y), probs.shape[1]
    pred = np.argmax(probs, axis=1)
    acc, auc, f1 = [], [], []
    for _ in range(resamples):
        idx = np.array([rng.next() % n for _ in range(n)])
        ys, ps, preds = y[idx], probs[idx], pred[idx]
        acc.append(skm.accuracy_score(ys, preds))
        value = headline_auc(ys, ps)
        auc.append(np.nan if value is None else value)
        f1.append(headline_f1(ys, preds, k_count))

    def interval(values):
        values = np.asarray(values, dtype=float)
        if np.all(np.isnan(values)):
            return [None, None]
        return [float(v) for v in np.nanpercentile(values, [2.5, 97.5])]

    return {"accuracy": interval(acc), "auc": interval(auc), "f1_score": interval(f1)}


def expected(y, probs, options):
    k_count = probs.shape[1]
    pred = np.argmax(probs, axis=1)
    ece, bins = calibration(y, probs, options["ece_bins"])
    rocs, prs = curves(y, probs)
    out = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
        "auc": headline_auc(y, probs),
        "auc_weighted": weighted_auc(y, probs),
        "average_precision": macro_ap(y, probs),
        "f1_score": headline_f1(y, pred, k_count),
        "f1_macro": float(skm.f1_score(y, pred, average="macro", zero_division=0)),
        "f1_weighted": float(skm.f1_score(y, pred, average="weighted", zero_division=0)),
        "precision": float(skm.precision_score(y, pred, average="macro", zero_division=0)),
        "recall": float(skm.recall_score(y, pred, average="macro", zero_division=0)),
        "specificity": float(np.mean(specificities(y, pred))),
        "kappa": finite_or_none(skm.cohen_kappa_score(y, pred)),
        "log_loss": float(skm.log_loss(y, probs, labels=list(range(k_count)))),
        "brier_score": brier(y, probs),
        "ece": ece,
        "calibration": bins,
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=list(range(k_count))).tolist(),
        "per_class": per_class(y, pred, probs),
        "roc_curves": rocs,
        "pr_curves": prs,
    }
    if k_count == 2:
        out["youden"] = youden(y, probs)
    if options["bootstrap_resamples"] > 0:
        out["confidence_intervals"] = bootstrap(y, probs, options["bootstrap_resamples"],
                                                options["bootstrap_seed"])
    return out


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def informative_probs(rng, y, k_count, signal):
    logits = rng.normal(size=(len(y), k_count))
    logits[np.arange(len(y)), y] += signal
    return softmax(logits)


def tied_probs(rng, y, k_count):
    """Probabilities on a 0.1 grid, leaning to the label: many tied scores and tied argmaxes."""
    probs = np.zeros((len(y), k_count))
    for i, label in enumerate(y):
        weights = np.ones(k_count)
        weights[label] += 1.0
        probs[i] = rng.multinomial(10, weights / weights.sum()) / 10.0
    return probs


def build_cases():
    rng = np.random.default_rng(20240607)
    cases = []

    def add(name, y, probs, resamples=0, seed=42):
        options = {"bootstrap_resamples": resamples, "bootstrap_seed": seed, "ece_bins": 10}
        names = ["class \"%d\" <&>" % k if k == 0 else "c%d" % k for k in range(probs.shape[1])]
        cases.append({"name": name, "class_names": names, "labels": y.tolist(),
                      "probabilities": probs.tolist(), "options": options,
                      "expected": expected(y, probs, options)})

    y = (rng.random(200) < 0.35).astype(int)
    add("binary_random", y, informative_probs(rng, y, 2, 1.0), resamples=200, seed=7)

    y = (rng.random(150) < 0.5).astype(int)
    add("binary_tied", y, tied_probs(rng, y, 2))

    y = rng.integers(0, 4, 300)
    add("multiclass_random", y, informative_probs(rng, y, 4, 1.2), resamples=200, seed=11)

    y = rng.integers(0, 3, 180)
    add("multiclass_tied", y, tied_probs(rng, y, 3))

    y = rng.integers(0, 4, 160)
    probs = informative_probs(rng, y, 4, 1.0)
    probs[:, 3] = 0.5 * probs[:, :3].min(axis=1)  # in the labels, never the argmax
    probs /= probs.sum(axis=1, keepdims=True)
    assert not np.any(np.argmax(probs, axis=1) == 3)
    add("multiclass_never_predicted", y, probs)

    y = rng.choice([0, 1, 3, 4], 170)
    probs = informative_probs(rng, y, 5, 1.0)
    probs[:, 2] *= 3.0  # absent from the labels, yet sometimes the argmax
    probs /= probs.sum(axis=1, keepdims=True)
    assert np.any(np.argmax(probs, axis=1) == 2)
    add("multiclass_absent_class", y, probs)

    y = np.zeros(40, dtype=int)
    add("binary_single_class", y, informative_probs(rng, y, 2, 0.3))

    # The real class distribution of the PAD-UFES-20 test split, with seeded scores.
    names, y = pad_ufes_labels()
    if names:
        probs = informative_probs(rng, y, len(names), 1.5)
        options = {"bootstrap_resamples": 200, "bootstrap_seed": 42, "ece_bins": 10}
        cases.append({"name": "pad_ufes_20_test", "class_names": names, "labels": y.tolist(),
                      "probabilities": probs.tolist(), "options": options,
                      "expected": expected(y, probs, options)})
    return cases


def pad_ufes_labels():
    """Class names (sorted, over all splits) and test-split labels; empty without the data."""
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "..", "shared", "data")
    root = os.path.join(os.environ.get("MEDFUSION_SHARED_DATA", default), "pad_ufes_20")
    if not os.path.exists(os.path.join(root, "test.csv")):
        return [], np.zeros(0, dtype=int)
    splits = {}
    for split in ("train", "val", "test"):
        with open(os.path.join(root, split + ".csv"), newline="") as f:
            splits[split] = [row["label"] for row in csv.DictReader(f)]
    names = sorted(set(sum(splits.values(), [])))
    return names, np.array([names.index(label) for label in splits["test"]])


def main():
    warnings.simplefilter("ignore")
    with open(sys.argv[1], "w") as f:
        json.dump({"cases": build_cases()}, f)


if __name__ == "__main__":
    main()

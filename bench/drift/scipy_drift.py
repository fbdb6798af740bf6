#!/usr/bin/env python3
"""Baseline for bench/drift: the same drift check as Tandem's, written with NumPy and SciPy.

Reads the columns bench/drift/run.ts wrote (raw float64 / uint8 files), times only the checks, and
prints one JSON object: {"seconds": …, "columns": [{"name", "test", "statistic"}]} so run.ts can also
confirm both sides agree. Evidently's rules for a reference of more than 1000 rows: normalised
Wasserstein for numeric columns with more than 5 distinct values (over reference ∪ current), else
Jensen-Shannon over per-value shares (natural log).
"""
import json
import sys
import time

import numpy as np
from scipy.spatial import distance
from scipy.stats import wasserstein_distance


def many_distinct(r, c, limit=5):
    # Exact "more than `limit` distinct values" with a cheap look at a prefix first.
    if np.unique(np.concatenate([r[:1000], c[:1000]])).size > limit:
        return True
    return np.unique(np.concatenate([r, c])).size > limit


def shares(r, c):
    kr, nr = np.unique(r, return_counts=True)
    kc, nc = np.unique(c, return_counts=True)
    keys = np.union1d(kr, kc)
    pr = np.zeros(keys.size)
    pc = np.zeros(keys.size)
    pr[np.searchsorted(keys, kr)] = nr / r.size
    pc[np.searchsorted(keys, kc)] = nc / c.size
    return pr, pc


def main():
    d, rows, n_num, n_cat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    ref_num = np.fromfile(f"{d}/ref_num.f64", dtype=np.float64).reshape(n_num, rows)
    cur_num = np.fromfile(f"{d}/cur_num.f64", dtype=np.float64).reshape(n_num, rows)
    labels = np.array(["red", "green", "blue", "amber", "violet", "grey", "teal", "black"])
    ref_cat = labels[np.fromfile(f"{d}/ref_cat.u8", dtype=np.uint8).reshape(n_cat, rows)]
    cur_cat = labels[np.fromfile(f"{d}/cur_cat.u8", dtype=np.uint8).reshape(n_cat, rows)]
    out = []
    t0 = time.perf_counter()
    for i in range(n_num):
        r, c = ref_num[i], cur_num[i]
        r, c = r[np.isfinite(r)], c[np.isfinite(c)]
        if many_distinct(r, c):
            stat = wasserstein_distance(r, c) / max(np.std(r), 0.001)
            out.append({"name": f"num_{i}", "test": "wasserstein", "statistic": stat})
        else:
            pr, pc = shares(r, c)
            out.append({"name": f"num_{i}", "test": "jensenshannon", "statistic": float(distance.jensenshannon(pr, pc))})
    for i in range(n_cat):
        pr, pc = shares(ref_cat[i], cur_cat[i])
        out.append({"name": f"cat_{i}", "test": "jensenshannon", "statistic": float(distance.jensenshannon(pr, pc))})
    drifted = sum(1 for o in out if o["statistic"] >= 0.1)
    _dataset_drift = drifted >= len(out) / 2
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "columns": out}))


if __name__ == "__main__":
    main()

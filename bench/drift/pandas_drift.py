#!/usr/bin/env python3
"""Baseline for bench/drift: what a pandas user runs — read both files with pandas (read_csv, or
read_parquet for .parquet files, which needs pyarrow), then the same drift tests as Tandem's with NumPy
and SciPy (scipy_drift.py's rules). Timed by the caller with the interpreter's start included, as
Tandem's CLI is. Prints {"columns": [{"name", "test", "statistic"}]} so run.ts can check both sides
agree.

Usage: pandas_drift.py REFERENCE CURRENT   (both .csv or both .parquet)
"""
import json
import sys

import numpy as np
import pandas as pd
from scipy.spatial import distance
from scipy.stats import wasserstein_distance

from scipy_drift import many_distinct, shares


def read(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main():
    ref = read(sys.argv[1])
    cur = read(sys.argv[2])
    out = []
    for name in ref.columns:
        r, c = ref[name], cur[name]
        if pd.api.types.is_float_dtype(r):
            r = r.to_numpy()
            c = c.to_numpy(dtype=np.float64)
            r, c = r[np.isfinite(r)], c[np.isfinite(c)]
            if many_distinct(r, c):
                stat = wasserstein_distance(r, c) / max(np.std(r), 0.001)
                out.append({"name": name, "test": "wasserstein", "statistic": stat})
                continue
        else:
            r, c = r.dropna().to_numpy(dtype=str), c.dropna().to_numpy(dtype=str)
        pr, pc = shares(r, c)
        out.append({"name": name, "test": "jensenshannon", "statistic": float(distance.jensenshannon(pr, pc))})
    print(json.dumps({"columns": out}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Expected drift statistics from SciPy, for test/monitoring/scipy-agreement.test.ts.

Run with Debian's python3-scipy (apt-get install python3-scipy python3-numpy):
    /usr/bin/python3 scripts/make-scipy-fixtures.py && npx prettier --write test/fixtures/scipy
Inputs are not stored: each sample is described by a spec that both this script and the TypeScript test
expand with the same seeded generator (mulberry32; normals as a sum of 12 uniforms, which is exact in
binary floating point, so both sides see bit-identical numbers). That keeps the committed JSON small
while the large KS cases still have 10 000+ rows. The Evidently-style helpers below follow DESIGN.md's
"Monitoring semantics" (the same rules Evidently applies); SciPy supplies every statistic.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance
from scipy.special import smirnov

M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def mulberry32(seed):
    state = seed & M32

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & M32
        a = state
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & M32) ^ t
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    return nxt


def expand(spec):
    rnd = mulberry32(spec["seed"])
    n = spec["n"]
    if spec["kind"] == "normal":
        out = []
        for _ in range(n):
            s = 0.0
            for _ in range(12):
                s += rnd()
            x = spec["loc"] + spec["scale"] * (s - 6.0)
            if spec.get("step"):
                x = math.floor(x / spec["step"]) * spec["step"]
            out.append(x)
        return np.array(out, dtype=np.float64)
    if spec["kind"] == "cat":
        w = spec["weights"]
        total = sum(w)
        out = []
        for _ in range(n):
            u = rnd() * total
            acc = 0.0
            k = len(w) - 1
            for i, wi in enumerate(w):
                acc += wi
                if u < acc:
                    k = i
                    break
            out.append("c%d" % k)
        return np.array(out, dtype=object)
    raise ValueError(spec["kind"])


def normal(seed, n, loc=0.0, scale=1.0, step=None):
    d = {"kind": "normal", "seed": seed, "n": n, "loc": loc, "scale": scale}
    if step:
        d["step"] = step
    return d


def cat(seed, n, weights):
    return {"kind": "cat", "seed": seed, "n": n, "weights": weights}


def num(x):
    """JSON has no Infinity: non-finite values travel as strings ("Infinity", "NaN")."""
    x = float(x)
    return x if math.isfinite(x) else ("Infinity" if x > 0 else "-Infinity" if x < 0 else "NaN")


def value_shares(ref, cur):
    keys = sorted(set(ref.tolist()) | set(cur.tolist()), key=str)
    r = np.array([np.sum(ref == k) for k in keys], dtype=np.float64)
    c = np.array([np.sum(cur == k) for k in keys], dtype=np.float64)
    return keys, r, c


def binned_shares(ref, cur, numeric):
    # Evidently's get_binned_data: Sturges bins over reference ∪ current for numeric columns with
    # more than 20 distinct reference values, else per-value shares.
    if numeric and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        return np.histogram(ref, bins)[0] / len(ref), np.histogram(cur, bins)[0] / len(cur)
    _, r, c = value_shares(ref, cur)
    return r / len(ref), c / len(cur)


def fill_zeroes(p):
    p = p.copy()
    nz = p[p != 0]
    fill = nz.min() / 10**6 if nz.min() <= 0.0001 else 0.0001
    p[p == 0] = fill
    return p


def ks_case(a, b):
    ra, rb = expand(a), expand(b)
    res = stats.ks_2samp(ra, rb)
    return {"a": a, "b": b, "statistic": num(res.statistic), "p_value": num(res.pvalue)}


def chisquare_case(a, b):
    ref, cur = expand(a), expand(b)
    _, r, c = value_shares(ref, cur)
    expected = r * (len(cur) / len(ref))
    with np.errstate(divide="ignore"):  # a value new in current has expected count 0: statistic inf
        res = stats.chisquare(c, expected)
    return {"a": a, "b": b, "statistic": num(res.statistic), "p_value": num(res.pvalue)}


def z_case(a, b):
    ref, cur = expand(a), expand(b)
    keys, r, c = value_shares(ref, cur)
    p1, p2 = r[0] / len(ref), c[0] / len(cur)
    pooled = (p1 * len(ref) + p2 * len(cur)) / (len(ref) + len(cur))
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
    return {"a": a, "b": b, "key": keys[0], "statistic": float(z), "p_value": float(2 * (1 - stats.norm.cdf(abs(z))))}


def distance_case(a, b):
    ref, cur = expand(a), expand(b)
    numeric = a["kind"] == "normal"
    out = {"a": a, "b": b}
    if numeric:
        w = stats.wasserstein_distance(ref, cur)
        out["wasserstein"] = float(w)
        out["wasserstein_norm"] = float(w / max(np.std(ref), 0.001))
    r, c = binned_shares(ref, cur, numeric)
    out["jensenshannon"] = float(distance.jensenshannon(r, c))
    fr, fc = fill_zeroes(r), fill_zeroes(c)
    out["psi"] = float(np.sum((fr - fc) * np.log(fr / fc)))
    return out


def main():
    from scipy.stats import kstwo, chi2, norm

    special = {
        "chi2_sf": [[x, df, float(chi2.sf(x, df))] for df in (1, 2, 3, 7, 30, 199) for x in (0.01, 0.5, 1, 3, 10, 40, 250)],
        "norm_cdf": [[z, float(norm.cdf(z))] for z in (-8, -3.5, -1.96, -0.3, 0, 0.7, 1.64, 2.5, 6)],
        "kstwo_sf": [
            [n, x, float(kstwo.sf(x, n))]
            for n in (1, 3, 30, 140, 141, 500, 5000, 10000, 60000, 200000)
            for x in (0.0005, 0.002, 0.004, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 0.7)
        ],
        "smirnov": [[n, x, float(smirnov(n, x))] for n in (1, 5, 100, 5000) for x in (0.01, 0.1, 0.4, 0.8)],
    }
    ks = [
        ks_case(normal(1, 50), normal(2, 50)),
        ks_case(normal(3, 40), normal(4, 73, loc=0.5)),
        ks_case(normal(5, 300, step=0.25), normal(6, 450, step=0.25)),  # ties
        ks_case(normal(7, 1000), normal(8, 1000, loc=0.1)),
        ks_case(normal(9, 2000), normal(10, 3000, scale=1.2)),
        ks_case(normal(11, 10000), normal(12, 10000, loc=0.03)),  # exact, equal sizes
        ks_case(normal(13, 10000), normal(14, 7001)),  # exact, lattice
        ks_case(normal(15, 12000), normal(16, 15000)),  # asymptotic
        ks_case(normal(17, 20001), normal(18, 20001, loc=0.02)),  # en = 10000.5, rounds to even
        ks_case(normal(19, 10001), normal(20, 100, loc=0.2)),  # asymptotic with n ≤ 140
        ks_case(normal(21, 30000), normal(22, 25000, loc=0.1)),  # asymptotic upper tail
    ]
    # Random sizes (equal, multiples, coprime), with and without ties, for the exact lattice's bounds.
    sizes = np.random.default_rng(11)
    for t in range(18):
        n1 = int(sizes.integers(5, 3000))
        n2 = [n1, 2 * n1, int(sizes.integers(5, 3000))][t % 3]
        step = [None, 0.5, 0.01][(t // 3) % 3]
        ks.append(ks_case(normal(100 + t, n1, step=step), normal(200 + t, n2, loc=[0, 0.05, 0.3][t % 3], step=step)))
    chisq = [
        chisquare_case(cat(31, 500, [5, 3, 2]), cat(32, 400, [5, 3, 2])),
        chisquare_case(cat(33, 800, [1, 1, 1, 1, 1]), cat(34, 900, [2, 1, 1, 1, 1])),
        chisquare_case(cat(35, 200, [10, 5, 1, 1]), cat(36, 3000, [10, 5, 1, 1, 0.5])),  # new value
    ]
    z = [
        z_case(cat(41, 600, [3, 1]), cat(42, 700, [3, 1])),
        z_case(cat(43, 900, [1, 1]), cat(44, 500, [1.5, 1])),
    ]
    dist = [
        distance_case(normal(51, 5000), normal(52, 6000, loc=0.05)),
        distance_case(normal(53, 3000, scale=2), normal(54, 2000, loc=1, scale=2)),
        distance_case(normal(55, 4000, step=0.5), normal(56, 4000, loc=0.3, step=0.5)),  # ≤ 20 values
        distance_case(normal(57, 2048, scale=3), normal(58, 2048, scale=3)),  # N = 4096, log2 exact
        distance_case(cat(59, 5000, [5, 3, 2, 1, 0.001]), cat(60, 5000, [4, 3, 3, 1, 0])),  # empty bins
        distance_case(cat(61, 2000, [1, 1, 1]), cat(62, 1500, [1, 1, 1, 1])),
    ]
    out = {
        "generator": "scripts/make-scipy-fixtures.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "special": special,
        "ks_2samp": ks,
        "chisquare": chisq,
        "z": z,
        "distances": dist,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "scipy", "drift-stats.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()

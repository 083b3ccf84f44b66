"""Peer reference for FourierRegression with penalty 0 (ordinary least squares).

Fits intercept + t + sin/cos(2*pi*k*t/P) for (P, K) in [(24, 6), (168, 3)] to the first 696
hours of the Wikipedia trace with numpy.linalg.lstsq (SVD), on its own design (raw t, direct
sin/cos, no centring), and writes the 48-step forecast (t = 696..743) with the OLS prediction sd
sigma * sqrt(1 + x_h' (X'X)^-1 x_h), sigma^2 = RSS / (n - p). The Rust test compares
FourierRegression::with_penalty(0.0) with these numbers: the forecasts do not depend on how the
columns are scaled or centred, so this checks the solver and the design independently.

Run from the repository root:  python3 flaskscale-core/tests/data/fourier_lstsq_numpy.py
"""
import csv
import numpy as np

PATH = "../shared/traces/wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv"
with open(PATH) as f:
    y = np.array([float(r["value"]) for r in csv.DictReader(f)])
train, horizon = 696, 48
periods = [(24.0, 6), (168.0, 3)]


def design(t):
    cols = [np.ones_like(t), t]
    for p, k in periods:
        for j in range(1, k + 1):
            cols += [np.sin(2 * np.pi * j * t / p), np.cos(2 * np.pi * j * t / p)]
    return np.column_stack(cols)


t = np.arange(train, dtype=float)
X = design(t)
beta, rss, rank, _ = np.linalg.lstsq(X, y[:train], rcond=None)
assert rank == X.shape[1]
sigma2 = float(rss[0]) / (train - X.shape[1])
Xh = design(np.arange(train, train + horizon, dtype=float))
fc = Xh @ beta
xtx_inv = np.linalg.inv(X.T @ X)
sd = np.sqrt(sigma2 * (1 + np.einsum("ij,jk,ik->i", Xh, xtx_inv, Xh)))
with open("flaskscale-core/tests/data/fourier_lstsq_numpy.txt", "w") as out:
    out.write(f"# numpy {np.__version__} linalg.lstsq; see fourier_lstsq_numpy.py\n")
    out.write("# mean,sd\n")
    for m, s in zip(fc, sd):
        out.write(f"{float(m)!r},{float(s)!r}\n")

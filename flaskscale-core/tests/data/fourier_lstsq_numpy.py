"""Peer reference for FourierRegression with penalty 0 (ordinary least squares).

Fits intercept + t + sin/cos(2*pi*k*t/P) for (P, K) in [(24, 6), (168, 3)] to the first 696
hours of the Wikipedia trace with numpy.linalg.lstsq (SVD), on its own design (raw t, direct
sin/cos, no centring), and writes the 48-step forecast (t = 696..743). The Rust test compares
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
beta, *_ = np.linalg.lstsq(design(t), y[:train], rcond=None)
fc = design(np.arange(train, train + horizon, dtype=float)) @ beta
with open("flaskscale-core/tests/data/fourier_lstsq_numpy.txt", "w") as out:
    out.write(f"# numpy {np.__version__} linalg.lstsq; see fourier_lstsq_numpy.py\n")
    for v in fc:
        out.write(f"{float(v)!r}\n")

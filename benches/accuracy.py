"""Forecast accuracy on the shared real traces and on the generated surge and level-shift series
(`flaskscale-core/tests/data/generated_peers.json`: hourly request counts with match-day surges
of 10-20x, a level moving 40x, level shifts): a rolling-origin backtest (5 origins, the given
horizon) of SeasonalNaive, Holt-Winters, FourierRegression and the AutoForecaster, per trace and
horizon. Prints MASE (scaled by the in-sample daily seasonal naive error), pinball loss at
q = 0.9 (scaled the same way) and the coverage of the 80% and 95% bands.

Run from the repository root after `pip install .`: ``python benches/accuracy.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import flaskscale as fs
import numpy as np

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
NASA = TRACES / "nasa-http-1995" / "nasa_http_1995_per_minute.csv"
WIKI = TRACES / "wikipedia-en-2016-01" / "wikipedia_en_pagecounts_2016-01_hourly.csv"
TWITTER = TRACES / "twitter-stream-2021-08" / "twitter_stream_2021-08_per_minute.csv"
GENERATED = (Path(__file__).resolve().parents[1] / "flaskscale-core" / "tests" / "data"
             / "generated_peers.json")


def cases():
    wiki = fs.Series.from_csv(WIKI)
    nasa = fs.Series.from_csv(NASA)
    twitter = fs.Series.from_csv(TWITTER)
    nasa_h, nasa_5 = nasa.resample(3600), nasa.resample(300)
    tw_5 = twitter.resample(300)
    # (name, series, daily season in steps, weekly season, horizons)
    out = [
        ("wikipedia 1h", wiki, 24, 168, [24, 48]),
        ("nasa 1h", nasa_h, 24, 168, [24]),
        ("nasa 5min", nasa_5, 288, 2016, [12, 288]),
        ("twitter 5min", tw_5, 288, None, [12, 288]),
    ]
    for g in json.loads(GENERATED.read_text())["series"]:
        s = fs.Series(np.array(g["values"], dtype=float), start=0.0, step=3600.0)
        out.append((g["name"], s, 24, 168, [24]))
    return out


def main() -> None:
    print(f"{'trace':<14}{'h':>5}  {'model':<20}{'MASE':>8}{'pinball.9':>11}{'cov80':>7}"
          f"{'cov95':>7}{'seconds':>9}")
    for name, series, day, week, horizons in cases():
        y = series.values
        periods = [day] + ([week] if week else [])
        models = {
            "seasonal_naive": fs.SeasonalNaive(day),
            "holt_winters": fs.HoltWinters(day, trend="damped"),
            "fourier": fs.FourierRegression(periods),
        }
        for h in horizons:
            models["auto"] = fs.AutoForecaster(horizon=h)
            for label, model in models.items():
                t0 = time.perf_counter()
                r = fs.backtest(model, y, horizon=h, n_origins=5, season_length=day)
                sc = r["scores"]
                print(f"{name:<14}{h:>5}  {label:<20}{sc['mase']:>8.3f}{sc['scaled_pinball']:>11.3f}"
                      f"{sc['coverage_80']:>7.2f}{sc['coverage_95']:>7.2f}"
                      f"{time.perf_counter() - t0:>9.2f}")
        print()


if __name__ == "__main__":
    main()

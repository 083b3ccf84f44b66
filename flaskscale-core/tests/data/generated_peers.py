"""Generates the surge and level-shift series of the forecast accuracy suite and records the
peers' Holt-Winters forecasts on them into generated_peers.json.

Why: issue 12 found Holt-Winters fitting a huge sigma and forecasting negative request counts on
an hourly series of a large event web site (match-day surges of 10-20x, a level that moves 40x
over the period), and the AutoForecaster losing to seasonal naive there. These series have that
shape, so the integration tests (`tests/integration/robust.rs`) and `benches/accuracy.py` can
hold flaskscale to the peers on them: Holt-Winters within 10 % of the better of statsforecast
and statsmodels (mean MASE over the rolling origins), the AutoForecaster no worse than seasonal
naive. The test itself needs no Python. Run from the repository root:

    python flaskscale-core/tests/data/generated_peers.py

Every series is hourly request counts (Poisson noise around an expected rate; fixed seeds):
- surge_growth: 42 days; level growing 40x linearly; a daily cycle whose amplitude follows the
  level; match-day surges (3-5 h at 10-20x, ramped) on 8 days of the first 60 % of the period.
- surge_late: 42 days; a flat level of ~60k per hour after a 40x rise over the first third;
  surges of 10x on 6 match days spread over the whole period, the last two days before the end.
- level_shift: 42 days; daily and weekly cycles; the level jumps x4 on day 12, halves on day
  26 and rises x1.5 on day 36.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "generated_peers.json"
H = 24
ORIGINS = 5


def daily(t_hours, peak=20.0, amp=0.6):
    return 1.0 + amp * np.cos(2 * np.pi * (t_hours % 24 - peak) / 24)


def weekly(t_hours, weekend=1.3):
    dow = (t_hours // 24) % 7
    return np.where(dow >= 5, weekend, 1.0)


def surge(t_hours, start_h, dur_h, mult, ramp_h=1.0):
    x = t_hours - start_h
    inside = (x >= 0) & (x < dur_h)
    edge = np.minimum(x, dur_h - x)
    w = np.clip(edge / ramp_h, 0.0, 1.0)
    return np.where(inside, 1.0 + (mult - 1.0) * w, 1.0)


def surge_growth(rng):
    n = 42 * 24
    t = np.arange(n) + 0.5
    level = 1500.0 * (1.0 + 39.0 * t / n)
    rate = level * daily(t) * weekly(t, 1.15)
    for k, d in enumerate([2, 5, 9, 12, 16, 19, 22, 25]):
        rate = rate * surge(t, d * 24 + 17, 3 + k % 3, 10.0 + 5.0 * (k % 3))
    return rng.poisson(rate).astype(float)


def surge_late(rng):
    n = 42 * 24
    t = np.arange(n) + 0.5
    rise = np.minimum(t / (14 * 24), 1.0)
    level = 1500.0 * (1.0 + 39.0 * rise)
    rate = level * daily(t, 19.0, 0.5) * weekly(t, 1.2)
    for d in [4, 11, 18, 25, 32, 39]:
        rate = rate * surge(t, d * 24 + 18, 4, 10.0)
    return rng.poisson(rate).astype(float)


def level_shift(rng):
    n = 42 * 24
    t = np.arange(n) + 0.5
    level = np.full(n, 5000.0)
    level[t >= 12 * 24] *= 4.0
    level[t >= 26 * 24] *= 0.5
    level[t >= 36 * 24] *= 1.5
    rate = level * daily(t, 14.0, 0.7) * weekly(t, 0.6)
    return rng.poisson(rate).astype(float)


SERIES = [("surge_growth", surge_growth, 1), ("surge_late", surge_late, 2), ("level_shift", level_shift, 3)]


def mase(y, f, train, m):
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(y - f)) / scale)


def run_statsmodels(train, m, h):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(train, trend="add", seasonal="add", seasonal_periods=m,
                                   initialization_method="estimated").fit()
    return np.asarray(fit.forecast(h))


def run_statsforecast(train, m, h):
    from statsforecast.models import HoltWinters
    model = HoltWinters(season_length=m, error_type="A")
    return np.asarray(model.forecast(y=train, h=h)["mean"])


def main():
    import statsforecast
    import statsmodels
    out = {
        "why": "generated series of issue 12's shape (surges, a 40x level move, level shifts) and the "
               "peers' Holt-Winters (additive trend + additive season, m = 24, all parameters fitted) "
               "forecasts on them over rolling origins; read by tests/integration/robust.rs and "
               "benches/accuracy.py. Produced by generated_peers.py beside this file.",
        "versions": {"statsmodels": statsmodels.__version__, "statsforecast": statsforecast.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "spec": {"statsmodels": "ExponentialSmoothing(trend='add', seasonal='add', seasonal_periods=24, "
                                "initialization_method='estimated').fit() then forecast(h)",
                 "statsforecast": "HoltWinters(season_length=24, error_type='A').forecast(y=train, h=h)",
                 "mase": "mean |y - f| over the test / mean |x(t) - x(t - 24)| over the train",
                 "origins": f"{ORIGINS} origins, train = everything before the origin, test = the next "
                            f"{H} hours; the last origin ends at the end of the series, each earlier one "
                            f"{H} hours before"},
        "horizon": H,
        "season_length": 24,
        "series": [],
    }
    for name, make, seed in SERIES:
        y = make(np.random.default_rng(seed))
        n = len(y)
        entry = {"name": name, "seed": seed, "values": [int(v) for v in y], "origins": [], "peers": {}}
        ends = [n - H * (ORIGINS - k) for k in range(ORIGINS)]
        entry["origins"] = ends
        for peer, fn in (("statsmodels", run_statsmodels), ("statsforecast", run_statsforecast)):
            scores, fcs, secs = [], [], 0.0
            for e in ends:
                tr, te = y[:e], y[e:e + H]
                t0 = time.perf_counter()
                f = fn(tr, 24, H)
                secs += time.perf_counter() - t0
                scores.append(mase(te, f, tr, 24))
                fcs.append([round(float(v), 3) for v in f])
            entry["peers"][peer] = {"mase": scores, "mean_mase": float(np.mean(scores)),
                                    "forecasts": fcs, "seconds": round(secs, 3)}
            print(name, peer, [round(s, 3) for s in scores], round(float(np.mean(scores)), 3), flush=True)
        sn = [mase(y[e:e + H], y[e - 24:e], y[:e], 24) for e in ends]
        entry["seasonal_naive_mase"] = sn
        print(name, "seasonal naive", [round(s, 3) for s in sn], round(float(np.mean(sn)), 3))
        out["series"].append(entry)
    OUT.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()

"""Holt-Winters side by side: flaskscale vs statsforecast vs statsmodels.

Same process, same series, same spec (additive trend + additive season, all parameters
fitted), same split: prints the time per fit + forecast (best of `--repeat` runs) and the
forecast's MASE for each library, with the ratios to flaskscale.

Series (from the shared traces beside the repository):
  - Wikipedia hourly, m = 24: train the first 696 points, forecast 48;
  - NASA summed to hourly (gaps filled linearly), m = 24: train the first 1440, forecast 48;
  - NASA summed to 5 min (gaps filled linearly), m = 288: train the 14 days before the last
    day, forecast the last day (288). statsforecast's ETS limits seasons to 24 in some
    versions; if it fails or refuses, that is reported, not hidden.

Run from anywhere after `pip install statsforecast statsmodels` and building the flaskscale
Python package:
    python benches/hw_side_by_side.py [--repeat 5]
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

TRACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "traces"


def need(module, hint):
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f"hw_side_by_side: missing {module!r}: {hint}")


np = need("numpy", "pip install numpy")
fs = need("flaskscale", "build the flaskscale Python package (maturin develop in flaskscale-py)")
need("statsforecast", "pip install statsforecast (2.1 was used for the recorded numbers)")
need("statsmodels", "pip install statsmodels (0.15 was used for the recorded numbers)")
from statsforecast.models import HoltWinters as SfHoltWinters  # noqa: E402
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402


def series(rel, step=None):
    s = fs.Series.from_csv(str(TRACES / rel))
    if step is not None:
        s = s.resample(step, how="sum")
    return np.asarray(s.fill_gaps().values, dtype=float)


def mase(y, f, train, m):
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(y - f)) / scale)


def run_flaskscale(train, m, h):
    model = fs.HoltWinters(season_length=m, trend="additive", seasonal="additive")
    return np.asarray(model.fit(train).predict(h).mean)


def run_statsforecast(train, m, h):
    return np.asarray(SfHoltWinters(season_length=m, error_type="A").forecast(y=train, h=h)["mean"])


def run_statsmodels(train, m, h):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(train, trend="add", seasonal="add", seasonal_periods=m,
                                   initialization_method="estimated").fit()
    return np.asarray(fit.forecast(h))


RUNNERS = [("flaskscale", run_flaskscale), ("statsforecast", run_statsforecast),
           ("statsmodels", run_statsmodels)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per library (best kept)")
    args = ap.parse_args()
    wiki = series("wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv")
    nasa_h = series("nasa-http-1995/nasa_http_1995_per_minute.csv", 3600)
    nasa_5 = series("nasa-http-1995/nasa_http_1995_per_minute.csv", 300)
    n5 = len(nasa_5)
    cases = [
        ("wikipedia hourly m=24", wiki, (0, 696), (696, 744), 24),
        ("nasa hourly m=24", nasa_h, (0, 1440), (1440, 1488), 24),
        ("nasa 5-min m=288", nasa_5, (n5 - 288 - 4032, n5 - 288), (n5 - 288, n5), 288),
    ]
    for name, y, (a, b), (c, d), m in cases:
        train, test = y[a:b], y[c:d]
        h = len(test)
        print(f"\n{name}: train {len(train)}, forecast {h}")
        print(f"  {'library':<14}{'time/fit+fc':>14}{'MASE':>9}{'time ratio':>12}{'MASE ratio':>12}"
              f"{'5-origin MASE':>15}")
        results = {}
        for lib, fn in RUNNERS:
            try:
                best = float("inf")
                for _ in range(max(1, args.repeat)):
                    t0 = time.perf_counter()
                    f = fn(train, m, h)
                    best = min(best, time.perf_counter() - t0)
                if len(f) != h or not np.all(np.isfinite(f)):
                    raise ValueError("non-finite or short forecast")
                # rolling origins: the main split and the four before it, h steps apart, each
                # trained on the same number of preceding values
                scores = []
                for k in range(5):
                    o = b - k * h
                    tr, te = y[max(0, o - (b - a)):o], y[o:o + h]
                    scores.append(mase(te, fn(tr, m, h), tr, m))
                results[lib] = (best, mase(test, f, train, m), float(np.mean(scores)))
            except Exception as e:  # a peer that cannot follow is reported
                results[lib] = None
                print(f"  {lib:<14} cannot run this case: {type(e).__name__}: {e}"[:200])
        ours = results.get("flaskscale")
        for lib, r in results.items():
            if r is None:
                continue
            t, s, r5 = r
            tr = f"{t / ours[0]:.0f}x" if ours else "-"
            sr = f"{s / ours[1]:.3f}" if ours else "-"
            print(f"  {lib:<14}{t * 1e3:>11.2f} ms{s:>9.3f}{tr:>12}{sr:>12}{r5:>15.3f}")


if __name__ == "__main__":
    main()

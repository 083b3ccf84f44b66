"""Forecast a shared trace from Python: load, hold out a day, score the baselines, plot.

Run from the repository root: ``python examples/forecast_trace.py [out.png]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import flaskscale as fs

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"


def main() -> None:
    nasa = fs.Series.from_csv(TRACES / "nasa-http-1995" / "nasa_http_1995_per_minute.csv")
    hourly = nasa.resample(3600, how="sum")
    print(f"NASA: {nasa} -> hourly {hourly}")
    y = hourly.values
    train, test = y[:-24], y[-24:]
    filled = fs.Series(train, start=hourly.start, step=hourly.step).fill_gaps().values
    for model in (fs.Naive(), fs.Drift(), fs.SeasonalNaive(24), fs.SeasonalNaive(168)):
        fitted = model.fit(train)  # gaps are interpolated and counted
        fc = fitted.predict(24, levels=[0.8])
        print(
            f"{model!r:<32} filled {fitted.fit_info()['n_filled']:>3} gaps   "
            f"MASE {fs.mase(test, fc.mean, filled, m=24):.3f}   "
            f"pinball(0.9) {fs.pinball(test, fc.quantile(0.9), q=0.9):7.1f}   "
            f"80% coverage {fs.coverage(test, fc.lower(0.8), fc.upper(0.8)):.0%}"
        )
    if len(sys.argv) > 1:
        from flaskscale.plot import plot_forecast

        fc = fs.SeasonalNaive(168).fit(y).predict(48, levels=[0.8, 0.95])
        plot_forecast(hourly, fc, sys.argv[1], title="NASA-HTTP hourly: weekly seasonal naive")
        print(f"plot written to {sys.argv[1]}")


if __name__ == "__main__":
    main()

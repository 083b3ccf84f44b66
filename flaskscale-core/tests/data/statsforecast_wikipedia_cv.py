"""Records tests/data/statsforecast_wikipedia_cv.csv: statsforecast's own rolling-origin
cross-validation of the baselines on the Wikipedia hourly trace, scored per point the way the
flaskscale backtest documents it (MASE scale = in-sample seasonal naive MAE, m = 24, of each
window's training part; pinball at 0.9 on the upper bound of the 80% interval, which is the
0.9 quantile). Run from the repository root: python flaskscale-core/tests/data/statsforecast_wikipedia_cv.py
"""
import numpy as np
import pandas as pd
import statsforecast
from statsforecast import StatsForecast
from statsforecast.models import Naive, RandomWalkWithDrift, SeasonalNaive

df = pd.read_csv("../shared/traces/wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv")
y = df["value"].astype(float).values
d = pd.DataFrame({"unique_id": "en", "ds": np.arange(len(y)), "y": y})
models = [Naive(), RandomWalkWithDrift(), SeasonalNaive(24, alias="SN24"), SeasonalNaive(168, alias="SN168")]
cv = StatsForecast(models=models, freq=1, n_jobs=1).cross_validation(
    df=d, h=24, n_windows=5, step_size=24, level=[80, 95]
)
print(f"# statsforecast {statsforecast.__version__}, pandas {pd.__version__}, numpy {np.__version__}; cutoffs {[int(c) for c in cv['cutoff'].unique()]}")
print("model,mase,rmse,pinball90,scaled_pinball90,coverage80,coverage95")
for m in ["Naive", "RWD", "SN24", "SN168"]:
    t = {k: [] for k in ["ae_s", "sq", "c80", "c95", "pin", "pin_s"]}
    for c, g in cv.groupby("cutoff"):
        train = y[: c + 1]
        scale = np.mean(np.abs(train[24:] - train[:-24]))
        a, f = g["y"].values, g[m].values
        t["ae_s"] += list(np.abs(a - f) / scale)
        t["sq"] += list((a - f) ** 2)
        t["c80"] += list((g[f"{m}-lo-80"].values <= a) & (a <= g[f"{m}-hi-80"].values))
        t["c95"] += list((g[f"{m}-lo-95"].values <= a) & (a <= g[f"{m}-hi-95"].values))
        e = a - g[f"{m}-hi-80"].values
        p = np.maximum(0.9 * e, -0.1 * e)
        t["pin"] += list(p)
        t["pin_s"] += list(p / scale)
    print(f"{m},%.12g,%.12g,%.12g,%.12g,%.6f,%.6f" % tuple(
        np.mean(t[k]) if k != "sq" else np.sqrt(np.mean(t[k])) for k in ["ae_s", "sq", "pin", "pin_s", "c80", "c95"]))

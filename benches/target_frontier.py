"""How far the predictive policy's results target is from reach on the shared traces.

The target: at least 70% fewer SLO-violation minutes than the HPA (70% target utilisation) at
no more replica-hours, with the README's settings (startup 120 s, decisions every 15 s,
capacity = peak rate / 20). For each trace this prints, all from the real simulator:

1. the HPA and the predictive policy with the command line's defaults;
2. for each family of a sweep — the predictive policy (forecast quantile x reactive target
   utilisation x scale-down stabilization window), the predictive policy with a recent-load
   floor, the floor alone, and the HPA itself (target x window) — the point with the fewest
   violation minutes at no more replica-hours than the HPA at 70%, and the cheapest point
   with at least 70% fewer violation minutes: the two ends of the gap the target asks to
   close;
3. causal level plans: the mean rate of the last 30 or 60 minutes times a headroom factor,
   bisected to the HPA's replica-hours (what plain smoothing of the past reaches);
4. "level oracles": plans (replayed as `Series` schedules) that know the future demand
   averaged over W minutes but not the minute-to-minute noise within it, provisioning for the
   peak of that average over the lead window times a headroom factor, with the factor bisected
   so the plan uses the HPA's replica-hours. A forecaster can at best know the future level,
   so when even a W-minute level oracle misses the target, no model whose errors are at the
   W-minute scale can meet it.

Run after `pip install .`: ``python benches/target_frontier.py [nasa twitter wikipedia]``
(about a minute per trace on two cores).
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

import flaskscale as fs

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
FILES = {
    "nasa": "nasa-http-1995/nasa_http_1995_per_minute.csv",
    "twitter": "twitter-stream-2021-08/twitter_stream_2021-08_per_minute.csv",
    "wikipedia": "wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv",
}
STARTUP, INTERVAL, MAX_R = 120.0, 15.0, 10_000


def sim(series: fs.Series, policies: dict, cap: float) -> dict:
    return fs.simulate(series, policies, capacity_per_replica=cap, startup_seconds=STARTUP,
                       interval_seconds=INTERVAL, references=False).summary()


def predictive(cap: float, q: float, util: float, window: int) -> fs.PredictivePolicy:
    return fs.PredictivePolicy(
        cap, startup_seconds=STARTUP, interval_seconds=INTERVAL, quantile=q, max_replicas=MAX_R,
        hpa=fs.HpaPolicy(util * cap, max_replicas=MAX_R, downscale_stabilization_seconds=window))


def tick_steps(series: fs.Series) -> np.ndarray:
    """The trace step each 15-second tick of the replay falls in."""
    ticks = int(len(series) * series.step / INTERVAL)
    return np.floor(np.arange(ticks) * INTERVAL / series.step).astype(int)


def to_plan(series: fs.Series, rate: np.ndarray, cap: float, factor: float) -> fs.Series:
    """A schedule of replicas for `factor` x `rate` (requests/s per tick), at least one, and
    NaN (hold the current count) at the ticks whose last complete step is missing, as the
    simulator's policies do when their metric is missing: the plans get no cheaper gaps."""
    values = np.asarray(series.values, dtype=float)
    last = tick_steps(series) - 1
    missing = (last >= 0) & np.isnan(values[np.clip(last, 0, len(values) - 1)])
    plan = np.where(missing, np.nan, np.maximum(1.0, np.ceil(factor * rate / cap)))
    return fs.Series(plan, start=series.start, step=INTERVAL)


def level_plan(series: fs.Series, cap: float, minutes: int, factor: float) -> fs.Series:
    """Replicas per 15-second tick for `factor` x the peak, over [tick, tick + startup +
    interval), of the demand rate averaged over a centred window of `minutes`."""
    rate = np.asarray(series.values, dtype=float) / series.step
    known = ~np.isnan(rate)
    w = max(1, round(minutes * 60 / series.step))
    kernel = np.ones(w)
    num = np.convolve(np.where(known, rate, 0.0), kernel, mode="same")
    den = np.convolve(known.astype(float), kernel, mode="same")
    level = np.where(den > 0, num / np.maximum(den, 1), 0.0)
    return to_plan(series, lead_peak(series, level), cap, factor)


def lead_peak(series: fs.Series, rate: np.ndarray) -> np.ndarray:
    """Per 15-second tick, the peak of `rate` (one value per trace step) over the steps of
    [tick, tick + startup + interval): what a replica asked for at the tick must cover."""
    lo = tick_steps(series)
    t = np.arange(len(lo)) * INTERVAL
    hi = np.minimum(np.ceil((t + STARTUP + INTERVAL) / series.step).astype(int), len(rate))
    # peak over [lo, hi): hi - lo is at most a few steps, so a short loop over offsets
    peak = np.zeros(len(lo))
    for off in range(int((hi - lo).max())):
        idx = np.minimum(lo + off, len(rate) - 1)
        peak = np.where(lo + off < hi, np.maximum(peak, rate[idx]), peak)
    return peak


def trailing_plan(series: fs.Series, cap: float, minutes: int, factor: float) -> fs.Series:
    """The causal counterpart of `level_plan`: replicas per tick for `factor` x the mean rate
    of the last `minutes` of complete steps before the tick."""
    rate = np.asarray(series.values, dtype=float) / series.step
    known = ~np.isnan(rate)
    w = max(1, round(minutes * 60 / series.step))
    num = np.concatenate([[0.0], np.cumsum(np.where(known, rate, 0.0))])
    den = np.concatenate([[0.0], np.cumsum(known)])
    j = np.arange(len(rate) + 1)  # mean of steps [j - w, j), known at the start of step j
    lo = np.maximum(0, j - w)
    count = den[j] - den[lo]
    mean = np.where(count > 0, (num[j] - num[lo]) / np.maximum(count, 1), 0.0)
    return to_plan(series, mean[tick_steps(series)], cap, factor)


def at_budget(series: fs.Series, cap: float, budget: float, make) -> tuple:
    """The largest headroom factor (bisected in [0.5, 4]) whose plan `make(factor)` stays
    within `budget` replica-hours, and that plan's summary."""
    lo, hi = 0.5, 4.0
    best = None
    for _ in range(14):
        mid = (lo + hi) / 2
        s = sim(series, {"p": make(mid)}, cap)["p"]
        if s["replica_hours"] <= budget:
            lo, best = mid, (mid, s)
        else:
            hi = mid
    return best if best else (lo, sim(series, {"p": make(lo)}, cap)["p"])


def pct(a: float, b: float) -> str:
    return f"{100 * (a / b - 1):+.0f}%" if b else "n/a"


def main(names: list[str]) -> None:
    for name in names:
        t0 = time.perf_counter()
        series = fs.Series.from_csv(TRACES / FILES[name])
        cap = series.stats()["max"] / series.step / 20
        base = sim(series, {"hpa": fs.HpaPolicy(0.7 * cap, max_replicas=MAX_R),
                            "predictive": predictive(cap, 0.9, 0.8, 300)}, cap)
        hv, hr = base["hpa"]["violation_minutes"], base["hpa"]["replica_hours"]
        pv, pr = base["predictive"]["violation_minutes"], base["predictive"]["replica_hours"]
        print(f"\n== {name}: HPA (70%) {hv:,.0f} violation min, {hr:,.0f} replica-h; target: "
              f"<= {0.3 * hv:,.0f} violation min at <= {hr:,.0f} replica-h")
        print(f"{'policy':<46}{'violation min':>14}{'replica-h':>11}{'vs HPA':>16}")
        print(f"{'predictive, defaults (q 0.9, reactive 80%)':<46}{pv:>14,.0f}{pr:>11,.0f}"
              f"{pct(pv, hv):>8}{pct(pr, hr):>8}")

        grid = {}
        for q, u, w in itertools.product([0.5, 0.7, 0.8, 0.9, 0.95], [0.7, 0.75, 0.8, 0.85, 0.9],
                                         [300, 900, 1800, 3600]):
            grid[f"predictive q {q}, reactive {u:.0%}, window {w} s"] = predictive(cap, q, u, w)
        for w, fq, ff in itertools.product([1800, 3600], [0.9, 0.95, 1.0],
                                           [1.1, 1.15, 1.2, 1.3, 1.4]):
            # the floor alone: the HPA path at 100% without a window adds next to nothing
            grid[f"floor {w // 60} min, q {fq}, x {ff}"] = fs.PredictivePolicy(
                cap, startup_seconds=STARTUP, interval_seconds=INTERVAL, max_replicas=MAX_R,
                combination="reactive_only", floor_window_seconds=w, floor_quantile=fq,
                floor_factor=ff, hpa=fs.HpaPolicy(cap, max_replicas=MAX_R,
                                                  downscale_stabilization_seconds=0))
            grid[f"predictive + floor {w // 60} min, q {fq}, x {ff}"] = fs.PredictivePolicy(
                cap, startup_seconds=STARTUP, interval_seconds=INTERVAL, quantile=0.9,
                max_replicas=MAX_R, floor_window_seconds=w, floor_quantile=fq, floor_factor=ff,
                hpa=fs.HpaPolicy(0.8 * cap, max_replicas=MAX_R))
        for u, w in itertools.product([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9],
                                      [300, 900, 1800, 3600]):
            grid[f"HPA {u:.0%}, window {w} s"] = fs.HpaPolicy(
                u * cap, max_replicas=MAX_R, downscale_stabilization_seconds=w)
        summ = sim(series, grid, cap)
        for family in ("predictive q", "predictive + floor", "floor", "HPA"):
            pts = {k: v for k, v in summ.items() if k.startswith(family)}
            within = {k: v for k, v in pts.items() if v["replica_hours"] <= hr}
            enough = {k: v for k, v in pts.items() if v["violation_minutes"] <= 0.3 * hv}
            for label, chosen, key in (
                ("fewest violations at <= HPA cost: ", within, "violation_minutes"),
                ("cheapest with >= 70% fewer: ", enough, "replica_hours"),
            ):
                if not chosen:
                    print(f"{family}: no point of the sweep is {label.split(':')[0]}")
                    continue
                k, v = min(chosen.items(), key=lambda kv: kv[1][key])
                print(f"{k:<46}{v['violation_minutes']:>14,.0f}{v['replica_hours']:>11,.0f}"
                      f"{pct(v['violation_minutes'], hv):>8}{pct(v['replica_hours'], hr):>8}"
                      f"  ({label.split(':')[0]})")

        for minutes in ([30, 60] if series.step < 3600 else [180, 360]):
            factor, v = at_budget(series, cap, hr, lambda f, m=minutes: trailing_plan(
                series, cap, m, f))
            label = f"trailing {minutes}-min mean x {factor:.2f}"
            print(f"{label:<46}{v['violation_minutes']:>14,.0f}{v['replica_hours']:>11,.0f}"
                  f"{pct(v['violation_minutes'], hv):>8}{pct(v['replica_hours'], hr):>8}")
        for minutes in ([5, 15, 30, 60] if series.step < 3600 else [60, 180, 360]):
            factor, v = at_budget(series, cap, hr, lambda f, m=minutes: level_plan(
                series, cap, m, f))
            label = f"level oracle, {minutes}-min mean x {factor:.2f}"
            print(f"{label:<46}{v['violation_minutes']:>14,.0f}{v['replica_hours']:>11,.0f}"
                  f"{pct(v['violation_minutes'], hv):>8}{pct(v['replica_hours'], hr):>8}")
        print(f"({len(grid) + 2} policies and the level-oracle bisections in "
              f"{time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:] or list(FILES))

"""What serving 99.9% (or 99%) of requests costs a policy that knows the future load's level.

The issue's third target asks for 99.9% of requests served at 0.9 x the replica-hours of the
cheapest tuned HPA that serves them. Before calling it out of reach this script tests the
argument with an oracle built the way the best policy would use its knowledge: a quantile of
the per-step *count*, not a multiple of the mean.

The oracle knows, at every 15-second tick, the demand's centred W-minute mean (the level) at
every step of the lead window (startup + interval), and the distribution of the count around
it in hindsight: the variance `a m + b m^2` fitted to the whole trace by least squares, and the
empirical quantile of the standardised residuals `(y - m) / sd(m)`. It asks for the replicas
that carry `m + e_p sd(m)` at the lead window's peak, with `p` bisected until the plan serves
the service level, and is replayed through the same simulator as `flaskscale frontier`
(startup 120 s, decisions every 15 s, capacity = peak / 20). No causal policy whose knowledge
of the future is the W-minute level can do better than this oracle by much: it knows that
level exactly and the noise's law in hindsight. It also prints the oracle's B within R0. Its
causal twin ("recent level") knows instead the mean of the last W minutes when the tick's step
starts, held flat over the lead window, with the noise's law around it in hindsight: the
recent level predictor's knowledge, calibrated as well as it could be. Both hold their count
at the ticks whose last step is missing, as the simulator's policies do (on Twitter, whose 612
missing minutes then cost 0.28% of requests even with perfect foresight).

Measured (replica-hours to serve 99.9% / 99% of requests, over the cheapest tuned HPA's):
NASA, future 30-minute level 0.78 / 0.85, recent 30-minute level 0.97 / 0.95, the policy's
defaults' family 0.99 / 0.96; a future 15-minute level 0.75 / 0.83. Twitter (no HPA serves
99%): 99% takes 0.90 x R0 with the future 5-minute level, 1.28 x R0 with the future 15-minute
level, against the policy's 1.58 x R0.

    python benches/service_bound.py [nasa|wikipedia|twitter|shop|FILE.csv] [--minutes 5,15,30]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import flaskscale as fs

from target_frontier import INTERVAL, STARTUP, lead_peak, tick_steps, to_plan

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT.parent / "shared" / "traces"
FILES = {
    "nasa": TRACES / "nasa-http-1995/nasa_http_1995_per_minute.csv",
    "twitter": TRACES / "twitter-stream-2021-08/twitter_stream_2021-08_per_minute.csv",
    "wikipedia": TRACES / "wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv",
    "shop": ROOT / "datasets/shop-2w/shop_2w_per_minute.csv",
}


def centred_level(counts: np.ndarray, w: int) -> np.ndarray:
    """The centred `w`-step mean of the known counts (NaN where none is known)."""
    known = ~np.isnan(counts)
    kernel = np.ones(w)
    num = np.convolve(np.where(known, counts, 0.0), kernel, mode="same")
    den = np.convolve(known.astype(float), kernel, mode="same")
    return np.where(den > 0, num / np.maximum(den, 1.0), np.nan)


def trailing_level(counts: np.ndarray, w: int) -> np.ndarray:
    """Per step `j`, the mean of the known counts of steps `[j - w, j)`: the recent level a
    causal policy knows when step `j` starts (NaN where none is known)."""
    known = ~np.isnan(counts)
    num = np.concatenate([[0.0], np.cumsum(np.where(known, counts, 0.0))])
    den = np.concatenate([[0.0], np.cumsum(known)])
    j = np.arange(len(counts))
    lo = np.maximum(0, j - w)
    n = den[j] - den[lo]
    return np.where(n > 0, (num[j] - num[lo]) / np.maximum(n, 1.0), np.nan)


def noise_law(counts: np.ndarray, level: np.ndarray) -> tuple[float, float, np.ndarray]:
    """`a, b` of the variance `a m + b m^2` around the level (least squares on the squared
    residuals, each coefficient at least 0) and the sorted standardised residuals."""
    ok = ~np.isnan(counts) & ~np.isnan(level) & (level > 0)
    m, r2 = level[ok], (counts[ok] - level[ok]) ** 2
    x = np.column_stack([m, m * m])
    a, b = np.linalg.lstsq(x, r2, rcond=None)[0]
    a, b = max(a, 1e-9), max(b, 0.0)
    sd = np.sqrt(a * m + b * m * m)
    return a, b, np.sort((counts[ok] - m) / sd)


def plan(s: fs.Series, cap: float, level: np.ndarray, a: float, b: float, e: float,
         causal: bool) -> fs.Series:
    """The oracle's replicas per tick: for the peak of `m + e sd(m)` over the lead window's
    steps, or (`causal`) for that of the recent level when the tick's step started, held
    flat over the lead window."""
    m = np.nan_to_num(level)
    need = np.maximum(m + e * np.sqrt(a * m + b * m * m), 0.0) / s.step
    if causal:
        return to_plan(s, need[np.minimum(tick_steps(s), len(need) - 1)], cap, 1.0)
    return to_plan(s, lead_peak(s, need), cap, 1.0)


def replay(s: fs.Series, cap: float, p: fs.Series) -> dict:
    return fs.simulate(s, {"p": p}, capacity_per_replica=cap, startup_seconds=STARTUP,
                       interval_seconds=INTERVAL, references=False).summary()["p"]


def bisect(lo: float, hi: float, ok, iters: int = 16) -> float:
    """The smallest x in [lo, hi] with `ok(x)` (assumed monotone), `hi` if none."""
    for _ in range(iters):
        mid = (lo + hi) / 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace", nargs="?", default="nasa")
    ap.add_argument("--minutes", default="5,15,30")
    args = ap.parse_args()
    s = fs.Series.from_csv(str(FILES.get(args.trace, args.trace)))
    cap = float(np.nanmax(s.values)) / s.step / fs.DEFAULT_PEAK_REPLICAS
    r = fs.frontier(s, capacity_per_replica=cap, max_replicas=1000, sweep_policy=False)
    hpa_hours = {sv["served"]: (sv["hpa"][0] if sv["hpa"] else float("nan")) for sv in r["service"]}
    b0 = min((b["hpa"][0] for b in r["budgets"] if b["budget"] == 1.0 and b["hpa"]),
             default=float("nan"))
    print(f"{args.trace}: R0 = {r['r0']:,.1f} replica-hours; tuned HPA within R0: B {100 * b0:.3f}%; "
          + "; ".join(f"{100 * v:g}% served at {h:,.0f}" if np.isfinite(h) else
                      f"{100 * v:g}% never served" for v, h in hpa_hours.items()))
    counts = np.asarray(s.values, dtype=float)
    for minutes, causal in ((int(x), c) for x in args.minutes.split(",") for c in (False, True)):
        w = max(1, round(minutes * 60 / s.step))
        level = trailing_level(counts, w) if causal else centred_level(counts, w)
        a, b, z = noise_law(counts, level)
        quantile = lambda p: float(np.quantile(z, p))  # noqa: E731
        cache: dict[float, dict] = {}

        def at(p: float) -> dict:
            if p not in cache:
                cache[p] = replay(s, cap, plan(s, cap, level, a, b, quantile(p), causal))
            return cache[p]

        kind = "recent" if causal else "future"
        line = f"  {kind} level of {minutes:>2d} min (var = {a:.2f} m + {b:.4f} m^2):"
        for served, hours in hpa_hours.items():
            p = bisect(0.5, 1.0 - 1e-6, lambda p: at(p)["slo_miss_share"] <= 1.0 - served)
            got = at(p)
            if got["slo_miss_share"] > 1.0 - served:
                line += f"  {100 * served:g}% not reached (at most {100 * (1 - got['slo_miss_share']):.2f}%)"
                continue
            vs = f"{got['replica_hours'] / hours:.2f} x HPA, " if np.isfinite(hours) else ""
            line += (f"  {100 * served:g}% at {got['replica_hours']:,.0f}"
                     f" ({vs}{got['replica_hours'] / r['r0']:.2f} x R0)")
        bisect(0.5, 1.0 - 1e-6, lambda p: at(p)["replica_hours"] > r["r0"])
        lo = max((k for k in cache if cache[k]["replica_hours"] <= r["r0"]), default=None)
        if lo is not None:
            line += f"  within R0: B {100 * cache[lo]['slo_miss_share']:.3f}% ({cache[lo]['slo_miss_share'] / b0:.2f} x HPA)"
        print(line, flush=True)


if __name__ == "__main__":
    main()

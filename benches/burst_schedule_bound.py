"""How much knowing a burst schedule is worth: replica schedules replayed through the simulator.

The predictive policy's `phase` predictor learns *that* load jumps at a minute of the half hour
(Twitter's :02 and :32) and pre-warms every such minute. This script measures, on the same
replay as `flaskscale frontier` (startup 120 s, decisions every 15 s, capacity = peak / 20),
what more knowledge of the schedule could buy, as bounds on any policy that has it:

- *perfect foresight*: the replicas for the highest rate of the next three minutes, asked for
  now (the cheapest schedule that serves everything);
- *the daily schedule, known in advance*: a base of the smoothed level (centred, so it knows
  the level too) plus, in the first minutes of every half hour, that half hour's burst size
  quantile over all days of the trace (in-sample, so optimistic): what a model of *which*
  half hours of the day burst, and how much, could provision at best;
- the bursts' renewal statistics (the chance of a burst as a function of the half hours since
  the last one), the knowledge a schedule of the day does not hold.

Run: `python benches/burst_schedule_bound.py [TRACE]` (default: the shared Twitter trace).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import flaskscale as fs

DEFAULT = "../shared/traces/twitter-stream-2021-08/twitter_stream_2021-08_per_minute.csv"
CYCLE = 30  # minutes of the phase cycle
BURST_MINUTES = range(1, 12)  # minutes of the cycle a burst covers
BURST_RATIO = 1.4  # a cycle bursts when its 4th minute is this much over the level


def main(path: str) -> None:
    s = fs.Series.from_csv(path)
    if s.step != 60.0:
        raise SystemExit("a per-minute trace is needed")
    cap = float(np.nanmax(s.values)) / s.step / 20.0
    v = np.asarray(s.values, float)
    v = np.where(np.isfinite(v), v, np.nanmedian(v))
    n = len(v)
    rate = v / 60.0
    r0 = fs.frontier(s, capacity_per_replica=cap, max_replicas=1000, sweep_policy=False)
    hpa = [p["summary"] for p in r0["points"] if p["family"] == "hpa"]
    R0 = r0["r0"]
    best_hpa = max(1.0 - h["slo_miss_share"] for h in hpa)
    print(f"{path}: R0 = {R0:,.0f} replica-hours; the tuned HPA serves at best {best_hpa:.2%}")

    def replay(plan: np.ndarray) -> tuple[float, float]:
        target = fs.Series(np.ceil(plan), start=s.start, step=60.0)
        rep = fs.simulate(s, {"plan": target}, capacity_per_replica=cap, startup_seconds=120,
                          interval_seconds=15, references=False, max_replicas=1000)
        m = rep.summary()["plan"]
        return 1.0 - m["slo_miss_share"], m["replica_hours"] / R0

    def ahead(x: np.ndarray) -> np.ndarray:
        # the highest value of this minute and the next three: a scale-down acts at once, a
        # replica asked for now is ready in two minutes
        return pd.Series(x[::-1]).rolling(4, min_periods=1).max().to_numpy()[::-1]

    for h in (0.0, 0.1):
        served, cost = replay(ahead(rate) * (1 + h) / cap)
        print(f"perfect foresight, headroom {h:.0%}: serves {served:.3%} at {cost:.2f} x R0")

    minute = ((s.start + 60.0 * np.arange(n)) // 60).astype(np.int64)
    phase = minute % CYCLE
    cycle = minute // CYCLE
    slot = (minute % 1440) // CYCLE
    day = (minute - minute[0]) // 1440
    level = pd.Series(rate).rolling(31, center=True, min_periods=5).median().to_numpy()
    level = np.where(np.isfinite(level), level, np.nanmedian(rate))
    ratio = rate / np.maximum(level, 1e-12)
    in_burst = np.isin(phase, list(BURST_MINUTES))
    peak = pd.DataFrame({"d": day[in_burst], "s": slot[in_burst], "r": ratio[in_burst]})
    peak = peak.groupby(["d", "s"])["r"].max().unstack()
    for z in (0.9, 0.95, 1.0):
        size = peak.quantile(z).reindex(range(1440 // CYCLE)).fillna(1.0).to_numpy()
        for h in (0.05, 0.15, 0.3):
            extra = np.where(in_burst, np.maximum(size[slot] - 1.0, 0.0), 0.0)
            served, cost = replay(ahead(level * (1 + h) * (1 + extra)) / cap)
            print(f"daily schedule known (size quantile {z}), headroom {h:.0%}: "
                  f"serves {served:.3%} at {cost:.2f} x R0")

    fourth = phase == 4
    bursts = pd.Series(ratio[fourth] > BURST_RATIO, index=cycle[fourth])
    last, rows = None, []
    for c, b in bursts.items():
        if last is not None:
            rows.append((c - last, b))
        if b:
            last = c
    gaps = pd.DataFrame(rows, columns=["since", "burst"]).groupby("since")["burst"]
    print(f"{int(bursts.sum())} bursts in {len(bursts)} half hours "
          f"({bursts.mean():.1%}); chance of one by half hours since the last:")
    for k, g in gaps:
        if k <= 8:
            print(f"  {k}: {g.mean():.2f} (of {len(g)})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)

"""The defaults against the tuned-HPA frontier on generated traffic that nothing was tuned on.

Each trace is drawn from a seeded generator of a kind the shared traces do not have:

- ``event``: an event web site over 40 days per minute: a level that moves 40x over the
  period, a daily and a weekly cycle, match days (two a week and a few unscheduled) whose
  surges ramp to 5-20x over 5-30 minutes and last 1.5-2.5 hours, negative binomial noise of
  a random shape (15-60: noise that grows with the load);
- ``shift``: 14 days per minute with the level stepping 1x -> 3x -> 8x and four 10x surges of
  90 minutes at random hours, negative binomial noise of shape 30.

For every trace it runs ``fs.frontier`` (the HPA over target 0.50-0.95 x scale-down window
0/60/300/900 s; capacity = peak / 20, startup 120 s, decisions every 15 s) with the policy's
defaults replayed once, and prints the defaults' miss share B and cost (in R0, the HPA at 70%
with a 300 s window) next to the best HPA setting within the same cost. A ratio above 1 is a
trace where the defaults do worse than a tuned HPA.

    python benches/heldout_frontier.py [--seeds 1,2,3] [--kinds event,shift] [--sweep]

``--sweep`` also sweeps the policy's knobs and prints the family's B ratio at 0.9/1.0/1.1/1.25
x R0 (slower: 99 more simulations per trace).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import flaskscale as fs


def event(seed: int, days: int = 40) -> fs.Series:
    rng = np.random.default_rng(seed)
    n = days * 1440
    t = np.arange(n)
    base = 5 * np.exp(np.log(40) * t / n)
    level = base * (1 + 0.6 * np.cos(2 * np.pi * (t / 1440 - 0.85)))
    level *= 1 + 0.2 * np.cos(2 * np.pi * t / (7 * 1440))
    for d in range(days):
        if d % 7 in (2, 5) or rng.uniform() < 0.1:
            s0 = d * 1440 + int(rng.choice([18 * 60, 19 * 60 + 30, 20 * 60]))
            s0 += int(rng.integers(-20, 20))
            mult, ramp, dur = rng.uniform(5, 20), int(rng.integers(5, 30)), int(rng.integers(90, 150))
            prof = np.concatenate([np.linspace(1, mult, ramp), np.full(dur, mult), np.linspace(mult, 1, 30)])
            e = min(n, s0 + len(prof))
            level[s0:e] *= prof[: e - s0]
    k = rng.uniform(15, 60)
    v = rng.negative_binomial(k, k / (k + level * 60)).astype(float)
    return fs.Series(v, start=1.6e9, step=60.0)


def shift(seed: int, days: int = 14) -> fs.Series:
    rng = np.random.default_rng(seed)
    n = days * 1440
    t = np.arange(n)
    level = 20 * np.where(t < 5 * 1440, 1, np.where(t < 9 * 1440, 3, 8))
    level = level * (1 + 0.5 * np.cos(2 * np.pi * (t / 1440 - 0.8)))
    for d in rng.choice(days, 4, replace=False):
        s0 = d * 1440 + int(rng.integers(12 * 60, 20 * 60))
        level[s0 : s0 + 90] *= 10
    v = rng.negative_binomial(30, 30 / (30 + level * 60)).astype(float)
    return fs.Series(v, start=1.7e9, step=60.0)


KINDS = {"event": event, "shift": shift}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3,5,7,11")
    ap.add_argument("--kinds", default="event,shift")
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    worst = 0.0
    print(f"{'trace':10s} {'defaults B':>10s} {'cost/R0':>8s} {'best HPA B':>10s} {'ratio':>6s}")
    for kind in args.kinds.split(","):
        for seed in (int(x) for x in args.seeds.split(",")):
            s = KINDS[kind](seed)
            cap = float(np.nanmax(s.values)) / s.step / fs.DEFAULT_PEAK_REPLICAS
            t0 = time.perf_counter()
            r = fs.frontier(s, capacity_per_replica=cap, max_replicas=1000, sweep_policy=args.sweep)
            pts = r["points"]
            hpa = [p["summary"] for p in pts if p["family"] == "hpa"]
            pol = [p for p in pts if p["family"] != "hpa"]
            if args.sweep:
                pol = [p for p in pol if abs(p["quantile"] - fs.DEFAULT_QUANTILE) < 1e-12
                       and abs(p["target"] - fs.DEFAULT_HPA_UTILIZATION) < 1e-12]
            d = pol[0]["summary"]
            within = [h["slo_miss_share"] for h in hpa if h["replica_hours"] <= d["replica_hours"]]
            best = min(within) if within else float("nan")
            ratio = d["slo_miss_share"] / best if best > 0 else float("nan")
            worst = max(worst, ratio)
            line = (f"{kind}-{seed:<4d} {100 * d['slo_miss_share']:9.3f}% {d['replica_hours'] / r['r0']:8.3f} "
                    f"{100 * best:9.3f}% {ratio:6.2f}")
            if args.sweep:
                line += "   family " + " ".join(
                    f"{b['budget']:g}:{b['policy'][0] / b['hpa'][0]:.2f}" if b["policy"] and b["hpa"] and b["hpa"][0] > 0
                    else f"{b['budget']:g}:-" for b in r["budgets"])
            print(line + f"   [{time.perf_counter() - t0:.1f} s]", flush=True)
    print(f"worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()

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
        [--oracle [--oracle-lag 3]]

``--sweep`` also sweeps the policy's knobs and prints the family's B ratio at 0.9/1.0/1.1/1.25
x R0 (slower: 99 more simulations per trace).

``--oracle`` measures the room a causal policy has there: a plan that knows the generator's
level (the cycles and the regime, not the noise) but learns of a surge only as fast as the HPA
can, and provisions a factor times the peak of that level over the lead window, the factor
bisected to each budget. The surge multiplier it knows is the one of ``--oracle-lag`` minutes
ago (default 3): at a lag of 3 the plan's first scale-up for a surge starting at minute s0 is
asked at s0 + 60 s, when the surge's first step has ended and the HPA first sees it. It prints
the plan's B over the tuned HPA's at 0.9/1.0/1.1 x R0 (``-`` where no HPA setting is that
cheap): a ratio below 1 is room a policy could take, and the defaults' ratio above it is how
much of it they leave.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import flaskscale as fs


def event(seed: int, days: int = 40) -> fs.Series:
    return event_parts(seed, days)[0]


def event_parts(seed: int, days: int = 40) -> tuple[fs.Series, np.ndarray, np.ndarray]:
    """The event trace, its regular mean rate per minute (requests/s: growth, daily and weekly
    cycles) and the match days' surge multiplier on it."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    t = np.arange(n)
    base = 5 * np.exp(np.log(40) * t / n)
    base = base * (1 + 0.6 * np.cos(2 * np.pi * (t / 1440 - 0.85)))
    base *= 1 + 0.2 * np.cos(2 * np.pi * t / (7 * 1440))
    surge = np.ones(n)
    for d in range(days):
        if d % 7 in (2, 5) or rng.uniform() < 0.1:
            s0 = d * 1440 + int(rng.choice([18 * 60, 19 * 60 + 30, 20 * 60]))
            s0 += int(rng.integers(-20, 20))
            mult, ramp, dur = rng.uniform(5, 20), int(rng.integers(5, 30)), int(rng.integers(90, 150))
            prof = np.concatenate([np.linspace(1, mult, ramp), np.full(dur, mult), np.linspace(mult, 1, 30)])
            e = min(n, s0 + len(prof))
            surge[s0:e] *= prof[: e - s0]
    level = base * surge
    k = rng.uniform(15, 60)
    v = rng.negative_binomial(k, k / (k + level * 60)).astype(float)
    return fs.Series(v, start=1.6e9, step=60.0), base, surge


def shift(seed: int, days: int = 14) -> fs.Series:
    return shift_parts(seed, days)[0]


def shift_parts(seed: int, days: int = 14) -> tuple[fs.Series, np.ndarray, np.ndarray]:
    """The level-shift trace, its regular mean rate per minute (requests/s: the regime and the
    daily cycle) and the surges' multiplier on it."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    t = np.arange(n)
    base = 20 * np.where(t < 5 * 1440, 1, np.where(t < 9 * 1440, 3, 8))
    base = base * (1 + 0.5 * np.cos(2 * np.pi * (t / 1440 - 0.8)))
    surge = np.ones(n)
    for d in rng.choice(days, 4, replace=False):
        s0 = d * 1440 + int(rng.integers(12 * 60, 20 * 60))
        surge[s0 : s0 + 90] *= 10
    level = base * surge
    v = rng.negative_binomial(30, 30 / (30 + level * 60)).astype(float)
    return fs.Series(v, start=1.7e9, step=60.0), base, surge


KINDS = {"event": event, "shift": shift}
PARTS = {"event": event_parts, "shift": shift_parts}


def causal_oracle(s: fs.Series, base: np.ndarray, surge: np.ndarray, cap: float, r: dict,
                  hpa: list, lag: int) -> list[tuple[float, float]]:
    """The causal level oracle's B over the best HPA's within 0.9, 1.0 and 1.1 x R0."""
    # the plans and their bisection are the shared traces' level oracles' (target_frontier)
    from target_frontier import at_budget, lead_peak, to_plan

    known = base * np.concatenate([np.ones(lag), surge[: len(surge) - lag]])
    peak = lead_peak(s, known)
    out = []
    for b in (0.9, 1.0, 1.1):
        _, summary = at_budget(s, cap, b * r["r0"], lambda f: to_plan(s, peak, cap, f))
        best = min((h["slo_miss_share"] for h in hpa if h["replica_hours"] <= b * r["r0"]),
                   default=float("nan"))
        out.append((b, summary["slo_miss_share"] / best if best > 0 else float("nan")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3,5,7,11")
    ap.add_argument("--kinds", default="event,shift")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--oracle", action="store_true")
    ap.add_argument("--oracle-lag", type=int, default=3)
    args = ap.parse_args()
    worst = 0.0
    print(f"{'trace':10s} {'defaults B':>10s} {'cost/R0':>8s} {'best HPA B':>10s} {'ratio':>6s}")
    for kind in args.kinds.split(","):
        for seed in (int(x) for x in args.seeds.split(",")):
            s, base, surge = PARTS[kind](seed)
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
            if args.oracle:
                line += "   oracle " + " ".join(
                    f"{b:g}:{ratio:.2f}" if np.isfinite(ratio) else f"{b:g}:-"
                    for b, ratio in causal_oracle(s, base, surge, cap, r, hpa, args.oracle_lag))
            print(line + f"   [{time.perf_counter() - t0:.1f} s]", flush=True)
    print(f"worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()

"""Per-call cost of the decision path from Python: HpaPolicy.recommend, Autoscaler.observe and a
15-second tick (observe + recommend) of an Autoscaler with a fitted model, against the same
work in the Rust criterion bench (benches/policy.rs). Run after `pip install .`:
``python benches/policy_python.py``.
"""

from __future__ import annotations

import time

import numpy as np

import flaskscale as fs


def per_call(fn, n: int) -> float:
    best = float("inf")
    for r in range(5):
        t0 = time.perf_counter()
        for i in range(r * n, (r + 1) * n):
            fn(i)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main() -> None:
    hpa = fs.HpaPolicy(50.0, max_replicas=100)
    print(f"HpaPolicy.recommend              {per_call(lambda i: hpa.recommend(now=15.0 * i, current_replicas=10, load=520.0), 20_000):8.2f} us/call")

    t = np.arange(3 * 10080)
    load = 6000 + 3000 * np.sin(2 * np.pi * t / 1440)
    policy = fs.PredictivePolicy(20.0, startup_seconds=120, max_replicas=100)
    auto = fs.Autoscaler(policy, model=fs.SeasonalNaive(1440), step_seconds=60, refit_every=10**9)
    for i, v in enumerate(load):
        auto.observe(60.0 * i, float(v))
    start = 60.0 * len(load)
    auto.recommend(start, current_replicas=10)  # the one fit

    def tick(i: int) -> None:
        now = start + 15.0 * (i + 1)
        auto.observe(now, 1500.0)
        auto.recommend(now, current_replicas=10)

    print(f"Autoscaler tick (observe+recommend) {per_call(tick, 20_000):8.2f} us/call")
    base = start + 15.0 * 200_000 + 1.0

    def observe(i: int) -> None:
        auto.observe(base + 1e-4 * i, 1.0)

    print(f"Autoscaler.observe               {per_call(observe, 50_000):8.2f} us/call")


if __name__ == "__main__":
    main()

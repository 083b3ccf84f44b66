"""Many hourly series through ``fs.forecast_many`` (the AutoForecaster, the core's batch over
every core) against augurs' MSTL, side by side in one run, with the accuracy of both on a
holdout of the last ``h`` points.

(a) 414 series x 850 points, h = 48 (the shape of the hourly competition set, which is not
    available here: generated series of that shape), augurs on two processes;
(b) 10,000 series x 1,000 points, h = 24, augurs in a loop (timed on a subset and
    extrapolated when ``--augurs-subset`` is smaller than the set: the script says so).

The series (seeded numpy): levels from 5 to 50,000 per hour, a daily shape of two harmonics
with random phases, a weekly factor on a third of them, a slow trend, a level shift on a tenth,
Poisson noise (or 8% multiplicative noise on the large ones). Also printed: the Python loop
over ``fit``/``predict`` of the same model, so the batch's own gain is seen.

    pip install augurs
    nice -n 19 python benches/fleet_forecast.py --part a --repeat 3
    nice -n 19 python benches/fleet_forecast.py --part b --augurs-subset 1000 --loop-subset 1000

On a machine shared with other work the load changes during a run: (b) takes the series in
slices (``--rounds``), each through the batch, the loop and augurs in turn, so that all three
meet the same load; ``--repeat`` runs a part several times and prints the median ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from multiprocessing import get_context
from typing import List, Sequence, Tuple

import numpy as np

import flaskscale as fs


def generate(n: int, length: int, seed: int) -> List[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = []
    for _ in range(n):
        level = np.exp(rng.uniform(np.log(5), np.log(50_000)))
        p1, p2 = rng.uniform(0, 2 * np.pi, 2)
        a1, a2 = rng.uniform(0.1, 0.7), rng.uniform(0.0, 0.3)
        daily = 1 + a1 * np.sin(2 * np.pi * t / 24 + p1) + a2 * np.sin(4 * np.pi * t / 24 + p2)
        weekly = np.where((t // 24) % 7 >= 5, rng.uniform(0.6, 0.9), 1.0) if rng.random() < 1 / 3 else 1.0
        trend = 1 + rng.normal(0, 0.2) * t / length
        shift = np.where(t >= rng.integers(length // 2, length), rng.uniform(0.6, 1.6), 1.0) \
            if rng.random() < 0.1 else 1.0
        mean = np.clip(level * daily * weekly * trend * shift, 0, None)
        if level > 2000:
            y = np.clip(mean * (1 + rng.normal(0, 0.08, length)), 0, None).round()
        else:
            y = rng.poisson(mean).astype(float)
        out.append(y)
    return out


def scores(train: Sequence[np.ndarray], test: Sequence[np.ndarray],
           fcs: Sequence[np.ndarray]) -> Tuple[float, float]:
    """Mean MASE (seasonal naive scale, m = 24) and sMAPE (%) over the series."""
    mase, smape = [], []
    for tr, te, f in zip(train, test, fcs):
        mase.append(fs.mase(te, f, tr, m=24))
        smape.append(fs.smape(te, f))
    return float(np.mean(mase)), float(np.mean(smape))


def mstl_chunk(args: Tuple[List[np.ndarray], int]) -> List[np.ndarray]:
    import augurs

    ys, h = args
    out = []
    for y in ys:
        m = augurs.MSTL.ets([24, 168])
        m.fit(y)
        out.append(np.asarray(m.predict(h).point()))
    return out


def mstl_parallel(pool, ys: List[np.ndarray], h: int, procs: int) -> List[np.ndarray]:
    """augurs' MSTL on ``procs`` worker processes, forecasts in the order of ``ys``."""
    parts = pool.map(mstl_chunk, [(ys[i::procs], h) for i in range(procs)])
    out: List[np.ndarray] = [None] * len(ys)  # type: ignore[list-item]
    for i, part in enumerate(parts):
        for j, f in enumerate(part):
            out[i + j * procs] = f
    return out


def run(n: int, length: int, h: int, seed: int, augurs_procs: int, augurs_subset: int,
        loop_subset: int, rounds: int) -> float:
    """One side-by-side run; returns the ratio augurs time / batch time.

    The series are taken in ``rounds`` slices, and each slice goes through the batch, the
    Python loop (its share of ``loop_subset``) and augurs (its share of ``augurs_subset``) one
    after the other, so that on a shared machine every contender meets the same load; the loop
    and augurs times are extrapolated to the whole set when they ran on part of it.
    """
    import augurs

    ys = generate(n, length, seed)
    train = [y[:-h] for y in ys]
    test = [y[-h:] for y in ys]
    model = fs.AutoForecaster(horizon=h)
    print(f"{n:,} hourly series x {length} points, h = {h}, on this machine's cores, "
          f"{rounds} round(s)")
    bounds = np.linspace(0, n, rounds + 1).astype(int)
    t_batch = t_loop = t_mstl = 0.0
    n_loop = n_mstl = 0
    fc: List[np.ndarray] = []
    fc_m: List[np.ndarray] = [None] * n  # type: ignore[list-item]
    failed = 0
    pool = get_context("spawn").Pool(augurs_procs) if augurs_procs > 1 else None
    if pool is not None:
        pool.map(mstl_chunk, [([train[0]], h)] * augurs_procs)  # workers started and warm
    try:
        for r in range(rounds):
            lo, hi = bounds[r], bounds[r + 1]
            part = train[lo:hi]
            t0 = time.perf_counter()
            res = fs.forecast_many(part, model=model, horizon=h, progress=False)
            t_batch += time.perf_counter() - t0
            failed += sum(isinstance(x, Exception) for x in res)
            fc.extend(x.mean for x in res)

            k = -(-min(loop_subset, n) * (hi - lo) // n)
            t0 = time.perf_counter()
            for y in part[:k]:
                model.fit(y).predict(h)
            t_loop += time.perf_counter() - t0
            n_loop += k

            k = -(-min(augurs_subset, n) * (hi - lo) // n)
            t0 = time.perf_counter()
            if pool is not None:
                got = mstl_parallel(pool, part[:k], h, augurs_procs)
            else:
                got = mstl_chunk((part[:k], h))
            t_mstl += time.perf_counter() - t0
            n_mstl += k
            fc_m[lo:lo + k] = got
    finally:
        if pool is not None:
            pool.close()
    t_loop *= n / n_loop
    t_mstl *= n / n_mstl
    mase_b, smape_b = scores(train, test, fc)
    print(f"flaskscale forecast_many (AutoForecaster): {t_batch:8.2f} s   MASE {mase_b:.3f}  "
          f"sMAPE {smape_b:.2f}%  ({failed} failed)")
    note = "" if n_loop == n else f" (timed on {n_loop:,}, extrapolated)"
    print(f"flaskscale Python loop (fit/predict):      {t_loop:8.2f} s{note}")
    done = [i for i in range(n) if fc_m[i] is not None]
    how = f"{augurs_procs} processes" if augurs_procs > 1 else "a loop"
    note = "" if len(done) == n else f" (timed on {len(done):,}, extrapolated)"
    mase_m, smape_m = scores([train[i] for i in done], [test[i] for i in done],
                             [fc_m[i] for i in done])
    mase_bs, smape_bs = scores([train[i] for i in done], [test[i] for i in done],
                               [fc[i] for i in done])
    print(f"augurs {getattr(augurs, '__version__', '')} MSTL "
          f"(ets, periods 24 and 168) on {how}: {t_mstl:8.2f} s{note}   MASE {mase_m:.3f}  "
          f"sMAPE {smape_m:.2f}%  (flaskscale on the same series: MASE {mase_bs:.3f}, "
          f"sMAPE {smape_bs:.2f}%)")
    print(f"ratios: batch vs augurs {t_mstl / t_batch:.1f}x faster; batch vs the Python loop "
          f"{t_loop / t_batch:.2f}x")
    return t_mstl / t_batch


def repeated(times: int, **kw) -> None:
    ratios = [run(**kw) for _ in range(times)]
    if times > 1:
        print(f"median ratio over {times} runs: {statistics.median(ratios):.1f}x "
              f"(each: {', '.join(f'{r:.1f}' for r in ratios)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("a", "b", "both"), default="both")
    ap.add_argument("--augurs-subset", type=int, default=10_000,
                    help="series augurs is timed on in (b) (extrapolated to the set)")
    ap.add_argument("--loop-subset", type=int, default=10_000,
                    help="series the Python loop is timed on (extrapolated to the set)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each part; the median ratio is printed")
    ap.add_argument("--rounds", type=int, default=10,
                    help="slices (b) is taken in, each through every contender in turn")
    args = ap.parse_args()
    if args.part in ("a", "both"):
        print("== (a) competition-like hourly set")
        repeated(args.repeat, n=414, length=850, h=48, seed=414, augurs_procs=2,
                 augurs_subset=414, loop_subset=args.loop_subset, rounds=1)
    if args.part in ("b", "both"):
        print("\n== (b) 10,000 generated hourly series")
        repeated(args.repeat, n=10_000, length=1_000, h=24, seed=10_000, augurs_procs=1,
                 augurs_subset=args.augurs_subset, loop_subset=args.loop_subset,
                 rounds=args.rounds)

if __name__ == "__main__":
    main()

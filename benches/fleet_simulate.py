"""Many services' two weeks per minute through ``simulate_many`` with the HPA and the
predictive policy at their defaults (those of ``flaskscale simulate``): in-process (the core's
batch on every core), on a Dask LocalCluster of one single-threaded worker process per core,
and on Spark ``local[<cores>]`` — the same cores each time. Prints the per-core throughput
(trace steps per second per core, both policies per step) and each engine's overhead over the
in-process batch, and checks that the three results are identical.

``--input parquet`` (the default) is the nightly job: the fleet is a long-format Parquet file
(written here first, a row group per 100 services, generated service by service so the
generator never holds the fleet) and every engine starts from it — in-process reads it with
pyarrow and runs the batch on ``--chunk`` services at a time (all of them by default),
``flaskscale.distributed`` is given the path, so Dask's and Spark's workers read it
themselves. ``--input pandas`` hands every engine the same pandas DataFrame instead (what the
driver holds is then sent to the workers).

Each engine is warmed first (its workers started, flaskscale imported) on a small job; the
timed part is the call: moving the data in, the batch calls, collecting the rows. The engines
take turns for ``--rounds`` rounds and the median of each is reported. The core's
thread pool in each engine worker is set to one thread (``RAYON_NUM_THREADS=1``), so every
engine uses the same number of cores.

On a machine shared with other jobs the wall time of a run depends on what the others do
meanwhile, so the CPU time of the whole process tree (this process, Dask's worker processes,
Spark's JVM and Python workers; from ``/proc``) is reported beside it: the engine's overhead in
CPU is what it costs on top of the batch calls, whatever the machine's load.

    pip install 'flaskscale[dask,spark]'
    nice -n 19 python benches/fleet_simulate.py --services 1000
    nice -n 19 python benches/fleet_simulate.py --services 10000 --rounds 1 --chunk 1000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Dict, Iterator, Tuple

import numpy as np
import pandas as pd

import flaskscale as fs
from flaskscale import distributed

STEPS = 14 * 1440  # two weeks per minute


def _tree_cpu(root: int) -> Dict[int, float]:
    """CPU seconds (user + system) of ``root`` and of every process below it, each with the
    children it has reaped, by process id; empty without ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state, ppid, ..., utime (12), stime (13), cutime, cstime
        stats[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid][1] / tick
        todo.extend(c for c, (ppid, _) in stats.items() if ppid == pid)
    return out


def _cpu_since(before: Dict[int, float], after: Dict[int, float]) -> float:
    """The CPU seconds the process tree spent between two snapshots, process by process: one
    that ended in between (Spark's idle Python workers do) drops out instead of taking its
    earlier CPU off the sum."""
    return sum(c - before.get(pid, 0.0) for pid, c in after.items())


def services(n: int, seed: int = 13) -> Iterator[Tuple[int, np.ndarray]]:
    """``n`` per-minute services one after another: levels of 2 to 200 req/s, a daily cycle
    with random phase, weekends lower on half of them, Poisson noise, a flash crowd on a
    fifth."""
    rng = np.random.default_rng(seed)
    t = np.arange(STEPS)
    for i in range(n):
        rate = np.exp(rng.uniform(np.log(2), np.log(200)))
        daily = 1 + rng.uniform(0.2, 0.7) * np.cos(2 * np.pi * (t / 1440 - rng.random()))
        weekly = np.where((t // 1440) % 7 >= 5, 0.7, 1.0) if rng.random() < 0.5 else 1.0
        mean = rate * daily * weekly
        if rng.random() < 0.2:
            s = rng.integers(0, STEPS - 120)
            mean[s:s + 120] *= rng.uniform(2, 5)
        yield i, rng.poisson(mean * 60).astype(np.float64)


_DS = pd.date_range("2024-03-04", periods=STEPS, freq="min").to_numpy()


def _frame(ids: list, ys: list) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": np.repeat(np.asarray(ids, dtype=np.int64), STEPS),
                         "ds": np.tile(_DS, len(ids)), "y": np.concatenate(ys)})


def fleet(n: int, seed: int = 13) -> pd.DataFrame:
    """The ``n`` services of :func:`services` as one long-format DataFrame."""
    got = list(services(n, seed))
    return _frame([i for i, _ in got], [y for _, y in got])


ROW_GROUP = 100  # services per row group of the Parquet file


def write_fleet(path: str, n: int, seed: int = 13) -> None:
    """The ``n`` services of :func:`services` as a long-format Parquet file, written a row
    group of ``ROW_GROUP`` services at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    ids: list = []
    ys: list = []
    for i, y in services(n, seed):
        ids.append(i)
        ys.append(y)
        if len(ids) == ROW_GROUP or i == n - 1:
            table = pa.Table.from_pandas(_frame(ids, ys), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=len(table))
            ids, ys = [], []
    if writer is not None:
        writer.close()


def local_from_parquet(path: str, chunk: int, **kw: object) -> pd.DataFrame:
    """In-process on a Parquet file: ``chunk`` services' row groups read at a time and run
    through one batch call each (every core), the results joined in ``unique_id`` order."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    groups = pf.metadata.num_row_groups
    per = max(1, chunk // ROW_GROUP)
    parts = [fs.simulate_many(pf.read_row_groups(list(range(a, min(a + per, groups))))
                              .to_pandas(), progress=False, **kw)
             for a in range(0, groups, per)]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--engines", nargs="+", default=["local", "dask", "spark"])
    ap.add_argument("--rounds", type=int, default=3, help="turns of every engine (median kept)")
    ap.add_argument("--input", choices=("parquet", "pandas"), default="parquet",
                    help="what every engine starts from: a Parquet file (default) or a pandas "
                         "DataFrame in this process")
    ap.add_argument("--chunk", type=int, default=0,
                    help="in-process on Parquet: services per batch call (default: all)")
    ap.add_argument("--dir", default=None, help="where to write the Parquet file (default: a "
                    "temporary directory)")
    args = ap.parse_args()
    n, cores = args.services, args.cores
    kw = dict(references=False)
    steps = n * STEPS
    print(f"{n:,} services x {STEPS:,} minutes ({steps:,} trace steps), HPA + predictive, "
          f"{cores} cores, from {args.input}", flush=True)
    tmp = tempfile.TemporaryDirectory(dir=args.dir)
    warm_n = 2 * cores
    if args.input == "parquet":
        data: object = os.path.join(tmp.name, "fleet.parquet")
        warm: object = os.path.join(tmp.name, "warm.parquet")
        t0 = time.perf_counter()
        write_fleet(str(data), n)
        write_fleet(str(warm), warm_n)
        print(f"written {data} in {time.perf_counter() - t0:.1f} s", flush=True)
        chunk = args.chunk or n
        local = lambda d: local_from_parquet(d, chunk, **kw)  # noqa: E731
    else:
        data = fleet(n)
        warm = data[data["unique_id"] < warm_n]
        local = lambda d: fs.simulate_many(d, progress=False, **kw)  # noqa: E731

    engines = {}
    if "local" in args.engines:
        engines["local"] = local
        local(warm)  # this process's thread pool is made now, on every core
    os.environ["RAYON_NUM_THREADS"] = "1"  # for the engines' workers (started below)
    cluster = client = spark = None
    if "dask" in args.engines:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                               dashboard_address=":0", env={"RAYON_NUM_THREADS": "1"},
                               local_directory=tmp.name)
        client = Client(cluster)
        npart = 4 * cores if args.input == "pandas" else None
        engines["dask"] = lambda d: distributed.simulate_many(d, client, npartitions=npart,
                                                              **kw)
    if "spark" in args.engines:
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master(f"local[{cores}]").appName("flaskscale-bench")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.shuffle.partitions", str(4 * cores))
                 .config("spark.executorEnv.RAYON_NUM_THREADS", "1")
                 .config("spark.driver.memory", "4g")
                 .config("spark.local.dir", tmp.name)
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.ui.enabled", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        engines["spark"] = lambda d: distributed.simulate_many(d, spark, **kw)
    engines = {name: engines[name] for name in args.engines}  # the turns in the order given
    for run in engines.values():  # workers started, flaskscale imported (again in-process)
        run(warm)
    # the engines take turns, round after round, so a change in the machine's load between
    # them does not pass for an engine's overhead; the median of each is reported
    rounds: dict = {name: [] for name in engines}
    cpu: dict = {name: [] for name in engines}
    results = {}
    me = os.getpid()
    for r in range(args.rounds):
        for name, run in engines.items():
            c0, t0 = _tree_cpu(me), time.perf_counter()
            results[name] = run(data)
            rounds[name].append(time.perf_counter() - t0)
            cpu[name].append(_cpu_since(c0, _tree_cpu(me)))
            print(f"round {r + 1}: {name} {rounds[name][-1]:.2f} s ({cpu[name][-1]:.1f} CPU s)",
                  flush=True)
    times = {name: float(np.median(v)) for name, v in rounds.items()}
    cpus = {name: float(np.median(v)) for name, v in cpu.items()}
    if spark is not None:
        spark.stop()
    if client is not None:
        client.close()
        cluster.close()

    base, base_cpu = times.get("local"), cpus.get("local")
    for name, t in times.items():
        c = cpus[name]
        over = (f"  overhead over in-process {t / base - 1:+.1%} wall, {c / base_cpu - 1:+.1%} CPU"
                if base and base_cpu and name != "local" else "")
        print(f"{name:<6} median {t:8.2f} s, {c:8.1f} CPU s  {steps / t / cores / 1e3:6.1f} k trace "
              f"steps/s per core (wall), {steps / c / 1e3:6.1f} k per CPU second{over}")
    tmp.cleanup()
    ref = results.get("local")
    for name, r in results.items():
        if name != "local" and ref is not None:
            same = ref.equals(r)
            print(f"{name} result identical to in-process: {same}")
    if ref is not None:
        s = ref.groupby("policy")[["violation_minutes", "replica_hours"]].sum()
        print(s.to_string())


if __name__ == "__main__":
    main()

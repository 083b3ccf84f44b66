"""200 services forecast, sized and simulated in-process, on Dask and on Spark (the README's
example). ``pip install '.[dask,spark]'`` (Spark needs Java 17), then

    python examples/fleet_distributed.py                       # local Dask cluster, Spark local[2]
    python examples/fleet_distributed.py --scheduler tcp://scheduler:8786 --master spark://host:7077
"""

import argparse

import numpy as np
import pandas as pd

import flaskscale as fs
from flaskscale import distributed


def fleet(n: int = 200, days: int = 14) -> pd.DataFrame:
    """``n`` hourly services in the long format: unique_id, ds, y."""
    rng = np.random.default_rng(0)
    t = np.arange(24 * days)
    ds = pd.date_range("2024-03-04", periods=len(t), freq="h")
    return pd.concat(
        pd.DataFrame({"unique_id": f"svc-{i:03d}", "ds": ds,
                      "y": rng.poisson(rng.uniform(50, 1000) * (1 + 0.5 * np.sin(2 * np.pi * (t + i) / 24)))})
        for i in range(n)
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheduler", help="a Dask scheduler's address (default: a local cluster)")
    ap.add_argument("--master", default="local[2]", help="the Spark master (default local[2])")
    args = ap.parse_args()
    df = fleet()
    job = dict(model=fs.AutoForecaster(horizon=24), horizon=24, levels=[0.8, 0.95])
    local = fs.forecast_many(df, **job)  # every core of this process

    from dask.distributed import Client, LocalCluster

    cluster = None if args.scheduler else LocalCluster(n_workers=2, threads_per_worker=1)
    with Client(args.scheduler or cluster) as client:
        on_dask = distributed.forecast_many(df, client, **job)
        sims = distributed.simulate_many(df, client, interval_seconds=900)
    if cluster is not None:
        cluster.close()

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(args.master)
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    on_spark = distributed.forecast_many(df, spark, **job)
    spark.stop()

    assert local.equals(on_dask) and local.equals(on_spark)
    print(on_spark.head())
    print(sims.groupby("policy")[["slo_miss_share", "replica_hours", "violation_minutes"]].mean())
    print(f"{df['unique_id'].nunique()} services: local, Dask and Spark agree")


if __name__ == "__main__":
    main()

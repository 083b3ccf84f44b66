"""``flaskscale batch``: the many-series calls on a local long-format file (CSV or Parquet with
columns ``unique_id, ds, y``), in-process or on Dask or Spark.

    flaskscale batch fleet.parquet forecast --horizon 48 --out forecasts.parquet
    flaskscale batch fleet.csv simulate --engine dask --workers 2 --out sim.csv
    flaskscale batch fleet.csv recommend --capacity 50 --engine spark --master local[2]
    flaskscale batch fleet.csv frontier --no-sweep --engine dask --out frontier.csv
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict

from . import _flaskscale as _fs
from . import fleet
from .exceptions import FlaskscaleError

_MODELS = ("auto", "holt_winters", "seasonal_naive", "naive", "drift")


def _is_parquet(path: str) -> bool:
    return os.path.isdir(path) or os.path.splitext(path)[1].lower() in (".parquet", ".pq")


def _read(path: str) -> Any:
    import pandas as pd

    if _is_parquet(path):
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path)
    missing = [c for c in (fleet.ID, fleet.DS, fleet.Y) if c not in df.columns]
    if missing:
        raise FlaskscaleError(f"{path}: the long format needs columns unique_id, ds, y; missing {missing}")
    if not pd.api.types.is_numeric_dtype(df[fleet.DS].dtype):
        try:
            df[fleet.DS] = pd.to_datetime(df[fleet.DS], utc=True).dt.tz_localize(None)
        except (ValueError, TypeError) as e:
            raise FlaskscaleError(f"{path}: ds is neither numbers nor times: {e}") from None
    return df


def _write(df: Any, path: str) -> None:
    if os.path.splitext(path)[1].lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def _model(args: argparse.Namespace) -> Any:
    if args.model == "auto":
        return _fs.AutoForecaster(horizon=args.horizon)
    if args.model in ("naive", "drift"):
        return _fs.Naive() if args.model == "naive" else _fs.Drift()
    if args.season is None:
        raise FlaskscaleError(f"--model {args.model} needs --season (steps)")
    if args.model == "holt_winters":
        return _fs.HoltWinters(args.season)
    return _fs.SeasonalNaive(args.season)


def _kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    if args.operation == "forecast":
        if args.horizon < 1:
            raise FlaskscaleError(f"--horizon must be a whole number >= 1, got {args.horizon}")
        return dict(model=_model(args), horizon=args.horizon, levels=args.levels)
    if args.operation == "recommend":
        if args.capacity is None:
            raise FlaskscaleError("recommend needs --capacity (requests/s one replica serves)")
        kw: Dict[str, Any] = dict(policy=_fs.PredictivePolicy(args.capacity,
                                                              startup_seconds=args.startup or 0.0),
                                  current_replicas=args.current)
        if args.model != "auto":
            kw["model"] = _model(args)
        return kw
    kw = dict(capacity_per_replica=args.capacity, startup_seconds=args.startup,
              interval_seconds=args.interval)
    if args.operation == "frontier":
        kw["sweep_policy"] = args.sweep
    return kw


def cmd_batch(args: argparse.Namespace) -> int:
    # on Dask and Spark the workers read a Parquet file themselves (this process reads only
    # its metadata); a CSV file is read here and its rows sent
    df = args.data if args.engine != "local" and _is_parquet(args.data) else _read(args.data)
    kw = _kwargs(args)
    op = {"forecast": "forecast_many", "recommend": "recommend_many",
          "simulate": "simulate_many", "frontier": "frontier_many"}[args.operation]
    t0 = time.perf_counter()
    if args.engine == "local":
        out = getattr(fleet, op)(df, progress=args.progress, **kw)
    elif args.engine == "dask":
        from dask.distributed import Client, LocalCluster

        from . import distributed

        if args.scheduler:
            with Client(args.scheduler) as client:
                out = getattr(distributed, op)(df, client, **kw)
        else:
            with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                out = getattr(distributed, op)(df, client, **kw)
    else:
        from pyspark.sql import SparkSession

        from . import distributed

        spark = (SparkSession.builder.master(args.master).appName("flaskscale-batch")
                 .config("spark.sql.session.timeZone", "UTC").getOrCreate())
        out = getattr(distributed, op)(df, spark, **kw)
    elapsed = time.perf_counter() - t0
    errors = out[out[fleet.ERROR].notna()]
    n = out[fleet.ID].nunique()
    print(f"{args.data}: {n:,} series, {args.operation} on {args.engine} in {elapsed:.2f} s; "
          f"{len(errors):,} failed", file=sys.stderr)
    for _, row in errors.head(5).iterrows():
        print(f"  {row[fleet.ID]}: {row[fleet.ERROR_TYPE]}: {row[fleet.ERROR]}", file=sys.stderr)
    if args.out:
        _write(out, args.out)
        print(f"{len(out):,} rows written to {args.out}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def add_parser(sub: Any) -> None:
    """Adds the ``batch`` subcommand to the command line's subparsers."""
    p = sub.add_parser(
        "batch",
        help="forecast, recommend, simulate or measure the frontier of many series of a "
             "long-format file (unique_id, ds, y), in-process or on Dask or Spark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", help="CSV or Parquet file (or directory of Parquet files) with "
                   "columns unique_id, ds, y; on Dask and Spark the workers read Parquet "
                   "themselves")
    p.add_argument("operation", choices=("forecast", "recommend", "simulate", "frontier"),
                   help="frontier: per service, the tuned HPA's and the predictive policy's "
                        "B at 0.9-1.25 x R0 and replica-hours at 99.9%% / 99%% served")
    p.add_argument("--engine", choices=("local", "dask", "spark"), default="local",
                   help="where to run (default local: this process, every core)")
    p.add_argument("--out", help="write the result here (.csv or .parquet); default: CSV on stdout")
    p.add_argument("--model", choices=_MODELS, default="auto",
                   help="forecasting model (default auto: the AutoForecaster)")
    p.add_argument("--season", type=int, help="season length in steps, for holt_winters and "
                   "seasonal_naive")
    p.add_argument("--horizon", type=int, default=24, help="forecast steps (default 24)")
    p.add_argument("--levels", type=float, nargs="*", default=[0.8, 0.95],
                   help="band levels in (0, 1) (default 0.8 0.95)")
    p.add_argument("--capacity", type=float,
                   help="requests/s one replica serves (recommend: required; simulate, "
                        "frontier: default each service's peak / 20)")
    p.add_argument("--current", type=int, default=1,
                   help="current replicas of every service (recommend; default 1)")
    p.add_argument("--startup", type=float, help="replica start-up delay in seconds "
                   "(simulate, frontier: default 120)")
    p.add_argument("--interval", type=float,
                   help="decision interval in seconds (simulate, frontier: default 15)")
    p.add_argument("--no-sweep", dest="sweep", action="store_false",
                   help="frontier: replay the predictive defaults once instead of over their "
                        "quantile x reactive target (99 settings)")
    p.add_argument("--workers", type=int, default=2,
                   help="Dask worker processes of the local cluster (default 2)")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler "
                   "(tcp://host:8786) instead of a local cluster")
    p.add_argument("--master", default="local[*]",
                   help="Spark master (default local[*]; spark://host:7077 for a cluster)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="draw a progress bar on stderr (local engine)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_batch)

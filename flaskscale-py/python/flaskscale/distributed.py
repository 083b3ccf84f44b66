"""The many-series calls of :mod:`flaskscale.fleet` on a cluster: Dask or Spark.

The engine only moves data: the long-format DataFrame (``unique_id, ds, y``) is split so that
every series lies whole in one piece, and each piece goes through the very batch call
``flaskscale.forecast_many`` / ``recommend_many`` / ``simulate_many`` makes in one process (the
core's batch, GIL released). The results are therefore the same, bit for bit, as in-process.

- **Dask** (``pip install 'flaskscale[dask]'``): ``engine`` is a ``dask.distributed.Client``
  (a ``LocalCluster``'s, or ``Client("tcp://scheduler:8786")`` for an existing cluster). A
  pandas DataFrame is partitioned by ``unique_id`` (``npartitions`` pieces of whole series,
  scattered to the workers) and each partition mapped to the batch call; a Dask DataFrame is
  shuffled on ``unique_id`` and mapped partition by partition, and stays lazy.
- **Spark** (``pip install 'flaskscale[spark]'``): ``engine`` is a ``SparkSession``
  (``SparkSession.builder.master("spark://host:7077")`` for an existing cluster). Each series
  goes to a bucket (a stable hash of its ``unique_id`` modulo ``buckets``) and the buckets are
  grouped with ``groupBy(bucket).applyInPandas``, so each group carries many whole series
  through one batch call (a group per series costs Spark about 0.1 s each, whatever the work).
  The output schema is stated once from the operation's columns. A Spark DataFrame in gives a
  Spark DataFrame out (lazy). Keep the session's time zone at UTC
  (``spark.sql.session.timeZone``) so ``ds`` is not shifted.

A pandas DataFrame in gives a pandas DataFrame out, sorted by ``unique_id`` like the
in-process call. Every worker needs flaskscale installed (the same version). Importing
flaskscale never imports Dask or Spark; this module imports them only when called.

Each worker process runs the core on its own thread pool (all cores by default): with several
worker processes per machine, set ``RAYON_NUM_THREADS`` in the workers' environment to the
cores each should use (``LocalCluster(..., env={"RAYON_NUM_THREADS": "1"})``, Spark's
``spark.executorEnv.RAYON_NUM_THREADS``).
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Sequence

import numpy as np

from . import fleet
from .exceptions import InvalidParameterError

_OPS: Dict[str, Callable[..., Any]] = {
    "forecast_many": fleet.forecast_many,
    "recommend_many": fleet.recommend_many,
    "simulate_many": fleet.simulate_many,
    "frontier_many": fleet.frontier_many,
}

#: The column of the Spark bucket a series goes to (dropped before the batch call).
_BUCKET = "__flaskscale_bucket"
#: Rows a Spark bucket of a pandas input holds at most by default (whole series; a group is
#: one pandas frame in a Python worker): about 50 services of two weeks per minute.
_BUCKET_ROWS = 1_000_000


def _run_piece(pdf: Any, op: str, kwargs: Dict[str, Any]) -> Any:
    """What runs on a worker: the in-process batch call on one piece of the data."""
    return _OPS[op](pdf, progress=False, **kwargs)


def _columns(op: str, kwargs: Mapping[str, Any]) -> fleet.Columns:
    if op == "forecast_many":
        return fleet.forecast_columns(kwargs["model"].alias, kwargs.get("levels", ()))
    if op == "recommend_many":
        return fleet.recommend_columns()
    if op == "frontier_many":
        return fleet.frontier_columns()
    return fleet.simulate_columns()


def _sort_key(op: str) -> Sequence[str]:
    return [fleet.ID]


def _finish(pdf: Any, op: str, kwargs: Mapping[str, Any], id_dtype: Any, ds_datetime: bool,
            tz: Any) -> Any:
    """The engine's collected result in the in-process call's order and dtypes."""
    cols = _columns(op, kwargs)
    pdf = pdf.sort_values(list(_sort_key(op)), kind="mergesort").reset_index(drop=True)
    data = {}
    for name, kind in cols:
        s = pdf[name]
        if kind == "ds" and ds_datetime:
            if getattr(s.dtype, "tz", None) is not None:
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            data[name] = s.astype("datetime64[ns]").to_numpy()
        elif kind in ("str", "id"):
            data[name] = [None if _isna(v) else v for v in s.tolist()]
        elif kind == "int":
            data[name] = [None if _isna(v) else int(v) for v in s.tolist()]
        else:
            data[name] = s.to_numpy(dtype="float64", na_value=float("nan"))
    return fleet.frame(cols, data, id_dtype, ds_datetime, tz)


def _isna(v: Any) -> bool:
    import pandas as pd

    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _prepare(op: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The keyword arguments made picklable (models as their JSON settings, policies as the
    dicts of their configs)."""
    kw = dict(kwargs)
    if op == "forecast_many":
        kw["model"] = fleet.model_spec(kw["model"], kw.pop("alias", None))
        kw["levels"] = [float(v) for v in kw.get("levels", ())]
    elif kw.get("model") is not None:
        kw["model"] = fleet.model_spec(kw["model"])
    if op == "recommend_many" and not isinstance(kw.get("policy"), dict):
        kw["policy"] = kw["policy"].config()
    if op == "simulate_many":
        kw["policies"] = fleet._plain_policies(kw.get("policies"))
    if op == "frontier_many":
        kw["policy"] = fleet._plain_policy(kw.get("policy"))
    return kw


def _engine_kind(engine: Any, data: Any) -> str:
    for obj in (engine, data):
        mod = type(obj).__module__
        if mod.startswith("distributed") or mod.startswith("dask"):
            return "dask"
        if mod.startswith("pyspark"):
            return "spark"
    raise InvalidParameterError(
        "engine must be a dask.distributed.Client or a pyspark SparkSession "
        f"(or data a Dask or Spark DataFrame), got {type(engine).__name__}"
    )


def _input_types(pdf: Any) -> tuple:
    import pandas as pd

    ds = pdf[fleet.DS]
    dt = pd.api.types.is_datetime64_any_dtype(ds.dtype)
    return pdf[fleet.ID].dtype, dt, getattr(ds.dtype, "tz", None)


def _dask(data: Any, client: Any, op: str, kw: Dict[str, Any],
          npartitions: Optional[int]) -> Any:
    import pandas as pd

    is_pandas = isinstance(data, pd.DataFrame)
    if not is_pandas:
        ddf = data.shuffle(on=fleet.ID)
        id_dtype, ds_dt, tz = _input_types(ddf._meta)
        meta = fleet.frame(_columns(op, kw), {}, id_dtype, ds_dt, tz)
        return ddf.map_partitions(_run_piece, op, kw, meta=meta, align_dataframes=False)
    id_dtype, ds_dt, tz = _input_types(data)
    if npartitions is None:
        workers = len(client.scheduler_info().get("workers", {})) if client is not None else 1
        npartitions = max(1, 2 * workers)
    # whole series per piece: contiguous runs of the sorted ids, scattered to the workers (not
    # embedded in a task graph) and mapped to the batch call
    codes = pd.factorize(data[fleet.ID], sort=True)[0]
    n_ids = int(codes.max()) + 1 if len(codes) else 0
    per = max(1, -(-n_ids // npartitions))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(0, n_ids + per, per))
    cols = [fleet.ID, fleet.DS, fleet.Y]
    pieces = [data.iloc[order[a:b]][cols] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    if client is None:
        import dask

        parts = dask.compute(*[dask.delayed(_run_piece)(p, op, kw) for p in pieces])
    else:
        futures = client.map(_run_piece, client.scatter(pieces), op=op, kwargs=kw, pure=False)
        parts = client.gather(futures)
    result = pd.concat(parts, ignore_index=True) if parts else \
        fleet.frame(_columns(op, kw), {}, id_dtype, ds_dt, tz)
    return _finish(result, op, kw, id_dtype, ds_dt, tz)


def _spark_type(kind: str, id_type: Any, ds_datetime: bool) -> Any:
    from pyspark.sql import types as T

    if kind == "id":
        return id_type
    if kind == "ds":
        return T.TimestampType() if ds_datetime else T.DoubleType()
    return {"float": T.DoubleType(), "int": T.LongType(), "str": T.StringType()}[kind]


def spark_schema(cols: fleet.Columns, id_type: Any, ds_datetime: bool) -> Any:
    """The Spark schema of an operation's columns: the one statement of it."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(name, _spark_type(kind, id_type, ds_datetime), True)
                         for name, kind in cols])


@contextlib.contextmanager
def _arrow(spark: Any) -> Iterator[None]:
    """Arrow on for the conversions between pandas and Spark (row by row takes minutes on
    millions of rows), and pyspark's own warnings about the pandas version it runs with
    silenced: they concern its internals, not the caller's code."""
    key = "spark.sql.execution.arrow.pyspark.enabled"
    before = spark.conf.get(key, "false")
    spark.conf.set(key, "true")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="pyspark")
            warnings.filterwarnings("ignore", message="PySpark does not yet fully support")
            yield
    finally:
        spark.conf.set(key, before)


def _spark(data: Any, spark: Any, op: str, kw: Dict[str, Any], buckets: Optional[int]) -> Any:
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    is_pandas = isinstance(data, pd.DataFrame)
    if is_pandas:
        if spark is None:
            raise InvalidParameterError("a pandas DataFrame on Spark needs the SparkSession as engine")
        id_dtype, ds_dt, tz = _input_types(data)
        with _arrow(spark):
            sdf = spark.createDataFrame(data[[fleet.ID, fleet.DS, fleet.Y]])
    else:
        sdf = data
        id_dtype, tz = object, None
        ds_dt = isinstance(sdf.schema[fleet.DS].dataType, (T.TimestampType, T.TimestampNTZType))
    cols = _columns(op, kw)
    schema = spark_schema(cols, sdf.schema[fleet.ID].dataType, ds_dt)
    if buckets is None:
        session = spark if spark is not None else sdf.sparkSession
        buckets = 4 * max(1, int(session.sparkContext.defaultParallelism))
        if is_pandas:
            buckets = max(buckets, -(-len(data) // _BUCKET_ROWS))
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise InvalidParameterError(f"buckets must be a whole number >= 1, got {buckets!r}")
    # whole series per bucket: the hash of the id (xxhash64, the same on every run and node)
    keyed = sdf.withColumn(_BUCKET, F.pmod(F.xxhash64(F.col(fleet.ID)), F.lit(buckets)))

    def piece(pdf: Any) -> Any:
        return _run_piece(pdf.drop(columns=[_BUCKET]), op, kw)

    out = keyed.groupBy(_BUCKET).applyInPandas(piece, schema=schema)
    if not is_pandas:
        return out
    with _arrow(spark):
        result = out.toPandas()
    return _finish(result, op, kw, id_dtype, ds_dt, tz)


def _dispatch(op: str, data: Any, engine: Any, npartitions: Optional[int],
              kwargs: Dict[str, Any]) -> Any:
    kind = _engine_kind(engine, data)
    kw = _prepare(op, kwargs)
    if kind == "dask":
        client = engine if type(engine).__module__.startswith("distributed") else None
        return _dask(data, client, op, kw, npartitions)
    return _spark(data, engine, op, kw, npartitions)


def forecast_many(data: Any, engine: Any = None, *, model: Any, horizon: int,
                  levels: Sequence[float] = (), alias: Optional[str] = None,
                  npartitions: Optional[int] = None) -> Any:
    """:func:`flaskscale.forecast_many` on Dask or Spark (``engine``: a Client or a
    SparkSession); the same columns and values. ``npartitions``: pieces of whole series to
    split the data into — on Dask (pandas input) the pieces mapped to the workers (default:
    twice the workers), on Spark the buckets grouped (default: four per core of the session,
    more for a large pandas input so a bucket holds about a million rows)."""
    return _dispatch("forecast_many", data, engine, npartitions,
                     dict(model=model, horizon=horizon, levels=levels, alias=alias))


def recommend_many(data: Any, engine: Any = None, *, policy: Any, model: Any = None,
                   current_replicas: Any = None, npartitions: Optional[int] = None) -> Any:
    """:func:`flaskscale.recommend_many` on Dask or Spark. ``current_replicas``: one count, or
    a mapping ``unique_id -> count`` (a list has no meaning once the series are split)."""
    if current_replicas is not None and not isinstance(current_replicas, (int, Mapping)):
        current_replicas = dict(current_replicas)
    return _dispatch("recommend_many", data, engine, npartitions,
                     dict(policy=policy, model=model, current_replicas=current_replicas))


def simulate_many(data: Any, engine: Any = None, policies: Optional[Mapping[str, Any]] = None, *,
                  npartitions: Optional[int] = None, **settings: Any) -> Any:
    """:func:`flaskscale.simulate_many` on Dask or Spark; ``settings`` are its keywords
    (``capacity_per_replica``, ``peak_replicas``, ``startup_seconds``, ...)."""
    return _dispatch("simulate_many", data, engine, npartitions,
                     dict(policies=policies, **settings))


def frontier_many(data: Any, engine: Any = None, policy: Any = None, *,
                  npartitions: Optional[int] = None, **settings: Any) -> Any:
    """:func:`flaskscale.frontier_many` on Dask or Spark: one row per service with the tuned
    HPA's and the policy's B at each budget and replica-hours at each service level;
    ``settings`` are its keywords (``sweep_policy``, ``peak_replicas``, ...)."""
    return _dispatch("frontier_many", data, engine, npartitions,
                     dict(policy=policy, **settings))


__all__ = ["forecast_many", "recommend_many", "simulate_many", "frontier_many", "spark_schema"]

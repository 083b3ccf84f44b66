"""The many-series calls of :mod:`flaskscale.fleet` on a cluster: Dask or Spark.

The engine only moves data: the long-format data (``unique_id, ds, y``) is split so that every
series lies whole in one piece, and each piece goes through the very batch call
``flaskscale.forecast_many`` / ``recommend_many`` / ``simulate_many`` makes in one process (the
core's batch, GIL released). The results are therefore the same, bit for bit, as in-process.

The data is a pandas DataFrame, the engine's own DataFrame, or the path of a long-format
Parquet file or directory of files (``"fleet/"``, ``"s3://bucket/fleet/"``: any path the
workers can read). A path is read by the engine's workers, so the driver never holds the rows
(only the file's metadata is read here, for the row count and the column types); its result
is collected as a pandas DataFrame, with ``unique_id`` and ``ds`` of the types pandas reads
from the file, so it equals ``flaskscale.simulate_many(pandas.read_parquet(path))``.

- **Dask** (``pip install 'flaskscale[dask]'``): ``engine`` is a ``dask.distributed.Client``
  (a ``LocalCluster``'s, or ``Client("tcp://scheduler:8786")`` for an existing cluster). A
  pandas DataFrame is cut into ``npartitions`` pieces of whole series, scattered to the
  workers, and each piece mapped to the batch call. A path whose row groups each hold whole
  series (no ``unique_id`` in two row groups, by the files' statistics) is read by the workers
  in pieces of row groups, each mapped to the batch call, no row moving between workers; any
  other path (read with ``dask.dataframe.read_parquet``) and a Dask DataFrame are shuffled on
  ``unique_id`` and mapped partition by partition (a Dask DataFrame in stays lazy).
- **Spark** (``pip install 'flaskscale[spark]'``): ``engine`` is a ``SparkSession``
  (``SparkSession.builder.master("spark://host:7077")`` for an existing cluster). A pandas
  DataFrame is cut into pieces of whole series as on Dask, which travel pickled to the Python
  workers (``SparkContext.parallelize``; on Spark Connect, which has no RDDs, it becomes a
  Spark DataFrame as below). A path whose row groups each hold whole series is read as on
  Dask: pieces of row groups, each read and run by a Python worker, no row going through the
  JVM. A Spark DataFrame (or any other path, read with ``spark.read.parquet``) has each series
  put in a bucket (a stable hash of its ``unique_id`` modulo ``npartitions``)
  and the buckets grouped with ``groupBy(bucket).applyInPandas``, so each group carries many
  whole series through one batch call (a group per series costs Spark about 0.1 s each,
  whatever the work). The output schema is stated once from the operation's columns. A Spark
  DataFrame in gives a Spark DataFrame out (lazy). Keep the session's time zone at UTC
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
import os
import warnings
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import fleet
from .exceptions import InvalidDataError, InvalidParameterError

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


def _is_path(data: Any) -> bool:
    return isinstance(data, (str, os.PathLike))


class _Parquet:
    """A long-format Parquet file (or directory of files) the engine reads itself: what the
    driver learns from its metadata alone (no row is read here)."""

    def __init__(self, path: Any) -> None:
        import pandas as pd

        try:
            import pyarrow.dataset as pads
        except ImportError:  # pragma: no cover - pyarrow comes with both extras
            raise ImportError("a Parquet path needs pyarrow: pip install pyarrow") from None
        self.path = os.fspath(path)
        try:
            dataset = pads.dataset(self.path, format="parquet")
            self._dataset = dataset
            self.rows = dataset.count_rows()
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise InvalidDataError(f"{self.path}: not a readable Parquet file or directory: {e}") \
                from None
        # the column types pandas reads from the file: the output's id and ds follow them,
        # as in-process on pandas.read_parquet(path)
        empty = dataset.schema.empty_table().to_pandas()
        missing = [c for c in (fleet.ID, fleet.DS, fleet.Y) if c not in empty.columns]
        if missing:
            raise InvalidDataError(
                f"{self.path}: a long-format file needs the columns unique_id, ds, y; "
                f"missing {missing}"
            )
        self.types = _input_types(empty)
        # Spark cannot read Parquet's TIMESTAMP(NANOS), which pandas 2 writes by default
        ds_type = dataset.schema.field(fleet.DS).type
        self.ds_nanos = getattr(ds_type, "unit", None) == "ns"
        ds = empty[fleet.DS].dtype
        if not (pd.api.types.is_datetime64_any_dtype(ds) or pd.api.types.is_numeric_dtype(ds)):
            raise InvalidDataError(
                f"{self.path}: ds must hold datetimes or numbers (UTC seconds), got dtype {ds}"
            )


    def whole_series_pieces(self, rows: int) -> Optional[List[List[Tuple[str, List[int]]]]]:
        """The file's row groups in pieces of about ``rows`` rows, each piece a list of
        ``(file, row group indices)``, when the files' statistics show that no unique_id lies
        in two row groups (their unique_id ranges do not overlap): a piece then holds whole
        series, and a worker can read it and run it with no row moving between workers.
        ``None`` when a range overlaps another, a row group has no statistics, or the path is
        not on the local file system (the workers read it by name)."""
        if not os.path.exists(self.path):
            return None
        groups = []
        for frag in self._dataset.get_fragments():
            md = frag.metadata
            names = [md.schema.column(j).path for j in range(md.num_columns)]
            if fleet.ID not in names:
                return None
            j = names.index(fleet.ID)
            for i in range(md.num_row_groups):
                rg = md.row_group(i)
                if rg.num_rows == 0:
                    continue
                st = rg.column(j).statistics
                if st is None or not st.has_min_max or rg.column(j).statistics.null_count:
                    return None
                groups.append((st.min, st.max, frag.path, i, rg.num_rows))
        try:
            groups.sort(key=lambda g: (g[0], g[1]))
        except TypeError:  # pragma: no cover - one column has one type in every file
            return None
        if any(not a[1] < b[0] for a, b in zip(groups, groups[1:])):
            return None
        pieces: List[List[Tuple[str, List[int]]]] = []
        piece: List[Tuple[str, List[int]]] = []
        held = 0
        for _, _, path, i, n in groups:
            if piece and piece[-1][0] == path:
                piece[-1][1].append(i)
            else:
                piece.append((path, [i]))
            held += n
            if held >= rows:
                pieces.append(piece)
                piece, held = [], 0
        if piece:
            pieces.append(piece)
        return pieces


def _read_and_run(piece: List[Tuple[str, List[int]]], op: str, kwargs: Dict[str, Any]) -> Any:
    """What runs on a Dask or Spark worker for a piece of whole series of a Parquet file: its
    row groups read there, then the batch call."""
    import pandas as pd
    import pyarrow.parquet as pq

    frames = [pq.ParquetFile(path).read_row_groups(groups, columns=[fleet.ID, fleet.DS, fleet.Y])
              .to_pandas() for path, groups in piece]
    pdf = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return _run_piece(pdf, op, kwargs)


def _pieces(data: Any, npartitions: int) -> list:
    """A pandas long-format frame cut into ``npartitions`` pieces of whole series: contiguous
    runs of the sorted ids."""
    import pandas as pd

    codes = pd.factorize(data[fleet.ID], sort=True)[0]
    n_ids = int(codes.max()) + 1 if len(codes) else 0
    per = max(1, -(-n_ids // npartitions))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(0, n_ids + per, per))
    cols = [fleet.ID, fleet.DS, fleet.Y]
    return [data.iloc[order[a:b]][cols] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _dask(data: Any, client: Any, op: str, kw: Dict[str, Any],
          npartitions: Optional[int]) -> Any:
    import pandas as pd

    workers = len(client.scheduler_info().get("workers", {})) if client is not None else 1
    if _is_path(data):
        import dask.dataframe as dd

        src = _Parquet(data)
        parts = npartitions or max(2 * workers, -(-src.rows // _BUCKET_ROWS))
        whole = src.whole_series_pieces(-(-src.rows // parts))
        if whole is not None:
            # each series lies in one row group: the workers read pieces of row groups and
            # run them, and no row moves between them (a shuffle of a fleet's rows holds
            # them all in the workers' memory at once)
            if client is None:
                import dask

                got = list(dask.compute(*[dask.delayed(_read_and_run)(p, op, kw)
                                          for p in whole]))
            else:
                got = client.gather(client.map(_read_and_run, whole, op=op, kwargs=kw,
                                               pure=False))
            result = pd.concat(got, ignore_index=True) if got else \
                fleet.frame(_columns(op, kw), {}, *src.types)
            return _finish(result, op, kw, *src.types)
        # the workers read the file; the shuffle on unique_id puts each series whole in one
        # partition
        ddf = dd.read_parquet(src.path, columns=[fleet.ID, fleet.DS, fleet.Y])
        ddf = ddf.shuffle(on=fleet.ID, npartitions=parts)
        meta = fleet.frame(_columns(op, kw), {}, *src.types)
        lazy = ddf.map_partitions(_run_piece, op, kw, meta=meta, align_dataframes=False)
        result = client.compute(lazy).result() if client is not None else lazy.compute()
        return _finish(result, op, kw, *src.types)
    is_pandas = isinstance(data, pd.DataFrame)
    if not is_pandas:
        ddf = data.shuffle(on=fleet.ID)
        id_dtype, ds_dt, tz = _input_types(ddf._meta)
        meta = fleet.frame(_columns(op, kw), {}, id_dtype, ds_dt, tz)
        return ddf.map_partitions(_run_piece, op, kw, meta=meta, align_dataframes=False)
    id_dtype, ds_dt, tz = _input_types(data)
    if npartitions is None:
        npartitions = max(1, 2 * workers)
    # whole series per piece, scattered to the workers (not embedded in a task graph) and
    # mapped to the batch call
    pieces = _pieces(data, npartitions)
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


def _spark_context(spark: Any) -> Any:
    """The session's SparkContext, or None where there is none (Spark Connect)."""
    try:
        return spark.sparkContext
    except Exception:  # Spark Connect raises its own not-implemented error here
        return None


def _spark(data: Any, spark: Any, op: str, kw: Dict[str, Any], buckets: Optional[int]) -> Any:
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if buckets is not None and (isinstance(buckets, bool) or not isinstance(buckets, int)
                                or buckets < 1):
        raise InvalidParameterError(f"buckets must be a whole number >= 1, got {buckets!r}")
    is_pandas = isinstance(data, pd.DataFrame)
    collect = is_pandas or _is_path(data)
    if collect and spark is None:
        raise InvalidParameterError(
            "a pandas DataFrame or a path on Spark needs the SparkSession as engine")
    session = spark if spark is not None else data.sparkSession
    cores = max(1, int(session.sparkContext.defaultParallelism)) \
        if _spark_context(session) is not None else 1
    if is_pandas:
        id_dtype, ds_dt, tz = _input_types(data)
        sc = _spark_context(spark)
        if sc is not None:
            # pieces of whole series straight to the Python workers, pickled as they are:
            # turning 20 M rows into Spark rows and back (Arrow in, the shuffle, Arrow out)
            # cost four times as much CPU as the pieces' trip
            n = buckets or max(4 * cores, -(-len(data) // _BUCKET_ROWS))
            pieces = _pieces(data, n)
            parts = sc.parallelize(pieces, max(1, len(pieces))).map(
                lambda p: _run_piece(p, op, kw)).collect()
            result = pd.concat(parts, ignore_index=True) if parts else \
                fleet.frame(_columns(op, kw), {}, id_dtype, ds_dt, tz)
            return _finish(result, op, kw, id_dtype, ds_dt, tz)
        with _arrow(spark):  # Spark Connect: no RDDs, the rows go as a DataFrame
            sdf = spark.createDataFrame(data[[fleet.ID, fleet.DS, fleet.Y]])
        rows = len(data)
    elif _is_path(data):
        src = _Parquet(data)
        id_dtype, ds_dt, tz = src.types
        sc = _spark_context(spark)
        n = buckets or max(4 * cores, -(-src.rows // _BUCKET_ROWS))
        whole = src.whole_series_pieces(-(-src.rows // n)) if sc is not None else None
        if whole is not None:
            # each series lies in one row group: the Python workers read pieces of row groups
            # and run them, and no row goes through the JVM (a groupBy of a fleet's rows
            # sorts and spills them all, and holds the Python workers to one core)
            parts = sc.parallelize(whole, max(1, len(whole))).map(
                lambda p: _read_and_run(p, op, kw)).collect()
            result = pd.concat(parts, ignore_index=True) if parts else \
                fleet.frame(_columns(op, kw), {}, id_dtype, ds_dt, tz)
            return _finish(result, op, kw, id_dtype, ds_dt, tz)
        if src.ds_nanos:
            raise InvalidDataError(
                f"{src.path}: ds is stored as nanosecond timestamps (Parquet TIMESTAMP(NANOS), "
                "what pandas 2 writes by default), which Spark cannot read; write it in "
                "microseconds (df.to_parquet(path, coerce_timestamps='us')), write each "
                "service's rows into one row group (the Python workers then read the file), "
                "or pass the pandas frame"
            )
        # the executors read the file themselves: the driver never holds its rows
        sdf = spark.read.parquet(src.path).select(fleet.ID, fleet.DS, fleet.Y)
        rows = src.rows
    else:
        sdf = data
        id_dtype, tz = object, None
        ds_dt = isinstance(sdf.schema[fleet.DS].dataType, (T.TimestampType, T.TimestampNTZType))
        rows = 0
    cols = _columns(op, kw)
    schema = spark_schema(cols, sdf.schema[fleet.ID].dataType, ds_dt)
    if buckets is None:
        buckets = max(4 * cores, -(-rows // _BUCKET_ROWS))
    # whole series per bucket: the hash of the id (xxhash64, the same on every run and node)
    keyed = sdf.withColumn(_BUCKET, F.pmod(F.xxhash64(F.col(fleet.ID)), F.lit(buckets)))

    def piece(pdf: Any) -> Any:
        return _run_piece(pdf.drop(columns=[_BUCKET]), op, kw)

    out = keyed.groupBy(_BUCKET).applyInPandas(piece, schema=schema)
    if not collect:
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
    SparkSession; ``data``: a pandas, Dask or Spark DataFrame, or the path of a Parquet file
    or directory); the same columns and values. ``npartitions``: pieces of whole series to
    split the data into — on Dask the pieces (pandas input; default twice the workers) or the
    pieces of row groups or partitions after the shuffle (a path; default twice the workers,
    more so that one holds about a million rows), on Spark the pieces or buckets (default four per core of the
    session, more for a pandas input or a path so that one holds about a million rows)."""
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

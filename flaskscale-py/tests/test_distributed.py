"""The same 200-series job in-process, on a Dask LocalCluster of two worker processes and on
Spark local[2]: identical results, bit for bit, on every column; failing series in the middle
of a partition give their error rows and the others their results. One cluster and one
session for the whole module."""

from __future__ import annotations

import numpy as np
import pytest

import flaskscale as fs

pd = pytest.importorskip("pandas")

# pyspark 4 warns that it does not fully support pandas 3 each time it converts
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning",
    "ignore:The copy keyword is deprecated",
)

N, DAYS = 200, 14
SHORT, EMPTY = "svc-057", "svc-058"  # mid-partition: 4 pieces of 50 series on Dask


@pytest.fixture(scope="module")
def job() -> "pd.DataFrame":
    """200 hourly services, two weeks each, of different levels and daily phases; one has a
    single row (no grid), one only missing values."""
    rng = np.random.default_rng(2024)
    t = np.arange(24 * DAYS)
    parts = []
    for i in range(N):
        level = 50 + 1000 * rng.random()
        y = rng.poisson(level * (1 + 0.5 * np.sin(2 * np.pi * (t + i) / 24))).astype(float)
        uid = f"svc-{i:03d}"
        if uid == SHORT:
            y = y[:1]
        if uid == EMPTY:
            y[:] = np.nan
        ds = pd.date_range("2024-03-04", periods=len(y), freq="h")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    sql = pytest.importorskip("pyspark.sql")
    session = (sql.SparkSession.builder.master("local[2]").appName("flaskscale-tests")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               .getOrCreate())
    yield session
    session.stop()


def assert_identical(a: "pd.DataFrame", b: "pd.DataFrame") -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for c in a.columns:
        if a[c].dtype == np.float64:  # NaN in the same places, every other value bit for bit
            assert np.array_equal(a[c].to_numpy().view(np.int64), b[c].to_numpy().view(np.int64)), c


JOBS = {
    "forecast_many": dict(model=fs.AutoForecaster(horizon=24), horizon=24, levels=[0.8, 0.95]),
    "recommend_many": dict(policy=fs.PredictivePolicy(0.2, startup_seconds=120),
                           model=fs.SeasonalNaive(24), current_replicas=3),
    "simulate_many": dict(interval_seconds=900.0),
    "frontier_many": dict(interval_seconds=900.0, sweep_policy=False),
}


@pytest.fixture(scope="module")
def local(job):  # type: ignore[no-untyped-def]
    return {op: getattr(fs, op)(job, progress=False, **kw) for op, kw in JOBS.items()}


@pytest.mark.parametrize("op", list(JOBS))
def test_dask_gives_the_local_result_bit_for_bit(op, job, local, client) -> None:  # type: ignore[no-untyped-def]
    from flaskscale import distributed

    assert_identical(local[op], getattr(distributed, op)(job, client, **JOBS[op]))


@pytest.mark.parametrize("op", list(JOBS))
def test_spark_gives_the_local_result_bit_for_bit(op, job, local, spark) -> None:  # type: ignore[no-untyped-def]
    from flaskscale import distributed

    assert_identical(local[op], getattr(distributed, op)(job, spark, **JOBS[op]))


def test_failing_series_give_error_rows_and_the_others_results(local) -> None:  # type: ignore[no-untyped-def]
    fc = local["forecast_many"]
    err = fc[fc["error"].notna()].set_index("unique_id")
    assert list(err.index) == [SHORT, EMPTY]
    assert err.loc[SHORT, "error_type"] == "NotEnoughDataError"
    assert err.loc[EMPTY, "error_type"] == "InvalidDataError"
    good = fc[fc["error"].isna()]
    assert good["unique_id"].nunique() == N - 2 and (good.groupby("unique_id").size() == 24).all()
    assert good["AutoForecaster"].notna().all()
    sim = local["simulate_many"]
    assert sim[sim["error"].notna()]["unique_id"].tolist() == [SHORT, EMPTY]
    assert (sim[sim["error"].isna()].groupby("unique_id").size() == 4).all()
    fr = local["frontier_many"]
    assert fr[fr["error"].notna()]["unique_id"].tolist() == [SHORT, EMPTY]
    assert len(fr) == N and fr[fr["error"].isna()]["r0"].gt(0).all()
    rec = local["recommend_many"]
    # a single row is no grid; only missing values leave the autoscaler holding its count
    assert rec[rec["error"].notna()]["unique_id"].tolist() == [SHORT]
    assert rec.set_index("unique_id").loc[EMPTY, "replicas"] == 3


def test_lazy_frames_stay_lazy_on_their_engine(job, local, client, spark) -> None:  # type: ignore[no-untyped-def]
    import dask.dataframe as dd

    from flaskscale import distributed

    kw = JOBS["simulate_many"]
    # the ids keep the engine's string dtype (Dask's pyarrow strings on pandas 2): compared as
    # Python strings
    ids = {"unique_id": object, "policy": object}
    want = local["simulate_many"].astype(ids).set_index(["unique_id", "policy"])["replica_hours"]
    lazy = distributed.simulate_many(dd.from_pandas(job, npartitions=3), client, **kw)
    assert isinstance(lazy, dd.DataFrame)
    got = client.compute(lazy).result().astype(ids).set_index(["unique_id", "policy"])
    assert got["replica_hours"].sort_index().equals(want.sort_index())
    sdf = distributed.simulate_many(spark.createDataFrame(job), spark, **kw)
    assert type(sdf).__module__.startswith("pyspark")
    got = sdf.toPandas().astype(ids).set_index(["unique_id", "policy"])["replica_hours"]
    assert got.sort_index().equals(want.sort_index())


@pytest.fixture(scope="module")
def job_file(job, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The 200-series job as a Parquet file, which the engines' workers read themselves."""
    path = tmp_path_factory.mktemp("fleet") / "job.parquet"
    job.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("op", ["forecast_many", "simulate_many"])
def test_a_parquet_path_gives_the_local_result_on_the_file_bit_for_bit(  # type: ignore[no-untyped-def]
        op, job_file, client, spark) -> None:
    from flaskscale import distributed

    # in-process on what pandas reads from the file (string ids come back as pandas' str)
    want = getattr(fs, op)(pd.read_parquet(job_file), progress=False, **JOBS[op])
    assert_identical(want, getattr(distributed, op)(job_file, client, **JOBS[op]))
    assert_identical(want, getattr(distributed, op)(str(job_file), spark, **JOBS[op]))


@pytest.mark.parametrize("layout", ["whole", "split"])
def test_row_groups_of_whole_series_or_split_ones_give_the_local_result(  # type: ignore[no-untyped-def]
        layout, job, tmp_path, client, spark) -> None:
    """A file whose row groups each hold whole series is read piece by piece on the workers
    with no shuffle (Dask) or no trip through the JVM (Spark); one whose series run across row
    groups (or whose groups' id ranges overlap) is shuffled on unique_id (Dask) or grouped in
    buckets (Spark). All give the in-process result bit for bit."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from flaskscale import distributed

    path = tmp_path / f"{layout}.parquet"
    ids = sorted(job["unique_id"].unique())
    # ds in microseconds, as pandas 3 writes it (Spark cannot read pandas 2's nanoseconds)
    schema = _schema(job, "us")
    with pq.ParquetWriter(path, schema) as w:
        if layout == "whole":
            # 25 series a row group, in reverse order of their ids
            for k in reversed(range(0, len(ids), 25)):
                part = job[job["unique_id"].isin(ids[k:k + 25])]
                w.write_table(pa.Table.from_pandas(part, preserve_index=False).cast(schema))
        else:
            # row groups of 1,000 rows: series cut at their boundaries
            w.write_table(pa.Table.from_pandas(job, preserve_index=False).cast(schema),
                          row_group_size=1000)
    src = distributed._Parquet(path)
    pieces = src.whole_series_pieces(2000)
    if layout == "whole":
        assert pieces is not None and len(pieces) > 1
        assert sorted(i for p in pieces for _, groups in p for i in groups) == list(range(8))
    else:
        assert pieces is None
    want = fs.simulate_many(pd.read_parquet(path), progress=False, **JOBS["simulate_many"])
    assert_identical(want, distributed.simulate_many(path, client, **JOBS["simulate_many"]))
    assert_identical(want, distributed.simulate_many(path, spark, **JOBS["simulate_many"]))


def _schema(job, unit):  # type: ignore[no-untyped-def]
    """The frame's Arrow schema with ds as timestamps of ``unit``."""
    import pyarrow as pa

    schema = pa.Table.from_pandas(job, preserve_index=False).schema
    return schema.set(schema.get_field_index("ds"), pa.field("ds", pa.timestamp(unit)))


def test_nanosecond_timestamps_that_spark_cannot_read_are_a_typed_error(  # type: ignore[no-untyped-def]
        job, tmp_path, client, spark) -> None:
    """Parquet's TIMESTAMP(NANOS), what pandas 2 writes: Spark's reader refuses it, so a file
    Spark would read itself is refused up front with the remedy; Dask reads it, and so do
    Spark's Python workers when its row groups hold whole series."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from flaskscale import distributed

    table = pa.Table.from_pandas(job, preserve_index=False).cast(_schema(job, "ns"))
    split, whole = tmp_path / "ns-split.parquet", tmp_path / "ns-whole.parquet"
    pq.write_table(table, split, row_group_size=1000)
    pq.write_table(table, whole, row_group_size=len(job))
    want = fs.simulate_many(pd.read_parquet(split), progress=False, **JOBS["simulate_many"])
    with pytest.raises(fs.InvalidDataError, match=r"nanosecond timestamps.*coerce_timestamps"):
        distributed.simulate_many(split, spark, **JOBS["simulate_many"])
    assert_identical(want, distributed.simulate_many(split, client, **JOBS["simulate_many"]))
    assert_identical(want, distributed.simulate_many(whole, spark, **JOBS["simulate_many"]))


def test_a_path_that_is_no_long_format_parquet_is_a_typed_error(job, tmp_path, client) -> None:  # type: ignore[no-untyped-def]
    from flaskscale import distributed

    no_y = tmp_path / "no_y.parquet"
    job.drop(columns=["y"]).to_parquet(no_y, index=False)
    with pytest.raises(fs.InvalidDataError, match=r"missing \['y'\]"):
        distributed.simulate_many(no_y, client)
    text = tmp_path / "fleet.parquet"
    text.write_text("unique_id,ds,y\n")
    with pytest.raises(fs.InvalidDataError, match="not a readable Parquet"):
        distributed.simulate_many(text, client)
    with pytest.raises(FileNotFoundError):
        distributed.simulate_many(tmp_path / "absent.parquet", client)


def test_the_batch_command_hands_dask_the_parquet_path(job_file, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from flaskscale.cli import main

    out = tmp_path / "sim.parquet"
    assert main(["batch", str(job_file), "simulate", "--interval", "900", "--engine", "dask",
                 "--workers", "2", "--out", str(out)]) == 0
    assert "200 series, simulate on dask" in capsys.readouterr().err
    want = fs.simulate_many(pd.read_parquet(job_file), progress=False, **JOBS["simulate_many"])
    want.to_parquet(tmp_path / "want.parquet", index=False)  # the same trip through a file
    assert_identical(pd.read_parquet(tmp_path / "want.parquet"), pd.read_parquet(out))

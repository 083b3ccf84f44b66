"""The Series contract: numpy in and out, CSV / access log / pandas ingestion, typed errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import flaskscale as fs


def test_numpy_in_and_out() -> None:
    s = fs.Series(np.array([1.0, np.nan, 3.0]), start=120.0, step=60.0)
    assert len(s) == 3 and s.start == 120.0 and s.step == 60.0 and s.end == 300.0
    v = s.values
    assert isinstance(v, np.ndarray) and v.dtype == np.float64 and v.flags.c_contiguous
    assert v[0] == 1.0 and math.isnan(v[1]) and s.missing == 1
    assert s.timestamps.tolist() == [120.0, 180.0, 240.0]
    # the returned array is the caller's own: changing it leaves the series alone
    v[0] = 99.0
    assert s.values[0] == 1.0


def test_other_dtypes_and_strided_views_are_converted() -> None:
    ints = fs.Series(np.array([1, 2, 3], dtype=np.int32))
    assert ints.values.dtype == np.float64 and ints.values.tolist() == [1.0, 2.0, 3.0]
    assert fs.Series([1, 2.5]).values.tolist() == [1.0, 2.5]
    strided = np.arange(10, dtype=np.float64)[::3]
    assert not strided.flags.c_contiguous
    assert fs.Series(strided).values.tolist() == [0.0, 3.0, 6.0, 9.0]
    f32 = fs.Series(np.array([0.5, 1.5], dtype=np.float32))
    assert f32.values.tolist() == [0.5, 1.5]


@pytest.mark.parametrize(
    "bad, exc",
    [
        (np.zeros((2, 2)), fs.InvalidDataError),
        (np.array(["a", "b"]), fs.InvalidDataError),
        ([], fs.InvalidDataError),
        ([1.0, -1.0], fs.InvalidDataError),
        ([1.0, np.inf], fs.InvalidDataError),
    ],
)
def test_bad_values_raise_typed_errors(bad: object, exc: type) -> None:
    with pytest.raises(exc):
        fs.Series(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("step", [0.0, -60.0, float("nan"), float("inf")])
def test_bad_step(step: float) -> None:
    with pytest.raises(fs.InvalidParameterError, match="step"):
        fs.Series([1.0], step=step)


def test_errors_are_value_errors_too() -> None:
    assert issubclass(fs.InvalidParameterError, ValueError)
    assert issubclass(fs.NotEnoughDataError, fs.FlaskscaleError)
    assert issubclass(fs.FlaskscaleIOError, OSError)


def test_shared_traces_load(nasa_path, wikipedia_path) -> None:  # type: ignore[no-untyped-def]
    nasa = fs.Series.from_csv(nasa_path)
    assert len(nasa) == 89_280 and nasa.missing == 7_210
    assert nasa.stats()["sum"] == 3_461_610.0
    wiki = fs.Series.from_csv(str(wikipedia_path))
    assert len(wiki) == 744 and wiki.step == 3600.0
    hourly = nasa.resample(3600, how="sum")
    assert len(hourly) == 1488 and hourly.step == 3600.0


def test_csv_errors_carry_the_line() -> None:
    with pytest.raises(fs.ParseError) as info:
        fs.Series.from_csv_text("timestamp,value\n2016-01-01T00:00:00Z,1\nnot-a-time,2\n")
    assert info.value.line == 3
    with pytest.raises(fs.ParseError) as info:
        fs.Series.from_csv_text("when,value\n")
    assert info.value.line == 1
    with pytest.raises(fs.InvalidParameterError):
        fs.Series.from_csv_text("timestamp,value\n0,1\n", skipped_rows="maybe")
    with pytest.raises(fs.FlaskscaleIOError, match="no-such-file"):
        fs.Series.from_csv("no-such-file.csv")


def test_csv_round_trip_and_skipped_rows() -> None:
    text = "timestamp,value\n2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,\n2016-01-01T03:00:00Z,4\n"
    with pytest.raises(fs.ParseError, match="skips 1"):
        fs.Series.from_csv_text(text)
    s = fs.Series.from_csv_text(text, skipped_rows="missing")
    assert len(s) == 4 and s.missing == 2
    assert fs.Series.from_csv_text(s.to_csv()) == s


def test_resample_fill_slice_stats() -> None:
    s = fs.Series([1.0, 2.0, np.nan, 4.0, 5.0, 6.0], start=0.0, step=60.0)
    assert np.isnan(s.resample(120).values[1])  # a sum with a missing slot is unknown
    assert s.resample(180, how="max").values.tolist() == [2.0, 6.0]
    assert s.resample(120, how="mean").values.tolist() == [1.5, 4.0, 5.5]
    with pytest.raises(fs.InvalidParameterError, match="whole multiple"):
        s.resample(90)
    with pytest.raises(fs.InvalidParameterError, match="aggregation"):
        s.resample(120, how="median")
    assert s.fill_gaps().values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    part = s.slice(120.0, 300.0)
    assert part.start == 120.0 and len(part) == 3
    st = s.stats()
    assert st["missing"] == 1 and st["sum"] == 18.0 and st["max"] == 6.0
    assert "missing=1" in repr(s)


def test_from_events() -> None:
    s = fs.Series.from_events(np.array([0.5, 10.0, 59.9, 60.0, 185.0]), step=60.0)
    assert s.values.tolist() == [3.0, 1.0, 0.0, 1.0]
    with pytest.raises(fs.InvalidDataError, match="before start"):
        fs.Series.from_events([10.0], step=60.0, start=60.0)


LOG = (
    '1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET /a HTTP/1.0" 200 6245\n'
    '1.2.3.4 - - [01/Jul/1995:04:00:59 +0000] "GET /b HTTP/1.0" 200 1\n'
    "garbage line\n"
    '1.2.3.4 - - [01/Jul/1995:06:01:00 +0200] "GET /healthz HTTP/1.0" 200 1\n'
    '1.2.3.4 - - [01/Jul/1995:04:01:30 +0000] "GET /c HTTP/1.0" 304 - "-" "agent"\n'
)


def test_access_log_counts_and_warns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "access.log"
    path.write_text(LOG)
    with pytest.warns(fs.FlaskscaleWarning, match="skipped 1 malformed line.*line 3"):
        s = fs.Series.from_access_log(path, step=60)
    # 04:00:01Z, 04:00:59Z, 04:01:00Z (the +0200 health check), 04:01:30Z
    assert s.values.tolist() == [2.0, 2.0]
    rep = fs.read_access_log(path, step=60, exclude_paths=["/healthz"])
    assert (rep.lines, rep.counted, rep.excluded, rep.malformed) == (5, 3, 1, 1)
    assert rep.first_malformed == (3, "garbage line")
    with pytest.raises(fs.ParseError) as info:
        fs.Series.from_access_log(path, on_malformed="raise")
    assert info.value.line == 3
    clean = tmp_path / "clean.log"
    clean.write_text(LOG.replace("garbage line\n", ""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs.Series.from_access_log(clean)  # nothing skipped, nothing said


def test_pandas_round_trip() -> None:
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=5, freq="5min", tz="UTC")
    ps = pd.Series([1.0, 2.0, None, 4.0, 5.0], index=idx)
    s = fs.Series.from_pandas(ps)
    assert s.step == 300.0 and s.start == 1704067200.0 and s.missing == 1
    back = s.to_pandas()
    assert back.index.equals(idx) and back.iloc[3] == 4.0
    naive = fs.Series.from_pandas(ps.tz_localize(None))
    assert naive.start == s.start
    irregular = ps.drop(idx[2])
    with pytest.raises(fs.ParseError, match="skips"):
        fs.Series.from_pandas(irregular)
    filled = fs.Series.from_pandas(irregular, skipped_rows="missing")
    assert len(filled) == 5 and filled.missing == 1 and filled.values[3] == 4.0
    with pytest.raises(fs.InvalidDataError, match="DatetimeIndex"):
        fs.Series.from_pandas(pd.Series([1.0, 2.0]))
    # values that are not numbers, and times pandas cannot index, are typed errors too
    with pytest.raises(fs.InvalidDataError, match="numeric values"):
        fs.Series.from_pandas(pd.Series(["a", "b"], index=idx[:2]))
    # 1653: pandas with nanosecond indexes cannot hold it (a typed error), newer pandas can
    try:
        assert fs.Series([1.0], start=-1e10).to_pandas().index[0].year == 1653
    except fs.InvalidDataError as e:
        assert "DatetimeIndex" in str(e)
    with pytest.raises(fs.InvalidParameterError, match="between 0000-01-01 and 9999-12-31"):
        fs.Series([1.0], start=1e300)

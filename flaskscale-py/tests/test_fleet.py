"""The many-series calls in one process: the long format in and out, one result per series,
and each equal, bit for bit, to the single-series call it batches."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import flaskscale as fs

pd = pytest.importorskip("pandas")


def fleet_frame(n: int = 12, length: int = 24 * 14, bad: bool = True) -> "pd.DataFrame":
    """``n`` hourly series of different levels and phases; with ``bad``, series 4 has a single
    row (too short for a grid) and series 5 only missing values."""
    rng = np.random.default_rng(7)
    t = np.arange(length)
    parts = []
    for i in range(n):
        y = rng.poisson(200 + 20 * i + 120 * np.sin(2 * np.pi * (t + i) / 24)).astype(float)
        if bad and i == 4:
            y = y[:1]
        if bad and i == 5:
            y = np.full(length, np.nan)
        ds = pd.date_range("2024-03-04", periods=len(y), freq="h")
        parts.append(pd.DataFrame({"unique_id": f"svc-{i:02d}", "ds": ds, "y": y}))
    df = pd.concat(parts, ignore_index=True)
    return df.sample(frac=1.0, random_state=3).reset_index(drop=True)  # any row order


def bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.int64)


def test_forecast_many_is_the_per_series_fit_bit_for_bit() -> None:
    df = fleet_frame()
    model = fs.HoltWinters(24)
    out = fs.forecast_many(df, model=model, horizon=12, levels=[0.8, 0.95], progress=False)
    assert list(out.columns) == [
        "unique_id", "ds", "HoltWinters", "HoltWinters-lo-95", "HoltWinters-lo-80",
        "HoltWinters-hi-80", "HoltWinters-hi-95", "error", "error_type"]
    assert out["unique_id"].is_monotonic_increasing
    for uid, g in df.groupby("unique_id"):
        got = out[out["unique_id"] == uid]
        g = g.sort_values("ds")
        if uid in ("svc-04", "svc-05"):
            continue
        fc = model.fit(g["y"].to_numpy()).predict(12, levels=[0.8, 0.95])
        assert np.array_equal(bits(got["HoltWinters"]), bits(fc.mean))
        assert np.array_equal(bits(got["HoltWinters-lo-95"]), bits(fc.lower(0.95)))
        assert np.array_equal(bits(got["HoltWinters-hi-80"]), bits(fc.upper(0.8)))
        # the steps after the last observation, on its grid
        want = pd.date_range(g["ds"].iloc[-1] + pd.Timedelta(hours=1), periods=12, freq="h")
        assert (got["ds"].to_numpy() == want.to_numpy()).all()
        assert got["error"].isna().all()


def test_a_failing_series_gets_its_error_row_and_the_others_their_results() -> None:
    out = fs.forecast_many(fleet_frame(), model=fs.HoltWinters(24), horizon=6, progress=False)
    err = out[out["error"].notna()].set_index("unique_id")
    assert list(err.index) == ["svc-04", "svc-05"]
    assert err.loc["svc-04", "error_type"] == "NotEnoughDataError"
    assert err.loc["svc-05", "error_type"] == "InvalidDataError"
    assert "no known value" in err.loc["svc-05", "error"] or "missing" in err.loc["svc-05", "error"]
    assert err["HoltWinters"].isna().all() and err["ds"].isna().all()
    assert (out[out["error"].isna()].groupby("unique_id").size() == 6).all()
    assert out["unique_id"].nunique() == 12


def test_a_list_of_arrays_gives_forecasts_and_errors_in_place() -> None:
    y = np.tile([1.0, 2.0, 3.0], 4)
    res = fs.forecast_many([y, y[:1], 2 * y], model=fs.SeasonalNaive(3), horizon=3, progress=False)
    assert res[0].mean.tolist() == [1.0, 2.0, 3.0]
    assert isinstance(res[1], fs.NotEnoughDataError) and res[1].needed == 4  # a season and a point
    assert res[2].mean.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(fs.InvalidParameterError):  # a shared setting fails the whole call
        fs.forecast_many([y], model=fs.Naive(), horizon=0, progress=False)


def test_numeric_ds_are_seconds_and_off_grid_series_fail_alone() -> None:
    df = pd.DataFrame({"unique_id": [1] * 6 + [2] * 3,
                       "ds": [0, 60, 120, 180, 240, 300, 0, 60, 90],
                       "y": [1.0, 2, 1, 2, 1, 2, 5, 5, 5]})
    out = fs.forecast_many(df, model=fs.Naive(), horizon=2, levels=[0.9], alias="naive",
                           progress=False)
    ok = out[out["unique_id"] == 1]
    assert ok["ds"].tolist() == [360.0, 420.0] and ok["naive"].tolist() == [2.0, 2.0]
    bad = out[out["unique_id"] == 2]
    assert bad["error_type"].tolist() == ["ParseError"]
    assert out["unique_id"].dtype == df["unique_id"].dtype


def test_recommend_many_is_the_autoscaler_per_service() -> None:
    df = fleet_frame(n=6, bad=False)
    policy = fs.PredictivePolicy(0.02, startup_seconds=120)
    current = {f"svc-{i:02d}": 2 + i for i in range(6)}
    model = fs.SeasonalNaive(24)
    out = fs.recommend_many(df, policy=policy, model=model, current_replicas=current,
                            progress=False)
    assert len(out) == 6 and out["error"].isna().all()
    for _, row in out.iterrows():
        g = df[df["unique_id"] == row["unique_id"]].sort_values("ds")
        auto = fs.Autoscaler(policy, model=model, step_seconds=3600.0)
        t = g["ds"].astype("datetime64[ns]").astype("int64").to_numpy() // 10**9
        for ti, v in zip(t, g["y"]):
            auto.observe(float(ti), float(v))
        d = auto.recommend(float(t[-1] + 3600), current_replicas=current[row["unique_id"]])
        assert row["replicas"] == d.replicas and row["reason"] == d.reason
        assert row["forecast_quantile"] == d.explain()["forecast_quantile"]
        assert row["ds"] == g["ds"].iloc[-1] + pd.Timedelta(hours=1)


def per_minute(n: int, days: int = 2) -> "pd.DataFrame":
    rng = np.random.default_rng(11)
    t = np.arange(days * 1440)
    parts = []
    for i in range(n):
        rate = 30 + 10 * i + 20 * np.sin(2 * np.pi * (t / 1440 + i / n))
        y = rng.poisson(rate * 60).astype(float)
        ds = pd.date_range("2024-03-04", periods=len(y), freq="min")
        parts.append(pd.DataFrame({"unique_id": f"svc-{i}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_simulate_many_is_simulate_per_service_with_the_command_lines_policies() -> None:
    df = per_minute(3)
    out = fs.simulate_many(df, progress=False)
    assert out["policy"].tolist()[:4] == ["hpa", "predictive", "oracle", "fixed-fleet"]
    assert len(out) == 12 and out["error"].isna().all()
    for uid, g in df.groupby("unique_id"):
        s = fs.Series(g["y"].to_numpy(), start=g["ds"].iloc[0].timestamp(), step=60.0)
        cap = g["y"].max() / 60.0 / 20.0  # the command line's default: the peak needs 20
        ref = fs.simulate(s, {
            "hpa": fs.HpaPolicy(0.7 * cap, max_replicas=100),
            "predictive": fs.PredictivePolicy(cap, max_replicas=100),  # the core's defaults
        }, capacity_per_replica=cap, max_replicas=100).summary()
        rows = out[out["unique_id"] == uid].set_index("policy")
        for name, summary in ref.items():
            assert rows.loc[name, "capacity_per_replica"] == cap
            for key, value in summary.items():
                assert rows.loc[name, key] == value, (uid, name, key)


def test_simulate_many_with_own_policies_and_a_fixed_capacity() -> None:
    df = per_minute(2, days=1)
    df.loc[df["unique_id"] == "svc-1", "y"] = 0.0  # fine with a fixed capacity
    pol = {"tight": fs.HpaPolicy(40.0, max_replicas=50), "loose": fs.HpaPolicy(20.0, max_replicas=50)}
    out = fs.simulate_many(df, pol, capacity_per_replica=50.0, references=False, progress=False)
    assert out["policy"].tolist() == ["tight", "loose", "tight", "loose"]
    a = out[out["unique_id"] == "svc-0"].set_index("policy")
    assert a.loc["loose", "replica_hours"] > a.loc["tight", "replica_hours"]
    # with the capacity from the peak, a trace without load has none: its error row
    out = fs.simulate_many(df, progress=False)
    err = out[out["error"].notna()]
    assert err["unique_id"].tolist() == ["svc-1"] and err["error_type"].tolist() == ["InvalidDataError"]


def test_a_long_batch_draws_the_progress_bar_on_stderr(capsys) -> None:  # type: ignore[no-untyped-def]
    df = fleet_frame(n=3, bad=False)
    fs.forecast_many(df, model=fs.Naive(), horizon=2, progress=True)
    err = capsys.readouterr().err
    assert "forecast 100%" in err and f"{len(df):,}/{len(df):,} steps" in err


def test_importing_flaskscale_needs_neither_dask_nor_spark() -> None:
    code = ("import sys, flaskscale, flaskscale.fleet; "
            "print(any(m.split('.')[0] in ('dask', 'distributed', 'pyspark') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_batch_command_line_on_a_parquet_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pyarrow")
    from flaskscale.cli import main

    df = fleet_frame(n=4)
    path = tmp_path / "fleet.parquet"
    df.to_parquet(path)
    out = tmp_path / "fc.csv"
    assert main(["batch", str(path), "forecast", "--model", "holt_winters", "--season", "24",
                 "--horizon", "6", "--out", str(out), "--no-progress"]) == 0
    got = pd.read_csv(out)
    want = fs.forecast_many(df, model=fs.HoltWinters(24), horizon=6, levels=[0.8, 0.95],
                            progress=False)
    assert np.allclose(got["HoltWinters"], want["HoltWinters"], rtol=1e-15, equal_nan=True)
    assert "4 series" in capsys.readouterr().err
    assert main(["batch", str(path), "recommend", "--no-progress"]) == 2  # --capacity missing


def test_simulate_many_puts_the_default_policies_at_a_fixed_capacity() -> None:
    # the defaults are in units of a replica: at 50 req/s per replica the HPA targets 35
    df = per_minute(1, days=1)
    out = fs.simulate_many(df, capacity_per_replica=50.0, references=False, progress=False)
    g = df[df["unique_id"] == "svc-0"]
    s = fs.Series(g["y"].to_numpy(), start=g["ds"].iloc[0].timestamp(), step=60.0)
    ref = fs.simulate(s, {"hpa": fs.HpaPolicy(35.0, max_replicas=100),
                          "predictive": fs.PredictivePolicy(50.0, max_replicas=100)},
                      capacity_per_replica=50.0, max_replicas=100).summary()
    rows = out.set_index("policy")
    assert rows.index.tolist() == ["hpa", "predictive"]
    for name in rows.index:
        for key, value in ref[name].items():
            assert rows.loc[name, key] == value, (name, key)


def test_frontier_many_is_the_frontier_per_service() -> None:
    df = per_minute(3, days=2)
    df.loc[df["unique_id"] == "svc-1", "y"] = np.nan  # no load: its error row, mid-batch
    out = fs.frontier_many(df, sweep_policy=False, progress=False)
    cols = [c for c, _ in fs.fleet.frontier_columns()]
    assert list(out.columns) == cols and out["unique_id"].tolist() == ["svc-0", "svc-1", "svc-2"]
    err = out.set_index("unique_id").loc["svc-1"]
    assert err["error_type"] == "InvalidDataError" and np.isnan(err["r0"])
    for uid in ("svc-0", "svc-2"):
        g = df[df["unique_id"] == uid]
        s = fs.Series(g["y"].to_numpy(), start=g["ds"].iloc[0].timestamp(), step=60.0)
        cap = g["y"].max() / 60.0 / 20.0
        ref = fs.frontier(s, fs.PredictivePolicy(cap, max_replicas=100), capacity_per_replica=cap,
                          max_replicas=100, sweep_policy=False)
        row = out.set_index("unique_id").loc[uid]
        want = {"capacity_per_replica": cap, "r0": ref["r0"], "b0": ref["b0"]}
        for b, name in zip(ref["budgets"], ("90", "100", "110", "125")):
            want[f"hpa_b_{name}"] = b["hpa"][0] if b["hpa"] else np.nan
            want[f"policy_b_{name}"] = b["policy"][0] if b["policy"] else np.nan
        for v, name in zip(ref["service"], ("99_9", "99")):
            want[f"hpa_hours_{name}"] = v["hpa"][0] if v["hpa"] else np.nan
            want[f"policy_hours_{name}"] = v["policy"][0] if v["policy"] else np.nan
        assert set(want) == set(cols[1:-2])
        for key, value in want.items():
            assert bits(row[key]) == bits(value), (uid, key)
        # the budget B of the HPA is the lowest of its settings within the budget, by hand
        hpa = [p["summary"] for p in ref["points"] if p["family"] == "hpa"]
        within = [p["slo_miss_share"] for p in hpa if p["replica_hours"] <= ref["r0"]]
        assert row["hpa_b_100"] == min(within) <= row["b0"]
    # a list of Series gives the native dicts; the list and the frame agree
    g = df[df["unique_id"] == "svc-0"]
    s = fs.Series(g["y"].to_numpy(), start=g["ds"].iloc[0].timestamp(), step=60.0)
    [d] = fs.frontier_many([s], sweep_policy=False, progress=False)
    assert d["r0"] == out.set_index("unique_id").loc["svc-0", "r0"]


def test_batch_command_line_frontier(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from flaskscale.cli import main

    df = fleet_frame(n=3, bad=False)
    path = tmp_path / "fleet.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "frontier.csv"
    assert main(["batch", str(path), "frontier", "--no-sweep", "--interval", "900",
                 "--out", str(out), "--no-progress"]) == 0
    got = pd.read_csv(out)
    want = fs.frontier_many(df, sweep_policy=False, interval_seconds=900.0, progress=False)
    assert list(got.columns) == list(want.columns)
    assert np.allclose(got["r0"], want["r0"], rtol=1e-15)
    assert np.allclose(got["policy_b_100"], want["policy_b_100"], rtol=1e-15, equal_nan=True)
    assert "3 series, frontier on local" in capsys.readouterr().err

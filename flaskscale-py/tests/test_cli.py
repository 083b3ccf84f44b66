"""The command line: a forecast of a shared trace, and one-line errors with a non-zero exit."""

from __future__ import annotations

import pytest

from flaskscale.cli import main, parse_duration


def test_forecast_of_wikipedia(wikipedia_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["forecast", str(wikipedia_path), "--horizon", "1d", "--rows", "3"]) == 0
    out = capsys.readouterr().out
    assert "744 steps of 3600 s" in out
    assert "seasonal_naive" in out and "lo 95%" in out
    # the seasonal model wins the holdout on this strongly daily trace
    assert "model: seasonal_naive" in out


def test_errors_are_one_line_and_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["forecast", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flaskscale: error:") and err.count("\n") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,oops\n")
    assert main(["forecast", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_durations() -> None:
    assert parse_duration("90s") == 90.0
    assert parse_duration("2h") == 7200.0
    assert parse_duration("48", step=3600.0) == 172800.0
    with pytest.raises(Exception, match="bad duration"):
        parse_duration("soon")


def test_simulate_prints_the_table_and_writes_outputs(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    out_json, out_png = tmp_path / "r.json", tmp_path / "sim.png"
    args = ["simulate", str(shop), "--json", str(out_json)]
    try:
        import matplotlib  # noqa: F401

        args += ["--plot", str(out_png)]
    except ImportError:
        pass
    assert main(args) == 0
    out = capsys.readouterr().out
    for name in ("hpa", "predictive", "oracle", "fixed-fleet"):
        assert name in out
    import json

    report = json.loads(out_json.read_text())
    assert [p["name"] for p in report["policies"]] == ["hpa", "predictive", "oracle", "fixed-fleet"]
    if "--plot" in args:
        assert out_png.stat().st_size > 10_000


def test_sweep_marks_a_pareto_front(capsys) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from flaskscale.cli import pareto

    assert pareto([(1, 5), (2, 2), (3, 3), (4, 1)]) == [0, 1, 3]
    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    assert main(["sweep", str(shop), "--quantiles", "0.9", "0.99", "--utilizations", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "2 points" in out and out.count("*") >= 2


def _shop() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv")


def test_progress_bar_goes_to_stderr_only(capsys) -> None:  # type: ignore[no-untyped-def]
    # forced on: the bar ends at 100% of every step of every policy, on stderr alone
    assert main(["simulate", _shop(), "--progress"]) == 0
    captured = capsys.readouterr()
    steps = 14 * 1440 * 4  # two weeks of minutes, hpa + predictive + the two references
    assert f"100% [{'#' * 30}] {steps:,}/{steps:,} steps" in captured.err
    assert "\r" not in captured.out and "] " not in captured.out
    assert "violation min" in captured.out
    # silenced, and off by default when stderr is not a terminal (as under pytest)
    for flags in (["--no-progress"], []):
        assert main(["simulate", _shop(), *flags]) == 0
        assert capsys.readouterr().err == ""
    # a sweep counts its points one after another against the whole grid
    assert main(["sweep", _shop(), "--quantiles", "0.9", "0.95", "--utilizations", "0.8",
                 "--progress"]) == 0
    captured = capsys.readouterr()
    assert f"{2 * 14 * 1440:,}/{2 * 14 * 1440:,} steps" in captured.err
    assert "\r" not in captured.out and "] " not in captured.out
    with pytest.raises(SystemExit):
        main(["simulate", _shop(), "--progress", "--no-progress"])


def test_progress_counts_and_cancels_from_another_thread() -> None:
    import threading

    import numpy as np

    import flaskscale as fs
    from flaskscale.cli import run_with_progress

    s = fs.Series(np.full(200_000, 600.0), start=0.0, step=60.0)
    p = fs.Progress()
    assert (p.done, p.total, p.cancelled) == (0, 0, False)
    fs.simulate(s, {"hpa": fs.HpaPolicy(7.0)}, capacity_per_replica=10.0, progress=p)
    assert (p.done, p.total) == (200_000 * 3, 200_000 * 3)  # the hpa and the two references
    # cancelled while it runs (the GIL is released, so this thread gets to cancel it)
    p = fs.Progress()
    started = threading.Event()

    def watch() -> None:
        while p.done == 0:
            pass
        started.set()
        p.cancel()

    threading.Thread(target=watch, daemon=True).start()
    with pytest.raises(fs.FlaskscaleError, match="cancelled"):
        fs.simulate(s, {"hpa": fs.HpaPolicy(7.0)}, capacity_per_replica=10.0, progress=p)
    assert started.is_set() and p.done < p.total
    # errors of the work reach the caller's thread unchanged
    with pytest.raises(fs.InvalidParameterError):
        run_with_progress(lambda prog: fs.simulate(s, {}, capacity_per_replica=10.0, references=False,
                                                   progress=prog), "x", False)


def test_simulate_a_policy_file_with_a_schedule(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--policy FILE: an autoscaling/v2 HPA, a predictive policy and a planned schedule (a CSV
    beside the file) replayed side by side; a constant plan of the fixed fleet's size costs
    what the fixed fleet costs; a bad entry is one clear error line."""
    import json
    from pathlib import Path

    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    # two minutes of plan from the trace's start; the last count stays after the plan's end
    t0, t1 = (line.split(",")[0] for line in shop.read_text().splitlines()[1:3])
    (tmp_path / "plan.csv").write_text(f"timestamp,value\n{t0},20\n{t1},20\n")
    spec = {
        "hpa60": {"hpa": {"minReplicas": 1, "maxReplicas": 100,
                          "target": {"type": "AverageValue", "averageValue": 3}}},
        "pred": {"predictive": {"startup_seconds": 120, "quantile": 0.9}},
        "plan": {"schedule": "plan.csv"},
    }
    pfile = tmp_path / "policies.json"
    pfile.write_text(json.dumps(spec))
    out_json = tmp_path / "r.json"
    assert main(["simulate", str(shop), "--policy", str(pfile), "--json", str(out_json),
                 "--no-progress"]) == 0
    report = json.loads(out_json.read_text())
    by_name = {p["name"]: p["summary"] for p in report["policies"]}
    assert list(by_name) == ["hpa60", "pred", "plan", "oracle", "fixed-fleet"]
    fleet = by_name["fixed-fleet"]["peak_replicas"]
    assert fleet == 20  # capacity = peak / 20
    assert by_name["plan"]["replica_hours"] == pytest.approx(by_name["fixed-fleet"]["replica_hours"])
    assert by_name["plan"]["violation_minutes"] == 0.0
    capsys.readouterr()
    pfile.write_text(json.dumps({"x": {"cron": "* * * * *"}}))
    assert main(["simulate", str(shop), "--policy", str(pfile), "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "'hpa', 'predictive' or 'schedule'" in err and len(err.strip().splitlines()) == 1


def test_simulate_with_a_recent_load_floor(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--floor gives the predictive policy a floor from the recent load: its target only rises,
    so it has no more violation minutes and no fewer replica-hours than without it; a bad
    factor is a one-line error."""
    import json
    from pathlib import Path

    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    runs = {}
    for name, extra in [("plain", []), ("floor", ["--floor", "30m", "--floor-factor", "1.3"])]:
        out = tmp_path / f"{name}.json"
        assert main(["simulate", str(shop), "--json", str(out), "--no-progress", *extra]) == 0
        report = json.loads(out.read_text())
        runs[name] = {p["name"]: p["summary"] for p in report["policies"]}["predictive"]
    assert runs["floor"]["violation_minutes"] <= runs["plain"]["violation_minutes"]
    assert runs["floor"]["replica_hours"] > runs["plain"]["replica_hours"]
    capsys.readouterr()
    assert main(["simulate", str(shop), "--floor", "30m", "--floor-factor", "0", "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "recent_floor.factor" in err and len(err.strip().splitlines()) == 1

"""The command line: a forecast of a shared trace, and one-line errors with a non-zero exit."""

from __future__ import annotations

import pytest

from flaskscale.cli import main, parse_duration


def test_forecast_of_wikipedia(wikipedia_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["forecast", str(wikipedia_path), "--horizon", "1d", "--rows", "3"]) == 0
    out = capsys.readouterr().out
    assert "744 steps of 3600 s" in out
    assert "seasonal_naive" in out and "holt_winters" in out and "lo 95%" in out
    # the default is the AutoForecaster itself, which says why it chose what it chose
    assert "model: auto" in out and ("won" in out or "the mean of the top" in out)
    rows = [line.split() for line in out.splitlines() if line.startswith("2016-02-01")]
    assert len(rows) == 3
    for r in rows:  # mean and four bands, non-negative, with thousands separators
        figures = [float(v.replace(",", "")) for v in r[2:]]
        assert len(figures) == 5 and all(v >= 0 for v in figures)
        assert all("," in v for v in r[2:] if float(v.replace(",", "")) >= 1000)


def test_forecast_offers_every_model(wikipedia_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["forecast", str(wikipedia_path), "--model", "holt_winters", "--rows", "2"]) == 0
    assert "model: holt_winters" in capsys.readouterr().out
    assert main(["forecast", str(wikipedia_path), "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert "holt_winters" in err and "auto" in err


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
        # the predictive policy's reactive side given as an autoscaling/v2 config
        "pred60": {"predictive": {"startup_seconds": 120, "hpa": {
            "minReplicas": 2, "maxReplicas": 100,
            "target": {"type": "AverageValue", "averageValue": 2}}}},
        "plan": {"schedule": "plan.csv"},
    }
    pfile = tmp_path / "policies.json"
    pfile.write_text(json.dumps(spec))
    out_json = tmp_path / "r.json"
    assert main(["simulate", str(shop), "--policy", str(pfile), "--json", str(out_json),
                 "--no-progress"]) == 0
    report = json.loads(out_json.read_text())
    by_name = {p["name"]: p["summary"] for p in report["policies"]}
    assert list(by_name) == ["hpa60", "pred", "pred60", "plan", "oracle", "fixed-fleet"]
    # its HPA's minimum of 2 holds the fleet at 2 or more: more replica-hours than "pred"
    assert by_name["pred60"]["replica_hours"] > by_name["pred"]["replica_hours"]
    fleet = by_name["fixed-fleet"]["peak_replicas"]
    assert fleet == 20  # capacity = peak / 20
    assert by_name["plan"]["replica_hours"] == pytest.approx(by_name["fixed-fleet"]["replica_hours"])
    assert by_name["plan"]["violation_minutes"] == 0.0
    capsys.readouterr()
    pfile.write_text(json.dumps({"x": {"cron": "* * * * *"}}))
    assert main(["simulate", str(shop), "--policy", str(pfile), "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "'hpa', 'manifest', 'predictive' or 'schedule'" in err and len(err.strip().splitlines()) == 1


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


# Bad option values and bad files: one line on stderr naming the problem, exit code 2.


def _trace(path, values, step: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    """A timestamp,value CSV of ``values`` every ``step`` seconds from the epoch."""
    rows = "".join(f"{i * step!r},{float(v)!r}\n" for i, v in enumerate(values))
    path.write_text("timestamp,value\n" + rows)
    return str(path)


def _daily(tmp_path, n: int = 300) -> str:  # type: ignore[no-untyped-def]
    import numpy as np

    return _trace(tmp_path / "load.csv", list(500 + 100 * np.sin(np.arange(n) / 20.0)))


def _fails(capsys, argv, *words: str) -> str:  # type: ignore[no-untyped-def]
    """``main(argv)`` exits with 2 and one error line holding ``words``; returns the line."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err
    assert err.startswith("flaskscale: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize(
    "argv, words",
    [
        pytest.param(["forecast", "--horizon", "9" * 400], ["--horizon", "too large"], id="horizon-huge"),
        pytest.param(["forecast", "--rows", "-1"], ["--rows", "-1"], id="rows-negative"),
        pytest.param(["forecast", "--season", "1"], ["--season 1", "at least 2"], id="season-1"),
        pytest.param(["forecast", "--season", "1.5"], ["--season 1.5", "whole number of steps"],
                     id="season-fraction"),
        pytest.param(["forecast", "--season", "90s"], ["--season 90s", "whole number of steps"],
                     id="season-not-whole-steps"),
        pytest.param(["forecast", "--season", "0"], ["--season 0", "at least 2"], id="season-0"),
        pytest.param(["simulate", "--max-replicas", "-1"], ["--max-replicas", "-1"],
                     id="max-replicas-negative"),
        pytest.param(["simulate", "--max-replicas", "99999999999"], ["--max-replicas", "99999999999"],
                     id="max-replicas-huge"),
        pytest.param(["sweep", "--max-replicas", "-1"], ["--max-replicas"], id="sweep-max-replicas"),
        pytest.param(["simulate", "--capacity", "0"], ["--capacity", "> 0"], id="capacity-0"),
        pytest.param(["simulate", "--capacity", "-1"], ["--capacity", "> 0"], id="capacity-negative"),
        pytest.param(["simulate", "--startup", "soon"], ["--startup", "bad duration"], id="startup-bad"),
    ],
)
def test_bad_option_values_are_one_line_errors(tmp_path, capsys, argv, words) -> None:  # type: ignore[no-untyped-def]
    _fails(capsys, [argv[0], _daily(tmp_path), *argv[1:]], *words)


def test_seasons_that_remain_valid(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    csv = _daily(tmp_path, n=3000)
    for season, shown in [("1d", "season 1440 steps"), ("2", "season 2 steps"), ("none", "season none")]:
        assert main(["forecast", csv, "--horizon", "10", "--season", season, "--rows", "1"]) == 0
        assert shown in capsys.readouterr().out
    # no --season: a day, or no season when a day is no whole number of steps
    assert main(["forecast", csv, "--horizon", "1", "--resample", "7m", "--rows", "1"]) == 0
    assert "season none" in capsys.readouterr().out


def test_zero_step_of_an_access_log_is_an_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "access.log"
    log.write_text("".join(f'1.2.3.4 - - [01/Jul/1995:00:0{i}:01 -0400] "GET / HTTP/1.0" 200 6245\n'
                           for i in range(5)))
    for command in ("forecast", "simulate"):
        _fails(capsys, [command, str(log), "--step", "0"], "--step", "> 0")


def test_a_step_too_small_for_the_horizon(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("timestamp,value\n0,1\n1e-300,2\n")
    _fails(capsys, ["forecast", str(tiny)], "--horizon 1d", "too many")


def test_unsupported_picture_format_is_refused_up_front(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    csv = _daily(tmp_path)
    for command in ("forecast", "simulate"):
        out = tmp_path / f"{command}.xyz"
        _fails(capsys, [command, csv, "--plot", str(out)], "--plot", "'.xyz'", ".png")
        assert not out.exists()


@pytest.mark.parametrize(
    "content, words",
    [
        pytest.param(b"{bad json", ["not a JSON file"], id="not-json"),
        pytest.param(b"\xff\xfe{}", ["not a JSON file"], id="not-utf8"),
        pytest.param(b'{"a": {"predictive": {"bogus": 1}}}', ["'a'", "'bogus'"], id="unknown-keyword"),
        pytest.param(b'{"a": {"predictive": 5}}', ["'a'", "'predictive'"], id="predictive-number"),
        pytest.param(b'{"a": {"predictive": {"capacity_per_replica": "x"}}}',
                     ["'a'", "capacity_per_replica"], id="capacity-string"),
        pytest.param(b'{"a": {"predictive": {"max_replicas": -1}}}', ["'a'", "max_replicas"],
                     id="max-replicas-negative"),
        pytest.param(b'{"a": {"predictive": {"hpa": {"maxReplicas": 5}}}}',
                     ["'a'", "hpa config", "target"], id="predictive-hpa-without-target"),
        pytest.param(b'{"a": {"schedule": 5}}', ["'a'", "'schedule'"], id="schedule-number"),
        pytest.param(b'{"a": {"schedule": "missing.csv"}}', ["'a'", "missing.csv"],
                     id="schedule-missing"),
        pytest.param(b'{"a": {"hpa": 5}}', ["'a'", "hpa config"], id="hpa-number"),
        pytest.param(b'{"ok": {"predictive": {}}, "a": {"predictive": {"quantile": 2}}}',
                     ["'a'", "quantile"], id="quantile-out-of-range"),
        # the hardening matrix: each of these was a traceback or a silent 1 replica
        pytest.param(b'{"a": {"hpa": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
                     ["not a JSON file", "nested"], id="nested-5000-deep"),
        pytest.param(b'{"a": {"hpa": {"maxReplicas": ' + b"9" * 5000 + b"}}}",
                     ["not a JSON file", "digits"], id="max-replicas-5000-digits"),
        pytest.param(b'{"a": {"predictive": {"max_replicas": true}}}',
                     ["'a'", "max_replicas", "whole number, got True"], id="max-replicas-true"),
        pytest.param(b'{"a": {"hpa": {"maxReplicas": true, "target": {"type": "AverageValue", '
                     b'"averageValue": 3}}}}', ["'a'", "hpa config", "boolean"],
                     id="hpa-max-replicas-true"),
    ],
)
def test_policy_file_faults_name_the_file_and_entry(tmp_path, capsys, content, words) -> None:  # type: ignore[no-untyped-def]
    pfile = tmp_path / "policies.json"
    pfile.write_bytes(content)
    _fails(capsys, ["simulate", _daily(tmp_path), "--policy", str(pfile), "--no-progress"],
           "policies.json", *words)


def test_figures_the_core_cannot_give_print_as_a_dash(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Loads near the largest float overflow some sums: the report has None for them."""
    csv = _trace(tmp_path / "huge.csv", [1e308, 1e308])
    assert main(["simulate", csv, "--no-progress"]) == 0
    table = capsys.readouterr().out.split("peak\n", 1)[1]
    assert " - " in table and "None" not in table
    assert main(["sweep", csv, "--quantiles", "0.9", "--utilizations", "0.8", "0.7"]) == 0
    out = capsys.readouterr().out
    assert " - " in out and "None" not in out and "*" in out


@pytest.mark.parametrize(
    "values, argv, reason",
    [
        # a day of season is longer than the 940 training points
        pytest.param(list(range(1000)), ["--horizon", "1h"], "need 1441 points", id="short-trace"),
        pytest.param([5.0] * 300, ["--horizon", "10", "--season", "none"], "the MASE scale is 0",
                     id="constant-trace"),
    ],
)
def test_forecast_is_printed_when_the_holdout_has_no_mase(tmp_path, capsys, values, argv, reason) -> None:  # type: ignore[no-untyped-def]
    assert main(["forecast", _trace(tmp_path / "t.csv", values), *argv, "--rows", "3"]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("MASE not scored:")]
    assert len(notes) == 1 and reason in notes[0]
    assert "naive                  -" in out  # the other scores stay
    assert "model: " in out and "lo 95%" in out
    assert len(out.split("hi 95%\n", 1)[1].splitlines()) == 3


def test_python_dash_m_runs_the_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "flaskscale", "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("usage: flaskscale")
    run = subprocess.run([sys.executable, "-m", "flaskscale", "simulate", _daily(tmp_path),
                          "--max-replicas", "-1"], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("flaskscale: error: --max-replicas") and run.stderr.count("\n") == 1

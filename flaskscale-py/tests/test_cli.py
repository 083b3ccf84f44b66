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

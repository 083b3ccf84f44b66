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

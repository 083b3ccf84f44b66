"""Results people can read and use: SimReport.to_pandas and SimReport.plot (the figure's
elements checked in the matplotlib objects), and the simulate command's output: the table with
long policy names, a closed pipe, and warnings without Python source lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flaskscale as fs
from flaskscale.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    s = fs.Series.from_csv(str(SHOP))
    cap = float(np.nanmax(s.values)) / s.step / 20.0
    pols = {"hpa": fs.HpaPolicy(0.7 * cap),
            "predictive": fs.PredictivePolicy(cap, startup_seconds=120)}
    return fs.simulate(s, pols, capacity_per_replica=cap), s


def test_summary_frame_matches_the_summary(report) -> None:  # type: ignore[no-untyped-def]
    r, _ = report
    df = r.to_pandas()
    assert list(df.index) == r.names and df.index.name == "policy"
    summary = r.summary()
    for name in r.names:
        for key, value in summary[name].items():
            want = np.nan if value is None else float(value)
            np.testing.assert_equal(df.loc[name, key], want)


def test_timeline_frame_has_a_utc_datetime_index(report) -> None:  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    r, s = report
    tl = r.timeline("hpa")
    df = r.to_pandas("hpa")
    assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert len(df) == len(s) and df.index.name == "time"
    assert df.index[0] == pd.Timestamp(s.start, unit="s", tz="UTC")
    assert (df.index[1] - df.index[0]).total_seconds() == s.step
    np.testing.assert_array_equal(df["capacity"].to_numpy(), tl["capacity"])
    assert set(df.columns) == {"demand", "forecast", "target", "capacity", "queue", "dropped"}
    with pytest.raises(fs.InvalidParameterError, match='no policy "nope"'):
        r.to_pandas("nope")


def test_plot_elements(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    r, s = report
    out = tmp_path / "sim.png"
    fig = r.plot(out, title="shop")
    assert out.stat().st_size > 20_000
    ax, strip, zoom = fig.axes
    # the overview: starts at 0 (nothing drawn below the axis), legend with the violation mark
    assert ax.get_ylim()[0] == 0.0
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "SLO-violation step (strip)" in labels
    # each policy's headline figure, the share of requests that missed the SLO, in its entry
    share = r.summary()["hpa"]["slo_miss_share"]
    assert f"hpa capacity ({100 * share:.2f}% missed the SLO)" in labels
    assert "30 min means" in ax.get_title()
    # no line chatters into a block: at most 720 points drawn per line in each panel
    for a in (ax, zoom):
        for line in a.get_lines():
            assert len(line.get_xdata()) <= 721
    # the violation strip: one named row per policy, ticks at the violating steps
    assert [t.get_text() for t in strip.get_yticklabels()] == r.names
    hpa_ticks = [ln for ln in strip.get_lines() if set(ln.get_ydata()) == {0}]
    tl = r.timeline("hpa")
    from flaskscale._report import violations

    assert len(hpa_ticks) == 1 and len(hpa_ticks[0].get_xdata()) == int(violations(tl).sum()) > 0
    # the zoom: a legend, a title saying what and when, labelled x ticks
    assert zoom.get_legend() is not None
    title = zoom.get_title()
    assert title.startswith("zoom: 2024-") and "UTC" in title and "most SLO-violation steps" in title
    fig.canvas.draw()
    assert any(t.get_text() for t in zoom.get_xticklabels())
    assert zoom.get_ylim()[0] == 0.0


def test_table_stays_aligned_with_long_policy_names(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = {"a-policy-with-a-long-name": {"hpa": {"maxReplicas": 100,
            "target": {"type": "AverageValue", "averageValue": 3}}},
            "p": {"predictive": {"startup_seconds": 120}}}
    pfile = tmp_path / "p.json"
    pfile.write_text(json.dumps(spec))
    assert main(["simulate", str(SHOP), "--policy", str(pfile), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("policy"))
    table = lines[head : head + 5]
    assert len({len(ln) for ln in table}) == 1, table  # every row as wide as the header
    col = table[0].index("violation min") + len("violation min")
    for ln in table[1:]:
        assert ln[col - 1] != " " and (len(ln) == col or ln[col] == " ")


def test_piping_into_head_ends_quietly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cmd = f"{sys.executable} -m flaskscale simulate {SHOP} --no-progress | head -n 1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert r.stdout.count("\n") == 1
    assert r.stderr == "" and r.returncode == 0


def test_access_log_warning_is_one_line_without_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "access.log"
    good = '127.0.0.1 - - [10/Oct/2024:13:{m:02d}:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x"\n'
    log.write_text("".join(good.format(m=m % 60) for m in range(0, 180, 1)) + "garbage line\n")
    r = subprocess.run([sys.executable, "-m", "flaskscale", "forecast", str(log), "--horizon",
                        "10", "--rows", "1"], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    warn = [ln for ln in r.stderr.splitlines() if ln]
    assert len(warn) == 1 and warn[0].startswith("flaskscale: warning:"), r.stderr
    assert "skipped 1 malformed line" in warn[0] and ".py" not in r.stderr


def test_skipped_rows_hint_names_an_accepted_value(tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "gap.csv"
    csv.write_text("timestamp,value\n1700000000,1\n1700000060,2\n1700000240,3\n")
    with pytest.raises(fs.ParseError) as e:
        fs.Series.from_csv(str(csv))
    hint = str(e.value).split("pass skipped_rows=")[1].split(" ")[0].strip('"')
    s = fs.Series.from_csv(str(csv), skipped_rows=hint)
    assert len(s) == 5 and s.missing == 2

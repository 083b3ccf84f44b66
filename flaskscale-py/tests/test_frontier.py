"""The request-SLO measure, the tuned-HPA frontier (Python and the command line) and the
defaults: one set of them, defined in the core, decides the same on every surface."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import flaskscale as fs
from flaskscale.cli import main

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"


@pytest.fixture(scope="module")
def shop_days() -> fs.Series:
    """The first four days of the bundled shop trace (no flash sale): quick to replay."""
    s = fs.Series.from_csv(str(SHOP))
    return fs.Series(s.values[: 4 * 1440], start=s.start, step=s.step)


def test_slo_miss_share_of_a_hand_worked_overload() -> None:
    # one replica of 10 req/s, no start-up delay, no time-out: a minute at 15 req/s queues
    # 5 req/s; a request arriving at t waits 5t / 10 s, over the 1 s SLO after t = 2 s, so
    # 15 × 58 = 870 of the 900 are late; the queue of 300 then drains at 10 - 0 per second
    # (the next minute is empty): nothing more arrives to be late
    trace = fs.Series(np.array([900.0, 0.0]), start=0.0, step=60.0)
    rep = fs.simulate(trace, {"fixed": fs.Series(np.array([1.0, 1.0]), start=0.0, step=60.0)},
                      capacity_per_replica=10.0, startup_seconds=0.0,
                      queue_timeout_seconds=None, references=False)
    s = rep.summary()["fixed"]
    assert s["slo_missed"] == pytest.approx(870.0)
    assert s["slo_miss_share"] == pytest.approx(870.0 / 900.0)


def test_frontier_hpa_points_reproduce_single_simulations(shop_days) -> None:  # type: ignore[no-untyped-def]
    cap = float(np.nanmax(shop_days.values)) / 60.0 / 20.0
    rep = fs.frontier(shop_days, capacity_per_replica=cap, max_replicas=1000)
    assert set(rep) >= {"r0", "b0", "points", "budgets", "service"}
    hpa = [p for p in rep["points"] if p["family"] == "hpa"]
    assert len(hpa) == 40 and {p["window_seconds"] for p in hpa} == {0, 60, 300, 900}
    for target, window in [(0.7, 300), (0.85, 60)]:
        point = next(p for p in hpa if p["window_seconds"] == window
                     and abs(p["target"] - target) < 1e-12)
        single = fs.simulate(
            shop_days,
            {"h": fs.HpaPolicy(target * cap, max_replicas=1000,
                               downscale_stabilization_seconds=window)},
            capacity_per_replica=cap, max_replicas=1000, references=False,
        ).summary()["h"]
        assert point["summary"] == single
    assert rep["r0"] == next(p for p in hpa if p["window_seconds"] == 300
                             and abs(p["target"] - 0.7) < 1e-12)["summary"]["replica_hours"]
    for row in rep["budgets"]:
        share, i = row["hpa"]
        limit = row["budget"] * rep["r0"]
        assert rep["points"][i]["summary"]["replica_hours"] <= limit
        assert all(p["summary"]["slo_miss_share"] >= share for p in hpa
                   if p["summary"]["replica_hours"] <= limit)


def test_frontier_command_prints_both_families_and_draws_them(tmp_path, capsys, shop_days) -> None:  # type: ignore[no-untyped-def]
    trace = tmp_path / "shop4d.csv"
    trace.write_text(shop_days.to_csv())
    out_json, out_png = tmp_path / "f.json", tmp_path / "f.png"
    assert main(["frontier", str(trace), "--no-progress", "--json", str(out_json),
                 "--plot", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "tuned HPA B" in out and "policy B" in out and "R0 =" in out
    for budget in ("0.90x", "1.00x", "1.10x", "1.25x"):
        assert budget in out
    rep = json.loads(out_json.read_text())
    assert len(rep["points"]) > 40
    assert out_png.stat().st_size > 10_000


def test_frontier_policy_file_needs_one_predictive_entry(tmp_path, capsys, shop_days) -> None:  # type: ignore[no-untyped-def]
    trace = tmp_path / "shop4d.csv"
    trace.write_text(shop_days.to_csv())
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps({"a": {"hpa": {"maxReplicas": 10, "target": {
        "type": "AverageValue", "averageValue": 5}}}}))
    assert main(["frontier", str(trace), "--policy", str(spec)]) == 2
    assert "exactly one 'predictive' entry" in capsys.readouterr().err


def test_defaults_come_from_the_core() -> None:
    cfg = fs.PredictivePolicy(50.0).config()
    assert cfg["quantile"] == fs.DEFAULT_QUANTILE
    assert cfg["startup_seconds"] == fs.DEFAULT_STARTUP_SECONDS
    assert cfg["interval_seconds"] == fs.DEFAULT_INTERVAL_SECONDS
    assert cfg["sizing"] == "count"
    # the command line's predictive policy is the same object of the same defaults
    from flaskscale.cli import build_parser, _policies

    args = build_parser().parse_args(["simulate", str(SHOP)])
    pol = _policies(args, 50.0, fs.DEFAULT_STARTUP_SECONDS, fs.DEFAULT_INTERVAL_SECONDS,
                    args.quantile, args.target_utilization)["predictive"]
    mine = fs.PredictivePolicy(50.0, max_replicas=args.max_replicas).config()
    assert pol.config() == mine


def _python_decisions(series: fs.Series, capacity: float, season: int, steps: int) -> list:
    auto = fs.Autoscaler(fs.PredictivePolicy(capacity), model=fs.SeasonalNaive(season),
                         step_seconds=series.step, refit_every=60)
    out, current = [], 1
    for i, v in enumerate(series.values[:steps]):
        t = series.start + series.step * i
        auto.observe(t, float(v))
        d = auto.recommend(now=t + series.step, current_replicas=current)
        current = d.replicas
        out.append({"step": i, "replicas": d.replicas, "reason": d.reason})
    return out


def test_rust_and_python_decide_identically_with_the_defaults() -> None:
    exe = REPO / "target" / "release" / "examples" / "decisions"
    if not exe.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{exe} is not built: .ci/run builds the examples before pytest")
        pytest.skip("the Rust example 'decisions' is not built")
    s = fs.Series.from_csv(str(SHOP))
    cap = float(np.nanmax(s.values)) / 60.0 / 20.0
    steps = 5000
    rust = subprocess.run([str(exe), str(SHOP), repr(cap), "1440", str(steps)], check=True,
                          capture_output=True, text=True).stdout.splitlines()
    rust = [json.loads(line) for line in rust]
    python = _python_decisions(s, cap, 1440, steps)
    assert rust == python
    # and the decisions are not all the same: the count sizing took over from the warm-up
    reasons = {d["reason"] for d in python}
    assert "WarmUp" in reasons and len(reasons) > 2


def _heldout():
    """The generators of ``benches/heldout_frontier.py`` (traffic nothing was tuned on)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("heldout", REPO / "benches" / "heldout_frontier.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_defaults_are_no_worse_than_the_tuned_hpa_at_their_cost_on_event_traffic() -> None:
    # three weeks of an event site: the level growing 40x, match-day surges to 5-20x,
    # negative binomial noise that grows with the load. The defaults, replayed once, miss no
    # larger a share of requests than the best HPA setting that costs no more (0.32% at
    # 0.994 x R0 against 0.93%); with the count scale taken as the Poisson one, sqrt(m),
    # they miss more
    s = _heldout().event(2, days=21)
    cap = float(np.nanmax(s.values)) / s.step / fs.DEFAULT_PEAK_REPLICAS
    r = fs.frontier(s, capacity_per_replica=cap, max_replicas=1000, sweep_policy=False)
    (d,) = [p["summary"] for p in r["points"] if p["family"] != "hpa"]
    within = [p["summary"]["slo_miss_share"] for p in r["points"]
              if p["family"] == "hpa" and p["summary"]["replica_hours"] <= d["replica_hours"]]
    assert within, "no HPA setting as cheap as the defaults"
    assert d["slo_miss_share"] <= min(within), (d, min(within))
    poisson = fs.PredictivePolicy(cap, max_replicas=1000, count={"dispersion": False})
    r = fs.frontier(s, poisson, capacity_per_replica=cap, max_replicas=1000, sweep_policy=False)
    (p,) = [p["summary"] for p in r["points"] if p["family"] != "hpa"]
    assert p["slo_miss_share"] > d["slo_miss_share"]


def test_a_lost_calibration_is_not_scored_on_a_whole_surge() -> None:
    # on the same event traffic, scoring the model on every minute of a match-day surge it
    # could not foresee (the rule before, `score_lost_runs`) keeps it out of the decision
    # long after: the defaults miss 0.32% at 0.994 x R0 against 0.63% at 1.007. The bounded
    # memory of losses (`switch_steps`) is an option read and checked in the core.
    s = _heldout().event(2, days=21)
    cap = float(np.nanmax(s.values)) / s.step / fs.DEFAULT_PEAK_REPLICAS
    out = []
    for count in (None, {"score_lost_runs": True}, {"switch_steps": 45}):
        pol = fs.PredictivePolicy(cap, max_replicas=1000, count=count)
        r = fs.frontier(s, pol, capacity_per_replica=cap, max_replicas=1000, sweep_policy=False)
        (d,) = [p["summary"] for p in r["points"] if p["family"] != "hpa"]
        out.append(d)
    assert out[0]["slo_miss_share"] < 0.6 * out[1]["slo_miss_share"], out
    assert out[0]["replica_hours"] <= out[1]["replica_hours"], out
    assert out[2]["slo_miss_share"] < 0.6 * out[1]["slo_miss_share"], out
    with pytest.raises(fs.InvalidParameterError, match="count.switch_steps"):
        fs.PredictivePolicy(cap, count={"switch_steps": 2_000_000})


def test_the_day_phase_predictor_is_named_to_decide_and_checked_in_the_core() -> None:
    # not among the default predictors; named, it decides with the others (its behaviour is
    # tested in the core, on bursts at the same times of day)
    default = fs.PredictivePolicy(10.0).config()["count"]
    assert "day_phase" not in default["predictors"]
    assert (default["day_phase_seconds"], default["day_phase_steps"],
            default["day_phase_min_samples"], default["day_phase_prior"]) == (86400.0, 20160, 21, 63.0)
    named = fs.PredictivePolicy(10.0, count={"predictors": default["predictors"] + ["day_phase"]})
    assert named.config()["count"]["predictors"][-1] == "day_phase"
    with pytest.raises(fs.InvalidParameterError, match="count.day_phase_prior"):
        fs.PredictivePolicy(10.0, count={"day_phase_prior": -1.0})
    with pytest.raises(fs.FlaskscaleError, match="day_phase"):
        fs.PredictivePolicy(10.0, count={"predictors": ["day_phse"]})

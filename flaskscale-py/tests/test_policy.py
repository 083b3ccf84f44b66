"""HpaPolicy, PredictivePolicy, Autoscaler and simulate through Python: hand-worked decisions,
state round trips, typed errors, and a replay of a shared trace."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import flaskscale as fs


def test_hpa_doubles_at_ratio_two_and_explains() -> None:
    hpa = fs.HpaPolicy(50.0, min_replicas=1, max_replicas=100)
    d = hpa.recommend(now=0.0, current_replicas=4, load=400.0)
    assert d.replicas == 8 and d.mode == "hpa"
    e = d.explain()
    assert e["usage_ratio"] == pytest.approx(2.0) and e["reactive"] == 8
    # the load falls: the legacy 300 s window keeps 8
    d = hpa.recommend(now=60.0, current_replicas=8, load=100.0)
    assert (d.replicas, d.reason) == (8, "ScaleDownStabilized")
    assert "Decision(replicas=8" in repr(d)


def test_hpa_from_manifest_behavior() -> None:
    cfg = {
        "minReplicas": 1,
        "maxReplicas": 100,
        "target": {"type": "AverageValue", "averageValue": 10},
        "behavior": {
            "scaleDown": {
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 60},
                    {"type": "Percent", "value": 10, "periodSeconds": 60},
                ],
            }
        },
    }
    hpa = fs.HpaPolicy.from_config(cfg)
    # the Kubernetes docs' example: 80 replicas, 10% per minute: 72, then 64
    assert hpa.recommend(now=0, current_replicas=80, load=100).replicas == 72
    assert hpa.recommend(now=60, current_replicas=72, load=100).replicas == 64
    same = fs.HpaPolicy.from_config(json.dumps(cfg))
    assert same.config()["behavior"]["scaleDown"]["policies"][1]["value"] == 10
    with pytest.raises(fs.ParseError, match="maxReplica"):
        fs.HpaPolicy.from_config({"maxReplica": 3, "target": {"type": "Value", "value": 1}})
    kw = dict(behavior={"scaleUp": {"selectPolicy": "Min"}})
    assert fs.HpaPolicy(10.0, **kw).config()["behavior"]["scaleUp"]["selectPolicy"] == "Min"


@pytest.mark.parametrize(
    "call",
    [
        lambda: fs.HpaPolicy(-1.0),
        lambda: fs.HpaPolicy(10.0, min_replicas=5, max_replicas=2),
        lambda: fs.HpaPolicy(10.0, downscale_stabilization_seconds=4000),
        lambda: fs.PredictivePolicy(0.0),
        lambda: fs.PredictivePolicy(10.0, quantile=1.5),
        lambda: fs.PredictivePolicy(10.0, mode="yolo"),
        lambda: fs.PredictivePolicy(10.0, combination="sum"),
        lambda: fs.PredictivePolicy(10.0, startup_seconds=1e300),
    ],
)
def test_impossible_settings_raise(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(fs.InvalidParameterError):
        call()


def test_replica_limits_come_from_one_place() -> None:
    # the hpa policy's limits are the predictive policy's when none are given here
    p = fs.PredictivePolicy(1.0, hpa=fs.HpaPolicy(1.0, min_replicas=3, max_replicas=500))
    assert (p.config()["hpa"]["minReplicas"], p.config()["hpa"]["maxReplicas"]) == (3, 500)
    # the same limits given both ways agree; without an hpa policy they are taken as given
    fs.PredictivePolicy(1.0, max_replicas=500, hpa=fs.HpaPolicy(1.0, max_replicas=500))
    p = fs.PredictivePolicy(1.0, min_replicas=2, max_replicas=7)
    assert (p.config()["hpa"]["minReplicas"], p.config()["hpa"]["maxReplicas"]) == (2, 7)
    # a limit that disagrees with the hpa policy's was silently dropped before: now an error
    with pytest.raises(fs.InvalidParameterError, match="max_replicas=500 disagrees"):
        fs.PredictivePolicy(1.0, max_replicas=500, hpa=fs.HpaPolicy(1.0))
    with pytest.raises(fs.InvalidParameterError, match="min_replicas=3 disagrees"):
        fs.PredictivePolicy(1.0, min_replicas=3, hpa=fs.HpaPolicy(1.0))
    # the limit reaches the decision: 18000 req/s at 1 per replica is capped at 500 (was 100)
    p = fs.PredictivePolicy(1.0, hpa=fs.HpaPolicy(1.0, max_replicas=500))
    a = fs.Autoscaler(p, model=fs.Naive(), step_seconds=60)
    for i in range(10):
        a.observe(i * 60.0, 18000.0 * 60)
    assert a.recommend(600.0, current_replicas=400).replicas == 500


def test_hpa_bad_input() -> None:
    hpa = fs.HpaPolicy(10.0)
    hpa.recommend(now=100.0, current_replicas=2, load=10.0)
    with pytest.raises(fs.InvalidDataError, match="backwards"):
        hpa.recommend(now=50.0, current_replicas=2, load=10.0)
    with pytest.raises(fs.InvalidDataError):
        hpa.recommend(now=101.0, current_replicas=2, load=-3.0)
    d = hpa.recommend(now=102.0, current_replicas=2, load=math.nan)
    assert (d.replicas, d.reason) == (2, "MissingMetric")


def daily(t: np.ndarray) -> np.ndarray:
    return 3000 + 2500 * np.sin(2 * np.pi * t / 1440)


def test_autoscaler_warms_up_then_forecasts_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = fs.PredictivePolicy(20.0, startup_seconds=120, interval_seconds=60, max_replicas=50)
    auto = fs.Autoscaler(policy, model=fs.SeasonalNaive(1440), step_seconds=60)
    t0 = 1_700_000_040.0
    load = daily(np.arange(3000))
    current = 5
    reasons = set()
    for i in range(3000):
        auto.observe(t0 + 60 * i, float(load[i]))
        if i % 30 == 29:
            d = auto.recommend(t0 + 60 * (i + 1), current_replicas=current)
            assert 1 <= d.replicas <= 50
            current = d.replicas
            reasons.add(d.reason)
    assert "WarmUp" in reasons
    assert auto.stage == "full" and auto.model_name == "seasonal_naive"
    assert len(auto.history) == 3000
    path = tmp_path / "state.json"
    auto.save(path)
    back = fs.Autoscaler.load(path)
    for i in range(3000, 3100):
        for a in (auto, back):
            a.observe(t0 + 60 * i, float(daily(np.array([i]))[0]))
        da = auto.recommend(t0 + 60 * (i + 1), current_replicas=current)
        db = back.recommend(t0 + 60 * (i + 1), current_replicas=current)
        assert (da.replicas, da.reason) == (db.replicas, db.reason)
        assert da.explain() == db.explain()
        current = da.replicas
    path.write_text(path.read_text()[:100])
    with pytest.raises(fs.ParseError):
        fs.Autoscaler.load(path)
    with pytest.raises(fs.FlaskscaleIOError):
        fs.Autoscaler.load(tmp_path / "missing.json")
    with pytest.raises(fs.InvalidDataError, match="backwards"):
        auto.observe(t0, 1.0)


def test_simulate_shop_trace_with_references() -> None:
    from pathlib import Path

    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    s = fs.Series.from_csv(shop)
    cap = s.stats()["max"] / 60 / 20
    report = fs.simulate(
        s,
        {"hpa": fs.HpaPolicy(0.7 * cap, max_replicas=100),
         "predictive": fs.PredictivePolicy(cap, startup_seconds=120, max_replicas=100)},
        capacity_per_replica=cap,
        startup_seconds=120,
    )
    assert report.names == ["hpa", "predictive", "oracle", "fixed-fleet"]
    summ = report.summary()
    for name, v in summ.items():
        # conservation: every request is served, dropped or still waiting
        assert v["served"] + v["dropped"] + v["queued_at_end"] == pytest.approx(v["arrived"], rel=1e-9), name
    assert summ["oracle"]["violation_minutes"] == 0.0
    assert summ["fixed-fleet"]["violation_minutes"] == 0.0
    assert summ["oracle"]["replica_hours"] < summ["hpa"]["replica_hours"] < summ["fixed-fleet"]["replica_hours"]
    tl = report.timeline("predictive")
    assert set(tl) >= {"time", "demand", "forecast", "target", "capacity"}
    assert len(tl["time"]) == len(s) and np.isfinite(tl["forecast"]).sum() > len(s) // 2
    with pytest.raises(fs.InvalidParameterError, match="no policy"):
        report.timeline("nope")
    with pytest.raises(fs.InvalidParameterError):
        fs.simulate(s, {"x": 42}, capacity_per_replica=cap)  # type: ignore[dict-item]
    with pytest.raises(fs.InvalidParameterError, match="capacity"):
        fs.simulate(s, {}, capacity_per_replica=-1.0)


def test_simulate_replays_a_planned_schedule() -> None:
    """A Series of replica counts is a plan replayed as is: the fixed fleet's count as a plan
    gives the fixed fleet's report; the oracle's per-minute peaks, looked up by hand, give no
    violation minutes; a plan that is not whole counts is refused with its step."""
    from pathlib import Path

    shop = Path(__file__).resolve().parents[2] / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
    s = fs.Series.from_csv(shop)
    cap = s.stats()["max"] / 60 / 20
    fleet = math.ceil(s.stats()["max"] / 60 / cap)
    flat = fs.Series(np.array([float(fleet)]), start=s.start, step=60.0)
    summ = fs.simulate(s, {"flat": flat}, capacity_per_replica=cap).summary()
    assert summ["flat"] == summ["fixed-fleet"]
    # a plan step of 15 s = the sync interval: replicas for the peak rate over the next
    # startup + interval, as the oracle asks for
    rate = np.nan_to_num(np.asarray(s.values) / 60.0)  # the oracle skips missing steps
    ticks = len(s) * 4
    plan = np.empty(ticks)
    for k in range(ticks):
        lo, hi = (k * 15) // 60, math.ceil((k * 15 + 135) / 60)
        plan[k] = math.ceil(rate[lo:hi].max(initial=0.0) / cap)
    report = fs.simulate(
        s, {"plan": fs.Series(plan, start=s.start, step=15.0)}, capacity_per_replica=cap
    )
    summ = report.summary()
    assert summ["plan"]["violation_minutes"] == 0.0
    assert summ["plan"]["replica_hours"] == pytest.approx(summ["oracle"]["replica_hours"], rel=1e-12)
    bad = fs.Series(np.array([1.0, 2.5]), start=s.start, step=60.0)
    with pytest.raises(fs.InvalidDataError, match="step 1"):
        fs.simulate(s, {"bad": bad}, capacity_per_replica=cap)


def test_recent_load_floor_through_the_autoscaler() -> None:
    """A 3-minute window at its peak with factor 1.5, worked by hand: after 100, 900, 300, 200
    requests per minute the window holds 900, 300, 200 -> 15 req/s x 1.5 = 22.5 -> 3 replicas
    of 10 req/s. Four minutes are too few for any model, so the reason is the warm-up; the
    explanation shows the floor that set the count."""
    policy = fs.PredictivePolicy(10.0, max_replicas=100, floor_window_seconds=180.0,
                                 floor_quantile=1.0, floor_factor=1.5)
    assert policy.config()["recent_floor"] == {"window_seconds": 180.0, "quantile": 1.0,
                                               "factor": 1.5}
    auto = fs.Autoscaler(policy, model=fs.SeasonalNaive(1440), step_seconds=60.0)
    for i, v in enumerate([100.0, 900.0, 300.0, 200.0]):
        auto.observe(60.0 * i, v)
    d = auto.recommend(240.0, current_replicas=1)
    e = d.explain()
    assert (d.replicas, d.reason) == (3, "WarmUp")
    assert e["recent_load"] == pytest.approx(15.0) and e["floor"] == 3
    assert "recent_floor" not in fs.PredictivePolicy(10.0).config()
    with pytest.raises(fs.InvalidParameterError, match="recent_floor.quantile"):
        fs.PredictivePolicy(10.0, floor_window_seconds=60.0, floor_quantile=0.0)


def test_unset_settings_take_the_cores_defaults() -> None:
    """The bindings pass None through and the core fills in its defaults: the values a
    policy or autoscaler built without them holds are the core's constants and defaults."""
    p = fs.PredictivePolicy(10.0, floor_window_seconds=1800)
    floor = p.config()["recent_floor"]
    assert (floor["factor"], floor["quantile"]) == (fs.DEFAULT_FLOOR_FACTOR, fs.DEFAULT_FLOOR_QUANTILE)
    assert p.config()["hpa"]["maxReplicas"] == fs.DEFAULT_MAX_REPLICAS
    h = fs.HpaPolicy(10.0).config()
    assert (h["minReplicas"], h["maxReplicas"]) == (1, fs.DEFAULT_MAX_REPLICAS)
    # the autoscaler's saved settings hold the core's refit schedule and history bound
    saved = json.loads(fs.Autoscaler(p).to_json())["autoscaler"]["config"]
    want = json.loads(fs.Autoscaler(p, refit_every=60, max_history=20160,
                                    clean_outliers=True).to_json())["autoscaler"]["config"]
    assert saved == want

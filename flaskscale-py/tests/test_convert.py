"""The boundary's conversions (``src/convert.rs``) and the bad inputs of the hardening matrix
that reach the core through them: each is a typed ``FlaskscaleError`` subclass, never an
abort, an untyped exception or a silent acceptance."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flaskscale as fs
from flaskscale import _flaskscale


def test_exception_classes_live_in_the_native_module() -> None:
    for name in ("InvalidParameterError", "InvalidDataError", "NotEnoughDataError",
                 "ParseError", "FitError", "FlaskscaleIOError"):
        cls = getattr(fs, name)
        assert cls is getattr(_flaskscale, name)
        assert issubclass(cls, fs.FlaskscaleError)
        assert cls.__module__ == "flaskscale.exceptions"
    assert issubclass(fs.InvalidParameterError, ValueError)
    assert issubclass(fs.FitError, RuntimeError)
    assert issubclass(fs.FlaskscaleIOError, OSError)
    assert issubclass(fs.ConfigError, fs.InvalidParameterError)
    with pytest.raises(fs.ParseError) as e:
        fs.Series.from_csv_text("timestamp,value\n2016-01-01T00:00:00Z,1\nnope,2\n")
    assert e.value.line == 3
    with pytest.raises(fs.NotEnoughDataError) as n:
        fs.SeasonalNaive(24).fit(np.ones(10))
    assert n.value.needed > n.value.got == 10


def test_many_levels_are_refused_not_an_abort() -> None:
    """2,000 levels over a million steps asked for 32 GB and aborted the process."""
    fitted = fs.Naive().fit(np.array([1.0, 2.0, 3.0]))
    levels = [i / 2001 for i in range(1, 2001)]
    with pytest.raises(fs.InvalidParameterError, match="at most 100 interval levels"):
        fitted.predict(10**6, levels=levels)
    with pytest.raises(fs.InvalidParameterError, match="numbers"):
        fitted.predict(10**6, levels=levels[:60])
    assert len(fitted.predict(100, levels=levels[:60]).levels) == 60


@pytest.mark.parametrize("make", [lambda: fs.SeasonalNaive(2**64),
                                  lambda: fs.HoltWinters(2**64),
                                  lambda: fs.SeasonalNaive(-3)])
def test_huge_season_lengths_are_invalid_parameters(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(fs.InvalidParameterError, match="whole number"):
        make()


def test_true_is_not_a_count() -> None:
    with pytest.raises(fs.InvalidParameterError, match="whole number, got True"):
        fs.PredictivePolicy(50.0, max_replicas=True)
    with pytest.raises(fs.InvalidParameterError, match="whole number, got False"):
        fs.HpaPolicy(50.0, min_replicas=False)
    cfg = {"maxReplicas": True, "target": {"type": "AverageValue", "averageValue": 5}}
    with pytest.raises(fs.ParseError, match="boolean"):
        fs.HpaPolicy.from_config(cfg)


def test_deep_and_huge_configs_are_parse_errors() -> None:
    deep: object = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(fs.ParseError, match="nested deeper than 128"):
        fs.HpaPolicy.from_config({"behavior": deep})
    huge = {"maxReplicas": 10**5000, "target": {"type": "AverageValue", "averageValue": 5}}
    with pytest.raises(fs.ParseError, match=r"\$\.maxReplicas: an integer of 16610 bits"):
        fs.HpaPolicy.from_config(huge)
    with pytest.raises(fs.ParseError):
        fs.HpaPolicy.from_config("[" * 5000 + "]" * 5000)
    ok = fs.HpaPolicy.from_config({"maxReplicas": 20, "minReplicas": 2,
                                   "target": {"type": "AverageValue", "averageValue": 5.0}})
    assert ok.config()["maxReplicas"] == 20


def test_complex_values_are_refused_not_their_real_part() -> None:
    with pytest.raises(fs.InvalidDataError, match="complex"):
        fs.Series(np.array([1 + 2j, 3 + 0j]))
    with pytest.raises(fs.InvalidDataError, match="complex"):
        fs.Naive().fit(np.array([1.0, 2.0, 3.0], dtype=np.complex128))
    with pytest.raises(fs.InvalidDataError):
        fs.Naive().fit([1 + 2j, 3.0, 4.0])


def test_masked_values_are_missing() -> None:
    """The masked 1e6 was used as a value; masked means missing (NaN)."""
    y = np.ma.masked_array([10.0, 20.0, 1e6, 40.0], mask=[0, 0, 1, 0])
    s = fs.Series(y)
    assert np.isnan(s.values[2]) and s.values[3] == 40.0
    # the gap is interpolated before fitting: 20, 30, 40 — the last value and the drift
    fc = fs.Drift().fit(y).predict(1)
    assert fc.mean[0] == pytest.approx(50.0)
    assert fs.Naive().fit(np.ma.masked_array([1.0, 2.0, 1e6], mask=[0, 0, 1])).predict(1).mean[0] == 2.0


def _autoscaler() -> fs.Autoscaler:
    auto = fs.Autoscaler(fs.PredictivePolicy(10.0), model=fs.SeasonalNaive(24),
                         step_seconds=3600.0, max_history=100)
    t0 = 1.7e9 - 1.7e9 % 3600
    for i in range(48):
        auto.observe(t0 + i * 3600.0, 50.0 + i % 24)
    auto.recommend(t0 + 48.5 * 3600.0, current_replicas=5)
    auto.observe(t0 + 48.6 * 3600.0, 3.0)
    return auto


def test_a_millisecond_timestamp_is_refused_and_keeps_the_history() -> None:
    auto = _autoscaler()
    before = auto.to_json()
    with pytest.raises(fs.InvalidDataError, match="milliseconds"):
        auto.observe(1.7e12, 5.0)
    assert auto.to_json() == before and len(auto.history) == 48


@pytest.mark.parametrize("path, value, words", [
    (("history", 3), -1.0, "history value -1"),
    (("config", "policy", "quantile"), 2.0, "quantile must be in (0, 1)"),
    (("policy", "config", "quantile"), 2.0, "does not match"),
    (("config", "policy", "capacity_per_replica"), 0.0, "capacity_per_replica must be finite"),
    (("config", "policy", "hpa", "minReplicas"), 200, "must not exceed maxReplicas"),
    (("config", "max_history"), 10, "more than max_history 10"),
    (("open", 0), 3, "the open step 3 is before"),
])
def test_edited_states_are_parse_errors(path, value, words) -> None:  # type: ignore[no-untyped-def]
    state = json.loads(_autoscaler().to_json())
    node = state["autoscaler"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(fs.ParseError) as e:
        fs.Autoscaler.from_json(json.dumps(state))
    assert words in str(e.value)


def test_a_newer_state_version_is_refused() -> None:
    state = json.loads(_autoscaler().to_json())
    state["version"] += 1
    with pytest.raises(fs.ParseError, match="not readable by this build"):
        fs.Autoscaler.from_json(json.dumps(state))


def test_edited_models_are_parse_errors() -> None:
    y = np.arange(10.0, 60.0)
    naive = json.loads(fs.Naive().fit(y).to_json())
    naive["last"] = -1.0
    with pytest.raises(fs.ParseError, match="last value -1"):
        fs.FittedModel.from_json(json.dumps(naive))
    line = json.loads(fs.LinearTrend().fit(y).to_json())
    line["slope"] = 1e308
    with pytest.raises(fs.ParseError, match="not finite"):
        fs.FittedModel.from_json(json.dumps(line))


def test_sweep_front_is_the_brute_force_front() -> None:
    """The core's sweep gives one summary per policy and a front no row beats on both."""
    t = np.arange(2 * 1440)
    s = fs.Series(600 + 300 * np.sin(t * 2 * np.pi / 1440), start=0.0, step=60.0)
    policies = [fs.PredictivePolicy(20.0, startup_seconds=120, quantile=q,
                                    hpa=fs.HpaPolicy(u * 20.0))
                for q in (0.6, 0.9, 0.99) for u in (0.5, 0.9)]
    r = fs.sweep(s, policies, capacity_per_replica=20.0)
    pts = [(row["replica_hours"], row["violation_minutes"]) for row in r["rows"]]
    assert len(pts) == 6
    brute = {i for i, (c, h) in enumerate(pts)
             if not any(c2 <= c and h2 <= h and (c2 < c or h2 < h) for c2, h2 in pts)}
    assert set(r["pareto"]) == brute
    # each row is what simulate gives the same policy alone
    alone = fs.simulate(s, {"p": policies[0]}, capacity_per_replica=20.0, references=False)
    assert alone.summary()["p"] == r["rows"][0]

"""Baseline forecasters and metrics through Python, against hand-worked values."""

from __future__ import annotations

import json
import math
import sys
import threading

import numpy as np
import pytest

import flaskscale as fs

Z975 = 1.959963984540054


def test_seasonal_naive_hand_worked() -> None:
    # m = 2, y = 1 3 2 5 4 6: residuals 1 2 2 1 -> sigma = sqrt(10/4)
    fitted = fs.SeasonalNaive(2).fit(np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0]))
    fc = fitted.predict(3, levels=[0.95])
    assert fc.mean.tolist() == [4.0, 6.0, 4.0]
    sigma = math.sqrt(2.5)
    assert fc.sd.tolist() == pytest.approx([sigma, sigma, sigma * math.sqrt(2)])
    assert fc.upper(0.95) == pytest.approx(fc.mean + Z975 * fc.sd)
    # a load's band is floored at 0 (the third step's normal bound is -0.38)
    assert fc.lower(0.95) == pytest.approx(np.maximum(fc.mean - Z975 * fc.sd, 0.0))
    assert fc.lower(0.95)[2] == 0.0
    assert fc.quantile(0.975) == pytest.approx(fc.upper(0.95))
    assert fc.levels == [0.95] and len(fc) == fc.horizon == 3
    with pytest.raises(fs.InvalidParameterError, match="level 0.8"):
        fc.lower(0.8)


def test_naive_and_drift_hand_worked() -> None:
    y = [1.0, 3.0, 2.0, 5.0, 4.0]
    naive = fs.Naive().fit(y).predict(2)
    assert naive.mean.tolist() == [4.0, 4.0]
    assert naive.sd.tolist() == pytest.approx([math.sqrt(3.75), math.sqrt(7.5)])
    drift = fs.Drift().fit(y).predict(2)
    assert drift.mean.tolist() == pytest.approx([4.75, 5.5])
    assert drift.sd[0] == pytest.approx(math.sqrt(4.25 * 1.25))


def test_fit_accepts_series_and_arrays_alike() -> None:
    y = np.arange(50, dtype=np.float64) % 7
    a = fs.SeasonalNaive(7).fit(y).predict(10).mean
    b = fs.SeasonalNaive(7).fit(fs.Series(y)).predict(10).mean
    c = fs.SeasonalNaive(7).fit(list(y.astype(int))).predict(10).mean
    assert a.tolist() == b.tolist() == c.tolist()


def test_update_matches_refit_and_json_round_trip() -> None:
    y = np.sin(np.arange(120) / 24 * 2 * np.pi) * 10 + 50
    full = fs.SeasonalNaive(24).fit(y)
    part = fs.SeasonalNaive(24).fit(y[:100])
    part.update(y[100:])
    assert part.predict(24).mean == pytest.approx(full.predict(24).mean)
    assert part.fit_info()["n_obs"] == 120
    restored = fs.FittedModel.from_json(part.to_json())
    assert restored.predict(24, levels=[0.9]).upper(0.9) == pytest.approx(
        part.predict(24, levels=[0.9]).upper(0.9)
    )
    assert json.loads(fs.SeasonalNaive(24).to_json()) == {
        "model": "seasonal_naive",
        "season_length": 24,
    }
    with pytest.raises(fs.ParseError):
        fs.FittedModel.from_json('{"model": "seasonal_naive"')
    with pytest.raises(fs.InvalidDataError):
        part.update([1.0, -5.0])


def test_an_edited_fitted_state_is_refused_not_a_panic(tmp_path) -> None:
    y = np.sin(np.arange(120) / 24 * 2 * np.pi) * 10 + 50
    state = json.loads(fs.SeasonalNaive(24).fit(y).to_json())
    for field, value in [("m", 0), ("pos", 10**9), ("season", [])]:
        edited = dict(state, **{field: value})
        with pytest.raises(fs.ParseError, match="seasonal_naive model does not match its format"):
            fs.FittedModel.from_json(json.dumps(edited))
    # the same check guards a restored autoscaler
    auto = fs.Autoscaler(fs.PredictivePolicy(10.0), model=fs.SeasonalNaive(24), step_seconds=60)
    for i, v in enumerate(y):
        auto.observe(i * 60.0, float(v))
    auto.recommend(120 * 60.0, current_replicas=2)
    path = tmp_path / "state.json"
    auto.save(str(path))
    saved = json.loads(path.read_text())
    assert saved["autoscaler"]["fitted"]["model"] == "seasonal_naive"
    saved["autoscaler"]["fitted"]["m"] = 0
    path.write_text(json.dumps(saved))
    with pytest.raises(fs.ParseError, match="does not match its format"):
        fs.Autoscaler.load(str(path))


def test_gaps_are_filled_and_reported() -> None:
    f = fs.Naive().fit([1.0, np.nan, np.nan, 4.0])
    info = f.fit_info()
    assert info["n_filled"] == 2 and info["sigma"] == pytest.approx(1.0)
    assert "n_filled=2" in repr(f)


@pytest.mark.parametrize(
    "call, exc",
    [
        (lambda: fs.SeasonalNaive(1), fs.InvalidParameterError),
        (lambda: fs.SeasonalNaive(24).fit(np.ones(10)), fs.NotEnoughDataError),
        (lambda: fs.Naive().fit([1.0]).predict(3), fs.NotEnoughDataError),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(0), fs.InvalidParameterError),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(10**9), fs.InvalidParameterError),
        (lambda: fs.Ensemble([fs.Naive(), fs.Drift()]).fit([1.0, 2.0, 3.0]).predict(10**9),
         fs.InvalidParameterError),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(3, levels=[1.0]), fs.InvalidParameterError),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(3, levels=[0.0]), fs.InvalidParameterError),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(-1), fs.InvalidParameterError),
    ],
)
def test_bad_model_input(call, exc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc):
        call()


def test_not_enough_data_says_how_many() -> None:
    with pytest.raises(fs.NotEnoughDataError) as info:
        fs.SeasonalNaive(24).fit(np.ones(10))
    assert info.value.needed == 25 and info.value.got == 10


def test_metrics_hand_worked() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    f = np.full(4, 2.0)
    assert fs.mae(y, f) == 1.0
    assert fs.rmse(y, f) == pytest.approx(math.sqrt(1.5))
    assert fs.smape(y, f) == pytest.approx(200 * (1 / 3 + 0.2 + 1 / 3) / 4)
    assert fs.mase(y, f, [1.0, 2.0, 4.0, 7.0]) == pytest.approx(0.5)
    assert fs.mase(y, f, [1.0, 2.0, 4.0, 7.0], m=2) == pytest.approx(0.25)
    assert fs.pinball(y, f, q=0.9) == pytest.approx(0.7)
    assert fs.coverage(y, [0, 2.5, 2, 5], [1, 3, 3, 6]) == 0.5
    with pytest.raises(fs.InvalidDataError, match="lengths differ"):
        fs.mae(y, f[:3])


def test_fits_run_concurrently_from_threads() -> None:
    y = np.random.default_rng(7).poisson(100, size=20_000).astype(np.float64)
    expected = fs.SeasonalNaive(1440).fit(y).predict(60).mean
    results: list = []

    def work() -> None:
        for _ in range(20):
            results.append(fs.SeasonalNaive(1440).fit(y).predict(60).mean)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all((r == expected).all() for r in results)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(-1), "horizon"),
        (lambda: fs.Naive().fit([1.0, 2.0]).predict(10**400), "horizon"),
        (lambda: fs.backtest(fs.Naive(), [1.0, 2.0, 3.0], horizon=1, stride=-1), "stride"),
        (lambda: fs.LinearTrend(window=-1), "window"),
        (lambda: fs.MultiSeasonalNaive([24, -1]), "periods"),
        (lambda: fs.AutoForecaster(season_lengths=[-1]), "season_lengths"),
        (lambda: fs.detect_periods([1.0, 2.0, 3.0], max_period=-1), "max_period"),
        (lambda: fs.HpaPolicy(10.0, min_replicas=-1), "min_replicas"),
        (lambda: fs.HpaPolicy(10.0, max_replicas=2**32), "max_replicas"),
        (lambda: fs.HpaPolicy(10.0).recommend(now=0.0, current_replicas=-1, load=1.0),
         "current_replicas"),
        (lambda: fs.PredictivePolicy(10.0, max_replicas=-5), "max_replicas"),
    ],
)
def test_out_of_range_counts_are_typed_errors_naming_the_argument(call, argument) -> None:  # type: ignore[no-untyped-def]
    """Negative or too-large ints for counts were the argument conversion's OverflowError."""
    with pytest.raises(fs.InvalidParameterError, match="expected a whole number from 0 to") as e:
        call()
    if sys.version_info >= (3, 11):  # exception notes are new in 3.11
        assert f"while processing '{argument}'" in e.value.__notes__
    # anything but an int stays a TypeError
    with pytest.raises(TypeError):
        fs.Naive().fit([1.0, 2.0]).predict("3")  # type: ignore[arg-type]

"""The seasonal and linear models through Python: closed-form recoveries, parameters, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flaskscale as fs

T = np.arange(24 * 20, dtype=np.float64)
SINE_TREND = 500 + 0.5 * T + 80 * np.sin(2 * np.pi * T / 24)


def future(h: int) -> np.ndarray:
    t = T[-1] + 1 + np.arange(h)
    return 500 + 0.5 * t + 80 * np.sin(2 * np.pi * t / 24)


def test_holt_winters_recovers_a_noiseless_sine_and_trend() -> None:
    fitted = fs.HoltWinters(24, trend="additive", seasonal="additive").fit(SINE_TREND)
    fc = fitted.predict(48, levels=[0.8])
    assert np.max(np.abs(fc.mean - future(48))) < 0.5
    p = fitted.params()
    assert p is not None and 0 < p["alpha"] < 1 and p["season_length"] == 24
    assert fitted.name == "holt_winters"


def test_fourier_regression_recovers_a_noiseless_sine_and_trend() -> None:
    fitted = fs.FourierRegression([(24, 3)]).fit(SINE_TREND)
    assert np.max(np.abs(fitted.predict(48).mean - future(48))) < 1e-3
    p = fitted.params()
    assert p is not None and p["relative_penalty"] < 1e-6
    # bare periods get K = clamp(m/4, 1, 10) harmonics
    assert json.loads(fs.FourierRegression([24, 168]).to_json())["periods"] == [[24.0, 6], [168.0, 10]]


def test_linear_trend_recovers_a_line() -> None:
    y = 3.0 + 2.0 * np.arange(50)
    fitted = fs.LinearTrend().fit(y)
    p = fitted.params()
    assert p is not None
    assert p["slope"] == pytest.approx(2.0) and p["intercept"] == pytest.approx(3.0)
    assert fitted.predict(2).mean == pytest.approx([103.0, 105.0])
    fitted.update([103.0])
    assert fitted.predict(1).mean == pytest.approx([105.0])


def test_multi_seasonal_naive_and_ensemble_by_hand() -> None:
    y = np.arange(1, 31, dtype=np.float64)
    # mean of the value 2 and 3 steps ago: h=1 -> (29 + 28) / 2
    msn = fs.MultiSeasonalNaive([2, 3]).fit(y).predict(1).mean
    assert msn.tolist() == [28.5]
    ens = fs.Ensemble([fs.Naive(), fs.SeasonalNaive(3)], combine="median").fit(y).predict(1).mean
    # two members: the median is their mean, (30 + 28) / 2
    assert ens.tolist() == [29.0]


def test_detect_periods_on_wikipedia(wikipedia_path) -> None:  # type: ignore[no-untyped-def]
    found = fs.detect_periods(fs.Series.from_csv(wikipedia_path))
    assert {p["period"] for p in found} == {24, 168}
    assert all(0 < p["strength"] <= 1 for p in found)


@pytest.mark.parametrize(
    "call, exc",
    [
        (lambda: fs.HoltWinters(24, trend="cubic"), fs.InvalidParameterError),
        (lambda: fs.HoltWinters(-3), fs.InvalidParameterError),
        (lambda: fs.HoltWinters(1).fit(np.ones(100)), fs.InvalidParameterError),
        (lambda: fs.HoltWinters(24).fit(np.ones(30)), fs.NotEnoughDataError),
        (lambda: fs.HoltWinters(4, seasonal="multiplicative").fit(np.zeros(40)), fs.FitError),
        (lambda: fs.FourierRegression([(24, 12)]).fit(np.ones(100)), fs.InvalidParameterError),
        (lambda: fs.FourierRegression(["daily"]), fs.InvalidParameterError),
        (lambda: fs.LinearTrend(window=1), fs.InvalidParameterError),
        (lambda: fs.Ensemble([]), fs.InvalidParameterError),
        (lambda: fs.Ensemble([fs.Naive()], combine="max"), fs.InvalidParameterError),
    ],
)
def test_bad_settings_raise_typed_errors(call, exc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc):
        call()


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: fs.HoltWinters(1), "season length must be >= 2"),
        (lambda: fs.HoltWinters(24, alpha=1.5), "alpha"),
        (lambda: fs.FourierRegression([(24, 12)]), "2K < period"),
        # the core's rule (a line and a residual scale), not a looser one of the bindings
        (lambda: fs.LinearTrend(window=2), "window must be >= 3"),
        (lambda: fs.MultiSeasonalNaive([24, 1]), "season length"),
        (lambda: fs.Ensemble([]), "at least one member"),
        (lambda: fs.AutoForecaster(candidates=[]), "candidate list is empty"),
    ],
)
def test_settings_are_checked_by_the_core_at_construction(make, words) -> None:  # type: ignore[no-untyped-def]
    """The core's ModelSpec.validate runs when the object is made, before any data."""
    with pytest.raises(fs.InvalidParameterError, match=words):
        make()


def test_constant_series_gives_finite_flat_forecasts() -> None:
    y = np.full(24 * 5, 42.0)
    for model in (fs.HoltWinters(24), fs.FourierRegression([24]), fs.LinearTrend(), fs.Naive()):
        fc = model.fit(y).predict(24, levels=[0.95])
        assert np.all(np.isfinite(fc.mean)) and fc.mean == pytest.approx(np.full(24, 42.0), abs=1e-6)
        assert np.all(fc.lower(0.95) <= fc.mean + 1e-9)

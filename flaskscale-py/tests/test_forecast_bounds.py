"""Forecasts of load from Python: non-negative by default (the core's setting), the unfloored
normal on request, the spike-robust Holt-Winters switch, and typed errors for overflowing data."""

from __future__ import annotations

import numpy as np
import pytest

import flaskscale as fs


def falling_load() -> np.ndarray:
    t = np.arange(24 * 12)
    level = np.maximum(3000.0 - 11.0 * t, 5.0)
    return level * (1.0 + 0.5 * np.sin(2 * np.pi * t / 24)) + 1.0


@pytest.mark.parametrize(
    "model",
    [fs.Naive(), fs.Drift(), fs.LinearTrend(), fs.SeasonalNaive(24), fs.HoltWinters(24),
     fs.HoltWinters(24, trend="damped"), fs.FourierRegression([24]), fs.AutoForecaster(horizon=24)],
)
def test_bands_of_load_are_nonnegative(model) -> None:  # type: ignore[no-untyped-def]
    fitted = model.fit(falling_load())
    fc = fitted.predict(48, levels=[0.8, 0.99])
    assert (fc.mean >= 0).all() and (fc.lower(0.99) >= 0).all() and (fc.quantile(0.01) >= 0).all()
    raw = fitted.predict(48, levels=[0.8, 0.99], nonnegative=False)
    np.testing.assert_array_equal(fc.mean, np.maximum(raw.mean, 0.0))
    np.testing.assert_array_equal(fc.lower(0.99), np.maximum(raw.lower(0.99), 0.0))


def test_a_linear_trend_runs_below_zero_only_when_asked() -> None:
    fitted = fs.Drift().fit(np.arange(100, 0, -1, dtype=float))
    assert fitted.predict(200, nonnegative=False).mean.min() < 0
    assert fitted.predict(200).mean.min() == 0.0


def test_robust_switch_and_fallback_reason() -> None:
    # every day a new level (1000, 10, ...) with the same shape: seasonal naive at m = 48 is
    # exact, Holt-Winters cannot be, so it is replaced and says why
    day = 1.0 + 0.5 * np.sin(2 * np.pi * np.arange(24) / 24)
    y = np.concatenate([day * (1000.0 if d % 2 == 0 else 10.0) for d in range(20)])
    fitted = fs.HoltWinters(48, robust=False).fit(y)
    assert "replaced by seasonal naive" in (fitted.why() or "")
    np.testing.assert_allclose(fitted.predict(48).mean, y[-48:], rtol=1e-9)
    assert fs.HoltWinters(24).fit(falling_load()).why() is None


def test_overflowing_data_is_a_typed_error_or_finite() -> None:
    y = 1e308 * (0.5 + 0.4 * np.sin(2 * np.pi * np.arange(24 * 8) / 24))
    for model in [fs.Naive(), fs.Drift(), fs.LinearTrend(), fs.SeasonalNaive(24), fs.HoltWinters(24)]:
        try:
            fc = model.fit(y).predict(30, levels=[0.95])
        except fs.FlaskscaleError:
            continue
        assert np.isfinite(fc.mean).all() and np.isfinite(fc.upper(0.95)).all()

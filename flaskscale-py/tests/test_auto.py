"""AutoForecaster through Python: the choice, its scores and reasons, and typed errors."""

from __future__ import annotations

import numpy as np
import pytest

import flaskscale as fs


def test_picks_a_seasonal_model_on_a_daily_cycle() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(24 * 21)
    y = 100 + 40 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 3, len(t))
    fitted = fs.AutoForecaster(season_lengths=[24], select="best").fit(y)
    scores = fitted.scores()
    # naive, drift, linear trend, seasonal naive, Holt-Winters and Fourier for m = 24
    assert scores is not None and len(scores) == 6
    names = [s["name"] for s in scores]
    best = min(scores, key=lambda s: s["loss"])
    seasonal = ("seasonal_naive", "holt_winters", "fourier_regression")
    assert best["name"].startswith(seasonal)
    assert (fitted.why() or "").startswith(best["name"])
    assert set(names) >= {"naive", "drift"}
    # the same choice among the baselines alone
    base = fs.AutoForecaster(
        candidates=[fs.Naive(), fs.Drift(), fs.SeasonalNaive(24)], select="best"
    ).fit(y)
    assert (base.why() or "").startswith("seasonal_naive(season_length=24) won")
    fc = fitted.predict(24, levels=[0.9])
    # one day ahead of a noisy sine: the forecast follows the cycle
    assert np.corrcoef(fc.mean, 100 + 40 * np.sin(2 * np.pi * (t[-1] + 1 + np.arange(24)) / 24))[0, 1] > 0.95
    assert fs.Naive().fit(y).why() is None


def test_wikipedia_weekly_season_wins(wikipedia_path) -> None:  # type: ignore[no-untyped-def]
    y = fs.Series.from_csv(wikipedia_path).values
    fitted = fs.AutoForecaster(season_lengths=[24, 168]).fit(y)
    assert "season_length=168" in (fitted.why() or "")


def test_candidates_and_bad_settings() -> None:
    y = np.arange(200, dtype=float) % 12 + 5
    fitted = fs.AutoForecaster(candidates=[fs.Naive(), fs.SeasonalNaive(12)]).fit(y)
    assert [s["name"] for s in fitted.scores() or []] == ["naive", "seasonal_naive(season_length=12)"]
    with pytest.raises(fs.InvalidParameterError):
        fs.AutoForecaster(loss="huber")
    with pytest.raises(fs.InvalidParameterError):
        fs.AutoForecaster(quantile=1.5)
    with pytest.raises(fs.InvalidParameterError):
        fs.AutoForecaster(loss="asymmetric")
    with pytest.raises(fs.InvalidParameterError):
        fs.AutoForecaster(horizon=0)
    with pytest.raises(fs.InvalidParameterError, match="expected a flaskscale model"):
        fs.AutoForecaster(candidates=[42])
    with pytest.raises(fs.InvalidParameterError):
        fs.AutoForecaster(candidates=[fs.AutoForecaster()])


def test_default_combines_close_candidates() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(24 * 15)
    y = 300 + 40 * np.sin(t / 3.0) + rng.normal(0, 4, len(t))
    # a cycle of 6π ≈ 18.85 steps: one and two cycles back (19, 38) are close candidates
    fitted = fs.AutoForecaster(candidates=[fs.SeasonalNaive(19), fs.SeasonalNaive(38)], calibrate=False).fit(y)
    why = fitted.why() or ""
    assert why.startswith("the mean of the top 2"), why
    a = fs.SeasonalNaive(19).fit(y).predict(10).mean
    b = fs.SeasonalNaive(38).fit(y).predict(10).mean
    assert fitted.predict(10).mean == pytest.approx((a + b) / 2)

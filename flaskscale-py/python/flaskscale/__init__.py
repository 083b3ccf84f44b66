"""flaskscale: forecast request load and turn it into replica targets, ahead of time.

>>> import numpy as np, flaskscale as fs
>>> s = fs.Series(np.array([10.0, 20.0, 30.0, 10.0, 20.0, 30.0, 10.0]), start=0.0, step=60.0)
>>> fc = fs.SeasonalNaive(season_length=3).fit(s).predict(3, levels=[0.95])
>>> fc.mean.tolist()
[20.0, 30.0, 10.0]
"""

from __future__ import annotations

from ._flaskscale import (
    AccessLogReport,
    AutoForecaster,
    Autoscaler,
    Decision,
    Drift,
    Ensemble,
    FittedModel,
    Forecast,
    FourierRegression,
    HoltWinters,
    HpaPolicy,
    LinearTrend,
    MultiSeasonalNaive,
    Naive,
    PredictivePolicy,
    Progress,
    SeasonalNaive,
    Series,
    SimReport,
    __version__,
    backtest,
    coverage,
    detect_periods,
    mae,
    mase,
    pinball,
    read_access_log,
    rmse,
    simulate,
    smape,
)
from .exceptions import (
    FitError,
    FlaskscaleError,
    FlaskscaleIOError,
    FlaskscaleWarning,
    InvalidDataError,
    InvalidParameterError,
    NotEnoughDataError,
    ParseError,
)

__all__ = [
    "AccessLogReport",
    "AutoForecaster",
    "Autoscaler",
    "Decision",
    "Drift",
    "Ensemble",
    "FitError",
    "FittedModel",
    "FlaskscaleError",
    "FlaskscaleIOError",
    "FlaskscaleWarning",
    "Forecast",
    "FourierRegression",
    "HoltWinters",
    "HpaPolicy",
    "InvalidDataError",
    "InvalidParameterError",
    "LinearTrend",
    "MultiSeasonalNaive",
    "Naive",
    "NotEnoughDataError",
    "ParseError",
    "PredictivePolicy",
    "Progress",
    "SeasonalNaive",
    "Series",
    "SimReport",
    "__version__",
    "backtest",
    "coverage",
    "detect_periods",
    "mae",
    "mase",
    "pinball",
    "read_access_log",
    "rmse",
    "simulate",
    "smape",
]

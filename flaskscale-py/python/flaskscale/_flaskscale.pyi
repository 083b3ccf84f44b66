"""Type stubs of the native module (checked against the binary with mypy.stubtest)."""

from os import PathLike
from typing import Any, Optional, Sequence, Tuple, Union, final


import numpy as np
import numpy.typing as npt

_ArrayLike = Union[npt.ArrayLike, "Series"]
_FloatArray = npt.NDArray[np.float64]
_StrPath = Union[str, "PathLike[str]"]

__all__ = [
    "AccessLogReport",
    "AutoForecaster",
    "Autoscaler",
    "DEFAULT_FLOOR_FACTOR",
    "DEFAULT_FLOOR_QUANTILE",
    "DEFAULT_HPA_UTILIZATION",
    "DEFAULT_INTERVAL_SECONDS",
    "DEFAULT_MAX_REPLICAS",
    "DEFAULT_PEAK_REPLICAS",
    "DEFAULT_QUANTILE",
    "DEFAULT_STARTUP_SECONDS",
    "FRONTIER_BUDGETS",
    "FRONTIER_SERVICE_LEVELS",
    "FRONTIER_SETTINGS",
    "Decision",
    "Drift",
    "Ensemble",
    "FittedModel",
    "Forecast",
    "FourierRegression",
    "HoltWinters",
    "HpaPolicy",
    "LinearTrend",
    "MultiSeasonalNaive",
    "Naive",
    "PredictivePolicy",
    "Progress",
    "RequestCounter",
    "SeasonalNaive",
    "Series",
    "SimReport",
    "__version__",
    "backtest",
    "coverage",
    "detect_periods",
    "forecast_many",
    "frontier",
    "frontier_many",
    "mae",
    "mase",
    "pinball",
    "read_access_log",
    "recommend_many",
    "rmse",
    "series_many",
    "simulate",
    "simulate_many",
    "smape",
    "sweep",
    "FlaskscaleError",
    "FlaskscaleWarning",
    "InvalidParameterError",
    "InvalidDataError",
    "NotEnoughDataError",
    "ParseError",
    "FitError",
    "FlaskscaleIOError",
]

__version__: str

class FlaskscaleError(Exception): ...
class FlaskscaleWarning(UserWarning): ...
class InvalidParameterError(FlaskscaleError, ValueError): ...
class InvalidDataError(FlaskscaleError, ValueError): ...
class NotEnoughDataError(FlaskscaleError, ValueError):
    needed: int
    got: int
class ParseError(FlaskscaleError, ValueError):
    line: int
class FitError(FlaskscaleError, RuntimeError): ...
class FlaskscaleIOError(FlaskscaleError, OSError): ...

DEFAULT_QUANTILE: float
DEFAULT_STARTUP_SECONDS: float
DEFAULT_INTERVAL_SECONDS: float
DEFAULT_HPA_UTILIZATION: float
DEFAULT_PEAK_REPLICAS: float
DEFAULT_FLOOR_FACTOR: float
DEFAULT_FLOOR_QUANTILE: float
DEFAULT_MAX_REPLICAS: int
FRONTIER_BUDGETS: list[float]
FRONTIER_SERVICE_LEVELS: list[float]
FRONTIER_SETTINGS: Tuple[int, int]

@final
class Series:
    def __new__(
        cls, values: npt.ArrayLike, *, start: float = 0.0, step: float = 60.0
    ) -> Series: ...
    @staticmethod
    def from_csv(
        path: _StrPath, *, step: Optional[float] = None, skipped_rows: str = "error"
    ) -> Series: ...
    @staticmethod
    def from_csv_text(
        text: str, *, step: Optional[float] = None, skipped_rows: str = "error"
    ) -> Series: ...
    @staticmethod
    def from_events(
        times: npt.ArrayLike, *, step: float, start: Optional[float] = None
    ) -> Series: ...
    @staticmethod
    def from_access_log(
        path: _StrPath,
        *,
        step: float = 60.0,
        start: Optional[float] = None,
        exclude_paths: Sequence[str] = ...,
        on_malformed: str = "skip",
    ) -> Series: ...
    @staticmethod
    def from_pandas(series: Any, *, skipped_rows: str = "error") -> Series: ...
    def to_pandas(self) -> Any: ...
    @property
    def values(self) -> _FloatArray: ...
    @property
    def timestamps(self) -> _FloatArray: ...
    @property
    def start(self) -> float: ...
    @property
    def step(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def missing(self) -> int: ...
    def __len__(self) -> int: ...
    def resample(self, step: float, *, how: str = "sum") -> Series: ...
    def fill_gaps(self) -> Series: ...
    def slice(self, start: float, end: float) -> Series: ...
    def stats(self) -> dict[str, float]: ...
    def to_csv(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class AccessLogReport:
    @property
    def series(self) -> Series: ...
    @property
    def lines(self) -> int: ...
    @property
    def counted(self) -> int: ...
    @property
    def excluded(self) -> int: ...
    @property
    def malformed(self) -> int: ...
    @property
    def first_malformed(self) -> Optional[Tuple[int, str]]: ...

def read_access_log(
    path: _StrPath,
    *,
    step: float = 60.0,
    start: Optional[float] = None,
    exclude_paths: Sequence[str] = ...,
    on_malformed: str = "skip",
) -> AccessLogReport: ...

@final
class Forecast:
    @property
    def mean(self) -> _FloatArray: ...
    @property
    def sd(self) -> _FloatArray: ...
    @property
    def levels(self) -> list[float]: ...
    @property
    def horizon(self) -> int: ...
    def __len__(self) -> int: ...
    def lower(self, level: float) -> _FloatArray: ...
    def upper(self, level: float) -> _FloatArray: ...
    def quantile(self, q: float) -> _FloatArray: ...

@final
class FittedModel:
    def predict(
        self, horizon: int, *, levels: Sequence[float] = ..., nonnegative: Optional[bool] = None
    ) -> Forecast: ...
    def update(self, values: _ArrayLike) -> None: ...
    @property
    def name(self) -> str: ...
    def fit_info(self) -> dict[str, float]: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> FittedModel: ...
    def why(self) -> Optional[str]: ...
    def params(self) -> Optional[dict[str, Any]]: ...
    def scores(self) -> Optional[list[dict[str, Any]]]: ...

@final
class Naive:
    def __new__(cls) -> Naive: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class SeasonalNaive:
    def __new__(cls, season_length: int) -> SeasonalNaive: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class Drift:
    def __new__(cls) -> Drift: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class HoltWinters:
    def __new__(
        cls,
        season_length: Optional[int] = None,
        *,
        trend: str = "additive",
        seasonal: Optional[str] = None,
        alpha: Optional[float] = None,
        beta: Optional[float] = None,
        gamma: Optional[float] = None,
        phi: Optional[float] = None,
        robust: Optional[bool] = None,
    ) -> HoltWinters: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class LinearTrend:
    def __new__(cls, *, window: Optional[int] = None) -> LinearTrend: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class FourierRegression:
    def __new__(
        cls,
        periods: Sequence[Union[float, Tuple[float, int]]],
        *,
        log: bool = False,
        penalty: Optional[float] = None,
    ) -> FourierRegression: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class MultiSeasonalNaive:
    def __new__(cls, periods: Sequence[int]) -> MultiSeasonalNaive: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

@final
class Ensemble:
    def __new__(cls, members: Sequence[Any], *, combine: str = "mean") -> Ensemble: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

def backtest(
    model: Any,
    data: _ArrayLike,
    *,
    horizon: Optional[int] = None,
    n_origins: Optional[int] = None,
    stride: Optional[int] = None,
    max_train: Optional[int] = None,
    season_length: Optional[int] = None,
    quantile: Optional[float] = None,
) -> dict[str, Any]: ...
def detect_periods(
    data: _ArrayLike, *, max_period: Optional[int] = None, min_strength: Optional[float] = None
) -> list[dict[str, Any]]: ...

@final
class AutoForecaster:
    def __new__(
        cls,
        *,
        season_lengths: Optional[Sequence[int]] = None,
        candidates: Optional[Sequence[Any]] = None,
        horizon: Optional[int] = None,
        n_origins: Optional[int] = None,
        max_train: Optional[int] = None,
        loss: str = "pinball",
        quantile: float = 0.9,
        weights: Optional[Tuple[float, float]] = None,
        select: str = "combine",
        top_k: int = 3,
        calibrate: Optional[bool] = None,
    ) -> AutoForecaster: ...
    def fit(self, data: _ArrayLike) -> FittedModel: ...
    def to_json(self) -> str: ...

def mae(y: npt.ArrayLike, forecast: npt.ArrayLike) -> float: ...
def rmse(y: npt.ArrayLike, forecast: npt.ArrayLike) -> float: ...
def smape(y: npt.ArrayLike, forecast: npt.ArrayLike) -> float: ...
def mase(
    y: npt.ArrayLike, forecast: npt.ArrayLike, train: npt.ArrayLike, *, m: int = 1
) -> float: ...
def pinball(y: npt.ArrayLike, forecast: npt.ArrayLike, *, q: float) -> float: ...
def coverage(y: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike) -> float: ...

@final
class Decision:
    @property
    def replicas(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def mode(self) -> str: ...
    def explain(self) -> dict[str, Any]: ...

@final
class HpaPolicy:
    def __new__(
        cls,
        target_per_replica: float,
        *,
        min_replicas: Optional[int] = None,
        max_replicas: Optional[int] = None,
        tolerance: Optional[float] = None,
        behavior: Optional[Union[str, dict[str, Any]]] = None,
        downscale_stabilization_seconds: Optional[int] = None,
    ) -> HpaPolicy: ...
    @staticmethod
    def from_config(config: Union[str, dict[str, Any]]) -> HpaPolicy: ...
    @staticmethod
    def from_manifest(
        manifest: Union[str, PathLike[str], dict[str, Any], list[Any]],
        *,
        capacity_per_replica: Optional[float] = None,
        name: Optional[str] = None,
    ) -> HpaPolicy: ...
    def manifest(
        self, kind: str = "keda", *, name: str = "app", url: Optional[str] = None
    ) -> dict[str, Any]: ...
    def recommend(self, *, now: float, current_replicas: int, load: float) -> Decision: ...
    def config(self) -> dict[str, Any]: ...

@final
class PredictivePolicy:
    def __new__(
        cls,
        capacity_per_replica: float,
        *,
        startup_seconds: Optional[float] = None,
        interval_seconds: Optional[float] = None,
        quantile: Optional[float] = None,
        headroom: Optional[float] = None,
        min_replicas: Optional[int] = None,
        max_replicas: Optional[int] = None,
        combination: str = "max",
        mode: str = "full",
        hpa: Optional[HpaPolicy] = None,
        floor_window_seconds: Optional[float] = None,
        floor_quantile: Optional[float] = None,
        floor_factor: Optional[float] = None,
        sizing: str = "count",
        count: Optional[Union[str, dict[str, Any]]] = None,
    ) -> PredictivePolicy: ...
    def config(self) -> dict[str, Any]: ...
    @property
    def lead_seconds(self) -> float: ...
    def manifest(
        self, kind: str = "keda", *, name: str = "app", url: Optional[str] = None
    ) -> dict[str, Any]: ...

@final
class Autoscaler:
    def __new__(
        cls,
        policy: PredictivePolicy,
        *,
        model: Optional[Any] = None,
        step_seconds: float = 60.0,
        max_history: Optional[int] = None,
        refit_every: Optional[int] = None,
        warmup_season: Optional[int] = None,
        empty_steps: str = "missing",
        clean_outliers: Optional[bool] = None,
    ) -> Autoscaler: ...
    def observe(self, timestamp: float, value: float) -> None: ...
    def recommend(self, now: float, *, current_replicas: int) -> Decision: ...
    @property
    def history(self) -> _FloatArray: ...
    @property
    def stage(self) -> str: ...
    @property
    def last_fit_error(self) -> Optional[str]: ...
    @property
    def history_start(self) -> Optional[float]: ...
    @property
    def n_fits(self) -> int: ...
    @property
    def model_name(self) -> Optional[str]: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> Autoscaler: ...
    def save(self, path: _StrPath) -> None: ...
    @staticmethod
    def load(path: _StrPath) -> Autoscaler: ...

@final
class SimReport:
    @property
    def names(self) -> list[str]: ...
    def summary(self) -> dict[str, dict[str, Any]]: ...
    def timeline(self, name: str) -> dict[str, _FloatArray]: ...
    def to_json(self) -> str: ...
    def to_csv(self) -> str: ...
    def to_pandas(self, policy: Optional[str] = None) -> Any: ...
    def plot(
        self, path: Union[str, PathLike[str]], *, title: str = "", zoom_seconds: float = 86400.0
    ) -> Any: ...

@final
class Progress:
    def __init__(self) -> None: ...
    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def cancelled(self) -> bool: ...
    def cancel(self) -> None: ...

def frontier(
    series: Series,
    policy: Optional[PredictivePolicy] = None,
    *,
    capacity_per_replica: float,
    startup_seconds: Optional[float] = None,
    interval_seconds: Optional[float] = None,
    max_replicas: int = 10000,
    slo_wait_seconds: float = 1.0,
    model: Optional[Any] = None,
    sweep_policy: bool = True,
    progress: Optional[Progress] = None,
) -> dict[str, Any]: ...

def simulate(
    series: Series,
    policies: dict[str, Union[HpaPolicy, PredictivePolicy, Autoscaler, Series]],
    *,
    capacity_per_replica: float,
    startup_seconds: Optional[float] = None,
    interval_seconds: Optional[float] = None,
    initial_replicas: Optional[int] = None,
    drain_seconds: Optional[float] = None,
    max_queue: Optional[float] = None,
    queue_timeout_seconds: Optional[float] = ...,
    slo_wait_seconds: Optional[float] = None,
    max_replicas: Optional[int] = None,
    references: bool = True,
    progress: Optional[Progress] = None,
) -> SimReport: ...

def sweep(
    series: Series,
    policies: Sequence[PredictivePolicy],
    *,
    capacity_per_replica: float,
    startup_seconds: Optional[float] = None,
    max_replicas: Optional[int] = None,
    progress: Optional[Progress] = None,
) -> dict[str, Any]: ...
def series_many(
    times: Sequence[npt.ArrayLike],
    values: Sequence[npt.ArrayLike],
    *,
    step: Optional[float] = None,
) -> list[Union[Series, Exception]]: ...
def forecast_many(
    series: Sequence[_ArrayLike],
    model: Any,
    *,
    horizon: int,
    levels: Sequence[float] = ...,
    progress: Optional[Progress] = None,
) -> list[Union[Forecast, Exception]]: ...
def recommend_many(
    series: Sequence[Series],
    current_replicas: Sequence[int],
    policy: Union[PredictivePolicy, dict[str, Any]],
    *,
    model: Any = None,
    progress: Optional[Progress] = None,
) -> list[Union[Decision, Exception]]: ...
def simulate_many(
    series: Sequence[Series],
    policies: Optional[dict[str, Union[HpaPolicy, PredictivePolicy, dict[str, Any]]]] = None,
    *,
    capacity_per_replica: Optional[float] = None,
    peak_replicas: Optional[float] = None,
    startup_seconds: Optional[float] = None,
    interval_seconds: Optional[float] = None,
    max_replicas: Optional[int] = None,
    slo_wait_seconds: Optional[float] = None,
    queue_timeout_seconds: Optional[float] = None,
    references: bool = True,
    progress: Optional[Progress] = None,
) -> list[Union[list[dict[str, Any]], Exception]]: ...
def frontier_many(
    series: Sequence[Series],
    policy: Union[PredictivePolicy, dict[str, Any], None] = None,
    *,
    capacity_per_replica: Optional[float] = None,
    peak_replicas: Optional[float] = None,
    startup_seconds: Optional[float] = None,
    interval_seconds: Optional[float] = None,
    max_replicas: Optional[int] = None,
    slo_wait_seconds: Optional[float] = None,
    queue_timeout_seconds: Optional[float] = None,
    model: Any = None,
    sweep_policy: bool = True,
    progress: Optional[Progress] = None,
) -> list[Union[dict[str, Any], Exception]]: ...

@final
class RequestCounter:
    def __new__(cls) -> RequestCounter: ...
    @staticmethod
    def shared(path: _StrPath, slots: int = 64) -> RequestCounter: ...
    def add(self, n: int = 1) -> None: ...
    @property
    def value(self) -> int: ...
    def total(self) -> int: ...
    def workers(self) -> int: ...
    def slots(self) -> list[Tuple[int, int]]: ...
    @property
    def slot(self) -> int: ...
    @property
    def is_shared(self) -> bool: ...
    def reclaim(self) -> int: ...

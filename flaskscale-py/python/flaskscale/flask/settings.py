"""The extension's settings: keyword arguments, ``FLASKSCALE_*`` environment variables and
``FLASKSCALE_*`` keys of ``app.config``, converted from strings and checked."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import _flaskscale as _fs
from ..exceptions import ConfigError

try:  # fcntl is Unix-only; the shared (multi-worker) mode needs it
    import fcntl
except ImportError:  # pragma: no cover - non-Unix
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("flaskscale.flask")

_PREFIX = "FLASKSCALE_"


def _positive(name: str, v: Any) -> float:
    x = _number(name, v)
    if not x > 0:
        raise ConfigError(f"{_PREFIX}{name} must be > 0, got {v!r}")
    return x


def _non_negative(name: str, v: Any) -> float:
    x = _number(name, v)
    if not x >= 0:
        raise ConfigError(f"{_PREFIX}{name} must be >= 0, got {v!r}")
    return x


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool):
        raise ConfigError(f"{_PREFIX}{name} must be a number, got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{_PREFIX}{name} must be a number, got {v!r}") from None
    if not math.isfinite(x):
        raise ConfigError(f"{_PREFIX}{name} must be finite, got {v!r}")
    return x


def _count(name: str, v: Any, low: int) -> int:
    x = _number(name, v)
    if x != int(x) or x < low:
        raise ConfigError(f"{_PREFIX}{name} must be a whole number >= {low}, got {v!r}")
    return int(x)


def _path(name: str, v: Any) -> str:
    if not isinstance(v, str) or not v.startswith("/"):
        raise ConfigError(f"{_PREFIX}{name} must be a URL path starting with '/', got {v!r}")
    return v


def _opt_str(name: str, v: Any) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if not isinstance(v, str) or not v:
        raise ConfigError(f"{_PREFIX}{name} must be a non-empty string or None, got {v!r}")
    return v


def _prefixes(name: str, v: Any) -> Tuple[str, ...]:
    if isinstance(v, str):  # from the environment: comma-separated
        v = [p.strip() for p in v.split(",") if p.strip()]
    try:
        out = tuple(v)
    except TypeError:
        raise ConfigError(f"{_PREFIX}{name} must be a list of path prefixes, got {v!r}") from None
    for p in out:
        if not isinstance(p, str) or not p.startswith("/"):
            raise ConfigError(f"{_PREFIX}{name} entries must start with '/', got {p!r}")
    return out


def _flag(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return v.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"{_PREFIX}{name} must be true or false, got {v!r}")


def _quantile(name: str, v: Any) -> float:
    x = _number(name, v)
    if not 0.5 <= x < 1.0:
        raise ConfigError(f"{_PREFIX}{name} must be in [0.5, 1), got {v!r}")
    return x


def _share(name: str, v: Any) -> float:
    x = _number(name, v)
    if not 0.0 < x <= 1.0:
        raise ConfigError(f"{_PREFIX}{name} must be in (0, 1], got {v!r}")
    return x


@dataclass(frozen=True)
class Settings:
    """The extension's settings, validated. Keyword names are the ``FLASKSCALE_*`` keys in
    lower case without the prefix.

    >>> Settings.resolve({}, {"capacity": 40}).max_replicas
    100
    >>> Settings.resolve({"FLASKSCALE_CAPCITY": 40}, {})
    Traceback (most recent call last):
    ...
    flaskscale.exceptions.ConfigError: unknown setting FLASKSCALE_CAPCITY; valid settings: ...
    """

    capacity: float = field(metadata={"doc": "requests/s one replica serves at its SLO"})
    step_seconds: float = field(default=60.0, metadata={"doc": "length of a counted step"})
    startup_seconds: float = field(
        default=120.0, metadata={"doc": "pod start-up time, the forecast's lead"}
    )
    quantile: float = field(default=0.95, metadata={"doc": "forecast quantile provisioned for"})
    headroom: float = field(default=0.0, metadata={"doc": "extra capacity share, e.g. 0.1"})
    floor_seconds: Optional[float] = field(
        default=None, metadata={"doc": "window of the recent-load floor; None: no floor"}
    )
    floor_factor: float = field(default=1.2, metadata={"doc": "factor of the recent-load floor"})
    floor_quantile: float = field(
        default=1.0, metadata={"doc": "quantile of the recent load held (1: its peak)"}
    )
    min_replicas: int = field(default=1, metadata={"doc": "lower bound of the replica count"})
    max_replicas: int = field(default=100, metadata={"doc": "upper bound of the replica count"})
    refit_every: int = field(default=60, metadata={"doc": "steps between refits"})
    max_history: int = field(default=20160, metadata={"doc": "steps of history kept"})
    model: Any = field(default=None, metadata={"doc": "model object; None: AutoForecaster"})
    state_file: Optional[str] = field(
        default=None, metadata={"doc": "Autoscaler state restored on start, saved on stop"}
    )
    save_every: int = field(default=60, metadata={"doc": "steps between state saves"})
    shared_dir: Optional[str] = field(
        default=None, metadata={"doc": "directory shared by the worker processes of a pod"}
    )
    worker_slots: int = field(default=64, metadata={"doc": "most worker processes per pod"})
    metrics_path: str = field(default="/flaskscale/metrics", metadata={"doc": "Prometheus"})
    recommendation_path: str = field(
        default="/flaskscale/recommendation", metadata={"doc": "KEDA metrics-api JSON"}
    )
    token: Optional[str] = field(
        default=None, metadata={"doc": "bearer token the endpoints require"}
    )
    exclude_paths: Tuple[str, ...] = field(
        default=(), metadata={"doc": "path prefixes not counted, e.g. /healthz"}
    )
    enabled: bool = field(default=True, metadata={"doc": "False: register nothing"})

    @classmethod
    def names(cls) -> List[str]:
        """Every setting's ``FLASKSCALE_*`` key."""
        return [_PREFIX + f.name.upper() for f in fields(cls)]

    @classmethod
    def resolve(
        cls,
        config: Mapping[str, Any],
        options: Mapping[str, Any],
        environ: Optional[Mapping[str, str]] = None,
    ) -> "Settings":
        """Keyword ``options``, overridden by ``FLASKSCALE_*`` variables of ``environ`` (for a
        pod's environment; none unless given), overridden by ``FLASKSCALE_*`` keys of
        ``config``."""
        known = {f.name for f in fields(cls)}
        valid = ", ".join(cls.names())
        raw: Dict[str, Any] = {}
        for k, v in options.items():
            if k not in known:
                raise ConfigError(f"unknown option {k!r}; valid options: {', '.join(sorted(known))}")
            raw[k] = v
        for k, v in (environ or {}).items():
            if k.startswith(_PREFIX):
                name = k[len(_PREFIX) :].lower()
                if name in known:
                    raw[name] = v
                else:  # an environment holds variables of others too (Kubernetes service links)
                    log.warning("flaskscale: ignoring environment variable %s: not a setting", k)
        for k, v in config.items():
            if isinstance(k, str) and k.startswith(_PREFIX):
                name = k[len(_PREFIX) :].lower()
                if name not in known:
                    raise ConfigError(f"unknown setting {k}; valid settings: {valid}")
                raw[name] = v
        if raw.get("capacity") is None:
            raise ConfigError(
                f"{_PREFIX}CAPACITY (requests/s one replica serves at its SLO) is required"
            )
        s = cls(**raw)
        s._validate()
        return s

    def _validate(self) -> None:
        chk: Dict[str, Any] = {
            "capacity": _positive("CAPACITY", self.capacity),
            "step_seconds": _positive("STEP_SECONDS", self.step_seconds),
            "startup_seconds": _non_negative("STARTUP_SECONDS", self.startup_seconds),
            "quantile": _quantile("QUANTILE", self.quantile),
            "headroom": _non_negative("HEADROOM", self.headroom),
            "floor_seconds": (None if self.floor_seconds in (None, "")
                              else _positive("FLOOR_SECONDS", self.floor_seconds)),
            "floor_factor": _positive("FLOOR_FACTOR", self.floor_factor),
            "floor_quantile": _share("FLOOR_QUANTILE", self.floor_quantile),
            "min_replicas": _count("MIN_REPLICAS", self.min_replicas, 1),
            "max_replicas": _count("MAX_REPLICAS", self.max_replicas, 1),
            "refit_every": _count("REFIT_EVERY", self.refit_every, 1),
            "max_history": _count("MAX_HISTORY", self.max_history, 2),
            "state_file": _opt_str("STATE_FILE", self.state_file),
            "save_every": _count("SAVE_EVERY", self.save_every, 1),
            "shared_dir": _opt_str("SHARED_DIR", self.shared_dir),
            "worker_slots": _count("WORKER_SLOTS", self.worker_slots, 1),
            "metrics_path": _path("METRICS_PATH", self.metrics_path),
            "recommendation_path": _path("RECOMMENDATION_PATH", self.recommendation_path),
            "token": _opt_str("TOKEN", self.token),
            "exclude_paths": _prefixes("EXCLUDE_PATHS", self.exclude_paths),
            "enabled": _flag("ENABLED", self.enabled),
        }
        if chk["min_replicas"] > chk["max_replicas"]:
            raise ConfigError(
                f"{_PREFIX}MIN_REPLICAS ({self.min_replicas}) is above "
                f"{_PREFIX}MAX_REPLICAS ({self.max_replicas})"
            )
        if chk["metrics_path"] == chk["recommendation_path"]:
            raise ConfigError(
                f"{_PREFIX}METRICS_PATH and {_PREFIX}RECOMMENDATION_PATH are both {self.metrics_path!r}"
            )
        if chk["shared_dir"] is not None and fcntl is None:
            raise ConfigError(f"{_PREFIX}SHARED_DIR needs a Unix system (file locks)")
        for k, v in chk.items():
            object.__setattr__(self, k, v)

    def autoscaler(self) -> _fs.Autoscaler:
        """A fresh Autoscaler with these settings."""
        policy = _fs.PredictivePolicy(
            self.capacity,
            startup_seconds=self.startup_seconds,
            interval_seconds=self.step_seconds,
            quantile=self.quantile,
            headroom=self.headroom,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            floor_window_seconds=self.floor_seconds,
            floor_factor=self.floor_factor,
            floor_quantile=self.floor_quantile,
        )
        return _fs.Autoscaler(
            policy,
            model=self.model,
            step_seconds=self.step_seconds,
            max_history=self.max_history,
            refit_every=self.refit_every,
        )


"""The extension's settings: keyword arguments, ``FLASKSCALE_*`` environment variables and
``FLASKSCALE_*`` keys of ``app.config``, converted from strings and checked."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import _flaskscale as _fs
from ..exceptions import ConfigError, FlaskscaleError

try:  # fcntl is Unix-only; the shared (multi-worker) mode needs it
    import fcntl
except ImportError:  # pragma: no cover - non-Unix
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("flaskscale.flask")

_PREFIX = "FLASKSCALE_"


# Conversions only: a string from the environment or app.config becomes the number, count or
# flag it spells. Every range (capacity > 0, a quantile in (0, 1), min <= max, the longest
# lead, ...) is the core's: Settings.resolve builds the Autoscaler, whose constructors refuse
# what the core refuses.


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool):
        raise ConfigError(f"{_PREFIX}{name} must be a number, got {v!r}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{_PREFIX}{name} must be a number, got {v!r}") from None


def _count(name: str, v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    x = _number(name, v)
    if not math.isfinite(x) or x != int(x):
        raise ConfigError(f"{_PREFIX}{name} must be a whole number, got {v!r}")
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
    startup_seconds: Optional[float] = field(
        default=None, metadata={"doc": "pod start-up time, seconds; None: the core's default"}
    )
    quantile: Optional[float] = field(
        default=None, metadata={"doc": "quantile provisioned for; None: the core's default"}
    )
    headroom: float = field(default=0.0, metadata={"doc": "extra capacity share, e.g. 0.1"})
    floor_seconds: Optional[float] = field(
        default=None, metadata={"doc": "window of the recent-load floor; None: no floor"}
    )
    floor_factor: float = field(
        default=_fs.DEFAULT_FLOOR_FACTOR, metadata={"doc": "factor of the recent-load floor"}
    )
    floor_quantile: float = field(
        default=_fs.DEFAULT_FLOOR_QUANTILE,
        metadata={"doc": "quantile of the recent load held (1: its peak)"},
    )
    min_replicas: int = field(default=1, metadata={"doc": "lower bound of the replica count"})
    max_replicas: int = field(
        default=_fs.DEFAULT_MAX_REPLICAS, metadata={"doc": "upper bound of the replica count"}
    )
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
        sources: Dict[str, str] = {}
        for k, v in options.items():
            if k not in known:
                raise ConfigError(f"unknown option {k!r}; valid options: {', '.join(sorted(known))}")
            raw[k] = v
            sources[k] = "keyword"
        for k, v in (environ or {}).items():
            if k.startswith(_PREFIX):
                name = k[len(_PREFIX) :].lower()
                if name in known:
                    raw[name] = v
                    sources[name] = "environment"
                else:  # an environment holds variables of others too (Kubernetes service links)
                    log.warning("flaskscale: ignoring environment variable %s: not a setting", k)
        for k, v in config.items():
            if isinstance(k, str) and k.startswith(_PREFIX):
                name = k[len(_PREFIX) :].lower()
                if name not in known:
                    raise ConfigError(f"unknown setting {k}; valid settings: {valid}")
                raw[name] = v
                sources[name] = "app.config"
        if raw.get("capacity") is None:
            raise ConfigError(
                f"{_PREFIX}CAPACITY (requests/s one replica serves at its SLO) is required"
            )
        s = cls(**raw)
        object.__setattr__(s, "_sources", sources)
        s._validate()
        return s

    def _validate(self) -> None:
        """Converts every value, checks the settings only the extension has (paths, token,
        flags, the shared directory), then hands the rest to the core by building the
        Autoscaler: whatever it refuses is a ConfigError here, at ``init_app``, not a ticker
        failing later."""
        floor = self.floor_seconds
        chk: Dict[str, Any] = {
            "capacity": _number("CAPACITY", self.capacity),
            "step_seconds": _number("STEP_SECONDS", self.step_seconds),
            "startup_seconds": (None if self.startup_seconds in (None, "")
                                else _number("STARTUP_SECONDS", self.startup_seconds)),
            "quantile": None if self.quantile in (None, "") else _number("QUANTILE", self.quantile),
            "headroom": _number("HEADROOM", self.headroom),
            "floor_seconds": None if floor in (None, "") else _number("FLOOR_SECONDS", floor),
            "floor_factor": _number("FLOOR_FACTOR", self.floor_factor),
            "floor_quantile": _number("FLOOR_QUANTILE", self.floor_quantile),
            "min_replicas": _count("MIN_REPLICAS", self.min_replicas),
            "max_replicas": _count("MAX_REPLICAS", self.max_replicas),
            "refit_every": _count("REFIT_EVERY", self.refit_every),
            "max_history": _count("MAX_HISTORY", self.max_history),
            "state_file": _opt_str("STATE_FILE", self.state_file),
            "save_every": _count("SAVE_EVERY", self.save_every),
            "shared_dir": _opt_str("SHARED_DIR", self.shared_dir),
            "worker_slots": _count("WORKER_SLOTS", self.worker_slots),
            "metrics_path": _path("METRICS_PATH", self.metrics_path),
            "recommendation_path": _path("RECOMMENDATION_PATH", self.recommendation_path),
            "token": _opt_str("TOKEN", self.token),
            "exclude_paths": _prefixes("EXCLUDE_PATHS", self.exclude_paths),
            "enabled": _flag("ENABLED", self.enabled),
        }
        if chk["save_every"] < 1:  # the extension's own schedule
            raise ConfigError(f"{_PREFIX}SAVE_EVERY must be >= 1 step, got {self.save_every!r}")
        if chk["metrics_path"] == chk["recommendation_path"]:
            raise ConfigError(
                f"{_PREFIX}METRICS_PATH and {_PREFIX}RECOMMENDATION_PATH are both {self.metrics_path!r}"
            )
        if chk["shared_dir"] is not None and fcntl is None:
            raise ConfigError(f"{_PREFIX}SHARED_DIR needs a Unix system (file locks)")
        for k, v in chk.items():
            object.__setattr__(self, k, v)
        try:
            policy = self.policy()
            self.autoscaler()
        except (FlaskscaleError, TypeError, ValueError) as e:
            notes = "".join(f" ({n})" for n in getattr(e, "__notes__", []))
            raise ConfigError(f"flaskscale settings refused: {e}{notes}") from e
        # settings left unset take the core's defaults: publish the values in force
        effective = policy.config()
        for name in ("quantile", "startup_seconds"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, float(effective[name]))

    def lead_seconds(self) -> float:
        """How far ahead the forecast provisions, as the core computes it (startup + interval,
        the interval being a step)."""
        lead = getattr(self, "_lead", None)
        if lead is None:
            lead = float(self.policy().lead_seconds)
            object.__setattr__(self, "_lead", lead)
        return lead

    def summary(self) -> str:
        """The effective settings on one line (the token masked), each with where it came from
        when not the default: what ``init_app`` logs once."""
        src = getattr(self, "_sources", {})
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "token" and v is not None:
                v = "***"
            where = src.get(f.name)
            parts.append(f"{f.name.upper()}={v!r}" + (f" ({where})" if where else ""))
        return "flaskscale settings: " + ", ".join(parts)

    def policy(self) -> _fs.PredictivePolicy:
        """The predictive policy of these settings."""
        return _fs.PredictivePolicy(
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

    def autoscaler(self) -> _fs.Autoscaler:
        """A fresh Autoscaler with these settings."""
        return _fs.Autoscaler(
            self.policy(),
            model=self.model,
            step_seconds=self.step_seconds,
            max_history=self.max_history,
            refit_every=self.refit_every,
        )

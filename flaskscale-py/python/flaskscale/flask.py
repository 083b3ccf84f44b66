"""Flask extension: the app measures its own request rate, forecasts it and publishes the replica
count Kubernetes should run, ahead of time.

Two lines::

    from flaskscale.flask import FlaskScale
    FlaskScale(app, capacity=50)          # requests/s one replica serves at its SLO

or, with an application factory, ``ext = FlaskScale(capacity=50)`` at import time and
``ext.init_app(app)`` in the factory. Settings come from keyword arguments, overridden by
``FLASKSCALE_*`` environment variables (a pod's ``env``), overridden by ``FLASKSCALE_*`` keys of
``app.config``; an unknown key is an error that lists the valid ones.

What it does:

- counts every request except its own endpoints in a lock-free counter that lives in Rust; with
  ``FLASKSCALE_SHARED_DIR`` set, the counter is a shared-memory file with one slot per worker
  process, so a pod under ``gunicorn -w N`` publishes the count of all its workers;
- a background thread, started by the first request, closes each step (``STEP_SECONDS``),
  feeds the :class:`~flaskscale.Autoscaler`, which refits on schedule, and keeps the last good
  decision when a fit fails. With several workers one of them (the holder of a file lock) runs
  the Autoscaler and shares its snapshot; another takes over if it exits;
- ``/flaskscale/metrics``: Prometheus text exposition; ``/flaskscale/recommendation``: JSON for
  KEDA's metrics-api scaler (``valueLocation: forecast_rps.quantile``). Both paths are
  configurable and can require a bearer token;
- an optional state file (``STATE_FILE``) is restored on start and saved on shutdown and every
  ``SAVE_EVERY`` steps; an unreadable file is logged and the extension starts fresh.

The extension never makes a request fail: every error in counting or forecasting is caught,
logged on the ``flaskscale.flask`` logger and counted in the metrics.
"""

from __future__ import annotations

import atexit
import hmac
import json
import logging
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from . import _flaskscale as _fs
from .exceptions import ConfigError, FlaskscaleError

try:  # fcntl is Unix-only; the shared (multi-worker) mode needs it
    import fcntl
except ImportError:  # pragma: no cover - non-Unix
    fcntl = None  # type: ignore[assignment]

__all__ = ["FlaskScale", "Settings", "render_metrics"]

log = logging.getLogger("flaskscale.flask")

_PREFIX = "FLASKSCALE_"
_SNAPSHOT_VERSION = 1


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


def _config_of(a: _fs.Autoscaler) -> Any:
    return json.loads(a.to_json())["autoscaler"]["config"]


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class _Engine:
    """Closes steps into the Autoscaler and keeps the published snapshot. Only the leader (the
    single process, or the lock holder among workers) has one."""

    def __init__(self, settings: Settings, restore_from: List[str]) -> None:
        self.settings = settings
        self.fit_errors = 0
        self.step_errors = 0
        self.last_error: Optional[str] = None
        self.last_fit_time: Optional[float] = None
        self.restore_error: Optional[str] = None
        self.steps = 0
        self.desired = settings.min_replicas
        self.decision: Optional[_fs.Decision] = None
        self.decided_at: Optional[float] = None
        self.autoscaler = self._restore(restore_from)
        self._fits_seen = self.autoscaler.n_fits
        self._fit_error_seen: Optional[str] = None

    def _restore(self, paths: List[str]) -> _fs.Autoscaler:
        fresh = self.settings.autoscaler()
        candidates = [p for p in paths if p and os.path.exists(p)]
        if not candidates:
            return fresh
        # the newest file wins (the shared hand-over file is usually newer than the state file)
        p = max(candidates, key=os.path.getmtime)
        try:
            old = _fs.Autoscaler.load(p)
        except (FlaskscaleError, OSError, ValueError) as e:
            self.restore_error = f"{p}: {e}"
            log.warning("flaskscale: state file %s is unusable (%s); starting fresh", p, e)
            return fresh
        if _config_of(old) == _config_of(fresh):
            log.info("flaskscale: restored the autoscaler from %s", p)
            return old
        # settings changed: keep the history, not the model fitted under the old settings
        step = self.settings.step_seconds
        start = old.history_start
        if start is not None and _config_of(old)["step_seconds"] == step:
            for i, v in enumerate(old.history.tolist()):
                if not math.isnan(v):
                    fresh.observe(start + i * step, v)
        log.info("flaskscale: settings changed since %s was saved; kept its history only", p)
        return fresh

    def close_step(self, start: float, count: float) -> None:
        """Observes ``count`` requests in the step starting at ``start`` and decides the replica
        count at its end, the last decision's count taken as the current one."""
        a = self.autoscaler
        a.observe(start, count)
        end = start + self.settings.step_seconds
        d = a.recommend(end, current_replicas=self.desired)
        self.steps += 1
        self.desired = d.replicas
        self.decision = d
        self.decided_at = end
        fits = a.n_fits
        if fits != self._fits_seen:
            err = a.last_fit_error
            if err is None:
                self.last_fit_time = time.time()
            else:
                self.fit_errors += fits - self._fits_seen
                if err != self._fit_error_seen:  # log a new failure, not each repeat
                    log.warning("flaskscale: refit failed, keeping the last model: %s", err)
            self._fits_seen = fits
            self._fit_error_seen = err

    def snapshot(self, requests_total: int, observed: Optional[float]) -> Dict[str, Any]:
        s = self.settings
        d = self.decision
        exp: Dict[str, Any] = d.explain() if d is not None else {}
        load = exp.get("load")
        mean = exp.get("forecast_mean")
        quant = exp.get("forecast_quantile")
        if mean is None:
            mean = load if load is not None else 0.0
        if quant is None:
            quant = mean
        return {
            "version": _SNAPSHOT_VERSION,
            "time": time.time(),
            "step_seconds": s.step_seconds,
            "step_end": getattr(self, "decided_at", None),
            "steps": self.steps,
            "requests_total_at_step": requests_total,
            "observed_rps": observed,
            "forecast_rps": {"mean": mean, "quantile": quant, "q": s.quantile},
            "lead_seconds": s.startup_seconds,
            "desired_replicas": self.desired,
            "capacity_per_replica": s.capacity,
            "load_per_replica": quant / self.desired if self.desired else None,
            "min_replicas": s.min_replicas,
            "max_replicas": s.max_replicas,
            "reason": d.reason if d is not None else "starting",
            "mode": d.mode if d is not None else None,
            "stage": self.autoscaler.stage,
            "model": self.autoscaler.model_name,
            "explanation": exp,
            "fits": self.autoscaler.n_fits,
            "last_fit_time": self.last_fit_time,
            "last_fit_error": self.autoscaler.last_fit_error,
            "fit_errors": self.fit_errors,
            "step_errors": self.step_errors,
            "last_error": self.last_error,
            "restore_error": self.restore_error,
        }


@dataclass
class _Clock:
    """Step boundaries on the wall-clock grid, driven by the monotonic clock so that a jump of
    the wall clock neither stalls the ticker nor sends a step back in time."""

    step: float
    wall: Callable[[], float] = time.time
    mono: Callable[[], float] = time.monotonic
    next_start: float = 0.0  # start (wall grid) of the step being counted
    next_close: float = 0.0  # monotonic time at which it closes
    jumps: int = 0
    late_steps: int = 0

    def align(self) -> float:
        """Starts counting at the next boundary; returns seconds to wait for it."""
        w, m = self.wall(), self.mono()
        first = math.floor(w / self.step) * self.step + self.step
        self.next_start = first
        self.next_close = m + (first - w) + self.step
        return first - w

    def due(self) -> Tuple[List[float], float]:
        """Starts of the steps that have closed (oldest first; several when the thread was late)
        and the seconds until the next close."""
        m = self.mono()
        if m < self.next_close:
            return [], self.next_close - m
        k = int((m - self.next_close) // self.step) + 1
        starts = [self.next_start + i * self.step for i in range(k)]
        if k > 1:
            self.late_steps += k - 1
        self.next_start += k * self.step
        self.next_close += k * self.step
        # compare with the wall clock: a forward jump of a step or more moves the grid on (the
        # skipped steps stay missing); a backward one never moves it back
        drift = self.wall() - self.next_start
        if drift >= self.step or drift < -max(1.0, 0.5 * self.step):
            self.jumps += 1
            log.warning("flaskscale: the wall clock jumped by %.1f s", drift)
            if drift >= self.step:
                self.next_start += math.floor(drift / self.step) * self.step
        return starts, max(0.0, self.next_close - self.mono())


class _State:
    """Everything one app's extension holds (one per app and process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._leader_fd: Optional[int] = None
        self.engine: Optional[_Engine] = None
        self.started = False
        self.count_errors = 0
        self._snapshot: Optional[Dict[str, Any]] = None
        self._snap_cache: Tuple[float, Optional[Dict[str, Any]]] = (-1.0, None)
        self._last_total = 0
        self._clock = _Clock(settings.step_seconds)
        d = settings.shared_dir
        if d is not None:
            os.makedirs(d, exist_ok=True)
            self.counter = _fs.RequestCounter.shared(
                os.path.join(d, "requests.counter"), slots=settings.worker_slots
            )
        else:
            self.counter = _fs.RequestCounter()
        _STATES.add(self)

    # ---- paths of the shared directory
    def _shared(self, name: str) -> Optional[str]:
        d = self.settings.shared_dir
        return os.path.join(d, name) if d is not None else None

    # ---- lifecycle
    def ensure_started(self) -> None:
        if self.started:
            return
        with self._lock:
            if self.started:
                return
            self._stop.clear()
            t = threading.Thread(target=self._run, name="flaskscale-ticker", daemon=True)
            self._thread = t
            self.started = True
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the ticker, saves the state (leader only) and gives up the leadership."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        with self._lock:
            self.started = False
            self._thread = None
            if self.engine is not None:
                self._save_state()
            self._resign()

    def after_fork(self) -> None:
        """In a child after ``fork``: own slot, no thread, no leadership inherited."""
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.started = False
        if self._leader_fd is not None:
            try:
                os.close(self._leader_fd)  # the parent's lock stays the parent's
            except OSError:
                pass
            self._leader_fd = None
        self.engine = None
        self._snapshot = None
        try:
            self.counter.reclaim()
        except FlaskscaleError as e:  # all slots taken: keep counting in the inherited slot
            log.error("flaskscale: %s", e)

    # ---- leadership
    def _try_lead(self) -> bool:
        if self.engine is not None:
            return True
        path = self._shared("leader.lock")
        if path is not None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._leader_fd = fd
        restore = [self.settings.state_file or "", self._shared("autoscaler.json") or ""]
        self.engine = _Engine(self.settings, restore)
        log.info("flaskscale: process %d runs the autoscaler", os.getpid())
        return True

    def _resign(self) -> None:
        self.engine = None
        if self._leader_fd is not None:
            try:
                fcntl.flock(self._leader_fd, fcntl.LOCK_UN)
                os.close(self._leader_fd)
            except OSError:
                pass
            self._leader_fd = None

    def _save_state(self) -> None:
        e = self.engine
        if e is None:
            return
        for path in (self.settings.state_file, self._shared("autoscaler.json")):
            if path:
                try:
                    _write_atomic(path, e.autoscaler.to_json())
                except (OSError, FlaskscaleError) as err:
                    e.last_error = f"saving {path}: {err}"
                    log.warning("flaskscale: could not save the state to %s: %s", path, err)

    # ---- the ticker
    def _run(self) -> None:
        s = self.settings
        poll = min(s.step_seconds, 5.0)  # followers retry the leadership this often
        wait = self._clock.align()
        if self._stop.wait(wait):
            return
        self._last_total = self.counter.total()
        leading = self._safe(self._try_lead, False)
        while True:
            starts, wait = self._clock.due()
            if starts:
                self._safe(lambda: self._close(starts), None)
            if not leading:
                wait = min(wait, poll)
            if self._stop.wait(wait):
                return
            if not leading:
                leading = self._safe(self._try_lead, False)

    def _safe(self, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as err:  # the ticker must survive anything
            log.exception("flaskscale: ticker error: %s", err)
            if self.engine is not None:
                self.engine.step_errors += 1
                self.engine.last_error = f"{type(err).__name__}: {err}"
            return default

    def _close(self, starts: List[float]) -> None:
        e = self.engine
        total = self.counter.total()
        if e is None:
            self._last_total = total
            return
        delta = total - self._last_total
        self._last_total = total
        per = delta / len(starts)  # a late thread knows only the sum over the missed steps
        with self._lock:
            for st in starts:
                try:
                    e.close_step(st, per)
                except Exception as err:
                    e.step_errors += 1
                    e.last_error = f"{type(err).__name__}: {err}"
                    log.warning("flaskscale: step at %.0f not used: %s", st, err)
            snap = e.snapshot(total, per / self.settings.step_seconds)
            snap["late_steps"] = self._clock.late_steps
            snap["clock_jumps"] = self._clock.jumps
            self._snapshot = snap
            path = self._shared("snapshot.json")
            if path is not None:
                _write_atomic(path, json.dumps(snap))
            if e.steps % self.settings.save_every == 0:
                self._save_state()

    # ---- what the endpoints publish
    def snapshot(self) -> Optional[Dict[str, Any]]:
        if self.engine is not None or self.settings.shared_dir is None:
            return self._snapshot
        path = self._shared("snapshot.json")
        assert path is not None
        try:
            mtime = os.path.getmtime(path)
            if mtime != self._snap_cache[0]:
                with open(path, encoding="utf-8") as fh:
                    self._snap_cache = (mtime, json.load(fh))
        except (OSError, ValueError):
            return self._snap_cache[1]
        return self._snap_cache[1]


_STATES: "weakref.WeakSet[_State]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for st in list(_STATES):
        st.after_fork()


def _stop_all() -> None:
    for st in list(_STATES):
        try:
            st.stop(timeout=2.0)
        except Exception:  # pragma: no cover - shutting down anyway
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_stop_all)


class _Counting:
    """WSGI middleware: counts each request, then calls the app. Never raises on its own."""

    def __init__(self, app: Callable[..., Any], state: _State) -> None:
        self.app = app
        self.state = state
        s = state.settings
        self._own = frozenset((s.metrics_path, s.recommendation_path))
        self._exclude = s.exclude_paths
        self._add = state.counter.add

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            path = environ.get("PATH_INFO", "")
            if path not in self._own and not (self._exclude and path.startswith(self._exclude)):
                self._add()
            if not self.state.started:
                self.state.ensure_started()
        except Exception as err:  # counting must never fail a request
            self.state.count_errors += 1
            if self.state.count_errors == 1:
                log.exception("flaskscale: counting failed: %s", err)
        return self.app(environ, start_response)


def _fmt(v: Any) -> str:
    if v is None:
        return "NaN"
    x = float(v)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(x) if x != int(x) or abs(x) >= 1e15 else str(int(x))


def _label(v: Any) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(
    snap: Optional[Mapping[str, Any]],
    *,
    requests_total: int,
    workers: int,
    settings: Settings,
    now: Optional[float] = None,
) -> str:
    """Prometheus text exposition (format 0.0.4) of a snapshot.

    >>> s = Settings.resolve({}, {"capacity": 10})
    >>> text = render_metrics(None, requests_total=7, workers=2, settings=s)
    >>> [l for l in text.splitlines() if l.startswith("flaskscale_requests_total")]
    ['flaskscale_requests_total 7']
    """
    now = time.time() if now is None else now
    out: List[str] = []

    def metric(name: str, kind: str, help_: str, samples: Iterable[Tuple[str, Any]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{labels} {_fmt(value)}")

    snap = snap or {}
    fc = snap.get("forecast_rps") or {}
    q = settings.quantile
    metric(
        "flaskscale_requests_total",
        "counter",
        "Requests counted by flaskscale over all worker processes of this pod.",
        [("", requests_total)],
    )
    metric(
        "flaskscale_workers",
        "gauge",
        "Worker processes of this pod that count requests.",
        [("", workers)],
    )
    gauges: List[Tuple[str, str, List[Tuple[str, Any]]]] = [
        ("flaskscale_observed_requests_per_second", "Request rate in the last closed step.",
         [("", snap.get("observed_rps"))]),
        ("flaskscale_forecast_requests_per_second",
         "Forecast request rate over the lead window at the given quantile.",
         [(f'{{quantile="{_label(q)}"}}', fc.get("quantile"))]),
        ("flaskscale_forecast_mean_requests_per_second",
         "Mean forecast request rate over the lead window.", [("", fc.get("mean"))]),
        ("flaskscale_desired_replicas", "Replica count the autoscaler recommends.",
         [("", snap.get("desired_replicas"))]),
        ("flaskscale_capacity_per_replica_requests_per_second",
         "Requests per second one replica serves at its SLO.", [("", settings.capacity)]),
        ("flaskscale_lead_seconds", "How far ahead the forecast provisions (pod start-up).",
         [("", settings.startup_seconds)]),
        ("flaskscale_last_fit_timestamp_seconds", "Unix time of the last successful model fit.",
         [("", snap.get("last_fit_time"))] if snap.get("last_fit_time") is not None else []),
        ("flaskscale_snapshot_age_seconds", "Seconds since the autoscaler last decided.",
         [("", now - snap["time"])] if snap.get("time") is not None else []),
    ]
    for name, help_, samples in gauges:
        metric(name, "gauge", help_, samples)
    if snap:
        metric(
            "flaskscale_model_info",
            "gauge",
            "The forecasting model in use and the autoscaler's stage.",
            [(f'{{model="{_label(snap.get("model") or "none")}",'
              f'stage="{_label(snap.get("stage") or "none")}"}}', 1)],
        )
    counters = [
        ("flaskscale_steps_total", "Steps closed by the autoscaler.", snap.get("steps", 0)),
        ("flaskscale_fits_total", "Model fits attempted.", snap.get("fits", 0)),
        ("flaskscale_fit_errors_total", "Model fits that failed.", snap.get("fit_errors", 0)),
        ("flaskscale_step_errors_total", "Steps the autoscaler could not use.",
         snap.get("step_errors", 0)),
        ("flaskscale_late_steps_total", "Steps closed late, their requests spread evenly.",
         snap.get("late_steps", 0)),
        ("flaskscale_clock_jumps_total", "Wall-clock jumps seen by the ticker.",
         snap.get("clock_jumps", 0)),
    ]
    for name, help_, value in counters:
        metric(name, "counter", help_, [("", value)])
    return "\n".join(out) + "\n"


class FlaskScale:
    """The Flask extension. ``FlaskScale(app, capacity=50)``, or ``FlaskScale(capacity=50)`` and
    later :meth:`init_app` (application factories). Options: see :class:`Settings`.

    >>> from flask import Flask
    >>> app = Flask("shop")
    >>> ext = FlaskScale(app, capacity=40, step_seconds=60)
    >>> app.test_client().get("/flaskscale/recommendation").get_json()["desired_replicas"]
    1
    >>> ext.shutdown(app)
    """

    def __init__(self, app: Any = None, **options: Any) -> None:
        # names are checked now; values when an app brings its config
        Settings.resolve({}, {"capacity": 1.0, **options})
        self._options = dict(options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Attaches to ``app``: counting middleware, the two endpoints, the state."""
        from flask import Blueprint

        settings = Settings.resolve(app.config, self._options, os.environ)
        if not settings.enabled:
            return
        if "flaskscale" in app.extensions:
            raise ConfigError("FlaskScale is already initialised on this app")
        state = _State(settings)
        app.extensions["flaskscale"] = state
        app.wsgi_app = _Counting(app.wsgi_app, state)
        bp = Blueprint("flaskscale", __name__)
        bp.add_url_rule(settings.metrics_path, "metrics", self._view(state, self._metrics))
        bp.add_url_rule(
            settings.recommendation_path,
            "recommendation",
            self._view(state, self._recommendation),
        )
        app.register_blueprint(bp)

    @staticmethod
    def state(app: Any) -> _State:
        """The extension's state on ``app`` (for tests and advanced use)."""
        return app.extensions["flaskscale"]  # type: ignore[no-any-return]

    def shutdown(self, app: Any) -> None:
        """Stops the ticker and saves the state. Also runs at interpreter exit."""
        st = app.extensions.get("flaskscale")
        if st is not None:
            st.stop()

    def start(self, app: Any) -> None:
        """Starts the ticker now instead of at the first request."""
        self.state(app).ensure_started()

    @staticmethod
    def _view(state: _State, body: Callable[[_State], Any]) -> Callable[[], Any]:
        from flask import Response, request

        def view() -> Any:
            tok = state.settings.token
            if tok is not None:
                given = request.headers.get("Authorization", "")
                ok = given.startswith("Bearer ") and hmac.compare_digest(
                    given[7:].strip().encode(), tok.encode()
                )
                if not ok:
                    return Response(
                        "missing or wrong bearer token\n",
                        status=401,
                        mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="flaskscale"'},
                    )
            try:
                resp = body(state)
            except Exception as err:
                log.exception("flaskscale: endpoint failed: %s", err)
                resp = Response(f"flaskscale error: {err}\n", status=503, mimetype="text/plain")
            resp.headers["Cache-Control"] = "no-store"
            return resp

        return view

    @staticmethod
    def _metrics(state: _State) -> Any:
        from flask import Response

        text = render_metrics(
            state.snapshot(),
            requests_total=state.counter.total(),
            workers=state.counter.workers(),
            settings=state.settings,
        )
        return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8")

    @staticmethod
    def _recommendation(state: _State) -> Any:
        from flask import Response

        s = state.settings
        snap = dict(state.snapshot() or {})
        now = time.time()
        if not snap:
            snap = {
                "version": _SNAPSHOT_VERSION,
                "time": None,
                "desired_replicas": s.min_replicas,
                "forecast_rps": {"mean": 0.0, "quantile": 0.0, "q": s.quantile},
                "observed_rps": None,
                "capacity_per_replica": s.capacity,
                "reason": "starting",
                "stage": "starting",
                "model": None,
                "explanation": {},
            }
        age = None if snap.get("time") is None else now - snap["time"]
        snap["age_seconds"] = age
        snap["stale"] = age is None or age > 3 * s.step_seconds
        snap["requests_total"] = state.counter.total()
        snap["workers"] = state.counter.workers()
        return Response(json.dumps(snap), mimetype="application/json")

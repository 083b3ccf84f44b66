"""The per-process runtime: the counter, the ticker thread, the leadership among worker
processes (a file lock), saving the state, fork and exit hooks, and the counting middleware."""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import _flaskscale as _fs
from ..exceptions import FlaskscaleError
from .clock import _Clock
from .engine import _Engine, _write_atomic
from .settings import Settings, fcntl

log = logging.getLogger("flaskscale.flask")


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
            if path and path not in e.protected:
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


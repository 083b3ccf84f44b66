"""The engine: closes steps into the Autoscaler, restores and hands over its state, and builds
the snapshot the endpoints publish. Only the leader (the single process, or the lock holder
among workers) has one."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from typing import Any, Dict, List, Optional, Set

from .. import _flaskscale as _fs
from ..exceptions import FlaskscaleError
from .settings import Settings

log = logging.getLogger("flaskscale.flask")

_SNAPSHOT_VERSION = 1


def _config_of(a: _fs.Autoscaler) -> Any:
    return json.loads(a.to_json())["autoscaler"]["config"]


def _newer_format(path: str, fresh: _fs.Autoscaler) -> bool:
    """Whether ``path`` holds an autoscaler state of this format with a newer version than the
    one ``fresh`` (this build) writes."""
    mine = json.loads(fresh.to_json())
    try:
        with open(path, encoding="utf-8") as fh:
            theirs = json.load(fh)
        version = theirs.get("version")
        return (theirs.get("format") == mine["format"] and isinstance(version, int)
                and version > mine["version"])
    except (OSError, ValueError, AttributeError):
        return False


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
        # files this engine must never write: states of a newer format version
        self.protected: Set[str] = set()
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
        for p in candidates:  # whichever is restored, a newer flaskscale's file stays as it is
            if _newer_format(p, fresh):
                self.protected.add(p)
        if not candidates:
            return fresh
        # the newest file wins (the shared hand-over file is usually newer than the state file)
        p = max(candidates, key=os.path.getmtime)
        try:
            old = _fs.Autoscaler.load(p)
        except (FlaskscaleError, OSError, ValueError) as e:
            self.restore_error = f"{p}: {e}"
            if p in self.protected:
                # a newer flaskscale's state: this build must not save its older format over it
                log.warning("flaskscale: state file %s was written by a newer flaskscale (%s); "
                            "starting fresh and leaving the file as it is (no state is saved "
                            "to it)", p, e)
            else:
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
            "lead_seconds": s.lead_seconds(),
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


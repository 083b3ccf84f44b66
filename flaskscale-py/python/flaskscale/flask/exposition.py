"""What the endpoints publish: the Prometheus text exposition and the KEDA metrics-api JSON."""

from __future__ import annotations

import math
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from .engine import _SNAPSHOT_VERSION
from .settings import Settings


def starting_snapshot(settings: Settings) -> Dict[str, Any]:
    """What both endpoints publish before the first step has closed: ``MIN_REPLICAS``
    replicas, a forecast of 0 requests/s (so that a starting pod never raises the count) and
    the reason ``starting``."""
    return {
        "version": _SNAPSHOT_VERSION,
        "time": None,
        "desired_replicas": settings.min_replicas,
        "forecast_rps": {"mean": 0.0, "quantile": 0.0, "q": settings.quantile},
        "observed_rps": None,
        "lead_seconds": settings.lead_seconds(),
        "capacity_per_replica": settings.capacity,
        "reason": "starting",
        "stage": "starting",
        "model": None,
        "explanation": {},
    }


def recommendation(
    snap: Optional[Mapping[str, Any]],
    *,
    settings: Settings,
    requests_total: int,
    workers: int,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """The JSON body of the recommendation endpoint (KEDA's metrics-api scaler reads
    ``forecast_rps.quantile``): the snapshot, or :func:`starting_snapshot` before the first
    step, with its age, whether it is stale (older than 3 steps, or none yet) and the pod's
    request count."""
    now = time.time() if now is None else now
    body = dict(snap or starting_snapshot(settings))
    age = None if body.get("time") is None else now - body["time"]
    body["age_seconds"] = age
    body["stale"] = age is None or age > 3 * settings.step_seconds
    body["requests_total"] = requests_total
    body["workers"] = workers
    return body


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

    snap = snap or starting_snapshot(settings)
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
        ("flaskscale_lead_seconds",
         "How far ahead the forecast provisions: pod start-up plus one step (the interval).",
         [("", settings.lead_seconds())]),
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


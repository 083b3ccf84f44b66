"""``SimReport.to_pandas`` and ``SimReport.plot``: the report's own figures and series,
converted for pandas and matplotlib (optional extras). Nothing is computed here that the core
does not give, except the per-step violation marks of the picture (see :func:`violations`).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

import numpy as np

from .exceptions import FlaskscaleError


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FlaskscaleError("to_pandas needs pandas: pip install pandas") from e
    return pd


def to_pandas(report: Any, policy: Optional[str] = None) -> Any:
    """The summary (one row per policy, in the report's order, the summary's figures as
    columns; a figure the core could not give is NaN), or with ``policy`` that policy's
    timeline (``demand``, ``forecast``, ``target``, ``capacity``, ``queue``, ``dropped``) on a
    UTC DatetimeIndex named ``time``, the steps' starts."""
    pd = _pandas()
    if policy is None:
        summary = report.summary()
        frame = pd.DataFrame.from_dict(summary, orient="index")
        frame.index.name = "policy"
        return frame.astype("float64")
    tl = report.timeline(policy)
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(tl["time"]), unit="s", utc=True), name="time")
    cols = {k: np.asarray(v) for k, v in tl.items() if k != "time"}
    return pd.DataFrame(cols, index=index)


def violations(timeline: Dict[str, np.ndarray]) -> np.ndarray:
    """Steps to mark as SLO violations in the picture: ready capacity below the demand, or
    requests dropped in the step (a missing demand is no violation)."""
    demand = np.nan_to_num(np.asarray(timeline["demand"], dtype=np.float64))
    return (np.asarray(timeline["capacity"]) < demand) | (np.asarray(timeline["dropped"]) > 0)


def plot(report: Any, path: "str | os.PathLike[str]", title: str = "",
         zoom_seconds: float = 86400.0) -> Any:
    """:func:`flaskscale.plot.plot_simulation` of every policy of ``report``; returns the Figure."""
    from .plot import plot_simulation

    names = list(report.names)
    first = report.timeline(names[0])
    summary = report.summary()
    lines = {}
    for name in names:
        tl = report.timeline(name)
        lines[name] = {"capacity": tl["capacity"], "violation": violations(tl),
                       "slo_miss_share": summary[name].get("slo_miss_share")}
    return plot_simulation(first["time"], first["demand"], lines, os.fspath(path), title=title,
                           zoom_seconds=zoom_seconds)

"""Pictures (matplotlib, an optional extra: ``pip install flaskscale[plot]``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .exceptions import FlaskscaleError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FlaskscaleError(
            "plotting needs matplotlib: pip install 'flaskscale[plot]'"
        ) from e
    return plt


def plot_forecast(
    series: Any,
    forecast: Any,
    path: str,
    *,
    history: Optional[int] = None,
    title: str = "",
    levels: Sequence[float] = (),
) -> None:
    """Writes a PNG (or SVG, by the file's ending) of the recent history and the forecast with
    its bands. ``history`` limits how many past steps are drawn (default: 4 × the horizon)."""
    plt = _pyplot()
    values = series.values
    step = series.step
    horizon = len(forecast)
    keep = min(len(values), history if history is not None else 4 * horizon)
    past_t = series.start + step * np.arange(len(values) - keep, len(values))
    fut_t = series.end + step * np.arange(horizon)
    to_dt = lambda t: np.array(t * 1e9, dtype="datetime64[ns]")  # noqa: E731
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    ax.plot(to_dt(past_t), values[len(values) - keep :], color="#333333", lw=1.0, label="observed")
    for lv in sorted(levels or forecast.levels, reverse=True):
        ax.fill_between(
            to_dt(fut_t),
            forecast.lower(lv),
            forecast.upper(lv),
            color="#1f77b4",
            alpha=0.15 + 0.25 * (1 - lv),
            lw=0,
            label=f"{lv:.0%} band",
        )
    ax.plot(to_dt(fut_t), forecast.mean, color="#1f77b4", lw=1.6, label="forecast")
    ax.axvline(to_dt(np.array([series.end]))[0], color="#999999", lw=0.8, ls="--")
    ax.set_ylabel(f"load per {step:g} s step")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", ncol=4, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]


def plot_simulation(
    times: np.ndarray,
    demand: np.ndarray,
    policies: "dict[str, dict[str, np.ndarray]]",
    path: str,
    *,
    title: str = "",
    zoom_seconds: float = 86400.0,
) -> None:
    """Writes a picture of demand against the ready capacity of each policy: the whole trace on
    top, SLO-violation steps marked under it per policy, and a zoom on the worst window below.

    ``times`` are step starts (UTC seconds), ``demand`` is the load in requests/s, and
    ``policies`` maps a name to ``{"capacity": req/s per step, "violation": bool per step}``.
    The zoom window (``zoom_seconds``, one day by default) is the one where the policies other
    than the reference ones ("oracle", "fixed") together violate the SLO for the most steps.
    """
    plt = _pyplot()
    times = np.asarray(times, dtype=np.float64)
    demand = np.asarray(demand, dtype=np.float64)
    n = len(times)
    step = float(times[1] - times[0]) if n > 1 else 60.0
    to_dt = lambda t: np.asarray(np.asarray(t) * 1e9, dtype="datetime64[ns]")  # noqa: E731

    # the worst window, by violation steps of the real (non-reference) policies
    window = max(1, int(round(zoom_seconds / step)))
    real = [p for p in policies if p not in ("oracle", "fixed")] or list(policies)
    bad = np.zeros(n)
    for name in real:
        bad += np.asarray(policies[name]["violation"], dtype=np.float64)
    if n > window:
        sums = np.convolve(bad, np.ones(window), mode="valid")
        start = int(np.argmax(sums)) if sums.max() > 0 else n - window
        hits = np.nonzero(bad[start : start + window])[0]
        if len(hits):  # centre the window on the violations it holds
            centre = start + int(np.median(hits))
            start = int(np.clip(centre - window // 2, 0, n - window))
    else:
        start = 0
    zoom = slice(start, min(n, start + window))

    fig, (ax, axz) = plt.subplots(
        2, 1, figsize=(12, 7.5), dpi=110, gridspec_kw={"height_ratios": [1.1, 1]}
    )
    for a, sl in ((ax, slice(0, n)), (axz, zoom)):
        t = to_dt(times[sl])
        a.fill_between(t, demand[sl], color="#bbbbbb", lw=0, step="post", label="demand")
        for k, (name, p) in enumerate(policies.items()):
            a.step(
                t,
                np.asarray(p["capacity"])[sl],
                where="post",
                color=_COLORS[k % len(_COLORS)],
                lw=0.9 if a is ax else 1.3,
                label=f"{name} capacity",
            )
        a.set_ylabel("requests / s")
        a.set_ylim(bottom=0)
        a.grid(alpha=0.3)
    # violation rugs under the full view, one row per policy
    top = float(np.nanmax(demand)) if np.isfinite(np.nanmax(demand)) else 1.0
    for k, (name, p) in enumerate(policies.items()):
        v = np.asarray(p["violation"], dtype=bool)
        if v.any():
            ax.plot(
                to_dt(times[v]),
                np.full(int(v.sum()), -0.04 * top * (k + 1)),
                "|",
                color=_COLORS[k % len(_COLORS)],
                ms=5,
            )
    ax.set_ylim(bottom=-0.05 * top * (len(policies) + 1))
    ax.axvspan(to_dt(times[zoom.start]), to_dt(times[zoom.stop - 1]), color="#ffd54f", alpha=0.25)
    ax.set_title(title or "demand vs ready capacity (ticks below: SLO-violation steps)")
    axz.set_title("zoom: the worst window for the non-reference policies", fontsize=9)
    ax.legend(loc="upper left", ncol=min(5, len(policies) + 1), fontsize=8)
    for a in (ax, axz):
        a.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_frontier(report: dict, path: str, *, title: str = "") -> None:
    """Writes a picture of a :func:`flaskscale.frontier` report: replica-hours (as a multiple
    of R0) against the share of requests not served within the SLO, every setting of both
    families as a dot and each family's frontier (the lowest share at each cost) as a line,
    with the budgets as vertical guides."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    r0 = report["r0"]
    styles = {"hpa": ("tuned HPA (target x scale-down window)", "tab:gray"),
              "policy": ("predictive (count quantile x reactive target)", "tab:blue")}
    for family, (label, color) in styles.items():
        pts = sorted((p["summary"]["replica_hours"] / r0, p["summary"]["slo_miss_share"])
                     for p in report["points"] if p["family"] == family)
        if not pts:
            continue
        ax.scatter([p[0] for p in pts], [max(p[1], 1e-6) for p in pts], s=12, color=color,
                   alpha=0.45)
        front, best = [], float("inf")
        for c, b in pts:
            if b < best:
                best = b
                front.append((c, max(b, 1e-6)))
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color=color,
                label=label, linewidth=2)
    for b in (0.9, 1.0, 1.1, 1.25):
        ax.axvline(b, color="k", alpha=0.15, linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("replica-hours / R0 (HPA at 70%, 300 s window)")
    ax.set_ylabel("share of requests not served within the SLO")
    ax.set_title(title or "cost vs requests missed")
    ax.legend(loc="upper right")
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

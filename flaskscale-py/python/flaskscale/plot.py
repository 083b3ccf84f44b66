"""Pictures (matplotlib, an optional extra: ``pip install flaskscale[plot]``)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

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
_REFERENCES = ("oracle", "fixed", "fixed-fleet")  # the simulator's reference policies
_MAX_POINTS = 720  # drawn per panel: finer steps are averaged so lines do not fill solid


def _means(x: np.ndarray, k: int) -> np.ndarray:
    """Means of consecutive blocks of ``k`` values (the last block may be shorter; NaN ignored)."""
    if k <= 1:
        return x
    n = len(x)
    pad = (-n) % k
    y = np.concatenate([x, np.full(pad, np.nan)]).reshape(-1, k)
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(y), axis=1)
        sums = np.nansum(y, axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _block(steps: int, step: float) -> int:
    """Steps per drawn block: 1 up to ``_MAX_POINTS`` steps, else the first round length
    (1, 2, 5, 10, 15, 20, 30 min, 1, 2, 3, 6, 12 h, 1 d, ...) that brings them under it."""
    need = steps / _MAX_POINTS
    if need <= 1:
        return 1
    for minutes in (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080):
        k = minutes * 60.0 / step
        if k >= need and abs(k - round(k)) < 1e-9:
            return int(round(k))
    return int(np.ceil(need))


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and abs(seconds / size - round(seconds / size)) < 1e-9:
            return f"{round(seconds / size):g} {unit}"
    return f"{seconds:g} s"


def _label(name: str, p: Dict[str, Any]) -> str:
    """A policy's legend entry: its capacity, and the share of requests that missed the SLO
    (the simulator's headline figure) when given."""
    share = p.get("slo_miss_share")
    if share is None:
        return f"{name} capacity"
    return f"{name} capacity ({100 * share:.2f}% missed the SLO)"


def _style(name: str, k: int) -> Dict[str, Any]:
    if name == "oracle":
        return {"color": "#555555", "ls": (0, (4, 2)), "zorder": 2}
    if name in ("fixed", "fixed-fleet"):
        return {"color": "#999999", "ls": ":", "zorder": 2}
    return {"color": _COLORS[k % len(_COLORS)], "ls": "-", "zorder": 3}


def plot_simulation(
    times: np.ndarray,
    demand: np.ndarray,
    policies: "dict[str, dict[str, np.ndarray]]",
    path: str,
    *,
    title: str = "",
    zoom_seconds: float = 86400.0,
) -> Any:
    """Writes a picture of demand against the ready capacity of each policy and returns the
    matplotlib Figure: the whole trace on top, a strip below it with one row of ticks per
    policy at its SLO-violation steps, and a zoom on the worst window at the bottom.

    ``times`` are step starts (UTC seconds), ``demand`` is the load in requests/s, and
    ``policies`` maps a name to ``{"capacity": req/s per step, "violation": bool per step}``
    and, optionally, ``"slo_miss_share"`` (the share of requests not served within the SLO,
    shown in the legend).
    The zoom window (``zoom_seconds``, one day by default) is the one where the policies other
    than the references ("oracle", "fixed") together violate the SLO for the most steps. A
    panel showing more than 720 steps draws block means (its title says how long), so a
    capacity that follows the demand step by step (the oracle's) stays a line.
    """
    plt = _pyplot()
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    times = np.asarray(times, dtype=np.float64)
    demand = np.asarray(demand, dtype=np.float64)
    n = len(times)
    step = float(times[1] - times[0]) if n > 1 else 60.0
    to_dt = lambda t: np.asarray(np.asarray(t) * 1e9, dtype="datetime64[ns]")  # noqa: E731

    # the worst window, by violation steps of the real (non-reference) policies
    window = max(1, int(round(zoom_seconds / step)))
    real = [p for p in policies if p not in _REFERENCES] or list(policies)
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
    zoom_bad = int(bad[zoom].sum())

    rows = max(1, len(policies))
    fig, (ax, axv, axz) = plt.subplots(
        3, 1, figsize=(12, 8.5 + 0.15 * rows), dpi=110,
        gridspec_kw={"height_ratios": [3.0, 0.25 + 0.22 * rows, 2.6], "hspace": 0.32},
    )
    axv.sharex(ax)
    averaged = {}
    for a, sl in ((ax, slice(0, n)), (axz, zoom)):
        k = _block(sl.stop - sl.start, step)
        averaged[a] = k
        t = to_dt(times[sl][::k])
        a.fill_between(t, _means(demand[sl], k), color="#c8c8c8", lw=0, step="post",
                       label="demand", zorder=1)
        for j, (name, p) in enumerate(policies.items()):
            a.step(t, _means(np.asarray(p["capacity"], dtype=np.float64)[sl], k), where="post",
                   lw=1.0 if a is ax else 1.4, label=_label(name, p), **_style(name, j))
        a.set_ylabel("requests / s")
        a.set_ylim(bottom=0, top=1.35 * a.get_ylim()[1])  # room for the legend above the peak
        a.grid(alpha=0.3)
        loc = mdates.AutoDateLocator()
        a.xaxis.set_major_locator(loc)
        a.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))

    # the violation strip: one row per policy, a tick at each violating step
    for j, (name, p) in enumerate(policies.items()):
        v = np.asarray(p["violation"], dtype=bool)
        if v.any():
            axv.plot(to_dt(times[v]), np.full(int(v.sum()), j), "|", ms=7, mew=1.0,
                     color=_style(name, j)["color"])
    axv.set_yticks(range(rows), list(policies) or [""], fontsize=8)
    axv.set_ylim(rows - 0.5, -0.5)
    axv.tick_params(axis="x", labelbottom=False)
    axv.grid(axis="x", alpha=0.3)
    axv.set_title("SLO-violation steps (ready capacity below demand, or requests dropped)",
                  fontsize=9, loc="left")
    ax.axvspan(to_dt(times[zoom.start]), to_dt(times[zoom.stop - 1]), color="#ffd54f",
               alpha=0.25, zorder=0)
    axv.axvspan(to_dt(times[zoom.start]), to_dt(times[zoom.stop - 1]), color="#ffd54f",
                alpha=0.25, zorder=0)

    mean_note = lambda a: (f" ({_duration(averaged[a] * step)} means)"  # noqa: E731
                           if averaged[a] > 1 else "")
    ax.set_title((title or "demand vs ready capacity") + mean_note(ax))
    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], marker="|", ls="", color="#444444", ms=8, label="SLO-violation step (strip)"),
        plt.Rectangle((0, 0), 1, 1, color="#ffd54f", alpha=0.4, label="zoomed window"),
    ]
    ax.legend(handles=handles, loc="upper left", ncol=3, fontsize=8,
              title="ready capacity (in brackets: the share of requests that missed the SLO)",
              title_fontsize=8)
    fmt = "%Y-%m-%d %H:%M"
    t0, t1 = times[zoom.start], times[zoom.stop - 1] + step
    import time as _time
    span = f"{_time.strftime(fmt, _time.gmtime(t0))} to {_time.strftime(fmt, _time.gmtime(t1))} UTC"
    which = ", ".join(real)
    axz.set_title(
        f"zoom: {span}, the {_duration(window * step)} with the most SLO-violation steps of "
        f"{which}: {zoom_bad}" + (f"; {_duration(averaged[axz] * step)} means"
                                  if averaged[axz] > 1 else ""),
        fontsize=9,
    )
    axz.legend(loc="upper left", ncol=3, fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.06)
    fig.savefig(path)
    plt.close(fig)
    return fig


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
    # the policy's defaults, where the sweep holds them (or the one setting replayed)
    from . import _flaskscale as _fs
    policy = [p for p in report["points"] if p["family"] == "policy"]
    defaults = [p for p in policy
                if abs(p.get("quantile", -1.0) - _fs.DEFAULT_QUANTILE) < 1e-12
                and abs(p.get("target", -1.0) - _fs.DEFAULT_HPA_UTILIZATION) < 1e-12]
    if len(policy) == 1:
        defaults = policy
    for p in defaults[:1]:
        ax.scatter([p["summary"]["replica_hours"] / r0], [max(p["summary"]["slo_miss_share"], 1e-6)],
                   marker="*", s=160, color="tab:orange", edgecolor="k", zorder=5,
                   label="the policy's defaults")
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

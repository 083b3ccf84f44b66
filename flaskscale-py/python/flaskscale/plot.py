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

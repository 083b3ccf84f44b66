"""The ``flaskscale`` command line.

``flaskscale forecast TRACE`` reads a ``timestamp,value`` CSV or an access log, scores the
available models on a holdout at the end of the trace, and prints the chosen model's forecast
with prediction bands. Errors are one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
import sys
import threading
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

import numpy as np

from . import _flaskscale as _fs
from .exceptions import FlaskscaleError

_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MAX_REPLICAS = 2**32 - 1  # the core counts replicas in 32 bits

_EPILOG = """examples:
  flaskscale simulate datasets/shop-2w/shop_2w_per_minute.csv --plot sim.png
  flaskscale simulate datasets/shop-2w/shop_2w_per_minute.csv --hpa my-hpa.yaml --capacity 40
  flaskscale simulate datasets/shop-2w/shop_2w_per_minute.csv --write-manifest keda.yaml
  flaskscale simulate ../shared/traces/nasa-http-1995/nasa_http_1995_per_minute.csv --startup 2m --json out.json
  flaskscale simulate ../shared/traces/nasa-http-1995/nasa_http_1995_per_minute.csv --floor 30m --floor-factor 1.2
  flaskscale sweep datasets/shop-2w/shop_2w_per_minute.csv --quantiles 0.8 0.9 0.95 --utilizations 0.7 0.8
  flaskscale forecast ../shared/traces/wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv --horizon 1d
  flaskscale forecast access.log --step 5m --horizon 2h --model seasonal_naive --season 1d
  flaskscale forecast trace.csv --resample 1h --horizon 48 --levels 0.8 0.95 --plot fc.png
"""


def parse_duration(text: str, step: Optional[float] = None) -> float:
    """Seconds in ``'90s'``, ``'5m'``, ``'2h'``, ``'1d'``, ``'1w'``; a bare number is a count of
    steps when ``step`` is given, else seconds.

    >>> parse_duration("2h"), parse_duration("48", step=3600.0), parse_duration("1.5d")
    (7200.0, 172800.0, 129600.0)
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*", text)
    shown = repr(text if len(text) <= 24 else text[:20] + "...")
    if not m or (m.group(2) and m.group(2) not in _UNITS):
        raise argparse.ArgumentTypeError(
            f"bad duration {shown}: use a number with s, m, h, d or w (e.g. 2h)"
        )
    value = float(m.group(1))
    unit = m.group(2)
    seconds = value * _UNITS[unit] if unit else value * step if step is not None else value
    if not math.isfinite(seconds):
        raise argparse.ArgumentTypeError(f"bad duration {shown}: too large")
    return seconds


def load_trace(path: str, step: Optional[float]) -> _fs.Series:
    """A CSV (``timestamp,value``) or, for anything else, an access log counted per step
    (``step`` seconds, 1 minute when None)."""
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf").lower()
    if head.startswith(b"timestamp"):
        return _fs.Series.from_csv(path)
    return _fs.Series.from_access_log(path, step=60.0 if step is None else step)


# The checks of option values: each raises a FlaskscaleError naming the option, which main()
# prints as one line (exit code 2).


def _duration(option: str, text: str, step: Optional[float] = None) -> float:
    """:func:`parse_duration` of an option's value, its error naming the option."""
    try:
        return parse_duration(text, step)
    except argparse.ArgumentTypeError as e:
        raise FlaskscaleError(f"{option}: {e}") from None


def _positive(option: str, value: float) -> float:
    """A finite number > 0."""
    if not (math.isfinite(value) and value > 0):
        raise FlaskscaleError(f"{option} must be a finite number > 0, got {value:g}")
    return value


def _count(option: str, value: int, minimum: int, maximum: Optional[int] = None) -> int:
    """A whole number from ``minimum`` to ``maximum`` (no upper bound when None)."""
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise FlaskscaleError(f"{option} must be a whole number {bounds}, got {value}")
    return value


def _steps(seconds: float, step: float, what: str, minimum: int = 1) -> int:
    """``seconds`` as a whole number (at least ``minimum``) of ``step``-second steps; ``what``
    names the length in the error."""
    n = seconds / step
    if n > sys.maxsize:
        raise FlaskscaleError(f"{what} is {n:.3g} steps of {step:g} s: too many")
    if n < minimum or abs(n - round(n)) > 1e-9:
        raise FlaskscaleError(
            f"{what} must be a whole number of steps, at least {minimum}: "
            f"it is {seconds:g} s, {n:.6g} steps of {step:g} s"
        )
    return int(round(n))


def _picture(option: str, path: Optional[str]) -> None:
    """A picture file's ending names a format matplotlib writes (checked before any work; without
    matplotlib, plotting itself says that it is missing). No ending means PNG."""
    ending = os.path.splitext(path or "")[1]
    if not ending:
        return
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return
    formats = FigureCanvasBase.get_supported_filetypes()
    if ending[1:].lower() not in formats:
        raise FlaskscaleError(
            f"{option} {path}: matplotlib cannot write {ending!r} files; "
            f"use one of {', '.join('.' + f for f in sorted(formats))}"
        )


def _season(args: argparse.Namespace, step: float) -> Optional[int]:
    """The season in steps: ``--season`` (a duration or a count of steps, at least 2 and whole),
    none for ``--season none``, and by default a day when that is a whole number (>= 2) of
    steps."""
    if args.season == "none":
        return None
    if args.season is None:
        try:
            return _steps(86400.0, step, "a day", minimum=2)
        except FlaskscaleError:
            return None
    season_s = _duration("--season", args.season, step)
    return _steps(season_s, step, f"the season (--season {args.season})", minimum=2)


def _models(season: Optional[int], horizon: int, season_given: bool) -> Dict[str, Callable[[], object]]:
    """Every model the command offers, by name. ``auto`` is the AutoForecaster, optimised for the
    horizon: it detects its own seasons unless ``--season`` was given."""
    models: Dict[str, Callable[[], object]] = {
        "auto": lambda: _fs.AutoForecaster(
            horizon=horizon, season_lengths=[season] if (season_given and season) else None
        ),
        "naive": _fs.Naive,
        "drift": _fs.Drift,
        "linear_trend": lambda: _fs.LinearTrend(window=season * 7 if season else None),
    }
    if season:
        models["seasonal_naive"] = lambda: _fs.SeasonalNaive(season)
        models["holt_winters"] = lambda: _fs.HoltWinters(season, trend="damped")
        if season >= 3:
            models["fourier"] = lambda: _fs.FourierRegression([season])
    else:
        models["holt_winters"] = lambda: _fs.HoltWinters(trend="damped")
    return models


def _num(v: float) -> str:
    """A forecast figure: thousands separators, one decimal (none from 10,000 up)."""
    return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:,.1f}"


def _fmt_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def _step_option(args: argparse.Namespace) -> Optional[float]:
    """--step, the step of access logs (None when not given)."""
    if args.step is None:
        return None
    return _positive("--step", _duration("--step", args.step))


def cmd_forecast(args: argparse.Namespace) -> int:
    _count("--rows", args.rows, minimum=0)
    _picture("--plot", args.plot)
    series = load_trace(args.trace, _step_option(args))
    if args.resample is not None:
        series = series.resample(_positive("--resample", _duration("--resample", args.resample)),
                                 how="sum")
    step = series.step
    horizon_s = _duration("--horizon", args.horizon, step)
    horizon = _steps(horizon_s, step, f"the horizon (--horizon {args.horizon})")
    season = _season(args, step)
    models = _models(season, horizon, args.season is not None)
    if args.model not in models:
        raise FlaskscaleError(
            f"unknown or unusable model {args.model!r}; available here: {', '.join(models)}"
        )
    values = series.values
    n = len(values)
    print(
        f"{args.trace}: {n} steps of {step:g} s from {_fmt_time(series.start)} UTC, "
        f"{series.missing} missing; season {season or 'none'} steps"
    )
    # holdout: the last `horizon` steps, scored for every model (MASE scale: seasonal naive)
    train, test = values[:-horizon], values[horizon * -1 :]
    known = ~np.isnan(test)
    scores: List[tuple] = []
    if n > 2 * horizon and known.any():
        print(f"\nholdout: last {horizon} steps ({int(known.sum())} known)")
        print(f"{'model':<16}{'MASE':>8}{'sMAPE %':>9}{'pinball q=.9':>14}{'cover 80%':>11}")
        filled = _fs.Series(train, start=series.start, step=step).fill_gaps().values
        mase_error = None
        for name, make in models.items():
            try:
                fc = make().fit(train).predict(horizon, levels=[0.8])  # type: ignore[attr-defined]
                y, f = test[known], fc.mean[known]
                row = (
                    _fs.smape(y, f),
                    _fs.pinball(y, fc.quantile(0.9)[known], q=0.9),
                    _fs.coverage(y, fc.lower(0.8)[known], fc.upper(0.8)[known]),
                )
            except FlaskscaleError as e:
                print(f"{name:<16}  not scored: {e}")
                continue
            try:  # the MASE scale comes from the training data alone: the same for every model
                mase = f"{_fs.mase(y, f, filled, m=season or 1):>8.3f}"
            except FlaskscaleError as e:
                mase, mase_error = f"{'-':>8}", str(e)
            scores.append((name, row))
            print(f"{name:<16}{mase}{row[0]:>9.2f}{_num(row[1]):>14}{row[2]:>11.0%}")
        if mase_error is not None:
            print(f"MASE not scored: {mase_error}")
    chosen = args.model
    fitted = models[chosen]().fit(values)  # type: ignore[attr-defined]
    why = fitted.why()
    print(f"\nmodel: {chosen}" + (f"\n{why}" if why else ""))
    levels = sorted(args.levels)
    fc = fitted.predict(horizon, levels=levels)
    header = f"{'time (UTC)':<18}{'mean':>14}"
    for lv in levels:
        header += f"{f'lo {lv:.0%}':>14}{f'hi {lv:.0%}':>14}"
    print(header)
    shown = range(horizon) if horizon <= args.rows else np.linspace(0, horizon - 1, args.rows).astype(int)
    for i in shown:
        line = f"{_fmt_time(series.end + i * step):<18}{_num(fc.mean[i]):>14}"
        for lv in levels:
            line += f"{_num(fc.lower(lv)[i]):>14}{_num(fc.upper(lv)[i]):>14}"
        print(line)
    if args.plot:
        from .plot import plot_forecast

        plot_forecast(series, fc, args.plot, title=f"{args.trace.split('/')[-1]}: {chosen}")
        print(f"\nplot written to {args.plot}")
    return 0


class ProgressBar:
    """Draws a :class:`Progress` counter as one line on ``stream`` (stderr by default, so the
    tables on stdout stay clean). With ``delay`` > 0 nothing is drawn for runs shorter than
    that; ``expected`` is the total when the runs watched start one after another (a sweep).

    >>> import io
    >>> p = _fs.Progress(); out = io.StringIO()
    >>> bar = ProgressBar(p, "replay", out, width=10, expected=4000)
    >>> bar.draw(final=True); out.getvalue().strip()
    'replay   0% [..........] 0/4,000 steps 0.0 s'
    """

    def __init__(self, progress: Any, label: str, stream: Optional[TextIO] = None, *,
                 width: int = 30, delay: float = 0.0, expected: int = 0) -> None:
        self.progress = progress
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.delay = delay
        self.expected = expected
        self.t0 = time.perf_counter()
        self.drawn = False

    def draw(self, final: bool = False) -> None:
        elapsed = time.perf_counter() - self.t0
        if not final and elapsed < self.delay:
            return
        if final and not self.drawn and elapsed < self.delay:
            return  # a short run: no bar at all
        total = max(self.progress.total, self.expected, 1)
        done = min(self.progress.done, total)
        frac = done / total
        filled = int(round(frac * self.width))
        line = (f"{self.label} {frac:>4.0%} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{done:,}/{total:,} steps {elapsed:.1f} s")
        self.stream.write("\r" + line + ("\n" if final else ""))
        self.stream.flush()
        self.drawn = True


def run_with_progress(work: Callable[[Any], Any], label: str, mode: Optional[bool], *,
                      expected: int = 0, stream: Optional[TextIO] = None) -> Any:
    """Runs ``work(progress)`` in a worker thread (the simulation releases the GIL) while this
    thread draws the bar: always when ``mode`` is True, never when False, and when None only
    if the stream is a terminal and the run lasts longer than half a second. Ctrl-C cancels
    the simulation and raises KeyboardInterrupt once it has stopped."""
    stream = stream if stream is not None else sys.stderr
    if mode is None:
        mode = bool(getattr(stream, "isatty", lambda: False)())
        delay = 0.5
    else:
        delay = 0.0
    progress = _fs.Progress()
    result: Dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = work(progress)
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    worker = threading.Thread(target=target, name="flaskscale-simulate", daemon=True)
    bar = ProgressBar(progress, label, stream, delay=delay, expected=expected) if mode else None
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            if bar is not None and worker.is_alive():
                bar.draw()
    except KeyboardInterrupt:
        progress.cancel()
        worker.join()
        if bar is not None and bar.drawn:
            stream.write("\n")
        raise
    if bar is not None and "error" not in result:
        bar.draw(final=True)
    elif bar is not None and bar.drawn:
        stream.write("\n")
    if "error" in result:
        raise result["error"]
    return result["value"]


def _sim_setup(args: argparse.Namespace) -> tuple:
    if args.capacity is not None:
        _positive("--capacity", args.capacity)
    _count("--max-replicas", args.max_replicas, minimum=1, maximum=_MAX_REPLICAS)
    startup = _duration("--startup", args.startup)
    interval = _duration("--interval", args.interval)
    series = load_trace(args.trace, _step_option(args))
    rate_peak = series.stats()["max"] / series.step
    if not math.isfinite(rate_peak) or rate_peak <= 0:
        raise FlaskscaleError("the trace has no positive load to scale for")
    capacity = rate_peak / _fs.DEFAULT_PEAK_REPLICAS if args.capacity is None else args.capacity
    return series, capacity, startup, interval


def _floor(args: argparse.Namespace) -> Dict[str, Any]:
    """The predictive policy's recent-load floor keywords from --floor and friends."""
    if not args.floor:
        return {}
    return {"floor_window_seconds": _duration("--floor", args.floor),
            "floor_factor": args.floor_factor, "floor_quantile": args.floor_quantile}


def _reactive(args: argparse.Namespace, capacity: float, max_r: int) -> Dict[str, Any]:
    """The predictive policy's reactive HPA from --predictive-utilization (the core's when unset)."""
    if args.predictive_utilization is None:
        return {}
    return {"hpa": _fs.HpaPolicy(args.predictive_utilization * capacity, max_replicas=max_r)}


def _policy_file(path: str, capacity: float) -> Dict[str, Any]:
    """The policies of a JSON file (see :func:`_policies`); any fault is a FlaskscaleError that
    names the file and the entry."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            spec = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FlaskscaleError(f"{path}: not a JSON file of policies: {e}") from None
    except RecursionError:
        raise FlaskscaleError(f"{path}: not a JSON file of policies: nested too deep") from None
    except ValueError as e:  # an integer beyond Python's int-from-text limit of digits
        raise FlaskscaleError(f"{path}: not a JSON file of policies: {e}") from None
    if not isinstance(spec, dict):
        raise FlaskscaleError(f"{path}: expected a JSON object of named policies")
    out: Dict[str, Any] = {}
    for name, body in spec.items():
        try:
            out[name] = _policy_entry(body, os.path.dirname(os.path.abspath(path)), capacity)
        except (FlaskscaleError, OSError, TypeError, ValueError, OverflowError) as e:
            # argument conversions name the keyword at fault in a note
            notes = "".join(f" ({note})" for note in getattr(e, "__notes__", []))
            raise FlaskscaleError(f"{path}: policy {name!r}: {e}{notes}") from None
    return out


def _policy_entry(body: Any, folder: str, capacity: float) -> Any:
    """One entry of a policy file: an HpaPolicy, a PredictivePolicy or a schedule (a Series)."""
    if not isinstance(body, dict):
        raise FlaskscaleError("expected an object")
    if "hpa" in body:
        return _fs.HpaPolicy.from_config(body["hpa"])
    if "manifest" in body:  # a real HPA / ScaledObject file, read as --hpa reads it
        if not isinstance(body["manifest"], str):
            raise FlaskscaleError("expected 'manifest' to be the path of a Kubernetes manifest")
        return _fs.HpaPolicy.from_manifest(os.path.join(folder, body["manifest"]),
                                           capacity_per_replica=capacity)
    if "predictive" in body:
        kw = body["predictive"]
        if not isinstance(kw, dict):
            raise FlaskscaleError("expected 'predictive' to be an object of PredictivePolicy keywords")
        known = inspect.signature(_fs.PredictivePolicy).parameters
        for key in kw:
            if key not in known:
                raise FlaskscaleError(f"{key!r} is not a PredictivePolicy keyword")
        kw = dict(kw)
        if "hpa" in kw:  # its reactive side, as an autoscaling/v2 config like an 'hpa' entry's
            kw["hpa"] = _fs.HpaPolicy.from_config(kw["hpa"])
        return _fs.PredictivePolicy(kw.pop("capacity_per_replica", capacity), **kw)
    if "schedule" in body:
        if not isinstance(body["schedule"], str):
            raise FlaskscaleError("expected 'schedule' to be the path of a CSV of replica counts")
        return _fs.Series.from_csv(os.path.join(folder, body["schedule"]))
    raise FlaskscaleError("expected an 'hpa', 'manifest', 'predictive' or 'schedule' entry")


def _policies(args: argparse.Namespace, capacity: float, startup: float, interval: float,
              quantile: Optional[float], utilization: float) -> dict:
    """The HPA at the given target utilisation and the predictive policy, or the policies of a
    JSON file: {"name": {"hpa": {autoscaling/v2 config}} | {"predictive": {kwargs, "hpa" an
    autoscaling/v2 config}} | {"schedule": "plan.csv"}}, a schedule being a CSV of planned replica counts per step
    (``timestamp,value``; a relative path is taken from the JSON file's folder)."""
    if args.policy:
        return _policy_file(args.policy, capacity)
    max_r = args.max_replicas
    hpa_file = getattr(args, "hpa", None)
    if hpa_file:
        # the user's own HPA, and the predictive policy wrapping it (its target, bounds and
        # behavior as the reactive path): a Utilization target is a share of --capacity
        hpa = _fs.HpaPolicy.from_manifest(hpa_file, capacity_per_replica=capacity)
        reactive = {"hpa": _fs.HpaPolicy.from_manifest(hpa_file, capacity_per_replica=capacity)}
        max_r = None
    else:
        hpa = _fs.HpaPolicy(utilization * capacity, max_replicas=max_r)
        reactive = _reactive(args, capacity, max_r)
    return {
        "hpa": hpa,
        "predictive": _fs.PredictivePolicy(
            capacity,
            startup_seconds=startup,
            interval_seconds=interval,
            quantile=quantile,
            max_replicas=max_r,
            **reactive,
            **_floor(args),
        ),
    }


def _figure(value: Optional[float], width: int, fmt: str = "", scale: float = 1) -> str:
    """A figure of a report, right-aligned in ``width`` columns; a figure the core could not
    give (None, for a non-finite one) is a "-".

    >>> _figure(0.25, 6, ".1f", 100), _figure(None, 6, ".1f")
    ('  25.0', '     -')
    """
    if value is None:
        return f"{'-':>{width}}"
    return f"{scale * value:>{width}{fmt}}"


def _print_summary(summary: dict) -> None:
    """The summary table; the policy column is as wide as the longest name."""
    w = max(14, 2 + max((len(name) for name in summary), default=0))
    print(f"{'policy':<{w}}{'SLO missed %':>13}{'violation min':>14}{'dropped %':>10}"
          f"{'delayed %':>10}{'replica-h':>11}{'util %':>8}{'over-prov h':>12}{'ups':>6}"
          f"{'downs':>6}{'peak':>6}")
    for name, v in summary.items():
        print(f"{name:<{w}}{_figure(v['slo_miss_share'], 13, '.3f', 100)}"
              f"{_figure(v['violation_minutes'], 14, '.1f')}"
              f"{_figure(v['dropped_share'], 10, '.3f', 100)}"
              f"{_figure(v['delayed_share'], 10, '.2f', 100)}"
              f"{_figure(v['replica_hours'], 11, '.1f')}"
              f"{_figure(v['mean_utilisation'], 8, '.1f', 100)}"
              f"{_figure(v['over_provisioned_replica_hours'], 12, '.1f')}"
              f"{_figure(v['scale_ups'], 6)}{_figure(v['scale_downs'], 6)}"
              f"{_figure(v['peak_replicas'], 6)}")


def cmd_simulate(args: argparse.Namespace) -> int:
    _picture("--plot", args.plot)
    if args.hpa and args.policy:
        raise FlaskscaleError("--hpa and --policy: give one of them")
    series, capacity, startup, interval = _sim_setup(args)
    policies = _policies(args, capacity, startup, interval, args.quantile, args.target_utilization)
    print(
        f"{args.trace}: {len(series)} steps of {series.step:g} s, {series.missing} missing; "
        f"capacity {capacity:.4g} req/s per replica, startup {startup:g} s, "
        f"decisions every {interval:g} s"
    )
    t0 = time.perf_counter()
    report = run_with_progress(
        lambda progress: _fs.simulate(series, policies, capacity_per_replica=capacity,
                                      startup_seconds=startup, interval_seconds=interval,
                                      max_replicas=args.max_replicas, progress=progress),
        "simulate", args.progress)
    summary = report.summary()
    print(f"replayed {len(policies)} policies and the references in {time.perf_counter() - t0:.2f} s\n")
    _print_summary(summary)
    if "hpa" in summary and "predictive" in summary:
        h, p = summary["hpa"], summary["predictive"]
        figures = (h["slo_miss_share"], h["replica_hours"], p["slo_miss_share"],
                   p["replica_hours"])
        if None not in figures and h["replica_hours"] > 0:
            print(f"\nrequests not served within the SLO: predictive {p['slo_miss_share']:.3%}, "
                  f"hpa {h['slo_miss_share']:.3%}; replica-hours "
                  f"{p['replica_hours'] / h['replica_hours'] - 1:+.1%}")
            if isinstance(policies["predictive"], _fs.PredictivePolicy):
                _print_tuned(series, policies["predictive"], capacity, startup, interval, args, p)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(report.to_json())
        print(f"report written to {args.json}")
    if args.csv:
        with open(args.csv, "w") as fh:
            fh.write(report.to_csv())
        print(f"time series written to {args.csv}")
    if args.plot:
        report.plot(args.plot, title=f"{os.path.basename(args.trace)}: demand vs ready capacity")
        print(f"plot written to {args.plot}")
    if args.write_manifest:
        _write_manifest(args, policies)
    return 0


def _write_manifest(args: argparse.Namespace, policies: Dict[str, Any]) -> None:
    """--write-manifest: the KEDA ScaledObject or HPA of the predictive policy simulated."""
    from ._manifest import dump

    pol = policies.get("predictive")
    if not isinstance(pol, _fs.PredictivePolicy):
        raise FlaskscaleError("--write-manifest needs a policy named 'predictive' that is a "
                              "PredictivePolicy")
    doc = pol.manifest(args.manifest_kind, name=args.manifest_name)
    dump(doc, args.write_manifest)
    print(f"{args.manifest_kind} manifest of the predictive policy written to "
          f"{args.write_manifest}")


def _print_tuned(series: Any, policy: Any, capacity: float, startup: float, interval: float,
                 args: argparse.Namespace, mine: dict) -> None:
    """The best-tuned HPA (the frontier's family) within the predictive policy's cost."""
    rep = _fs.frontier(series, policy, capacity_per_replica=capacity, startup_seconds=startup,
                       interval_seconds=interval, max_replicas=args.max_replicas,
                       sweep_policy=False)
    within = [p for p in rep["points"] if p["family"] == "hpa"
              and p["summary"]["replica_hours"] <= mine["replica_hours"]]
    if not within:
        print("no tuned HPA setting is as cheap as the predictive policy")
        return
    best = min(within, key=lambda p: p["summary"]["slo_miss_share"])
    print(f"the best-tuned HPA within the predictive policy's replica-hours ({_setting(best)}): "
          f"{best['summary']['slo_miss_share']:.3%} not served within the SLO "
          f"({len(rep['points']) - 1} HPA settings; flaskscale frontier for every budget)")


def _setting(p: dict) -> str:
    """A frontier point's setting in words."""
    if p["family"] == "hpa":
        return f"HPA {p['target']:.0%}, {p['window_seconds']} s window"
    return f"q {p['quantile']:g}, reactive {p['target']:.0%}"


def _frontier_policy(args: argparse.Namespace, capacity: float) -> Optional[Any]:
    """The policy under test: the one 'predictive' entry of --policy, or the defaults."""
    if not args.policy:
        return None
    found = [p for p in _policy_file(args.policy, capacity).values()
             if isinstance(p, _fs.PredictivePolicy)]
    if len(found) != 1:
        raise FlaskscaleError(f"{args.policy}: expected exactly one 'predictive' entry, "
                              f"got {len(found)}")
    return found[0]


def cmd_frontier(args: argparse.Namespace) -> int:
    _picture("--plot", args.plot)
    series, capacity, startup, interval = _sim_setup(args)
    policy = _frontier_policy(args, capacity)
    print(f"{args.trace}: {len(series)} steps of {series.step:g} s; capacity {capacity:.4g} req/s "
          f"per replica, startup {startup:g} s, decisions every {interval:g} s")
    t0 = time.perf_counter()
    rep = run_with_progress(
        lambda progress: _fs.frontier(series, policy, capacity_per_replica=capacity,
                                      startup_seconds=startup, interval_seconds=interval,
                                      max_replicas=args.max_replicas, progress=progress),
        "frontier", args.progress)
    pts = rep["points"]
    print(f"replayed {len(pts)} settings in {time.perf_counter() - t0:.1f} s; "
          f"R0 = {rep['r0']:,.0f} replica-hours (HPA 70%, 300 s), B0 = {rep['b0']:.3%}\n")
    print("B = share of requests not served within the SLO; best of each family within the budget")
    print(f"{'budget':>8}{'tuned HPA B':>13}{'policy B':>11}{'ratio':>8}  policy setting / HPA setting")
    for row in rep["budgets"]:
        h, p = row["hpa"], row["policy"]
        ratio = f"{p[0] / h[0]:.2f}" if h and p and h[0] > 0 else "-"
        print(f"{row['budget']:>7.2f}x{_share(h):>13}{_share(p):>11}{ratio:>8}  "
              f"{_setting(pts[p[1]]) if p else '-'} / {_setting(pts[h[1]]) if h else '-'}")
    print(f"\n{'served':>8}{'tuned HPA RH':>14}{'policy RH':>12}{'ratio':>8}")
    for row in rep["service"]:
        h, p = row["hpa"], row["policy"]
        ratio = f"{p[0] / h[0]:.2f}" if h and p else "-"
        print(f"{row['served']:>8.1%}{_rh(h):>14}{_rh(p):>12}{ratio:>8}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rep, fh)
        print(f"frontier written to {args.json}")
    if args.plot:
        from .plot import plot_frontier

        plot_frontier(rep, args.plot, title=f"{os.path.basename(args.trace)}: cost vs requests missed")
        print(f"plot written to {args.plot}")
    return 0


def _share(best: Optional[list]) -> str:
    return "-" if not best else f"{best[0]:.3%}"


def _rh(best: Optional[list]) -> str:
    return "-" if not best else f"{best[0]:,.0f}"


def cmd_sweep(args: argparse.Namespace) -> int:
    series, capacity, startup, interval = _sim_setup(args)
    grid = [(q, u) for q in args.quantiles for u in args.utilizations]
    policies = [_fs.PredictivePolicy(capacity, startup_seconds=startup, interval_seconds=interval,
                                     quantile=q, max_replicas=args.max_replicas,
                                     hpa=_fs.HpaPolicy(u * capacity, max_replicas=args.max_replicas),
                                     **_floor(args))
                for q, u in grid]

    t0 = time.perf_counter()
    # the core runs the grid points in parallel and finds the Pareto front
    result = run_with_progress(
        lambda progress: _fs.sweep(series, policies, capacity_per_replica=capacity,
                                   startup_seconds=startup, max_replicas=args.max_replicas,
                                   progress=progress),
        "sweep", args.progress, expected=len(grid) * len(series))
    rows, front = result["rows"], set(result["pareto"])
    print(f"{len(grid)} points in {time.perf_counter() - t0:.2f} s; * = on the Pareto front "
          f"(no point has both fewer replica-hours and fewer violation minutes)\n")
    print(f"{'quantile':>9}{'reactive util':>14}{'replica-h':>11}{'violation min':>14}{'dropped %':>10}")
    for (q, u), r, i in zip(grid, rows, range(len(rows))):
        mark = "*" if i in front else " "
        print(f"{q:>9.3f}{u:>14.2f}{_figure(r['replica_hours'], 11, '.1f')}"
              f"{_figure(r['violation_minutes'], 14, '.1f')}"
              f"{_figure(r['dropped_share'], 10, '.3f', 100)} {mark}")
    return 0


def _sim_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("trace", help="timestamp,value CSV (requests per step) or an access log")
    p.add_argument("--step", help="step for access logs (default 1m)")
    p.add_argument("--capacity", type=float, help="req/s one replica serves (default: peak / 20)")
    p.add_argument("--startup", default=f"{_fs.DEFAULT_STARTUP_SECONDS:g}s",
                   help=f"replica start-up delay (default {_fs.DEFAULT_STARTUP_SECONDS:g}s)")
    p.add_argument("--interval", default=f"{_fs.DEFAULT_INTERVAL_SECONDS:g}s",
                   help=f"decision interval (default {_fs.DEFAULT_INTERVAL_SECONDS:g}s)")
    p.add_argument("--max-replicas", type=int, default=_fs.DEFAULT_MAX_REPLICAS,
                   help=f"quota (default {_fs.DEFAULT_MAX_REPLICAS})")
    p.add_argument("--predictive-utilization", type=float, default=None,
                   help="target utilisation of the predictive policy's reactive path (default: "
                        f"the core's, {_fs.DEFAULT_HPA_UTILIZATION:g} with no scale-down window)")
    p.add_argument("--floor", metavar="WINDOW",
                   help="give the predictive policy a floor from the recent load: at least "
                        "--floor-factor x the --floor-quantile of the per-step load over this "
                        "window (e.g. 30m; default: no floor)")
    p.add_argument("--floor-factor", type=float, default=_fs.DEFAULT_FLOOR_FACTOR,
                   help=f"factor of the recent-load floor (default {_fs.DEFAULT_FLOOR_FACTOR:g})")
    p.add_argument("--floor-quantile", type=float, default=_fs.DEFAULT_FLOOR_QUANTILE,
                   help="quantile of the recent load the floor holds "
                        f"(default {_fs.DEFAULT_FLOOR_QUANTILE:g}: the peak)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="draw a progress bar on stderr (default: when stderr is a terminal "
                          "and the run takes more than half a second)")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never draw the progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flaskscale",
        description="Forecast request load and turn it into replica targets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flaskscale {_fs.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    fc = sub.add_parser(
        "forecast",
        help="score models on a holdout and print a forecast with bands",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fc.add_argument("trace", help="timestamp,value CSV or a Common/Combined Log Format access log")
    fc.add_argument("--horizon", default="1d", help="how far ahead: 2h, 1d, or a count of steps")
    fc.add_argument("--model", default="auto",
                    help="auto (default: the AutoForecaster, which backtests the others), naive, "
                         "drift, linear_trend, seasonal_naive, holt_winters, fourier")
    fc.add_argument("--season", help="season length, a whole number (>= 2) of steps: 1d (default; "
                    "none when a day is not such a length), 1w, 24 (steps), or none")
    fc.add_argument("--step", help="step for access logs (default 1m)")
    fc.add_argument("--resample", help="aggregate to a coarser step first (sum), e.g. 1h")
    fc.add_argument("--levels", type=float, nargs="+", default=[0.8, 0.95], help="band levels")
    fc.add_argument("--rows", type=int, default=24, help="forecast rows to print (default 24)")
    fc.add_argument("--plot", help="write a picture of history and forecast (PNG or SVG)")
    fc.set_defaults(func=cmd_forecast)

    sim = sub.add_parser(
        "simulate",
        help="replay a trace through the HPA, the predictive policy and the references",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sim_arguments(sim)
    sim.add_argument("--policy", help="JSON file of policies to compare instead of the defaults: "
                     "{\"name\": {\"hpa\": {...}} | {\"manifest\": \"hpa.yaml\"} | "
                     "{\"predictive\": {...}} | {\"schedule\": \"plan.csv\"}}")
    sim.add_argument("--hpa", metavar="MANIFEST",
                     help="your own autoscaler: an autoscaling/v2 HorizontalPodAutoscaler or a "
                          "KEDA ScaledObject (YAML or JSON), replayed as 'hpa' and wrapped by "
                          "the predictive policy; a Utilization target is that share of "
                          "--capacity")
    sim.add_argument("--write-manifest", metavar="PATH",
                     help="write the Kubernetes manifest of the predictive policy (YAML, or "
                          "JSON for a .json path): it scales on the pods' forecast")
    sim.add_argument("--manifest-kind", choices=["keda", "hpa"], default="keda",
                     help="keda (a ScaledObject, the default) or hpa (autoscaling/v2 on the "
                          "flaskscale_forecast_requests_per_second gauge)")
    sim.add_argument("--manifest-name", default="app",
                     help="the Deployment (and Service) the manifest scales (default app)")
    sim.add_argument("--target-utilization", type=float, default=_fs.DEFAULT_HPA_UTILIZATION,
                     help=f"the HPA's target utilisation (default {_fs.DEFAULT_HPA_UTILIZATION:g})")
    sim.add_argument("--quantile", type=float, default=None,
                     help="quantile of the request count the predictive policy provisions for "
                          f"(default {_fs.DEFAULT_QUANTILE:g})")
    sim.add_argument("--plot", help="write a picture of demand vs capacity (PNG or SVG)")
    sim.add_argument("--json", help="write the whole report as JSON")
    sim.add_argument("--csv", help="write the per-step time series as CSV")
    sim.set_defaults(func=cmd_simulate)

    fr = sub.add_parser(
        "frontier",
        help="the predictive policy against the tuned-HPA frontier at equal cost",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sim_arguments(fr)
    fr.add_argument("--policy", help="JSON file whose one 'predictive' entry is the policy under "
                    "test (default: the predictive policy's defaults)")
    fr.add_argument("--plot", help="write a picture of both frontiers (PNG or SVG)")
    fr.add_argument("--json", help="write every point of the frontier as JSON")
    fr.set_defaults(func=cmd_frontier)

    sw = sub.add_parser(
        "sweep",
        help="cost vs violations of the predictive policy over a parameter grid",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sim_arguments(sw)
    sw.add_argument("--quantiles", type=float, nargs="+", default=[0.8, 0.9, 0.95, 0.99])
    sw.add_argument("--utilizations", type=float, nargs="+", default=[0.7, 0.8, 0.9],
                    help="target utilisations of the reactive path")
    sw.set_defaults(func=cmd_sweep)

    from .batch_cli import add_parser as add_batch_parser

    add_batch_parser(sub)
    return parser


def _show_warning(message: Any, category: Any, filename: str, lineno: int,
                  file: Optional[TextIO] = None, line: Optional[str] = None) -> None:
    print(f"flaskscale: warning: {message}", file=file if file is not None else sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``flaskscale`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # warnings (skipped access-log lines, ...) as one line each, without Python source lines
    warnings.showwarning = _show_warning
    try:
        code = int(args.func(args))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly as Unix tools do; stdout goes to
        # /dev/null so that the interpreter's last flush has nowhere to fail
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except (FlaskscaleError, OSError, argparse.ArgumentTypeError) as e:
        print(f"flaskscale: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

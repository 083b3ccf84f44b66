"""Many services at once: forecasts, replica targets and simulations for a fleet.

The contract for many series is the long format of statsforecast: a pandas DataFrame with a
column ``unique_id`` (the service), ``ds`` (the step's start: datetimes, or numbers taken as
UTC seconds) and ``y`` (the load in that step; NaN = missing). Each service's rows must form a
regular grid (in any order; they are sorted by ``ds``). A list of 1-D arrays (or ``Series``) is
accepted too and gives a list back.

Every call runs the core's batch call over all the series at once, on every core and with the
GIL released for the whole batch; each series gets its own result, and a series that fails
(too short, every value missing, off its grid) gets its error in its place: in a DataFrame,
one row with the ``error`` column holding the message of the typed error and ``error_type``
its class (``NotEnoughDataError``, ...). Rows come out sorted by ``unique_id``.

``flaskscale.distributed`` runs the same calls on Dask and Spark.

>>> import numpy as np, pandas as pd, flaskscale as fs
>>> df = pd.DataFrame({"unique_id": ["a"] * 6 + ["b"] * 2,
...                    "ds": list(pd.date_range("2024-01-01", periods=6, freq="h")) * 1
...                          + list(pd.date_range("2024-01-01", periods=2, freq="h")),
...                    "y": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 5.0, 6.0]})
>>> out = fs.forecast_many(df, model=fs.SeasonalNaive(3), horizon=2, levels=[0.95])
>>> list(out.columns)
['unique_id', 'ds', 'SeasonalNaive', 'SeasonalNaive-lo-95', 'SeasonalNaive-hi-95', 'error', 'error_type']
>>> out["SeasonalNaive"].tolist()[:2], str(out["ds"].iloc[0])
([1.0, 2.0], '2024-01-01 06:00:00')
>>> out["error_type"].iloc[2]
'NotEnoughDataError'
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _flaskscale as _fs
from .exceptions import FlaskscaleError, InvalidDataError, InvalidParameterError

ID, DS, Y = "unique_id", "ds", "y"
ERROR, ERROR_TYPE = "error", "error_type"

#: Column kinds of the outputs: "id" and "ds" follow the input's types, the rest are fixed.
Columns = List[Tuple[str, str]]

_NS = 1_000_000_000


class _Spec:
    """A model's settings as JSON text, which any flaskscale call takes where a model goes:
    picklable, so it can travel to Dask and Spark workers."""

    def __init__(self, text: str, alias: str) -> None:
        self.text = text
        self.alias = alias

    def to_json(self) -> str:
        return self.text


def model_spec(model: Any, alias: Optional[str] = None) -> _Spec:
    """The picklable settings of a flaskscale model (and its column name: ``alias``, else the
    model's class name, as statsforecast names its columns)."""
    if isinstance(model, _Spec):
        return model if alias is None else _Spec(model.text, alias)
    to_json = getattr(model, "to_json", None)
    if to_json is None:
        raise InvalidParameterError(
            f"expected a flaskscale model (AutoForecaster, HoltWinters, ...), got {type(model).__name__}"
        )
    return _Spec(to_json(), alias or type(model).__name__)


def level_label(level: float) -> str:
    """The percentage in a band's column name: 0.95 -> '95', 0.975 -> '97.5'.

    >>> level_label(0.95), level_label(0.975), level_label(0.8)
    ('95', '97.5', '80')
    """
    return f"{round(level * 100, 10):g}"


def forecast_columns(alias: str, levels: Sequence[float]) -> Columns:
    """The columns of :func:`forecast_many`: ``unique_id, ds, <alias>``, the lower bounds from
    the widest band in, the upper bounds from the narrowest out (statsforecast's order), then
    ``error, error_type``."""
    lv = sorted(levels)
    return ([(ID, "id"), (DS, "ds"), (alias, "float")]
            + [(f"{alias}-lo-{level_label(v)}", "float") for v in reversed(lv)]
            + [(f"{alias}-hi-{level_label(v)}", "float") for v in lv]
            + [(ERROR, "str"), (ERROR_TYPE, "str")])


#: The columns of :func:`recommend_many` after ``unique_id, ds`` (the decision's time).
_DECISION = [("replicas", "int"), ("reason", "str"), ("mode", "str"), ("load", "float"),
             ("current_replicas", "int"), ("reactive", "int"), ("predictive", "int"),
             ("forecast_mean", "float"), ("forecast_quantile", "float"), ("model", "str"),
             ("note", "str")]


def recommend_columns() -> Columns:
    """The columns of :func:`recommend_many`."""
    return [(ID, "id"), (DS, "ds")] + _DECISION + [(ERROR, "str"), (ERROR_TYPE, "str")]


_summary_kinds: Optional[Columns] = None


def simulate_columns() -> Columns:
    """The columns of :func:`simulate_many`: ``unique_id, policy, capacity_per_replica``, every
    field of the core's policy summary (asked of the core, so a new field appears by itself),
    then ``error, error_type``."""
    global _summary_kinds
    if _summary_kinds is None:
        probe = _fs.simulate_many([_fs.Series(np.full(8, 60.0), start=0.0, step=60.0)],
                                  {"p": _fs.HpaPolicy(1.0)}, capacity_per_replica=1.0,
                                  references=False)
        first = probe[0]
        assert isinstance(first, list), first
        row = first[0]
        _summary_kinds = [(k, "int" if isinstance(v, int) and not isinstance(v, bool) else "float")
                          for k, v in row.items() if k not in ("policy", "capacity_per_replica")]
    return ([(ID, "id"), ("policy", "str"), ("capacity_per_replica", "float")] + _summary_kinds
            + [(ERROR, "str"), (ERROR_TYPE, "str")])


def _share_label(v: float) -> str:
    """A budget or service level in a column name, as a percentage without a dot: 0.9 -> '90',
    1.25 -> '125', 0.999 -> '99_9'."""
    return level_label(v).replace(".", "_")


def frontier_columns() -> Columns:
    """The columns of :func:`frontier_many`: ``unique_id, capacity_per_replica, r0, b0``;
    for each budget of the frontier (0.9, 1.0, 1.1, 1.25 x R0, the core's) the lowest B of
    the tuned HPA and of the policy within it (``hpa_b_90``, ``policy_b_90``, ...,
    ``policy_b_125``); for each service level (99.9%, 99%) the fewest replica-hours of each
    that serve it (``hpa_hours_99_9``, ``policy_hours_99_9``, ``hpa_hours_99``, ...); then
    ``error, error_type``. NaN where no setting is within the budget or reaches the level.

    >>> [c for c, _ in frontier_columns()][4:8]
    ['hpa_b_90', 'policy_b_90', 'hpa_b_100', 'policy_b_100']
    """
    cols: Columns = [(ID, "id"), ("capacity_per_replica", "float"), ("r0", "float"),
                     ("b0", "float")]
    for b in _fs.FRONTIER_BUDGETS:
        cols += [(f"hpa_b_{_share_label(b)}", "float"), (f"policy_b_{_share_label(b)}", "float")]
    for v in _fs.FRONTIER_SERVICE_LEVELS:
        cols += [(f"hpa_hours_{_share_label(v)}", "float"),
                 (f"policy_hours_{_share_label(v)}", "float")]
    return cols + [(ERROR, "str"), (ERROR_TYPE, "str")]


def _frontier_row(r: Mapping[str, Any]) -> Dict[str, Any]:
    """A row of :func:`frontier_columns` from the native call's dict."""
    row: Dict[str, Any] = {"capacity_per_replica": r["capacity_per_replica"], "r0": r["r0"],
                           "b0": r["b0"]}
    for budget, hpa, pol in r["budgets"]:
        row[f"hpa_b_{_share_label(budget)}"] = hpa
        row[f"policy_b_{_share_label(budget)}"] = pol
    for served, hpa, pol in r["service"]:
        row[f"hpa_hours_{_share_label(served)}"] = hpa
        row[f"policy_hours_{_share_label(served)}"] = pol
    return row


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extras
        raise ImportError("a DataFrame needs pandas: pip install 'flaskscale[pandas]'") from None
    return pd


def _is_frame(data: Any) -> bool:
    pd = _pandas() if type(data).__module__.startswith("pandas") else None
    return pd is not None and isinstance(data, pd.DataFrame)


class _Long:
    """A long-format DataFrame split into its series: ids, the ds kind, the grids."""

    def __init__(self, df: Any) -> None:
        pd = _pandas()
        missing = [c for c in (ID, DS, Y) if c not in df.columns]
        if missing:
            raise InvalidDataError(
                f"a long-format DataFrame needs the columns unique_id, ds, y; missing {missing}"
            )
        self.id_dtype = df[ID].dtype
        ds = df[DS]
        if pd.api.types.is_datetime64_any_dtype(ds.dtype):
            self.tz = getattr(ds.dtype, "tz", None)
            ns = ds.dt.tz_convert("UTC").dt.tz_localize(None) if self.tz is not None else ds
            ns = ns.astype("datetime64[ns]").to_numpy().view(np.int64)
            if (ns == np.iinfo(np.int64).min).any():
                raise InvalidDataError("ds holds missing times (NaT)")
            self.datetime = True
        elif pd.api.types.is_numeric_dtype(ds.dtype):
            self.tz = None
            ns = None
            self.datetime = False
        else:
            raise InvalidDataError(
                f"ds must hold datetimes or numbers (UTC seconds), got dtype {ds.dtype}"
            )
        ids = df[ID].to_numpy()
        order = np.lexsort((ns if ns is not None else ds.to_numpy(dtype=np.float64),
                            pd.factorize(df[ID], sort=True)[0]))
        ids = ids[order]
        y = df[Y].to_numpy(dtype=np.float64)[order]
        if ns is not None:
            ns = ns[order]
            secs = (ns // _NS).astype(np.float64) + (ns % _NS) / 1e9
        else:
            secs = ds.to_numpy(dtype=np.float64)[order]
        cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1 if len(ids) else np.array([], dtype=int)
        bounds = np.concatenate(([0], cut, [len(ids)])) if len(ids) else np.array([0])
        self.ids = [ids[a] for a in bounds[:-1]]
        self.times = [secs[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.values = [y[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.last_ns = [int(ns[b - 1]) for b in bounds[1:]] if ns is not None else None

    def series(self) -> List[Any]:
        """One core Series (or its error) per id."""
        return list(_fs.series_many(self.times, self.values))

    def ds_after(self, k: int, step: float, count: int) -> Any:
        """The ``count`` grid times after the last of series ``k``."""
        if self.datetime:
            assert self.last_ns is not None
            step_ns = int(round(step * _NS))
            ns = self.last_ns[k] + step_ns * np.arange(1, count + 1, dtype=np.int64)
            return ns.view("datetime64[ns]")
        return self.times[k][-1] + step * np.arange(1, count + 1, dtype=np.float64)

    def ds_at(self, k: int, seconds_after_last: float) -> Any:
        if self.datetime:
            assert self.last_ns is not None
            return np.array([self.last_ns[k] + int(round(seconds_after_last * _NS))],
                            dtype=np.int64).view("datetime64[ns]")
        return np.array([self.times[k][-1] + seconds_after_last])

    def ds_missing(self, count: int = 1) -> Any:
        if self.datetime:
            return np.full(count, np.datetime64("NaT"), dtype="datetime64[ns]")
        return np.full(count, np.nan)


def frame(columns: Columns, data: Dict[str, Any], id_dtype: Any = object,
          ds_datetime: bool = True, tz: Any = None) -> Any:
    """A DataFrame of ``columns`` from ``data`` (column -> values; absent -> empty), with the
    dtypes of the kinds: the one home of the output types, which Dask's meta and Spark's
    schema are built from too."""
    pd = _pandas()
    out = {}
    n = max((len(v) for v in data.values()), default=0)
    for name, kind in columns:
        v = data.get(name, [])
        if kind == "id":
            out[name] = pd.Series(v, dtype=id_dtype) if n or len(v) else pd.Series([], dtype=id_dtype)
        elif kind == "ds":
            if ds_datetime:
                s = pd.Series(np.asarray(v, dtype="datetime64[ns]"))
                out[name] = s.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else s
            else:
                out[name] = pd.Series(np.asarray(v, dtype=np.float64))
        elif kind == "float":
            out[name] = pd.Series(np.asarray(v, dtype=np.float64))
        elif kind == "int":
            out[name] = pd.Series(pd.array(list(v), dtype="Int64"))
        else:
            out[name] = pd.Series(list(v), dtype=object)
    return pd.DataFrame(out)


def _error_fields(e: BaseException) -> Tuple[str, str]:
    return str(e), type(e).__name__


def _run(work: Callable[[Any], Any], label: str, progress: Optional[bool], expected: int) -> Any:
    """``work(progress_counter)`` with the command line's progress bar (on stderr; when
    ``progress`` is None, only on a terminal and for runs over half a second)."""
    if progress is False:
        return work(None)
    from .cli import run_with_progress

    return run_with_progress(work, label, progress, expected=expected)


def forecast_many(data: Any, *, model: Any, horizon: int, levels: Sequence[float] = (),
                  alias: Optional[str] = None, progress: Optional[bool] = None) -> Any:
    """Fits ``model`` to every series and forecasts ``horizon`` steps, all at once.

    ``data`` is a long-format DataFrame (``unique_id, ds, y``), or a list of 1-D arrays or
    ``Series``. A DataFrame gives the long format back: ``unique_id``, ``ds`` (the steps after
    each series' last), ``<alias>`` (the mean; alias = the model's class name unless given),
    ``<alias>-lo-<p>`` / ``<alias>-hi-<p>`` per level (``levels`` in (0, 1); p in percent, as
    statsforecast names them), ``error`` and ``error_type`` (None, or one row per failed
    series with its error's message and class). A list gives a list of ``Forecast`` or
    ``FlaskscaleError`` objects.
    """
    spec = model_spec(model, alias)
    levels = [float(v) for v in levels]
    if not _is_frame(data):
        items = list(data)
        return _run(lambda p: _fs.forecast_many(items, spec, horizon=horizon, levels=levels,
                                                progress=p),
                    "forecast", progress, sum(len(x) for x in items))
    long = _Long(data)
    grids = long.series()
    ok = [k for k, g in enumerate(grids) if isinstance(g, _fs.Series)]
    fcs = _run(lambda p: _fs.forecast_many([grids[k] for k in ok], spec, horizon=horizon,
                                           levels=levels, progress=p),
               "forecast", progress, sum(len(grids[k]) for k in ok))
    results: List[Any] = list(grids)
    for k, f in zip(ok, fcs):
        results[k] = f
    cols = forecast_columns(spec.alias, levels)
    parts: Dict[str, List[Any]] = {name: [] for name, _ in cols}
    lv = sorted(levels)
    for k, r in enumerate(results):
        if isinstance(r, BaseException):
            msg, kind = _error_fields(r)
            parts[ID].append([long.ids[k]])
            parts[DS].append(long.ds_missing())
            for name, knd in cols[2:-2]:
                parts[name].append(np.array([np.nan]))
            parts[ERROR].append([msg])
            parts[ERROR_TYPE].append([kind])
            continue
        h = len(r)
        parts[ID].append([long.ids[k]] * h)
        parts[DS].append(long.ds_after(k, grids[k].step, h))
        parts[spec.alias].append(r.mean)
        for v in lv:
            parts[f"{spec.alias}-lo-{level_label(v)}"].append(r.lower(v))
            parts[f"{spec.alias}-hi-{level_label(v)}"].append(r.upper(v))
        parts[ERROR].append([None] * h)
        parts[ERROR_TYPE].append([None] * h)
    joined = {name: (np.concatenate(p) if p and isinstance(p[0], np.ndarray) else
                     [x for chunk in p for x in chunk]) for name, p in parts.items()}
    return frame(cols, joined, long.id_dtype, long.datetime, long.tz)


def _current(current_replicas: Any, ids: Sequence[Any]) -> List[int]:
    if current_replicas is None:
        return [1] * len(ids)
    if isinstance(current_replicas, (int, np.integer)):
        return [int(current_replicas)] * len(ids)
    if hasattr(current_replicas, "get") or isinstance(current_replicas, Mapping):
        out = []
        for i in ids:
            v = current_replicas.get(i)
            if v is None:
                raise InvalidParameterError(f"current_replicas has no count for unique_id {i!r}")
            out.append(int(v))
        return out
    out = [int(v) for v in current_replicas]
    if len(out) != len(ids):
        raise InvalidParameterError(
            f"current_replicas has {len(out)} counts for {len(ids)} series"
        )
    return out


def _grids(data: Any, step: Optional[float]) -> List[Any]:
    out = []
    for x in data:
        if isinstance(x, _fs.Series):
            out.append(x)
        else:
            out.append(_fs.Series(np.asarray(x, dtype=np.float64), start=0.0,
                                  step=60.0 if step is None else step))
    return out


def recommend_many(data: Any, *, policy: Any, model: Any = None, current_replicas: Any = None,
                   step: Optional[float] = None, progress: Optional[bool] = None) -> Any:
    """The replica target of every service now, from its recent series: an ``Autoscaler``
    with ``policy`` (a ``PredictivePolicy``) and ``model`` (the AutoForecaster by default)
    observes the service's series and recommends at the end of its last step.

    ``current_replicas``: one count for all, a list (in the order of the series; for a
    DataFrame, the order of the sorted ``unique_id``), or a mapping ``unique_id -> count``;
    default 1. A DataFrame gives one row per service: ``unique_id``, ``ds`` (the decision's
    time: the end of the last step), ``replicas``, ``reason``, ``mode``, the numbers behind the
    decision, and ``error``/``error_type``. A list of ``Series`` (or arrays, at ``step``
    seconds, default 60) gives a list of ``Decision`` or ``FlaskscaleError`` objects.
    """
    spec = None if model is None else model_spec(model)
    if not _is_frame(data):
        grids = _grids(data, step)
        cur = _current(current_replicas, list(range(len(grids))))
        return _run(lambda p: _fs.recommend_many(grids, cur, policy, model=spec, progress=p),
                    "recommend", progress, sum(len(g) for g in grids))
    long = _Long(data)
    grids = long.series()
    cur_all = _current(current_replicas, long.ids)
    ok = [k for k, g in enumerate(grids) if isinstance(g, _fs.Series)]
    decisions = _run(lambda p: _fs.recommend_many([grids[k] for k in ok], [cur_all[k] for k in ok],
                                                  policy, model=spec, progress=p),
                     "recommend", progress, sum(len(grids[k]) for k in ok))
    results: List[Any] = list(grids)
    for k, d in zip(ok, decisions):
        results[k] = d
    cols = recommend_columns()
    parts: Dict[str, List[Any]] = {name: [] for name, _ in cols}
    ds_parts = []
    for k, r in enumerate(results):
        parts[ID].append(long.ids[k])
        if isinstance(r, BaseException):
            ds_parts.append(long.ds_missing())
            for name, _ in _DECISION:
                parts[name].append(None if _ != "float" else np.nan)
            msg, kind = _error_fields(r)
            parts[ERROR].append(msg)
            parts[ERROR_TYPE].append(kind)
            continue
        ds_parts.append(long.ds_at(k, grids[k].step))
        ex = r.explain()
        row = {"replicas": r.replicas, "reason": r.reason, "mode": r.mode, **ex}
        for name, kind in _DECISION:
            v = row.get(name)
            parts[name].append(np.nan if kind == "float" and v is None else v)
        parts[ERROR].append(None)
        parts[ERROR_TYPE].append(None)
    parts[DS] = list(np.concatenate(ds_parts)) if ds_parts else []
    return frame(cols, parts, long.id_dtype, long.datetime, long.tz)


def _plain_policies(policies: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """Policies as the dicts of their config (``{"hpa": ...}`` / ``{"predictive": ...}``),
    which pickle and travel to workers."""
    if policies is None:
        return None
    out: Dict[str, Any] = {}
    for name, p in policies.items():
        if isinstance(p, _fs.HpaPolicy):
            out[name] = {"hpa": p.config()}
        elif isinstance(p, _fs.PredictivePolicy):
            out[name] = {"predictive": p.config()}
        else:
            out[name] = p
    return out


def simulate_many(data: Any, policies: Optional[Mapping[str, Any]] = None, *,
                  capacity_per_replica: Optional[float] = None,
                  peak_replicas: Optional[float] = None, startup_seconds: Optional[float] = None,
                  interval_seconds: Optional[float] = None, max_replicas: Optional[int] = None,
                  slo_wait_seconds: Optional[float] = None,
                  queue_timeout_seconds: Optional[float] = None, references: bool = True,
                  step: Optional[float] = None, progress: Optional[bool] = None) -> Any:
    """Replays every service's trace through several policies: one row per service and policy
    with the whole summary of the simulator (violation minutes, replica-hours, dropped and
    delayed shares, ...) and the service's capacity per replica.

    ``policies`` maps names to ``HpaPolicy`` / ``PredictivePolicy`` objects; None gives the
    defaults of ``flaskscale simulate`` (the HPA at 70%, the predictive policy with the
    core's defaults). Each service's capacity per replica is
    ``capacity_per_replica`` when given (the policies given used as they are, the defaults
    at that capacity), else its peak rate
    divided by ``peak_replicas`` (the core's default: 20), and the policies' targets are then in
    units of that capacity (``HpaPolicy(0.7)`` targets 70% of a replica). The oracle and the
    fixed fleet for the peak are added unless ``references=False``. Settings left None take the
    core's defaults. A DataFrame gives a DataFrame (``unique_id, policy, capacity_per_replica,
    ...summary..., error, error_type``; a failed service one row with its error); a list of
    ``Series`` a list of row lists or ``FlaskscaleError`` objects.
    """
    kwargs: Dict[str, Any] = dict(
        capacity_per_replica=capacity_per_replica, peak_replicas=peak_replicas,
        startup_seconds=startup_seconds, interval_seconds=interval_seconds,
        max_replicas=max_replicas, slo_wait_seconds=slo_wait_seconds,
        queue_timeout_seconds=queue_timeout_seconds, references=references)
    pol = _plain_policies(policies)
    n_pol = (2 if pol is None else len(pol)) + (2 if references else 0)
    if not _is_frame(data):
        grids = _grids(data, step)
        return _run(lambda p: _fs.simulate_many(grids, pol, progress=p, **kwargs),
                    "simulate", progress, n_pol * sum(len(g) for g in grids))
    long = _Long(data)
    grids = long.series()
    ok = [k for k, g in enumerate(grids) if isinstance(g, _fs.Series)]
    rows = _run(lambda p: _fs.simulate_many([grids[k] for k in ok], pol, progress=p, **kwargs),
                "simulate", progress, n_pol * sum(len(grids[k]) for k in ok))
    results: List[Any] = list(grids)
    for k, r in zip(ok, rows):
        results[k] = r
    cols = simulate_columns()
    parts: Dict[str, List[Any]] = {name: [] for name, _ in cols}
    for k, r in enumerate(results):
        if isinstance(r, BaseException):
            parts[ID].append(long.ids[k])
            msg, kind = _error_fields(r)
            for name, knd in cols[1:-2]:
                parts[name].append(np.nan if knd == "float" else None)
            parts[ERROR].append(msg)
            parts[ERROR_TYPE].append(kind)
            continue
        for row in r:
            parts[ID].append(long.ids[k])
            for name, knd in cols[1:-2]:
                v = row.get(name)
                parts[name].append(np.nan if knd == "float" and v is None else v)
            parts[ERROR].append(None)
            parts[ERROR_TYPE].append(None)
    return frame(cols, parts, long.id_dtype, long.datetime, long.tz)


def _plain_policy(policy: Any) -> Any:
    """A predictive policy as the dict of its config (picklable), None as None."""
    if isinstance(policy, _fs.PredictivePolicy):
        return policy.config()
    return policy


def frontier_many(data: Any, policy: Any = None, *, capacity_per_replica: Optional[float] = None,
                  peak_replicas: Optional[float] = None, startup_seconds: Optional[float] = None,
                  interval_seconds: Optional[float] = None, max_replicas: Optional[int] = None,
                  slo_wait_seconds: Optional[float] = None,
                  queue_timeout_seconds: Optional[float] = None, model: Any = None,
                  sweep_policy: bool = True, step: Optional[float] = None,
                  progress: Optional[bool] = None) -> Any:
    """Every service's frontier (:func:`flaskscale.frontier`): the tuned-HPA family (target
    0.50-0.95 x scale-down window 0/60/300/900 s) against ``policy`` (a ``PredictivePolicy``;
    None: the predictive defaults), over its count quantile and reactive target unless
    ``sweep_policy=False`` (then replayed once as it is), at equal cost.

    Each service's capacity and the policy's units follow :func:`simulate_many`
    (``capacity_per_replica``, else its peak rate over ``peak_replicas``, 20 by default; at
    most 100 replicas unless ``max_replicas``). ``startup_seconds`` / ``interval_seconds``
    replace the policy's, and the cluster's startup is the policy's. ``model`` is the one the
    policy forecasts with (default: the replay model of ``simulate``). A DataFrame gives one
    row per service with the columns of :func:`frontier_columns`; a list of ``Series`` a list
    of dicts (``r0``, ``b0``, ``budgets``, ``service``) or ``FlaskscaleError`` objects.
    """
    kwargs: Dict[str, Any] = dict(
        capacity_per_replica=capacity_per_replica, peak_replicas=peak_replicas,
        startup_seconds=startup_seconds, interval_seconds=interval_seconds,
        max_replicas=max_replicas, slo_wait_seconds=slo_wait_seconds,
        queue_timeout_seconds=queue_timeout_seconds, sweep_policy=sweep_policy,
        model=None if model is None else model_spec(model))
    pol = _plain_policy(policy)
    hpa_settings, policy_settings = _fs.FRONTIER_SETTINGS  # replays per service, for the bar
    settings = hpa_settings + (policy_settings if sweep_policy else 1)
    if not _is_frame(data):
        grids = _grids(data, step)
        return _run(lambda p: _fs.frontier_many(grids, pol, progress=p, **kwargs),
                    "frontier", progress, settings * sum(len(g) for g in grids))
    long = _Long(data)
    grids = long.series()
    ok = [k for k, g in enumerate(grids) if isinstance(g, _fs.Series)]
    rows = _run(lambda p: _fs.frontier_many([grids[k] for k in ok], pol, progress=p, **kwargs),
                "frontier", progress, settings * sum(len(grids[k]) for k in ok))
    results: List[Any] = list(grids)
    for k, r in zip(ok, rows):
        results[k] = r
    cols = frontier_columns()
    parts: Dict[str, List[Any]] = {name: [] for name, _ in cols}
    for k, r in enumerate(results):
        parts[ID].append(long.ids[k])
        msg: Optional[str] = None
        kind: Optional[str] = None
        if isinstance(r, BaseException):
            row: Dict[str, Any] = {}
            msg, kind = _error_fields(r)
        else:
            row = _frontier_row(r)
        for name, _ in cols[1:-2]:
            v = row.get(name)
            parts[name].append(np.nan if v is None else v)
        parts[ERROR].append(msg)
        parts[ERROR_TYPE].append(kind)
    return frame(cols, parts, long.id_dtype, long.datetime, long.tz)


__all__ = ["forecast_many", "recommend_many", "simulate_many", "frontier_many",
           "forecast_columns", "recommend_columns", "simulate_columns", "frontier_columns",
           "level_label", "model_spec"]

//! The many-series calls (`series_many`, `forecast_many`, `recommend_many`, `simulate_many`):
//! lists in, the core's batch call with the GIL released for the whole batch, one result per
//! series out (the value, or the typed exception object in its place).

use crate::convert::{count, counts, opt_count, param_err, spec_of, to_plain, to_py};
use crate::forecast::PyForecast;
use crate::policy::{autoscaler_config, PyDecision, PyHpaPolicy, PyPredictivePolicy, PyProgress};
use crate::series::PySeries;
use flaskscale_core::batch::{self, Capacity, FleetPlan, FleetPolicy, FrontierPlan};
use flaskscale_core::policy::PredictiveConfig;
use flaskscale_core::sim::Progress;
use flaskscale_core::{CsvOptions, Result as CoreResult, Series};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::Arc;

/// A core value from its plain (JSON-able) Python form, a `ParseError` naming `what` if it is not
/// one.
fn plain<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    let text: String = py
        .import("json")?
        .getattr("dumps")?
        .call1((obj,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| {
        to_py(
            py,
            flaskscale_core::Error::Parse {
                line: 0,
                message: format!("{what}: {e}"),
            },
        )
    })
}

/// The progress counter given, or a fresh one nobody watches.
fn progress_of(progress: Option<PyRef<'_, PyProgress>>) -> Arc<Progress> {
    progress.map_or_else(|| Arc::new(Progress::new()), |p| Arc::clone(&p.inner))
}

/// One result per series as a Python list: `ok(value)`, or the typed exception in its place.
fn results<'py, T, F>(
    py: Python<'py>,
    out: Vec<CoreResult<T>>,
    mut ok: F,
) -> PyResult<Bound<'py, PyList>>
where
    F: FnMut(Python<'py>, T) -> PyResult<Bound<'py, PyAny>>,
{
    let list = PyList::empty(py);
    for r in out {
        match r {
            Ok(v) => list.append(ok(py, v)?)?,
            Err(e) => list.append(to_py(py, e).into_value(py))?,
        }
    }
    Ok(list)
}

fn float_lists(objs: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for o in objs.try_iter()? {
        let o = o?;
        if let Ok(s) = o.extract::<PyRef<'_, PySeries>>() {
            out.push(s.inner.values().to_vec());
        } else {
            out.push(crate::convert::values(&o)?.as_slice().to_vec());
        }
    }
    Ok(out)
}

fn series_list(py: Python<'_>, objs: &Bound<'_, PyAny>) -> PyResult<Vec<Series>> {
    let mut out = Vec::new();
    for o in objs.try_iter()? {
        let o = o?;
        let s = o.extract::<PyRef<'_, PySeries>>().map_err(|_| {
            param_err(
                py,
                format!(
                    "expected a list of Series, got an item of type {}",
                    o.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
            )
        })?;
        out.push(s.inner.clone());
    }
    Ok(out)
}

/// A predictive policy given as a `PredictivePolicy` or the dict of its `config()`.
fn predictive_config(py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<PredictiveConfig> {
    if let Ok(p) = policy.extract::<PyRef<'_, PyPredictivePolicy>>() {
        Ok(p.config.clone())
    } else if policy.is_instance_of::<PyDict>() {
        let c: PredictiveConfig = plain(py, policy, "policy")?;
        c.validate().map_err(|e| to_py(py, e))?;
        Ok(c)
    } else {
        Err(param_err(
            py,
            "policy must be a PredictivePolicy or the dict of its config()",
        ))
    }
}

/// The capacity rule of the keywords `capacity_per_replica` / `peak_replicas`.
fn capacity_arg(
    py: Python<'_>,
    capacity_per_replica: Option<f64>,
    peak_replicas: Option<f64>,
    default: Capacity,
) -> PyResult<Capacity> {
    match (capacity_per_replica, peak_replicas) {
        (Some(_), Some(_)) => Err(param_err(
            py,
            "give capacity_per_replica or peak_replicas, not both",
        )),
        (Some(c), None) => Ok(Capacity::PerReplica(c)),
        (None, Some(n)) => Ok(Capacity::PeakShare(n)),
        (None, None) => Ok(default),
    }
}

/// One `Series` per pair of timestamp (UTC seconds) and value arrays, each a regular grid;
/// a pair that is not one gets its `ParseError` (or other `FlaskscaleError`) in its place.
#[pyfunction]
#[pyo3(signature = (times, values, *, step = None))]
pub fn series_many<'py>(
    py: Python<'py>,
    times: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    step: Option<f64>,
) -> PyResult<Bound<'py, PyList>> {
    let times = float_lists(times)?;
    let values = float_lists(values)?;
    let options = CsvOptions {
        step,
        ..CsvOptions::default()
    };
    let out = py.detach(|| batch::series_many(&times, values, options));
    results(py, out, |py, s| {
        Ok(Bound::new(py, PySeries { inner: s })?.into_any())
    })
}

/// Fits `model` to each series (a `Series` or a 1-D array) and forecasts `horizon` steps:
/// one `Forecast` per series, or the series' `FlaskscaleError` in its place.
#[pyfunction]
#[pyo3(signature = (series, model, *, horizon, levels = Vec::new(), progress = None))]
pub fn forecast_many<'py>(
    py: Python<'py>,
    series: &Bound<'py, PyAny>,
    model: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = count)] horizon: usize,
    levels: Vec<f64>,
    progress: Option<PyRef<'py, PyProgress>>,
) -> PyResult<Bound<'py, PyList>> {
    let spec = spec_of(model)?;
    let ys = float_lists(series)?;
    let progress = progress_of(progress);
    let out = py
        .detach(|| batch::forecast_many(&ys, &spec, horizon, &levels, &progress))
        .map_err(|e| to_py(py, e))?;
    results(py, out, |py, f| {
        Ok(Bound::new(py, PyForecast { inner: f })?.into_any())
    })
}

/// The replica target of each service from its recent `Series`: an `Autoscaler` with `policy`
/// and `model` (the AutoForecaster by default) at the series' step observes it and recommends
/// at its end for `current_replicas[i]`. One `Decision` per series, or its error.
#[pyfunction]
#[pyo3(signature = (series, current_replicas, policy, *, model = None, progress = None))]
pub fn recommend_many<'py>(
    py: Python<'py>,
    series: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = counts)] current_replicas: Vec<u32>,
    policy: &Bound<'py, PyAny>,
    model: Option<Bound<'py, PyAny>>,
    progress: Option<PyRef<'py, PyProgress>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = series_list(py, series)?;
    let step = list.first().map_or(60.0, Series::step);
    let cfg = autoscaler_config(py, &predictive_config(py, policy)?, model.as_ref(), step)?;
    let progress = progress_of(progress);
    let out = py
        .detach(|| batch::recommend_many(&list, &current_replicas, &cfg, &progress))
        .map_err(|e| to_py(py, e))?;
    results(py, out, |py, d| {
        Ok(Bound::new(py, PyDecision { inner: d })?.into_any())
    })
}

/// Replays each service's `Series` through the policies (the defaults of `flaskscale simulate`
/// when `policies` is None): one list of `{"policy", "capacity_per_replica", **summary}` dicts
/// per series, or its error.
#[pyfunction]
#[pyo3(signature = (series, policies = None, *, capacity_per_replica = None, peak_replicas = None,
                    startup_seconds = None, interval_seconds = None, max_replicas = None,
                    slo_wait_seconds = None, queue_timeout_seconds = None, references = true,
                    progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn simulate_many<'py>(
    py: Python<'py>,
    series: &Bound<'py, PyAny>,
    policies: Option<&Bound<'py, PyDict>>,
    capacity_per_replica: Option<f64>,
    peak_replicas: Option<f64>,
    startup_seconds: Option<f64>,
    interval_seconds: Option<f64>,
    #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
    slo_wait_seconds: Option<f64>,
    queue_timeout_seconds: Option<f64>,
    references: bool,
    progress: Option<PyRef<'py, PyProgress>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = series_list(py, series)?;
    let standard = FleetPlan::standard();
    let mut plan = FleetPlan::standard_for(
        startup_seconds.unwrap_or(standard.sim.startup_seconds),
        interval_seconds.unwrap_or(standard.interval_seconds),
    )
    .map_err(|e| to_py(py, e))?;
    let capacity = capacity_arg(py, capacity_per_replica, peak_replicas, standard.capacity)?;
    plan = plan.with_capacity(capacity);
    if let Some(p) = policies {
        plan.policies.clear();
        for (k, v) in p.iter() {
            let name: String = k.extract()?;
            let policy = if let Ok(h) = v.extract::<PyRef<'_, PyHpaPolicy>>() {
                FleetPolicy::Hpa(h.inner.config().clone())
            } else if let Ok(c) = v.extract::<PyRef<'_, PyPredictivePolicy>>() {
                FleetPolicy::Predictive(c.config.clone())
            } else if v.is_instance_of::<PyDict>() {
                plain(py, &v, &format!("policy {name:?}"))?
            } else {
                return Err(param_err(
                    py,
                    format!(
                        "policy {name:?} must be an HpaPolicy, a PredictivePolicy, or a dict \
                         {{\"hpa\": config}} / {{\"predictive\": config}} of their config()"
                    ),
                ));
            };
            plan.policies.push((name, policy));
        }
    }
    if let Some(m) = max_replicas {
        plan.sim.max_replicas = m;
    }
    if let Some(w) = slo_wait_seconds {
        plan.sim.slo_wait_seconds = w;
    }
    if let Some(t) = queue_timeout_seconds {
        plan.sim.queue_timeout_seconds = Some(t);
    }
    plan.references = references;
    let progress = progress_of(progress);
    let out = py
        .detach(|| batch::simulate_many(&list, &plan, &progress))
        .map_err(|e| to_py(py, e))?;
    results(py, out, |py, rows| {
        let l = PyList::empty(py);
        for r in rows {
            let d = PyDict::new(py);
            d.set_item("policy", &r.name)?;
            d.set_item("capacity_per_replica", r.capacity_per_replica)?;
            let summary = to_plain(py, &r.summary)?;
            d.update(summary.cast::<pyo3::types::PyMapping>()?)?;
            l.append(d)?;
        }
        Ok(l.into_any())
    })
}

/// The policy under test (the predictive defaults when None) against the tuned-HPA frontier
/// on each service's `Series` (as `frontier`), with each service's capacity as in
/// `simulate_many`: one dict per series, `capacity_per_replica`, `r0`, `b0`, `budgets`
/// (`[budget, hpa B, policy B]` per budget, None where no setting fits) and `service`
/// (`[served, hpa replica-hours, policy replica-hours]` per service level), or its error.
#[pyfunction]
#[pyo3(signature = (series, policy = None, *, capacity_per_replica = None, peak_replicas = None,
                    startup_seconds = None, interval_seconds = None, max_replicas = None,
                    slo_wait_seconds = None, queue_timeout_seconds = None, model = None,
                    sweep_policy = true, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn frontier_many<'py>(
    py: Python<'py>,
    series: &Bound<'py, PyAny>,
    policy: Option<&Bound<'py, PyAny>>,
    capacity_per_replica: Option<f64>,
    peak_replicas: Option<f64>,
    startup_seconds: Option<f64>,
    interval_seconds: Option<f64>,
    #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
    slo_wait_seconds: Option<f64>,
    queue_timeout_seconds: Option<f64>,
    model: Option<&Bound<'py, PyAny>>,
    sweep_policy: bool,
    progress: Option<PyRef<'py, PyProgress>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = series_list(py, series)?;
    let standard = FrontierPlan::standard();
    let capacity = capacity_arg(py, capacity_per_replica, peak_replicas, standard.capacity)?;
    let mut plan = standard.with_capacity(capacity);
    if let Some(p) = policy {
        plan.policy = predictive_config(py, p)?;
    } else if let Some(m) = max_replicas {
        plan.policy.hpa.max_replicas = m;
    }
    if let Some(s) = startup_seconds {
        plan.policy.startup_seconds = s;
    }
    if let Some(i) = interval_seconds {
        plan.policy.interval_seconds = i;
    }
    plan.sim.startup_seconds = plan.policy.startup_seconds;
    if let Some(m) = max_replicas {
        plan.sim.max_replicas = m;
    }
    if let Some(w) = slo_wait_seconds {
        plan.sim.slo_wait_seconds = w;
    }
    if let Some(t) = queue_timeout_seconds {
        plan.sim.queue_timeout_seconds = Some(t);
    }
    plan.model = model.map(spec_of).transpose()?;
    plan.sweep_policy = sweep_policy;
    let progress = progress_of(progress);
    let out = py
        .detach(|| batch::frontier_many(&list, &plan, &progress))
        .map_err(|e| to_py(py, e))?;
    let first = |x: Option<(f64, usize)>| x.map(|(v, _)| v);
    results(py, out, |py, row| {
        let r = &row.report;
        let d = PyDict::new(py);
        d.set_item("capacity_per_replica", row.capacity_per_replica)?;
        d.set_item("r0", r.r0)?;
        d.set_item("b0", r.b0)?;
        let budgets: Vec<(f64, Option<f64>, Option<f64>)> = r
            .budgets
            .iter()
            .map(|b| (b.budget, first(b.hpa), first(b.policy)))
            .collect();
        d.set_item("budgets", budgets)?;
        let service: Vec<(f64, Option<f64>, Option<f64>)> = r
            .service
            .iter()
            .map(|s| (s.served, first(s.hpa), first(s.policy)))
            .collect();
        d.set_item("service", service)?;
        Ok(d.into_any())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(series_many, m)?)?;
    m.add_function(wrap_pyfunction!(forecast_many, m)?)?;
    m.add_function(wrap_pyfunction!(recommend_many, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_many, m)?)?;
    m.add_function(wrap_pyfunction!(frontier_many, m)?)?;
    use flaskscale_core::sim::frontier as fr;
    m.add("FRONTIER_BUDGETS", fr::BUDGETS.to_vec())?;
    m.add(
        "FRONTIER_SETTINGS",
        (
            fr::HPA_TARGETS.len() * fr::HPA_WINDOWS.len(),
            fr::POLICY_QUANTILES.len() * fr::POLICY_REACTIVE.len(),
        ),
    )?;
    m.add("FRONTIER_SERVICE_LEVELS", fr::SERVICE_LEVELS.to_vec())?;
    Ok(())
}

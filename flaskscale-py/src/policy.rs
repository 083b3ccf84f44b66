//! `HpaPolicy`, `PredictivePolicy`, `Autoscaler`, `Decision`, and `simulate`.

use crate::convert::{
    compute, count, json_value, opt_count, param_err, spec_of, to_plain, to_py, PyFsErr,
};
use crate::series::PySeries;
use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::policy::{
    forecast_hpa, hpa_from_manifest, manifest_of, Combination, Decision, HpaBehavior, HpaConfig,
    HpaPolicy, Lines, ManifestKind, ManifestOptions, Mode, PredictiveConfig, RecentFloor,
    DEFAULT_FLOOR_FACTOR, DEFAULT_FLOOR_QUANTILE, DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_REPLICAS,
    DEFAULT_MIN_REPLICAS, DEFAULT_STARTUP_SECONDS,
};
use flaskscale_core::sim::{
    self, AutoscalerSim, HpaSim, Progress, Schedule, SimConfig, SimPolicy, SimReport,
};
use flaskscale_core::Error;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::path::PathBuf;
use std::sync::Arc;

/// A dict, or JSON text, as a serde value.
fn json_of(_py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    json_value(obj)
}

fn from_value<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    v: serde_json::Value,
    what: &str,
) -> PyResult<T> {
    serde_json::from_value(v).map_err(|e| {
        to_py(
            py,
            Error::Parse {
                line: 0,
                message: format!("{what}: {e}"),
            },
        )
    })
}

/// A scaling decision: `replicas`, `reason`, `mode`, and `explain()` for the numbers behind it.
#[pyclass(name = "Decision", module = "flaskscale", frozen)]
pub struct PyDecision {
    pub(crate) inner: Decision,
}

#[pymethods]
impl PyDecision {
    /// The replica count to set.
    #[getter]
    fn replicas(&self) -> u32 {
        self.inner.replicas
    }
    /// Why: a Kubernetes condition reason (ScaleDownStabilized, ...) or ForecastPeak, WarmUp,
    /// FailSafe, ForecastOnly, Reactive.
    #[getter]
    fn reason(&self) -> &'static str {
        self.inner.reason.as_str()
    }
    /// The policy mode that decided.
    #[getter]
    fn mode(&self) -> String {
        self.inner.mode.clone()
    }
    /// The numbers behind the decision as a dict.
    fn explain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_plain(py, &self.inner.explain)
    }
    fn __repr__(&self) -> String {
        format!(
            "Decision(replicas={}, reason={:?}, mode={:?})",
            self.inner.replicas,
            self.inner.reason.as_str(),
            self.inner.mode
        )
    }
}

/// The Kubernetes HPA's replica calculation, exactly: tolerance, stabilization windows, rate
/// policies (`behavior`, autoscaling/v2 field names), min/max. Stateful.
#[pyclass(name = "HpaPolicy", module = "flaskscale")]
#[derive(Clone)]
pub struct PyHpaPolicy {
    pub(crate) inner: HpaPolicy,
}

#[pymethods]
impl PyHpaPolicy {
    #[new]
    #[pyo3(signature = (target_per_replica, *, min_replicas = None, max_replicas = None,
                        tolerance = None, behavior = None, downscale_stabilization_seconds = None))]
    fn new(
        py: Python<'_>,
        target_per_replica: f64,
        #[pyo3(from_py_with = opt_count)] min_replicas: Option<u32>,
        #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
        tolerance: Option<f64>,
        behavior: Option<Bound<'_, PyAny>>,
        #[pyo3(from_py_with = opt_count)] downscale_stabilization_seconds: Option<u32>,
    ) -> PyResult<Self> {
        let behavior: Option<HpaBehavior> = match behavior {
            Some(b) => Some(from_value(py, json_of(py, &b)?, "behavior")?),
            None => None,
        };
        // unset settings keep the core's defaults
        let core = HpaConfig::new(
            target_per_replica,
            min_replicas.unwrap_or(DEFAULT_MIN_REPLICAS),
            max_replicas.unwrap_or(DEFAULT_MAX_REPLICAS),
        );
        let config = HpaConfig {
            tolerance: tolerance.unwrap_or(core.tolerance),
            behavior,
            downscale_stabilization_seconds: downscale_stabilization_seconds
                .unwrap_or(core.downscale_stabilization_seconds),
            ..core
        };
        let inner = HpaPolicy::new(config).map_err(PyFsErr::from)?;
        Ok(PyHpaPolicy { inner })
    }

    /// Builds the policy from an autoscaling/v2-style config (a dict or JSON text):
    /// `{"minReplicas": 1, "maxReplicas": 20, "target": {"type": "AverageValue",
    /// "averageValue": 50}, "behavior": {...}}`. Unknown keys are rejected.
    #[staticmethod]
    fn from_config(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = json_of(py, config)?.to_string();
        let c = HpaConfig::from_json(&text).map_err(PyFsErr::from)?;
        let inner = HpaPolicy::new(c).map_err(PyFsErr::from)?;
        Ok(PyHpaPolicy { inner })
    }

    /// One decision at time `now` (seconds) with the current replicas and the metric's total
    /// `load` (e.g. requests/s; NaN = missing). The decision is assumed applied.
    #[pyo3(signature = (*, now, current_replicas, load))]
    fn recommend(
        &mut self,
        _py: Python<'_>,
        now: f64,
        #[pyo3(from_py_with = count)] current_replicas: u32,
        load: f64,
    ) -> PyResult<PyDecision> {
        let inner = self
            .inner
            .recommend(now, current_replicas, load)
            .map_err(PyFsErr::from)?;
        Ok(PyDecision { inner })
    }

    /// Reads a Kubernetes manifest: an `autoscaling/v2` HorizontalPodAutoscaler or a KEDA
    /// ScaledObject, from a file (YAML or JSON, one document or several; errors name the file
    /// and line) or as parsed data (a dict or a list of documents). The metric's target becomes
    /// requests/s per replica: Pods/Object/External `AverageValue` as it is, a Resource
    /// `Utilization` of U % as U/100 × `capacity_per_replica` (the requests/s one replica
    /// serves at 100% of its resource request). `name` picks one of several autoscalers.
    /// Unsupported fields are refused together in one `ParseError`.
    #[staticmethod]
    #[pyo3(signature = (manifest, *, capacity_per_replica = None, name = None))]
    fn from_manifest(
        py: Python<'_>,
        manifest: &Bound<'_, PyAny>,
        capacity_per_replica: Option<f64>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let is_path = manifest.is_instance_of::<PyString>() || manifest.hasattr("__fspath__")?;
        let (value, lines, source) = if is_path {
            let read = py.import("flaskscale._manifest")?.getattr("read")?;
            let (text, lines, source): (String, Lines, String) =
                read.call1((manifest,))?.extract()?;
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| param_err(py, format!("{source}: {e}")))?;
            (value, lines, Some(source))
        } else {
            (json_of(py, manifest)?, Lines::new(), None)
        };
        let opts = ManifestOptions {
            capacity_per_replica,
            name,
            source,
        };
        let c = hpa_from_manifest(&value, &lines, &opts).map_err(PyFsErr::from)?;
        let inner = HpaPolicy::new(c).map_err(PyFsErr::from)?;
        Ok(PyHpaPolicy { inner })
    }

    /// The manifest (a dict) that scales the Deployment `name` with these settings on the pods'
    /// forecast: `kind` "keda" (a ScaledObject reading `url`, by default
    /// `http://NAME:8000/flaskscale/recommendation`) or "hpa" (an autoscaling/v2 HPA on the
    /// `flaskscale_forecast_requests_per_second` gauge). `from_manifest` of it gives these
    /// settings back.
    #[pyo3(signature = (kind = "keda", *, name = "app", url = None))]
    fn manifest<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        name: &str,
        url: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind: ManifestKind = kind.parse().map_err(PyFsErr::from)?;
        let m =
            manifest_of(self.inner.config(), kind, name, url.as_deref()).map_err(PyFsErr::from)?;
        to_plain(py, &m)
    }

    /// The settings as a dict (autoscaling/v2 names).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_plain(py, self.inner.config())
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "HpaPolicy(min_replicas={}, max_replicas={}, target={:?}, behavior={})",
            c.min_replicas,
            c.max_replicas,
            c.target,
            if c.behavior.is_some() { "set" } else { "None" }
        )
    }
}

/// The predictive policy's settings: provision for the `quantile` of the request count at the
/// peak of the startup + interval lead window, calibrated online on the errors of the model
/// and of the recent load (`sizing="count"`, the default; `"forecast"` provisions for the
/// model's own forecast quantile), combined with the reactive HPA and its limits (by default
/// one at 70% of the capacity with no scale-down window: never less than the usual HPA would
/// ask before its window). Unset settings take the core's defaults (startup 120 s, interval
/// 15 s, quantile 0.98). With
/// `floor_window_seconds`, never below `floor_factor` × the `floor_quantile` of the per-step
/// load over that much recent history (1 = its peak): cover for per-minute noise that no
/// forecast foresees. The replica limits are `min_replicas`/`max_replicas` (default 1 and
/// 100), or the `hpa` policy's when one is given; a limit given both ways must agree.
#[pyclass(name = "PredictivePolicy", module = "flaskscale", frozen)]
#[derive(Clone)]
pub struct PyPredictivePolicy {
    pub(crate) config: PredictiveConfig,
}

#[pymethods]
impl PyPredictivePolicy {
    #[new]
    #[pyo3(signature = (capacity_per_replica, *, startup_seconds = None, interval_seconds = None,
                        quantile = None, headroom = None, min_replicas = None, max_replicas = None,
                        combination = "max", mode = "full", hpa = None,
                        floor_window_seconds = None, floor_quantile = None, floor_factor = None,
                        sizing = "count", count = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        capacity_per_replica: f64,
        startup_seconds: Option<f64>,
        interval_seconds: Option<f64>,
        quantile: Option<f64>,
        headroom: Option<f64>,
        #[pyo3(from_py_with = opt_count)] min_replicas: Option<u32>,
        #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
        combination: &str,
        mode: &str,
        hpa: Option<PyRef<'_, PyHpaPolicy>>,
        floor_window_seconds: Option<f64>,
        floor_quantile: Option<f64>,
        floor_factor: Option<f64>,
        sizing: &str,
        count: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let sizing = sizing.parse().map_err(PyFsErr::from)?;
        let count = match count {
            Some(c) => {
                let text = json_of(py, c)?.to_string();
                flaskscale_core::policy::CountSizing::from_json(&text).map_err(PyFsErr::from)?
            }
            None => flaskscale_core::policy::CountSizing::default(),
        };
        let combination: Combination = combination.parse().map_err(PyFsErr::from)?;
        let mode: Mode = mode.parse().map_err(PyFsErr::from)?;
        let mut config = PredictiveConfig::new(
            capacity_per_replica,
            min_replicas.unwrap_or(DEFAULT_MIN_REPLICAS),
            max_replicas.unwrap_or(DEFAULT_MAX_REPLICAS),
        );
        // unset settings keep the core's defaults
        config.startup_seconds = startup_seconds.unwrap_or(config.startup_seconds);
        config.interval_seconds = interval_seconds.unwrap_or(config.interval_seconds);
        config.quantile = quantile.unwrap_or(config.quantile);
        config.sizing = sizing;
        config.count = count;
        config.headroom = headroom.unwrap_or(config.headroom);
        config.combination = combination;
        config.mode = mode;
        config.recent_floor = floor_window_seconds.map(|window_seconds| RecentFloor {
            window_seconds,
            quantile: floor_quantile.unwrap_or(DEFAULT_FLOOR_QUANTILE),
            factor: floor_factor.unwrap_or(DEFAULT_FLOOR_FACTOR),
        });
        if let Some(h) = hpa {
            let hc = h.inner.config();
            // the replica limits live in the HPA settings: one given here must agree with them
            for (name, given, theirs) in [
                ("min_replicas", min_replicas, hc.min_replicas),
                ("max_replicas", max_replicas, hc.max_replicas),
            ] {
                if let Some(v) = given.filter(|&v| v != theirs) {
                    return Err(param_err(
                        py,
                        format!(
                            "{name}={v} disagrees with the hpa policy's {name}={theirs}: \
                             give the limits in one place"
                        ),
                    ));
                }
            }
            config.hpa = hc.clone();
        }
        config.validate().map_err(PyFsErr::from)?;
        Ok(PyPredictivePolicy { config })
    }

    /// The settings as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_plain(py, &self.config)
    }

    /// Seconds a decision provisions ahead: startup + interval.
    #[getter]
    fn lead_seconds(&self) -> f64 {
        self.config.lead_seconds()
    }

    /// The HPA that scales on the pods' published forecast as this policy does (target = the
    /// capacity per replica, this policy's bounds and `behavior`), as `HpaPolicy.manifest`
    /// writes it: the Kubernetes side of the predictive setup.
    #[pyo3(signature = (kind = "keda", *, name = "app", url = None))]
    fn manifest<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        name: &str,
        url: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind: ManifestKind = kind.parse().map_err(PyFsErr::from)?;
        let m = manifest_of(&forecast_hpa(&self.config), kind, name, url.as_deref())
            .map_err(PyFsErr::from)?;
        to_plain(py, &m)
    }

    fn __repr__(&self) -> String {
        let c = &self.config;
        format!(
            "PredictivePolicy(capacity_per_replica={}, startup_seconds={}, interval_seconds={}, quantile={}, min_replicas={}, max_replicas={})",
            c.capacity_per_replica, c.startup_seconds, c.interval_seconds, c.quantile,
            c.hpa.min_replicas, c.hpa.max_replicas
        )
    }
}

pub(crate) fn autoscaler_config(
    py: Python<'_>,
    policy: &PredictiveConfig,
    model: Option<&Bound<'_, PyAny>>,
    step_seconds: f64,
) -> PyResult<AutoscalerConfig> {
    let model = match model {
        Some(m) => spec_of(m)?,
        None => AutoscalerConfig::default_model(),
    };
    let _ = py;
    Ok(sim::replay_config(step_seconds, model, policy))
}

/// The stateful autoscaler: observe load as it comes, recommend replicas each tick, save and
/// restore the whole state.
#[pyclass(name = "Autoscaler", module = "flaskscale")]
#[derive(Clone)]
pub struct PyAutoscaler {
    inner: Autoscaler,
}

#[pymethods]
impl PyAutoscaler {
    #[new]
    #[pyo3(signature = (policy, *, model = None, step_seconds = 60.0, max_history = None,
                        refit_every = None, warmup_season = None, empty_steps = "missing",
                        clean_outliers = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        _py: Python<'_>,
        policy: PyRef<'_, PyPredictivePolicy>,
        model: Option<Bound<'_, PyAny>>,
        step_seconds: f64,
        #[pyo3(from_py_with = opt_count)] max_history: Option<usize>,
        #[pyo3(from_py_with = opt_count)] refit_every: Option<usize>,
        #[pyo3(from_py_with = opt_count)] warmup_season: Option<usize>,
        empty_steps: &str,
        clean_outliers: Option<bool>,
    ) -> PyResult<Self> {
        let model = match model {
            Some(m) => spec_of(&m)?,
            None => AutoscalerConfig::default_model(),
        };
        let mut cfg = AutoscalerConfig::new(step_seconds, model, policy.config.clone());
        // unset settings keep the core's defaults
        cfg.max_history = max_history.unwrap_or(cfg.max_history);
        cfg.refit_every = refit_every.unwrap_or(cfg.refit_every);
        cfg.warmup_season = warmup_season;
        cfg.clean_outliers = clean_outliers.unwrap_or(cfg.clean_outliers);
        cfg.empty_steps = empty_steps.parse().map_err(PyFsErr::from)?;
        let inner = Autoscaler::new(cfg).map_err(PyFsErr::from)?;
        Ok(PyAutoscaler { inner })
    }

    /// Adds an observation (a per-step total, or a count of events) at `timestamp`.
    fn observe(&mut self, py: Python<'_>, timestamp: f64, value: f64) -> PyResult<()> {
        self.inner
            .observe(timestamp, value)
            .map_err(|e| to_py(py, e))
    }

    /// Decides the replica count at `now` (refits the model when due, with the GIL released).
    #[pyo3(signature = (now, *, current_replicas))]
    fn recommend(
        &mut self,
        py: Python<'_>,
        now: f64,
        #[pyo3(from_py_with = count)] current_replicas: u32,
    ) -> PyResult<PyDecision> {
        let inner = &mut self.inner;
        let d = compute(py, || inner.recommend(now, current_replicas))?;
        Ok(PyDecision { inner: d })
    }

    /// The complete steps kept, oldest first (NaN = missing).
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.history().into_pyarray(py)
    }

    /// "reactive", "warm_up" or "full": which model forecasts now.
    #[getter]
    fn stage(&self) -> &'static str {
        self.inner.stage().as_str()
    }

    /// Start time of the first step in :attr:`history`, or None before any observation.
    #[getter]
    fn history_start(&self) -> Option<f64> {
        self.inner.history_start()
    }

    /// How many fits were made (failed attempts included).
    #[getter]
    fn n_fits(&self) -> u64 {
        self.inner.n_fits()
    }

    /// The last fit error, or None.
    #[getter]
    fn last_fit_error(&self) -> Option<String> {
        self.inner.last_fit_error().map(str::to_string)
    }

    /// The name of the model in use, or None.
    #[getter]
    fn model_name(&self) -> Option<&'static str> {
        use flaskscale_core::Fitted;
        self.inner.model().map(|m| m.name())
    }

    /// The whole state as versioned JSON text.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.to_json().map_err(|e| to_py(py, e))
    }

    /// Restores an autoscaler from `to_json` text.
    #[staticmethod]
    fn from_json(_py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = Autoscaler::from_json(text).map_err(PyFsErr::from)?;
        Ok(PyAutoscaler { inner })
    }

    /// Saves the whole state to `path` (atomically).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).map_err(|e| to_py(py, e))
    }

    /// Restores an autoscaler saved with `save`.
    #[staticmethod]
    fn load(_py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = Autoscaler::load(&path).map_err(PyFsErr::from)?;
        Ok(PyAutoscaler { inner })
    }

    fn __repr__(&self) -> String {
        format!(
            "Autoscaler(step_seconds={}, history={}, stage={:?})",
            self.inner.config().step_seconds,
            self.inner.history().len(),
            self.stage()
        )
    }
}

/// The report of a simulation: per-policy summaries and time series.
#[pyclass(name = "SimReport", module = "flaskscale", frozen)]
pub struct PySimReport {
    inner: SimReport,
    start: f64,
    step: f64,
}

#[pymethods]
impl PySimReport {
    /// The policies' names, in the order given (references last).
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner.policies.iter().map(|p| p.name.clone()).collect()
    }

    /// Per policy: violation minutes, dropped/delayed requests, replica-hours, utilisation,
    /// over-provisioned replica-hours, scaling actions, peak replicas (a dict of dicts).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for p in &self.inner.policies {
            d.set_item(&p.name, to_plain(py, &p.summary)?)?;
        }
        Ok(d)
    }

    /// One policy's time series per trace step as numpy arrays: time, demand (req/s),
    /// forecast, target (replicas), capacity (ready req/s), queue, dropped.
    fn timeline<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        let p = self.inner.policy(name).ok_or_else(|| {
            param_err(
                py,
                format!("no policy {name:?} in this report; have {:?}", self.names()),
            )
        })?;
        let s = &p.series;
        let d = PyDict::new(py);
        let n = s.demand.len();
        let t: Vec<f64> = (0..n).map(|i| self.start + self.step * i as f64).collect();
        d.set_item("time", t.into_pyarray(py))?;
        let demand: Vec<f64> = s.demand.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        d.set_item("demand", demand.into_pyarray(py))?;
        let fc: Vec<f64> = s.forecast.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        d.set_item("forecast", fc.into_pyarray(py))?;
        let target: Vec<f64> = s.target.iter().map(|&v| v as f64).collect();
        d.set_item("target", target.into_pyarray(py))?;
        d.set_item("capacity", s.ready_capacity.clone().into_pyarray(py))?;
        d.set_item("queue", s.queue.clone().into_pyarray(py))?;
        d.set_item("dropped", s.dropped.clone().into_pyarray(py))?;
        Ok(d)
    }

    /// The whole report as JSON text.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.to_json().map_err(|e| to_py(py, e))
    }

    /// The per-step time series of every policy as CSV text (long format).
    fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    /// pandas: the summary as a DataFrame (one row per policy) when `policy` is None, else that
    /// policy's timeline as a DataFrame on a UTC DatetimeIndex (needs pandas).
    #[pyo3(signature = (policy = None))]
    fn to_pandas<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        policy: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        py.import("flaskscale._report")?
            .getattr("to_pandas")?
            .call1((slf, policy))
    }

    /// Writes the picture of demand against each policy's ready capacity, with its SLO
    /// violations and a zoom on the worst window (PNG or SVG by the ending; needs matplotlib).
    /// Returns the matplotlib Figure.
    #[pyo3(signature = (path, *, title = "", zoom_seconds = 86400.0))]
    fn plot<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        title: &str,
        zoom_seconds: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        py.import("flaskscale._report")?
            .getattr("plot")?
            .call1((slf, path, title, zoom_seconds))
    }

    fn __repr__(&self) -> String {
        format!("SimReport(policies={:?})", self.names())
    }
}

/// How far running simulations have come: `done` and `total` trace steps (summed over their
/// policies), readable from another thread while `simulate(..., progress=p)` runs with the GIL
/// released; `cancel()` stops them (they raise `FlaskscaleError`). One object may watch
/// several simulations (a sweep): each adds its steps to `total` when it starts.
#[pyclass(name = "Progress", module = "flaskscale", frozen)]
pub struct PyProgress {
    pub(crate) inner: Arc<Progress>,
}

#[pymethods]
impl PyProgress {
    #[new]
    fn new() -> Self {
        PyProgress {
            inner: Arc::new(Progress::new()),
        }
    }
    /// Trace steps replayed so far.
    #[getter]
    fn done(&self) -> u64 {
        self.inner.done()
    }
    /// Trace steps to replay in the simulations started so far.
    #[getter]
    fn total(&self) -> u64 {
        self.inner.total()
    }
    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
    /// Asks the simulations to stop at their next block of steps.
    fn cancel(&self) {
        self.inner.cancel();
    }
    fn __repr__(&self) -> String {
        format!(
            "Progress(done={}, total={}, cancelled={})",
            self.done(),
            self.total(),
            self.cancelled()
        )
    }
}

/// Replays `series` (requests per step) through each policy: the real HPA, predictive
/// autoscalers, and the references (oracle, fixed fleet for the peak) unless
/// `references=False`. Returns a `SimReport`. A bare `PredictivePolicy` runs in an autoscaler
/// at the trace's step, refitted hourly, forecasting with the mean of the seasonal naive
/// forecasts a day and a week ago (an `Autoscaler` brings its own model). A `Series` is a plan
/// of replica counts replayed as it is (its step's count at each tick; held before its start
/// and on missing steps, its last count after its end). A `Progress` given as `progress`
/// counts the replayed steps while it runs.
#[pyfunction]
#[pyo3(signature = (series, policies, *, capacity_per_replica, startup_seconds = None,
                    interval_seconds = None, initial_replicas = None, drain_seconds = None,
                    max_queue = None, queue_timeout_seconds = Some(30.0), slo_wait_seconds = None,
                    max_replicas = None, references = true, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    py: Python<'_>,
    series: PyRef<'_, PySeries>,
    policies: &Bound<'_, PyDict>,
    capacity_per_replica: f64,
    startup_seconds: Option<f64>,
    interval_seconds: Option<f64>,
    #[pyo3(from_py_with = opt_count)] initial_replicas: Option<u32>,
    drain_seconds: Option<f64>,
    max_queue: Option<f64>,
    queue_timeout_seconds: Option<f64>,
    slo_wait_seconds: Option<f64>,
    #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
    references: bool,
    progress: Option<PyRef<'_, PyProgress>>,
) -> PyResult<PySimReport> {
    let trace = series.inner.clone();
    let step = trace.step();
    // unset settings keep the core's defaults
    let interval_seconds = interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS);
    let startup_seconds = startup_seconds.unwrap_or(DEFAULT_STARTUP_SECONDS);
    let mut cfg = SimConfig::new(capacity_per_replica, startup_seconds).map_err(PyFsErr::from)?;
    cfg.initial_replicas = initial_replicas.unwrap_or(cfg.initial_replicas);
    cfg.drain_seconds = drain_seconds.unwrap_or(cfg.drain_seconds);
    cfg.max_queue = max_queue;
    cfg.queue_timeout_seconds = queue_timeout_seconds;
    cfg.slo_wait_seconds = slo_wait_seconds.unwrap_or(cfg.slo_wait_seconds);
    cfg.max_replicas = max_replicas.unwrap_or(cfg.max_replicas);
    cfg.validate().map_err(PyFsErr::from)?;
    let mut list: Vec<Box<dyn SimPolicy>> = Vec::new();
    for (k, v) in policies.iter() {
        let name: String = k.extract()?;
        if let Ok(h) = v.extract::<PyRef<'_, PyHpaPolicy>>() {
            let hpa = HpaPolicy::new(h.inner.config().clone()).map_err(PyFsErr::from)?;
            let s = HpaSim::new(&name, hpa, step, interval_seconds).map_err(PyFsErr::from)?;
            list.push(Box::new(s));
        } else if let Ok(p) = v.extract::<PyRef<'_, PyPredictivePolicy>>() {
            let a = sim::replay_autoscaler(&trace, &p.config).map_err(PyFsErr::from)?;
            list.push(Box::new(AutoscalerSim::new(&name, a)));
        } else if let Ok(a) = v.extract::<PyRef<'_, PyAutoscaler>>() {
            let mut ac = a.inner.config().clone();
            if (ac.step_seconds - step).abs() > 1e-9 {
                return Err(param_err(
                    py,
                    format!(
                        "autoscaler {name:?} has step_seconds {} but the trace's step is {step}",
                        ac.step_seconds
                    ),
                ));
            }
            ac.step_seconds = step;
            let fresh = Autoscaler::new(ac).map_err(PyFsErr::from)?;
            list.push(Box::new(AutoscalerSim::new(&name, fresh)));
        } else if let Ok(plan) = v.extract::<PyRef<'_, PySeries>>() {
            let s = Schedule::new(&name, &plan.inner, interval_seconds).map_err(PyFsErr::from)?;
            list.push(Box::new(s));
        } else {
            return Err(param_err(
                py,
                format!(
                    "policy {name:?} must be an HpaPolicy, PredictivePolicy, Autoscaler or a \
                     Series of planned replica counts"
                ),
            ));
        }
    }
    if references {
        list.extend(
            sim::reference_policies(
                &trace,
                capacity_per_replica,
                startup_seconds,
                interval_seconds,
            )
            .map_err(PyFsErr::from)?,
        );
    }
    if list.is_empty() {
        return Err(param_err(py, "no policy to simulate"));
    }
    let start = trace.start();
    let progress = progress.map_or_else(|| Arc::new(Progress::new()), |p| Arc::clone(&p.inner));
    let inner = compute(py, || {
        sim::simulate_with_progress(&trace, list, &cfg, &progress)
    })?;
    Ok(PySimReport { inner, start, step })
}

/// Replays `series` through each predictive policy of `policies` (a list), in parallel, each
/// in the autoscaler `simulate` gives a bare `PredictivePolicy`. Returns a dict: `rows`, one
/// policy summary per policy in the order given (as `SimReport.summary()`), and `pareto`,
/// the indices of the rows no other row beats on both replica-hours and violation minutes,
/// cheapest first. A `Progress` given as `progress` counts the replayed steps.
#[pyfunction]
#[pyo3(signature = (series, policies, *, capacity_per_replica, startup_seconds = None,
                    max_replicas = None, progress = None))]
pub fn sweep<'py>(
    py: Python<'py>,
    series: PyRef<'_, PySeries>,
    policies: Vec<PyRef<'_, PyPredictivePolicy>>,
    capacity_per_replica: f64,
    startup_seconds: Option<f64>,
    #[pyo3(from_py_with = opt_count)] max_replicas: Option<u32>,
    progress: Option<PyRef<'_, PyProgress>>,
) -> PyResult<Bound<'py, PyDict>> {
    let trace = series.inner.clone();
    let startup_seconds = startup_seconds.unwrap_or(DEFAULT_STARTUP_SECONDS);
    let mut cfg = SimConfig::new(capacity_per_replica, startup_seconds).map_err(PyFsErr::from)?;
    cfg.max_replicas = max_replicas.unwrap_or(cfg.max_replicas);
    let params: Vec<PredictiveConfig> = policies.iter().map(|p| p.config.clone()).collect();
    let progress = progress.map_or_else(|| Arc::new(Progress::new()), |p| Arc::clone(&p.inner));
    let report = compute(py, || {
        sim::sweep_with_progress(
            &trace,
            &params,
            |c| {
                let a = sim::replay_autoscaler(&trace, c)?;
                Ok(Box::new(AutoscalerSim::new("predictive", a)) as Box<dyn SimPolicy>)
            },
            &cfg,
            &progress,
        )
    })?;
    let rows = report
        .rows
        .iter()
        .map(|r| to_plain(py, &r.summary))
        .collect::<PyResult<Vec<_>>>()?;
    let out = PyDict::new(py);
    out.set_item("rows", rows)?;
    out.set_item("pareto", report.pareto)?;
    Ok(out)
}

/// The policy under test against the tuned-HPA frontier on `series`: the HPA over target
/// 0.50–0.95 × scale-down window 0/60/300/900 s, and `policy` (default: a `PredictivePolicy`
/// with the defaults) over its count quantile × reactive target, each point a simulation.
/// Returns a dict: `r0` and `b0` (replica-hours and request-SLO miss share of the HPA at 70%
/// with a 300 s window), `points` (every setting with its summary), `budgets` (the lowest
/// miss share of each family within 0.9, 1.0, 1.1, 1.25 × r0, as `[share, point index]`) and
/// `service` (the fewest replica-hours of each family that serve 99.9% and 99% of requests
/// within the SLO, as `[replica_hours, point index]`). The policy forecasts with `model`
/// (default: the replay model `simulate` uses), refitted hourly; `sweep_policy=False` replays
/// it once as given instead of over its knobs.
#[pyfunction]
#[pyo3(signature = (series, policy = None, *, capacity_per_replica, startup_seconds = None,
                    interval_seconds = None, max_replicas = 10000, slo_wait_seconds = 1.0,
                    model = None, sweep_policy = true, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn frontier<'py>(
    py: Python<'py>,
    series: PyRef<'_, PySeries>,
    policy: Option<PyRef<'_, PyPredictivePolicy>>,
    capacity_per_replica: f64,
    startup_seconds: Option<f64>,
    interval_seconds: Option<f64>,
    #[pyo3(from_py_with = count)] max_replicas: u32,
    slo_wait_seconds: f64,
    model: Option<&Bound<'_, PyAny>>,
    sweep_policy: bool,
    progress: Option<PyRef<'_, PyProgress>>,
) -> PyResult<Bound<'py, PyAny>> {
    let trace = series.inner.clone();
    let mut base = match policy {
        Some(p) => p.config.clone(),
        None => PredictiveConfig::new(capacity_per_replica, 1, max_replicas),
    };
    base.startup_seconds = startup_seconds.unwrap_or(base.startup_seconds);
    base.interval_seconds = interval_seconds.unwrap_or(base.interval_seconds);
    let mut cfg =
        SimConfig::new(capacity_per_replica, base.startup_seconds).map_err(PyFsErr::from)?;
    cfg.max_replicas = max_replicas;
    cfg.slo_wait_seconds = slo_wait_seconds;
    let model = model.map(spec_of).transpose()?;
    let progress = progress.map_or_else(|| Arc::new(Progress::new()), |p| Arc::clone(&p.inner));
    let report = compute(py, || {
        sim::frontier::frontier(&trace, &cfg, &base, model, sweep_policy, &progress)
    })?;
    to_plain(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDecision>()?;
    m.add_class::<PyHpaPolicy>()?;
    m.add_class::<PyPredictivePolicy>()?;
    m.add_class::<PyAutoscaler>()?;
    m.add_class::<PySimReport>()?;
    m.add_class::<PyProgress>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(frontier, m)?)?;
    Ok(())
}

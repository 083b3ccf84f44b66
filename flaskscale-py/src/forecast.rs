//! Forecaster classes, the fitted model, the forecast, and the accuracy metrics.

use crate::convert::{
    compute, count, counts, opt_count, opt_counts, param_err, spec_of, to_plain, to_py, values,
    PyFsErr, Values,
};
use crate::series::PySeries;
use flaskscale_core::forecast::{
    AutoForecaster, Combine, Drift, Ensemble, FourierRegression, HoltWinters, LinearTrend, Loss,
    MultiSeasonalNaive, Naive, Seasonal, SeasonalNaive, Select, Trend,
};
use flaskscale_core::{metrics, periods, Error, Fitted, FittedModel, Forecast, ModelSpec};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The data a model is fitted to: a `Series` (its values) or a 1-D array-like.
fn fit_input<'py>(data: &Bound<'py, PyAny>) -> PyResult<Values<'py>> {
    if let Ok(s) = data.extract::<PyRef<'_, PySeries>>() {
        return Ok(Values::Owned(s.inner.values().to_vec()));
    }
    values(data)
}

/// Fits any model spec with the GIL released.
pub fn fit_spec(py: Python<'_>, spec: &ModelSpec, data: &Bound<'_, PyAny>) -> PyResult<PyFitted> {
    let v = fit_input(data)?;
    let y = v.as_slice();
    let inner = compute(py, || spec.fit(y))?;
    Ok(PyFitted { inner })
}

/// A fitted model: forecasts with intervals, and advances online with new observations.
#[pyclass(name = "FittedModel", module = "flaskscale")]
pub struct PyFitted {
    pub inner: FittedModel,
}

#[pymethods]
impl PyFitted {
    /// Forecasts `horizon` steps with a prediction interval for each of `levels` (in (0, 1)).
    /// `nonnegative` (default True, the core's): the mean, bounds and quantiles of a load are
    /// floored at 0; False gives the model's unfloored normal.
    #[pyo3(signature = (horizon, *, levels = Vec::new(), nonnegative = None))]
    fn predict(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = count)] horizon: usize,
        levels: Vec<f64>,
        nonnegative: Option<bool>,
    ) -> PyResult<PyForecast> {
        let nonneg = nonnegative.unwrap_or(flaskscale_core::forecast::NONNEGATIVE);
        let inner = compute(py, || {
            let mut out = Forecast::default();
            self.inner
                .predict_into_with(horizon, &levels, nonneg, &mut out)
                .map(|()| out)
        })?;
        Ok(PyForecast { inner })
    }

    /// Advances the model with new observations without refitting (NaN = missing).
    fn update(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = fit_input(values)?;
        let y = v.as_slice();
        let inner = &mut self.inner;
        compute(py, || inner.update(y))
    }

    /// The model's short name, e.g. "seasonal_naive".
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// What the fit saw: n_obs, n_filled (gaps interpolated), sigma (one-step residual sd).
    fn fit_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = self.inner.fit_info();
        let d = PyDict::new(py);
        d.set_item("n_obs", i.n_obs)?;
        d.set_item("n_filled", i.n_filled)?;
        d.set_item("sigma", i.sigma)?;
        Ok(d)
    }

    /// The whole fitted state as JSON text (restore with `FittedModel.from_json`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| {
            to_py(
                py,
                Error::InvalidData(format!("cannot serialise the model: {e}")),
            )
        })
    }

    /// Restores a fitted model saved by `to_json`.
    #[staticmethod]
    fn from_json(_py: Python<'_>, text: &str) -> PyResult<Self> {
        let inner = FittedModel::from_json(text).map_err(PyFsErr::from)?;
        Ok(PyFitted { inner })
    }

    /// For an automatic forecaster: why the winner won; for a Holt-Winters fit replaced by
    /// seasonal naive (far worse one step ahead): why; None otherwise.
    fn why(&self) -> Option<String> {
        match &self.inner {
            FittedModel::Auto(a) => Some(a.why().to_string()),
            FittedModel::HoltWinters(h) => h.params().fallback.clone(),
            _ => None,
        }
    }

    /// For an automatic forecaster: every candidate's backtest scores, as a list of dicts with
    /// name, spec, loss, scores (mase, smape, rmse, pinball, coverage_80, ...) and error (None for
    /// other models).
    fn scores<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner {
            FittedModel::Auto(a) => Ok(Some(to_plain(py, &a.scores())?)),
            _ => Ok(None),
        }
    }

    /// The fitted parameters of a Holt-Winters model (alpha, beta, gamma, phi, initial states,
    /// SSE, log-likelihood, AIC, convergence), or of a Fourier/linear model (penalty,
    /// coefficients / slope, intercept); None for models without fitted parameters.
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner {
            FittedModel::HoltWinters(h) => Ok(Some(to_plain(py, h.params())?)),
            FittedModel::FourierRegression(f) => {
                let d = PyDict::new(py);
                d.set_item("penalty", f.penalty())?;
                d.set_item("relative_penalty", f.relative_penalty())?;
                d.set_item("effective_parameters", f.effective_parameters())?;
                d.set_item("coefficients", f.coefficients().to_vec())?;
                Ok(Some(d.into_any()))
            }
            FittedModel::LinearTrend(l) => {
                let d = PyDict::new(py);
                d.set_item("slope", l.slope())?;
                d.set_item("intercept", l.intercept())?;
                d.set_item("level", l.level())?;
                d.set_item("n_points", l.n_points())?;
                Ok(Some(d.into_any()))
            }
            _ => Ok(None),
        }
    }

    fn __repr__(&self) -> String {
        let i = self.inner.fit_info();
        format!(
            "FittedModel(name={:?}, n_obs={}, n_filled={}, sigma={:.6})",
            self.inner.name(),
            i.n_obs,
            i.n_filled,
            i.sigma
        )
    }
}

/// A forecast: the mean path, its standard deviation, and intervals per level.
#[pyclass(name = "Forecast", module = "flaskscale", frozen)]
pub struct PyForecast {
    pub inner: Forecast,
}

impl PyForecast {
    fn band(&self, py: Python<'_>, level: f64) -> PyResult<&flaskscale_core::Interval> {
        self.inner.interval(level).ok_or_else(|| {
            let have: Vec<f64> = self.inner.intervals.iter().map(|i| i.level).collect();
            param_err(
                py,
                format!("no interval at level {level}: predict was asked for levels {have:?}"),
            )
        })
    }
}

#[pymethods]
impl PyForecast {
    /// The point forecast per step.
    #[getter]
    fn mean<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.mean.clone().into_pyarray(py)
    }

    /// The predictive standard deviation per step.
    #[getter]
    fn sd<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.sd.clone().into_pyarray(py)
    }

    /// The interval levels, in the order requested.
    #[getter]
    fn levels(&self) -> Vec<f64> {
        self.inner.intervals.iter().map(|i| i.level).collect()
    }

    /// Number of steps.
    #[getter]
    fn horizon(&self) -> usize {
        self.inner.horizon()
    }

    fn __len__(&self) -> usize {
        self.inner.horizon()
    }

    /// Lower bound of the interval at `level`.
    fn lower<'py>(&self, py: Python<'py>, level: f64) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.band(py, level)?.lower.clone().into_pyarray(py))
    }

    /// Upper bound of the interval at `level`.
    fn upper<'py>(&self, py: Python<'py>, level: f64) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.band(py, level)?.upper.clone().into_pyarray(py))
    }

    /// The q-quantile per step (normal predictive distribution).
    fn quantile<'py>(&self, py: Python<'py>, q: f64) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self
            .inner
            .quantile(q)
            .map_err(PyFsErr::from)?
            .into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "Forecast(horizon={}, levels={:?})",
            self.inner.horizon(),
            self.levels()
        )
    }
}

/// Generates a Python class for a model's settings: a constructor, `fit`, `spec` and `__repr__`.
macro_rules! model_class {
    ($rust:ident, $py:literal, $doc:literal, { $($ctor:tt)* }) => {
        #[doc = $doc]
        #[pyclass(name = $py, module = "flaskscale", frozen)]
        pub struct $rust {
            spec: ModelSpec,
        }

        #[pymethods]
        impl $rust {
            $($ctor)*

            /// Fits the model to a `Series` or a 1-D array (NaN gaps are interpolated).
            fn fit(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyFitted> {
                fit_spec(py, &self.spec, data)
            }

            /// The settings as JSON text.
            fn to_json(&self, py: Python<'_>) -> PyResult<String> {
                serde_json::to_string(&self.spec).map_err(|e| {
                    to_py(py, Error::InvalidData(format!("cannot serialise: {e}")))
                })
            }

            fn __repr__(&self) -> String {
                spec_repr($py, &self.spec)
            }
        }
    };
}

/// The spec of a new model object, checked by the core ([`ModelSpec::validate`]): a bad
/// setting is refused where the object is made.
fn checked(spec: ModelSpec) -> PyResult<ModelSpec> {
    spec.validate().map_err(PyFsErr::from)?;
    Ok(spec)
}

fn spec_repr(name: &str, spec: &ModelSpec) -> String {
    let json = serde_json::to_value(spec).unwrap_or_default();
    let args: Vec<String> = json
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "model")
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        })
        .unwrap_or_default();
    format!("{name}({})", args.join(", "))
}

model_class!(PyNaive, "Naive", "The last value, repeated.", {
    #[new]
    fn new() -> Self {
        PyNaive {
            spec: ModelSpec::Naive(Naive),
        }
    }
});

model_class!(
    PySeasonalNaive,
    "SeasonalNaive",
    "The value one season ago (season_length steps).",
    {
        #[new]
        #[pyo3(signature = (season_length))]
        fn new(#[pyo3(from_py_with = count)] season_length: usize) -> PyResult<Self> {
            Ok(PySeasonalNaive {
                spec: checked(ModelSpec::SeasonalNaive(SeasonalNaive::new(season_length)))?,
            })
        }
    }
);

model_class!(
    PyDrift,
    "Drift",
    "The line through the first and last observations, extended.",
    {
        #[new]
        fn new() -> Self {
            PyDrift {
                spec: ModelSpec::Drift(Drift),
            }
        }
    }
);

model_class!(
    PyHoltWinters,
    "HoltWinters",
    "Holt-Winters exponential smoothing (ETS with additive errors): level, optional trend \
     (additive or damped) and season (additive or multiplicative), parameters by maximum \
     likelihood, at any season length.",
    {
        #[new]
        #[pyo3(signature = (season_length = None, *, trend = "additive", seasonal = None,
                            alpha = None, beta = None, gamma = None, phi = None, robust = None))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            #[pyo3(from_py_with = opt_count)] season_length: Option<usize>,
            trend: &str,
            seasonal: Option<&str>,
            alpha: Option<f64>,
            beta: Option<f64>,
            gamma: Option<f64>,
            phi: Option<f64>,
            robust: Option<bool>,
        ) -> PyResult<Self> {
            let trend: Trend = trend.parse().map_err(PyFsErr::from)?;
            let seasonal: Seasonal = match seasonal {
                Some(s) => s.parse().map_err(PyFsErr::from)?,
                None if season_length.is_some() => Seasonal::Additive,
                None => Seasonal::None,
            };
            let hw = HoltWinters {
                alpha,
                beta,
                gamma,
                phi,
                robust: robust.unwrap_or(HoltWinters::default().robust),
                ..HoltWinters::with(season_length, trend, seasonal)
            };
            Ok(PyHoltWinters {
                spec: checked(ModelSpec::HoltWinters(hw))?,
            })
        }
    }
);

model_class!(
    PyLinearTrend,
    "LinearTrend",
    "A straight line by least squares, over the whole history or a recent window.",
    {
        #[new]
        #[pyo3(signature = (*, window = None))]
        fn new(#[pyo3(from_py_with = opt_count)] window: Option<usize>) -> PyResult<Self> {
            Ok(PyLinearTrend {
                spec: checked(ModelSpec::LinearTrend(LinearTrend { window }))?,
            })
        }
    }
);

model_class!(
    PyFourierRegression,
    "FourierRegression",
    "Fourier terms for several seasonal periods at once plus a linear trend, ridge-regularised \
     (penalty by generalised cross-validation unless given).",
    {
        #[new]
        #[pyo3(signature = (periods, *, log = false, penalty = None))]
        fn new(
            py: Python<'_>,
            periods: Vec<Bound<'_, PyAny>>,
            log: bool,
            penalty: Option<f64>,
        ) -> PyResult<Self> {
            let mut ps = Vec::with_capacity(periods.len());
            for p in &periods {
                let (period, k) = match p.extract::<(f64, usize)>() {
                    Ok(pair) => pair,
                    Err(_) => {
                        let period: f64 = p.extract().map_err(|_| {
                            param_err(
                                py,
                                "periods are numbers of steps or (period, harmonics) pairs",
                            )
                        })?;
                        (period, FourierRegression::default_harmonics(period))
                    }
                };
                ps.push((period, k));
            }
            Ok(PyFourierRegression {
                spec: checked(ModelSpec::FourierRegression(FourierRegression {
                    periods: ps,
                    log,
                    penalty,
                }))?,
            })
        }
    }
);

model_class!(
    PyMultiSeasonalNaive,
    "MultiSeasonalNaive",
    "The mean of the seasonal naive forecasts for several periods (e.g. a day and a week ago).",
    {
        #[new]
        fn new(#[pyo3(from_py_with = counts)] periods: Vec<usize>) -> PyResult<Self> {
            Ok(PyMultiSeasonalNaive {
                spec: checked(ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive {
                    periods,
                }))?,
            })
        }
    }
);

model_class!(
    PyEnsemble,
    "Ensemble",
    "Fits every member and combines their forecasts step by step (mean or median).",
    {
        #[new]
        #[pyo3(signature = (members, *, combine = "mean"))]
        fn new(members: Vec<Bound<'_, PyAny>>, combine: &str) -> PyResult<Self> {
            let combine: Combine = combine.parse().map_err(PyFsErr::from)?;
            let members = members.iter().map(spec_of).collect::<PyResult<Vec<_>>>()?;
            Ok(PyEnsemble {
                spec: checked(ModelSpec::Ensemble(Ensemble::new(members, combine)))?,
            })
        }
    }
);

/// Finds seasonal periods (in steps) with their strength: a list of dicts with period,
/// spectral_period, strength (autocorrelation at the period) and power_share, strongest first.
#[pyfunction]
#[pyo3(signature = (data, *, max_period = None, min_strength = None))]
fn detect_periods<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = opt_count)] max_period: Option<usize>,
    min_strength: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let v = fit_input(data)?;
    let y = v.as_slice();
    // unset settings keep the core's defaults
    let max_period = max_period.unwrap_or(periods::default_max_period(y.len()));
    let min_strength = min_strength.unwrap_or(periods::DEFAULT_MIN_STRENGTH);
    let found = compute(py, || {
        flaskscale_core::detect_periods(y, max_period, min_strength)
    })?;
    to_plain(py, &found)
}

model_class!(
    PyAutoForecaster,
    "AutoForecaster",
    "Chooses among candidate models by a rolling-origin backtest whose loss punishes \
     under-forecasting more than over-forecasting.",
    {
        #[new]
        #[pyo3(signature = (*, season_lengths = None, candidates = None, horizon = None,
                            n_origins = None, max_train = None, loss = "pinball", quantile = 0.9,
                            weights = None, select = "combine", top_k = 3, calibrate = None))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            _py: Python<'_>,
            #[pyo3(from_py_with = opt_counts)] season_lengths: Option<Vec<usize>>,
            candidates: Option<Vec<Bound<'_, PyAny>>>,
            #[pyo3(from_py_with = opt_count)] horizon: Option<usize>,
            #[pyo3(from_py_with = opt_count)] n_origins: Option<usize>,
            #[pyo3(from_py_with = opt_count)] max_train: Option<usize>,
            loss: &str,
            quantile: f64,
            weights: Option<(f64, f64)>,
            select: &str,
            #[pyo3(from_py_with = count)] top_k: usize,
            calibrate: Option<bool>,
        ) -> PyResult<Self> {
            // unset settings keep the core's defaults
            let core = AutoForecaster::default();
            let loss = Loss::from_name(loss, quantile, weights).map_err(PyFsErr::from)?;
            let select = Select::from_name(select, top_k).map_err(PyFsErr::from)?;
            let candidates = candidates
                .map(|c| c.iter().map(spec_of).collect::<PyResult<Vec<_>>>())
                .transpose()?;
            let auto = AutoForecaster {
                season_lengths,
                candidates,
                horizon: horizon.unwrap_or(core.horizon),
                n_origins: n_origins.unwrap_or(core.n_origins),
                max_train,
                loss,
                select,
                calibrate: calibrate.unwrap_or(core.calibrate),
            };
            Ok(PyAutoForecaster {
                spec: checked(ModelSpec::Auto(auto))?,
            })
        }
    }
);

/// Rolling-origin backtest of a model: `n_origins` origins `stride` steps apart (default: the
/// horizon) at the end of the data, each fitted on what came before and scored on the next
/// `horizon` steps. Returns the pooled scores (mase, smape, rmse, pinball, scaled_pinball,
/// coverage_80, coverage_95, n_scored) with per-origin details.
#[pyfunction]
#[pyo3(signature = (model, data, *, horizon = None, n_origins = None, stride = None,
                    max_train = None, season_length = None, quantile = None))]
#[allow(clippy::too_many_arguments)]
fn backtest<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = opt_count)] horizon: Option<usize>,
    #[pyo3(from_py_with = opt_count)] n_origins: Option<usize>,
    #[pyo3(from_py_with = opt_count)] stride: Option<usize>,
    #[pyo3(from_py_with = opt_count)] max_train: Option<usize>,
    #[pyo3(from_py_with = opt_count)] season_length: Option<usize>,
    quantile: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let spec = spec_of(model)?;
    let v = fit_input(data)?;
    let y = v.as_slice();
    // unset settings keep the core's defaults
    let core = flaskscale_core::forecast::BacktestConfig::default();
    let cfg = flaskscale_core::forecast::BacktestConfig {
        horizon: horizon.unwrap_or(core.horizon),
        n_origins: n_origins.unwrap_or(core.n_origins),
        stride,
        max_train,
        season_length: season_length.unwrap_or(core.season_length),
        quantile: quantile.unwrap_or(core.quantile),
    };
    let r = compute(py, || flaskscale_core::forecast::backtest(&spec, y, &cfg))?;
    let out = PyDict::new(py);
    out.set_item("scores", to_plain(py, &r.summary)?)?;
    out.set_item("n_missing", r.n_missing)?;
    out.set_item("scale_fallbacks", r.scale_fallbacks)?;
    out.set_item("origins", to_plain(py, &r.origins)?)?;
    Ok(out.into_any())
}

fn pair<'py>(y: &Bound<'py, PyAny>, f: &Bound<'py, PyAny>) -> PyResult<(Values<'py>, Values<'py>)> {
    Ok((values(y)?, values(f)?))
}

/// Mean absolute error.
#[pyfunction]
fn mae(py: Python<'_>, y: &Bound<'_, PyAny>, forecast: &Bound<'_, PyAny>) -> PyResult<f64> {
    let (a, b) = pair(y, forecast)?;
    metrics::mae(a.as_slice(), b.as_slice()).map_err(|e| to_py(py, e))
}

/// Root mean squared error.
#[pyfunction]
fn rmse(py: Python<'_>, y: &Bound<'_, PyAny>, forecast: &Bound<'_, PyAny>) -> PyResult<f64> {
    let (a, b) = pair(y, forecast)?;
    metrics::rmse(a.as_slice(), b.as_slice()).map_err(|e| to_py(py, e))
}

/// Symmetric MAPE in percent: mean(200*|y - f| / (|y| + |f|)).
#[pyfunction]
fn smape(py: Python<'_>, y: &Bound<'_, PyAny>, forecast: &Bound<'_, PyAny>) -> PyResult<f64> {
    let (a, b) = pair(y, forecast)?;
    metrics::smape(a.as_slice(), b.as_slice()).map_err(|e| to_py(py, e))
}

/// Mean absolute scaled error, scaled by the in-sample seasonal naive MAE (period m) of train.
#[pyfunction]
#[pyo3(signature = (y, forecast, train, *, m = 1))]
fn mase(
    py: Python<'_>,
    y: &Bound<'_, PyAny>,
    forecast: &Bound<'_, PyAny>,
    train: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = count)] m: usize,
) -> PyResult<f64> {
    let (a, b) = pair(y, forecast)?;
    let t = values(train)?;
    metrics::mase(a.as_slice(), b.as_slice(), t.as_slice(), m).map_err(|e| to_py(py, e))
}

/// Pinball (quantile) loss of a q-quantile forecast.
#[pyfunction]
#[pyo3(signature = (y, forecast, *, q))]
fn pinball(
    py: Python<'_>,
    y: &Bound<'_, PyAny>,
    forecast: &Bound<'_, PyAny>,
    q: f64,
) -> PyResult<f64> {
    let (a, b) = pair(y, forecast)?;
    metrics::pinball(a.as_slice(), b.as_slice(), q).map_err(|e| to_py(py, e))
}

/// Share of y inside [lower, upper].
#[pyfunction]
fn coverage(
    py: Python<'_>,
    y: &Bound<'_, PyAny>,
    lower: &Bound<'_, PyAny>,
    upper: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    let (a, lo) = pair(y, lower)?;
    let hi = values(upper)?;
    metrics::coverage(a.as_slice(), lo.as_slice(), hi.as_slice()).map_err(|e| to_py(py, e))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFitted>()?;
    m.add_class::<PyForecast>()?;
    m.add_class::<PyNaive>()?;
    m.add_class::<PySeasonalNaive>()?;
    m.add_class::<PyDrift>()?;
    m.add_class::<PyAutoForecaster>()?;
    m.add_class::<PyHoltWinters>()?;
    m.add_class::<PyLinearTrend>()?;
    m.add_class::<PyFourierRegression>()?;
    m.add_class::<PyMultiSeasonalNaive>()?;
    m.add_class::<PyEnsemble>()?;
    m.add_function(wrap_pyfunction!(detect_periods, m)?)?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    m.add_function(wrap_pyfunction!(mae, m)?)?;
    m.add_function(wrap_pyfunction!(rmse, m)?)?;
    m.add_function(wrap_pyfunction!(smape, m)?)?;
    m.add_function(wrap_pyfunction!(mase, m)?)?;
    m.add_function(wrap_pyfunction!(pinball, m)?)?;
    m.add_function(wrap_pyfunction!(coverage, m)?)?;
    Ok(())
}

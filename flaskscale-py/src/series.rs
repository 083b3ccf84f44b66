//! `flaskscale.Series` and the access-log reader.

use crate::convert::{compute, to_py, values, PyFsErr};
use flaskscale_core::access_log::{self, AccessLogOptions, OnMalformed};
use flaskscale_core::{Aggregation, CsvOptions, Series, SkippedRows};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// Load on a regular time grid: `values[i]` is the load in `[start + i*step, start + (i+1)*step)`,
/// NaN marks a missing observation.
#[pyclass(name = "Series", module = "flaskscale", frozen)]
#[derive(Clone)]
pub struct PySeries {
    pub inner: Series,
}

fn skipped_rows(_py: Python<'_>, s: &str) -> PyResult<SkippedRows> {
    Ok(s.parse().map_err(PyFsErr::from)?)
}

#[pymethods]
impl PySeries {
    #[new]
    #[pyo3(signature = (values, *, start = 0.0, step = 60.0))]
    fn new(_py: Python<'_>, values: &Bound<'_, PyAny>, start: f64, step: f64) -> PyResult<Self> {
        let v = crate::convert::values(values)?.as_slice().to_vec();
        let inner = Series::new(v, start, step).map_err(PyFsErr::from)?;
        Ok(PySeries { inner })
    }

    /// Reads a `timestamp,value` CSV file (ISO 8601 or unix-second timestamps; an empty value is
    /// missing).
    #[staticmethod]
    #[pyo3(signature = (path, *, step = None, skipped_rows = "error"))]
    fn from_csv(
        py: Python<'_>,
        path: PathBuf,
        step: Option<f64>,
        skipped_rows: &str,
    ) -> PyResult<Self> {
        let options = CsvOptions {
            step,
            skipped_rows: self::skipped_rows(py, skipped_rows)?,
        };
        let inner = compute(py, || Series::from_csv_path(&path, options))?;
        Ok(PySeries { inner })
    }

    /// Parses `timestamp,value` CSV text.
    #[staticmethod]
    #[pyo3(signature = (text, *, step = None, skipped_rows = "error"))]
    fn from_csv_text(
        py: Python<'_>,
        text: &str,
        step: Option<f64>,
        skipped_rows: &str,
    ) -> PyResult<Self> {
        let options = CsvOptions {
            step,
            skipped_rows: self::skipped_rows(py, skipped_rows)?,
        };
        let inner = compute(py, || Series::from_csv_str_with(text, options))?;
        Ok(PySeries { inner })
    }

    /// Counts event times (UTC seconds) per step.
    #[staticmethod]
    #[pyo3(signature = (times, *, step, start = None))]
    fn from_events(
        py: Python<'_>,
        times: &Bound<'_, PyAny>,
        step: f64,
        start: Option<f64>,
    ) -> PyResult<Self> {
        let t = values(times)?;
        let t = t.as_slice();
        let inner = compute(py, || Series::from_events(t, step, start))?;
        Ok(PySeries { inner })
    }

    /// Reads a Common/Combined Log Format access log and counts requests per step. Lines that do
    /// not parse are skipped with a `FlaskscaleWarning` giving their count and the first one
    /// (`on_malformed="raise"` fails instead); `read_access_log` returns the full account.
    #[staticmethod]
    #[pyo3(signature = (path, *, step = 60.0, start = None, exclude_paths = Vec::new(), on_malformed = "skip"))]
    fn from_access_log(
        py: Python<'_>,
        path: PathBuf,
        step: f64,
        start: Option<f64>,
        exclude_paths: Vec<String>,
        on_malformed: &str,
    ) -> PyResult<Self> {
        let report = read_access_log(py, path, step, start, exclude_paths, on_malformed)?;
        if report.malformed > 0 {
            let first = report
                .first_malformed
                .as_ref()
                .map(|(n, t)| format!(" (first at line {n}: {t:?})"))
                .unwrap_or_default();
            let category = py.get_type::<crate::convert::FlaskscaleWarning>();
            let msg = format!(
                "skipped {} malformed line(s) of {}{first}",
                report.malformed, report.lines
            );
            PyErr::warn(py, &category, &std::ffi::CString::new(msg)?, 1)?;
        }
        Ok(report.series)
    }

    /// Builds a series from a pandas Series with a regular DatetimeIndex (naive = UTC).
    #[staticmethod]
    #[pyo3(signature = (series, *, skipped_rows = "error"))]
    fn from_pandas(
        py: Python<'_>,
        series: &Bound<'_, PyAny>,
        skipped_rows: &str,
    ) -> PyResult<Self> {
        let index = series.getattr("index")?;
        let pd = py.import("pandas")?;
        if !index.is_instance(&pd.getattr("DatetimeIndex")?)? {
            return Err(to_py(
                py,
                flaskscale_core::Error::InvalidData(format!(
                    "from_pandas needs a DatetimeIndex, got {}",
                    index.get_type().name()?
                )),
            ));
        }
        // nanoseconds since the epoch (UTC for tz-aware indexes; naive ones are taken as UTC)
        let ns = index.call_method1("to_numpy", ("datetime64[ns]",))?;
        let ns = ns.call_method1("astype", ("int64",))?;
        let np = py.import("numpy")?;
        let secs = np.getattr("divide")?.call1((ns, 1e9))?;
        let times = values(&secs)?;
        let vals = series.call_method1("to_numpy", ("float64",)).map_err(|e| {
            to_py(
                py,
                flaskscale_core::Error::InvalidData(format!(
                    "from_pandas needs numeric values: {e}"
                )),
            )
        })?;
        let vals = values(&vals)?;
        let options = CsvOptions {
            step: None,
            skipped_rows: self::skipped_rows(py, skipped_rows)?,
        };
        let t = times.as_slice();
        let v = vals.as_slice().to_vec();
        let inner = compute(py, || Series::from_timestamps(t, v, options))?;
        Ok(PySeries { inner })
    }

    /// The series as a pandas Series with a UTC DatetimeIndex (pandas must be installed).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pd = py.import("pandas")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("unit", "s")?;
        kwargs.set_item("utc", true)?;
        let index = pd
            .getattr("to_datetime")?
            .call((self.timestamps(py),), Some(&kwargs))
            .map_err(|e| {
                to_py(
                    py,
                    flaskscale_core::Error::InvalidData(format!(
                        "the series' times cannot be a pandas DatetimeIndex: {e}"
                    )),
                )
            })?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("index", index)?;
        kwargs.set_item("name", "value")?;
        pd.getattr("Series")?
            .call((self.values(py),), Some(&kwargs))
    }

    /// The values as a new float64 numpy array (NaN = missing).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.values().to_vec().into_pyarray(py)
    }

    /// Start time of every step (UTC seconds) as a numpy array.
    #[getter]
    fn timestamps<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.timestamps().into_pyarray(py)
    }

    /// Start of the first step, UTC seconds.
    #[getter]
    fn start(&self) -> f64 {
        self.inner.start()
    }

    /// Step length in seconds.
    #[getter]
    fn step(&self) -> f64 {
        self.inner.step()
    }

    /// End of the last step (exclusive), UTC seconds.
    #[getter]
    fn end(&self) -> f64 {
        self.inner.end()
    }

    /// Number of missing values.
    #[getter]
    fn missing(&self) -> usize {
        self.inner.missing()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Aggregates to a coarser step (a whole multiple of this one): how = "sum", "mean", "max".
    #[pyo3(signature = (step, *, how = "sum"))]
    fn resample(&self, py: Python<'_>, step: f64, how: &str) -> PyResult<Self> {
        let how: Aggregation = how.parse().map_err(PyFsErr::from)?;
        let inner = compute(py, || self.inner.resample(step, how))?;
        Ok(PySeries { inner })
    }

    /// A copy with gaps filled by linear interpolation (flat at the ends).
    fn fill_gaps(&self, py: Python<'_>) -> PyResult<Self> {
        let (inner, _) = compute(py, || self.inner.fill_gaps())?;
        Ok(PySeries { inner })
    }

    /// The steps whose start lies in `[start, end)` (UTC seconds).
    #[pyo3(name = "slice")]
    fn slice_(&self, _py: Python<'_>, start: f64, end: f64) -> PyResult<Self> {
        let inner = self.inner.slice(start, end).map_err(PyFsErr::from)?;
        Ok(PySeries { inner })
    }

    /// Summary statistics of the known values: len, missing, sum, mean, std, min, max.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("len", s.len)?;
        d.set_item("missing", s.missing)?;
        d.set_item("sum", s.sum)?;
        d.set_item("mean", s.mean)?;
        d.set_item("std", s.std)?;
        d.set_item("min", s.min)?;
        d.set_item("max", s.max)?;
        Ok(d)
    }

    /// The series as `timestamp,value` CSV text (the format `from_csv` reads).
    fn to_csv(&self) -> String {
        self.inner.to_csv_string()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.extract::<PyRef<'_, PySeries>>() {
            Ok(o) => {
                let (a, b) = (&self.inner, &o.inner);
                a.start() == b.start()
                    && a.step() == b.step()
                    && a.len() == b.len()
                    && a.values()
                        .iter()
                        .zip(b.values())
                        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            }
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Series(len={}, start={}, step={}s, missing={})",
            s.len(),
            flaskscale_core::time::format_iso8601(s.start()),
            s.step(),
            s.missing()
        )
    }
}

/// What reading an access log found: the series and an account of every line.
#[pyclass(name = "AccessLogReport", module = "flaskscale", frozen)]
pub struct PyAccessLogReport {
    /// Requests per step.
    #[pyo3(get)]
    series: PySeries,
    /// Non-blank lines read.
    #[pyo3(get)]
    lines: usize,
    /// Requests counted.
    #[pyo3(get)]
    counted: usize,
    /// Requests left out because their path matched an excluded prefix.
    #[pyo3(get)]
    excluded: usize,
    /// Lines that did not parse and were skipped.
    #[pyo3(get)]
    malformed: usize,
    /// The first malformed line as (line number, text), or None.
    #[pyo3(get)]
    first_malformed: Option<(usize, String)>,
}

#[pymethods]
impl PyAccessLogReport {
    fn __repr__(&self) -> String {
        format!(
            "AccessLogReport(lines={}, counted={}, excluded={}, malformed={}, series={})",
            self.lines,
            self.counted,
            self.excluded,
            self.malformed,
            self.series.__repr__()
        )
    }
}

/// Reads a Common/Combined Log Format access log and counts requests per step.
#[pyfunction]
#[pyo3(signature = (path, *, step = 60.0, start = None, exclude_paths = Vec::new(), on_malformed = "skip"))]
fn read_access_log(
    py: Python<'_>,
    path: PathBuf,
    step: f64,
    start: Option<f64>,
    exclude_paths: Vec<String>,
    on_malformed: &str,
) -> PyResult<PyAccessLogReport> {
    let on_malformed: OnMalformed = on_malformed.parse().map_err(PyFsErr::from)?;
    let options = AccessLogOptions {
        step,
        start,
        exclude_path_prefixes: exclude_paths,
        on_malformed,
    };
    let c = compute(py, || access_log::count_access_log_path(&path, &options))?;
    Ok(PyAccessLogReport {
        series: PySeries { inner: c.series },
        lines: c.lines,
        counted: c.counted,
        excluded: c.excluded,
        malformed: c.malformed,
        first_malformed: c.first_malformed,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySeries>()?;
    m.add_class::<PyAccessLogReport>()?;
    m.add_function(wrap_pyfunction!(read_access_log, m)?)?;
    Ok(())
}

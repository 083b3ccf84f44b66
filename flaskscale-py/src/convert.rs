//! Conversions at the boundary: core errors to typed Python exceptions, array-likes to slices,
//! and the one helper that releases the GIL for real work.

use flaskscale_core::Error;
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyOverflowError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Converts a core error into the matching `flaskscale.exceptions` class.
pub fn to_py(py: Python<'_>, err: Error) -> PyErr {
    let (class, extra): (&str, Option<(usize, usize)>) = match &err {
        Error::InvalidParameter(_) => ("InvalidParameterError", None),
        Error::InvalidData(_) => ("InvalidDataError", None),
        Error::NotEnoughData { needed, got, .. } => ("NotEnoughDataError", Some((*needed, *got))),
        Error::Parse { .. } => ("ParseError", None),
        Error::Fit(_) => ("FitError", None),
        Error::Io(_) => ("FlaskscaleIOError", None),
        _ => ("FlaskscaleError", None),
    };
    let msg = err.to_string();
    let built = (|| -> PyResult<PyErr> {
        let module = py.import("flaskscale.exceptions")?;
        let cls = module.getattr(class)?;
        let exc = cls.call1((msg.clone(),))?;
        if let Error::Parse { line, .. } = &err {
            exc.setattr("line", *line)?;
        }
        if let Some((needed, got)) = extra {
            exc.setattr("needed", needed)?;
            exc.setattr("got", got)?;
        }
        Ok(PyErr::from_value(exc))
    })();
    built.unwrap_or_else(|_| PyRuntimeError::new_err(msg))
}

/// Runs `f` with the GIL released and converts its error. Every call into the core that does
/// real work goes through here.
pub fn compute<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> flaskscale_core::Result<T>,
    T: Send,
{
    py.detach(f).map_err(|e| to_py(py, e))
}

/// Raises `InvalidParameterError` with `msg`.
pub fn param_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    to_py(py, Error::InvalidParameter(msg.into()))
}

/// A whole-number argument (steps, replicas, seconds) that must fit `T`. A Python int out of
/// range (negative, or too large) is an `InvalidParameterError` giving the range, instead of
/// the `OverflowError` of the plain conversion; pyo3 adds a note naming the argument. Anything
/// but an int stays the plain conversion's `TypeError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<T>(pub T);

macro_rules! count_from_py {
    ($($t:ty),*) => {$(
        impl<'a, 'py> FromPyObject<'a, 'py> for Count<$t> {
            type Error = PyErr;
            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                let py = obj.py();
                match obj.extract::<$t>() {
                    Ok(v) => Ok(Count(v)),
                    Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
                        let text = obj.repr().map(|r| r.to_string()).unwrap_or_default();
                        let shown = if text.chars().count() > 30 {
                            format!("{}... ({} digits)", text.chars().take(20).collect::<String>(), text.len())
                        } else {
                            text
                        };
                        Err(param_err(
                            py,
                            format!("expected a whole number from 0 to {}, got {shown}", <$t>::MAX),
                        ))
                    }
                    Err(e) => Err(e),
                }
            }
        }
    )*};
}

count_from_py!(u32, usize);

/// `#[pyo3(from_py_with = count)]`: a whole-number argument, out-of-range ints refused as
/// [`Count`] says.
pub fn count<'py, T>(obj: &Bound<'py, PyAny>) -> PyResult<T>
where
    Count<T>: for<'a> FromPyObject<'a, 'py, Error = PyErr>,
{
    Ok(obj.extract::<Count<T>>()?.0)
}

/// As [`count`], for an optional argument (None stays None).
pub fn opt_count<'py, T>(obj: &Bound<'py, PyAny>) -> PyResult<Option<T>>
where
    Count<T>: for<'a> FromPyObject<'a, 'py, Error = PyErr>,
{
    Ok(obj.extract::<Option<Count<T>>>()?.map(|c| c.0))
}

/// As [`count`], for a sequence of them.
pub fn counts<'py, T>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<T>>
where
    Count<T>: for<'a> FromPyObject<'a, 'py, Error = PyErr>,
{
    Ok(obj
        .extract::<Vec<Count<T>>>()?
        .into_iter()
        .map(|c| c.0)
        .collect())
}

/// As [`counts`], for an optional argument (None stays None).
pub fn opt_counts<'py, T>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Vec<T>>>
where
    Count<T>: for<'a> FromPyObject<'a, 'py, Error = PyErr>,
{
    Ok(obj
        .extract::<Option<Vec<Count<T>>>>()?
        .map(|v| v.into_iter().map(|c| c.0).collect()))
}

/// A 1-D float64 view of a Python array-like: borrowed from a contiguous float64 numpy array,
/// otherwise converted once (other dtypes, lists, strided views).
pub enum Values<'py> {
    Borrowed(PyReadonlyArray1<'py, f64>),
    Owned(Vec<f64>),
}

impl Values<'_> {
    pub fn as_slice(&self) -> &[f64] {
        match self {
            // contiguity was checked when the view was taken
            Values::Borrowed(a) => a.as_slice().unwrap_or(&[]),
            Values::Owned(v) => v,
        }
    }
}

/// Accepts any 1-D array-like of numbers. A contiguous float64 numpy array is borrowed without a
/// copy; anything else numeric is converted to float64 once. Raises `InvalidDataError` for more
/// than one dimension or values that are not numbers.
pub fn values<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Values<'py>> {
    let py = obj.py();
    if let Ok(arr) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
        if arr.as_slice().is_ok() {
            return Ok(Values::Borrowed(arr));
        }
        return Ok(Values::Owned(arr.as_array().to_vec()));
    }
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    let converted = np
        .getattr("asarray")?
        .call((obj,), Some(&kwargs))
        .map_err(|e| {
            to_py(
                py,
                Error::InvalidData(format!("expected a 1-D array of numbers: {e}")),
            )
        })?;
    let ndim: usize = converted.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(to_py(
            py,
            Error::InvalidData(format!(
                "expected a 1-D array of numbers, got {ndim} dimensions"
            )),
        ));
    }
    let arr = converted.extract::<PyReadonlyArray1<'py, f64>>()?;
    Ok(Values::Owned(arr.as_array().to_vec()))
}

/// Any serde-serialisable core value as plain Python objects (dicts, lists, numbers), through
/// JSON: used for reports and explanations, never on a hot path.
pub fn to_plain<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| to_py(py, Error::InvalidData(format!("cannot serialise: {e}"))))?;
    py.import("json")?.getattr("loads")?.call1((text,))
}

/// The settings of any flaskscale model object (everything with `to_json`), as a core spec.
pub fn spec_of(obj: &Bound<'_, PyAny>) -> PyResult<flaskscale_core::ModelSpec> {
    let py = obj.py();
    let text: String =
        obj.call_method0("to_json")
            .and_then(|t| t.extract())
            .map_err(|_| {
                to_py(
                    py,
                    Error::InvalidParameter(format!(
                    "expected a flaskscale model (Naive, SeasonalNaive, HoltWinters, ...), got {}",
                    obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                )),
                )
            })?;
    serde_json::from_str(&text).map_err(|e| {
        to_py(
            py,
            Error::InvalidParameter(format!("not a model specification: {e}")),
        )
    })
}

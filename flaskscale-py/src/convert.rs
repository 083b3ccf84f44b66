//! Conversions at the boundary: core errors to typed Python exceptions, array-likes to slices,
//! and the one helper that releases the GIL for real work.

use flaskscale_core::Error;
use numpy::PyReadonlyArray1;
use pyo3::create_exception;
use pyo3::exceptions::{
    PyException, PyOSError, PyOverflowError, PyRuntimeError, PyUserWarning, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

create_exception!(
    flaskscale.exceptions,
    FlaskscaleError,
    PyException,
    "Root of every error flaskscale raises."
);
create_exception!(
    flaskscale.exceptions,
    FlaskscaleWarning,
    PyUserWarning,
    "Something was skipped or adjusted and the caller should know (never silent)."
);

/// An exception class deriving from both `FlaskscaleError` and a builtin exception (so
/// `except ValueError` keeps working), built once when the module is imported and held here:
/// raising never looks a class up by name. (`create_exception!` takes one base only.)
macro_rules! flaskscale_subclass {
    ($name:ident, $builtin:ty, $doc:literal) => {
        #[doc = $doc]
        pub struct $name;

        impl $name {
            pub fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
                static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
                CELL.get_or_try_init(py, || {
                    let bases = PyTuple::new(
                        py,
                        [py.get_type::<FlaskscaleError>(), py.get_type::<$builtin>()],
                    )?;
                    let ns = PyDict::new(py);
                    ns.set_item("__doc__", $doc)?;
                    ns.set_item("__module__", "flaskscale.exceptions")?;
                    let t = py
                        .get_type::<PyType>()
                        .call1((stringify!($name), bases, ns))?
                        .cast_into::<PyType>()?;
                    Ok(t.unbind())
                })
                .map(|t| t.bind(py))
            }
        }
    };
}

flaskscale_subclass!(
    InvalidParameterError,
    PyValueError,
    "A setting is outside its admissible range; the message names it and its value."
);
flaskscale_subclass!(
    InvalidDataError,
    PyValueError,
    "The data are unusable as given (negative, infinite, misaligned); the message says where."
);
flaskscale_subclass!(
    NotEnoughDataError,
    PyValueError,
    "The history is too short for what was asked. ``needed`` and ``got`` count the points."
);
flaskscale_subclass!(
    ParseError,
    PyValueError,
    "Text input (CSV, access log, saved state) did not parse. ``line`` is 1-based (0: none)."
);
flaskscale_subclass!(
    FitError,
    PyRuntimeError,
    "A model could not be fitted to these data; choose another model or clean the data."
);
flaskscale_subclass!(
    FlaskscaleIOError,
    PyOSError,
    "A file could not be read or written; the message names the path."
);

/// Adds the exception classes to the native module (`flaskscale.exceptions` re-exports them).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FlaskscaleError", py.get_type::<FlaskscaleError>())?;
    m.add("FlaskscaleWarning", py.get_type::<FlaskscaleWarning>())?;
    m.add(
        "InvalidParameterError",
        InvalidParameterError::type_object(py)?,
    )?;
    m.add("InvalidDataError", InvalidDataError::type_object(py)?)?;
    m.add("NotEnoughDataError", NotEnoughDataError::type_object(py)?)?;
    m.add("ParseError", ParseError::type_object(py)?)?;
    m.add("FitError", FitError::type_object(py)?)?;
    m.add("FlaskscaleIOError", FlaskscaleIOError::type_object(py)?)?;
    Ok(())
}

/// A core error on its way to Python: `?` converts a core `Result` through it
/// (`.map_err(PyFsErr::from)?`) into the matching typed exception.
#[derive(Debug)]
pub struct PyFsErr(pub Error);

impl From<Error> for PyFsErr {
    fn from(e: Error) -> Self {
        PyFsErr(e)
    }
}

impl From<PyFsErr> for PyErr {
    fn from(e: PyFsErr) -> PyErr {
        Python::attach(|py| raise(py, e.0))
    }
}

/// The exception for a core error, with `line` on a `ParseError` and `needed`/`got` on a
/// `NotEnoughDataError`.
fn raise(py: Python<'_>, err: Error) -> PyErr {
    let msg = err.to_string();
    let built = (|| -> PyResult<PyErr> {
        let class = match &err {
            Error::InvalidParameter(_) => InvalidParameterError::type_object(py)?,
            Error::InvalidData(_) => InvalidDataError::type_object(py)?,
            Error::NotEnoughData { .. } => NotEnoughDataError::type_object(py)?,
            Error::Parse { .. } => ParseError::type_object(py)?,
            Error::Fit(_) => FitError::type_object(py)?,
            Error::Io(_) => FlaskscaleIOError::type_object(py)?,
            _ => return Ok(FlaskscaleError::new_err(msg.clone())),
        };
        let exc = class.call1((msg.clone(),))?;
        match &err {
            Error::Parse { line, .. } => exc.setattr("line", *line)?,
            Error::NotEnoughData { needed, got, .. } => {
                exc.setattr("needed", *needed)?;
                exc.setattr("got", *got)?;
            }
            _ => {}
        }
        Ok(PyErr::from_value(exc))
    })();
    built.unwrap_or_else(|e| e)
}

/// Converts a core error into the matching typed exception.
pub fn to_py(_py: Python<'_>, err: Error) -> PyErr {
    PyFsErr(err).into()
}

/// Runs `f` with the GIL released and converts its error. Every call into the core that does
/// real work goes through here.
pub fn compute<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: Send + FnOnce() -> flaskscale_core::Result<T>,
    T: Send,
{
    Ok(py.detach(f).map_err(PyFsErr::from)?)
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
                if obj.is_instance_of::<PyBool>() {
                    // True is an int to Python, but never a count meant as 1
                    return Err(param_err(py, format!("expected a whole number, got {}", obj.repr()?)));
                }
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

/// `module.asarray(obj, dtype="float64")` (`module` numpy or numpy.ma), a value that is not
/// numbers an [`Error::InvalidData`].
fn float64_array<'py>(
    module: &Bound<'py, PyAny>,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    module
        .getattr("asarray")?
        .call((obj,), Some(&kwargs))
        .map_err(|e| {
            to_py(
                py,
                Error::InvalidData(format!("expected a 1-D array of numbers: {e}")),
            )
        })
}

/// Accepts any 1-D array-like of numbers. A contiguous float64 numpy array is borrowed without a
/// copy; anything else numeric is converted to float64 once. A numpy masked array's masked
/// entries are missing values (NaN). Raises `InvalidDataError` for more than one dimension,
/// complex values (never silently their real part) or values that are not numbers.
pub fn values<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Values<'py>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    if let Ok(dtype) = obj.getattr("dtype") {
        if let Ok(kind) = dtype.getattr("kind").and_then(|k| k.extract::<String>()) {
            if kind == "c" {
                return Err(to_py(
                    py,
                    Error::InvalidData(format!(
                        "expected real numbers, got complex values (dtype {})",
                        dtype.str()?
                    )),
                ));
            }
        }
    }
    let ma = np.getattr("ma")?;
    if obj.is_instance(&ma.getattr("MaskedArray")?)? {
        // the mask says which values are missing: NaN is the core's missing value
        let as_float = float64_array(&ma, obj)?;
        let filled = ma.getattr("filled")?.call1((as_float, f64::NAN))?;
        return values(&filled);
    }
    if let Ok(arr) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
        if arr.as_slice().is_ok() {
            return Ok(Values::Borrowed(arr));
        }
        return Ok(Values::Owned(arr.as_array().to_vec()));
    }
    let converted = float64_array(&np, obj)?;
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
    let spec: flaskscale_core::ModelSpec = serde_json::from_str(&text).map_err(|e| {
        to_py(
            py,
            Error::InvalidParameter(format!("not a model specification: {e}")),
        )
    })?;
    spec.validate().map_err(PyFsErr::from)?;
    Ok(spec)
}

/// A Python value made of dicts, lists, strings, numbers, booleans and None (a parsed JSON or
/// YAML document), or JSON text, as a serde value. Nesting deeper than the core's
/// [`flaskscale_core::check::MAX_NESTING`] and integers beyond 64 bits are a `ParseError`
/// naming where, never a `RecursionError` or the int-to-string limit's `ValueError`.
pub fn json_value(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let py = obj.py();
    if obj.is_instance_of::<PyString>() {
        let text: String = obj.extract()?;
        return serde_json::from_str(&text).map_err(|e| {
            to_py(
                py,
                Error::Parse {
                    line: e.line(),
                    message: format!("not valid JSON: {e}"),
                },
            )
        });
    }
    plain_value(obj, 0, &mut String::from("$"))
}

fn plain_value(
    obj: &Bound<'_, PyAny>,
    depth: usize,
    at: &mut String,
) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    let py = obj.py();
    let fail = |msg: String| {
        to_py(
            py,
            Error::Parse {
                line: 0,
                message: msg,
            },
        )
    };
    if depth > flaskscale_core::check::MAX_NESTING {
        return Err(fail(format!(
            "{at}: nested deeper than {} levels",
            flaskscale_core::check::MAX_NESTING
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(v) = obj.extract::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = obj.extract::<u64>() {
            return Ok(Value::from(v));
        }
        let bits: u64 = obj.call_method0("bit_length")?.extract()?;
        return Err(fail(format!(
            "{at}: an integer of {bits} bits is out of range"
        )));
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj.extract()?;
        return serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| fail(format!("{at}: {v} is not a JSON number")));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                fail(format!(
                    "{at}: a key that is not a string: {}",
                    k.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            let len = at.len();
            at.push('.');
            at.push_str(&key);
            let value = plain_value(&v, depth + 1, at)?;
            at.truncate(len);
            out.insert(key, value);
        }
        return Ok(Value::Object(out));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            out.push(plain_value(&v?, depth + 1, at)?);
            at.truncate(len);
        }
        return Ok(Value::Array(out));
    }
    Err(fail(format!(
        "{at}: expected a dict, list, string, number, boolean or None, got {}",
        obj.get_type().name()?
    )))
}

//! Python bindings of flaskscale: convert, call the core, convert back. Every piece of logic
//! lives in `flaskscale-core`; nothing here decides anything a Rust user would not get.

mod batch;
mod convert;
mod counter;
mod forecast;
mod policy;
mod series;

use pyo3::prelude::*;

/// The native module, imported by the `flaskscale` package (never directly by users).
#[pymodule]
fn _flaskscale(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    convert::register(m)?;
    // the core's defaults, for the command line and the Flask extension to read
    m.add(
        "DEFAULT_QUANTILE",
        flaskscale_core::policy::DEFAULT_QUANTILE,
    )?;
    m.add(
        "DEFAULT_STARTUP_SECONDS",
        flaskscale_core::policy::DEFAULT_STARTUP_SECONDS,
    )?;
    m.add(
        "DEFAULT_INTERVAL_SECONDS",
        flaskscale_core::policy::DEFAULT_INTERVAL_SECONDS,
    )?;
    m.add(
        "DEFAULT_FLOOR_FACTOR",
        flaskscale_core::policy::DEFAULT_FLOOR_FACTOR,
    )?;
    m.add(
        "DEFAULT_FLOOR_QUANTILE",
        flaskscale_core::policy::DEFAULT_FLOOR_QUANTILE,
    )?;
    m.add(
        "DEFAULT_MAX_REPLICAS",
        flaskscale_core::policy::DEFAULT_MAX_REPLICAS,
    )?;
    m.add(
        "DEFAULT_HPA_UTILIZATION",
        flaskscale_core::sim::DEFAULT_HPA_UTILIZATION,
    )?;
    m.add(
        "DEFAULT_PEAK_REPLICAS",
        flaskscale_core::sim::DEFAULT_PEAK_REPLICAS,
    )?;
    series::register(m)?;
    forecast::register(m)?;
    policy::register(m)?;
    counter::register(m)?;
    batch::register(m)?;
    Ok(())
}

#![doc = include_str!("../README.md")]

pub mod access_log;
pub mod error;
pub mod forecast;
pub mod metrics;
pub mod series;
pub mod time;

pub use error::{Error, Result};
pub use forecast::{
    Drift, FitInfo, Fitted, FittedHoltWinters, FittedModel, Forecast, Forecaster, HoltWinters,
    HoltWintersParams, Interval, ModelSpec, Naive, Seasonal, SeasonalNaive, Trend,
};
pub use series::{Aggregation, CsvOptions, Series, SkippedRows, Stats};

#[cfg(test)]
mod autotraits {
    fn send_sync<T: Send + Sync>() {}
    #[test]
    fn core_types_are_send_and_sync() {
        send_sync::<super::Series>();
        send_sync::<super::FittedModel>();
        send_sync::<super::ModelSpec>();
        send_sync::<super::Forecast>();
        send_sync::<super::Error>();
    }
}

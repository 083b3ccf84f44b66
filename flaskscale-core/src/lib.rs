#![doc = include_str!("../README.md")]

pub mod access_log;
pub mod autoscaler;
pub mod batch;
pub mod check;
mod csv_records;
pub mod error;
pub mod forecast;
pub mod metrics;
mod names;
mod nan_serde;
mod numeric;
pub mod periods;
pub mod policy;
pub mod series;
pub mod sim;
pub mod time;
pub mod traffic;

pub use error::{Error, Result};
pub use forecast::{
    AutoForecaster, Combine, Drift, Ensemble, FitInfo, Fitted, FittedHoltWinters, FittedModel,
    Forecast, Forecaster, FourierRegression, HoltWinters, HoltWintersParams, Interval, LinearTrend,
    ModelSpec, MultiSeasonalNaive, Naive, Seasonal, SeasonalNaive, Trend,
};
pub use periods::{detect_periods, DetectedPeriod};
pub use series::{Aggregation, CsvOptions, Series, SkippedRows, Stats};
pub use sim::{simulate, SimConfig, SimDecision, SimPolicy, SimReport};

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
        send_sync::<super::SimReport>();
        send_sync::<super::SimConfig>();
        send_sync::<super::sim::Oracle>();
        send_sync::<super::traffic::TrafficSpec>();
    }
}

//! Forecasters. Every model has the same shape: a settings type (`Naive`, `SeasonalNaive`, ...)
//! whose [`Forecaster::fit`] validates once and returns a fitted type that can
//! [`Fitted::predict`] a horizon with prediction intervals and, where the model allows,
//! [`Fitted::update`] online with new observations.
//!
//! [`ModelSpec`] and [`FittedModel`] wrap every model in one serialisable enum, for callers that
//! choose the model at run time (the autoscaler, the Python bindings, configuration files).
//!
//! [`backtest()`] scores any model with rolling origins; [`AutoForecaster`] backtests a list of
//! candidates ([`default_candidates`] unless given), keeps the best (or combines the best few)
//! by a loss that punishes under-forecasting, and can calibrate its intervals on the backtest
//! errors.

pub mod auto;
pub mod backtest;
mod baseline;
mod contract;
pub mod dist;
mod ensemble;
pub mod ets;
mod fourier;
mod linear;
mod registry;

pub use auto::{
    default_candidates, spec_label, AutoForecaster, Calibration, CandidateScore, FittedAuto, Loss,
    Select, MIN_CALIBRATION_RESIDUALS,
};
pub use backtest::{backtest, BacktestConfig, BacktestResult, OriginResult, Scores};
pub use baseline::{Drift, FittedDrift, FittedNaive, FittedSeasonalNaive, Naive, SeasonalNaive};
pub(crate) use contract::check_horizon;
pub use contract::{
    prepare, FitInfo, Fitted, Forecast, Forecaster, Interval, MAX_HORIZON, NONNEGATIVE,
};
pub use ensemble::{
    Combine, Ensemble, FittedEnsemble, FittedMultiSeasonalNaive, MultiSeasonalNaive,
};
pub use ets::{FittedHoltWinters, HoltWinters, HoltWintersParams, Seasonal, Trend};
pub use fourier::{FittedFourierRegression, FourierRegression, MAX_HARMONICS};
pub use linear::{FittedLinearTrend, LinearTrend};
pub use registry::{FittedModel, ModelSpec};

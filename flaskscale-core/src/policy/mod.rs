//! Scaling policies: the Kubernetes HPA's replica calculation, exactly ([`HpaPolicy`]), and the
//! predictive policy that feeds a forecast through the same rules ([`PredictivePolicy`]).
//! Every call returns a [`Decision`] that carries its reason and the numbers behind it.

pub mod count;
mod hpa;
mod manifest;
mod predictive;

pub use count::{Calibration, CountSizing, Predictor, ScaleUpWindow};
pub use hpa::{
    HpaBehavior, HpaConfig, HpaPolicy, HpaScalingPolicy, HpaScalingRules, HpaState, MetricTarget,
    ScalingPolicyType, SelectPolicy, DEFAULT_MAX_REPLICAS, DEFAULT_MIN_REPLICAS,
};
pub use manifest::{
    forecast_hpa, hpa_from_manifest, manifest_of, parse_quantity, Lines, ManifestKind,
    ManifestOptions, FORECAST_METRIC,
};
pub use predictive::{
    recent_quantile, Combination, ForecastInput, Mode, PredictiveConfig, PredictivePolicy,
    RecentFloor, Sizing, DEFAULT_FLOOR_FACTOR, DEFAULT_FLOOR_QUANTILE, DEFAULT_INTERVAL_SECONDS,
    DEFAULT_QUANTILE, DEFAULT_STARTUP_SECONDS, DEFAULT_UTILIZATION, MAX_LEAD_SECONDS,
};

use serde::{Deserialize, Serialize};

/// Why a decision came out as it did. The first group is the Kubernetes HPA's own vocabulary
/// (the `reason` of its `AbleToScale` / `ScalingLimited` conditions); the rest are flaskscale's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reason {
    /// The desired count is within the acceptable range: no limit applied.
    DesiredWithinRange,
    /// The load is within the tolerance of the target: the count is kept.
    WithinTolerance,
    /// A scale-up was held back by the scale-up stabilization window.
    ScaleUpStabilized,
    /// A scale-down was held back by the scale-down stabilization window.
    ScaleDownStabilized,
    /// A scale-up was cut by the scale-up rate policies (or the legacy `max(2·n, 4)` limit).
    ScaleUpLimit,
    /// A scale-down was cut by the scale-down rate policies.
    ScaleDownLimit,
    /// The count was raised to `minReplicas`.
    TooFewReplicas,
    /// The count was cut to `maxReplicas`.
    TooManyReplicas,
    /// The current count is 0 while `minReplicas` is not: the HPA leaves the target alone.
    ScalingDisabled,
    /// The load is missing (NaN): no scale-down is made; the count is held.
    MissingMetric,
    /// The forecast's peak over the lead window set the target above the reactive value.
    ForecastPeak,
    /// The reactive (current load) value set the target; the forecast did not ask for more.
    Reactive,
    /// The forecast has had no skill lately (its calibrated provisioning cost more than the
    /// recent load's at the same coverage): the count sized from the recent load or trend set
    /// the target.
    ForecastUntrusted,
    /// The recent-load floor ([`RecentFloor`]) set the target above the forecast and the
    /// reactive value.
    RecentPeak,
    /// Too little history for the full model: a simpler one (or the reactive path) decided.
    WarmUp,
    /// Observations are missing or the model failed: the count is held or decided reactively.
    FailSafe,
    /// Forecast-only mode: the numbers were computed and reported; the count is unchanged.
    ForecastOnly,
}

impl Reason {
    /// The stable string form (`"ScaleDownStabilized"`, ...), as in Kubernetes conditions.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::DesiredWithinRange => "DesiredWithinRange",
            Reason::WithinTolerance => "WithinTolerance",
            Reason::ScaleUpStabilized => "ScaleUpStabilized",
            Reason::ScaleDownStabilized => "ScaleDownStabilized",
            Reason::ScaleUpLimit => "ScaleUpLimit",
            Reason::ScaleDownLimit => "ScaleDownLimit",
            Reason::TooFewReplicas => "TooFewReplicas",
            Reason::TooManyReplicas => "TooManyReplicas",
            Reason::ScalingDisabled => "ScalingDisabled",
            Reason::MissingMetric => "MissingMetric",
            Reason::ForecastPeak => "ForecastPeak",
            Reason::Reactive => "Reactive",
            Reason::ForecastUntrusted => "ForecastUntrusted",
            Reason::RecentPeak => "RecentPeak",
            Reason::WarmUp => "WarmUp",
            Reason::FailSafe => "FailSafe",
            Reason::ForecastOnly => "ForecastOnly",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The numbers behind a decision, step by step through the pipeline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Explain {
    /// The observed load (the metric's total, e.g. requests/s), `NaN` when missing.
    pub load: f64,
    /// Replicas the decision started from.
    pub current_replicas: u32,
    /// Load per replica relative to the target (`load / (target · current)`).
    pub usage_ratio: f64,
    /// The HPA's reactive desired count (after tolerance, before any limit).
    pub reactive: Option<u32>,
    /// Mean forecast load (per second) at the peak of the lead window.
    pub forecast_mean: Option<f64>,
    /// The forecast quantile of the load (per second) at the peak of the lead window.
    pub forecast_quantile: Option<f64>,
    /// Replicas the forecast asks for (before combination).
    pub predictive: Option<u32>,
    /// Which predictor the count sizing chose (`"model"`, `"level"`, `"trend"`).
    #[serde(default)]
    pub predictor: Option<String>,
    /// The recent load the floor is computed from (its quantile over the window, per second).
    #[serde(default)]
    pub recent_load: Option<f64>,
    /// Replicas the recent-load floor asks for (before combination).
    #[serde(default)]
    pub floor: Option<u32>,
    /// The model that produced the forecast.
    pub model: Option<String>,
    /// The target before stabilization and limits (reactive and predictive combined).
    pub raw_target: u32,
    /// After the stabilization windows.
    pub after_stabilization: u32,
    /// After the rate policies (and the min/max clamp, which the HPA applies together).
    pub after_rate_limit: u32,
    /// The final count.
    pub after_clamp: u32,
    /// A note in words where the numbers alone do not say it (warm-up, fail-safe causes).
    pub note: Option<String>,
}

/// A scaling decision: the replica count to set, why, and the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The replica count to set.
    pub replicas: u32,
    /// The policy mode that produced it (`"hpa"`, `"full"`, `"forecast_only"`, ...).
    pub mode: String,
    /// The main reason.
    pub reason: Reason,
    /// The numbers behind it.
    pub explain: Explain,
}

//! The predictive policy: `replicas = ceil(q-quantile of the forecast load at the peak of the
//! lead window / capacity per replica)`, combined with the HPA's reactive value and passed
//! through the HPA's own stabilization windows, rate policies and bounds.
//!
//! The lead window is `[now, now + startup + interval]`: a replica asked for now serves only
//! after it has started, and the next decision comes one sync interval later, so the count set
//! now must carry the load until then.

use super::count::{CountSizing, Predictor, Sized};
use super::hpa::{to_replicas, HpaConfig, HpaPolicy};
use super::{Decision, Explain, Reason};
use crate::check;
use crate::error::{Error, Result};
use crate::forecast::{dist, Forecast};
use serde::{Deserialize, Serialize};

/// How the predictive and reactive values combine into the raw target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// The larger of the two (default): never fewer replicas than the HPA would ask for.
    #[default]
    Max,
    /// The forecast alone (the reactive value when there is no forecast).
    PredictiveOnly,
    /// The HPA alone (the forecast is computed and reported only).
    ReactiveOnly,
}

/// What the policy may do with the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Scale both ways as the combination says.
    #[default]
    Full,
    /// Compute and report everything, never change the count (a dry run).
    ForecastOnly,
    /// The forecast may raise the count; only the reactive path lowers it.
    ScaleOutOnly,
}

/// How the forecast becomes a replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizing {
    /// Provision for the `quantile` of the request *count* in the lead window, calibrated
    /// online on the errors each predictor has made ([`super::count`]); the predictor whose
    /// calibrated provisioning has been cheapest decides, and the reactive HPA until one is
    /// calibrated. The default.
    #[default]
    Count,
    /// Provision for the `quantile` of the model's own forecast distribution (a normal with
    /// the model's standard deviation).
    Forecast,
}

impl std::str::FromStr for Sizing {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "count" => Ok(Sizing::Count),
            "forecast" => Ok(Sizing::Forecast),
            other => Err(Error::param(format!(
                "sizing must be \"count\" or \"forecast\", got {other:?}"
            ))),
        }
    }
}

/// The HPA target most clusters run, and the one home of 0.7 in the project: the
/// predictive policy's reactive HPA targets this share of the capacity (never provisioning
/// less than that HPA, without its scale-down window, would), the count sizing provisions
/// the observed load at it until a predictor is calibrated, and a replay's reference HPA
/// ([`crate::sim::DEFAULT_HPA_UTILIZATION`]) runs at it.
pub const DEFAULT_UTILIZATION: f64 = 0.7;

/// The utilisation the count sizing provisions the observed load at until a predictor is
/// calibrated ([`DEFAULT_UTILIZATION`]).
pub const WARMUP_UTILIZATION: f64 = DEFAULT_UTILIZATION;

/// The quantile a predictive policy provisions for unless told otherwise.
pub const DEFAULT_QUANTILE: f64 = 0.98;
/// Seconds from asking for a replica to its serving, unless told otherwise.
pub const DEFAULT_STARTUP_SECONDS: f64 = 120.0;
/// Seconds between decisions unless told otherwise (the HPA's sync period).
pub const DEFAULT_INTERVAL_SECONDS: f64 = 15.0;

fn default_quantile() -> f64 {
    DEFAULT_QUANTILE
}
fn default_startup() -> f64 {
    DEFAULT_STARTUP_SECONDS
}
fn default_interval() -> f64 {
    DEFAULT_INTERVAL_SECONDS
}

/// The quantile of a [`RecentFloor`] unless told otherwise: 1, the peak of its window.
pub const DEFAULT_FLOOR_QUANTILE: f64 = 1.0;
/// The factor of a [`RecentFloor`] unless told otherwise: 20% above the recent load.
pub const DEFAULT_FLOOR_FACTOR: f64 = 1.2;

fn default_floor_quantile() -> f64 {
    DEFAULT_FLOOR_QUANTILE
}

/// A floor under the target from the load of the last few minutes: at least `factor` × the
/// `quantile` of the per-step load over the complete steps of the last `window_seconds`.
///
/// For per-step noise that no forecast foresees: on per-minute request counts, demand often
/// jumps well above the level any model predicts for one or two minutes, and a replica started
/// then comes too late. Holding capacity for (a multiple of) the recent peak covers those
/// minutes more cheaply than a uniform headroom does, because it holds only where the load has
/// recently been that high. With `quantile` = 1 it is the HPA's scale-down stabilization
/// applied to the load itself, without the tolerance band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecentFloor {
    /// Seconds of history looked back over (> 0; at least one step is used).
    pub window_seconds: f64,
    /// Quantile of the per-step load over the window, in (0, 1] (default 1: the peak).
    #[serde(default = "default_floor_quantile")]
    pub quantile: f64,
    /// Factor on that load (> 0): 1.2 provisions 20% above it.
    pub factor: f64,
}

impl RecentFloor {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn validate(&self) -> Result<()> {
        check::positive("recent_floor.window_seconds", self.window_seconds)?;
        check::unit_left_open("recent_floor.quantile", self.quantile)?;
        check::positive("recent_floor.factor", self.factor)?;
        Ok(())
    }
}

/// The `q`-quantile (linear interpolation between order statistics, `q` in (0, 1]) of the known
/// values of `values` (NaN = missing), or `None` when none is known. Sorts `values` in place
/// after moving the missing ones out.
pub fn recent_quantile(values: &mut Vec<f64>, q: f64) -> Option<f64> {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (pos - lo as f64))
}

/// The longest lead a decision may look ahead (startup plus interval): a week. Longer leads
/// are refused; they would ask every decision for a forecast of that many steps.
pub const MAX_LEAD_SECONDS: f64 = 604_800.0;

/// Settings of a [`PredictivePolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictiveConfig {
    /// Requests per second one replica serves at its target utilisation (> 0).
    pub capacity_per_replica: f64,
    /// Quantile to provision for, in (0, 1) (default [`DEFAULT_QUANTILE`]): of the request
    /// count in the lead window with [`Sizing::Count`], of the forecast otherwise.
    #[serde(default = "default_quantile")]
    pub quantile: f64,
    /// How the forecast becomes a replica count (default [`Sizing::Count`]).
    #[serde(default)]
    pub sizing: Sizing,
    /// Settings of [`Sizing::Count`].
    #[serde(default)]
    pub count: CountSizing,
    /// Extra headroom on the forecast, as a fraction >= 0 (0.1 = 10% more; default 0).
    #[serde(default)]
    pub headroom: f64,
    /// Seconds from asking for a replica to its serving (>= 0; default
    /// [`DEFAULT_STARTUP_SECONDS`]).
    #[serde(default = "default_startup")]
    pub startup_seconds: f64,
    /// Seconds between decisions (> 0; default 15, the HPA's sync period).
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    /// How the predictive and reactive values combine.
    #[serde(default)]
    pub combination: Combination,
    /// A floor from the recent load (off by default): the target is at least this, whatever
    /// the combination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_floor: Option<RecentFloor>,
    /// What the policy may do with the count.
    #[serde(default)]
    pub mode: Mode,
    /// The reactive HPA (its target, bounds, tolerance and `behavior`); its bounds are the
    /// policy's bounds. Built by [`PredictiveConfig::new`] with `averageValue` =
    /// [`DEFAULT_UTILIZATION`] × the capacity.
    pub hpa: HpaConfig,
}

impl PredictiveConfig {
    /// A policy for `capacity_per_replica` requests/s per replica, between `min_replicas` and
    /// `max_replicas`, with the defaults — the one home of every default that Rust, Python,
    /// the command line and the Flask extension use: the count sizing at q =
    /// [`DEFAULT_QUANTILE`], no headroom, a [`DEFAULT_STARTUP_SECONDS`] startup, a
    /// [`DEFAULT_INTERVAL_SECONDS`] interval, combination Max, mode Full, and the reactive HPA
    /// targeting [`DEFAULT_UTILIZATION`] of the capacity with no scale-down stabilization.
    ///
    /// The reactive target is the fallback: whatever the count sizing says, the policy never
    /// provisions less than the HPA most clusters run would before its scale-down window, so
    /// a surge the forecast could not know of is met as that HPA meets it. The window is
    /// left out because the count sizing covers the lead window and its calibration says
    /// when capacity is idle. Measured against targeting the capacity itself: at the same
    /// quantile the miss share falls by 5–70% for 0.2–10% more replica-hours on the shared
    /// and generated traces, and the default is no worse than the best-tuned HPA at its cost
    /// on every generated surge trace (it was up to 1.18× worse).
    pub fn new(capacity_per_replica: f64, min_replicas: u32, max_replicas: u32) -> Self {
        let mut hpa = HpaConfig::new(
            DEFAULT_UTILIZATION * capacity_per_replica,
            min_replicas,
            max_replicas,
        );
        hpa.downscale_stabilization_seconds = 0;
        PredictiveConfig {
            capacity_per_replica,
            quantile: default_quantile(),
            sizing: Sizing::Count,
            count: CountSizing::default(),
            headroom: 0.0,
            startup_seconds: default_startup(),
            interval_seconds: default_interval(),
            combination: Combination::Max,
            recent_floor: None,
            mode: Mode::Full,
            hpa,
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field: capacity not finite and > 0, quantile
    /// outside (0, 1), headroom negative or not finite, startup negative or not finite,
    /// interval not finite and > 0, and as [`HpaConfig::validate`].
    pub fn validate(&self) -> Result<()> {
        check::positive("capacity_per_replica", self.capacity_per_replica)?;
        check::unit_open("quantile", self.quantile)?;
        check::non_negative("headroom", self.headroom)?;
        check::non_negative("startup_seconds", self.startup_seconds)?;
        check::positive("interval_seconds", self.interval_seconds)?;
        if self.lead_seconds() > MAX_LEAD_SECONDS {
            return Err(Error::param(format!(
                "startup_seconds + interval_seconds must be at most {MAX_LEAD_SECONDS} (a week), \
                 got {}",
                self.lead_seconds()
            )));
        }
        if let Some(f) = &self.recent_floor {
            f.validate()?;
        }
        self.count.validate()?;
        self.hpa.validate()
    }

    /// Seconds a decision must look ahead: startup plus one interval.
    pub fn lead_seconds(&self) -> f64 {
        self.startup_seconds + self.interval_seconds
    }
}

/// The forecast a [`PredictivePolicy`] decides on: the model's forecast for the steps after the
/// last complete one, and where `now` falls in it.
#[derive(Debug, Clone, Copy)]
pub struct ForecastInput<'a> {
    /// The forecast; step 0 is the step after the last complete observation.
    pub forecast: &'a Forecast,
    /// Length of one step in seconds.
    pub step_seconds: f64,
    /// Start time of the forecast's step 0 (UTC seconds).
    pub start: f64,
    /// The model's name, for the explanation.
    pub model: &'a str,
}

/// The predictive policy: settings plus the reactive HPA it shares its limits with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictivePolicy {
    config: PredictiveConfig,
    hpa: HpaPolicy,
}

impl PredictivePolicy {
    /// A policy with validated settings and an empty history.
    ///
    /// # Errors
    /// As [`PredictiveConfig::validate`].
    pub fn new(config: PredictiveConfig) -> Result<Self> {
        config.validate()?;
        let hpa = HpaPolicy::new(config.hpa.clone())?;
        Ok(PredictivePolicy { config, hpa })
    }

    /// The settings.
    pub fn config(&self) -> &PredictiveConfig {
        &self.config
    }

    /// The reactive HPA and its state.
    pub fn hpa(&self) -> &HpaPolicy {
        &self.hpa
    }

    /// The forecast's mean and q-quantile load per second at the peak of the lead window
    /// `[now, now + lead]`, as `(mean, quantile)` (at the step where the quantile peaks).
    pub fn lead_peak(&self, now: f64, f: &ForecastInput<'_>) -> Option<(f64, f64)> {
        let n = f.forecast.mean.len();
        if n == 0 || f.step_seconds.is_nan() || f.step_seconds <= 0.0 {
            return None;
        }
        let first = ((now - f.start) / f.step_seconds).floor().max(0.0) as usize;
        let last = ((now + self.config.lead_seconds() - f.start) / f.step_seconds)
            .ceil()
            .max(1.0) as usize;
        let z = dist::normal_quantile(self.config.quantile);
        let mut best: Option<(f64, f64)> = None;
        for i in first.min(n - 1)..last.min(n) {
            let (m, s) = (
                f.forecast.mean[i],
                f.forecast.sd.get(i).copied().unwrap_or(0.0),
            );
            let q = m + z * s;
            if q.is_finite() && best.is_none_or(|b| q > b.1) {
                best = Some((m, q));
            }
        }
        best.map(|(m, q)| (m / f.step_seconds, q / f.step_seconds))
    }

    /// One decision at `now` with `current` replicas, the observed `load` (requests/s; NaN =
    /// missing), when a model is ready its forecast, and the recent load the
    /// [`RecentFloor`] asks for (its quantile over the window, requests/s; ignored without a
    /// floor). With [`Sizing::Count`], `sized` is the calibrated count to provision for
    /// ([`super::count::Calibration::size`]); without it (not calibrated yet) the reactive HPA
    /// decides. `status` overrides the reason of an unlimited decision (the autoscaler's
    /// warm-up and fail-safe, with a note).
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a non-finite `now`, time going backwards, or a negative or
    /// infinite load.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &mut self,
        now: f64,
        current: u32,
        load: f64,
        forecast: Option<ForecastInput<'_>>,
        recent: Option<f64>,
        sized: Option<Sized>,
        status: Option<(Reason, String)>,
    ) -> Result<Decision> {
        self.hpa.check_time(now)?;
        check::observation("load", load)?;
        let mode = match self.config.mode {
            Mode::Full => "full",
            Mode::ForecastOnly => "forecast_only",
            Mode::ScaleOutOnly => "scale_out_only",
        };
        let mut explain = Explain {
            load,
            current_replicas: current,
            usage_ratio: f64::NAN,
            model: forecast.map(|f| f.model.to_string()),
            note: status.as_ref().map(|s| s.1.clone()),
            ..Explain::default()
        };
        if let Some((replicas, reason)) = self.hpa.bounds_first(current) {
            explain.raw_target = replicas;
            explain.after_stabilization = replicas;
            explain.after_rate_limit = replicas;
            let replicas = if self.config.mode == Mode::ForecastOnly {
                current
            } else {
                replicas
            };
            return Ok(self
                .hpa
                .finish(now, current, replicas, reason, mode, explain));
        }
        if load.is_nan() {
            // fail-safe: no scale-down on a missing observation; the count is held
            explain.raw_target = current;
            explain.after_stabilization = current;
            explain.after_rate_limit = current;
            explain.note = Some(
                explain
                    .note
                    .unwrap_or_else(|| "the last observation is missing: count held".into()),
            );
            return Ok(self
                .hpa
                .finish(now, current, current, Reason::FailSafe, mode, explain));
        }
        let (reactive, ratio, within) = self.hpa.reactive(current, load);
        explain.usage_ratio = ratio;
        explain.reactive = Some(reactive);
        let mut status = status;
        let scale_up = sized.and_then(|z| z.scale_up);
        let (peak, untrusted) = match self.config.sizing {
            Sizing::Forecast => (forecast.and_then(|f| self.lead_peak(now, &f)), None),
            Sizing::Count => match sized {
                Some(z) => {
                    let peak = (z.mean / z.step_seconds, z.count / z.step_seconds);
                    explain.predictor = Some(z.predictor.as_str().to_string());
                    // the note is written only if the decision ends up led by it
                    (Some(peak), (z.predictor != Predictor::Model).then_some(z))
                }
                None => {
                    if status.is_none() {
                        status = Some((
                            Reason::WarmUp,
                            format!(
                                "warm-up: the count sizing is calibrating; the load at \
                                 {:.0}% utilisation meanwhile",
                                100.0 * WARMUP_UTILIZATION
                            ),
                        ));
                    }
                    // until calibrated: the HPA's customary headroom on the observed load
                    let q = load / WARMUP_UTILIZATION;
                    (Some((load, q)), None)
                }
            },
        };
        if explain.note.is_none() {
            explain.note = status.as_ref().map(|s| s.1.clone());
        }
        let to_count = |q: f64| {
            to_replicas(
                (q * (1.0 + self.config.headroom) / self.config.capacity_per_replica).ceil(),
            )
        };
        let predictive = peak.map(|(m, q)| {
            explain.forecast_mean = Some(m);
            explain.forecast_quantile = Some(q);
            to_count(q)
        });
        // ScaleUpWindow::Ready: raised only as far as the steps a replica asked for now can
        // serve need, lowered only as far as the whole lead window allows
        let mut untrusted = untrusted.map(|z| (z, None));
        let predictive = match (predictive, scale_up, sized) {
            (Some(p), Some((who, count)), Some(z)) => {
                let up = to_count(count / z.step_seconds);
                let held = p.min(current);
                if up > held {
                    explain.predictor = Some(who.as_str().to_string());
                    untrusted = (who != Predictor::Model).then_some((z, Some(who)));
                }
                Some(up.max(held))
            }
            (p, _, _) => p,
        };
        explain.predictive = predictive;
        let floor = match (self.config.recent_floor, recent) {
            (Some(f), Some(r)) if r.is_finite() && r >= 0.0 => {
                explain.recent_load = Some(r);
                Some(to_replicas(
                    (r * f.factor / self.config.capacity_per_replica).ceil(),
                ))
            }
            _ => None,
        };
        explain.floor = floor;
        let combined = match (self.config.combination, predictive) {
            (Combination::Max, Some(p)) => p.max(reactive),
            (Combination::PredictiveOnly, Some(p)) => p,
            _ => reactive,
        };
        let combined = floor.map_or(combined, |f| combined.max(f));
        let raw = match (self.config.mode, predictive) {
            (Mode::ScaleOutOnly, Some(p)) if p > current => combined.max(reactive),
            (Mode::ScaleOutOnly, _) => reactive,
            _ => combined,
        };
        explain.raw_target = raw;
        let n = self.hpa.normalize(now, current, raw);
        explain.after_stabilization = n.after_stabilization;
        explain.after_rate_limit = n.after_rate_limit;
        let forecast_led = predictive.is_some_and(|p| p > reactive && raw == p);
        let floor_led = floor.is_some_and(|f| f > reactive && raw == f && !forecast_led);
        let reason = match n.reason {
            Reason::DesiredWithinRange => match status {
                Some((r, _)) => r,
                None if forecast_led && untrusted.is_some() => {
                    explain.note = untrusted.map(|(z, up)| match up {
                        Some(who) => format!(
                            "forecast untrusted: the recent {} sizes the scale-up (the steps \
                             a replica asked for now can serve)",
                            who.as_str()
                        ),
                        None => untrusted_note(z),
                    });
                    Reason::ForecastUntrusted
                }
                None if forecast_led => Reason::ForecastPeak,
                None if floor_led => Reason::RecentPeak,
                None if within && n.replicas == current => Reason::WithinTolerance,
                None => Reason::Reactive,
            },
            other => other,
        };
        if self.config.mode == Mode::ForecastOnly {
            explain.note = Some(format!(
                "forecast-only: would set {} replicas ({reason})",
                n.replicas
            ));
            return Ok(self
                .hpa
                .finish(now, current, current, Reason::ForecastOnly, mode, explain));
        }
        Ok(self
            .hpa
            .finish(now, current, n.replicas, reason, mode, explain))
    }
}

/// The note of a decision led by a predictor other than the model.
fn untrusted_note(z: Sized) -> String {
    match (z.model_mean_need, z.model_behind) {
        (Some(m), Some(behind)) => format!(
            "forecast untrusted: the recent {} has lost least lately, the model {behind:.1} \
             typical steps' loss more (a mean pinball loss of {:.1} a step against {m:.1})",
            z.predictor.as_str(),
            z.mean_need
        ),
        (Some(m), None) => format!(
            "forecast untrusted: the recent {} scored {:.1} a step \
             lately (pinball loss), the model {m:.1}",
            z.predictor.as_str(),
            z.mean_need
        ),
        (None, _) => format!(
            "forecast untrusted: the model is not calibrated yet; the \
             recent {} decides",
            z.predictor.as_str()
        ),
    }
}

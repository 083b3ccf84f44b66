//! Many series at once: forecasts, recommendations and simulations for a fleet of services,
//! in parallel over the series (rayon), with one result per series.
//!
//! Every function here does for each series exactly what the single-series call does — one
//! fit per series, one autoscaler per service, one simulation per service — so a batch gives
//! bit for bit the results of a loop over the series, only on every core. A series that fails
//! (too short, every value missing, an invalid value) gets its own error in its place and never
//! stops the others; only a setting shared by the whole batch (a horizon of 0, a bad level or
//! policy) fails the call as a whole, before any work.
//!
//! ```
//! use flaskscale_core::batch::forecast_many;
//! use flaskscale_core::sim::Progress;
//! use flaskscale_core::{ModelSpec, SeasonalNaive};
//!
//! let series = vec![vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0], vec![5.0], vec![4.0, 8.0, 4.0, 8.0]];
//! let model = ModelSpec::SeasonalNaive(SeasonalNaive::new(2));
//! let out = forecast_many(&series, &model, 2, &[0.9], &Progress::new())?;
//! assert_eq!(out[0].as_ref().unwrap().mean, vec![2.0, 3.0]); // the last season again
//! assert!(out[1].is_err()); // one point is too short: its own error, the others go on
//! assert_eq!(out[2].as_ref().unwrap().mean, vec![4.0, 8.0]);
//! # Ok::<(), flaskscale_core::Error>(())
//! ```
//!
//! The functions count into a [`Progress`] (the points of the series for forecasts and
//! recommendations, the replayed trace steps for simulations) and stop with
//! [`Error::Cancelled`] when it is cancelled.

use crate::autoscaler::{Autoscaler, AutoscalerConfig};
use crate::error::{Error, Result};
use crate::forecast::{check_horizon, Fitted, Forecast, ModelSpec};
use crate::policy::{
    Decision, HpaConfig, HpaPolicy, MetricTarget, PredictiveConfig, DEFAULT_INTERVAL_SECONDS,
    DEFAULT_STARTUP_SECONDS,
};
use crate::series::{CsvOptions, Series};
use crate::sim::{
    self, AutoscalerSim, FixedFleet, FrontierReport, HpaSim, Oracle, PolicySummary, Progress,
    SimConfig, SimPolicy,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

fn cancelled(what: &str) -> Error {
    Error::Cancelled(format!("{what} was cancelled"))
}

/// Builds one [`Series`] per pair of timestamps and values (UTC seconds; each pair a regular
/// grid as [`Series::from_timestamps`] takes it), in parallel. Each pair gets its own result:
/// timestamps that do not increase or lie off a grid are that series' error.
pub fn series_many(
    times: &[Vec<f64>],
    values: Vec<Vec<f64>>,
    options: CsvOptions,
) -> Vec<Result<Series>> {
    if times.len() != values.len() {
        let e = Error::data(format!(
            "series_many needs as many timestamp arrays as value arrays, got {} and {}",
            times.len(),
            values.len()
        ));
        return vec![Err(e); times.len().max(values.len())];
    }
    times
        .par_iter()
        .zip(values.into_par_iter())
        .map(|(t, v)| Series::from_timestamps(t, v, options))
        .collect()
}

/// Fits `model` to each series and forecasts `horizon` steps with an interval for each of
/// `levels`: for every series, `model.fit(y)?.predict(horizon, levels)`, in parallel.
///
/// # Errors
/// The outer result: [`Error::InvalidParameter`] for a horizon or level the forecast cannot
/// take (checked once, before any fit); [`Error::Cancelled`] once `progress` is cancelled.
/// Each inner result: whatever fitting that series gives ([`Error::NotEnoughData`],
/// [`Error::InvalidData`], [`Error::Fit`]).
pub fn forecast_many<S>(
    series: &[S],
    model: &ModelSpec,
    horizon: usize,
    levels: &[f64],
    progress: &Progress,
) -> Result<Vec<Result<Forecast>>>
where
    S: AsRef<[f64]> + Sync,
{
    check_horizon(horizon)?;
    crate::check::levels(levels, horizon)?;
    progress.add_total(series.iter().map(|s| s.as_ref().len() as u64).sum());
    let out: Vec<Result<Forecast>> = series
        .par_iter()
        .with_max_len(1)
        .map(|y| {
            if progress.is_cancelled() {
                return Err(cancelled("forecast_many"));
            }
            let y = y.as_ref();
            let r = model.fit(y).and_then(|f| f.predict(horizon, levels));
            progress.advance(y.len() as u64);
            r
        })
        .collect();
    if progress.is_cancelled() {
        return Err(cancelled("forecast_many"));
    }
    Ok(out)
}

/// The replica target of each service now: an [`Autoscaler`] with `config` (its step replaced
/// by the series' step) observes the service's recent series, step by step, and recommends at
/// the end of its last step for `current_replicas[i]` replicas. The decision is the one the
/// autoscaler would make in production after seeing that history (a model fitted once, on the
/// whole series; the warm-up chain when it is short).
///
/// # Errors
/// The outer result: [`Error::InvalidParameter`] for a bad `config` or lengths of `series` and
/// `current_replicas` that differ; [`Error::Cancelled`] once `progress` is cancelled. Each inner
/// result: what observing or recommending gives for that series (an invalid value).
pub fn recommend_many(
    series: &[Series],
    current_replicas: &[u32],
    config: &AutoscalerConfig,
    progress: &Progress,
) -> Result<Vec<Result<Decision>>> {
    config.validate()?;
    if series.len() != current_replicas.len() {
        return Err(Error::param(format!(
            "recommend_many needs one current replica count per series, got {} series and {} counts",
            series.len(),
            current_replicas.len()
        )));
    }
    progress.add_total(series.iter().map(|s| s.len() as u64).sum());
    let out: Vec<Result<Decision>> = series
        .par_iter()
        .zip(current_replicas.par_iter())
        .with_max_len(1)
        .map(|(s, &current)| {
            if progress.is_cancelled() {
                return Err(cancelled("recommend_many"));
            }
            let r = recommend_one(s, current, config);
            progress.advance(s.len() as u64);
            r
        })
        .collect();
    if progress.is_cancelled() {
        return Err(cancelled("recommend_many"));
    }
    Ok(out)
}

fn recommend_one(s: &Series, current: u32, config: &AutoscalerConfig) -> Result<Decision> {
    let mut cfg = config.clone();
    cfg.step_seconds = s.step();
    let mut auto = Autoscaler::new(cfg)?;
    for (i, &v) in s.values().iter().enumerate() {
        auto.observe(s.time_at(i), v)?;
    }
    auto.recommend(s.end(), current)
}

/// How a service's capacity per replica is set in [`simulate_many`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// The same requests per second per replica for every service; the policies are used as
    /// given.
    PerReplica(f64),
    /// Each service's peak rate (its highest step, per second) divided by this many replicas
    /// (> 0): the peak needs about that many. The policies' targets and capacities are then in
    /// units of the service's capacity and scaled to it: an HPA with `averageValue` 0.7
    /// targets 70% of a replica, a predictive policy with capacity 1 provisions whole replicas.
    PeakShare(f64),
}

/// One policy of a [`FleetPlan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// a plan holds a few of these, built once per fleet: a box would only add a step for users
#[allow(clippy::large_enum_variant)]
pub enum FleetPolicy {
    /// The exact HPA, fed the load of the last complete step.
    Hpa(HpaConfig),
    /// The predictive policy in an [`Autoscaler`] as [`sim::replay_autoscaler`] builds it.
    Predictive(PredictiveConfig),
}

/// What [`simulate_many`] replays each service's trace through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetPlan {
    /// The policies, by name (unique; the rows carry the name).
    pub policies: Vec<(String, FleetPolicy)>,
    /// How each service's capacity per replica is set.
    pub capacity: Capacity,
    /// The cluster model; its `capacity_per_replica` is replaced by each service's capacity.
    pub sim: SimConfig,
    /// Seconds between the HPA's decisions (and the references'); > 0.
    pub interval_seconds: f64,
    /// Add the oracle and the fixed fleet for the peak (named `oracle` and `fixed-fleet`).
    pub references: bool,
}

impl FleetPlan {
    /// The defaults of `flaskscale simulate`, for every service: capacity = peak rate / 20 (the
    /// peak needs about 20 replicas), the HPA at 70% of a replica, the predictive policy with
    /// the core's defaults ([`PredictiveConfig::new`]), at most 100 replicas, the predictive
    /// policy's default startup and interval, and the references.
    ///
    /// ```
    /// use flaskscale_core::batch::{simulate_many, FleetPlan};
    /// use flaskscale_core::sim::Progress;
    /// use flaskscale_core::traffic::{generate, TrafficSpec};
    ///
    /// let mut spec = TrafficSpec::new(0.0, 60.0, 2 * 1440, 20.0);
    /// spec.daily_amplitude = 0.5;
    /// let trace = generate(&spec)?;
    /// let rows = simulate_many(&[trace], &FleetPlan::standard(), &Progress::new())?;
    /// let rows = rows[0].as_ref().unwrap();
    /// let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    /// assert_eq!(names, ["hpa", "predictive", "oracle", "fixed-fleet"]);
    /// # Ok::<(), flaskscale_core::Error>(())
    /// ```
    pub fn standard() -> Self {
        FleetPlan::standard_for(DEFAULT_STARTUP_SECONDS, DEFAULT_INTERVAL_SECONDS)
            .expect("the default startup and interval are valid")
    }

    /// [`FleetPlan::standard`] with another replica startup delay (of the cluster model and
    /// the predictive policy's lead) and decision interval (of every policy).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a startup that is not finite and >= 0 or an interval
    /// that is not finite and > 0 (or a lead over a week).
    pub fn standard_for(startup_seconds: f64, interval_seconds: f64) -> Result<Self> {
        let predictive = standard_predictive(startup_seconds, interval_seconds);
        let sim = standard_sim(startup_seconds)?;
        let plan = FleetPlan {
            policies: vec![
                (
                    "hpa".to_string(),
                    FleetPolicy::Hpa(HpaConfig::new(
                        sim::DEFAULT_HPA_UTILIZATION,
                        1,
                        FLEET_MAX_REPLICAS,
                    )),
                ),
                (
                    "predictive".to_string(),
                    FleetPolicy::Predictive(predictive),
                ),
            ],
            capacity: Capacity::PeakShare(sim::DEFAULT_PEAK_REPLICAS),
            sim,
            interval_seconds,
            references: true,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// The plan with another capacity rule. Its policies are in units of a service's capacity
    /// (the standard ones are), so under [`Capacity::PerReplica`] they are scaled to it here,
    /// once: `standard().with_capacity(Capacity::PerReplica(50.0))` targets 35 req/s per
    /// replica with its HPA. Policies set afterwards are used as they are.
    ///
    /// ```
    /// use flaskscale_core::batch::{Capacity, FleetPlan, FleetPolicy};
    /// use flaskscale_core::policy::MetricTarget;
    ///
    /// let plan = FleetPlan::standard().with_capacity(Capacity::PerReplica(50.0));
    /// let FleetPolicy::Hpa(h) = &plan.policies[0].1 else { panic!() };
    /// assert_eq!(h.target, MetricTarget::AverageValue { average_value: 0.7 * 50.0 });
    /// ```
    pub fn with_capacity(mut self, capacity: Capacity) -> Self {
        if let Capacity::PerReplica(c) = capacity {
            for (_, p) in &mut self.policies {
                match p {
                    FleetPolicy::Hpa(h) => *h = scale_hpa(h, c),
                    FleetPolicy::Predictive(pc) => *pc = scale_predictive(pc, c),
                }
            }
        }
        self.capacity = capacity;
        self
    }

    /// Checks the plan: unique names, at least one policy (or the references), a valid cluster
    /// model and interval, valid policies.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming what is wrong.
    pub fn validate(&self) -> Result<()> {
        self.sim.validate()?;
        let i = self.interval_seconds;
        if !(i.is_finite() && i > 0.0) {
            return Err(Error::param(format!(
                "interval_seconds must be finite and > 0, got {i}"
            )));
        }
        self.capacity.validate()?;
        if self.policies.is_empty() && !self.references {
            return Err(Error::param(
                "simulate_many needs at least one policy or the references, got none",
            ));
        }
        let mut names: Vec<&str> = self.policies.iter().map(|(n, _)| n.as_str()).collect();
        if self.references {
            names.extend(["oracle", "fixed-fleet"]);
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::param(format!(
                "policy names must be unique, {:?} is given twice",
                w[0]
            )));
        }
        for (name, p) in &self.policies {
            let r = match p {
                FleetPolicy::Hpa(h) => h.validate(),
                FleetPolicy::Predictive(c) => c.validate(),
            };
            r.map_err(|e| Error::param(format!("policy {name:?}: {e}")))?;
        }
        Ok(())
    }

    /// This service's policies, scaled to its capacity when the plan says so.
    fn build(&self, trace: &Series, capacity: f64) -> Result<Vec<Box<dyn SimPolicy>>> {
        let scale = self.capacity.scale(capacity);
        let mut list: Vec<Box<dyn SimPolicy>> = Vec::new();
        for (name, p) in &self.policies {
            match p {
                FleetPolicy::Hpa(h) => {
                    let hpa = HpaPolicy::new(scale_hpa(h, scale))?;
                    list.push(Box::new(HpaSim::new(
                        name,
                        hpa,
                        trace.step(),
                        self.interval_seconds,
                    )?));
                }
                FleetPolicy::Predictive(c) => {
                    let auto = sim::replay_autoscaler(trace, &scale_predictive(c, scale))?;
                    list.push(Box::new(AutoscalerSim::new(name, auto)));
                }
            }
        }
        if self.references {
            let startup = self.sim.startup_seconds;
            list.push(Box::new(Oracle::new(
                trace,
                capacity,
                startup,
                self.interval_seconds,
            )?));
            list.push(Box::new(FixedFleet::for_peak(
                trace,
                capacity,
                self.interval_seconds,
            )?));
        }
        Ok(list)
    }
}

/// Most replicas of a service in the fleet plans' defaults.
pub const FLEET_MAX_REPLICAS: u32 = 100;

/// The predictive policy of the fleet plans' defaults, in units of a service's capacity.
fn standard_predictive(startup_seconds: f64, interval_seconds: f64) -> PredictiveConfig {
    let mut predictive = PredictiveConfig::new(1.0, 1, FLEET_MAX_REPLICAS);
    predictive.startup_seconds = startup_seconds;
    predictive.interval_seconds = interval_seconds;
    predictive
}

/// The cluster model of the fleet plans' defaults (its capacity replaced per service).
fn standard_sim(startup_seconds: f64) -> Result<SimConfig> {
    let mut sim = SimConfig::new(1.0, startup_seconds)?;
    sim.max_replicas = FLEET_MAX_REPLICAS;
    Ok(sim)
}

impl Capacity {
    fn validate(self) -> Result<()> {
        match self {
            Capacity::PerReplica(c) | Capacity::PeakShare(c) if !(c.is_finite() && c > 0.0) => Err(
                Error::param(format!("capacity must be finite and > 0, got {c}")),
            ),
            _ => Ok(()),
        }
    }

    /// The capacity per replica of a service with this trace.
    fn of(self, trace: &Series) -> Result<f64> {
        match self {
            Capacity::PerReplica(c) => Ok(c),
            Capacity::PeakShare(n) => {
                let peak = trace.stats().max / trace.step();
                if !(peak.is_finite() && peak > 0.0) {
                    return Err(Error::data(
                        "the trace has no positive load: its capacity (peak rate / share) is undefined",
                    ));
                }
                Ok(peak / n)
            }
        }
    }

    /// What a policy's targets and capacities are multiplied by for a service of `capacity`.
    fn scale(self, capacity: f64) -> f64 {
        match self {
            Capacity::PerReplica(_) => 1.0,
            Capacity::PeakShare(_) => capacity,
        }
    }
}

fn scale_predictive(c: &PredictiveConfig, scale: f64) -> PredictiveConfig {
    let mut c = c.clone();
    c.capacity_per_replica *= scale;
    c.hpa = scale_hpa(&c.hpa, scale);
    c
}

fn scale_hpa(h: &HpaConfig, scale: f64) -> HpaConfig {
    let mut h = h.clone();
    h.target = match h.target {
        MetricTarget::AverageValue { average_value } => MetricTarget::AverageValue {
            average_value: average_value * scale,
        },
        MetricTarget::Value { value } => MetricTarget::Value {
            value: value * scale,
        },
    };
    h
}

/// One service's result for one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRow {
    /// The policy's name.
    pub name: String,
    /// The capacity per replica the service was simulated with, requests per second.
    pub capacity_per_replica: f64,
    /// The policy's totals over the trace.
    pub summary: PolicySummary,
}

/// Replays each service's trace through the policies of `plan`, each service on its own
/// simulated cluster (its capacity as the plan says): for every trace,
/// [`sim::simulate_with_progress`] with the policies built for it, in parallel over the
/// services (and over the policies within one).
///
/// # Errors
/// The outer result: [`Error::InvalidParameter`] as [`FleetPlan::validate`];
/// [`Error::Cancelled`] once `progress` is cancelled. Each inner result: what building the
/// service's policies or simulating them gives (a trace without positive load under
/// [`Capacity::PeakShare`], a trace too short for the references).
pub fn simulate_many(
    traces: &[Series],
    plan: &FleetPlan,
    progress: &Progress,
) -> Result<Vec<Result<Vec<PolicyRow>>>> {
    plan.validate()?;
    let out: Vec<Result<Vec<PolicyRow>>> = traces
        .par_iter()
        .with_max_len(1)
        .map(|trace| {
            if progress.is_cancelled() {
                return Err(cancelled("simulate_many"));
            }
            simulate_one(trace, plan, progress)
        })
        .collect();
    if progress.is_cancelled() {
        return Err(cancelled("simulate_many"));
    }
    Ok(out)
}

fn simulate_one(trace: &Series, plan: &FleetPlan, progress: &Progress) -> Result<Vec<PolicyRow>> {
    let capacity = plan.capacity.of(trace)?;
    let policies = plan.build(trace, capacity)?;
    let mut cfg = plan.sim.clone();
    cfg.capacity_per_replica = capacity;
    let report = sim::simulate_with_progress(trace, policies, &cfg, progress)?;
    Ok(report
        .policies
        .into_iter()
        .map(|p| PolicyRow {
            name: p.name,
            capacity_per_replica: capacity,
            summary: p.summary,
        })
        .collect())
}

/// What [`frontier_many`] measures each service with: the policy under test against the
/// tuned-HPA frontier ([`sim::frontier()`]) on the service's own cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPlan {
    /// The policy under test (the base of its sweep); under [`Capacity::PeakShare`] in units
    /// of the service's capacity, as in a [`FleetPlan`]. The HPA family decides at its
    /// interval, within its replica bounds.
    pub policy: PredictiveConfig,
    /// The model it forecasts with; `None`: [`sim::replay_model`] of each trace.
    pub model: Option<ModelSpec>,
    /// How each service's capacity per replica is set.
    pub capacity: Capacity,
    /// The cluster model; its `capacity_per_replica` is replaced by each service's capacity.
    pub sim: SimConfig,
    /// Sweep the policy over its count quantile and reactive target (99 settings), or replay
    /// it once as it is.
    pub sweep_policy: bool,
}

impl FrontierPlan {
    /// The defaults of [`FleetPlan::standard`] for every service: capacity = peak rate / 20,
    /// the predictive policy's defaults (swept), at most 100 replicas, startup 120 s,
    /// decisions every 15 s.
    pub fn standard() -> Self {
        FrontierPlan::standard_for(DEFAULT_STARTUP_SECONDS, DEFAULT_INTERVAL_SECONDS)
            .expect("the default startup and interval are valid")
    }

    /// [`FrontierPlan::standard`] with another startup delay and decision interval.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] as [`FleetPlan::standard_for`].
    pub fn standard_for(startup_seconds: f64, interval_seconds: f64) -> Result<Self> {
        let plan = FrontierPlan {
            policy: standard_predictive(startup_seconds, interval_seconds),
            model: None,
            capacity: Capacity::PeakShare(sim::DEFAULT_PEAK_REPLICAS),
            sim: standard_sim(startup_seconds)?,
            sweep_policy: true,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// The plan with another capacity rule; its policy is scaled to a
    /// [`Capacity::PerReplica`] here, as [`FleetPlan::with_capacity`] does.
    pub fn with_capacity(mut self, capacity: Capacity) -> Self {
        if let Capacity::PerReplica(c) = capacity {
            self.policy = scale_predictive(&self.policy, c);
        }
        self.capacity = capacity;
        self
    }

    /// Checks the plan: a valid cluster model, capacity and policy.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming what is wrong.
    pub fn validate(&self) -> Result<()> {
        self.sim.validate()?;
        self.capacity.validate()?;
        self.policy.validate()
    }
}

/// One service's frontier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierRow {
    /// The capacity per replica the service was replayed with, requests per second.
    pub capacity_per_replica: f64,
    /// What [`sim::frontier()`] gives for the service.
    pub report: FrontierReport,
}

/// The frontier of each service ([`sim::frontier()`] on its trace, its cluster and the plan's
/// policy scaled to its capacity), in parallel over the services (and over the settings
/// within one).
///
/// # Errors
/// The outer result: [`Error::InvalidParameter`] as [`FrontierPlan::validate`];
/// [`Error::Cancelled`] once `progress` is cancelled. Each inner result: what the service's
/// frontier gives (a trace without positive load under [`Capacity::PeakShare`]).
pub fn frontier_many(
    traces: &[Series],
    plan: &FrontierPlan,
    progress: &Progress,
) -> Result<Vec<Result<FrontierRow>>> {
    plan.validate()?;
    let out: Vec<Result<FrontierRow>> = traces
        .par_iter()
        .with_max_len(1)
        .map(|trace| {
            if progress.is_cancelled() {
                return Err(cancelled("frontier_many"));
            }
            let capacity = plan.capacity.of(trace)?;
            let policy = scale_predictive(&plan.policy, plan.capacity.scale(capacity));
            let mut cfg = plan.sim.clone();
            cfg.capacity_per_replica = capacity;
            let report = sim::frontier(
                trace,
                &cfg,
                &policy,
                plan.model.clone(),
                plan.sweep_policy,
                progress,
            )?;
            Ok(FrontierRow {
                capacity_per_replica: capacity,
                report,
            })
        })
        .collect();
    if progress.is_cancelled() {
        return Err(cancelled("frontier_many"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{AutoForecaster, HoltWinters};
    use crate::traffic::{generate, TrafficSpec};

    fn trace(seed: u64, len: usize, step: f64) -> Series {
        let mut spec = TrafficSpec::new(1_700_000_000.0, step, len, 5.0 + seed as f64);
        spec.seed = seed;
        spec.daily_amplitude = 0.5;
        spec.daily_peak_hour = (seed % 24) as f64;
        spec.weekend_factor = 1.2;
        generate(&spec).unwrap()
    }

    #[test]
    fn forecast_many_is_the_loop_bit_for_bit_with_errors_in_place() {
        let mut series: Vec<Vec<f64>> = (0..12)
            .map(|i| trace(i, 400, 3600.0).into_values())
            .collect();
        series[3] = vec![]; // too short for any model
        series[7] = vec![f64::NAN; 300]; // every value missing
        series[9][5] = -1.0; // invalid
        for model in [
            ModelSpec::Auto(AutoForecaster::default()),
            ModelSpec::HoltWinters(HoltWinters::new(24)),
        ] {
            let batch = forecast_many(&series, &model, 24, &[0.8, 0.95], &Progress::new()).unwrap();
            assert_eq!(batch.len(), series.len());
            for (y, b) in series.iter().zip(&batch) {
                let one = model.fit(y).and_then(|f| f.predict(24, &[0.8, 0.95]));
                match (one, b) {
                    (Ok(a), Ok(b)) => {
                        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&a.mean), bits(&b.mean));
                        assert_eq!(bits(&a.sd), bits(&b.sd));
                        for (ia, ib) in a.intervals.iter().zip(&b.intervals) {
                            assert_eq!(bits(&ia.lower), bits(&ib.lower));
                            assert_eq!(bits(&ia.upper), bits(&ib.upper));
                        }
                    }
                    (Err(a), Err(b)) => assert_eq!(&a, b),
                    (a, b) => panic!("loop gave {a:?}, batch {b:?}"),
                }
            }
            assert!(matches!(batch[3], Err(Error::NotEnoughData { .. })));
            assert!(matches!(batch[7], Err(Error::InvalidData(_))));
            assert!(matches!(batch[9], Err(Error::InvalidData(_))));
            assert_eq!(batch.iter().filter(|r| r.is_ok()).count(), 9);
        }
    }

    #[test]
    fn shared_settings_fail_the_batch_before_any_fit() {
        let series = vec![vec![1.0; 50]];
        let m = ModelSpec::Naive(crate::forecast::Naive);
        let p = Progress::new();
        assert!(matches!(
            forecast_many(&series, &m, 0, &[], &p),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            forecast_many(&series, &m, 3, &[1.5], &p),
            Err(Error::InvalidParameter(_))
        ));
        assert_eq!(p.total(), 0);
        p.cancel();
        assert!(matches!(
            forecast_many(&series, &m, 3, &[], &p),
            Err(Error::Cancelled(_))
        ));
    }

    #[test]
    fn progress_counts_every_point() {
        let series: Vec<Vec<f64>> = (0..5).map(|i| vec![1.0; 10 + i]).collect();
        let p = Progress::new();
        forecast_many(
            &series,
            &ModelSpec::Naive(crate::forecast::Naive),
            2,
            &[],
            &p,
        )
        .unwrap();
        assert_eq!((p.done(), p.total()), (60, 60));
    }

    #[test]
    fn series_many_gives_each_pair_its_grid_or_its_error() {
        let times = vec![vec![0.0, 60.0, 120.0], vec![0.0, 60.0, 30.0], vec![0.0]];
        let values = vec![vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0], vec![1.0]];
        let out = series_many(&times, values, CsvOptions::default());
        assert_eq!(out[0].as_ref().unwrap().step(), 60.0);
        assert!(matches!(out[1], Err(Error::Parse { line: 3, .. })));
        assert!(matches!(out[2], Err(Error::NotEnoughData { .. })));
    }

    #[test]
    fn recommend_many_is_the_autoscaler_loop() {
        let series: Vec<Series> = (0..6).map(|i| trace(i, 3 * 1440, 60.0)).collect();
        let current: Vec<u32> = (0..6).map(|i| 2 + i as u32).collect();
        let policy = PredictiveConfig::new(2.0, 1, 200);
        let model = ModelSpec::SeasonalNaive(crate::forecast::SeasonalNaive::new(1440));
        let cfg = AutoscalerConfig::new(60.0, model, policy);
        let batch = recommend_many(&series, &current, &cfg, &Progress::new()).unwrap();
        for ((s, &c), b) in series.iter().zip(&current).zip(&batch) {
            // the loop, written out: observe every step, recommend at the end of the last
            let mut a = Autoscaler::new(cfg.clone()).unwrap();
            for (i, &v) in s.values().iter().enumerate() {
                a.observe(s.start() + 60.0 * i as f64, v).unwrap();
            }
            let d = a.recommend(s.start() + 60.0 * s.len() as f64, c).unwrap();
            assert_eq!(b.as_ref().unwrap(), &d);
        }
        // the load is ~5-10 req/s per minute step at 2 req/s per replica: a handful of replicas
        let r = batch[0].as_ref().unwrap().replicas;
        assert!((2..=12).contains(&r), "{r}");
        let err = recommend_many(&series, &current[..2], &cfg, &Progress::new());
        assert!(matches!(err, Err(Error::InvalidParameter(_))));
    }

    #[test]
    fn simulate_many_is_simulate_per_service() {
        let mut traces: Vec<Series> = (0..4).map(|i| trace(i, 2 * 1440, 60.0)).collect();
        traces.insert(2, Series::new(vec![0.0; 100], 0.0, 60.0).unwrap()); // no load
        let plan = FleetPlan::standard();
        let batch = simulate_many(&traces, &plan, &Progress::new()).unwrap();
        assert!(matches!(batch[2], Err(Error::InvalidData(_))));
        for (t, b) in traces.iter().zip(&batch).filter(|(_, b)| b.is_ok()) {
            let rows = b.as_ref().unwrap();
            // the same simulation by hand: capacity = peak / 20, the HPA at 70%, the predictive
            // policy's defaults
            let cap = t.stats().max / 60.0 / 20.0;
            let pc = PredictiveConfig::new(cap, 1, 100);
            let policies: Vec<Box<dyn SimPolicy>> = vec![
                Box::new(
                    HpaSim::new(
                        "hpa",
                        HpaPolicy::new(HpaConfig::new(0.7 * cap, 1, 100)).unwrap(),
                        60.0,
                        15.0,
                    )
                    .unwrap(),
                ),
                Box::new(AutoscalerSim::new(
                    "predictive",
                    sim::replay_autoscaler(t, &pc).unwrap(),
                )),
                Box::new(Oracle::new(t, cap, 120.0, 15.0).unwrap()),
                Box::new(FixedFleet::for_peak(t, cap, 15.0).unwrap()),
            ];
            let mut cfg = SimConfig::new(cap, 120.0).unwrap();
            cfg.max_replicas = 100;
            let report = sim::simulate(t, policies, &cfg).unwrap();
            assert_eq!(rows.len(), 4);
            for (row, p) in rows.iter().zip(&report.policies) {
                assert_eq!(row.name, p.name);
                assert_eq!(row.capacity_per_replica.to_bits(), cap.to_bits());
                assert_eq!(row.summary, p.summary);
            }
            // the fixed fleet for the peak never violates; the HPA pays less
            let fixed = &rows[3].summary;
            assert_eq!(fixed.violation_minutes, 0.0);
            assert!(rows[0].summary.replica_hours < fixed.replica_hours);
        }
    }

    #[test]
    fn frontier_many_is_the_frontier_per_service() {
        let mut traces: Vec<Series> = (0..3).map(|i| trace(i, 2 * 1440, 60.0)).collect();
        traces.insert(1, Series::new(vec![f64::NAN; 50], 0.0, 60.0).unwrap()); // no load
        let mut plan = FrontierPlan::standard();
        plan.sweep_policy = false;
        let batch = frontier_many(&traces, &plan, &Progress::new()).unwrap();
        assert!(matches!(batch[1], Err(Error::InvalidData(_))));
        for (t, b) in traces.iter().zip(&batch).filter(|(_, b)| b.is_ok()) {
            let row = b.as_ref().unwrap();
            // by hand: capacity = peak / 20, the predictive defaults at that capacity
            let cap = t.stats().max / 60.0 / 20.0;
            let mut cfg = SimConfig::new(cap, 120.0).unwrap();
            cfg.max_replicas = 100;
            let pc = PredictiveConfig::new(cap, 1, 100);
            let one = sim::frontier(t, &cfg, &pc, None, false, &Progress::new()).unwrap();
            assert_eq!(row.capacity_per_replica.to_bits(), cap.to_bits());
            assert_eq!(row.report, one);
            // 40 HPA settings and the policy once; R0 is the HPA at 70% with 300 s
            assert_eq!(row.report.points.len(), 41);
            let r0 = row.report.points[2 * 10 + 4].summary.replica_hours;
            assert_eq!(row.report.r0, r0);
        }
        let mut bad = FrontierPlan::standard();
        bad.capacity = Capacity::PerReplica(-1.0);
        assert!(matches!(
            frontier_many(&traces, &bad, &Progress::new()),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn plans_are_checked() {
        let mut plan = FleetPlan::standard();
        plan.policies
            .push(("hpa".into(), FleetPolicy::Hpa(HpaConfig::new(1.0, 1, 5))));
        assert!(matches!(plan.validate(), Err(Error::InvalidParameter(_))));
        let mut plan = FleetPlan::standard();
        plan.capacity = Capacity::PeakShare(0.0);
        assert!(plan.validate().is_err());
        let mut plan = FleetPlan::standard();
        plan.policies.clear();
        plan.references = false;
        assert!(plan.validate().is_err());
    }
}

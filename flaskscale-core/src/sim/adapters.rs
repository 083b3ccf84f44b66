//! The real policies as [`SimPolicy`]s: the exact HPA ([`HpaSim`]) and the stateful
//! [`Autoscaler`] ([`AutoscalerSim`]), so the simulator replays a trace through the very code
//! that decides in production.

use super::{FixedFleet, Oracle};
use super::{SimDecision, SimPolicy};
use crate::autoscaler::{Autoscaler, AutoscalerConfig, DecisionInputs};
use crate::error::{Error, Result};
use crate::forecast::{ModelSpec, MultiSeasonalNaive, Naive, SeasonalNaive};
use crate::policy::{HpaPolicy, PredictiveConfig, PredictivePolicy};
use crate::series::Series;
use std::sync::{Arc, Mutex};

/// The model a predictive policy forecasts with when it is replayed without a model of its own
/// (the command line's `simulate` and `sweep`, Python's `simulate` with a bare
/// `PredictivePolicy`): refitted hourly over a whole trace, it must be cheap. The mean of the
/// seasonal naive forecasts a day and a week ago when the trace holds two weeks, else a day
/// ago, else the last value.
pub fn replay_model(trace: &Series) -> ModelSpec {
    match crate::check::steps_per_day(trace.step()) {
        Some(day) if trace.len() > 14 * day => ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive {
            periods: vec![day, 7 * day],
        }),
        Some(day) if trace.len() > day => ModelSpec::SeasonalNaive(SeasonalNaive::new(day)),
        _ => ModelSpec::Naive(Naive),
    }
}

/// The autoscaler a predictive policy is replayed in when it brings no model of its own: at
/// the trace's step, forecasting with [`replay_model`], refitted hourly whatever the step.
///
/// # Errors
/// As [`AutoscalerConfig::validate`].
pub fn replay_autoscaler(trace: &Series, policy: &PredictiveConfig) -> Result<Autoscaler> {
    replay_autoscaler_with(trace, policy, replay_model(trace))
}

/// [`replay_autoscaler`] forecasting with `model` instead of [`replay_model`].
///
/// # Errors
/// As [`AutoscalerConfig::validate`].
pub fn replay_autoscaler_with(
    trace: &Series,
    policy: &PredictiveConfig,
    model: ModelSpec,
) -> Result<Autoscaler> {
    Autoscaler::new(replay_config(trace.step(), model, policy))
}

/// The settings of an autoscaler replaying (or batch-deciding over) a history of `step`
/// seconds: the defaults, refitted hourly whatever the step.
pub fn replay_config(step: f64, model: ModelSpec, policy: &PredictiveConfig) -> AutoscalerConfig {
    let mut cfg = AutoscalerConfig::new(step, model, policy.clone());
    cfg.refit_every = ((3600.0 / step).round() as usize).max(1);
    cfg
}

/// The references a simulation compares policies with: the [`Oracle`] (the fewest replicas
/// that would have served the trace, knowing it) and the [`FixedFleet`] sized for its peak.
///
/// # Errors
/// As [`Oracle::new`] and [`FixedFleet::for_peak`].
pub fn reference_policies(
    trace: &Series,
    capacity_per_replica: f64,
    startup_seconds: f64,
    interval_seconds: f64,
) -> Result<Vec<Box<dyn SimPolicy>>> {
    Ok(vec![
        Box::new(Oracle::new(
            trace,
            capacity_per_replica,
            startup_seconds,
            interval_seconds,
        )?),
        Box::new(FixedFleet::for_peak(
            trace,
            capacity_per_replica,
            interval_seconds,
        )?),
    ])
}

fn check_interval(interval: f64) -> Result<()> {
    crate::check::positive("sync interval (seconds)", interval).map(|_| ())
}

/// The exact HPA fed the load of the last complete trace step, as requests per second.
#[derive(Debug, Clone)]
pub struct HpaSim {
    name: String,
    hpa: HpaPolicy,
    step: f64,
    interval: f64,
    last_rate: f64,
}

impl HpaSim {
    /// An HPA for a trace of `step_seconds` steps, deciding every `interval` seconds.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a step or interval that is not finite and > 0.
    pub fn new(name: &str, hpa: HpaPolicy, step_seconds: f64, interval: f64) -> Result<Self> {
        check_interval(step_seconds)?;
        check_interval(interval)?;
        Ok(HpaSim {
            name: name.to_string(),
            hpa,
            step: step_seconds,
            interval,
            last_rate: f64::NAN,
        })
    }
}

impl SimPolicy for HpaSim {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, requests: f64) -> Result<()> {
        self.last_rate = requests / self.step;
        Ok(())
    }
    fn decide(&mut self, now: f64, current_replicas: u32) -> Result<SimDecision> {
        let d = self.hpa.recommend(now, current_replicas, self.last_rate)?;
        Ok(SimDecision {
            replicas: d.replicas,
            forecast: None,
        })
    }
}

/// The stateful autoscaler: every trace step is observed, every interval it decides; the
/// forecast it reports is the quantile it provisioned for.
///
/// The autoscaler's steps lie on its own grid (multiples of its step since the epoch); a trace
/// whose steps start elsewhere (at 00:00:20, say) would have a decision late in one trace step
/// fall in the autoscaler's next step and complete the step still being observed. So the
/// replay shifts every time it passes by the trace start's offset from that grid, taken at the
/// first call (the simulator's first decision, at the trace start).
#[derive(Debug, Clone)]
pub struct AutoscalerSim {
    name: String,
    auto: Autoscaler,
    interval: f64,
    shift: Option<f64>,
    /// Where the inputs of every decision are recorded, for [`TapeSim`]s to decide on.
    tape: Option<Tape>,
}

/// The decision inputs of one autoscaler's replay, in the order of its decisions.
pub(crate) type Tape = Arc<Mutex<Vec<DecisionInputs>>>;

/// `t` on an autoscaler's grid of `step` seconds, with the shift taken at the first call.
fn on_grid(shift: &mut Option<f64>, t: f64, step: f64) -> f64 {
    t - *shift.get_or_insert_with(|| t - crate::time::slot_start(t, step))
}

impl AutoscalerSim {
    /// The autoscaler under `name`, deciding every `interval` seconds (its policy's interval).
    pub fn new(name: &str, auto: Autoscaler) -> Self {
        let interval = auto.config().policy.interval_seconds;
        AutoscalerSim {
            name: name.to_string(),
            auto,
            interval,
            shift: None,
            tape: None,
        }
    }

    /// The same, recording the inputs of its decisions on `tape`.
    pub(crate) fn recording(name: &str, auto: Autoscaler, tape: Tape) -> Self {
        AutoscalerSim {
            tape: Some(tape),
            ..AutoscalerSim::new(name, auto)
        }
    }

    /// `t` on the autoscaler's grid.
    fn at(&mut self, t: f64) -> f64 {
        on_grid(&mut self.shift, t, self.auto.config().step_seconds)
    }
}

impl SimPolicy for AutoscalerSim {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, t: f64, requests: f64) -> Result<()> {
        let t = self.at(t);
        self.auto.observe(t, requests)
    }
    fn decide(&mut self, now: f64, current_replicas: u32) -> Result<SimDecision> {
        let now = self.at(now);
        let d = match &self.tape {
            Some(tape) => {
                let inputs = self.auto.prepare(now)?;
                tape.lock()
                    .map_err(|_| Error::data("a replay's record of decisions was poisoned"))?
                    .push(inputs.clone());
                self.auto.decide_prepared(current_replicas, inputs)?
            }
            None => self.auto.recommend(now, current_replicas)?,
        };
        Ok(SimDecision {
            replicas: d.replicas,
            forecast: d.explain.forecast_quantile,
        })
    }
}

/// A predictive policy deciding on the inputs an [`AutoscalerSim`] recorded while it replayed
/// the same trace with the same settings but the reactive target ([`DecisionInputs`]): the
/// decisions of an autoscaler of this policy's settings, bit for bit, without forecasting or
/// calibrating again. Only for the count sizing, whose decision takes nothing from the
/// forecast itself (its explanation lacks the model's name).
#[derive(Debug)]
pub(crate) struct TapeSim {
    name: String,
    policy: PredictivePolicy,
    tape: Arc<Vec<DecisionInputs>>,
    next: usize,
    step: f64,
    interval: f64,
    shift: Option<f64>,
}

impl TapeSim {
    /// `policy` deciding on `tape`, recorded by an autoscaler at `step_seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a policy that does not size for the count.
    pub(crate) fn new(
        name: &str,
        policy: &PredictiveConfig,
        tape: Arc<Vec<DecisionInputs>>,
        step_seconds: f64,
    ) -> Result<Self> {
        if policy.sizing != crate::policy::Sizing::Count {
            return Err(Error::param(
                "a recorded replay is for the count sizing only",
            ));
        }
        Ok(TapeSim {
            name: name.to_string(),
            policy: PredictivePolicy::new(policy.clone())?,
            tape,
            next: 0,
            step: step_seconds,
            interval: policy.interval_seconds,
            shift: None,
        })
    }
}

impl SimPolicy for TapeSim {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, t: f64, _requests: f64) -> Result<()> {
        // the recording autoscaler observed the same steps; the shift is taken at the first
        // call, as it was there
        on_grid(&mut self.shift, t, self.step);
        Ok(())
    }
    fn decide(&mut self, now: f64, current_replicas: u32) -> Result<SimDecision> {
        let now = on_grid(&mut self.shift, now, self.step);
        let inputs = self
            .tape
            .get(self.next)
            .filter(|i| i.now.to_bits() == now.to_bits())
            .ok_or_else(|| {
                Error::data(format!(
                    "the recorded replay has no decision {} at {now}",
                    self.next
                ))
            })?;
        self.next += 1;
        let d = self.policy.decide(
            now,
            current_replicas,
            inputs.load,
            None,
            inputs.recent,
            inputs.sized,
            inputs.status.clone(),
        )?;
        Ok(SimDecision {
            replicas: d.replicas,
            forecast: d.explain.forecast_quantile,
        })
    }
}

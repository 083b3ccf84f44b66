//! The tuned-HPA frontier: does predictive scaling pay on this traffic?
//!
//! A careful SRE tunes the HPA's target utilisation and scale-down window. [`frontier`] replays
//! the trace through that whole family (target 0.50–0.95 in steps of 0.05 × window 0, 60, 300
//! and 900 s), and through the policy under test over its own two knobs (the quantile of the
//! count it provisions for × the target of its reactive path), and compares them at equal cost:
//! - at each budget (0.9, 1.0, 1.1, 1.25 × R0, where R0 is the replica-hours of the HPA at 70%
//!   with the default 300 s window): the lowest share of requests not served within the SLO
//!   (B) that each family reaches within it;
//! - at each service level (99.9% and 99% of requests served within the SLO): the fewest
//!   replica-hours each family needs to reach it.
//!
//! Every point is a plain [`super::simulate`] run: the frontier's HPA at `(target, window)` is
//! the same simulation as an [`HpaSim`] with that configuration.

use super::adapters::{replay_autoscaler_with, replay_model, AutoscalerSim, HpaSim, Tape, TapeSim};
use super::{run_policies, PolicySummary, Progress, SimConfig, SimPolicy};
use crate::error::{Error, Result};
use crate::forecast::ModelSpec;
use crate::policy::{HpaConfig, HpaPolicy, PredictiveConfig, Sizing};
use crate::series::Series;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Target utilisations of the HPA family: 0.50 to 0.95 in steps of 0.05.
pub const HPA_TARGETS: [f64; 10] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
/// Scale-down stabilization windows of the HPA family, seconds.
pub const HPA_WINDOWS: [u32; 4] = [0, 60, 300, 900];
/// The quantiles of the count the policy under test is swept over.
pub const POLICY_QUANTILES: [f64; 9] = [0.8, 0.9, 0.925, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999];
/// The reactive targets (as a share of the capacity) the policy under test is swept over:
/// the HPA family's targets and 1.0, so that where the reactive path decides (high budgets)
/// the policy is measured on the same grid as the HPA it is compared with.
pub const POLICY_REACTIVE: [f64; 11] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0];
/// Budgets, as multiples of R0.
pub const BUDGETS: [f64; 4] = [0.9, 1.0, 1.1, 1.25];
/// Service levels: shares of requests served within the SLO.
pub const SERVICE_LEVELS: [f64; 2] = [0.999, 0.99];

/// One replayed setting: what it was, its headline figures and its whole summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPoint {
    /// `"hpa"` or `"policy"`.
    pub family: String,
    /// The HPA's target utilisation, or the policy's reactive target (share of capacity).
    pub target: f64,
    /// The HPA's scale-down window in seconds (`None` for the policy).
    pub window_seconds: Option<u32>,
    /// The policy's count quantile (`None` for the HPA).
    pub quantile: Option<f64>,
    /// The simulation's totals.
    pub summary: PolicySummary,
}

/// The two families side by side at one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetRow {
    /// The budget as a multiple of R0.
    pub budget: f64,
    /// Lowest B of the HPA family within the budget, and its point (index into `points`).
    pub hpa: Option<(f64, usize)>,
    /// The same for the policy under test.
    pub policy: Option<(f64, usize)>,
}

/// The two families side by side at one service level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    /// Share of requests served within the SLO that must be reached.
    pub served: f64,
    /// Fewest replica-hours of the HPA family that reach it, and its point.
    pub hpa: Option<(f64, usize)>,
    /// The same for the policy under test.
    pub policy: Option<(f64, usize)>,
}

/// The result of [`frontier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierReport {
    /// Replica-hours of the HPA at 70% with the default 300 s window.
    pub r0: f64,
    /// B of that HPA.
    pub b0: f64,
    /// Every replayed setting: the HPA family first, then the policy's.
    pub points: Vec<FrontierPoint>,
    /// One row per budget of [`BUDGETS`].
    pub budgets: Vec<BudgetRow>,
    /// One row per service level of [`SERVICE_LEVELS`].
    pub service: Vec<ServiceRow>,
}

impl FrontierReport {
    /// The report as JSON.
    ///
    /// # Errors
    /// [`Error::InvalidData`] if serialisation fails (it does not for reports built here).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::data(format!("serialising frontier: {e}")))
    }
}

fn best_within(points: &[FrontierPoint], family: &str, budget: f64) -> Option<(f64, usize)> {
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.family == family && p.summary.replica_hours <= budget)
        .map(|(i, p)| (p.summary.slo_miss_share, i))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn cheapest_serving(points: &[FrontierPoint], family: &str, served: f64) -> Option<(f64, usize)> {
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.family == family && 1.0 - p.summary.slo_miss_share >= served)
        .map(|(i, p)| (p.summary.replica_hours, i))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// Replays `trace` through the HPA family and the policy under test (module docs). With
/// `sweep_policy`, `policy` is the base configuration swept over its count quantile and
/// reactive target (everything else kept); without, it is replayed once as it is. It
/// forecasts with `model`, or [`replay_model`] when `None`, refitted hourly. The HPA decides
/// every `policy.interval_seconds`.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad `cfg` or `policy`; any error a simulation returns;
/// [`Error::Cancelled`] once `progress` is cancelled.
pub fn frontier(
    trace: &Series,
    cfg: &SimConfig,
    policy: &PredictiveConfig,
    model: Option<ModelSpec>,
    sweep_policy: bool,
    progress: &Progress,
) -> Result<FrontierReport> {
    cfg.validate()?;
    policy.validate()?;
    let cap = cfg.capacity_per_replica;
    let step = trace.step();
    let interval = policy.interval_seconds;
    let max = policy.hpa.max_replicas;
    let mut points = Vec::new();
    let mut sims: Vec<Box<dyn SimPolicy>> = Vec::new();
    for &w in &HPA_WINDOWS {
        for &t in &HPA_TARGETS {
            let mut h = HpaConfig::new(t * cap, policy.hpa.min_replicas, max);
            h.downscale_stabilization_seconds = w;
            let name = format!("hpa-{t:.2}-{w}s");
            sims.push(Box::new(HpaSim::new(
                &name,
                HpaPolicy::new(h)?,
                step,
                interval,
            )?));
            points.push((String::from("hpa"), t, Some(w), None));
        }
    }
    let model = model.unwrap_or_else(|| replay_model(trace));
    let own_target = match policy.hpa.target {
        crate::policy::MetricTarget::AverageValue { average_value } => average_value / cap,
        _ => f64::NAN,
    };
    let grid: Vec<(f64, f64)> = if sweep_policy {
        POLICY_QUANTILES
            .iter()
            .flat_map(|&q| POLICY_REACTIVE.iter().map(move |&u| (q, u)))
            .collect()
    } else {
        vec![(policy.quantile, own_target)]
    };
    // The settings of one quantile differ only in the reactive target, which the forecast
    // and the count sizing do not see: with the count sizing, the first of them replays in an
    // autoscaler and records its decisions' inputs, and the others decide on that record
    // (the same decisions as their own autoscalers', without forecasting and calibrating
    // again). The recordings run first, beside the HPA's replays.
    let share = policy.sizing == Sizing::Count;
    // the points replayed first (the HPA's, then one autoscaler per quantile) and the others,
    // by index, in the order of their reports
    let mut first: Vec<usize> = (0..points.len()).collect();
    let mut later: Vec<(usize, String, PredictiveConfig, usize)> = Vec::new();
    let mut tapes: Vec<(f64, Tape)> = Vec::new();
    for (q, u) in grid {
        let mut p = policy.clone();
        p.quantile = q;
        if let crate::policy::MetricTarget::AverageValue { average_value } = &mut p.hpa.target {
            if u.is_finite() {
                *average_value = u * cap;
            }
        }
        let name = format!("policy-q{q}-u{u:.2}");
        let i = points.len();
        points.push((String::from("policy"), u, None, Some(q)));
        let recorded = tapes.iter().position(|(tq, _)| tq.to_bits() == q.to_bits());
        match recorded {
            Some(k) if share => later.push((i, name, p, k)),
            _ => {
                first.push(i);
                let auto = replay_autoscaler_with(trace, &p, model.clone())?;
                if share {
                    let tape: Tape = Arc::new(Mutex::new(Vec::new()));
                    tapes.push((q, Arc::clone(&tape)));
                    sims.push(Box::new(AutoscalerSim::recording(&name, auto, tape)));
                } else {
                    sims.push(Box::new(AutoscalerSim::new(&name, auto)));
                }
            }
        }
    }
    progress.add_total(trace.len() as u64 * points.len() as u64);
    let mut reports = run_policies(trace, sims, cfg, progress)?;
    if !later.is_empty() {
        let tapes: Vec<Arc<Vec<_>>> = tapes
            .into_iter()
            .map(|(_, t)| {
                let poisoned = || Error::data("a replay's record of decisions was poisoned");
                let inputs = match Arc::try_unwrap(t) {
                    Ok(m) => m.into_inner().map_err(|_| poisoned())?,
                    Err(t) => t.lock().map_err(|_| poisoned())?.clone(),
                };
                Ok(Arc::new(inputs))
            })
            .collect::<Result<_>>()?;
        let step = trace.step();
        let sims = later
            .iter()
            .map(|(_, name, p, k)| {
                TapeSim::new(name, p, Arc::clone(&tapes[*k]), step)
                    .map(|s| Box::new(s) as Box<dyn SimPolicy>)
            })
            .collect::<Result<Vec<_>>>()?;
        reports.extend(run_policies(trace, sims, cfg, progress)?);
    }
    if reports.len() != points.len() {
        return Err(Error::data(format!(
            "the frontier replayed {} settings of {}",
            reports.len(),
            points.len()
        )));
    }
    let mut by_point: Vec<Option<super::PolicyReport>> = vec![None; points.len()];
    let order = first.into_iter().chain(later.iter().map(|l| l.0));
    for (i, r) in order.zip(reports) {
        by_point[i] = Some(r);
    }
    let points: Vec<FrontierPoint> = points
        .into_iter()
        .zip(by_point.into_iter().flatten())
        .map(
            |((family, target, window_seconds, quantile), r)| FrontierPoint {
                family,
                target,
                window_seconds,
                quantile,
                summary: r.summary,
            },
        )
        .collect();
    let base = points
        .iter()
        .find(|p| {
            p.family == "hpa" && p.window_seconds == Some(300) && (p.target - 0.7).abs() < 1e-9
        })
        .map(|p| p.summary.clone())
        .ok_or_else(|| Error::data("the HPA at 70% with a 300 s window is missing"))?;
    let budgets = BUDGETS
        .iter()
        .map(|&b| BudgetRow {
            budget: b,
            hpa: best_within(&points, "hpa", b * base.replica_hours),
            policy: best_within(&points, "policy", b * base.replica_hours),
        })
        .collect();
    let service = SERVICE_LEVELS
        .iter()
        .map(|&s| ServiceRow {
            served: s,
            hpa: cheapest_serving(&points, "hpa", s),
            policy: cheapest_serving(&points, "policy", s),
        })
        .collect();
    Ok(FrontierReport {
        r0: base.replica_hours,
        b0: base.slo_miss_share,
        points,
        budgets,
        service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_swept_over_every_target_the_hpa_is() {
        // where the reactive path decides, the policy is an HPA without a window: comparing it
        // at a budget the HPA reaches with a target the policy's grid lacks would lose on grid
        for t in HPA_TARGETS {
            assert!(
                POLICY_REACTIVE.iter().any(|&u| (u - t).abs() < 1e-12),
                "{t} is not a reactive target of the policy sweep"
            );
        }
    }
}

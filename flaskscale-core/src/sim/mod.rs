//! The offline policy simulator: replays a load trace through scaling policies and a cluster
//! model, and reports per policy what users pay (replica-hours) and what they suffer
//! (SLO-violation minutes, dropped and delayed requests).
//!
//! A policy is anything that implements the small [`SimPolicy`] trait: it is told the load of
//! every trace step once the step has ended ([`SimPolicy::observe`]) and asked, every
//! [`SimPolicy::interval`] seconds, how many replicas it wants ([`SimPolicy::decide`]). At a
//! time `t` a policy has observed exactly the steps that ended by `t`, never more. The
//! [`reference`](mod@reference) policies (fixed fleet, oracle, reactive target tracking) are always available.
//!
//! The cluster model ([`SimConfig`], details in [`cluster`]): replicas asked for at `t` are
//! ready at `t + startup`; removals take effect at once; each ready replica serves
//! `capacity_per_replica` requests per second; demand above capacity waits in a FIFO queue
//! (bounded in length and in waiting time) and is dropped beyond it. Within a trace step the
//! demand arrives uniformly, and the queue is integrated in closed form between events.
//!
//! ```
//! use flaskscale_core::sim::{simulate, FixedFleet, Oracle, SimConfig, SimPolicy, TargetTracking};
//! use flaskscale_core::Series;
//!
//! let trace = Series::new(vec![600.0, 1200.0, 3000.0, 3000.0, 900.0, 600.0], 0.0, 60.0)?;
//! let cfg = SimConfig::new(10.0, 60.0)?; // 10 req/s per replica, 60 s startup
//! let policies: Vec<Box<dyn SimPolicy>> = vec![
//!     Box::new(FixedFleet::for_peak(&trace, 10.0, 60.0)?),
//!     Box::new(Oracle::new(&trace, 10.0, 60.0, 60.0)?),
//!     Box::new(TargetTracking::new(10.0, 0.8, 60.0, 60.0)?),
//! ];
//! let report = simulate(&trace, policies, &cfg)?;
//! let fixed = report.policy("fixed-fleet").unwrap();
//! assert_eq!(fixed.summary.violation_minutes, 0.0);
//! assert_eq!(fixed.summary.peak_replicas, 5); // 3000 requests/min = 50 req/s
//! let oracle = report.policy("oracle").unwrap();
//! assert!(oracle.summary.replica_hours <= fixed.summary.replica_hours);
//! # Ok::<(), flaskscale_core::Error>(())
//! ```
//!
//! # Adapting a policy
//! A stateful autoscaler with `observe(timestamp, value)` and `recommend(now, current)` needs
//! only a thin wrapper; a stateless rule such as the HPA's, which takes the current load with
//! each call, keeps the last observed rate itself:
//! ```
//! use flaskscale_core::sim::{SimDecision, SimPolicy};
//! use flaskscale_core::Result;
//!
//! /// Stand-in for a rule that wants the load (req/s) at each call.
//! struct Rule { per_replica: f64 }
//! impl Rule {
//!     fn recommend(&mut self, _now: f64, current: u32, load: f64) -> u32 {
//!         if load.is_nan() { current } else { (load / self.per_replica).ceil() as u32 }
//!     }
//! }
//!
//! struct RuleAdapter { rule: Rule, step: f64, interval: f64, last_rate: f64 }
//! impl SimPolicy for RuleAdapter {
//!     fn name(&self) -> String { "rule".into() }
//!     fn interval(&self) -> f64 { self.interval }
//!     fn observe(&mut self, _t: f64, requests: f64) -> Result<()> {
//!         self.last_rate = requests / self.step; // NaN stays NaN: the rule holds
//!         Ok(())
//!     }
//!     fn decide(&mut self, now: f64, current: u32) -> Result<SimDecision> {
//!         let replicas = self.rule.recommend(now, current, self.last_rate);
//!         Ok(SimDecision { replicas, forecast: None })
//!     }
//! }
//! let mut a = RuleAdapter { rule: Rule { per_replica: 10.0 }, step: 60.0, interval: 15.0, last_rate: f64::NAN };
//! a.observe(0.0, 1500.0)?;
//! assert_eq!(a.decide(60.0, 1)?.replicas, 3); // 25 req/s at 10 per replica
//! # Ok::<(), flaskscale_core::Error>(())
//! ```

pub mod adapters;
pub mod cluster;
pub mod frontier;
pub mod progress;
pub mod reference;
pub mod sweep;

pub use adapters::{
    reference_policies, replay_autoscaler, replay_autoscaler_with, replay_config, replay_model,
    AutoscalerSim, HpaSim,
};
pub use cluster::run_policy;
pub use frontier::{frontier, FrontierReport};
pub use progress::Progress;
pub use reference::{FixedFleet, Oracle, Schedule, TargetTracking};
pub use sweep::{pareto_front, sweep, sweep_configs, sweep_with_progress, SweepReport, SweepRow};

use crate::check;
use crate::error::{Error, Result};
use crate::series::Series;
use crate::time;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The HPA's target utilisation a replay compares with unless told otherwise: the one most
/// clusters run, and the frontier's R0.
pub const DEFAULT_HPA_UTILIZATION: f64 = crate::policy::DEFAULT_UTILIZATION;
/// Replicas the trace's peak rate needs when a replay is not told the capacity per replica:
/// the capacity is the peak rate over this.
pub const DEFAULT_PEAK_REPLICAS: f64 = 20.0;

/// What the simulator asks of a policy each sync interval.
///
/// Adapting a stateful autoscaler is a few lines: `observe` forwards `(t, requests)` to its
/// own `observe(timestamp, value)` (the trace step's start time and the requests counted in it;
/// `NaN` = missing), and `decide` calls its `recommend(now, current_replicas)` and returns the
/// decision's replica count (and the forecast rate it used, when it has one). A policy that
/// works on rates divides `requests` by the trace step it was built for.
pub trait SimPolicy: Send {
    /// The name the report uses for this policy (make names unique within one simulation).
    fn name(&self) -> String;
    /// Sync interval in seconds (may differ from the trace step; ticks happen every interval,
    /// the first at the trace start).
    fn interval(&self) -> f64;
    /// Called once per trace step, when the step has ended, with the step's start time `t` and
    /// the requests that arrived in it (`NaN` = missing).
    ///
    /// # Errors
    /// Whatever the policy reports; the simulation of this policy stops with it.
    fn observe(&mut self, t: f64, requests: f64) -> Result<()>;
    /// Called at each sync time; returns the desired replica count and, optionally, the
    /// forecast load (requests per second) it used. `current_replicas` is the cluster's
    /// current target (ready plus starting replicas).
    ///
    /// # Errors
    /// Whatever the policy reports; the simulation of this policy stops with it.
    fn decide(&mut self, now: f64, current_replicas: u32) -> Result<SimDecision>;
}

/// A policy's answer at one sync time.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SimDecision {
    /// Desired replica count (the simulator caps it at [`SimConfig::max_replicas`]).
    pub replicas: u32,
    /// The forecast load in requests per second behind the decision, if any (for plots).
    pub forecast: Option<f64>,
}

/// The cluster the policies drive, and what counts as an SLO violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Requests per second one ready replica serves (> 0).
    pub capacity_per_replica: f64,
    /// Seconds from asking for a replica to its being ready (>= 0).
    pub startup_seconds: f64,
    /// Seconds a removed replica is still billed (it stops taking work at once; >= 0).
    pub drain_seconds: f64,
    /// Replicas running (ready) at the trace start, before the first decision.
    pub initial_replicas: u32,
    /// When `true` (the default), the replicas asked for by a policy's first decision (at the
    /// trace start) are ready at once: every policy starts from its own steady state instead
    /// of paying a start-up transient that says nothing about it.
    pub warm_start: bool,
    /// Cap on the replica count (a quota); decisions above it are cut to it.
    pub max_replicas: u32,
    /// Most requests that can wait in the queue; `None` = unbounded.
    pub max_queue: Option<f64>,
    /// Longest a request may wait before it is dropped (time-out), seconds; `None` = no
    /// time-out. Modelled as admission control: see [`cluster`].
    pub queue_timeout_seconds: Option<f64>,
    /// A queue wait above this many seconds counts as an SLO violation (>= 0).
    pub slo_wait_seconds: f64,
}

impl SimConfig {
    /// A configuration with the given capacity and startup delay and the defaults: no drain,
    /// 1 initial replica, warm start, at most 10,000 replicas, unbounded queue length, a
    /// 30-second time-out, and an SLO wait of 1 second.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] as [`SimConfig::validate`].
    pub fn new(capacity_per_replica: f64, startup_seconds: f64) -> Result<Self> {
        let cfg = SimConfig {
            capacity_per_replica,
            startup_seconds,
            drain_seconds: 0.0,
            initial_replicas: 1,
            warm_start: true,
            max_replicas: 10_000,
            max_queue: None,
            queue_timeout_seconds: Some(30.0),
            slo_wait_seconds: 1.0,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field: capacity not finite and > 0, startup,
    /// drain or SLO wait not finite and >= 0, queue bound not finite and >= 0, time-out not
    /// finite and > 0, or an initial replica count above `max_replicas`.
    pub fn validate(&self) -> Result<()> {
        check::positive("capacity_per_replica", self.capacity_per_replica)?;
        for (name, v) in [
            ("startup_seconds", self.startup_seconds),
            ("drain_seconds", self.drain_seconds),
            ("slo_wait_seconds", self.slo_wait_seconds),
        ] {
            check::non_negative(name, v)?;
        }
        if let Some(q) = self.max_queue {
            check::non_negative("max_queue (None = unbounded)", q)?;
        }
        if let Some(t) = self.queue_timeout_seconds {
            check::positive("queue_timeout_seconds (None = no time-out)", t)?;
        }
        if self.initial_replicas > self.max_replicas {
            return Err(Error::param(format!(
                "initial_replicas ({}) must not exceed max_replicas ({})",
                self.initial_replicas, self.max_replicas
            )));
        }
        Ok(())
    }
}

/// The totals of one policy over the whole trace.
///
/// Missing trace steps (`NaN`) carry no demand: nothing arrives, the queue keeps draining, and
/// the step counts neither towards violations, nor over-provisioning, nor utilisation (the
/// demand is unknown); replicas running in it are still billed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// Requests not served within the SLO latency: dropped, or admitted to a queue that made
    /// them wait longer than [`SimConfig::slo_wait_seconds`] (the wait a request sees when it
    /// arrives: the queue ahead of it over the ready capacity then).
    pub slo_missed: f64,
    /// `slo_missed / arrived` (0 when nothing arrived): the headline measure, the share of
    /// requests users saw fail or wait too long.
    pub slo_miss_share: f64,
    /// Minutes during which ready capacity was below the demand rate, or a newly arriving
    /// request would wait longer than [`SimConfig::slo_wait_seconds`].
    pub violation_minutes: f64,
    /// Requests that arrived (known steps only).
    pub arrived: f64,
    /// Requests served.
    pub served: f64,
    /// Requests dropped (queue full, time-out, or no capacity).
    pub dropped: f64,
    /// Requests served after waiting in the queue.
    pub delayed: f64,
    /// Requests still queued at the end of the trace.
    pub queued_at_end: f64,
    /// `dropped / arrived` (0 when nothing arrived).
    pub dropped_share: f64,
    /// `delayed / arrived` (0 when nothing arrived).
    pub delayed_share: f64,
    /// Replica-hours billed: a replica is billed from the moment it is asked for until it is
    /// removed, plus the drain time.
    pub replica_hours: f64,
    /// Billed replica-hours above `ceil(demand rate / capacity)` (known steps only).
    pub over_provisioned_replica_hours: f64,
    /// Requests served divided by the requests the ready replicas could have served (known
    /// steps only; 0 when there was no capacity at all).
    pub mean_utilisation: f64,
    /// Decisions that raised the target (not counting the warm-start decision).
    pub scale_ups: u32,
    /// Decisions that lowered the target (not counting the warm-start decision).
    pub scale_downs: u32,
    /// Largest target (ready plus starting replicas); the initial count is included only
    /// without a warm start.
    pub peak_replicas: u32,
    /// Trace steps with missing demand.
    pub missing_steps: usize,
}

/// Per-step time series of one policy, for plots: index `i` is the trace step
/// `[start + i·step, start + (i+1)·step)`. `None` is missing (JSON `null`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicySeries {
    /// Demand rate, requests per second (`None` for a missing step).
    pub demand: Vec<Option<f64>>,
    /// The forecast rate of the last decision taken by the end of the step, if the policy
    /// gives one.
    pub forecast: Vec<Option<f64>>,
    /// Target replicas (ready plus starting) at the end of the step.
    pub target: Vec<u32>,
    /// Ready capacity, requests per second, averaged over the step.
    pub ready_capacity: Vec<f64>,
    /// Requests waiting at the end of the step.
    pub queue: Vec<f64>,
    /// Requests dropped in the step.
    pub dropped: Vec<f64>,
}

/// The result of one policy: its name, totals and time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// [`SimPolicy::name`].
    pub name: String,
    /// The policy's sync interval, seconds.
    pub interval: f64,
    /// Totals.
    pub summary: PolicySummary,
    /// Per-step series.
    pub series: PolicySeries,
}

/// The result of [`simulate`]: the trace grid, the configuration and one report per policy,
/// in the order the policies were given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    /// Trace start, UTC seconds.
    pub start: f64,
    /// Trace step, seconds.
    pub step: f64,
    /// The cluster model used.
    pub config: SimConfig,
    /// One report per policy.
    pub policies: Vec<PolicyReport>,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

impl PolicyReport {
    /// The time series as CSV: `timestamp,demand_rps,forecast_rps,target_replicas,
    /// ready_capacity_rps,queue,dropped` (ISO 8601 step starts; empty = missing).
    pub fn to_csv(&self, start: f64, step: f64) -> String {
        let s = &self.series;
        let mut out = String::with_capacity(64 * s.target.len() + 100);
        out.push_str(
            "timestamp,demand_rps,forecast_rps,target_replicas,ready_capacity_rps,queue,dropped\n",
        );
        for i in 0..s.target.len() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                time::format_iso8601(start + step * i as f64),
                opt(s.demand.get(i).copied().flatten()),
                opt(s.forecast.get(i).copied().flatten()),
                s.target[i],
                s.ready_capacity.get(i).copied().unwrap_or(f64::NAN),
                s.queue.get(i).copied().unwrap_or(f64::NAN),
                s.dropped.get(i).copied().unwrap_or(f64::NAN),
            ));
        }
        out
    }
}

impl SimReport {
    /// The report of the policy with this name.
    pub fn policy(&self, name: &str) -> Option<&PolicyReport> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The whole report as JSON (missing values are `null`).
    ///
    /// # Errors
    /// [`Error::InvalidData`] if serialisation fails (it does not for reports built here).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::data(format!("serialising report: {e}")))
    }

    /// The time series of every policy as one long CSV with a leading `policy` column
    /// (see [`PolicyReport::to_csv`] for the other columns).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "policy,timestamp,demand_rps,forecast_rps,target_replicas,ready_capacity_rps,queue,dropped\n",
        );
        for p in &self.policies {
            let csv = p.to_csv(self.start, self.step);
            for line in csv.lines().skip(1) {
                out.push_str(&p.name);
                out.push(',');
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// One line per policy: the totals as CSV (`policy,slo_miss_share,replica_hours,...`).
    pub fn summary_csv(&self) -> String {
        let mut out = String::from(
            "policy,slo_miss_share,slo_missed,violation_minutes,replica_hours,over_provisioned_replica_hours,mean_utilisation,\
             arrived,served,dropped,dropped_share,delayed,delayed_share,scale_ups,scale_downs,peak_replicas\n",
        );
        for p in &self.policies {
            let s = &p.summary;
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                p.name,
                s.slo_miss_share,
                s.slo_missed,
                s.violation_minutes,
                s.replica_hours,
                s.over_provisioned_replica_hours,
                s.mean_utilisation,
                s.arrived,
                s.served,
                s.dropped,
                s.dropped_share,
                s.delayed,
                s.delayed_share,
                s.scale_ups,
                s.scale_downs,
                s.peak_replicas
            ));
        }
        out
    }
}

/// Replays `trace` (requests per step) through every policy, each on its own copy of the
/// cluster, in parallel (rayon), and reports them in the order given.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad `cfg`, no policies, or a policy whose interval is
/// not finite and > 0 or would need more than 100 million decisions; any error a policy
/// returns.
pub fn simulate(
    trace: &Series,
    policies: Vec<Box<dyn SimPolicy>>,
    cfg: &SimConfig,
) -> Result<SimReport> {
    simulate_with_progress(trace, policies, cfg, &Progress::new())
}

/// [`simulate`], counting into `progress` as it goes: the total rises by the trace length
/// times the number of policies when the simulation starts, and `done` follows the replayed
/// steps (see [`progress`]). Another thread may watch or cancel it meanwhile.
///
/// # Errors
/// As [`simulate`]; [`Error::Cancelled`] once `progress` is cancelled.
pub fn simulate_with_progress(
    trace: &Series,
    policies: Vec<Box<dyn SimPolicy>>,
    cfg: &SimConfig,
    progress: &Progress,
) -> Result<SimReport> {
    cfg.validate()?;
    if policies.is_empty() {
        return Err(Error::param("simulate needs at least one policy, got none"));
    }
    progress.add_total(trace.len() as u64 * policies.len() as u64);
    let reports = run_policies(trace, policies, cfg, progress)?;
    Ok(SimReport {
        start: trace.start(),
        step: trace.step(),
        config: cfg.clone(),
        policies: reports,
    })
}

/// Each policy's replay of `trace`, in parallel, in the order given; `progress` counts the
/// replayed steps (its total is the caller's to set).
pub(crate) fn run_policies(
    trace: &Series,
    policies: Vec<Box<dyn SimPolicy>>,
    cfg: &SimConfig,
    progress: &Progress,
) -> Result<Vec<PolicyReport>> {
    policies
        .into_par_iter()
        .map(|mut p| cluster::run_policy_with(trace, p.as_mut(), cfg, Some(progress)))
        .collect()
}

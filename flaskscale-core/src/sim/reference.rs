//! Reference policies that every simulation can be compared with: the [`FixedFleet`] sized for
//! the peak (the cost ceiling), the [`Oracle`] that knows the future (the lower bound), a
//! reactive [`TargetTracking`] policy, and a [`Schedule`] that replays planned replica counts.

use super::{SimDecision, SimPolicy};
use crate::error::{Error, Result};
use crate::series::Series;

fn check_pos(name: &str, v: f64) -> Result<()> {
    crate::check::positive(name, v).map(|_| ())
}

/// Replicas needed to serve `rate` requests per second: `ceil(rate / capacity)`, saturating.
fn replicas_for(rate: f64, capacity: f64) -> u32 {
    let r = (rate / capacity).ceil();
    if r >= u32::MAX as f64 {
        u32::MAX
    } else if r > 0.0 {
        r as u32
    } else {
        0
    }
}

/// A fleet that never changes: `ceil(peak demand rate / capacity)` replicas, where the peak is
/// the largest known step of the trace divided by its step. It never runs short of capacity
/// (given a warm start) and pays for the peak all the time: the cost ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedFleet {
    replicas: u32,
    interval: f64,
}

impl FixedFleet {
    /// A fleet of `replicas`, deciding every `interval` seconds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an interval that is not finite and > 0.
    pub fn new(replicas: u32, interval: f64) -> Result<Self> {
        check_pos("interval", interval)?;
        Ok(FixedFleet { replicas, interval })
    }

    /// The fleet sized for the peak of `trace`: `ceil(max(value) / step / capacity)` (at least 1).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a capacity or interval that is not finite and > 0.
    pub fn for_peak(trace: &Series, capacity: f64, interval: f64) -> Result<Self> {
        check_pos("capacity", capacity)?;
        let peak = trace
            .values()
            .iter()
            .filter(|v| !v.is_nan())
            .fold(0.0f64, |m, &v| m.max(v));
        Self::new(replicas_for(peak / trace.step(), capacity).max(1), interval)
    }

    /// The fleet size.
    pub fn replicas(&self) -> u32 {
        self.replicas
    }
}

impl SimPolicy for FixedFleet {
    fn name(&self) -> String {
        "fixed-fleet".into()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, _requests: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, _now: f64, _current: u32) -> Result<SimDecision> {
        Ok(SimDecision {
            replicas: self.replicas,
            forecast: None,
        })
    }
}

/// A policy that knows the whole trace and the startup delay.
///
/// At a tick `now` it asks for `ceil(max demand rate over [now, now + startup + interval) /
/// capacity)`. The window starts at `now`, not at `now + startup`: in the cluster model removals
/// take effect at once while additions take `startup`, so a replica removed at `now` cannot be
/// back before `now + interval + startup`; any policy on the same tick grid that never runs
/// short must hold at least this many replicas, and the oracle holds exactly that. It is
/// therefore the cheapest policy without capacity violations (given a warm start and enough
/// `max_replicas`): the lower bound no real policy can beat. Missing steps are skipped; the
/// demand after the trace end is taken as zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Oracle {
    values: Vec<f64>,
    start: f64,
    step: f64,
    capacity: f64,
    startup: f64,
    interval: f64,
}

impl Oracle {
    /// An oracle for `trace` with this capacity per replica, startup delay and sync interval
    /// (all seconds; use the simulation's values).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a capacity or interval that is not finite and > 0, or a
    /// startup that is not finite and >= 0.
    pub fn new(trace: &Series, capacity: f64, startup: f64, interval: f64) -> Result<Self> {
        check_pos("capacity", capacity)?;
        check_pos("interval", interval)?;
        crate::check::non_negative("startup", startup)?;
        Ok(Oracle {
            values: trace.values().to_vec(),
            start: trace.start(),
            step: trace.step(),
            capacity,
            startup,
            interval,
        })
    }

    /// The peak demand rate (requests per second) over `[now, now + startup + interval)`.
    pub fn peak_rate_at(&self, now: f64) -> f64 {
        let lo = ((now - self.start) / self.step).floor().max(0.0);
        let hi = ((now + self.startup + self.interval - self.start) / self.step).ceil();
        let n = self.values.len() as f64;
        let (lo, hi) = (lo.min(n) as usize, hi.clamp(0.0, n) as usize);
        let peak = self
            .values
            .get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter(|v| !v.is_nan())
            .fold(0.0f64, |m, &v| m.max(v));
        peak / self.step
    }

    /// The replicas the oracle asks for at `now`: `ceil(peak_rate_at(now) / capacity)`.
    pub fn need_at(&self, now: f64) -> u32 {
        replicas_for(self.peak_rate_at(now), self.capacity)
    }
}

impl SimPolicy for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, _requests: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, now: f64, _current: u32) -> Result<SimDecision> {
        let peak = self.peak_rate_at(now);
        Ok(SimDecision {
            replicas: replicas_for(peak, self.capacity),
            forecast: Some(peak),
        })
    }
}

/// Reactive target tracking: `replicas = ceil(last observed rate / (capacity × target
/// utilisation))`, at least `min_replicas` (1 by default). With nothing observed yet, or a
/// missing last step, it holds the current count. For tests and as a plain reactive baseline;
/// the exact Kubernetes HPA lives in the policy module.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTracking {
    capacity: f64,
    target_utilisation: f64,
    step: f64,
    interval: f64,
    /// Lower bound on the replicas asked for.
    pub min_replicas: u32,
    last_rate: f64,
}

impl TargetTracking {
    /// A policy for a trace of step `step_seconds`, deciding every `interval` seconds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a capacity, step or interval that is not finite and > 0,
    /// or a target utilisation outside (0, 1].
    pub fn new(
        capacity: f64,
        target_utilisation: f64,
        step_seconds: f64,
        interval: f64,
    ) -> Result<Self> {
        check_pos("capacity", capacity)?;
        check_pos("step_seconds", step_seconds)?;
        check_pos("interval", interval)?;
        if !(target_utilisation > 0.0 && target_utilisation <= 1.0) {
            return Err(Error::param(format!(
                "target utilisation must be in (0, 1], got {target_utilisation}"
            )));
        }
        Ok(TargetTracking {
            capacity,
            target_utilisation,
            step: step_seconds,
            interval,
            min_replicas: 1,
            last_rate: f64::NAN,
        })
    }
}

impl SimPolicy for TargetTracking {
    fn name(&self) -> String {
        "reactive".into()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, requests: f64) -> Result<()> {
        self.last_rate = requests / self.step;
        Ok(())
    }
    fn decide(&mut self, _now: f64, current: u32) -> Result<SimDecision> {
        if self.last_rate.is_nan() {
            return Ok(SimDecision {
                replicas: current.max(self.min_replicas),
                forecast: None,
            });
        }
        let r = replicas_for(self.last_rate, self.capacity * self.target_utilisation);
        Ok(SimDecision {
            replicas: r.max(self.min_replicas),
            forecast: Some(self.last_rate),
        })
    }
}

/// Planned replica counts replayed as they are: at each tick, the count of the plan step that
/// holds `now`. For a capacity plan, the replica counts a production cluster actually ran
/// (`kube_deployment_spec_replicas`), or a bound computed outside the simulator. Before the
/// plan starts, and on a missing step, the current count is held; after its end, its last
/// count stays.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    name: String,
    replicas: Vec<f64>,
    start: f64,
    step: f64,
    interval: f64,
}

impl Schedule {
    /// A schedule named `name` from `plan` (replicas per step, `NaN` = hold), deciding every
    /// `interval` seconds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an interval that is not finite and > 0;
    /// [`Error::InvalidData`] for a count that is negative, not a whole number or above
    /// `u32::MAX`, naming its step.
    pub fn new(name: &str, plan: &Series, interval: f64) -> Result<Self> {
        check_pos("interval", interval)?;
        let whole = |v: f64| v.is_nan() || (v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64);
        if let Some((i, v)) = plan.values().iter().enumerate().find(|(_, v)| !whole(**v)) {
            return Err(Error::data(format!(
                "a schedule holds whole replica counts >= 0 (NaN = hold), got {v} at step {i}"
            )));
        }
        Ok(Schedule {
            name: name.to_string(),
            replicas: plan.values().to_vec(),
            start: plan.start(),
            step: plan.step(),
            interval,
        })
    }

    /// The planned count at `now`, `None` where the current count is held.
    pub fn planned_at(&self, now: f64) -> Option<u32> {
        let k = ((now - self.start) / self.step).floor();
        if k.is_nan() || k < 0.0 {
            return None;
        }
        let k = (k as usize).min(self.replicas.len().checked_sub(1)?);
        let v = self.replicas[k];
        (!v.is_nan()).then_some(v as u32)
    }
}

impl SimPolicy for Schedule {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, _requests: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, now: f64, current: u32) -> Result<SimDecision> {
        Ok(SimDecision {
            replicas: self.planned_at(now).unwrap_or(current),
            forecast: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_window_covers_now_to_startup_plus_interval() {
        // steps of 60 s; rates 1, 2, 9, 3, 1 req/s (values × 60)
        let s = Series::new(vec![60.0, 120.0, 540.0, 180.0, 60.0], 0.0, 60.0).unwrap();
        let o = Oracle::new(&s, 1.0, 60.0, 60.0).unwrap();
        assert_eq!(o.need_at(0.0), 2); // steps 0, 1
        assert_eq!(o.need_at(60.0), 9); // steps 1, 2
        assert_eq!(o.need_at(180.0), 3); // steps 3, 4
        assert_eq!(o.need_at(240.0), 1); // step 4, then beyond the end
        assert_eq!(o.need_at(30.0), 9); // [30, 150) touches steps 0..=2
    }

    #[test]
    fn target_tracking_rounds_up_and_holds_on_gaps() {
        let mut p = TargetTracking::new(10.0, 0.5, 60.0, 60.0).unwrap();
        assert_eq!(p.decide(0.0, 3).unwrap().replicas, 3);
        p.observe(0.0, 60.0 * 11.0).unwrap(); // 11 req/s / 5 = 2.2 → 3
        assert_eq!(p.decide(60.0, 1).unwrap().replicas, 3);
        p.observe(60.0, f64::NAN).unwrap();
        assert_eq!(p.decide(120.0, 4).unwrap().replicas, 4);
        assert!(TargetTracking::new(10.0, 0.0, 60.0, 60.0).is_err());
    }

    #[test]
    fn schedule_holds_before_on_gaps_and_after_the_end() {
        let plan = Series::new(vec![2.0, f64::NAN, 5.0], 60.0, 60.0).unwrap();
        let mut s = Schedule::new("plan", &plan, 15.0).unwrap();
        assert_eq!(s.decide(0.0, 3).unwrap().replicas, 3); // before the plan
        assert_eq!(s.decide(60.0, 3).unwrap().replicas, 2);
        assert_eq!(s.decide(119.0, 3).unwrap().replicas, 2);
        assert_eq!(s.decide(120.0, 7).unwrap().replicas, 7); // missing: held
        assert_eq!(s.decide(180.0, 1).unwrap().replicas, 5);
        assert_eq!(s.decide(10_000.0, 1).unwrap().replicas, 5); // after the end
        for bad in [2.5, 1e10] {
            let p = Series::new(vec![1.0, bad], 0.0, 60.0).unwrap();
            let e = Schedule::new("p", &p, 15.0).unwrap_err().to_string();
            assert!(e.contains("step 1"), "{e}");
        }
        assert!(Schedule::new("p", &plan, 0.0).is_err());
    }
}

//! The cluster model and the replay loop.
//!
//! **Replicas.** The cluster keeps a target (ready plus starting replicas). A decision above the
//! target asks for the difference, ready `startup_seconds` later; a decision below it first
//! cancels the starting replicas asked for last, then removes ready ones at once (they stop
//! taking work immediately and stay billed for `drain_seconds`). The count passed to
//! [`SimPolicy::decide`] is the target.
//!
//! **Demand and queue (a fluid FIFO model, exact between events).** A trace step's requests
//! arrive at the constant rate `λ = requests / step`. Between two events (step boundaries,
//! sync ticks, replicas becoming ready, drains ending) the ready capacity `c = ready ×
//! capacity_per_replica` is constant, so the queue `Q` is integrated in closed form:
//! - `λ > c`: `Q` grows at `λ − c` up to the bound `B`, after which the excess is dropped;
//!   the whole interval is a violation (capacity short of demand);
//! - `λ ≤ c`: `Q` drains at `c − λ` to zero; the interval is a violation while a newly arriving
//!   request would wait `Q / c` longer than the SLO wait, i.e. for
//!   `min(dt, (Q − c·slo_wait) / (c − λ))`.
//!
//! The bound is `B = min(max_queue, c × queue_timeout)`: a request is admitted only if it will
//! be served within the time-out at the current capacity (time-outs as admission control).
//! When capacity falls, requests beyond the new bound are dropped at once. With no ready
//! replica and a time-out, `B = 0` and every request is dropped. A request is *delayed* when it
//! is served but did not arrive to an empty queue with spare capacity.
//!
//! Comparisons of `λ` with `c` allow a relative slack of 1e-12 so that a capacity computed as
//! `ceil(λ / capacity) × capacity` never counts as short by rounding.

use super::progress::BLOCK;
use super::{PolicyReport, PolicySeries, PolicySummary, Progress, SimConfig, SimPolicy};
use crate::error::{Error, Result};
use crate::series::Series;
use std::collections::VecDeque;

/// Totals accumulated while the cluster runs.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    arrived: f64,
    served: f64,
    served_at_once: f64,
    dropped: f64,
    /// Requests admitted to a queue that made them wait longer than the SLO wait.
    late: f64,
    violation_seconds: f64,
    replica_seconds: f64,
    over_seconds: f64,
    capacity_requests: f64,
    served_known: f64,
}

/// One cluster's state: ready replicas, starting ones, draining ones, and the queue.
#[derive(Debug, Clone)]
struct Cluster {
    cap: f64,
    startup: f64,
    drain: f64,
    max_queue: f64,
    timeout: f64,
    slo_wait: f64,
    ready: u32,
    /// Batches of starting replicas `(ready time, count)`, times non-decreasing (startup is
    /// constant); `n_pending` is the sum of the counts.
    pending: VecDeque<(f64, u32)>,
    n_pending: u32,
    /// Batches of draining replicas `(end time, count)`, times non-decreasing.
    draining: VecDeque<(f64, u32)>,
    n_draining: u64,
    queue: f64,
    /// Ready capacity (requests/s) during the last interval run, to tell which evicted
    /// requests had already been counted late.
    last_capacity: f64,
    t: Totals,
}

impl Cluster {
    fn new(cfg: &SimConfig) -> Self {
        Cluster {
            cap: cfg.capacity_per_replica,
            startup: cfg.startup_seconds,
            drain: cfg.drain_seconds,
            max_queue: cfg.max_queue.unwrap_or(f64::INFINITY),
            timeout: cfg.queue_timeout_seconds.unwrap_or(f64::INFINITY),
            slo_wait: cfg.slo_wait_seconds,
            ready: cfg.initial_replicas,
            pending: VecDeque::new(),
            n_pending: 0,
            draining: VecDeque::new(),
            n_draining: 0,
            queue: 0.0,
            last_capacity: cfg.initial_replicas as f64 * cfg.capacity_per_replica,
            t: Totals::default(),
        }
    }

    fn target(&self) -> u32 {
        self.ready + self.n_pending
    }

    fn billed(&self) -> u64 {
        self.ready as u64 + self.n_pending as u64 + self.n_draining
    }

    /// Sets the target to `n` at time `now`; `instant` makes added replicas ready at once.
    fn set_target(&mut self, n: u32, now: f64, instant: bool) {
        let cur = self.target();
        if n > cur {
            if instant {
                self.ready += n - cur;
            } else {
                self.pending.push_back((now + self.startup, n - cur));
                self.n_pending += n - cur;
            }
        } else {
            let mut remove = cur - n;
            // cancel the replicas asked for last first
            while remove > 0 {
                let Some(last) = self.pending.back_mut() else {
                    break;
                };
                let k = last.1.min(remove);
                last.1 -= k;
                self.n_pending -= k;
                remove -= k;
                if last.1 == 0 {
                    self.pending.pop_back();
                }
            }
            self.ready -= remove;
            if self.drain > 0.0 && remove > 0 {
                self.draining.push_back((now + self.drain, remove));
                self.n_draining += remove as u64;
            }
        }
    }

    /// Replicas becoming ready and drains ending at or before `now`.
    fn apply_due(&mut self, now: f64) {
        while let Some(&(_, k)) = self.pending.front().filter(|b| b.0 <= now) {
            self.pending.pop_front();
            self.n_pending -= k;
            self.ready += k;
        }
        while let Some(&(_, k)) = self.draining.front().filter(|b| b.0 <= now) {
            self.draining.pop_front();
            self.n_draining -= k as u64;
        }
    }

    /// The earliest replica event (ready or drain end).
    fn next_event(&self) -> f64 {
        let a = self.pending.front().map_or(f64::INFINITY, |b| b.0);
        let b = self.draining.front().map_or(f64::INFINITY, |b| b.0);
        a.min(b)
    }

    /// Runs the cluster for `dt` seconds at arrival rate `lam`; `known` = demand is known.
    /// Returns the requests dropped.
    fn advance(&mut self, dt: f64, lam: f64, known: bool) -> f64 {
        if dt <= 0.0 {
            return 0.0;
        }
        let c = self.ready as f64 * self.cap;
        let bound = self.max_queue.min(if c > 0.0 {
            c * self.timeout
        } else if self.timeout.is_finite() {
            0.0
        } else {
            f64::INFINITY
        });
        let mut dropped = 0.0;
        let mut late = 0.0;
        let thr = c * self.slo_wait;
        if self.queue > bound {
            // the requests evicted are the queue's tail; those past the SLO depth of the
            // capacity they arrived at were counted late then and now count as dropped only
            let counted = self.queue - bound.max(self.last_capacity * self.slo_wait);
            late -= counted.max(0.0);
            dropped += self.queue - bound;
            self.queue = bound;
        }
        self.last_capacity = c;
        let arrivals = lam * dt;
        let slack = 1e-12 * c.max(lam);
        let mut violated = 0.0;
        let served;
        if lam > c + slack {
            let net = lam - c;
            let room = bound - self.queue;
            // the queue rises at `net` and reaches the bound at `t_full`; a request arriving
            // while it is above `thr` waits longer than the SLO (all of them when c = 0)
            let t_full = if room >= net * dt { dt } else { room / net };
            let t_late = ((thr - self.queue) / net).max(0.0);
            late += lam * (t_full - t_late).max(0.0);
            if t_full < dt && bound > thr {
                // at the bound, arrivals are admitted at the service rate and wait bound / c
                late += c * (dt - t_full);
            }
            if room >= net * dt {
                self.queue += net * dt;
            } else {
                self.queue = bound;
                dropped += net * dt - room;
            }
            served = c * dt;
            violated = dt;
        } else {
            let r = (c - lam).max(0.0);
            if self.queue > 0.0 {
                let td = if r > 0.0 {
                    self.queue / r
                } else {
                    f64::INFINITY
                };
                // violation while Q / c > slo_wait, i.e. Q > c·slo_wait
                if self.queue > thr || c == 0.0 {
                    violated = if r > 0.0 {
                        ((self.queue - thr) / r).min(dt)
                    } else {
                        dt
                    };
                    // every request arriving meanwhile waits longer than the SLO
                    late += lam * violated;
                }
                if td >= dt {
                    self.queue -= r * dt;
                    served = c * dt;
                } else {
                    served = lam * dt + self.queue;
                    self.queue = 0.0;
                    self.t.served_at_once += lam * (dt - td);
                }
            } else {
                served = arrivals;
                self.t.served_at_once += arrivals;
            }
        }
        let billed = self.billed() as f64;
        let t = &mut self.t;
        t.served += served;
        t.dropped += dropped;
        t.late += late;
        t.replica_seconds += billed * dt;
        if known {
            t.arrived += arrivals;
            t.violation_seconds += violated;
            let need = (lam / self.cap - 1e-12).ceil().max(0.0);
            t.over_seconds += (billed - need).max(0.0) * dt;
            t.capacity_requests += c * dt;
            t.served_known += served;
        }
        dropped
    }
}

/// Replays `trace` through one policy on a fresh cluster; [`super::simulate`] calls it for
/// each policy in parallel.
///
/// Order of events at one instant: the step that ends there is observed, then replicas due
/// become ready (and drains end), then the policy decides. Ticks fall at
/// `start + k × interval`.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad `cfg` or a policy interval that is not finite and > 0
/// or needs more than 100 million ticks; any error the policy returns.
pub fn run_policy(
    trace: &Series,
    policy: &mut dyn SimPolicy,
    cfg: &SimConfig,
) -> Result<PolicyReport> {
    run_policy_with(trace, policy, cfg, None)
}

/// [`run_policy`], counting the replayed trace steps into `progress` (whose total the caller
/// has already raised) and stopping with [`Error::Cancelled`] once it is cancelled.
pub(crate) fn run_policy_with(
    trace: &Series,
    policy: &mut dyn SimPolicy,
    cfg: &SimConfig,
    progress: Option<&Progress>,
) -> Result<PolicyReport> {
    cfg.validate()?;
    let name = policy.name();
    let interval = policy.interval();
    if !(interval.is_finite() && interval > 0.0) {
        return Err(Error::param(format!(
            "policy {name:?}: interval must be finite and > 0 seconds, got {interval}"
        )));
    }
    let (start, step) = (trace.start(), trace.step());
    let span = trace.end() - start;
    if span / interval > 1e8 {
        return Err(Error::param(format!(
            "policy {name:?}: interval {interval} s needs more than 100 million decisions over {span} s"
        )));
    }
    let n = trace.len();
    let mut cl = Cluster::new(cfg);
    let mut series = PolicySeries {
        demand: Vec::with_capacity(n),
        forecast: Vec::with_capacity(n),
        target: Vec::with_capacity(n),
        ready_capacity: Vec::with_capacity(n),
        queue: Vec::with_capacity(n),
        dropped: Vec::with_capacity(n),
    };
    // with a warm start the initial count is replaced at once by the first decision
    let initial_peak = if cfg.warm_start { 0 } else { cl.target() };
    let (mut ups, mut downs, mut peak) = (0u32, 0u32, initial_peak);
    let mut forecast: Option<f64> = None;
    let mut tick: u64 = 0;
    let mut next_tick = start;
    for (i, &v) in trace.values().iter().enumerate() {
        let a = start + step * i as f64;
        let b = start + step * (i + 1) as f64;
        let known = !v.is_nan();
        let lam = if known { v / step } else { 0.0 };
        let mut now = a;
        let mut cap_seconds = 0.0;
        let mut dropped = 0.0;
        loop {
            cl.apply_due(now);
            if next_tick <= now {
                let d = policy.decide(now, cl.target())?;
                let want = d.replicas.min(cfg.max_replicas);
                let cur = cl.target();
                let warm = cfg.warm_start && tick == 0;
                // the warm start sets the starting fleet: not a scaling action
                if want > cur && !warm {
                    ups += 1;
                } else if want < cur && !warm {
                    downs += 1;
                }
                cl.set_target(want, now, warm);
                peak = peak.max(want);
                forecast = d.forecast.filter(|f| f.is_finite());
                tick += 1;
                next_tick = start + interval * tick as f64;
            }
            let until = b.min(next_tick).min(cl.next_event());
            let dt = until - now;
            cap_seconds += cl.ready as f64 * cl.cap * dt.max(0.0);
            dropped += cl.advance(dt, lam, known);
            now = until;
            if now >= b {
                break;
            }
        }
        series.demand.push(known.then_some(lam));
        series.forecast.push(forecast);
        series.target.push(cl.target());
        series.ready_capacity.push(cap_seconds / step);
        series.queue.push(cl.queue);
        series.dropped.push(dropped);
        policy.observe(a, v)?;
        if let Some(p) = progress {
            if (i + 1) % BLOCK == 0 {
                p.advance(BLOCK as u64);
                if p.is_cancelled() {
                    return Err(Error::Cancelled(format!(
                        "policy {name:?} stopped after {} of {n} trace steps",
                        i + 1
                    )));
                }
            }
        }
    }
    if let Some(p) = progress {
        p.advance((n % BLOCK) as u64);
    }
    let t = cl.t;
    let share = |x: f64| if t.arrived > 0.0 { x / t.arrived } else { 0.0 };
    let delayed = (t.served - t.served_at_once).max(0.0);
    let slo_missed = (t.dropped + t.late).clamp(0.0, t.arrived.max(0.0));
    let summary = PolicySummary {
        slo_missed,
        slo_miss_share: share(slo_missed),
        violation_minutes: t.violation_seconds / 60.0,
        arrived: t.arrived,
        served: t.served,
        dropped: t.dropped,
        delayed,
        queued_at_end: cl.queue,
        dropped_share: share(t.dropped),
        delayed_share: share(delayed),
        replica_hours: t.replica_seconds / 3600.0,
        over_provisioned_replica_hours: t.over_seconds / 3600.0,
        mean_utilisation: if t.capacity_requests > 0.0 {
            t.served_known / t.capacity_requests
        } else {
            0.0
        },
        scale_ups: ups,
        scale_downs: downs,
        peak_replicas: peak,
        missing_steps: trace.missing(),
    };
    Ok(PolicyReport {
        name,
        interval,
        summary,
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SimConfig {
        let mut c = SimConfig::new(10.0, 30.0).unwrap();
        c.queue_timeout_seconds = None;
        c
    }

    #[test]
    fn queue_grows_then_drains_in_closed_form() {
        let mut cl = Cluster::new(&cfg()); // 1 replica = 10 req/s
        cl.advance(10.0, 15.0, true); // +5/s for 10 s
        assert!((cl.queue - 50.0).abs() < 1e-12);
        assert!((cl.t.violation_seconds - 10.0).abs() < 1e-12);
        // drains at 5/s: empty after 10 s; wait 50/10 = 5 s > 1 s until Q = 10, i.e. 8 s
        cl.advance(20.0, 5.0, true);
        assert_eq!(cl.queue, 0.0);
        assert!((cl.t.violation_seconds - 18.0).abs() < 1e-12);
        assert!((cl.t.served - (100.0 + 150.0)).abs() < 1e-9);
        assert!((cl.t.served_at_once - 50.0).abs() < 1e-9); // the last 10 s at 5/s
                                                            // a request arriving at t of the first 10 s waits 5t / 10 s: late after t = 2 s
                                                            // (15/s × 8 s); in the drain it waits (50 - 5s) / 10 s: late for s < 8 (5/s × 8 s)
        assert!((cl.t.late - (120.0 + 40.0)).abs() < 1e-9);
    }

    #[test]
    fn late_requests_at_the_bound_and_evicted_ones_count_once() {
        let mut c = cfg();
        c.queue_timeout_seconds = Some(3.0);
        let mut cl = Cluster::new(&c); // 10 req/s, bound 30 requests, SLO depth 10
        let d = cl.advance(20.0, 20.0, true);
        // +10/s: past the SLO depth after 1 s, full after 3 s
        // late: 20/s over [1, 3) = 40, then admitted at 10/s while full for 17 s = 170
        assert!((cl.t.late - 210.0).abs() < 1e-9, "{}", cl.t.late);
        assert!((d - 170.0).abs() < 1e-9);
        // capacity falls to 0 (timeout: bound 0): the 30 queued are dropped; the 20 of them
        // past depth 10 were late already and now count once, as dropped
        cl.set_target(0, 20.0, false);
        let d = cl.advance(1.0, 0.0, true);
        assert!((d - 30.0).abs() < 1e-9);
        assert!((cl.t.late - 190.0).abs() < 1e-9, "{}", cl.t.late);
    }

    #[test]
    fn bound_drops_excess_and_capacity_loss_evicts() {
        let mut c = cfg();
        c.max_queue = Some(20.0);
        c.initial_replicas = 2;
        let mut cl = Cluster::new(&c);
        let d = cl.advance(10.0, 25.0, true); // +5/s: full after 4 s, 30 dropped
        assert!((d - 30.0).abs() < 1e-12 && (cl.queue - 20.0).abs() < 1e-12);
        c.queue_timeout_seconds = Some(1.0);
        let mut cl = Cluster::new(&c);
        cl.queue = 20.0;
        cl.set_target(1, 0.0, false); // bound = 10 req/s × 1 s = 10
        let d = cl.advance(1.0, 0.0, true);
        assert!((d - 10.0).abs() < 1e-12);
    }

    #[test]
    fn set_target_cancels_starting_replicas_first() {
        let mut cl = Cluster::new(&cfg());
        cl.set_target(4, 0.0, false);
        assert_eq!((cl.ready, cl.n_pending), (1, 3));
        cl.set_target(2, 5.0, false);
        assert_eq!((cl.ready, cl.n_pending), (1, 1));
        cl.apply_due(30.0);
        assert_eq!(cl.ready, 2);
        cl.set_target(6, 40.0, false);
        cl.set_target(7, 50.0, false);
        cl.set_target(5, 60.0, false); // cancels the batch of 50 s and 1 of the batch of 40 s
        assert_eq!(cl.pending, VecDeque::from([(70.0, 3)]));
        cl.set_target(0, 61.0, false);
        assert_eq!((cl.target(), cl.billed()), (0, 0));
        // a huge request costs one batch, not one entry per replica
        cl.set_target(u32::MAX, 62.0, false);
        assert_eq!((cl.pending.len(), cl.target()), (1, u32::MAX));
    }
}

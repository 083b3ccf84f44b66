//! The simulator and the traffic generator: a hand-worked scenario, invariants under proptest,
//! the NASA trace through the reference policies, sweeps, and the committed dataset.

use crate::common::{close, trace, NASA};
use flaskscale_core::sim::{
    pareto_front, run_policy, simulate, simulate_with_progress, sweep_configs, FixedFleet, Oracle,
    Progress, Schedule, SimConfig, SimDecision, SimPolicy, SimReport, TargetTracking,
};
use flaskscale_core::traffic::{generate, shop_two_weeks_spec};
use flaskscale_core::{Error, Result, Series};
use proptest::prelude::*;
use std::sync::Arc;

/// A policy that returns a fixed schedule of replica counts, one per tick (the last repeats).
struct Scripted {
    name: String,
    interval: f64,
    plan: Vec<u32>,
    k: usize,
}

impl Scripted {
    fn new(name: &str, interval: f64, plan: Vec<u32>) -> Self {
        Scripted {
            name: name.into(),
            interval,
            plan,
            k: 0,
        }
    }
}

impl SimPolicy for Scripted {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, _t: f64, _r: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, _now: f64, _c: u32) -> Result<SimDecision> {
        let r = self
            .plan
            .get(self.k)
            .or(self.plan.last())
            .copied()
            .unwrap_or(0);
        self.k += 1;
        Ok(SimDecision {
            replicas: r,
            forecast: None,
        })
    }
}

/// The oracle plus `extra` replicas, or shifted `late` ticks behind (a policy that reacts late).
struct Variant {
    oracle: Oracle,
    extra: u32,
    late: f64,
    name: String,
}

impl SimPolicy for Variant {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval(&self) -> f64 {
        self.oracle.interval()
    }
    fn observe(&mut self, _t: f64, _r: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, now: f64, _c: u32) -> Result<SimDecision> {
        Ok(SimDecision {
            replicas: self.oracle.need_at(now - self.late) + self.extra,
            forecast: None,
        })
    }
}

/// Hand-worked five steps. Step 60 s; demand 300, 1200, 1800, 600, 0 requests per step, i.e.
/// 5, 20, 30, 10, 0 req/s; 10 req/s per replica; startup 60 s; no warm start, 1 initial replica;
/// queue bound 500 requests, no time-out, SLO wait 1 s. Decisions at 0, 60, 120, 180, 240 s:
/// 1, 3, 4, 4, 1.
///
/// - step 0 [0, 60): 1 ready (10/s) ≥ 5/s: 300 served at once.
/// - step 1 [60, 120): asked for 3 at 60 (2 start, ready at 120), still 10/s for 20/s: the queue
///   grows at 10/s and is full (500) after 50 s; the last 10 s drop 10 × 10 = 100. Served 600.
///   Violation 60 s (capacity short).
/// - step 2 [120, 180): 3 ready (30/s) = demand 30/s; asked for 4 at 120 (ready at 180). The
///   queue stays at 500: a new request waits 500 / 30 = 16.7 s > 1 s, violation 60 s.
///   Served 1800 (all of it after waiting).
/// - step 3 [180, 240): 4 ready (40/s), demand 10/s: the queue drains at 30/s, empty after
///   500 / 30 = 16.67 s; the wait exceeds 1 s while Q > 40, i.e. for (500 − 40) / 30 = 15.33 s.
///   Served 600 + 500 = 1100, of which 10 × (60 − 16.67) = 433.33 arrived to an empty queue.
/// - step 4 [240, 300): asked for 1 at 240: 3 removed at once; no demand.
///
/// Totals: arrived 3900 = served 3800 + dropped 100; delayed 3800 − 300 − 433.33 = 3066.67;
/// violations 135.33 s; billed replica-seconds 60 + 3·60 + 4·60 + 4·60 + 60 = 780 (0.21667 h);
/// over-provisioning (billed − ceil(rate/10)) 0 + 60 + 60 + 180 + 60 = 360 s (0.1 h);
/// utilisation 3800 / (600 + 600 + 1800 + 2400 + 600) = 0.63333; 2 scale-ups, 1 scale-down.
/// With a 30 s drain the three removed at 240 are billed 90 s more: 870 s.
#[test]
fn hand_computed_five_steps() {
    let trace = Series::new(vec![300.0, 1200.0, 1800.0, 600.0, 0.0], 0.0, 60.0).unwrap();
    let mut cfg = SimConfig::new(10.0, 60.0).unwrap();
    cfg.warm_start = false;
    cfg.initial_replicas = 1;
    cfg.max_queue = Some(500.0);
    cfg.queue_timeout_seconds = None;
    cfg.slo_wait_seconds = 1.0;
    let mut p = Scripted::new("script", 60.0, vec![1, 3, 4, 4, 1]);
    let r = run_policy(&trace, &mut p, &cfg).unwrap();
    let s = &r.summary;
    close(s.arrived, 3900.0, 1e-9);
    close(s.served, 3800.0, 1e-9);
    close(s.dropped, 100.0, 1e-9);
    close(s.queued_at_end, 0.0, 1e-9);
    close(
        s.delayed,
        3800.0 - 300.0 - 10.0 * (60.0 - 500.0 / 30.0),
        1e-9,
    );
    close(s.violation_minutes * 60.0, 120.0 + 460.0 / 30.0, 1e-9);
    close(s.replica_hours * 3600.0, 780.0, 1e-9);
    close(s.over_provisioned_replica_hours * 3600.0, 360.0, 1e-9);
    close(s.mean_utilisation, 3800.0 / 6000.0, 1e-12);
    assert_eq!((s.scale_ups, s.scale_downs, s.peak_replicas), (2, 1, 4));
    assert_eq!(r.series.target, vec![1, 3, 4, 4, 1]);
    assert_eq!(r.series.ready_capacity, vec![10.0, 10.0, 30.0, 40.0, 10.0]);
    assert_eq!(r.series.queue, vec![0.0, 500.0, 500.0, 0.0, 0.0]);
    assert_eq!(r.series.dropped, vec![0.0, 100.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        r.series.demand,
        vec![Some(5.0), Some(20.0), Some(30.0), Some(10.0), Some(0.0)]
    );

    cfg.drain_seconds = 30.0;
    let mut p = Scripted::new("script", 60.0, vec![1, 3, 4, 4, 1]);
    let r = run_policy(&trace, &mut p, &cfg).unwrap();
    close(r.summary.replica_hours * 3600.0, 870.0, 1e-9);
}

/// Time-outs as admission control, worked by hand: 1 replica (10 req/s), a 5 s time-out, so at
/// most 10 × 5 = 50 requests wait. Step 0 brings 20 req/s: the queue is full after 50 / 10 = 5 s,
/// then 10 req/s are dropped for 55 s (550); 600 served; violation 60 s. Step 1 brings nothing:
/// the 50 drain in 5 s, the wait exceeds 1 s while Q > 10, i.e. 4 s. Totals: arrived 1200,
/// served 650, dropped 550, violations 64 s.
#[test]
fn hand_computed_time_out() {
    let trace = Series::new(vec![1200.0, 0.0], 0.0, 60.0).unwrap();
    let mut cfg = SimConfig::new(10.0, 60.0).unwrap();
    cfg.queue_timeout_seconds = Some(5.0);
    let mut p = Scripted::new("one", 60.0, vec![1]);
    let s = run_policy(&trace, &mut p, &cfg).unwrap().summary;
    close(s.arrived, 1200.0, 1e-9);
    close(s.served, 650.0, 1e-9);
    close(s.dropped, 550.0, 1e-9);
    close(s.dropped_share, 550.0 / 1200.0, 1e-12);
    close(s.delayed, 650.0, 1e-9); // nothing arrived to an empty queue with spare capacity
    close(s.violation_minutes * 60.0, 64.0, 1e-9);
}

/// A policy that checks causality: at each decision it has observed exactly the steps that
/// ended by then.
struct Spy {
    interval: f64,
    start: f64,
    step: f64,
    seen: usize,
    decisions: usize,
}

impl SimPolicy for Spy {
    fn name(&self) -> String {
        "spy".into()
    }
    fn interval(&self) -> f64 {
        self.interval
    }
    fn observe(&mut self, t: f64, _r: f64) -> Result<()> {
        assert_eq!(
            t,
            self.start + self.step * self.seen as f64,
            "steps in order"
        );
        self.seen += 1;
        Ok(())
    }
    fn decide(&mut self, now: f64, _c: u32) -> Result<SimDecision> {
        let ended = ((now - self.start) / self.step + 1e-9).floor() as usize;
        assert_eq!(self.seen, ended, "at {now} saw {} steps", self.seen);
        self.decisions += 1;
        Ok(SimDecision {
            replicas: 2,
            forecast: None,
        })
    }
}

#[test]
fn policies_see_only_steps_that_ended_and_tick_at_their_interval() {
    let trace = Series::new(vec![10.0; 10], 1000.0, 60.0).unwrap();
    let cfg = SimConfig::new(1.0, 30.0).unwrap();
    for (interval, ticks) in [(60.0, 10), (90.0, 7), (15.0, 40), (600.0, 1)] {
        let mut spy = Spy {
            interval,
            start: 1000.0,
            step: 60.0,
            seen: 0,
            decisions: 0,
        };
        run_policy(&trace, &mut spy, &cfg).unwrap();
        assert_eq!(spy.decisions, ticks, "interval {interval}");
        assert_eq!(spy.seen, 10);
    }
}

#[test]
fn simulate_in_parallel_equals_one_by_one_and_serialises() {
    let trace = generate(&{
        let mut s = shop_two_weeks_spec();
        s.len = 2 * 1440;
        s
    })
    .unwrap();
    let cfg = SimConfig::new(2.0, 120.0).unwrap();
    let make = || -> Vec<Box<dyn SimPolicy>> {
        vec![
            Box::new(FixedFleet::for_peak(&trace, 2.0, 60.0).unwrap()),
            Box::new(Oracle::new(&trace, 2.0, 120.0, 60.0).unwrap()),
            Box::new(TargetTracking::new(2.0, 0.7, 60.0, 60.0).unwrap()),
        ]
    };
    let rep = simulate(&trace, make(), &cfg).unwrap();
    for (mut p, r) in make().into_iter().zip(&rep.policies) {
        assert!(
            &run_policy(&trace, p.as_mut(), &cfg).unwrap() == r,
            "{}",
            r.name
        );
    }
    let names: Vec<&str> = rep.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["fixed-fleet", "oracle", "reactive"]);
    // JSON round trip, CSV shape, per-step drops add up to the total
    let back: SimReport = serde_json::from_str(&rep.to_json().unwrap()).unwrap();
    // (serde_json parses floats to within an ulp, so compare with a tolerance)
    assert_eq!(back.policies.len(), 3);
    for (b, r) in back.policies.iter().zip(&rep.policies) {
        assert_eq!(b.name, r.name);
        assert_eq!(b.series.target, r.series.target);
        close(b.summary.replica_hours, r.summary.replica_hours, 1e-9);
        close(
            b.summary.violation_minutes,
            r.summary.violation_minutes,
            1e-9,
        );
        for (x, y) in b.series.demand.iter().zip(&r.series.demand) {
            close(x.unwrap_or(-1.0), y.unwrap_or(-1.0), 1e-12);
        }
    }
    assert_eq!(rep.to_csv().lines().count(), 1 + 3 * trace.len());
    assert_eq!(rep.summary_csv().lines().count(), 4);
    for p in &rep.policies {
        close(
            p.series.dropped.iter().sum::<f64>(),
            p.summary.dropped,
            1e-6,
        );
        assert_eq!(p.series.target.len(), trace.len());
    }
    assert!(simulate(&trace, Vec::new(), &cfg).is_err());
    let mut bad = cfg.clone();
    bad.capacity_per_replica = 0.0;
    assert!(simulate(&trace, make(), &bad).is_err());
}

/// Cancels a shared progress counter at its `at`-th decision (a watcher pressing Ctrl-C).
struct CancelAt {
    progress: Arc<Progress>,
    at: usize,
    k: usize,
}

impl SimPolicy for CancelAt {
    fn name(&self) -> String {
        "cancel".into()
    }
    fn interval(&self) -> f64 {
        60.0
    }
    fn observe(&mut self, _t: f64, _r: f64) -> Result<()> {
        Ok(())
    }
    fn decide(&mut self, _now: f64, _c: u32) -> Result<SimDecision> {
        self.k += 1;
        if self.k == self.at {
            self.progress.cancel();
        }
        Ok(SimDecision {
            replicas: 1,
            forecast: None,
        })
    }
}

#[test]
fn progress_counts_every_step_of_every_policy_and_cancels() {
    // 5,000 steps: four whole blocks of 1,024 and a remainder, so both update paths count
    let trace = Series::new(vec![600.0; 5000], 0.0, 60.0).unwrap();
    let cfg = SimConfig::new(2.0, 120.0).unwrap();
    let make = || -> Vec<Box<dyn SimPolicy>> {
        vec![
            Box::new(FixedFleet::new(5, 60.0).unwrap()),
            Box::new(TargetTracking::new(2.0, 0.7, 60.0, 60.0).unwrap()),
        ]
    };
    let progress = Progress::new();
    let watched = simulate_with_progress(&trace, make(), &cfg, &progress).unwrap();
    assert_eq!((progress.done(), progress.total()), (10_000, 10_000));
    assert!(watched == simulate(&trace, make(), &cfg).unwrap());
    // one counter over two simulations (a sweep) adds both up
    simulate_with_progress(&trace, make(), &cfg, &progress).unwrap();
    assert_eq!((progress.done(), progress.total()), (20_000, 20_000));
    // cancelled after 2,000 steps: stops at the end of the second block, not at the trace end
    let progress = Arc::new(Progress::new());
    let policy = CancelAt {
        progress: Arc::clone(&progress),
        at: 2000,
        k: 0,
    };
    let err = simulate_with_progress(&trace, vec![Box::new(policy)], &cfg, &progress).unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert!(progress.is_cancelled());
    assert_eq!((progress.done(), progress.total()), (2048, 5000));
}

fn trace_strategy() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(
        prop_oneof![
            8 => 0.0f64..3000.0,
            1 => Just(f64::NAN),
            1 => Just(0.0),
        ],
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// served + dropped + still queued = arrived, for every policy and any trace and cluster.
    #[test]
    fn requests_are_conserved(
        values in trace_strategy(),
        startup in 0.0f64..300.0,
        interval in prop_oneof![Just(15.0), Just(45.0), Just(60.0), Just(150.0)],
        max_queue in prop_oneof![Just(None), (0.0f64..2000.0).prop_map(Some)],
        timeout in prop_oneof![Just(None), (0.5f64..120.0).prop_map(Some)],
        warm in any::<bool>(),
        plan in proptest::collection::vec(0u32..8, 1..20),
    ) {
        let trace = Series::new(values, 0.0, 60.0).unwrap();
        let mut cfg = SimConfig::new(7.0, startup).unwrap();
        cfg.max_queue = max_queue;
        cfg.queue_timeout_seconds = timeout;
        cfg.warm_start = warm;
        cfg.drain_seconds = 20.0;
        let policies: Vec<Box<dyn SimPolicy>> = vec![
            Box::new(FixedFleet::for_peak(&trace, 7.0, interval).unwrap()),
            Box::new(Oracle::new(&trace, 7.0, startup, interval).unwrap()),
            Box::new(TargetTracking::new(7.0, 0.9, 60.0, interval).unwrap()),
            Box::new(Scripted::new("script", interval, plan)),
        ];
        let rep = simulate(&trace, policies, &cfg).unwrap();
        for p in &rep.policies {
            let s = &p.summary;
            let tol = 1e-9 * s.arrived.max(1.0);
            prop_assert!((s.served + s.dropped + s.queued_at_end - s.arrived).abs() <= tol,
                "{}: {} + {} + {} != {}", p.name, s.served, s.dropped, s.queued_at_end, s.arrived);
            prop_assert!(s.delayed <= s.served + tol && s.delayed >= 0.0);
            prop_assert!(s.violation_minutes >= 0.0 && s.violation_minutes <= 60.0 * trace.len() as f64);
        }
    }

    /// The oracle has no violations while max replicas suffice, and no policy in the test set
    /// with as few violations uses fewer replica-hours.
    #[test]
    fn oracle_is_the_lower_bound(
        values in trace_strategy(),
        startup in 0.0f64..400.0,
        interval in prop_oneof![Just(30.0), Just(60.0), Just(120.0)],
        utilisation in 0.3f64..1.0,
    ) {
        let trace = Series::new(values, 0.0, 60.0).unwrap();
        let cfg = SimConfig::new(5.0, startup).unwrap(); // max 10,000 replicas: enough
        let oracle = Oracle::new(&trace, 5.0, startup, interval).unwrap();
        let mut policies: Vec<Box<dyn SimPolicy>> = vec![
            Box::new(oracle.clone()),
            Box::new(FixedFleet::for_peak(&trace, 5.0, interval).unwrap()),
            Box::new(TargetTracking::new(5.0, utilisation, 60.0, interval).unwrap()),
        ];
        for (k, (extra, late)) in [(1, 0.0), (0, interval), (2, interval), (0, -interval)].into_iter().enumerate() {
            policies.push(Box::new(Variant { oracle: oracle.clone(), extra, late, name: format!("variant{k}") }));
        }
        let rep = simulate(&trace, policies, &cfg).unwrap();
        let o = &rep.policies[0].summary;
        prop_assert_eq!(o.violation_minutes, 0.0);
        prop_assert_eq!(o.dropped, 0.0);
        for p in &rep.policies[1..] {
            if p.summary.violation_minutes <= o.violation_minutes {
                prop_assert!(p.summary.replica_hours >= o.replica_hours - 1e-9,
                    "{} uses {} < oracle {}", p.name, p.summary.replica_hours, o.replica_hours);
            }
        }
    }
}

/// NASA per minute (89,280 steps, 7,210 missing) through the three reference policies.
/// Missing minutes carry no demand: they count towards neither violations nor drops, the
/// queue keeps draining through them, and policies observe NaN (the reactive policy holds).
#[test]
fn nasa_trace_through_reference_policies() {
    let trace = trace(NASA);
    let (cap, startup, interval) = (0.5, 120.0, 60.0); // 30 requests per minute per replica
    let cfg = SimConfig::new(cap, startup).unwrap();
    let policies: Vec<Box<dyn SimPolicy>> = vec![
        Box::new(FixedFleet::for_peak(&trace, cap, interval).unwrap()),
        Box::new(Oracle::new(&trace, cap, startup, interval).unwrap()),
        Box::new(TargetTracking::new(cap, 0.8, 60.0, interval).unwrap()),
    ];
    let rep = simulate(&trace, policies, &cfg).unwrap();
    let [fixed, oracle, reactive] = [0, 1, 2].map(|i| &rep.policies[i].summary);
    assert_eq!(fixed.peak_replicas, 14); // max 405 per minute = 6.75 req/s → 14 × 0.5
    assert_eq!((fixed.scale_ups, fixed.scale_downs), (0, 0)); // warm start: no action
    assert_eq!(fixed.missing_steps, 7210);
    close(fixed.arrived, 3_461_610.0, 1e-6); // the trace's documented total
    assert_eq!(fixed.violation_minutes, 0.0);
    assert_eq!(oracle.violation_minutes, 0.0);
    assert!(oracle.violation_minutes <= reactive.violation_minutes);
    assert!(reactive.violation_minutes > 0.0);
    assert!(fixed.replica_hours > reactive.replica_hours);
    assert!(fixed.replica_hours > oracle.replica_hours);
    // 14 replicas for the whole 89,280 minutes
    close(fixed.replica_hours, 14.0 * 89_280.0 / 60.0, 1e-6);
    for s in [fixed, oracle, reactive] {
        close(s.served + s.dropped + s.queued_at_end, s.arrived, 1e-6);
    }
}

/// A schedule holding the oracle's own decisions, one per tick, replays to the oracle's report,
/// and a constant schedule to the fixed fleet's: the schedule adds nothing of its own.
#[test]
fn schedules_replay_the_oracle_and_the_fixed_fleet_exactly() {
    let trace = trace(NASA);
    let (cap, startup, interval) = (0.5, 120.0, 15.0);
    let cfg = SimConfig::new(cap, startup).unwrap();
    let oracle = Oracle::new(&trace, cap, startup, interval).unwrap();
    let fixed = FixedFleet::for_peak(&trace, cap, interval).unwrap();
    let ticks = (trace.len() as f64 * trace.step() / interval) as usize;
    let plan: Vec<f64> = (0..ticks)
        .map(|k| oracle.need_at(trace.start() + k as f64 * interval) as f64)
        .collect();
    let plan = Series::new(plan, trace.start(), interval).unwrap();
    let flat = Series::new(vec![fixed.replicas() as f64], trace.start(), 60.0).unwrap();
    let policies: Vec<Box<dyn SimPolicy>> = vec![
        Box::new(oracle),
        Box::new(Schedule::new("oracle-plan", &plan, interval).unwrap()),
        Box::new(fixed),
        Box::new(Schedule::new("flat", &flat, interval).unwrap()),
    ];
    let rep = simulate(&trace, policies, &cfg).unwrap();
    let s: Vec<_> = rep.policies.iter().map(|p| &p.summary).collect();
    assert_eq!(s[0], s[1]);
    assert_eq!(s[2], s[3]);
    assert_eq!(
        rep.policies[0].series.ready_capacity,
        rep.policies[1].series.ready_capacity
    );
}

/// A sweep over target utilisation × startup delay: the front is non-dominated (checked
/// pairwise), holds the cheapest point, and a longer startup never helps the reactive policy.
#[test]
fn sweep_over_utilisation_and_startup() {
    let trace = generate(&{
        let mut s = shop_two_weeks_spec();
        s.len = 3 * 1440;
        s
    })
    .unwrap();
    let mut grid = Vec::new();
    for u in [0.5, 0.7, 0.9] {
        for startup in [30.0, 120.0, 300.0] {
            grid.push((u, startup));
        }
    }
    let rep = sweep_configs(&trace, &grid, |&(u, startup)| {
        let p: Box<dyn SimPolicy> = Box::new(TargetTracking::new(1.0, u, 60.0, 60.0)?);
        Ok((p, SimConfig::new(1.0, startup)?))
    })
    .unwrap();
    assert_eq!(rep.rows.len(), 9);
    assert_eq!(rep.rows[4].params, (0.7, 120.0));
    let pts: Vec<(f64, f64)> = rep
        .rows
        .iter()
        .map(|r| (r.summary.replica_hours, r.summary.violation_minutes))
        .collect();
    assert_eq!(rep.pareto, pareto_front(&pts));
    for &i in &rep.pareto {
        for &(c, h) in &pts {
            let (a, b) = pts[i];
            assert!(!(c <= a && h <= b && (c < a || h < b)));
        }
    }
    let cheapest = (0..9)
        .min_by(|&a, &b| {
            pts[a]
                .0
                .total_cmp(&pts[b].0)
                .then(pts[a].1.total_cmp(&pts[b].1))
        })
        .unwrap();
    assert!(rep.pareto.contains(&cheapest));
    for k in 0..3 {
        let v: Vec<f64> = (0..3).map(|j| pts[3 * k + j].1).collect();
        assert!(v[0] <= v[1] && v[1] <= v[2], "utilisation row {k}: {v:?}");
    }
    assert!(rep.to_csv().lines().count() == 10);
}

/// The committed dataset is what the documented seed and spec generate, byte for byte.
#[test]
fn shop_dataset_regenerates_byte_for_byte() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/shop-2w/shop_2w_per_minute.csv"
    );
    let committed = std::fs::read_to_string(path).unwrap();
    let spec = shop_two_weeks_spec();
    assert_eq!(spec.seed, 20_240_304);
    let regenerated = generate(&spec).unwrap().to_csv_string();
    assert!(committed.len() < 1_000_000);
    assert_eq!(committed.lines().count(), 20_161);
    assert!(
        committed == regenerated,
        "dataset differs from its generator"
    );
}

/// The shop dataset has the shape its README describes: the flash sale about 5× the same
/// hour a week earlier, weekends above weekdays, the 45-minute gap.
#[test]
fn shop_dataset_has_the_documented_shape() {
    let s = generate(&shop_two_weeks_spec()).unwrap();
    let v = s.values();
    let mean = |a: usize, b: usize| v[a..b].iter().sum::<f64>() / (b - a) as f64;
    let sale = 10 * 1440 + 18 * 60 + 30; // full strength 18:15–19:45 on day 10
    let week_before = sale - 7 * 1440;
    let ratio = mean(sale, sale + 60) / mean(week_before, week_before + 60);
    assert!((ratio - 5.0).abs() < 0.3, "ratio {ratio}");
    assert_eq!(s.missing(), 45);
    assert!(v[5 * 1440 + 180..5 * 1440 + 225].iter().all(|x| x.is_nan()));
    let weekday = mean(0, 1440); // Monday
    let saturday = mean(12 * 1440, 13 * 1440);
    assert!(saturday / weekday > 1.15 && saturday / weekday < 1.35);
}

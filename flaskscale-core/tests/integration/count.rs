//! The count sizing of the predictive policy: the calibrated quantile of the count, the skill
//! gate between the model and the recent load, the cold start, and the frontier's HPA family.

use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::forecast::{ModelSpec, Naive, SeasonalNaive};
use flaskscale_core::policy::count::{Calibration, CountSizing, Predictor, ScaleUpWindow};
use flaskscale_core::policy::{HpaConfig, HpaPolicy, PredictiveConfig, Reason};
use flaskscale_core::sim::{self, frontier, HpaSim, Progress, SimConfig, SimPolicy};
use flaskscale_core::traffic::{generate, FlashCrowd, Rng, TrafficSpec};
use flaskscale_core::Series;

/// A negative binomial draw with `r` successes of probability `p` (the number of failures), as
/// a sum of `r` geometric draws.
fn negative_binomial(rng: &mut Rng, r: u32, p: f64) -> f64 {
    (0..r)
        .map(|_| (rng.uniform().max(1e-300).ln() / (1.0 - p).ln()).floor())
        .sum()
}

/// The smallest k with P(N <= k) >= q for N ~ NB(r, p), by summing the probability mass:
/// P(0) = p^r, P(k + 1) = P(k) (k + r) / (k + 1) (1 - p).
fn negative_binomial_quantile(r: u32, p: f64, q: f64) -> f64 {
    let mut pk = p.powi(r as i32);
    let (mut cdf, mut k) = (pk, 0.0);
    while cdf < q {
        pk *= (k + r as f64) / (k + 1.0) * (1.0 - p);
        k += 1.0;
        cdf += pk;
    }
    k
}

#[test]
fn count_quantile_matches_a_negative_binomial_worked_by_hand() {
    // counts with mean 100 and variance 300 (three times Poisson's): NB(r = 50, p = 1/3)
    let (r, p, q) = (50, 1.0 / 3.0, 0.98);
    let exact = negative_binomial_quantile(r, p, q);
    // a normal with the Poisson variance would say 100 + 2.054·10 = 120.5, one with the
    // count's variance 100 + 2.054·17.3 = 135.6; the skewed count's quantile is above both
    assert!(exact > 135.6 && exact < 145.0, "{exact}");
    let cfg = CountSizing {
        calibration_steps: 20_000,
        min_samples: 10,
        skill_steps: 10,
        ..CountSizing::default()
    };
    let mut cal = Calibration::default();
    let mut rng = Rng::new(7);
    for g in 0..20_000u64 {
        let y = negative_binomial(&mut rng, r, p);
        cal.predict(
            g,
            g,
            [Some(100.0), None, None, None, None, None, None],
            q,
            &cfg,
            None,
            None,
        );
        cal.resolve(g, q, &cfg, |_, _| Some(y));
    }
    let s = cal
        .size(
            [Some(100.0), None, None, None, None, None, None],
            q,
            &cfg,
            60.0,
        )
        .expect("calibrated");
    assert_eq!(s.predictor, Predictor::Model);
    // the empirical 0.98-quantile of 20,000 draws is within about one count of the exact one
    assert!((s.count - exact).abs() <= 2.0, "{} vs {exact}", s.count);
    // the same errors scale to another level as a count does: by sqrt(mean)
    let s = cal
        .size(
            [Some(400.0), None, None, None, None, None, None],
            q,
            &cfg,
            60.0,
        )
        .unwrap();
    assert!(
        (s.count - (400.0 + 2.0 * (exact - 100.0))).abs() <= 4.0,
        "{}",
        s.count
    );
}

/// Minutes of `days` days at 20 requests/s with a jump to 6x for an hour at `onsets` (seconds
/// after the start), Poisson noise.
fn surges(days: usize, onsets: &[f64], seed: u64) -> Series {
    let mut spec = TrafficSpec::new(0.0, 60.0, days * 1440, 20.0);
    spec.seed = seed;
    spec.flash_crowds = onsets
        .iter()
        .map(|&start| FlashCrowd {
            start,
            duration: 3600.0,
            multiplier: 6.0,
            ramp: 0.0,
        })
        .collect();
    generate(&spec).unwrap()
}

/// An autoscaler of per-minute steps with `policy`, forecasting with the daily seasonal naive
/// model refitted hourly.
fn daily_naive(policy: PredictiveConfig) -> Autoscaler {
    let mut cfg = AutoscalerConfig::new(
        60.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(1440)),
        policy,
    );
    cfg.refit_every = 60;
    Autoscaler::new(cfg).unwrap()
}

/// Replays `trace` through an autoscaler forecasting with the daily seasonal naive model,
/// deciding every 15 s, and returns the last decision within each step (index = the step).
fn decisions(trace: &Series) -> Vec<(u32, Reason, Option<String>)> {
    replay(daily_naive(PredictiveConfig::new(10.0, 1, 1000)), trace)
}

/// Replays `trace` (per minute) through `a`, deciding every 15 s; the last decision within
/// each step (index = the step): its replicas, reason and deciding predictor.
fn replay(mut a: Autoscaler, trace: &Series) -> Vec<(u32, Reason, Option<String>)> {
    let mut current = 1;
    let mut out = Vec::new();
    for (i, &v) in trace.values().iter().enumerate() {
        let t = 60.0 * i as f64;
        let mut last = None;
        for k in 0..4 {
            let d = a.recommend(t + 15.0 * k as f64, current).unwrap();
            current = d.replicas;
            last = Some((d.replicas, d.reason, d.explain.predictor.clone()));
        }
        out.extend(last);
        a.observe(t, v).unwrap();
    }
    out
}

#[test]
fn an_autoscaler_equals_its_clone_and_its_reloaded_state_with_missing_steps() {
    // a day with a missing hour: the history holds NaN, and predictions made before the
    // calibration has enough errors wait with no count (NaN) to provision for
    let mut a = daily_naive(PredictiveConfig::new(10.0, 1, 1000));
    let mut current = 1;
    for i in 0..1500 {
        let t = 60.0 * i as f64;
        current = a.recommend(t, current).unwrap().replicas;
        let v = if (600..660).contains(&i) {
            f64::NAN
        } else {
            600.0 + (i % 7) as f64
        };
        a.observe(t, v).unwrap();
        if i == 30 || i == 1499 {
            assert!(a == a.clone(), "step {i}");
            let back = Autoscaler::from_json(&a.to_json().unwrap()).unwrap();
            assert!(back == a, "step {i}");
        }
    }
}

#[test]
fn skill_gate_trusts_a_repeating_season_and_not_surges_that_do_not_repeat() {
    let day = 86_400.0;
    // the same hour every day: 09:00
    let repeating: Vec<f64> = (0..8).map(|d| d as f64 * day + 9.0 * 3600.0).collect();
    let d = decisions(&surges(8, &repeating, 1));
    // on the last days the decisions of 08:58 (ready by 09:00) already provision the surge
    // (6 × 20 req/s at 10 per replica = 12 replicas), because the model foresaw it
    for k in 5..8 {
        let i = k * 1440 + 9 * 60 - 2;
        let (replicas, reason, who) = &d[i];
        assert!(
            matches!(reason, Reason::ForecastPeak | Reason::ScaleUpLimit),
            "day {k}: {:?}",
            d[i]
        );
        assert_eq!(who.as_deref(), Some("model"));
        assert!(
            *replicas >= 12,
            "day {k}: {replicas} replicas before the surge"
        );
    }
    // surges at a different hour every day: the daily model is wrong twice a day, the recent
    // load decides and says the forecast is untrusted
    let hours = [3.0, 17.0, 11.0, 22.0, 6.0, 14.0, 1.0, 19.0];
    let wandering: Vec<f64> = (0..8).map(|d| d as f64 * day + hours[d] * 3600.0).collect();
    let d = decisions(&surges(8, &wandering, 2));
    let last_days = &d[5 * 1440..];
    let untrusted = last_days
        .iter()
        .filter(|x| x.2.as_deref() != Some("model"))
        .count();
    assert!(
        untrusted * 10 >= last_days.len() * 9,
        "{untrusted} of {} decisions did not trust the model",
        last_days.len()
    );
    assert!(last_days.iter().any(|x| x.1 == Reason::ForecastUntrusted));
    // and nothing is pre-warmed before a surge it could not know of
    let i = 7 * 1440 + 19 * 60 - 2;
    assert!(d[i].0 < 6, "{:?}", d[i]);
}

#[test]
fn cold_start_stays_within_the_warm_up_margin_of_the_reactive_target() {
    // a fresh pod at a steady 1,838 req/s with 50 req/s per replica: the reactive target is
    // 37 replicas; until the count sizing is calibrated it provisions the load at 70%
    let policy = PredictiveConfig::new(50.0, 1, 100);
    let cfg = AutoscalerConfig::new(60.0, ModelSpec::Auto(Default::default()), policy);
    let mut a = Autoscaler::new(cfg).unwrap();
    let mut rng = Rng::new(3);
    let (mut current, mut t) = (1u32, 0.0);
    let bound = (1838.0f64 / (0.7 * 50.0)).ceil() as u32 + 1;
    for _ in 0..240 {
        a.observe(t, rng.poisson(1838.0 * 60.0) as f64).unwrap();
        t += 60.0;
        for k in 0..4 {
            let d = a.recommend(t + 15.0 * k as f64, current).unwrap();
            assert!(d.replicas <= bound, "{} replicas: {:?}", d.replicas, d);
            current = d.replicas;
        }
    }
    assert!(current >= 37, "{current}");
    // the load stops: the count follows it down instead of holding the maximum
    for _ in 0..30 {
        a.observe(t, 0.0).unwrap();
        t += 60.0;
        current = a.recommend(t, current).unwrap().replicas;
    }
    assert!(current <= 2, "{current}");
}

#[test]
fn frontier_points_are_the_single_simulations() {
    let shop = flaskscale_core::traffic::shop_two_weeks_spec();
    let mut spec = shop.clone();
    spec.len = 4 * 1440;
    spec.flash_crowds.clear();
    let trace = generate(&spec).unwrap();
    let cap = trace.values().iter().copied().fold(0.0, f64::max) / 60.0 / 20.0;
    let cfg = SimConfig::new(cap, 120.0).unwrap();
    let base = PredictiveConfig::new(cap, 1, 1000);
    let rep = frontier::frontier(&trace, &cfg, &base, None, true, &Progress::new()).unwrap();
    assert_eq!(
        rep.points.len(),
        frontier::HPA_TARGETS.len() * frontier::HPA_WINDOWS.len()
            + frontier::POLICY_QUANTILES.len() * frontier::POLICY_REACTIVE.len()
    );
    for (target, window) in [(0.7, 300), (0.55, 0), (0.9, 900)] {
        let mut h = HpaConfig::new(target * cap, 1, 1000);
        h.downscale_stabilization_seconds = window;
        let p: Vec<Box<dyn SimPolicy>> = vec![Box::new(
            HpaSim::new("hpa", HpaPolicy::new(h).unwrap(), 60.0, 15.0).unwrap(),
        )];
        let single = sim::simulate(&trace, p, &cfg).unwrap();
        let point = rep
            .points
            .iter()
            .find(|p| {
                p.family == "hpa"
                    && p.window_seconds == Some(window)
                    && (p.target - target).abs() < 1e-12
            })
            .unwrap();
        assert_eq!(point.summary, single.policies[0].summary);
        if (target, window) == (0.7, 300) {
            assert_eq!(rep.r0, single.policies[0].summary.replica_hours);
        }
    }
    // the policy's settings of one quantile share one autoscaler's forecasts and sizing: each
    // is still what its own autoscaler replayed alone gives, the first of a quantile (which
    // records) and the others (which decide on the record) alike
    let model = sim::replay_model(&trace);
    for (q, u) in [(0.8, 0.5), (0.8, 1.0), (0.98, 0.7), (0.999, 0.55)] {
        let mut p = base.clone();
        p.quantile = q;
        match &mut p.hpa.target {
            flaskscale_core::policy::MetricTarget::AverageValue { average_value } => {
                *average_value = u * cap
            }
            other => panic!("the policy's reactive target is {other:?}"),
        }
        let auto = sim::replay_autoscaler_with(&trace, &p, model.clone()).unwrap();
        let sims: Vec<Box<dyn SimPolicy>> = vec![Box::new(sim::AutoscalerSim::new("p", auto))];
        let single = sim::simulate(&trace, sims, &cfg).unwrap();
        let point = rep
            .points
            .iter()
            .find(|p| p.family == "policy" && p.quantile == Some(q) && (p.target - u).abs() < 1e-12)
            .unwrap();
        assert_eq!(
            point.summary, single.policies[0].summary,
            "q {q}, target {u}"
        );
    }
    // the budget rows hold the best point within each budget
    for row in &rep.budgets {
        let limit = row.budget * rep.r0;
        let (b, i) = row.hpa.unwrap();
        assert!(rep.points[i].summary.replica_hours <= limit);
        assert!(rep
            .points
            .iter()
            .filter(|p| p.family == "hpa" && p.summary.replica_hours <= limit)
            .all(|p| p.summary.slo_miss_share >= b));
    }
}

#[test]
fn bursts_at_the_same_minute_of_the_hour_are_prewarmed_and_only_then() {
    // 20 req/s, and at :32 of three hours in ten a 5-minute burst to 80 req/s
    let mut rng = Rng::new(11);
    let days = 4;
    let mut values = Vec::with_capacity(days * 1440);
    let mut burst_left = 0u32;
    for i in 0..days * 1440 {
        if i % 60 == 32 && rng.uniform() < 0.3 {
            burst_left = 5;
        }
        let rate = if burst_left > 0 { 80.0 } else { 20.0 };
        burst_left = burst_left.saturating_sub(1);
        values.push(rng.poisson(rate * 60.0) as f64);
    }
    let trace = Series::new(values, 0.0, 60.0).unwrap();
    let d = decisions(&trace);
    let last_day = 3 * 1440..4 * 1440;
    // the decisions of :30 (ready by :32) provision the burst: 80 req/s at 10 per replica
    let before: Vec<_> = last_day.clone().filter(|i| i % 60 == 30).collect();
    let warmed = before.iter().filter(|&&i| d[i].0 >= 8).count();
    assert!(
        warmed * 10 >= before.len() * 8,
        "{warmed} of {}",
        before.len()
    );
    assert!(
        before.iter().all(|&i| d[i].2.as_deref() == Some("phase")),
        "{:?}",
        before.iter().map(|&i| &d[i]).collect::<Vec<_>>()
    );
    // a quarter of an hour later nothing is held for it: 20 req/s needs 2 replicas
    let calm: Vec<_> = last_day.filter(|i| i % 60 == 15).collect();
    let held = calm.iter().filter(|&&i| d[i].0 > 4).count();
    assert!(
        held * 10 <= calm.len(),
        "{held} of {} calm minutes held more",
        calm.len()
    );
}

#[test]
fn a_trace_off_the_minute_grid_replays_as_the_same_trace_on_it() {
    // steps starting 20 s after the minute: the autoscaler's grid is shifted onto the trace's,
    // so the replay equals that of the same values starting on the minute
    // 1,699,999,980 is a whole number of minutes; 1,700,000,000 is 20 s past one
    let mut spec = TrafficSpec::new(1_699_999_980.0, 60.0, 3 * 1440, 20.0);
    spec.seed = 4;
    let on = generate(&spec).unwrap();
    let off = Series::new(on.values().to_vec(), 1_700_000_000.0, 60.0).unwrap();
    let run = |trace: &Series| {
        let cfg = SimConfig::new(10.0, 120.0).unwrap();
        let auto = sim::replay_autoscaler(trace, &PredictiveConfig::new(10.0, 1, 100)).unwrap();
        let p: Vec<Box<dyn SimPolicy>> = vec![Box::new(sim::AutoscalerSim::new("p", auto))];
        sim::simulate(trace, p, &cfg).unwrap().policies[0]
            .summary
            .clone()
    };
    assert_eq!(run(&off), run(&on));
}

/// The share of the steps of `range` whose count the replicas decided at their start carried
/// (at `cap` requests per second per replica), for counts `counts` per minute.
fn coverage(count: CountSizing, counts: &[f64], cap: f64, range: std::ops::Range<usize>) -> f64 {
    let mut policy = PredictiveConfig::new(cap, 1, 1000);
    policy.count = count;
    // the count sizing alone: a reactive HPA at the capacity itself seldom binds
    policy.hpa = HpaConfig::new(cap, 1, 1000);
    policy.hpa.downscale_stabilization_seconds = 0;
    let mut a = daily_naive(policy);
    let (mut current, mut carried, mut n) = (1, 0usize, 0usize);
    for (i, &v) in counts.iter().enumerate() {
        let t = 60.0 * i as f64;
        current = a.recommend(t, current).unwrap().replicas;
        if range.contains(&i) {
            n += 1;
            carried += usize::from(f64::from(current) * cap * 60.0 >= v);
        }
        a.observe(t, v).unwrap();
    }
    carried as f64 / n as f64
}

#[test]
fn relative_noise_is_provisioned_for_at_a_level_ten_times_the_calibrated_one() {
    // three days of a diurnal load (mean 20 req/s, ×0.5..×1.5) whose per-minute count is
    // negative binomial with shape 30 (variance m + m²/30: the noise grows with the load),
    // then the load ten times as high for six hours. Errors measured in the Poisson scale at
    // the day's level are sqrt(10) times too small at the new one; the fitted dispersion
    // measures them in the count's own.
    let mut rng = Rng::new(21);
    let shift = 3 * 1440;
    let counts: Vec<f64> = (0..shift + 360)
        .map(|i| {
            let day = (i % 1440) as f64 / 1440.0;
            let rate = 20.0 * (1.0 + 0.5 * (2.0 * std::f64::consts::PI * day).cos());
            let m = 60.0 * if i >= shift { 10.0 * rate } else { rate };
            negative_binomial(&mut rng, 30, 30.0 / (30.0 + m))
        })
        .collect();
    // after the first half hour at the new level (the level predictor's span)
    let after = shift + 30..shift + 360;
    let fitted = coverage(CountSizing::default(), &counts, 2.0, after.clone());
    let poisson = coverage(
        CountSizing {
            dispersion: false,
            ..CountSizing::default()
        },
        &counts,
        2.0,
        after,
    );
    // sized for the 0.98-quantile of the count: the fitted scale covers at least that share
    // of the steps, the Poisson one falls short of it (and leans on the shortfall alarm)
    let q = PredictiveConfig::new(2.0, 1, 1000).quantile;
    assert!(fitted >= q, "fitted dispersion carried {fitted}");
    assert!(poisson < q, "poisson {poisson} vs fitted {fitted}");
}

#[test]
fn a_scale_up_is_sized_for_the_steps_a_new_replica_serves() {
    // counts of 200, 100, 100, 100 per minute, repeating; the level of the last four minutes
    // (always 125) decides, in the Poisson scale sqrt(125), at the median. The lead window of
    // a decision at a minute's start is that minute and the next two (startup 120 s +
    // interval 15 s): three of every four hold the 200, so the errors' median is
    // (200 - 125) / sqrt(125) and the count 200. A replica asked for now serves only the
    // third of them: one in four holds the 200, the median error is (100 - 125) / sqrt(125)
    // and the count 100. At 0.5 requests/s per replica: 200 / 60 / 0.5 -> 7 replicas and
    // 100 / 60 / 0.5 -> 4 replicas
    let decide = |window: ScaleUpWindow, current: u32| {
        let mut policy = PredictiveConfig::new(0.5, 1, 100);
        policy.quantile = 0.5;
        policy.count = CountSizing {
            predictors: vec![Predictor::Level],
            recent_seconds: 240.0,
            dispersion: false,
            scale_up_window: window,
            ..CountSizing::default()
        };
        // a reactive HPA that never asks for more than one replica
        policy.hpa = HpaConfig::new(1000.0, 1, 100);
        policy.hpa.downscale_stabilization_seconds = 0;
        let mut a = daily_naive(policy);
        for i in 0..400 {
            a.observe(60.0 * i as f64, if i % 4 == 0 { 200.0 } else { 100.0 })
                .unwrap();
        }
        // the second calibration is part of the saved state: a restored autoscaler decides
        // the same
        let mut restored = Autoscaler::from_json(&a.to_json().unwrap()).unwrap();
        assert_eq!(restored.to_json().unwrap(), a.to_json().unwrap());
        let d = a.recommend(400.0 * 60.0, current).unwrap();
        assert_eq!(restored.recommend(400.0 * 60.0, current).unwrap(), d);
        assert_eq!(d.explain.predictor.as_deref(), Some("level"));
        d.replicas
    };
    // the whole lead window both ways: 7 (from 4 or more: the HPA's rate policy lets a
    // count at most double in one decision)
    for current in [4, 5, 9] {
        assert_eq!(decide(ScaleUpWindow::Lead, current), 7, "from {current}");
    }
    // up only to what the ready steps need (4), held between 4 and 7, and never down below
    // the whole window's 7
    assert_eq!(decide(ScaleUpWindow::Ready, 2), 4);
    assert_eq!(decide(ScaleUpWindow::Ready, 4), 4);
    assert_eq!(decide(ScaleUpWindow::Ready, 5), 5);
    assert_eq!(decide(ScaleUpWindow::Ready, 9), 7);
}

#[test]
fn a_ramp_led_scale_up_goes_no_higher_than_the_ramp_asked_for_at_the_last_step_starts() {
    // the ramp alone, its errors all 0 but the few resolved after the rise (so at the
    // median its count is its mean): 100 for 200 steps, then 120, 150 and 200. As in an
    // autoscaler, each completed step g is resolved, then the window g+1..=g+3 of the
    // decision at the next step's start predicted: the last decision sizes for 200, and the
    // pending windows of the two step starts before it asked for 150 and 120 (older ones
    // have ended)
    let sized = |persist: u32| {
        let cfg = CountSizing {
            predictors: vec![Predictor::Ramp],
            min_samples: 10,
            skill_steps: 10,
            ramp_persist: persist,
            ..CountSizing::default()
        };
        let mean = |g: u64| match g {
            200 => 120.0,
            201 => 150.0,
            202 => 200.0,
            _ => 100.0,
        };
        let mut cal = Calibration::default();
        for g in 0..=202u64 {
            cal.resolve(g, 0.5, &cfg, |a, b| (a..=b).map(mean).reduce(f64::max));
            let ramp = [None, None, None, Some(mean(g)), None, None, None];
            cal.predict(g + 1, g + 3, ramp, 0.5, &cfg, None, None);
        }
        cal.size(
            [None, None, None, Some(200.0), None, None, None],
            0.5,
            &cfg,
            60.0,
        )
        .expect("calibrated")
    };
    let s = sized(1);
    assert_eq!(
        (s.predictor, s.count, s.scale_up),
        (Predictor::Ramp, 200.0, None)
    );
    // two step starts: the lower of 200 and 150; three: of 200, 150 and 120; more: only
    // those are kept
    assert_eq!(sized(2).scale_up, Some((Predictor::Ramp, 150.0)));
    assert_eq!(sized(3).scale_up, Some((Predictor::Ramp, 120.0)));
    assert_eq!(sized(10).scale_up, Some((Predictor::Ramp, 120.0)));
    // the whole-window count, which a scale-down follows, is unchanged
    assert_eq!(sized(3).count, 200.0);
}

/// Replays `trace` (per minute) through an autoscaler forecasting with the last value, with
/// `policy` ([`replay`]).
fn naive_decisions(trace: &Series, policy: PredictiveConfig) -> Vec<(u32, Reason, Option<String>)> {
    let mut cfg = AutoscalerConfig::new(60.0, ModelSpec::Naive(Naive), policy);
    cfg.refit_every = 60;
    replay(Autoscaler::new(cfg).unwrap(), trace)
}

#[test]
fn bursts_at_the_same_times_of_day_are_prewarmed_by_the_day_phase_and_only_then() {
    // 20 req/s, and at 02:32, 09:32, 15:32 and 20:32 of four days in five a 5-minute burst
    // to 80 req/s: four half hours a day in 48, too rare at q = 0.9 for the half-hour phase.
    // The model forecasts the last value, so only the recent load's errors can know the
    // schedule (a daily seasonal model would forecast a burst that came yesterday)
    let mut rng = Rng::new(5);
    let days = 12;
    let at = [2 * 60 + 32, 9 * 60 + 32, 15 * 60 + 32, 20 * 60 + 32];
    let mut values = Vec::with_capacity(days * 1440);
    let mut burst_left = 0u32;
    for i in 0..days * 1440 {
        if at.contains(&(i % 1440)) && rng.uniform() < 0.8 {
            burst_left = 5;
        }
        let rate = if burst_left > 0 { 80.0 } else { 20.0 };
        burst_left = burst_left.saturating_sub(1);
        values.push(rng.poisson(rate * 60.0) as f64);
    }
    let trace = Series::new(values, 0.0, 60.0).unwrap();
    let mut policy = PredictiveConfig::new(10.0, 1, 1000);
    policy.quantile = 0.9;
    let without = naive_decisions(&trace, policy.clone());
    policy.count.predictors.push(Predictor::DayPhase);
    let with = naive_decisions(&trace, policy);
    let last_days = (days - 2) * 1440..days * 1440;
    // the decisions of :30 before each burst time (ready by :32) provision the burst: 80 req/s
    // at 10 per replica
    let before: Vec<_> = last_days
        .clone()
        .filter(|i| at.contains(&(i % 1440 + 2)))
        .collect();
    let warmed =
        |d: &[(u32, Reason, Option<String>)]| before.iter().filter(|&&i| d[i].0 >= 8).count();
    assert!(
        warmed(&with) == before.len(),
        "{:?}",
        before.iter().map(|&i| &with[i]).collect::<Vec<_>>()
    );
    assert!(before
        .iter()
        .all(|&i| with[i].2.as_deref() == Some("day_phase")));
    // without it the bursts come unannounced
    assert_eq!(
        warmed(&without),
        0,
        "{:?}",
        before.iter().map(|&i| &without[i]).collect::<Vec<_>>()
    );
    // the same minute of every other half hour holds nothing for them: 20 req/s needs 2
    // replicas at their 70% target, 3 with the noise
    let other: Vec<_> = last_days
        .filter(|i| i % 30 == 0 && !before.contains(i))
        .filter(|i| at.iter().all(|&a| (i % 1440).abs_diff(a) >= 15))
        .collect();
    let held = other.iter().filter(|&&i| with[i].0 > 4).count();
    assert!(
        held * 20 <= other.len(),
        "{held} of {} held more",
        other.len()
    );
}

#[test]
fn a_state_saved_before_the_day_phase_predictor_loads_and_decides_as_it_did() {
    // the calibration then held six predictors' records: the seventh starts empty
    let mut a = daily_naive(PredictiveConfig::new(10.0, 1, 1000));
    let mut current = 1;
    let mut rng = Rng::new(3);
    for i in 0..400 {
        let t = 60.0 * i as f64;
        current = a.recommend(t, current).unwrap().replicas;
        a.observe(t, rng.poisson(1200.0) as f64).unwrap();
    }
    let mut state: serde_json::Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    let mut popped = 0;
    for key in ["calibration", "calibration_up"] {
        // (the scale-up calibration is empty unless its window is asked for)
        if let Some(tracks) = state["autoscaler"][key]["tracks"]
            .as_array_mut()
            .filter(|t| !t.is_empty())
        {
            assert_eq!(tracks.len(), Predictor::ALL.len());
            tracks.pop();
            popped += 1;
        }
    }
    assert!(popped > 0, "no calibration in the saved state");
    let mut old = Autoscaler::from_json(&state.to_string()).unwrap();
    assert!(old == a);
    let t = 60.0 * 400.0;
    assert_eq!(
        old.recommend(t, current).unwrap().replicas,
        a.recommend(t, current).unwrap().replicas
    );
    // more predictors' records than the code knows are refused
    let tracks = state["autoscaler"]["calibration"]["tracks"]
        .as_array_mut()
        .unwrap();
    let extra = tracks[0].clone();
    tracks.push(extra.clone());
    tracks.push(extra);
    assert!(Autoscaler::from_json(&state.to_string()).is_err());
}

#[test]
fn with_the_day_phase_named_a_saved_state_reloads_whatever_its_memory() {
    // its quantile is shrunk toward the phase predictor's errors, which a longer calibration
    // window may hold after the day phase's own memory has let them go
    let mut policy = PredictiveConfig::new(10.0, 1, 1000);
    policy.count.predictors.push(Predictor::DayPhase);
    policy.count.day_phase_seconds = 600.0;
    policy.count.day_phase_steps = 40;
    policy.count.day_phase_min_samples = 10;
    let mut a = daily_naive(policy);
    let mut rng = Rng::new(9);
    let mut current = 1;
    let mut checked = 0;
    for i in 0..1500 {
        let t = 60.0 * i as f64;
        current = a.recommend(t, current).unwrap().replicas;
        // bursts at :32 of one hour in three, the largest in the first hours
        let burst = i % 30 == 2 && rng.uniform() < 0.3;
        let rate = if burst {
            80.0 + 400.0 * f64::from(i < 300)
        } else {
            20.0
        };
        a.observe(t, rng.poisson(rate * 60.0) as f64).unwrap();
        if i % 100 == 99 {
            let back = Autoscaler::from_json(&a.to_json().unwrap()).unwrap();
            assert!(back == a, "step {i}");
            checked += 1;
        }
    }
    assert_eq!(checked, 15);
}

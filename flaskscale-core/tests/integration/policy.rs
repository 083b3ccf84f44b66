//! The HPA engine against the Kubernetes documentation's worked examples and hand-derived cases
//! for every rule; the predictive policy and the autoscaler on series whose answer is known;
//! save/restore; and the invariants as property tests.

use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig, EmptySteps, ModelStage};
use flaskscale_core::forecast::{Fitted, ModelSpec, SeasonalNaive};
use flaskscale_core::policy::{
    recent_quantile, Combination, ForecastInput, HpaBehavior, HpaConfig, HpaPolicy,
    HpaScalingPolicy, HpaScalingRules, MetricTarget, Mode, PredictiveConfig, PredictivePolicy,
    Reason, RecentFloor, ScalingPolicyType, SelectPolicy, Sizing,
};

/// A policy sized by the model's own forecast quantile, with no startup delay and the HPA's
/// default 300 s scale-down window: what these tests of the forecast path were worked for
/// (the defaults size for the calibrated count; see `count_sizing_*`).
fn forecast_sized(capacity: f64, min: u32, max: u32) -> PredictiveConfig {
    let mut c = PredictiveConfig::new(capacity, min, max);
    c.sizing = Sizing::Forecast;
    c.startup_seconds = 0.0;
    c.hpa = HpaConfig::new(capacity, min, max);
    c
}
use flaskscale_core::Error;
use proptest::prelude::*;

fn value_target(v: f64, min: u32, max: u32) -> HpaConfig {
    HpaConfig {
        target: MetricTarget::Value { value: v },
        ..HpaConfig::new(1.0, min, max)
    }
}

fn pods(value: u32, period: u32) -> HpaScalingPolicy {
    HpaScalingPolicy {
        policy_type: ScalingPolicyType::Pods,
        value,
        period_seconds: period,
    }
}
fn percent(value: u32, period: u32) -> HpaScalingPolicy {
    HpaScalingPolicy {
        policy_type: ScalingPolicyType::Percent,
        value,
        period_seconds: period,
    }
}

fn with_behavior(
    mut c: HpaConfig,
    up: Option<HpaScalingRules>,
    down: Option<HpaScalingRules>,
) -> HpaConfig {
    c.behavior = Some(HpaBehavior {
        scale_up: up,
        scale_down: down,
    });
    c
}

// ---- the Kubernetes documentation's algorithm examples ----

/// "if the current metric value is 200m, and the desired value is 100m, the number of replicas
/// will be doubled, since 200.0 / 100.0 == 2.0. If the current value is instead 50m, you'll
/// halve the number of replicas, since 50.0 / 100.0 == 0.5. The control plane skips any scaling
/// action if the ratio is sufficiently close to 1.0 (within a globally-configurable tolerance,
/// 0.1 by default)."
#[test]
fn docs_ratio_examples() {
    let mut hpa = HpaPolicy::new(value_target(100.0, 1, 100)).unwrap();
    let d = hpa.recommend(0.0, 4, 200.0).unwrap();
    assert_eq!(d.replicas, 8); // ceil(2.0 · 4); the legacy limit max(2·4, 4) = 8 allows it
    assert!((d.explain.usage_ratio - 2.0).abs() < 1e-12);
    let mut hpa = HpaPolicy::new(value_target(100.0, 1, 100)).unwrap();
    assert_eq!(hpa.recommend(0.0, 4, 50.0).unwrap().replicas, 2); // ceil(0.5 · 4)
    let mut hpa = HpaPolicy::new(value_target(100.0, 1, 100)).unwrap();
    let d = hpa.recommend(0.0, 4, 109.0).unwrap(); // ratio 1.09: within 0.1
    assert_eq!((d.replicas, d.reason), (4, Reason::WithinTolerance));
    let d = hpa.recommend(1.0, 4, 111.0).unwrap(); // 1.11: outside → ceil(4.44) = 5
    assert_eq!(d.replicas, 5);
}

/// Average-value target: desired = ceil(total / averageValue), whatever the current count.
#[test]
fn average_value_target() {
    let mut hpa = HpaPolicy::new(HpaConfig::new(50.0, 1, 100)).unwrap();
    // 4 replicas, 330 req/s at 50 each: ratio 330/200 = 1.65 → ceil(6.6) = 7
    let d = hpa.recommend(0.0, 4, 330.0).unwrap();
    assert_eq!((d.replicas, d.explain.reactive), (7, Some(7)));
}

// ---- the legacy rules (no behavior) ----

#[test]
fn legacy_scale_up_limit_is_max_of_double_and_four() {
    let mut hpa = HpaPolicy::new(HpaConfig::new(10.0, 1, 100)).unwrap();
    let d = hpa.recommend(0.0, 3, 200.0).unwrap(); // wants 20; limit max(6, 4) = 6
    assert_eq!((d.replicas, d.reason), (6, Reason::ScaleUpLimit));
    let d = hpa.recommend(1.0, 1, 200.0).unwrap(); // limit max(2, 4) = 4
    assert_eq!((d.replicas, d.reason), (4, Reason::ScaleUpLimit));
    let mut hpa = HpaPolicy::new(HpaConfig::new(10.0, 1, 5)).unwrap();
    let d = hpa.recommend(0.0, 3, 200.0).unwrap(); // max 5 < limit 6
    assert_eq!((d.replicas, d.reason), (5, Reason::TooManyReplicas));
}

#[test]
fn legacy_downscale_stabilization_keeps_the_window_maximum() {
    let mut hpa = HpaPolicy::new(HpaConfig::new(10.0, 1, 100)).unwrap();
    assert_eq!(hpa.recommend(0.0, 10, 100.0).unwrap().replicas, 10);
    // the load drops to 40: desired 4, but 10 was recommended within 300 s
    let d = hpa.recommend(60.0, 10, 40.0).unwrap();
    assert_eq!((d.replicas, d.reason), (10, Reason::ScaleDownStabilized));
    assert_eq!(
        (d.explain.raw_target, d.explain.after_stabilization),
        (4, 10)
    );
    // at 300.5 the t = 0 recommendation has left the window (t > 0.5); t = 60 said 4
    let d = hpa.recommend(300.5, 10, 40.0).unwrap();
    assert_eq!(d.replicas, 4);
}

// ---- behavior: rate policies ----

/// The documentation's scale-down example: Pods 4 / 60 s and Percent 10 / 60 s with the default
/// select Max ("the policy that allows the largest change"): from 80 replicas 8 go (10%); at
/// 72, 10% is 7.2 and 8 go (64.8 truncated to 64); below 40 replicas the Pods policy removes
/// more (4 > 10%).
#[test]
fn docs_scale_down_policy_example() {
    let down = HpaScalingRules {
        stabilization_window_seconds: Some(0),
        policies: Some(vec![pods(4, 60), percent(10, 60)]),
        ..Default::default()
    };
    let mut hpa = HpaPolicy::new(with_behavior(
        HpaConfig::new(10.0, 1, 100),
        None,
        Some(down),
    ))
    .unwrap();
    let mut current = 80;
    let mut seen = vec![];
    for i in 0..8 {
        let d = hpa.recommend(60.0 * i as f64, current, 100.0).unwrap(); // wants 10
        assert_eq!(d.reason, Reason::ScaleDownLimit);
        current = d.replicas;
        seen.push(current);
    }
    // 80·0.9 = 72; 72·0.9 = 64.8 → 64; 57.6 → 57; 51.3 → 51; 45.9 → 45; 40.5 → 40;
    // at 40 both allow 36; at 36 Pods allows 32 (Percent 32.4 → 32, the same)
    assert_eq!(seen, [72, 64, 57, 51, 45, 40, 36, 32]);
    // within the same period no more goes: 8 were removed at t = 420 from 40 → start 40
    let mut hpa2 = hpa.clone();
    let d = hpa2.recommend(430.0, 32, 100.0).unwrap();
    assert_eq!(d.replicas, 32, "period start 36 + 4 removed... ");
}

/// Default scale-up rules (4 pods or 100% per 15 s, Max): from 1 replica → 5 (4 pods beats
/// doubling), 15 s later from 5 → 10 (doubling beats 4 pods), and within a period the events
/// already made count against it.
#[test]
fn default_scale_up_policies() {
    let cfg = with_behavior(HpaConfig::new(10.0, 1, 100), None, None);
    let mut hpa = HpaPolicy::new(cfg).unwrap();
    let d = hpa.recommend(0.0, 1, 200.0).unwrap(); // wants 20
    assert_eq!((d.replicas, d.reason), (5, Reason::ScaleUpLimit));
    let d = hpa.recommend(15.0, 5, 200.0).unwrap(); // the t = 0 event is not after 15 − 15
    assert_eq!(d.replicas, 10);
    // 5 s later: +5 within the period → start 5 → max(9, 10) = 10 = current: held
    let d = hpa.recommend(20.0, 10, 200.0).unwrap();
    assert_eq!((d.replicas, d.reason), (10, Reason::ScaleUpLimit));
    let d = hpa.recommend(30.1, 10, 200.0).unwrap(); // both events out: 10 → 20
    assert_eq!(d.replicas, 20);
}

#[test]
fn select_min_and_disabled() {
    let up = HpaScalingRules {
        select_policy: Some(SelectPolicy::Min),
        policies: Some(vec![pods(4, 60), percent(100, 60)]),
        ..Default::default()
    };
    let mut hpa =
        HpaPolicy::new(with_behavior(HpaConfig::new(1.0, 1, 1000), Some(up), None)).unwrap();
    assert_eq!(hpa.recommend(0.0, 10, 500.0).unwrap().replicas, 14); // min(14, 20)
    let down = HpaScalingRules {
        select_policy: Some(SelectPolicy::Disabled),
        stabilization_window_seconds: Some(0),
        ..Default::default()
    };
    let mut hpa = HpaPolicy::new(with_behavior(
        HpaConfig::new(1.0, 1, 1000),
        None,
        Some(down),
    ))
    .unwrap();
    let d = hpa.recommend(0.0, 10, 2.0).unwrap();
    assert_eq!((d.replicas, d.reason), (10, Reason::ScaleDownLimit));
    // scale-down select Min: the policy allowing the smaller change (Pods 1 vs 50%)
    let down = HpaScalingRules {
        select_policy: Some(SelectPolicy::Min),
        stabilization_window_seconds: Some(0),
        policies: Some(vec![pods(1, 60), percent(50, 60)]),
        ..Default::default()
    };
    let mut hpa = HpaPolicy::new(with_behavior(
        HpaConfig::new(1.0, 1, 1000),
        None,
        Some(down),
    ))
    .unwrap();
    assert_eq!(hpa.recommend(0.0, 10, 2.0).unwrap().replicas, 9);
}

#[test]
fn scale_up_stabilization_window() {
    let up = HpaScalingRules {
        stabilization_window_seconds: Some(60),
        ..Default::default()
    };
    let mut hpa =
        HpaPolicy::new(with_behavior(HpaConfig::new(10.0, 1, 100), Some(up), None)).unwrap();
    assert_eq!(hpa.recommend(0.0, 5, 50.0).unwrap().replicas, 5);
    // wants 10, but 5 was recommended within 60 s: the window's minimum holds
    let d = hpa.recommend(10.0, 5, 100.0).unwrap();
    assert_eq!((d.replicas, d.reason), (5, Reason::ScaleUpStabilized));
    // at 60.5 the t = 0 recommendation is out; t = 10 said 10
    assert_eq!(hpa.recommend(60.5, 5, 100.0).unwrap().replicas, 10);
}

#[test]
fn scale_down_stabilization_with_behavior_starts_from_current() {
    let down = HpaScalingRules {
        stabilization_window_seconds: Some(120),
        ..Default::default()
    };
    let mut hpa = HpaPolicy::new(with_behavior(
        HpaConfig::new(10.0, 1, 100),
        None,
        Some(down),
    ))
    .unwrap();
    assert_eq!(hpa.recommend(0.0, 8, 80.0).unwrap().replicas, 8);
    assert_eq!(hpa.recommend(30.0, 8, 60.0).unwrap().replicas, 8); // recs 8, 6: max 8
    let d = hpa.recommend(121.0, 8, 20.0).unwrap(); // recs in (1, 121]: 6 and 2 → 6
    assert_eq!((d.replicas, d.reason), (6, Reason::ScaleDownStabilized));
}

#[test]
fn tolerance_per_direction() {
    let up = HpaScalingRules {
        tolerance: Some(0.0),
        ..Default::default()
    };
    let down = HpaScalingRules {
        tolerance: Some(0.5),
        stabilization_window_seconds: Some(0),
        ..Default::default()
    };
    let cfg = with_behavior(value_target(100.0, 1, 100), Some(up), Some(down));
    let mut hpa = HpaPolicy::new(cfg).unwrap();
    assert_eq!(hpa.recommend(0.0, 10, 105.0).unwrap().replicas, 11); // ceil(10.5)
    let d = hpa.recommend(1.0, 10, 60.0).unwrap(); // ratio 0.6 ≥ 1 − 0.5: kept
    assert_eq!((d.replicas, d.reason), (10, Reason::WithinTolerance));
}

#[test]
fn bounds_zero_and_missing_metric() {
    let mut hpa = HpaPolicy::new(HpaConfig::new(10.0, 3, 20)).unwrap();
    assert_eq!(
        hpa.recommend(0.0, 0, 500.0).unwrap().reason,
        Reason::ScalingDisabled
    );
    let d = hpa.recommend(1.0, 50, 500.0).unwrap();
    assert_eq!((d.replicas, d.reason), (20, Reason::TooManyReplicas));
    let d = hpa.recommend(2.0, 1, 0.0).unwrap();
    assert_eq!((d.replicas, d.reason), (3, Reason::TooFewReplicas));
    // wants 0; no recommendation is on record (the bound cases above make none): min 3
    let d = hpa.recommend(3.0, 10, 0.0).unwrap();
    assert_eq!((d.replicas, d.reason), (3, Reason::TooFewReplicas));
    let d = hpa.recommend(4.0, 10, f64::NAN).unwrap();
    assert_eq!((d.replicas, d.reason), (10, Reason::MissingMetric));
    let d = hpa.recommend(5.0, 10, 1e300).unwrap(); // absurd: clamped by the limits
    assert_eq!(d.replicas, 20);
}

#[test]
fn bad_input_is_typed() {
    let mut hpa = HpaPolicy::new(HpaConfig::new(10.0, 1, 20)).unwrap();
    hpa.recommend(100.0, 2, 10.0).unwrap();
    assert!(matches!(
        hpa.recommend(50.0, 2, 10.0),
        Err(Error::InvalidData(_))
    ));
    assert!(matches!(
        hpa.recommend(101.0, 2, -1.0),
        Err(Error::InvalidData(_))
    ));
    assert!(matches!(
        hpa.recommend(101.0, 2, f64::INFINITY),
        Err(Error::InvalidData(_))
    ));
    assert!(matches!(
        hpa.recommend(f64::NAN, 2, 1.0),
        Err(Error::InvalidData(_))
    ));
    for bad in [
        HpaConfig::new(10.0, 5, 2),
        HpaConfig::new(-1.0, 1, 2),
        HpaConfig::new(10.0, 0, 2),
        HpaConfig {
            downscale_stabilization_seconds: 4000,
            ..HpaConfig::new(10.0, 1, 2)
        },
        with_behavior(
            HpaConfig::new(10.0, 1, 2),
            Some(HpaScalingRules {
                policies: Some(vec![pods(1, 0)]),
                ..Default::default()
            }),
            None,
        ),
        with_behavior(
            HpaConfig::new(10.0, 1, 2),
            None,
            Some(HpaScalingRules {
                stabilization_window_seconds: Some(3601),
                ..Default::default()
            }),
        ),
    ] {
        assert!(matches!(
            HpaPolicy::new(bad),
            Err(Error::InvalidParameter(_))
        ));
    }
}

#[test]
fn config_from_manifest_json() {
    let text = r#"{"minReplicas": 2, "maxReplicas": 30,
        "target": {"type": "AverageValue", "averageValue": 50},
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 120,
            "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}], "selectPolicy": "Min"},
            "scaleUp": {"policies": [{"type": "Percent", "value": 50, "periodSeconds": 30}]}}}"#;
    let c = HpaConfig::from_json(text).unwrap();
    assert_eq!((c.min_replicas, c.max_replicas), (2, 30));
    let down = c.behavior.as_ref().unwrap().scale_down.as_ref().unwrap();
    assert_eq!(down.select_policy, Some(SelectPolicy::Min));
    let mut hpa = HpaPolicy::new(c).unwrap();
    assert_eq!(hpa.recommend(0.0, 10, 5000.0).unwrap().replicas, 15); // +50%
    match HpaConfig::from_json(
        r#"{"maxReplicas": 3, "target": {"type": "Value", "value": 1}, "minReplica": 1}"#,
    ) {
        Err(Error::Parse { message, .. }) => {
            assert!(
                message.contains("minReplica") && message.contains("minReplicas"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        HpaConfig::from_json(
            r#"{"minReplicas": 4, "maxReplicas": 3, "target": {"type": "Value", "value": 1}}"#
        ),
        Err(Error::InvalidParameter(_))
    ));
}

// ---- the predictive policy ----

fn fitted_daily() -> (flaskscale_core::FittedModel, Vec<f64>) {
    // per-minute requests over 2 days + 1 step: a ramp from 600 to 6000 per minute each day
    let y: Vec<f64> = (0..2 * 1440 + 1)
        .map(|t| 600.0 + 5400.0 * ((t % 1440) as f64 / 1440.0))
        .collect();
    let f = ModelSpec::SeasonalNaive(SeasonalNaive::new(1440))
        .fit(&y)
        .unwrap();
    (f, y)
}

#[test]
fn predictive_provisions_for_the_lead_window_peak() {
    let (f, _) = fitted_daily();
    let mut cfg = forecast_sized(10.0, 1, 1000);
    cfg.startup_seconds = 120.0;
    cfg.interval_seconds = 60.0;
    let mut p = PredictivePolicy::new(cfg).unwrap();
    let fc = f.predict(10, &[]).unwrap();
    // the next minute's forecast is the value one day ago: 600 + 5400·(1/1440) = 603.75/min;
    // the lead window [now, now + 180 s] covers steps 0..3, whose peak (step 2) is
    // 600 + 5400·3/1440 = 611.25/min = 10.1875 req/s; σ = 0 (a noiseless season) → 2 replicas
    let input = ForecastInput {
        forecast: &fc,
        step_seconds: 60.0,
        start: 0.0,
        model: "seasonal_naive",
    };
    let (mean, q) = p.lead_peak(0.0, &input).unwrap();
    assert!((mean - 611.25 / 60.0).abs() < 1e-9 && (q - mean).abs() < 1e-9);
    let d = p
        .decide(0.0, 1, 5.0, Some(input), None, None, None)
        .unwrap();
    // reactive: ceil(5/10) = 1 (ratio 0.5); predictive ceil(10.1875/10) = 2 → ForecastPeak
    assert_eq!((d.replicas, d.reason), (2, Reason::ForecastPeak));
    assert_eq!(
        (d.explain.reactive, d.explain.predictive),
        (Some(1), Some(2))
    );
}

#[test]
fn modes_and_combinations() {
    let (f, _) = fitted_daily();
    let fc = f.predict(10, &[]).unwrap();
    let input = ForecastInput {
        forecast: &fc,
        step_seconds: 60.0,
        start: 0.0,
        model: "m",
    };
    // forecast-only reports 2 but never changes the count
    let mut cfg = forecast_sized(10.0, 1, 1000);
    cfg.mode = Mode::ForecastOnly;
    let mut p = PredictivePolicy::new(cfg.clone()).unwrap();
    let d = p
        .decide(0.0, 1, 5.0, Some(input), None, None, None)
        .unwrap();
    assert_eq!((d.replicas, d.reason), (1, Reason::ForecastOnly));
    assert_eq!(d.explain.after_rate_limit, 2);
    // combination max never goes below the reactive value
    let mut p = PredictivePolicy::new(forecast_sized(10.0, 1, 1000)).unwrap();
    let d = p
        .decide(0.0, 5, 500.0, Some(input), None, None, None)
        .unwrap();
    assert_eq!((d.replicas, d.reason), (10, Reason::ScaleUpLimit)); // reactive 50, legacy limit 10
                                                                    // predictive-only follows the forecast down (after the stabilization window)
    let mut cfg = forecast_sized(10.0, 1, 1000);
    cfg.combination = Combination::PredictiveOnly;
    cfg.hpa.downscale_stabilization_seconds = 0;
    let mut p = PredictivePolicy::new(cfg.clone()).unwrap();
    assert_eq!(
        p.decide(0.0, 8, 80.0, Some(input), None, None, None)
            .unwrap()
            .replicas,
        2
    );
    // scale-out-only: the forecast (2) is below the current 8, so only the reactive path
    // (ceil(80/10) = 8) may lower: the count stays
    cfg.mode = Mode::ScaleOutOnly;
    let mut p = PredictivePolicy::new(cfg).unwrap();
    assert_eq!(
        p.decide(0.0, 8, 80.0, Some(input), None, None, None)
            .unwrap()
            .replicas,
        8
    );
    // a missing observation holds the count
    let mut p = PredictivePolicy::new(forecast_sized(10.0, 1, 1000)).unwrap();
    let d = p
        .decide(0.0, 8, f64::NAN, Some(input), None, None, None)
        .unwrap();
    assert_eq!((d.replicas, d.reason), (8, Reason::FailSafe));
}

#[test]
fn predictive_config_errors() {
    for f in [
        |c: &mut PredictiveConfig| c.capacity_per_replica = -5.0,
        |c: &mut PredictiveConfig| c.quantile = 1.0,
        |c: &mut PredictiveConfig| c.headroom = f64::NAN,
        |c: &mut PredictiveConfig| c.startup_seconds = -1.0,
        |c: &mut PredictiveConfig| c.interval_seconds = 0.0,
        |c: &mut PredictiveConfig| c.hpa.min_replicas = 2000,
    ] {
        let mut c = forecast_sized(10.0, 1, 1000);
        f(&mut c);
        assert!(matches!(
            PredictivePolicy::new(c),
            Err(Error::InvalidParameter(_))
        ));
    }
}

// ---- the autoscaler ----

fn daily_load(t: usize) -> f64 {
    // requests per minute: 3000 at night, 12000 at the daily peak, a little deterministic noise
    let day = (t % 1440) as f64 / 1440.0;
    7500.0 - 4500.0 * (day * std::f64::consts::TAU).cos() + ((t * 7919) % 97) as f64
}

fn autoscaler(model: ModelSpec) -> Autoscaler {
    let mut policy = forecast_sized(20.0, 1, 100);
    policy.startup_seconds = 120.0;
    policy.interval_seconds = 60.0;
    let mut cfg = AutoscalerConfig::new(60.0, model, policy);
    cfg.refit_every = 360;
    Autoscaler::new(cfg).unwrap()
}

#[test]
fn warm_up_chain_then_full_model() {
    let model = ModelSpec::HoltWinters(flaskscale_core::HoltWinters::new(1440));
    let mut a = autoscaler(model);
    let t0 = 1_700_000_000.0 - 1_700_000_000.0 % 60.0;
    let mut current = 10;
    let mut stages = vec![];
    for t in 0..(3 * 1440 + 10) {
        let now = t0 + 60.0 * t as f64;
        a.observe(now, daily_load(t)).unwrap();
        if t % 60 == 59 {
            let d = a.recommend(now + 60.0, current).unwrap();
            assert!((1..=100).contains(&d.replicas));
            assert!(d.replicas > 0, "never 0 while a model is not ready");
            current = d.replicas;
            if stages.last() != Some(&a.stage()) {
                stages.push(a.stage());
                if a.stage() != ModelStage::Full {
                    assert_eq!(d.reason, Reason::WarmUp, "{:?}", d.explain.note);
                }
            }
        }
    }
    // reactive first (less than a day + 1), then seasonal naive, then Holt-Winters (2 days)
    assert_eq!(
        stages,
        [ModelStage::Reactive, ModelStage::WarmUp, ModelStage::Full]
    );
    assert!(a.n_fits() > 3);
}

#[test]
fn missing_steps_survive_save_and_restore() {
    // JSON has no NaN: a missing step must come back as missing, not fail the load
    let mut a = autoscaler(ModelSpec::SeasonalNaive(SeasonalNaive::new(60)));
    let t0 = 1_700_000_000.0 - 1_700_000_000.0 % 60.0;
    let mut current = 5;
    for t in 0..400u32 {
        let now = t0 + 60.0 * f64::from(t);
        if t % 97 == 13 {
            a.observe(now, f64::NAN).unwrap(); // a known-missing step
        } else if t % 89 != 7 {
            a.observe(now, daily_load(t as usize)).unwrap(); // t % 89 == 7: a skipped step
        }
        current = a.recommend(now + 1.0, current).unwrap().replicas;
    }
    let missing = a.history().iter().filter(|v| v.is_nan()).count();
    assert!(missing >= 6, "{missing} missing steps");
    let text = a.to_json().unwrap();
    let mut b = Autoscaler::from_json(&text).unwrap();
    assert_eq!(b.to_json().unwrap(), text);
    let (ha, hb) = (a.history(), b.history());
    assert_eq!(ha.len(), hb.len());
    assert!(ha
        .iter()
        .zip(&hb)
        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())));
    for t in 400..500u32 {
        let now = t0 + 60.0 * f64::from(t);
        a.observe(now, daily_load(t as usize)).unwrap();
        b.observe(now, daily_load(t as usize)).unwrap();
        assert_eq!(
            a.recommend(now + 1.0, current).unwrap(),
            b.recommend(now + 1.0, current).unwrap()
        );
    }
}

#[test]
fn save_and_restore_makes_identical_decisions() {
    let mut a = autoscaler(ModelSpec::SeasonalNaive(SeasonalNaive::new(1440)));
    let t0 = 1_700_000_000.0 - 1_700_000_000.0 % 60.0;
    let mut current = 10;
    for t in 0..(2 * 1440) {
        let now = t0 + 60.0 * t as f64;
        a.observe(now, daily_load(t)).unwrap();
        if t % 15 == 0 {
            current = a.recommend(now + 1.0, current).unwrap().replicas;
        }
    }
    let dir = std::env::temp_dir().join(format!("flaskscale-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    a.save(&path).unwrap();
    let mut b = Autoscaler::load(&path).unwrap();
    assert_eq!(a, b);
    let (mut ca, mut cb) = (current, current);
    for t in (2 * 1440)..(2 * 1440 + 600) {
        let now = t0 + 60.0 * t as f64;
        a.observe(now, daily_load(t)).unwrap();
        b.observe(now, daily_load(t)).unwrap();
        let (da, db) = (
            a.recommend(now + 1.0, ca).unwrap(),
            b.recommend(now + 1.0, cb).unwrap(),
        );
        assert_eq!(da, db);
        ca = da.replicas;
        cb = db.replicas;
    }
    // corrupt, truncated, foreign and future files are clear errors
    let text = a.to_json().unwrap();
    assert!(matches!(
        Autoscaler::from_json(&text[..text.len() / 2]),
        Err(Error::Parse { .. })
    ));
    assert!(matches!(
        Autoscaler::from_json("{\"format\": \"other\"}"),
        Err(Error::Parse { .. })
    ));
    let future = text.replacen("\"version\":1", "\"version\":99", 1);
    match Autoscaler::from_json(&future) {
        Err(Error::Parse { message, .. }) => assert!(message.contains("version 99"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Autoscaler::load(dir.join("missing.json")),
        Err(Error::Io(_))
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn observations_accumulate_per_step_and_gaps_are_missing() {
    let mut a = autoscaler(ModelSpec::Naive(flaskscale_core::Naive));
    a.observe(120.0, 5.0).unwrap();
    a.observe(150.0, 7.0).unwrap(); // same step
    a.observe(245.0, 1.0).unwrap(); // closes step 120..180; 180..240 had nothing
    assert_eq!(a.history()[0], 12.0);
    assert!(a.history()[1].is_nan());
    assert!(matches!(a.observe(100.0, 1.0), Err(Error::InvalidData(_))));
    assert!(matches!(a.observe(250.0, -1.0), Err(Error::InvalidData(_))));
    assert_eq!(a.history_start(), Some(120.0));
    // counting single events: an empty step is zero
    let mut cfg = a.config().clone();
    cfg.empty_steps = EmptySteps::Zero;
    let mut z = Autoscaler::new(cfg).unwrap();
    z.observe(0.0, 1.0).unwrap();
    z.observe(130.0, 1.0).unwrap();
    assert_eq!(z.history(), vec![1.0, 0.0]);
    // a missing last step: the count is held
    let mut a = autoscaler(ModelSpec::Naive(flaskscale_core::Naive));
    for t in 0..10 {
        a.observe(60.0 * t as f64, 600.0).unwrap();
    }
    a.observe(600.0, f64::NAN).unwrap();
    let d = a.recommend(661.0, 7).unwrap();
    assert_eq!((d.replicas, d.reason), (7, Reason::FailSafe));
    // time going backwards for a decision
    assert!(matches!(a.recommend(10.0, 7), Err(Error::InvalidData(_))));
}

#[test]
fn core_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Autoscaler>();
    check::<HpaPolicy>();
    check::<PredictivePolicy>();
}

// ---- invariants ----

fn behavior_cfg(up_pods: u32, down_pods: u32, window: u32) -> HpaConfig {
    with_behavior(
        HpaConfig::new(10.0, 2, 60),
        Some(HpaScalingRules {
            policies: Some(vec![pods(up_pods, 60)]),
            ..Default::default()
        }),
        Some(HpaScalingRules {
            stabilization_window_seconds: Some(window),
            policies: Some(vec![pods(down_pods, 60)]),
            ..Default::default()
        }),
    )
}

proptest! {
    #[test]
    fn hpa_invariants(
        loads in prop::collection::vec(prop_oneof![Just(f64::NAN), 0.0f64..2000.0], 1..120),
        gaps in prop::collection::vec(1.0f64..40.0, 120),
        up in 1u32..6, down in 1u32..6, window in 0u32..300,
    ) {
        let cfg = behavior_cfg(up, down, window);
        let mut hpa = HpaPolicy::new(cfg.clone()).unwrap();
        let mut twin = HpaPolicy::new(cfg).unwrap();
        let (mut t, mut current) = (0.0, 10u32);
        let mut history: Vec<(f64, u32, u32, u32)> = vec![]; // (t, before, after, raw)
        for (i, &load) in loads.iter().enumerate() {
            t += gaps[i];
            let d = hpa.recommend(t, current, load).unwrap();
            // deterministic (compared as text: the explanation may hold NaN)
            prop_assert_eq!(format!("{d:?}"), format!("{:?}", twin.recommend(t, current, load).unwrap()));
            prop_assert!((2..=60).contains(&d.replicas));
            history.push((t, current, d.replicas, d.explain.raw_target));
            current = d.replicas;
        }
        // each change stays within the Pods policies counted from the period's start: the
        // count 60 s earlier (Kubernetes nets scale-ups and scale-downs within the period)
        for (i, &(t, before, after, _)) in history.iter().enumerate() {
            let start = history[..i]
                .iter()
                .rev()
                .find(|h| h.0 <= t - 60.0)
                .map_or(10, |h| h.2);
            if after > before {
                prop_assert!(after <= before.max(start + up), "up to {} from period start {}", after, start);
            }
            if after < before {
                let floor = (start as i64 - down as i64).min(before as i64);
                prop_assert!(after as i64 >= floor, "down to {} from period start {}", after, start);
            }
        }
        // no scale-down below the largest recommendation within the stabilization window
        for (i, &(t, before, after, _)) in history.iter().enumerate() {
            if after < before {
                let max_rec = history[..=i]
                    .iter()
                    .filter(|h| h.0 > t - window as f64 && !loads[history.iter().position(|x| x.0 == h.0).unwrap()].is_nan())
                    .map(|h| h.3)
                    .max()
                    .unwrap_or(0);
                prop_assert!(after >= max_rec.min(before), "scaled to {} below window max {}", after, max_rec);
            }
        }
    }

    #[test]
    fn forecast_only_never_changes_the_count(
        loads in prop::collection::vec(0.0f64..5000.0, 1..60),
        current in 1u32..50,
    ) {
        let (f, _) = fitted_daily();
        let fc = f.predict(10, &[]).unwrap();
        let mut cfg = forecast_sized(10.0, 1, 100);
        cfg.mode = Mode::ForecastOnly;
        let mut p = PredictivePolicy::new(cfg).unwrap();
        for (i, &load) in loads.iter().enumerate() {
            let input = ForecastInput { forecast: &fc, step_seconds: 60.0, start: 0.0, model: "m" };
            let d = p.decide(15.0 * i as f64, current, load, Some(input), None, None, None).unwrap();
            prop_assert_eq!(d.replicas, current);
        }
    }
}

// ------------------------------------------------------------------ recent-load floor

#[test]
fn recent_quantile_by_hand() {
    // sorted known values 1 2 4 10; q = 0.5 → position 1.5 → 2 + (4 − 2)·0.5 = 3
    let mut v = vec![4.0, f64::NAN, 1.0, 10.0, 2.0];
    assert_eq!(recent_quantile(&mut v, 0.5), Some(3.0));
    let mut v = vec![4.0, 1.0, 10.0, 2.0];
    assert_eq!(recent_quantile(&mut v, 1.0), Some(10.0));
    let mut v = vec![4.0, 1.0, 10.0, 2.0];
    let q = recent_quantile(&mut v, 0.9).unwrap(); // position 2.7: 4 + (10 − 4)·0.7
    assert!((q - 8.2).abs() < 1e-12, "{q}");
    assert_eq!(recent_quantile(&mut vec![f64::NAN], 1.0), None);
    assert_eq!(recent_quantile(&mut Vec::new(), 1.0), None);
}

#[test]
fn floor_joins_every_combination_and_explains_itself() {
    let floor = RecentFloor {
        window_seconds: 600.0,
        quantile: 1.0,
        factor: 1.2,
    };
    for comb in [
        Combination::Max,
        Combination::PredictiveOnly,
        Combination::ReactiveOnly,
    ] {
        let mut cfg = forecast_sized(10.0, 1, 1000);
        cfg.combination = comb;
        cfg.recent_floor = Some(floor);
        let mut p = PredictivePolicy::new(cfg).unwrap();
        // 4 replicas, load 20 req/s → reactive ceil(20/10) = 2; recent peak 45 req/s × 1.2 =
        // 54 → 6 (within the scale-up limit of max(2·4, 4 + 4) = 8)
        let d = p
            .decide(0.0, 4, 20.0, None, Some(45.0), None, None)
            .unwrap();
        assert_eq!((d.replicas, d.reason), (6, Reason::RecentPeak), "{comb:?}");
        assert_eq!(
            (d.explain.floor, d.explain.recent_load),
            (Some(6), Some(45.0))
        );
        // below the reactive value the floor does not lead
        let d = p
            .decide(15.0, 6, 80.0, None, Some(45.0), None, None)
            .unwrap();
        assert_eq!((d.replicas, d.reason), (8, Reason::Reactive), "{comb:?}");
    }
    // without a floor configured the recent load is ignored
    let mut p = PredictivePolicy::new(forecast_sized(10.0, 1, 1000)).unwrap();
    let d = p
        .decide(0.0, 2, 20.0, None, Some(45.0), None, None)
        .unwrap();
    assert_eq!((d.replicas, d.explain.floor), (2, None));
    // bad settings name their field
    for (bad, field) in [
        (
            RecentFloor {
                window_seconds: 0.0,
                ..floor
            },
            "window_seconds",
        ),
        (
            RecentFloor {
                quantile: 0.0,
                ..floor
            },
            "quantile",
        ),
        (
            RecentFloor {
                quantile: 1.5,
                ..floor
            },
            "quantile",
        ),
        (
            RecentFloor {
                factor: f64::NAN,
                ..floor
            },
            "factor",
        ),
    ] {
        let mut cfg = forecast_sized(10.0, 1, 1000);
        cfg.recent_floor = Some(bad);
        let e = PredictivePolicy::new(cfg).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}

/// A lead past a week is refused; a week exactly is fine.
#[test]
fn the_lead_is_at_most_a_week() {
    let mut cfg = forecast_sized(10.0, 1, 100);
    cfg.startup_seconds = 604_800.0 - cfg.interval_seconds;
    PredictivePolicy::new(cfg.clone()).unwrap();
    for startup in [604_800.0, 1e300] {
        cfg.startup_seconds = startup;
        let e = PredictivePolicy::new(cfg.clone()).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter(m) if m.contains("at most 604800 (a week)")),
            "{e}"
        );
    }
}

#[test]
fn autoscaler_floor_reads_the_recent_history() {
    // steps of 60 s, a 3-minute window at its peak: after steps 100, 900, 300, 200 (per
    // minute) the window holds 900, 300, 200 → 15 req/s × 1.5 = 22.5 → 3 replicas of 10
    let mut policy = forecast_sized(10.0, 1, 100);
    policy.recent_floor = Some(RecentFloor {
        window_seconds: 180.0,
        quantile: 1.0,
        factor: 1.5,
    });
    policy.hpa.downscale_stabilization_seconds = 0;
    let cfg = AutoscalerConfig::new(
        60.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(1440)),
        policy,
    );
    let mut a = Autoscaler::new(cfg).unwrap();
    assert_eq!(a.recommend(0.0, 1).unwrap().explain.floor, None); // no history yet
    for (i, v) in [100.0, 900.0, 300.0, 200.0].into_iter().enumerate() {
        a.observe(60.0 * i as f64, v).unwrap();
    }
    let d = a.recommend(240.0, 1).unwrap();
    assert_eq!(d.explain.recent_load, Some(15.0));
    assert_eq!((d.explain.floor, d.replicas), (Some(3), 3));
    // a missing step inside the window is skipped; the peak leaves the window
    a.observe(240.0, f64::NAN).unwrap();
    a.observe(300.0, 120.0).unwrap();
    let d = a.recommend(360.0, 3).unwrap();
    assert_eq!(d.explain.recent_load, Some(200.0 / 60.0)); // window: 200, NaN, 120
    assert_eq!(d.explain.floor, Some(1));
    // the floor survives a save and restore, decisions bit-identical
    let mut b = Autoscaler::from_json(&a.to_json().unwrap()).unwrap();
    let (x, y) = (
        a.recommend(375.0, 2).unwrap(),
        b.recommend(375.0, 2).unwrap(),
    );
    assert_eq!(x, y);
}

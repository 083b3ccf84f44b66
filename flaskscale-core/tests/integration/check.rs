//! The bad inputs of the hardening matrix that reach the core: each is refused with a typed
//! error naming the fault, never a panic, an abort, or a silent acceptance.

use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig, STATE_VERSION};
use flaskscale_core::forecast::{
    Fitted, FittedModel, Forecaster, LinearTrend, ModelSpec, Naive, SeasonalNaive,
};
use flaskscale_core::policy::{HpaConfig, PredictiveConfig};
use flaskscale_core::Error;
use serde_json::Value;

/// An autoscaler on an hourly grid with 48 complete hours, a decision and an open 49th hour,
/// saved as JSON.
fn saved_autoscaler() -> Value {
    let mut cfg = AutoscalerConfig::new(
        3600.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        PredictiveConfig::new(10.0, 1, 100),
    );
    cfg.max_history = 100;
    let mut a = Autoscaler::new(cfg).unwrap();
    let t0 = 1.7e9 - 1.7e9 % 3600.0;
    for i in 0..48 {
        a.observe(t0 + f64::from(i) * 3600.0, 50.0 + f64::from(i % 24))
            .unwrap();
    }
    a.recommend(t0 + 48.5 * 3600.0, 5).unwrap();
    // the 49th step is open
    a.observe(t0 + 48.6 * 3600.0, 3.0).unwrap();
    serde_json::from_str(&a.to_json().unwrap()).unwrap()
}

/// The state with the value at `pointer` replaced, loaded.
fn load_edited(saved: &Value, pointer: &str, value: Value) -> Result<Autoscaler, Error> {
    let mut v = saved.clone();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the saved state")) = value;
    Autoscaler::from_json(&v.to_string())
}

fn parse_error_saying(r: Result<Autoscaler, Error>, words: &str) {
    match r {
        Err(Error::Parse { message, .. }) => {
            assert!(message.contains(words), "{message:?} lacks {words:?}")
        }
        Err(other) => panic!("expected a parse error saying {words:?}, got {other:?}"),
        Ok(_) => panic!("an edited state saying {words:?} was loaded"),
    }
}

#[test]
fn an_unedited_state_loads_as_saved() {
    let saved = saved_autoscaler();
    let a = Autoscaler::from_json(&saved.to_string()).unwrap();
    let again: Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert_eq!(again, saved);
}

#[test]
fn edited_states_with_impossible_values_are_parse_errors() {
    let s = saved_autoscaler();
    parse_error_saying(
        load_edited(&s, "/autoscaler/history/3", Value::from(-1.0)),
        "history value -1 at step 3",
    );
    // the quantile of the policy inside, not of the settings it was built from
    parse_error_saying(
        load_edited(&s, "/autoscaler/policy/config/quantile", Value::from(2.0)),
        "does not match",
    );
    parse_error_saying(
        load_edited(&s, "/autoscaler/config/policy/quantile", Value::from(2.0)),
        "quantile must be in (0, 1), got 2",
    );
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/config/policy/capacity_per_replica",
            Value::from(0.0),
        ),
        "capacity_per_replica must be finite and > 0, got 0",
    );
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/policy/config/capacity_per_replica",
            Value::from(0.0),
        ),
        "does not match",
    );
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/config/policy/hpa/minReplicas",
            Value::from(200),
        ),
        "minReplicas (200) must not exceed maxReplicas (100)",
    );
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/policy/hpa/config/maxReplicas",
            Value::from(0),
        ),
        "does not match",
    );
    parse_error_saying(
        load_edited(&s, "/autoscaler/config/max_history", Value::from(10)),
        "48 steps of history, more than max_history 10",
    );
    // the open step is the 49th; step 3 is long complete
    parse_error_saying(
        load_edited(&s, "/autoscaler/open/0", Value::from(3)),
        "the open step 3 is before the end of the history (step 48)",
    );
}

#[test]
fn a_newer_format_version_is_refused() {
    let s = saved_autoscaler();
    parse_error_saying(
        load_edited(&s, "/version", Value::from(STATE_VERSION + 1)),
        "is not readable by this build",
    );
}

/// A fitted model's JSON with `field` set to `value`, loaded.
fn model_edited(f: &FittedModel, field: &str, value: f64) -> Result<FittedModel, Error> {
    let mut v: Value = serde_json::to_value(f).unwrap();
    assert!(v.get(field).is_some(), "no {field} in {v}");
    v[field] = Value::from(value);
    FittedModel::from_json(&v.to_string())
}

#[test]
fn edited_models_that_would_forecast_garbage_are_refused() {
    let y: Vec<f64> = (0..50).map(|i| 10.0 + f64::from(i)).collect();
    let naive = FittedModel::Naive(Naive.fit(&y).unwrap());
    assert!(model_edited(&naive, "last", 12.0).is_ok());
    let e = model_edited(&naive, "last", -1.0).unwrap_err();
    assert!(e.to_string().contains("last value -1"), "{e}");
    let line = FittedModel::LinearTrend(LinearTrend::default().fit(&y).unwrap());
    // the fitted slope is 1 by construction
    assert!((line.predict(1, &[]).unwrap().mean[0] - 60.0).abs() < 1e-9);
    assert!(model_edited(&line, "slope", 2.0).is_ok());
    let e = model_edited(&line, "slope", 1e308).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e:?}");
    assert!(e.to_string().contains("not finite"), "{e}");
}

#[test]
fn a_millisecond_timestamp_after_seconds_is_refused_and_keeps_the_history() {
    let s = saved_autoscaler();
    let mut a = Autoscaler::from_json(&s.to_string()).unwrap();
    let before = a.history();
    let e = a.observe(1.7e12, 5.0).unwrap_err();
    assert!(matches!(e, Error::InvalidData(_)), "{e:?}");
    assert!(e.to_string().contains("milliseconds"), "{e}");
    assert_eq!(a.history().len(), before.len());
    assert_eq!(
        a.to_json().unwrap(),
        Autoscaler::from_json(&s.to_string())
            .unwrap()
            .to_json()
            .unwrap()
    );
}

#[test]
fn forecasts_bound_their_levels_and_size() {
    let f = Naive.fit(&[1.0, 2.0, 3.0]).unwrap();
    // 2,000 levels over a million steps asked for 32 GB and aborted
    let levels: Vec<f64> = (1..=2000).map(|i| f64::from(i) / 2001.0).collect();
    let e = f.predict(1_000_000, &levels).unwrap_err();
    assert!(matches!(e, Error::InvalidParameter(_)), "{e:?}");
    assert!(e.to_string().contains("at most 100 interval levels"), "{e}");
    let e = f.predict(1_000_000, &levels[..60]).unwrap_err();
    assert!(e.to_string().contains("numbers"), "{e}");
    assert_eq!(f.predict(1000, &levels[..60]).unwrap().intervals.len(), 60);
}

#[test]
fn deeply_nested_and_huge_configs_are_parse_errors() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(matches!(
        HpaConfig::from_json(&deep),
        Err(Error::Parse { .. })
    ));
    let huge = format!(
        r#"{{"maxReplicas": {}, "target": {{"type": "AverageValue", "averageValue": 5}}}}"#,
        "9".repeat(5000)
    );
    let e = HpaConfig::from_json(&huge).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e:?}");
    let truthy = r#"{"maxReplicas": true, "target": {"type": "AverageValue", "averageValue": 5}}"#;
    assert!(matches!(
        HpaConfig::from_json(truthy),
        Err(Error::Parse { .. })
    ));
}

/// Every model's settings are checked without data by `ModelSpec::validate`, the check its
/// fit starts with: a bad setting is refused there with the same error the fit gives.
#[test]
fn model_specs_validate_before_any_data() {
    use flaskscale_core::forecast::{
        default_candidates, AutoForecaster, Combine, Drift, Ensemble, FourierRegression,
        HoltWinters, MultiSeasonalNaive, Seasonal, Trend,
    };
    let y: Vec<f64> = (0..400).map(|i| 10.0 + f64::from(i % 24)).collect();
    for spec in default_candidates(&[24, 168], 400) {
        spec.validate().unwrap();
    }
    let bad = [
        ModelSpec::SeasonalNaive(SeasonalNaive::new(1)),
        ModelSpec::LinearTrend(LinearTrend::with_window(2)),
        ModelSpec::FourierRegression(FourierRegression::new(vec![(24.0, 12)])),
        ModelSpec::FourierRegression(FourierRegression::new(vec![])),
        ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![24, 1])),
        ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![])),
        ModelSpec::HoltWinters(HoltWinters::with(Some(1), Trend::None, Seasonal::Additive)),
        ModelSpec::HoltWinters(HoltWinters {
            alpha: Some(1.5),
            ..HoltWinters::new(24)
        }),
        ModelSpec::Ensemble(Ensemble::new(vec![], Combine::Mean)),
        ModelSpec::Ensemble(Ensemble::new(
            vec![
                ModelSpec::Drift(Drift),
                ModelSpec::SeasonalNaive(SeasonalNaive::new(0)),
            ],
            Combine::Median,
        )),
        ModelSpec::Auto(AutoForecaster {
            horizon: 0,
            ..AutoForecaster::default()
        }),
        ModelSpec::Auto(AutoForecaster {
            candidates: Some(vec![ModelSpec::LinearTrend(LinearTrend::with_window(1))]),
            ..AutoForecaster::default()
        }),
    ];
    for spec in &bad {
        let e = spec.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter(_)), "{spec:?}: {e:?}");
        // the fit refuses it with the same words (an auto forecaster fits its candidates in
        // the backtest, where a failing one is dropped, so only its own settings apply)
        if !matches!(spec, ModelSpec::Auto(a) if a.candidates.is_some()) {
            assert_eq!(
                spec.fit(&y).unwrap_err().to_string(),
                e.to_string(),
                "{spec:?}"
            );
        }
    }
    let e = bad[9].validate().unwrap_err().to_string();
    assert!(
        e.contains("ensemble member 1") && e.contains("season length"),
        "{e}"
    );
    let e = bad[11].validate().unwrap_err().to_string();
    assert!(e.contains("candidate 0") && e.contains("window"), "{e}");
}

/// A saved autoscaler's model settings go through the same check: an edited season length
/// is a parse error naming it, not a fit error at every later step.
#[test]
fn an_edited_model_spec_in_a_saved_state_is_a_parse_error() {
    let s = saved_autoscaler();
    parse_error_saying(
        load_edited(&s, "/autoscaler/config/model/season_length", Value::from(1)),
        "settings: season length must be >= 2",
    );
    let mut cfg = AutoscalerConfig::new(
        60.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(1)),
        PredictiveConfig::new(10.0, 1, 100),
    );
    assert!(matches!(
        Autoscaler::new(cfg.clone()),
        Err(Error::InvalidParameter(_))
    ));
    cfg.model = ModelSpec::SeasonalNaive(SeasonalNaive::new(30));
    assert!(Autoscaler::new(cfg).is_ok());
}

/// An autoscaler on a minute grid whose half-hour phase predictor is calibrated (its phase
/// quantile set), saved as JSON.
fn saved_with_phase_quantile() -> Value {
    let mut cfg = AutoscalerConfig::new(
        60.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(30)),
        PredictiveConfig::new(10.0, 1, 100),
    );
    cfg.max_history = 2000;
    let mut a = Autoscaler::new(cfg).unwrap();
    let t0 = 1.7e9 - 1.7e9 % 3600.0;
    let mut current = 1;
    for i in 0..900 {
        let t = t0 + f64::from(i) * 60.0;
        // a burst at minute 7 of every half hour over a level with a little wobble
        let v = 200.0 + 15.0 * f64::from(i % 7) + if i % 30 == 7 { 300.0 } else { 0.0 };
        a.observe(t, v).unwrap();
        current = a.recommend(t + 60.0, current).unwrap().replicas;
    }
    serde_json::from_str(&a.to_json().unwrap()).unwrap()
}

#[test]
fn an_edited_phase_quantile_is_a_parse_error() {
    let s = saved_with_phase_quantile();
    // the phase predictor is the fifth; it has a quantile for the next step's phase
    let pq = s
        .pointer("/autoscaler/calibration/tracks/4/phase_quantile")
        .expect("a phase quantile in the saved state")
        .clone();
    let (ph, e) = (pq[0].as_u64().unwrap(), pq[1].as_f64().unwrap());
    assert!(ph < 30, "{pq}");
    assert!(Autoscaler::from_json(&s.to_string()).is_ok());
    let at = "/autoscaler/calibration/tracks/4/phase_quantile";
    // an error quantile far outside the errors it is a quantile of
    parse_error_saying(
        load_edited(&s, at, serde_json::json!([ph, 1e6])),
        "phase quantile",
    );
    parse_error_saying(
        load_edited(&s, at, serde_json::json!([ph, -1e6])),
        "phase quantile",
    );
    // a phase no cycle has
    parse_error_saying(
        load_edited(&s, at, serde_json::json!([4_000_000_000u64, e])),
        "phase quantile",
    );
    // on a predictor other than the phase one
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/calibration/tracks/1/phase_quantile",
            serde_json::json!([ph, e]),
        ),
        "level predictor's phase quantile",
    );
    // a phase in the kept errors that would make the load allocate a list per phase up to it
    parse_error_saying(
        load_edited(
            &s,
            "/autoscaler/calibration/tracks/4/phases/0",
            Value::from(4_000_000_000u64),
        ),
        "phase 4000000000 is not below 1000000",
    );
}

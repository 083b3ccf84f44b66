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

//! Fitted states read from outside (saved models, restored autoscalers): every state the
//! library writes reads back, and an edited one is either refused with a typed error or
//! forecasts and updates without a panic.

use flaskscale_core::forecast::{
    default_candidates, AutoForecaster, Combine, Ensemble, Fitted, FittedModel, HoltWinters,
    ModelSpec, Naive, Seasonal, SeasonalNaive, Trend,
};
use flaskscale_core::Error;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// 10 days of hourly load: a daily cycle, a slow trend, a few gaps.
fn hourly() -> Vec<f64> {
    (0..240)
        .map(|t| {
            if t % 97 == 50 {
                f64::NAN
            } else {
                let day = (t % 24) as f64 / 24.0 * std::f64::consts::TAU;
                100.0 + 0.1 * t as f64 + 40.0 * day.sin() + ((t * 37) % 11) as f64
            }
        })
        .collect()
}

fn specs() -> Vec<ModelSpec> {
    let mut s = default_candidates(&[24, 48], 240);
    s.push(ModelSpec::HoltWinters(HoltWinters::with(
        Some(24),
        Trend::AdditiveDamped,
        Seasonal::Multiplicative,
    )));
    s.push(ModelSpec::HoltWinters(HoltWinters::with(
        None,
        Trend::Additive,
        Seasonal::None,
    )));
    s.push(ModelSpec::Ensemble(Ensemble::new(
        vec![
            ModelSpec::Naive(Naive),
            ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        ],
        Combine::Median,
    )));
    s.push(ModelSpec::Auto(AutoForecaster {
        season_lengths: Some(vec![24]),
        horizon: 12,
        n_origins: 3,
        ..AutoForecaster::default()
    }));
    s
}

#[test]
fn every_fitted_state_reads_back_before_and_after_updates() {
    let y = hourly();
    for spec in specs() {
        let mut f = spec.fit(&y[..200]).unwrap();
        for _ in 0..2 {
            let text = serde_json::to_string(&f).unwrap();
            let back = FittedModel::from_json(&text).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
            assert_eq!(back, f, "{spec:?}");
            f.update(&y[200..]).unwrap();
        }
    }
}

/// Replacement values for one leaf of the JSON tree.
fn edits(v: &Value) -> Vec<Value> {
    match v {
        Value::Number(_) => [
            "0",
            "1",
            "2",
            "-1",
            "0.5",
            "1e308",
            "1000000000",
            "18446744073709551615",
        ]
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect(),
        Value::Array(a) => {
            let mut out = vec![Value::Array(vec![])];
            if !a.is_empty() {
                out.push(Value::Array(a[..a.len() - 1].to_vec()));
                let mut longer = a.clone();
                longer.push(a[0].clone());
                out.push(Value::Array(longer));
            }
            out
        }
        _ => vec![],
    }
}

/// Every path to a number or array in `v`, as JSON pointers.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            out.push(at.clone());
            // the first two elements stand for the rest (members, periods, ...)
            for (i, x) in a.iter().take(2).enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        Value::Number(_) => out.push(at),
        _ => {}
    }
}

#[test]
fn edited_states_are_refused_or_forecast_without_panicking() {
    let y = hourly();
    let (mut refused, mut accepted) = (0usize, 0usize);
    for spec in specs() {
        let fitted = spec.fit(&y[..200]).unwrap();
        let tree = serde_json::to_value(&fitted).unwrap();
        let mut paths = Vec::new();
        leaves(&tree, String::new(), &mut paths);
        for path in &paths {
            for new in edits(tree.pointer(path).unwrap()) {
                let mut t = tree.clone();
                *t.pointer_mut(path).unwrap() = new.clone();
                let text = serde_json::to_string(&t).unwrap();
                let run = catch_unwind(AssertUnwindSafe(|| match FittedModel::from_json(&text) {
                    Err(Error::Parse { message, .. }) => {
                        assert!(!message.is_empty());
                        false
                    }
                    Err(e) => panic!("{path} = {new}: not a parse error: {e:?}"),
                    Ok(mut f) => {
                        // horizons past a season and past a refresh of the linear window
                        let _ = f.predict(60, &[0.8, 0.95]);
                        let _ = f.update(&y[200..]);
                        let _ = f.predict(60, &[0.8]);
                        true
                    }
                }));
                match run {
                    Ok(true) => accepted += 1,
                    Ok(false) => refused += 1,
                    Err(_) => panic!("{}: {path} = {new} panicked", fitted.name()),
                }
            }
        }
    }
    // both outcomes occur: the check refuses broken shapes and lets plain values through
    assert!(
        refused > 100 && accepted > 100,
        "{refused} refused, {accepted} accepted"
    );
}

/// The hand-picked edits of the sweep that found the panics, each refused with what is wrong.
#[test]
fn broken_shapes_are_named() {
    let y = hourly();
    let sn = serde_json::to_value(
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24))
            .fit(&y)
            .unwrap(),
    )
    .unwrap();
    let hw = serde_json::to_value(
        ModelSpec::HoltWinters(HoltWinters::new(24))
            .fit(&y)
            .unwrap(),
    )
    .unwrap();
    let cases = [
        (&sn, "/m", Value::from(0), "season length 0 < 2"),
        (
            &sn,
            "/pos",
            Value::from(24),
            "season position 24 outside 0..24",
        ),
        (
            &sn,
            "/season",
            Value::Array(vec![]),
            "holds 0 seasonal values for season length 24",
        ),
        (
            &hw,
            "/m",
            Value::from(1),
            "Holt-Winters season length 1 < 2",
        ),
        (
            &hw,
            "/m",
            Value::from(25),
            "holds 24 seasonal values for season length 25",
        ),
        (
            &hw,
            "/pos",
            Value::from(1_000_000_000),
            "position 1000000000 outside 0..24",
        ),
        (
            &hw,
            "/alpha",
            Value::from(1.5),
            "alpha = 1.5 outside [0, 1]",
        ),
    ];
    for (tree, path, new, want) in cases {
        let mut t = tree.clone();
        *t.pointer_mut(path).unwrap() = new;
        let err = FittedModel::from_json(&t.to_string()).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { message, .. } if message.contains(want)
                && message.contains("does not match its format")),
            "{path}: {err}"
        );
    }
}

/// A restored autoscaler checks its fitted model the same way.
#[test]
fn a_restored_autoscaler_refuses_an_edited_model() {
    use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
    use flaskscale_core::policy::PredictiveConfig;
    let cfg = AutoscalerConfig::new(
        3600.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        PredictiveConfig::new(10.0, 1, 100),
    );
    let mut a = Autoscaler::new(cfg).unwrap();
    for (i, v) in hourly().iter().enumerate() {
        a.observe(i as f64 * 3600.0, *v).unwrap();
    }
    a.recommend(240.0 * 3600.0, 5).unwrap();
    assert!(a.model().is_some());
    let saved: Value = serde_json::from_str(&a.to_json().unwrap()).unwrap();
    assert!(Autoscaler::from_json(&saved.to_string()).is_ok());
    let mut edited = saved.clone();
    *edited.pointer_mut("/autoscaler/fitted/pos").unwrap() = Value::from(99);
    let err = Autoscaler::from_json(&edited.to_string()).unwrap_err();
    assert!(
        err.to_string()
            .contains("saved seasonal_naive model does not match its format"),
        "{err}"
    );
}

/// A state saved in its first steps, while the count sizing's predictors have asked for nothing
/// yet (their pending `need` is NaN, `null` in JSON), reads back and decides as the original.
#[test]
fn an_autoscaler_saved_before_its_predictors_are_calibrated_reads_back() {
    use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
    use flaskscale_core::policy::PredictiveConfig;
    let cfg = AutoscalerConfig::new(
        60.0,
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        PredictiveConfig::new(1.0, 1, 100),
    );
    let mut a = Autoscaler::new(cfg).unwrap();
    for i in 0..5 {
        a.observe(i as f64 * 60.0, 60.0).unwrap();
        a.recommend((i + 1) as f64 * 60.0, 1).unwrap();
    }
    let text = a.to_json().unwrap();
    assert!(
        text.contains("\"need\":null"),
        "no uncalibrated prediction saved: {text}"
    );
    let mut b = Autoscaler::from_json(&text).unwrap();
    assert_eq!(b.to_json().unwrap(), text);
    a.observe(300.0, 90.0).unwrap();
    b.observe(300.0, 90.0).unwrap();
    assert_eq!(
        a.recommend(360.0, 1).unwrap(),
        b.recommend(360.0, 1).unwrap()
    );
}

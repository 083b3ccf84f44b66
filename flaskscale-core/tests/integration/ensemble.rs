//! `MultiSeasonalNaive` and `Ensemble` (forecast/ensemble.rs) against their members' forecasts
//! combined by hand.

use crate::common::{rel_close as close, two_cycles};
use flaskscale_core::{
    Combine, Drift, Ensemble, Error, Fitted, Forecaster, FourierRegression, LinearTrend, ModelSpec,
    MultiSeasonalNaive, Naive, SeasonalNaive,
};

#[test]
fn multi_seasonal_naive_is_mean_of_single_period_forecasts() {
    let y: Vec<f64> = (0..400).map(|t| ((t * 37) % 101) as f64).collect();
    let a = SeasonalNaive::new(24)
        .fit(&y)
        .unwrap()
        .predict(30, &[])
        .unwrap();
    let b = SeasonalNaive::new(168)
        .fit(&y)
        .unwrap()
        .predict(30, &[])
        .unwrap();
    let mut m = MultiSeasonalNaive::new(vec![24, 168]).fit(&y).unwrap();
    let fc = m.predict(30, &[]).unwrap();
    for h in 0..30 {
        assert!((fc.mean[h] - (a.mean[h] + b.mean[h]) / 2.0).abs() < 1e-12);
        assert!((fc.sd[h] - (a.sd[h] + b.sd[h]) / 2.0).abs() < 1e-12);
    }
    // h = 1 by hand: yesterday's and last week's value at this hour
    assert!((fc.mean[0] - (y[400 - 24] + y[400 - 168]) / 2.0).abs() < 1e-12);
    m.update(&[7.0]).unwrap();
    let fc = m.predict(1, &[]).unwrap();
    assert!((fc.mean[0] - (y[401 - 24] + y[401 - 168]) / 2.0).abs() < 1e-12);
    assert!(MultiSeasonalNaive::new(vec![]).fit(&y).is_err());
    assert!(MultiSeasonalNaive::new(vec![24, 500]).fit(&y).is_err());
}

#[test]
fn multi_seasonal_naive_with_gaps_fills_once_and_keeps_the_count() {
    // the gaps are filled once for all members: the same forecast as each member fitted on
    // the gappy series itself, and the filled count survives online updates
    let mut y: Vec<f64> = (0..400).map(|t| ((t * 37) % 101) as f64).collect();
    for t in [3, 50, 51, 52, 250, 399] {
        y[t] = f64::NAN;
    }
    let a = SeasonalNaive::new(24).fit(&y).unwrap();
    let b = SeasonalNaive::new(168).fit(&y).unwrap();
    let mut m = MultiSeasonalNaive::new(vec![24, 168]).fit(&y).unwrap();
    assert_eq!(m.fit_info().n_filled, 6);
    let (fa, fb, fc) = (
        a.predict(30, &[]).unwrap(),
        b.predict(30, &[]).unwrap(),
        m.predict(30, &[]).unwrap(),
    );
    for h in 0..30 {
        assert_eq!(fc.mean[h], (fa.mean[h] + fb.mean[h]) / 2.0);
        assert_eq!(fc.sd[h], (fa.sd[h] + fb.sd[h]) / 2.0);
    }
    // sigma by hand: root mean square of the season-24 differences of the filled series
    let mut filled = y.clone();
    flaskscale_core::series::interpolate_gaps(&mut filled).unwrap();
    let ss: f64 = (24..400)
        .map(|t| (filled[t] - filled[t - 24]).powi(2))
        .sum();
    assert!((a.fit_info().sigma - (ss / 376.0).sqrt()).abs() < 1e-9);
    m.update(&[7.0, f64::NAN]).unwrap();
    assert_eq!(m.fit_info().n_filled, 6);
}

#[test]
fn ensemble_mean_and_median_by_hand() {
    // naive: 10; drift: 10 + h·(10−1)/9 = 10 + h; seasonal naive m=2: y[8], y[9] alternating
    let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
    let members = vec![
        ModelSpec::Naive(Naive),
        ModelSpec::Drift(Drift),
        ModelSpec::SeasonalNaive(SeasonalNaive::new(2)),
    ];
    let mean = Ensemble::new(members.clone(), Combine::Mean)
        .fit(&y)
        .unwrap()
        .predict(2, &[])
        .unwrap();
    assert!((mean.mean[0] - (10.0 + 11.0 + 9.0) / 3.0).abs() < 1e-12);
    assert!((mean.mean[1] - (10.0 + 12.0 + 10.0) / 3.0).abs() < 1e-12);
    let med = Ensemble::new(members, Combine::Median)
        .fit(&y)
        .unwrap()
        .predict(2, &[])
        .unwrap();
    assert!((med.mean[0] - 10.0).abs() < 1e-12);
    assert!((med.mean[1] - 10.0).abs() < 1e-12);
}

#[test]
fn ensemble_serde_round_trip_update_and_member_errors() {
    let spec = ModelSpec::Ensemble(Ensemble::new(
        vec![
            ModelSpec::LinearTrend(LinearTrend::with_window(48)),
            ModelSpec::Ensemble(Ensemble::new(
                vec![ModelSpec::FourierRegression(FourierRegression::new(vec![
                    (24.0, 2),
                ]))],
                Combine::Median,
            )),
        ],
        Combine::Mean,
    ));
    let json = serde_json::to_string(&spec).unwrap();
    assert!(json.contains(r#""model":"ensemble""#), "{json}");
    assert!(json.contains(r#""model":"fourier_regression""#));
    assert!(json.contains(r#""combine":"median""#));
    let back: ModelSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);

    let y: Vec<f64> = (0..200).map(|t| two_cycles(t as f64)).collect();
    let mut f = spec.fit(&y[..150]).unwrap();
    f.update(&y[150..]).unwrap();
    assert_eq!(f.fit_info().n_obs, 200);
    let saved = serde_json::to_string(&f).unwrap();
    let g: flaskscale_core::FittedModel = serde_json::from_str(&saved).unwrap();
    // serde_json's default float parsing may differ in the last bit: compare with a tolerance
    let (a, b) = (g.predict(5, &[0.9]).unwrap(), f.predict(5, &[0.9]).unwrap());
    for h in 0..5 {
        assert!(close(a.mean[h], b.mean[h], 1e-12) && close(a.sd[h], b.sd[h], 1e-12));
    }

    // a member that cannot fit fails the ensemble, with that member's error kind
    let bad = Ensemble::new(
        vec![
            ModelSpec::Naive(Naive),
            ModelSpec::SeasonalNaive(SeasonalNaive::new(500)),
        ],
        Combine::Mean,
    );
    match bad.fit(&y) {
        Err(Error::NotEnoughData { what, .. }) => assert!(what.contains("member 1"), "{what}"),
        other => panic!("expected not enough data, got {other:?}"),
    }
    assert!(matches!(
        Ensemble::new(vec![], Combine::Mean).fit(&y),
        Err(Error::InvalidParameter(_))
    ));
}

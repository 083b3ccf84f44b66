//! The forecast contract (forecast/contract.rs) for the linear, Fourier, multi-seasonal and
//! ensemble models: finite forecasts with ordered, nested bands after updates, flat ones on
//! constant data; quantiles that match the intervals, capped horizons and a finite band at a
//! level next to 1.

use crate::common::close;
use flaskscale_core::forecast::dist::normal_quantile;
use flaskscale_core::{
    Combine, Ensemble, Error, Fitted, Forecaster, FourierRegression, LinearTrend, ModelSpec,
    MultiSeasonalNaive, Naive, SeasonalNaive,
};
use proptest::prelude::*;

fn specs() -> Vec<ModelSpec> {
    vec![
        ModelSpec::LinearTrend(LinearTrend::new()),
        ModelSpec::LinearTrend(LinearTrend::with_window(10)),
        ModelSpec::FourierRegression(FourierRegression::new(vec![(7.0, 2), (12.5, 1)])),
        ModelSpec::FourierRegression(FourierRegression::new(vec![(7.0, 3)]).with_log(true)),
        ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![3, 7])),
        ModelSpec::Ensemble(Ensemble::new(
            vec![
                ModelSpec::LinearTrend(LinearTrend::new()),
                ModelSpec::FourierRegression(FourierRegression::new(vec![(7.0, 1)])),
                ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![7])),
            ],
            Combine::Median,
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn forecasts_finite_ordered_and_nested(
        y in proptest::collection::vec(0.0f64..1e6, 30..120),
        extra in proptest::collection::vec(0.0f64..1e6, 0..10),
        h in 1usize..40,
    ) {
        for spec in specs() {
            let mut f = spec.fit(&y).unwrap();
            f.update(&extra).unwrap();
            let fc = f.predict(h, &[0.5, 0.8, 0.99]).unwrap();
            let (a, b, c) = (&fc.intervals[0], &fc.intervals[1], &fc.intervals[2]);
            for i in 0..h {
                prop_assert!(fc.mean[i].is_finite() && fc.sd[i].is_finite() && fc.sd[i] >= 0.0);
                prop_assert!(c.lower[i] <= b.lower[i] && b.lower[i] <= a.lower[i]);
                prop_assert!(a.lower[i] <= fc.mean[i] && fc.mean[i] <= a.upper[i]);
                prop_assert!(a.upper[i] <= b.upper[i] && b.upper[i] <= c.upper[i]);
                prop_assert!(c.upper[i].is_finite() && c.lower[i].is_finite());
            }
        }
    }
}

#[test]
fn constant_and_zero_series_give_finite_flat_forecasts() {
    for level in [0.0, 42.0] {
        let y = vec![level; 60];
        for spec in specs() {
            let f = spec.fit(&y).unwrap();
            let fc = f.predict(10, &[0.9]).unwrap();
            for (m, s) in fc.mean.iter().zip(&fc.sd) {
                assert!((m - level).abs() < 1e-6 * (1.0 + level), "{spec:?}: {m}");
                assert!(s.is_finite() && *s < 1e-6 * (1.0 + level), "{spec:?}: {s}");
            }
        }
    }
    // too many harmonics or a period longer than the history: errors, not panics
    let y = vec![1.0; 60];
    assert!(matches!(
        FourierRegression::new(vec![(1000.0, 101)]).fit(&y),
        Err(Error::InvalidParameter(_))
    ));
    assert!(matches!(
        MultiSeasonalNaive::new(vec![usize::MAX]).fit(&y),
        Err(Error::NotEnoughData { .. })
    ));
}

#[test]
fn forecast_quantile_matches_intervals() {
    let f = SeasonalNaive::new(3)
        .fit(&[1.0, 5.0, 9.0, 2.0, 6.0, 8.0, 1.0])
        .unwrap();
    let fc = f.predict(4, &[0.9]).unwrap();
    let q95 = fc.quantile(0.95).unwrap();
    for h in 0..4 {
        close(q95[h], fc.intervals[0].upper[h], 1e-9);
    }
    close(normal_quantile(0.05), -normal_quantile(0.95), 1e-15);
}

/// A horizon past the cap is refused before any memory is taken; the cap itself forecasts.
#[test]
fn horizons_are_capped() {
    use flaskscale_core::forecast::MAX_HORIZON;
    let f = ModelSpec::Naive(Naive).fit(&[1.0, 2.0, 4.0]).unwrap();
    assert_eq!(f.predict(MAX_HORIZON, &[]).unwrap().mean.len(), MAX_HORIZON);
    for h in [MAX_HORIZON + 1, 1_000_000_000, usize::MAX] {
        let e = f.predict(h, &[0.8]).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter(m) if m.contains("at most 1000000 steps")),
            "{e}"
        );
    }
}

/// Levels next to 1 give wide but finite bands: z = Φ⁻¹(1 − 5.55e-17) ≈ 8.29 for level 1 − 1e-16
/// (which is 1 − 2⁻⁵³ as a float), where (1 + level)/2 would round to 1 and z to infinity.
#[test]
fn a_level_next_to_one_has_a_finite_band() {
    let f = ModelSpec::Naive(Naive).fit(&[1.0, 2.0, 4.0, 3.0]).unwrap();
    let fc = f.predict(2, &[0.8, 1.0 - 1e-16]).unwrap();
    let sigma = f.fit_info().sigma;
    let z = (fc.intervals[1].upper[0] - fc.mean[0]) / sigma;
    close(z, -normal_quantile((1.0 - (1.0 - 1e-16)) / 2.0), 1e-9);
    assert!(z > 8.2 && z < 8.4, "{z}");
    // the usual levels are unchanged: 80% is ±1.2816 σ
    close(
        (fc.intervals[0].upper[0] - fc.mean[0]) / sigma,
        1.281_551_565_545,
        1e-9,
    );
}

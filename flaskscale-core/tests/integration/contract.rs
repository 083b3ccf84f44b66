//! The forecast contract (forecast/contract.rs) for the linear, Fourier, multi-seasonal and
//! ensemble models: finite forecasts with ordered, nested bands after updates, flat ones on
//! constant data.

use flaskscale_core::{
    Combine, Ensemble, Error, Fitted, Forecaster, FourierRegression, LinearTrend, ModelSpec,
    MultiSeasonalNaive,
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

//! The baselines (forecast/baseline.rs: naive, seasonal naive, drift) against hand-worked
//! values, online updates equal to refits, and typed errors for bad input.

use crate::common::close;
use flaskscale_core::{Drift, Error, Fitted, Forecaster, ModelSpec, Naive, SeasonalNaive};
use proptest::prelude::*;

const Z975: f64 = 1.959_963_984_540_054;

#[test]
fn naive_hand_worked() {
    // y = 1 3 2 5 4: residuals 2 -1 3 -1, Σe² = 15 over 4 → σ = √3.75
    let f = Naive.fit(&[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
    let fc = f.predict(3, &[0.95]).unwrap();
    assert_eq!(fc.mean, vec![4.0; 3]);
    let s = 3.75f64.sqrt();
    for h in 0..3 {
        close(fc.sd[h], s * ((h + 1) as f64).sqrt(), 1e-12);
        close(fc.intervals[0].upper[h], 4.0 + Z975 * fc.sd[h], 1e-9);
    }
}

#[test]
fn seasonal_naive_hand_worked() {
    // m = 2, y = 1 3 2 5 4 6: residuals y_t − y_{t−2} = 1 2 2 1, Σe² = 10 over 4 → σ = √2.5
    let f = SeasonalNaive::new(2)
        .fit(&[1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
        .unwrap();
    let fc = f.predict(5, &[0.8]).unwrap();
    assert_eq!(fc.mean, vec![4.0, 6.0, 4.0, 6.0, 4.0]);
    let s = 2.5f64.sqrt();
    let k: [f64; 5] = [1.0, 1.0, 2.0, 2.0, 3.0]; // ⌊(h−1)/m⌋ + 1
    for h in 0..5 {
        close(fc.sd[h], s * k[h].sqrt(), 1e-12);
    }
    // 80% band: z = 1.2815515655446004
    close(
        fc.intervals[0].lower[0],
        4.0 - 1.281_551_565_544_600_5 * s,
        1e-9,
    );
}

#[test]
fn drift_hand_worked() {
    // y = 1 3 2 5 4: slope (4 − 1)/4 = 0.75; d − c = 1.25 −1.75 2.25 −1.75,
    // Σ = 12.75 over 3 → σ² = 4.25; sd_h = σ√(h(1 + h/4))
    let f = Drift.fit(&[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
    let fc = f.predict(2, &[]).unwrap();
    close(fc.mean[0], 4.75, 1e-12);
    close(fc.mean[1], 5.5, 1e-12);
    close(fc.sd[0], (4.25f64 * 1.25).sqrt(), 1e-12);
    close(fc.sd[1], (4.25f64 * 2.0 * 1.5).sqrt(), 1e-12);
}

#[test]
fn online_update_equals_refit_for_baselines() {
    let y: Vec<f64> = (0..200)
        .map(|i| {
            50.0 + 20.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()
                + (i * 37 % 11) as f64
        })
        .collect();
    for spec in [
        ModelSpec::Naive(Naive),
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        ModelSpec::Drift(Drift),
    ] {
        let full = spec.fit(&y).unwrap();
        let mut part = spec.fit(&y[..150]).unwrap();
        part.update(&y[150..]).unwrap();
        let (a, b) = (
            full.predict(30, &[0.9]).unwrap(),
            part.predict(30, &[0.9]).unwrap(),
        );
        for h in 0..30 {
            close(a.mean[h], b.mean[h], 1e-9);
            close(a.sd[h], b.sd[h], 1e-9);
        }
        assert_eq!(full.fit_info().n_obs, part.fit_info().n_obs);
    }
}

#[test]
fn gaps_are_interpolated_and_counted() {
    let f = Naive.fit(&[1.0, f64::NAN, f64::NAN, 4.0]).unwrap();
    assert_eq!(f.fit_info().n_filled, 2);
    // filled 1 2 3 4: residuals all 1
    close(f.fit_info().sigma, 1.0, 1e-12);
}

#[test]
fn bad_model_input_is_a_typed_error() {
    assert!(matches!(
        SeasonalNaive::new(1).fit(&[1.0; 10]),
        Err(Error::InvalidParameter(m)) if m.contains("got 1")
    ));
    assert!(matches!(
        SeasonalNaive::new(24).fit(&[1.0; 20]),
        Err(Error::NotEnoughData {
            needed: 25,
            got: 20,
            ..
        })
    ));
    assert!(matches!(
        Naive.fit(&[1.0]),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        Naive.fit(&[1.0, -2.0]),
        Err(Error::InvalidData(_))
    ));
    assert!(matches!(
        Naive.fit(&[f64::NAN; 3]),
        Err(Error::InvalidData(_))
    ));
    let f = Naive.fit(&[1.0, 2.0]).unwrap();
    assert!(matches!(f.predict(0, &[]), Err(Error::InvalidParameter(_))));
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(matches!(
            f.predict(3, &[bad]),
            Err(Error::InvalidParameter(_))
        ));
    }
    let mut f = f;
    assert!(f.update(&[1.0, f64::INFINITY]).is_err());
    assert_eq!(
        f.fit_info().n_obs,
        2,
        "a rejected update leaves the model unchanged"
    );
}

proptest! {
    #[test]
    fn baseline_bands_are_ordered_and_finite(
        vals in prop::collection::vec(0.0f64..1e6, 30..120),
        h in 1usize..60,
    ) {
        for spec in [
            ModelSpec::Naive(Naive),
            ModelSpec::SeasonalNaive(SeasonalNaive::new(7)),
            ModelSpec::Drift(Drift),
        ] {
            let fc = spec.fit(&vals).unwrap().predict(h, &[0.5, 0.8, 0.95]).unwrap();
            for i in 0..h {
                prop_assert!(fc.mean[i].is_finite());
                for w in fc.intervals.windows(2) {
                    prop_assert!(w[1].lower[i] <= w[0].lower[i]);
                    prop_assert!(w[0].upper[i] <= w[1].upper[i]);
                }
                prop_assert!(fc.intervals[0].lower[i] <= fc.mean[i]);
                prop_assert!(fc.mean[i] <= fc.intervals[0].upper[i]);
            }
        }
    }
}

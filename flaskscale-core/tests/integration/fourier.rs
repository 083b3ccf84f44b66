//! `FourierRegression` (forecast/fourier.rs) against noiseless sines, numpy's least squares
//! (recorded with its version) and seasonal naive on Wikipedia.

use crate::common::{load, normals, rel_close as close, two_cycles, WIKI_CSV as WIKI};
use flaskscale_core::forecast::FittedFourierRegression;
use flaskscale_core::metrics::mase;
use flaskscale_core::{
    Combine, Ensemble, Fitted, Forecaster, FourierRegression, LinearTrend, ModelSpec,
    MultiSeasonalNaive, SeasonalNaive,
};
use std::f64::consts::TAU;

#[test]
fn fourier_recovers_noiseless_sines_and_trend() {
    let y: Vec<f64> = (0..672).map(|t| two_cycles(t as f64)).collect();
    let f = FourierRegression::new(vec![(24.0, 3), (168.0, 2)])
        .fit(&y)
        .unwrap();
    // GCV on noiseless data: (almost) no penalty
    assert!(f.relative_penalty() <= 1e-8, "{}", f.relative_penalty());
    let fc = f.predict(72, &[0.95]).unwrap();
    for (h, m) in fc.mean.iter().enumerate() {
        let truth = two_cycles((672 + h) as f64);
        assert!((m - truth).abs() < 1e-5, "h={h}: {m} vs {truth}");
    }
    assert!(f.fit_info().sigma < 1e-5);
}

#[test]
fn fourier_non_integer_period_and_log_scale() {
    // period 10.5 steps, multiplicative swing: log1p(y) = 3 + 0.8·sin(2πt/10.5)
    let g = |t: f64| (3.0 + 0.8 * (TAU * t / 10.5).sin()).exp_m1();
    let y: Vec<f64> = (0..300).map(|t| g(t as f64)).collect();
    let f = FourierRegression::new(vec![(10.5, 2)])
        .with_log(true)
        .fit(&y)
        .unwrap();
    let fc = f.predict(21, &[0.8]).unwrap();
    for (h, m) in fc.mean.iter().enumerate() {
        assert!(close(*m, g((300 + h) as f64), 1e-6), "h={h}");
    }
}

#[test]
fn gcv_penalty_tiny_on_noiseless_larger_on_noise() {
    let spec = FourierRegression::new(vec![(24.0, 6), (168.0, 3)]);
    let clean: Vec<f64> = (0..800).map(|t| two_cycles(t as f64)).collect();
    let noise: Vec<f64> = normals(42, 800).iter().map(|e| 100.0 + 5.0 * e).collect();
    let a = spec.fit(&clean).unwrap();
    let b = spec.fit(&noise).unwrap();
    eprintln!(
        "gcv relative penalty / edf: noiseless {:.2e} / {:.2}, noise {:.2e} / {:.2}",
        a.relative_penalty(),
        a.effective_parameters(),
        b.relative_penalty(),
        b.effective_parameters()
    );
    assert!(a.relative_penalty() < 1e-8, "{}", a.relative_penalty());
    assert!(b.relative_penalty() > 1e-2, "{}", b.relative_penalty());
    // shrinkage shows in the effective number of parameters (p = 20)
    assert!(a.effective_parameters() > 19.9);
    assert!(
        b.effective_parameters() < 10.0,
        "{}",
        b.effective_parameters()
    );
}

#[test]
fn fourier_least_squares_matches_numpy_lstsq_on_wikipedia() {
    // flaskscale-core/tests/data/fourier_lstsq_numpy.txt: numpy.linalg.lstsq on its own design
    let text = include_str!("../data/fourier_lstsq_numpy.txt");
    let want: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (m, s) = l.trim().split_once(',').unwrap();
            (m.parse().unwrap(), s.parse().unwrap())
        })
        .collect();
    assert_eq!(want.len(), 48);
    let y = load(WIKI);
    let f = FourierRegression::new(vec![(24.0, 6), (168.0, 3)])
        .with_penalty(0.0)
        .fit(&y.values()[..696])
        .unwrap();
    let fc = f.predict(48, &[]).unwrap();
    for (h, (m, w)) in fc.mean.iter().zip(&want).enumerate() {
        assert!(
            ((m - w.0) / w.0).abs() < 1e-9,
            "h={h}: {m} vs numpy {}",
            w.0
        );
        // the OLS prediction sd σ√(1 + x'(XᵀX)⁻¹x): the parameter-uncertainty term at λ = 0
        assert!(
            ((fc.sd[h] - w.1) / w.1).abs() < 1e-7,
            "h={h}: sd {} vs numpy {}",
            fc.sd[h],
            w.1
        );
    }
}

#[test]
fn fourier_update_moves_origin_and_keeps_coefficients() {
    let y: Vec<f64> = (0..500).map(|t| two_cycles(t as f64)).collect();
    let mut f: FittedFourierRegression = FourierRegression::new(vec![(24.0, 3), (168.0, 2)])
        .fit(&y[..400])
        .unwrap();
    let coef = f.coefficients().to_vec();
    f.update(&y[400..]).unwrap();
    assert_eq!(f.coefficients(), &coef[..]);
    let fc = f.predict(5, &[]).unwrap();
    for (h, m) in fc.mean.iter().enumerate() {
        assert!((m - two_cycles((500 + h) as f64)).abs() < 1e-5);
    }
    // a residual of 1000 after a perfect fit raises the residual scale
    let s0 = f.fit_info().sigma;
    f.update(&[two_cycles(505.0) + 1000.0]).unwrap();
    assert!(f.fit_info().sigma > s0 + 1.0);
}

#[test]
fn wikipedia_backtest_fourier_beats_seasonal_naive() {
    let s = load(WIKI);
    let y = s.values();
    let (train, test) = (&y[..696], &y[696..744]);
    let score = |spec: ModelSpec| -> f64 {
        let f = spec.fit(train).unwrap();
        let fc = f.predict(48, &[0.95]).unwrap();
        mase(test, &fc.mean, train, 24).unwrap()
    };
    let fourier = score(ModelSpec::FourierRegression(FourierRegression::new(vec![
        (24.0, 6),
        (168.0, 3),
    ])));
    let fourier_log = score(ModelSpec::FourierRegression(
        FourierRegression::new(vec![(24.0, 6), (168.0, 3)]).with_log(true),
    ));
    let snaive = score(ModelSpec::SeasonalNaive(SeasonalNaive::new(24)));
    let snaive_w = score(ModelSpec::SeasonalNaive(SeasonalNaive::new(168)));
    let multi = score(ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(
        vec![24, 168],
    )));
    let linear = score(ModelSpec::LinearTrend(LinearTrend::with_window(168)));
    let ens = score(ModelSpec::Ensemble(Ensemble::new(
        vec![
            ModelSpec::FourierRegression(FourierRegression::new(vec![(24.0, 6), (168.0, 3)])),
            ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![24, 168])),
        ],
        Combine::Mean,
    )));
    eprintln!(
        "wikipedia train 696 / horizon 48, MASE (m=24): fourier {fourier:.3}, fourier log \
         {fourier_log:.3}, seasonal naive 24 {snaive:.3}, seasonal naive 168 {snaive_w:.3}, \
         multi-seasonal naive {multi:.3}, linear (window 168) {linear:.3}, \
         ensemble(fourier, multi) {ens:.3}"
    );
    assert!(
        fourier < snaive,
        "fourier {fourier} vs seasonal naive {snaive}"
    );

    // for the report: rolling origins every 48 h from 504 to 696, MASE averaged (not asserted)
    let specs: [(&str, ModelSpec); 4] = [
        (
            "fourier",
            ModelSpec::FourierRegression(FourierRegression::new(vec![(24.0, 6), (168.0, 3)])),
        ),
        ("snaive24", ModelSpec::SeasonalNaive(SeasonalNaive::new(24))),
        (
            "snaive168",
            ModelSpec::SeasonalNaive(SeasonalNaive::new(168)),
        ),
        (
            "multi",
            ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive::new(vec![24, 168])),
        ),
    ];
    for (name, spec) in specs {
        let origins = [504, 552, 600, 648, 696];
        let (mut total, mut cover) = (0.0, 0.0);
        for &o in &origins {
            let fc = spec.fit(&y[..o]).unwrap().predict(48, &[0.95]).unwrap();
            total += mase(&y[o..o + 48], &fc.mean, &y[..o], 24).unwrap();
            let band = fc.interval(0.95).unwrap();
            cover += flaskscale_core::metrics::coverage(&y[o..o + 48], &band.lower, &band.upper)
                .unwrap();
        }
        let k = origins.len() as f64;
        eprintln!(
            "rolling mean MASE {name}: {:.3}, 95 % coverage {:.2}",
            total / k,
            cover / k
        );
    }
}

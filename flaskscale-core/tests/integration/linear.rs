//! `LinearTrend` (forecast/linear.rs) against closed-form least squares and hand-worked
//! intervals, online updates equal to refits.

use crate::common::{load, normals, rel_close as close, WIKI_CSV as WIKI};
use flaskscale_core::forecast::FittedLinearTrend;
use flaskscale_core::{Fitted, Forecaster, LinearTrend};

#[test]
fn linear_trend_recovers_an_exact_line() {
    let y: Vec<f64> = (0..40).map(|t| 3.25 + 0.5 * t as f64).collect();
    let f = LinearTrend::new().fit(&y).unwrap();
    assert!((f.slope() - 0.5).abs() < 1e-9);
    assert!((f.intercept() - 3.25).abs() < 1e-9);
    let fc = f.predict(3, &[0.9]).unwrap();
    for (h, m) in fc.mean.iter().enumerate() {
        assert!((m - (3.25 + 0.5 * (40 + h) as f64)).abs() < 1e-8);
    }
    assert!(f.fit_info().sigma < 1e-6);
}

#[test]
fn linear_trend_interval_matches_hand_computed_five_points() {
    // x = 0..4, y = [1, 3, 2, 5, 4]:
    //   x̄ = 2, ȳ = 3, Sxx = 4+1+0+1+4 = 10,
    //   Sxy = (−2)(−2) + (−1)(0) + (0)(−1) + (1)(2) + (2)(1) = 8
    //   slope = 0.8, intercept = 3 − 0.8·2 = 1.4
    //   fitted 1.4, 2.2, 3.0, 3.8, 4.6; residuals −0.4, 0.8, −1.0, 1.2, −0.6
    //   SSE = 0.16 + 0.64 + 1.00 + 1.44 + 0.36 = 3.6; σ² = 3.6/(5−2) = 1.2
    //   h = 1 (x = 5): mean 5.4, sd² = 1.2·(1 + 1/5 + (5−2)²/10) = 1.2·2.1 = 2.52
    //   h = 2 (x = 6): mean 6.2, sd² = 1.2·(1 + 1/5 + (6−2)²/10) = 1.2·2.8 = 3.36
    //   95 %: mean ± 1.959963984540054·sd
    let f = LinearTrend::new().fit(&[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
    assert!((f.slope() - 0.8).abs() < 1e-12);
    assert!((f.intercept() - 1.4).abs() < 1e-12);
    assert!((f.fit_info().sigma - 1.2f64.sqrt()).abs() < 1e-12);
    let fc = f.predict(2, &[0.95]).unwrap();
    assert!((fc.mean[0] - 5.4).abs() < 1e-12 && (fc.mean[1] - 6.2).abs() < 1e-12);
    assert!((fc.sd[0] - 2.52f64.sqrt()).abs() < 1e-12);
    assert!((fc.sd[1] - 3.36f64.sqrt()).abs() < 1e-12);
    let band = fc.interval(0.95).unwrap();
    assert!((band.upper[0] - (5.4 + 1.959_963_984_540_054 * 2.52f64.sqrt())).abs() < 1e-9);
    assert!((band.lower[1] - (6.2 - 1.959_963_984_540_054 * 3.36f64.sqrt())).abs() < 1e-9);
}

/// Closed-form OLS from the Σ formulas: (intercept at x = 0, slope).
fn ols(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let sx: f64 = (0..y.len()).map(|i| i as f64).sum();
    let sy: f64 = y.iter().sum();
    let sxx: f64 = (0..y.len()).map(|i| (i * i) as f64).sum();
    let sxy: f64 = y.iter().enumerate().map(|(i, v)| i as f64 * v).sum();
    let b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    ((sy - b * sx) / n, b)
}

fn noisy_line(n: usize, seed: u64) -> Vec<f64> {
    normals(seed, n)
        .iter()
        .enumerate()
        .map(|(t, e)| 500.0 + 1.7 * t as f64 + 40.0 * e)
        .collect()
}

#[test]
fn linear_trend_agrees_with_closed_form_ols_whole_and_window() {
    let y = noisy_line(300, 7);
    let f = LinearTrend::new().fit(&y).unwrap();
    let (a, b) = ols(&y);
    assert!(close(f.slope(), b, 1e-9), "{} vs {b}", f.slope());
    assert!(close(f.intercept(), a, 1e-9));
    let w = LinearTrend::with_window(60).fit(&y).unwrap();
    let (a, b) = ols(&y[240..]);
    assert!(close(w.slope(), b, 1e-9));
    assert!(close(w.intercept(), a, 1e-9));
    assert_eq!(w.n_points(), 60);
}

fn same_forecast(a: &FittedLinearTrend, b: &FittedLinearTrend, tol: f64) {
    let fa = a.predict(24, &[0.9]).unwrap();
    let fb = b.predict(24, &[0.9]).unwrap();
    for h in 0..24 {
        assert!(close(fa.mean[h], fb.mean[h], tol), "mean h={h}");
        assert!(close(fa.sd[h], fb.sd[h], tol), "sd h={h}");
    }
    assert!(close(a.slope(), b.slope(), tol));
    assert!(close(a.fit_info().sigma, b.fit_info().sigma, tol));
}

#[test]
fn linear_trend_update_equals_refit() {
    let y = noisy_line(1000, 11);
    for spec in [LinearTrend::new(), LinearTrend::with_window(50)] {
        let mut f = spec.fit(&y[..200]).unwrap();
        // in uneven chunks, so the window's periodic exact recomputation is crossed too
        for chunk in y[200..].chunks(37) {
            f.update(chunk).unwrap();
        }
        let g = spec.fit(&y).unwrap();
        same_forecast(&f, &g, 1e-9);
        assert_eq!(f.fit_info().n_obs, 1000);
    }
}

#[test]
fn linear_trend_missing_update_keeps_the_line() {
    let y = noisy_line(100, 3);
    let mut f = LinearTrend::new().fit(&y).unwrap();
    let (a, b) = (f.intercept(), f.slope());
    f.update(&[f64::NAN, f64::NAN]).unwrap();
    assert!(close(f.slope(), b, 1e-9) && close(f.intercept(), a, 1e-9));
    assert!(f.update(&[-1.0]).is_err());
}

#[test]
fn linear_trend_update_equals_refit_on_wikipedia_scale() {
    // values around 7e6: the sums must not lose the residual scale to cancellation
    let y = load(WIKI).into_values();
    let (a, b) = ols(&y);
    for spec in [LinearTrend::new(), LinearTrend::with_window(168)] {
        let mut f = spec.fit(&y[..600]).unwrap();
        f.update(&y[600..]).unwrap();
        let g = spec.fit(&y).unwrap();
        same_forecast(&f, &g, 1e-9);
    }
    let g = LinearTrend::new().fit(&y).unwrap();
    assert!(close(g.slope(), b, 1e-9) && close(g.intercept(), a, 1e-9));
}

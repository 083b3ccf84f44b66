//! Forecast accuracy metrics, with their standard definitions. Every function takes the actual
//! values `y` and the forecast of the same length, and fails on a length mismatch, an empty
//! input or a non-finite value (drop missing actuals before scoring: nothing is skipped here).
//!
//! | metric | definition |
//! |---|---|
//! | MAE | mean(\|y − ŷ\|) |
//! | RMSE | √mean((y − ŷ)²) |
//! | sMAPE | mean(200·\|y − ŷ\| / (\|y\| + \|ŷ\|)), in percent, a term with y = ŷ = 0 counts 0 |
//! | MASE | MAE / mean(\|x(t) − x(t−m)\|) over the training series x (m = 1: naive) |
//! | pinball at q | mean(max(q·(y − ŷ), (q − 1)·(y − ŷ))) for the q-quantile forecast ŷ |
//! | coverage | share of y with lower ≤ y ≤ upper |

use crate::error::{Error, Result};

fn check_pair(y: &[f64], f: &[f64], what: &str) -> Result<()> {
    if y.len() != f.len() {
        return Err(Error::data(format!(
            "{what}: actual and forecast lengths differ ({} vs {})",
            y.len(),
            f.len()
        )));
    }
    if y.is_empty() {
        return Err(Error::data(format!("{what}: no values to score")));
    }
    for (i, (a, b)) in y.iter().zip(f).enumerate() {
        if !a.is_finite() || !b.is_finite() {
            return Err(Error::data(format!(
                "{what}: values must be finite, got actual {a}, forecast {b} at index {i}"
            )));
        }
    }
    Ok(())
}

/// Mean absolute error.
///
/// # Errors
/// [`Error::InvalidData`] for mismatched lengths, no values, or a non-finite value.
///
/// ```
/// assert_eq!(flaskscale_core::metrics::mae(&[1.0, 2.0], &[2.0, 4.0]).unwrap(), 1.5);
/// ```
pub fn mae(y: &[f64], f: &[f64]) -> Result<f64> {
    check_pair(y, f, "mae")?;
    Ok(y.iter().zip(f).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64)
}

/// Root mean squared error.
///
/// # Errors
/// As [`mae`].
pub fn rmse(y: &[f64], f: &[f64]) -> Result<f64> {
    check_pair(y, f, "rmse")?;
    Ok((y.iter().zip(f).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / y.len() as f64).sqrt())
}

/// Symmetric mean absolute percentage error, `mean(200·|y − ŷ| / (|y| + |ŷ|))`, in percent
/// (0 to 200). A term where both are 0 is a perfect forecast and counts 0.
///
/// # Errors
/// As [`mae`].
pub fn smape(y: &[f64], f: &[f64]) -> Result<f64> {
    check_pair(y, f, "smape")?;
    Ok(y.iter()
        .zip(f)
        .map(|(a, b)| {
            let d = a.abs() + b.abs();
            if d == 0.0 {
                0.0
            } else {
                200.0 * (a - b).abs() / d
            }
        })
        .sum::<f64>()
        / y.len() as f64)
}

/// Mean absolute scaled error: the forecast's MAE divided by the in-sample MAE of the seasonal
/// naive forecast with period `m` on `train` (`m = 1` is the naive forecast). Missing (`NaN`)
/// training pairs are left out of the scale.
///
/// # Errors
/// As [`mae`]; [`Error::InvalidParameter`] for `m = 0`; [`Error::NotEnoughData`] when `train`
/// has no complete pair `m` apart; [`Error::InvalidData`] when the scale is 0 (a constant
/// training series), where MASE is undefined.
pub fn mase(y: &[f64], f: &[f64], train: &[f64], m: usize) -> Result<f64> {
    let e = mae(y, f)?;
    let scale = naive_scale(train, m)?;
    Ok(e / scale)
}

/// The MASE denominator: mean |x(t) − x(t−m)| over the known pairs of `train`.
///
/// # Errors
/// As [`mase`].
pub fn naive_scale(train: &[f64], m: usize) -> Result<f64> {
    if m == 0 {
        return Err(Error::param("mase period must be >= 1, got 0"));
    }
    let (mut s, mut n) = (0.0, 0usize);
    for t in m..train.len() {
        let d = train[t] - train[t - m];
        if d.is_finite() {
            s += d.abs();
            n += 1;
        }
    }
    if n == 0 {
        return Err(Error::NotEnoughData {
            needed: m + 1,
            got: train.len(),
            what: format!("training values for the MASE scale with period {m}"),
        });
    }
    if s == 0.0 {
        return Err(Error::data(
            "the training series is constant at lag m: the MASE scale is 0",
        ));
    }
    Ok(s / n as f64)
}

/// Pinball (quantile) loss of the `q`-quantile forecast `f`:
/// `mean(max(q·(y − ŷ), (q − 1)·(y − ŷ)))`. At `q` > 0.5 a forecast below the actual costs
/// more than one above it.
///
/// # Errors
/// As [`mae`]; [`Error::InvalidParameter`] for `q` outside (0, 1).
///
/// ```
/// // under-forecast by 10 at q = 0.9 costs 9; over-forecast by 10 costs 1
/// let l = flaskscale_core::metrics::pinball(&[100.0, 100.0], &[90.0, 110.0], 0.9).unwrap();
/// assert!((l - 5.0).abs() < 1e-12);
/// ```
pub fn pinball(y: &[f64], f: &[f64], q: f64) -> Result<f64> {
    if !(q > 0.0 && q < 1.0) {
        return Err(Error::param(format!("quantile must be in (0, 1), got {q}")));
    }
    check_pair(y, f, "pinball")?;
    Ok(y.iter()
        .zip(f)
        .map(|(a, b)| {
            let d = a - b;
            (q * d).max((q - 1.0) * d)
        })
        .sum::<f64>()
        / y.len() as f64)
}

/// Share of actuals inside `[lower, upper]`, in [0, 1].
///
/// # Errors
/// As [`mae`] (for each bound); [`Error::InvalidData`] where a lower bound exceeds its upper.
pub fn coverage(y: &[f64], lower: &[f64], upper: &[f64]) -> Result<f64> {
    check_pair(y, lower, "coverage")?;
    check_pair(y, upper, "coverage")?;
    let mut inside = 0usize;
    for (i, ((a, lo), hi)) in y.iter().zip(lower).zip(upper).enumerate() {
        if lo > hi {
            return Err(Error::data(format!(
                "coverage: lower bound {lo} exceeds upper bound {hi} at index {i}"
            )));
        }
        if lo <= a && a <= hi {
            inside += 1;
        }
    }
    Ok(inside as f64 / y.len() as f64)
}

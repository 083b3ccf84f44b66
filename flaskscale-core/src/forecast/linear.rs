//! [`LinearTrend`]: a straight line in time fitted by least squares, over the whole history or
//! over a recent window.
//!
//! The fit is done by `linfa_linear::LinearRegression` on the design `x = 0, 1, …, n−1` (steps
//! since the first point used). The fitted model also keeps the sufficient statistics
//! (n, Σx, Σy, Σxy, Σx², Σy²) of the points it was fitted on; [`Fitted::update`] changes only
//! these sums and recomputes the line from them in O(1) per value:
//!
//! * whole history: each new value is added to the sums;
//! * window of `w` steps: the last `w` values are kept in a ring buffer; a new value adds its
//!   terms and the leaving value's terms are subtracted, then the origin of `x` is moved by one
//!   step (Σx, Σx², Σxy shift by closed formulas), so `x` stays in `0..w`. Every `w` updates the
//!   sums are recomputed from the buffer (amortised O(1)) so rounding cannot drift.
//!
//! `y` enters the sums shifted by the mean of the fitted data, which keeps Σy² small enough
//! that the residual sum of squares does not cancel away. The two routes give the same line
//! (a test checks fit-then-update against a fresh fit to 1e-9).
//!
//! Prediction intervals are those of simple linear regression (e.g. Montgomery, Peck & Vining,
//! *Introduction to Linear Regression Analysis*, §2.4.2): the h-step-ahead sd is
//! `σ̂·√(1 + 1/n + (x_h − x̄)²/Sxx)` with `σ̂² = SSE/(n − 2)`, `Sxx = Σ(x − x̄)²` and `x_h` the
//! time of the forecast step. The mean is not clamped at 0: a falling trend can forecast a
//! negative load, which the scaling policy clamps.

use super::contract::{
    check_update, prepare, state_ensure, FitInfo, Fitted, Forecaster, StateCheck,
};
use crate::error::{Error, Result};
use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A least-squares line in time: `ŷ(t) = a + b·t`, fitted to the whole history
/// (`window: None`) or to the last `window` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinearTrend {
    /// Fit (and, online, keep) only the last `window` steps; `None` = the whole history.
    /// Must be at least 3 (a line and a residual scale).
    #[serde(default)]
    pub window: Option<usize>,
}

impl LinearTrend {
    /// A trend over the whole history.
    pub fn new() -> Self {
        LinearTrend { window: None }
    }

    /// A trend over the last `window` steps (checked by `fit`).
    pub fn with_window(window: usize) -> Self {
        LinearTrend {
            window: Some(window),
        }
    }

    /// Checks the settings: a window, if given, of at least 3 steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a shorter window.
    pub fn validate(&self) -> Result<()> {
        if let Some(w) = self.window {
            if w < 3 {
                return Err(Error::param(format!(
                    "linear trend window must be >= 3 steps, got {w}"
                )));
            }
        }
        Ok(())
    }
}

/// A fitted [`LinearTrend`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLinearTrend {
    window: Option<usize>,
    /// Shift subtracted from every y in the sums.
    y0: f64,
    n: usize,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    /// The last `window` values, oldest first (empty for the whole-history model).
    buf: VecDeque<f64>,
    since_refresh: usize,
    /// Line in the current x coordinates (x = 0 at the oldest point in the sums).
    intercept: f64,
    slope: f64,
    info: FitInfo,
}

impl Forecaster for LinearTrend {
    type Fitted = FittedLinearTrend;
    fn fit(&self, y: &[f64]) -> Result<FittedLinearTrend> {
        self.validate()?;
        let (all, n_filled) = prepare(y, 3, "a linear trend (a line and its residual scale)")?;
        let start = match self.window {
            Some(w) if w < all.len() => all.len() - w,
            _ => 0,
        };
        let y = &all[start..];
        let n = y.len();
        let (intercept, slope) = linfa_line(y)?;
        let y0 = y.iter().sum::<f64>() / n as f64;
        let mut f = FittedLinearTrend {
            window: self.window,
            y0,
            n: 0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            syy: 0.0,
            buf: if self.window.is_some() {
                y.iter().copied().collect()
            } else {
                VecDeque::new()
            },
            since_refresh: 0,
            intercept,
            slope,
            info: FitInfo {
                n_obs: all.len(),
                n_filled,
                sigma: 0.0,
            },
        };
        f.set_sums(y);
        let sse: f64 = y
            .iter()
            .enumerate()
            .map(|(i, v)| (v - intercept - slope * i as f64).powi(2))
            .sum();
        f.info.sigma = (sse / (n - 2) as f64).sqrt();
        Ok(f)
    }
}

/// The least-squares line through `(i, y[i])` by linfa: `(intercept, slope)`.
fn linfa_line(y: &[f64]) -> Result<(f64, f64)> {
    let n = y.len();
    let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
    let t = Array1::from(y.to_vec());
    // linfa-linear asserts (panics) on a row-count mismatch: check first.
    if x.nrows() != t.len() {
        return Err(Error::Fit(format!(
            "linear trend: design has {} rows, target {}",
            x.nrows(),
            t.len()
        )));
    }
    let ds = Dataset::new(x, t);
    let m = LinearRegression::new()
        .fit(&ds)
        .map_err(|e| Error::Fit(format!("linear trend least squares: {e}")))?;
    let slope = m.params().first().copied().unwrap_or(f64::NAN);
    let intercept = m.intercept();
    if !(slope.is_finite() && intercept.is_finite()) {
        return Err(Error::Fit(format!(
            "linear trend least squares gave a non-finite line (intercept {intercept}, slope {slope})"
        )));
    }
    Ok((intercept, slope))
}

impl FittedLinearTrend {
    /// Slope per step.
    pub fn slope(&self) -> f64 {
        self.slope
    }

    /// The line's value at the oldest point it is fitted on (the first point of the history,
    /// or of the current window).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The line's value at the last observation.
    pub fn level(&self) -> f64 {
        self.intercept + self.slope * (self.n as f64 - 1.0)
    }

    /// Number of points in the sufficient statistics (the history, or the window).
    pub fn n_points(&self) -> usize {
        self.n
    }

    fn set_sums(&mut self, y: &[f64]) {
        self.n = 0;
        self.sx = 0.0;
        self.sy = 0.0;
        self.sxx = 0.0;
        self.sxy = 0.0;
        self.syy = 0.0;
        for &v in y {
            self.add(v);
        }
    }

    /// Adds a point at x = n.
    fn add(&mut self, v: f64) {
        let x = self.n as f64;
        let d = v - self.y0;
        self.n = self.n.saturating_add(1);
        self.sx += x;
        self.sy += d;
        self.sxx += x * x;
        self.sxy += x * d;
        self.syy += d * d;
    }

    /// Removes the point at x = 0 and moves the origin one step later (x → x − 1).
    fn drop_oldest(&mut self, v: f64) {
        let d = v - self.y0;
        self.n -= 1;
        self.sy -= d;
        self.syy -= d * d;
        // the point at x = 0 contributes nothing to Σx, Σx², Σxy
        let n = self.n as f64;
        // Σ(x−1)² = Σx² − 2Σx + n; Σ(x−1) = Σx − n; Σ(x−1)d = Σxd − Σd
        self.sxx += -2.0 * self.sx + n;
        self.sx -= n;
        self.sxy -= self.sy;
    }

    /// Centred sums (x̄, Sxx, Sxy, Syy).
    fn centred(&self) -> (f64, f64, f64, f64) {
        let n = self.n as f64;
        let mx = self.sx / n;
        let my = self.sy / n;
        let sxx = self.sxx - n * mx * mx;
        let sxy = self.sxy - n * mx * my;
        let syy = self.syy - n * my * my;
        (mx, sxx, sxy, syy)
    }

    /// The line and residual scale from the sufficient statistics.
    fn refresh_line(&mut self) {
        let n = self.n as f64;
        let (mx, sxx, sxy, syy) = self.centred();
        let my = self.sy / n;
        if sxx > 0.0 {
            self.slope = sxy / sxx;
            self.intercept = self.y0 + my - self.slope * mx;
            let sse = (syy - self.slope * sxy).max(0.0);
            self.info.sigma = (sse / (n - 2.0)).sqrt();
        }
    }
}

impl FittedLinearTrend {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        // the line must stay finite over the longest forecast
        let reach = (self.n as f64 + super::MAX_HORIZON as f64) * self.slope.abs();
        state_ensure(
            self.intercept.is_finite() && (self.intercept.abs() + reach).is_finite(),
            || {
                format!(
                    "line (intercept {}, slope {}) not finite over {} steps ahead",
                    self.intercept,
                    self.slope,
                    super::MAX_HORIZON
                )
            },
        )?;
        let sums = [self.y0, self.sx, self.sy, self.sxx, self.sxy, self.syy];
        state_ensure(sums.iter().all(|v| v.is_finite()), || {
            format!("sums {sums:?}")
        })?;
        state_ensure(self.buf.iter().all(|v| v.is_finite() && *v >= 0.0), || {
            "a kept value that is not finite and >= 0".into()
        })?;
        match self.window {
            Some(w) => {
                state_ensure(w >= 3, || format!("window {w} < 3"))?;
                state_ensure(self.buf.len() <= w, || {
                    format!("{} values kept for a window of {w}", self.buf.len())
                })?;
                // the sums are over the kept values: a count that differs would be dropped
                // from below zero
                state_ensure(self.n == self.buf.len(), || {
                    format!("n = {} for {} values kept", self.n, self.buf.len())
                })
            }
            None => state_ensure(self.buf.is_empty(), || {
                "values kept without a window".into()
            }),
        }
    }
}

impl Fitted for FittedLinearTrend {
    fn name(&self) -> &'static str {
        "linear_trend"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        let n = self.n as f64;
        let (mx, sxx, _, _) = self.centred();
        let last = n - 1.0;
        for (h, (m, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            let x = last + (h + 1) as f64;
            *m = self.intercept + self.slope * x;
            let lev = if sxx > 0.0 {
                (x - mx).powi(2) / sxx
            } else {
                0.0
            };
            *s = self.info.sigma * (1.0 + 1.0 / n + lev).sqrt();
        }
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for &v in y {
            // a missing value advances on the line's own forecast (which leaves the line as it is)
            let v = if v.is_nan() {
                self.intercept + self.slope * self.n as f64
            } else {
                v
            };
            if let Some(w) = self.window {
                if self.buf.len() >= w {
                    if let Some(old) = self.buf.pop_front() {
                        self.drop_oldest(old);
                    }
                }
                self.buf.push_back(v);
                self.add(v);
                self.since_refresh = self.since_refresh.saturating_add(1);
                if self.since_refresh >= w {
                    // exact recomputation from the window, against rounding drift
                    let vals: Vec<f64> = self.buf.iter().copied().collect();
                    self.set_sums(&vals);
                    self.since_refresh = 0;
                }
            } else {
                self.add(v);
            }
            self.info.n_obs = self.info.n_obs.saturating_add(1);
        }
        self.refresh_line();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linfa_and_sums_agree_at_fit() {
        let y: Vec<f64> = (0..50)
            .map(|i| 10.0 + 0.3 * i as f64 + ((i * 7919) % 13) as f64)
            .collect();
        let f = LinearTrend::new().fit(&y).unwrap();
        let mut g = f.clone();
        g.refresh_line();
        assert!((f.slope - g.slope).abs() < 1e-10);
        assert!((f.intercept - g.intercept).abs() < 1e-9);
        assert!((f.info.sigma - g.info.sigma).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_window_and_short_data() {
        assert!(matches!(
            LinearTrend::with_window(2).fit(&[1.0, 2.0, 3.0]),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            LinearTrend::new().fit(&[1.0, 2.0]),
            Err(Error::NotEnoughData { .. })
        ));
    }
}

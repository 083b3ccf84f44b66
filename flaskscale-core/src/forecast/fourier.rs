//! [`FourierRegression`]: several seasonal cycles at once as Fourier terms, plus an intercept
//! and a linear trend, fitted by ridge regression with the penalty chosen by generalised
//! cross-validation (GCV).
//!
//! **Design.** For the step index `t` (0 at the first fitted value) the regressors are
//! `1`, `t/n`, and for each period `P` (in steps, need not be whole) and `k = 1..=K`:
//! `sin(2πk·t/P)`, `cos(2πk·t/P)`; `p = 2 + 2ΣK` columns in all.
//!
//! **Fit.** The columns other than the intercept are centred, so the penalty `λ·‖β‖²` acts on
//! trend and Fourier coefficients but never on the intercept (which is then `ȳ − x̄ᵀβ`).
//! With the eigendecomposition `X_cᵀX_c = V·diag(e)·Vᵀ` (Jacobi, p is small) and `c = Vᵀ X_cᵀ y_c`:
//! `β(λ) = V·diag(1/(e+λ))·c`, `RSS(λ) = y_cᵀy_c − Σ c²(e+2λ)/(e+λ)²` and the effective number
//! of parameters `edf(λ) = 1 + Σ e/(e+λ)`, so every `λ` on the grid costs O(p) after one O(n·p²)
//! pass. GCV (Golub, Heath & Wahba 1979) picks `λ` minimising `n·RSS/(n − edf)²` over the log
//! grid `λ = ē·10^j`, `j = −12, −11.5, …, 3`, with `ē` the mean eigenvalue. Directions with
//! `e < 1e-12·max(e)` are dropped (a pseudo-inverse, as a least-squares solver would do at
//! `λ = 0`). A fixed penalty can be given instead ([`FourierRegression::penalty`]).
//!
//! **Intervals.** `σ̂² = RSS/(n − edf)`; the h-step sd is `σ̂·√(1 + 1/n + dᵀ C d)` with `d` the
//! centred regressors at the forecast time and `C = V·diag(e/(e+λ)²)·Vᵀ` (the ridge
//! coefficient covariance over σ²): the parameter-uncertainty term, cheap since p is small.
//!
//! **Log scale.** With `log: true` the model is fitted to `log1p(y)` (for swings that grow with
//! the level). The forecast is back-transformed as the mean of a log-normal with the log-scale
//! mean `μ` and sd `s`: `exp(μ + s²/2) − 1`, and sd `√((e^{s²} − 1)·e^{2μ+s²})`. The mean (not
//! the median `expm1(μ)`) is chosen because capacity is provisioned for the expected load and
//! the median under-forecasts it; the intervals are then normal around that mean, an
//! approximation. [`FitInfo::sigma`] is on the log1p scale for such a model.
//!
//! **Online update.** [`Fitted::update`] moves the time origin (the forecast starts after the
//! new values) and folds each new one-step residual into the residual scale; it does **not**
//! re-estimate the coefficients: refit for that.

use super::contract::{
    check_update, prepare, state_ensure, FitInfo, Fitted, Forecaster, StateCheck,
};
use crate::error::{Error, Result};
use crate::numeric::{dot_in_order, sym_eigen};
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;

/// Ridge regression on Fourier terms of several periods plus an intercept and a linear trend.
///
/// ```
/// use flaskscale_core::{Fitted, Forecaster, FourierRegression};
/// use std::f64::consts::TAU;
/// // four weeks of hourly load with a daily and a weekly cycle
/// let load = |t: f64| 100.0 + 30.0 * (TAU * t / 24.0).sin() + 10.0 * (TAU * t / 168.0).cos();
/// let y: Vec<f64> = (0..672).map(|t| load(t as f64)).collect();
/// let fitted = FourierRegression::new(vec![(24.0, 4), (168.0, 2)]).fit(&y)?;
/// let fc = fitted.predict(24, &[0.95])?;
/// assert!((fc.mean[5] - load(677.0)).abs() < 1e-6);
/// # Ok::<(), flaskscale_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FourierRegression {
    /// `(period in steps, number of harmonics K)` per seasonal cycle, e.g.
    /// `[(24.0, 6), (168.0, 3)]` for hourly data with daily and weekly cycles. A period must be
    /// at least 2 and no longer than the data, `K >= 1` and `2K < period`; at most
    /// [`MAX_HARMONICS`] harmonics in all.
    pub periods: Vec<(f64, usize)>,
    /// Fit on `log1p(y)` (multiplicative swings); see the module docs for the back-transform.
    #[serde(default)]
    pub log: bool,
    /// A fixed ridge penalty (>= 0, on the scale of the centred Gram matrix); `None` chooses it
    /// by GCV.
    #[serde(default)]
    pub penalty: Option<f64>,
}

impl FourierRegression {
    /// A model with these `(period, harmonics)` pairs, on the original scale, penalty by GCV.
    pub fn new(periods: Vec<(f64, usize)>) -> Self {
        FourierRegression {
            periods,
            log: false,
            penalty: None,
        }
    }

    /// The number of harmonics for a period given without one: a quarter of the period, from
    /// 1 to 10 (`24.0` → 6, `168.0` → 10, `6.0` → 1).
    pub fn default_harmonics(period: f64) -> usize {
        ((period / 4.0) as usize).clamp(1, 10)
    }

    /// The same model fitted on `log1p(y)`.
    pub fn with_log(mut self, log: bool) -> Self {
        self.log = log;
        self
    }

    /// The same model with a fixed ridge penalty (0 = ordinary least squares).
    pub fn with_penalty(mut self, penalty: f64) -> Self {
        self.penalty = Some(penalty);
        self
    }

    /// Checks the settings: at least one period, each finite and at least 2 steps with
    /// `1 <= K` and `2K < period`, at most [`MAX_HARMONICS`] in all, and a penalty (if fixed)
    /// finite and >= 0.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the fault.
    pub fn validate(&self) -> Result<()> {
        if self.periods.is_empty() {
            return Err(Error::param(
                "fourier regression needs at least one (period, harmonics) pair, got none",
            ));
        }
        for &(p, k) in &self.periods {
            if !(p.is_finite() && p >= 2.0) {
                return Err(Error::param(format!(
                    "fourier period must be finite and >= 2 steps, got {p}"
                )));
            }
            if k == 0 {
                return Err(Error::param(format!(
                    "fourier harmonics must be >= 1, got 0 for period {p}"
                )));
            }
            if 2.0 * k as f64 >= p {
                return Err(Error::param(format!(
                    "fourier harmonics K must satisfy 2K < period, got K = {k} for period {p}"
                )));
            }
        }
        let harmonics: usize = self.periods.iter().map(|&(_, k)| k).sum();
        if harmonics > MAX_HARMONICS {
            return Err(Error::param(format!(
                "fourier regression takes at most {MAX_HARMONICS} harmonics in all, got {harmonics}"
            )));
        }
        if let Some(l) = self.penalty {
            if !(l.is_finite() && l >= 0.0) {
                return Err(Error::param(format!(
                    "ridge penalty must be finite and >= 0, got {l}"
                )));
            }
        }
        Ok(())
    }
}

/// The most harmonics over all periods (p = 2 + 2·100 columns): the fit is O(n·p²) in time
/// and keeps the n × p design in memory.
pub const MAX_HARMONICS: usize = 100;

/// Fills `row` (length p) with the regressors at step `t`.
fn design_row(periods: &[(f64, usize)], t_scale: f64, t: f64, row: &mut [f64]) {
    row[0] = 1.0;
    row[1] = t * t_scale;
    let mut j = 2;
    for &(p, k) in periods {
        // the phase from t mod P keeps sin/cos accurate far from the origin
        let (s1, c1) = (TAU * (t % p) / p).sin_cos();
        let (mut s, mut c) = (s1, c1);
        for _ in 0..k {
            row[j] = s;
            row[j + 1] = c;
            j += 2;
            // angle addition: (k+1)ω from kω and ω
            let s_next = s * c1 + c * s1;
            c = c * c1 - s * s1;
            s = s_next;
        }
    }
}

fn n_columns(periods: &[(f64, usize)]) -> usize {
    2 + 2 * periods.iter().map(|&(_, k)| k).sum::<usize>()
}

/// A fitted [`FourierRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedFourierRegression {
    periods: Vec<(f64, usize)>,
    log: bool,
    /// Multiplier of t in the trend column (1/n at fit).
    t_scale: f64,
    /// Step index of the next value (n at fit, plus updates).
    t_next: f64,
    /// Coefficients in the uncentred design, intercept first.
    coef: Vec<f64>,
    /// Means of columns 1..p at fit.
    xbar: Vec<f64>,
    /// (p−1)² unscaled covariance of the non-intercept coefficients, row-major.
    cov: Vec<f64>,
    n_fit: usize,
    penalty: f64,
    relative_penalty: f64,
    edf: f64,
    /// Residual sum of squares and its degrees of freedom (grows with updates).
    sse: f64,
    dof: f64,
    info: FitInfo,
}

impl Forecaster for FourierRegression {
    type Fitted = FittedFourierRegression;
    fn fit(&self, y: &[f64]) -> Result<FittedFourierRegression> {
        self.validate()?;
        let p = n_columns(&self.periods);
        let longest = self
            .periods
            .iter()
            .map(|&(per, _)| per)
            .fold(0.0f64, f64::max);
        let needed = (longest.ceil() as usize).max(p + 2);
        if (y.len() as f64) < longest {
            return Err(Error::NotEnoughData {
                needed,
                got: y.len(),
                what: format!("fourier regression with a period of {longest} steps"),
            });
        }
        let (y, n_filled) = prepare(y, needed, "fourier regression (its periods and p + 2)")?;
        let n = y.len();
        let nf = n as f64;
        let z: Vec<f64> = if self.log {
            y.iter().map(|v| v.ln_1p()).collect()
        } else {
            y.to_vec()
        };
        let t_scale = 1.0 / nf;
        // design matrix, row-major n × p
        let mut x = vec![0.0; n * p];
        for (t, row) in x.chunks_exact_mut(p).enumerate() {
            design_row(&self.periods, t_scale, t as f64, row);
        }
        let q = p - 1;
        let mut xbar = vec![0.0; q];
        for row in x.chunks_exact(p) {
            for (m, v) in xbar.iter_mut().zip(&row[1..]) {
                *m += v;
            }
        }
        xbar.iter_mut().for_each(|m| *m /= nf);
        let ybar = z.iter().sum::<f64>() / nf;
        // centred Gram matrix and cross products
        let mut g = vec![0.0; q * q];
        let mut b = vec![0.0; q];
        let mut yy = 0.0;
        let mut d = vec![0.0; q];
        for (row, &zt) in x.chunks_exact(p).zip(&z) {
            for ((di, v), m) in d.iter_mut().zip(&row[1..]).zip(&xbar) {
                *di = v - m;
            }
            let yc = zt - ybar;
            yy += yc * yc;
            for i in 0..q {
                b[i] += d[i] * yc;
                let di = d[i];
                for j in i..q {
                    g[i * q + j] += di * d[j];
                }
            }
        }
        for i in 0..q {
            for j in 0..i {
                g[i * q + j] = g[j * q + i];
            }
        }
        let (e, v) = crate::numeric::eigen::symmetric(&g, q).unwrap_or_else(|| sym_eigen(&g, q));
        let emax = e.iter().copied().fold(0.0f64, f64::max);
        if !(emax > 0.0 && emax.is_finite()) {
            return Err(Error::Fit(format!(
                "fourier regression: degenerate design (largest eigenvalue {emax})"
            )));
        }
        let keep: Vec<bool> = e.iter().map(|&ei| ei > 1e-12 * emax).collect();
        // c = Vᵀ b
        let c: Vec<f64> = (0..q)
            .map(|k| (0..q).map(|i| v[i * q + k] * b[i]).sum())
            .collect();
        let ebar = e.iter().sum::<f64>() / q as f64;
        let score = |lam: f64| -> (f64, f64) {
            let mut rss = yy;
            let mut edf = 1.0;
            for k in 0..q {
                if keep[k] {
                    let s = e[k] + lam;
                    rss -= c[k] * c[k] * (e[k] + 2.0 * lam) / (s * s);
                    edf += e[k] / s;
                }
            }
            (rss.max(0.0), edf)
        };
        let lambda = match self.penalty {
            Some(l) => l,
            None => {
                let mut best = (f64::INFINITY, 0.0);
                for j in 0..=30 {
                    let lam = ebar * 10f64.powf(-12.0 + 0.5 * j as f64);
                    let (rss, edf) = score(lam);
                    let gcv = nf * rss / (nf - edf).powi(2);
                    if gcv < best.0 {
                        best = (gcv, lam);
                    }
                }
                best.1
            }
        };
        let (_, edf) = score(lambda);
        // β = V diag(1/(e+λ)) c; C = V diag(e/(e+λ)²) Vᵀ
        let w: Vec<f64> = (0..q)
            .map(|k| if keep[k] { c[k] / (e[k] + lambda) } else { 0.0 })
            .collect();
        let beta: Vec<f64> = (0..q)
            .map(|i| (0..q).map(|k| v[i * q + k] * w[k]).sum())
            .collect();
        let mut cov = vec![0.0; q * q];
        for k in 0..q {
            if !keep[k] {
                continue;
            }
            let f = e[k] / (e[k] + lambda).powi(2);
            for i in 0..q {
                let vik = v[i * q + k] * f;
                for j in 0..q {
                    cov[i * q + j] += vik * v[j * q + k];
                }
            }
        }
        let intercept = ybar - beta.iter().zip(&xbar).map(|(b, m)| b * m).sum::<f64>();
        let mut coef = Vec::with_capacity(p);
        coef.push(intercept);
        coef.extend_from_slice(&beta);
        let sse: f64 = x
            .chunks_exact(p)
            .zip(&z)
            .map(|(row, zt)| (zt - dot_in_order(row, &coef)).powi(2))
            .sum();
        let dof = (nf - edf).max(1.0);
        if !coef.iter().all(|c| c.is_finite()) || !sse.is_finite() {
            return Err(Error::Fit(
                "fourier regression: the least-squares solution is not finite".into(),
            ));
        }
        Ok(FittedFourierRegression {
            periods: self.periods.clone(),
            log: self.log,
            t_scale,
            t_next: nf,
            coef,
            xbar,
            cov,
            n_fit: n,
            penalty: lambda,
            relative_penalty: lambda / ebar,
            edf,
            sse,
            dof,
            info: FitInfo {
                n_obs: n,
                n_filled,
                sigma: (sse / dof).sqrt(),
            },
        })
    }
}

impl FittedFourierRegression {
    /// The ridge penalty used (chosen by GCV unless fixed).
    pub fn penalty(&self) -> f64 {
        self.penalty
    }

    /// The penalty over the mean eigenvalue of the centred Gram matrix: a scale-free measure
    /// (1e-12 = practically least squares, ≥ 1 = strong shrinkage).
    pub fn relative_penalty(&self) -> f64 {
        self.relative_penalty
    }

    /// Effective number of parameters `tr(H)` at the chosen penalty (intercept included).
    pub fn effective_parameters(&self) -> f64 {
        self.edf
    }

    /// Coefficients: intercept, trend (per `n_fit` steps), then `sin, cos` per harmonic per
    /// period, in the order given.
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }

    /// Model-scale mean and sd (without the noise term's σ factor applied twice) at step `t`.
    fn model_scale(&self, t: f64, row: &mut [f64]) -> (f64, f64) {
        design_row(&self.periods, self.t_scale, t, row);
        let mu = dot_in_order(row, &self.coef);
        let q = self.xbar.len();
        let mut quad = 0.0;
        for i in 0..q {
            let di = row[i + 1] - self.xbar[i];
            let mut acc = 0.0;
            for j in 0..q {
                acc += self.cov[i * q + j] * (row[j + 1] - self.xbar[j]);
            }
            quad += di * acc;
        }
        let s = self.info.sigma * (1.0 + 1.0 / self.n_fit as f64 + quad.max(0.0)).sqrt();
        (mu, s)
    }
}

impl FittedFourierRegression {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        state_ensure(!self.periods.is_empty(), || "no period".into())?;
        for &(p, k) in &self.periods {
            state_ensure(p.is_finite() && p >= 2.0, || format!("period {p}"))?;
            state_ensure((1..=MAX_HARMONICS).contains(&k), || {
                format!("{k} harmonics for period {p}")
            })?;
        }
        let cols = n_columns(&self.periods);
        let want = [
            ("coefficients", self.coef.len(), cols),
            ("column means", self.xbar.len(), cols - 1),
            (
                "covariance entries",
                self.cov.len(),
                (cols - 1) * (cols - 1),
            ),
        ];
        for (what, got, want) in want {
            state_ensure(got == want, || {
                format!("{got} {what} for a design of {cols} columns (want {want})")
            })?;
        }
        Ok(())
    }
}

impl Fitted for FittedFourierRegression {
    fn name(&self) -> &'static str {
        "fourier_regression"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        let mut row = vec![0.0; self.coef.len()];
        for (h, (m, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            let (mu, sm) = self.model_scale(self.t_next + h as f64, &mut row);
            if self.log {
                let s2 = sm * sm;
                let a = (mu + s2 / 2.0).min(700.0);
                *m = a.exp() - 1.0;
                // log-normal sd = mean·√(e^{s²} − 1), capped so it stays finite
                *s = (a.exp() * s2.min(700.0).exp_m1().sqrt()).min(f64::MAX / 1e3);
            } else {
                *m = mu;
                *s = sm;
            }
        }
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        let mut row = vec![0.0; self.coef.len()];
        for &v in y {
            if !v.is_nan() {
                design_row(&self.periods, self.t_scale, self.t_next, &mut row);
                let z = if self.log { v.ln_1p() } else { v };
                self.sse += (z - dot_in_order(&row, &self.coef)).powi(2);
                self.dof += 1.0;
            }
            self.t_next += 1.0;
            self.info.n_obs += 1;
        }
        self.info.sigma = (self.sse / self.dof).sqrt();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_errors() {
        let y = vec![1.0; 100];
        for (per, k) in [(1.5, 1), (24.0, 0), (24.0, 12), (f64::NAN, 1)] {
            assert!(
                matches!(
                    FourierRegression::new(vec![(per, k)]).fit(&y),
                    Err(Error::InvalidParameter(_))
                ),
                "{per} {k}"
            );
        }
        assert!(matches!(
            FourierRegression::new(vec![(168.0, 3)]).fit(&y),
            Err(Error::NotEnoughData { .. })
        ));
        assert!(matches!(
            FourierRegression::new(vec![]).fit(&y),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn design_row_matches_direct_sin_cos() {
        let periods = [(24.0, 3), (7.5, 2)];
        let mut row = vec![0.0; n_columns(&periods)];
        let t = 12345.0;
        design_row(&periods, 0.01, t, &mut row);
        let mut j = 2;
        for (p, k) in periods {
            for kk in 1..=k {
                let a = TAU * kk as f64 * t / p;
                assert!((row[j] - a.sin()).abs() < 1e-9);
                assert!((row[j + 1] - a.cos()).abs() < 1e-9);
                j += 2;
            }
        }
    }
}

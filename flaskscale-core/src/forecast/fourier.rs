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
//! The pass gathers raw sums (the trend column as the step index, the values less the mean of
//! the first values, against cancellation on a high level), centred and scaled when solved, so
//! a fit on a longer prefix of one history extends the sums of a shorter one (the
//! AutoForecaster's backtest does, origin after origin).
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

/// The most harmonics over all periods (p = 2 + 2·100 columns): the fit is O(n·p²) in time.
pub const MAX_HARMONICS: usize = 100;

/// What a history too short for the columns is short for (one wording for every fit).
const NEEDED_WHAT: &str = "fourier regression (its periods and p + 2)";

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

/// Columns `j` of the cross products [`PrefixSums`] gathers in one pass over the rows.
const SUM_LANES: usize = 8;

/// The length of a stored design row of `p` columns: room for a block of [`SUM_LANES`]
/// columns from any column (the padding is zeros).
fn row_stride(p: usize) -> usize {
    p + SUM_LANES - 1
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
        self.check_length(y.len())?;
        let (y, n_filled) = prepare(y, self.needed(), NEEDED_WHAT)?;
        let mut sums = self.prefix_sums(&y)?;
        let mut fitted = sums.fit_prefix(y.len())?;
        fitted.info.n_filled = n_filled;
        Ok(fitted)
    }
}

impl FourierRegression {
    fn longest_period(&self) -> f64 {
        self.periods
            .iter()
            .map(|&(per, _)| per)
            .fold(0.0f64, f64::max)
    }

    /// Values a fit needs: the longest period and `p + 2`.
    fn needed(&self) -> usize {
        (self.longest_period().ceil() as usize).max(n_columns(&self.periods) + 2)
    }

    /// [`Error::NotEnoughData`] for a history of `n` values shorter than [`Self::needed`].
    fn check_length(&self, n: usize) -> Result<()> {
        let (needed, longest) = (self.needed(), self.longest_period());
        if (n as f64) < longest {
            return Err(Error::NotEnoughData {
                needed,
                got: n,
                what: format!("fourier regression with a period of {longest} steps"),
            });
        }
        if n < needed {
            return Err(Error::NotEnoughData {
                needed,
                got: n,
                what: NEEDED_WHAT.to_string(),
            });
        }
        Ok(())
    }

    /// The sums a fit is solved from, ready to be gathered over growing prefixes of `y` (a
    /// history without gaps, as [`prepare`] leaves it): [`PrefixSums::fit_prefix`] on
    /// `y[..len]` gives exactly what [`Forecaster::fit`] gives on that prefix, and the sums of
    /// one prefix are extended to the next instead of being gathered again (the backtest's
    /// training parts are nested prefixes).
    ///
    /// # Errors
    /// As [`FourierRegression::validate`]; [`Error::InvalidData`] for a missing value.
    pub(crate) fn prefix_sums(&self, y: &[f64]) -> Result<PrefixSums> {
        self.validate()?;
        if let Some(i) = y.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::data(format!(
                "fourier prefix sums need finite values >= 0 without gaps, got {} at index {i}",
                y[i]
            )));
        }
        let p = n_columns(&self.periods);
        let z: Vec<f64> = if self.log {
            y.iter().map(|v| v.ln_1p()).collect()
        } else {
            y.to_vec()
        };
        // every fitted prefix holds the first `needed` values: their mean is a shift common to
        // all of them, which keeps Σz² − n·z̄² clear of cancellation on a high level
        let head = &z[..self.needed().min(z.len())];
        let shift = if head.is_empty() {
            0.0
        } else {
            head.iter().sum::<f64>() / head.len() as f64
        };
        let q = p - 1;
        Ok(PrefixSums {
            spec: self.clone(),
            z,
            shift,
            rows: Vec::with_capacity(y.len() * row_stride(p)),
            row: vec![0.0; p],
            len: 0,
            sxx: vec![0.0; q * q],
            sx: vec![0.0; q],
            sxz: vec![0.0; q],
            sz: 0.0,
            szz: 0.0,
        })
    }
}

/// The raw sums of a [`FourierRegression`] fit over a prefix of one history (the trend column
/// as the step index `t`, unscaled, and the values less a fixed shift): the regressors' cross
/// products, sums and products with the values. Centring and the trend's `1/n` scale are
/// applied when a prefix is solved, so the sums of a prefix are those of the shorter one plus
/// its new rows; see [`FourierRegression::prefix_sums`].
#[derive(Debug, Clone)]
pub(crate) struct PrefixSums {
    spec: FourierRegression,
    /// The history on the model's scale (log1p with `log`).
    z: Vec<f64>,
    shift: f64,
    /// The design rows gathered so far (row-major, the trend column as `t`, each padded with
    /// zeros to [`row_stride`]), kept for the residuals of every prefix solved.
    rows: Vec<f64>,
    /// Scratch: one row with the trend column scaled.
    row: Vec<f64>,
    /// Rows gathered so far.
    len: usize,
    /// Σ x·xᵀ over columns 1..p, upper triangle (row-major q × q).
    sxx: Vec<f64>,
    sx: Vec<f64>,
    sxz: Vec<f64>,
    sz: f64,
    szz: f64,
}

impl PrefixSums {
    /// Gathers rows up to `len` (no change if already there).
    ///
    /// Every sum takes its terms in the order of `t`, as if the rows were added one after
    /// another, but the new rows are gathered column by column: for a column `i` and a block of
    /// [`SUM_LANES`] columns `j >= i`, the running sums stay in registers over all the new rows
    /// (the rows are padded with zeros, so a block may run past the last column; those lanes
    /// are not kept).
    fn extend_to(&mut self, len: usize) {
        let q = self.sx.len();
        let w = row_stride(q + 1);
        let (from, to) = (self.len, len.min(self.z.len()));
        if to <= from {
            return;
        }
        for t in from..to {
            design_row(&self.spec.periods, 1.0, t as f64, &mut self.row);
            self.rows.extend_from_slice(&self.row);
            self.rows.resize((t + 1) * w, 0.0);
            let zt = self.z[t] - self.shift;
            self.sz += zt;
            self.szz += zt * zt;
        }
        let rows = &self.rows[from * w..to * w];
        let z = &self.z[from..to];
        for i in 0..q {
            let (mut sx, mut sxz) = (self.sx[i], self.sxz[i]);
            for (row, &zt) in rows.chunks_exact(w).zip(z) {
                let xi = row[1 + i];
                sx += xi;
                sxz += xi * (zt - self.shift);
            }
            self.sx[i] = sx;
            self.sxz[i] = sxz;
            for j in (i..q).step_by(SUM_LANES) {
                let kept = (q - j).min(SUM_LANES);
                let out = &mut self.sxx[i * q + j..i * q + j + kept];
                let mut acc = [0.0; SUM_LANES];
                acc[..kept].copy_from_slice(out);
                for row in rows.chunks_exact(w) {
                    let xi = row[1 + i];
                    let xj: &[f64; SUM_LANES] = row[1 + j..1 + j + SUM_LANES]
                        .try_into()
                        .expect("rows are padded to a whole block");
                    for (a, &x) in acc.iter_mut().zip(xj) {
                        *a += xi * x;
                    }
                }
                out.copy_from_slice(&acc[..kept]);
            }
        }
        self.len = to;
    }

    /// The model fitted on the first `len` values of the history (`len` at least the rows
    /// gathered so far: prefixes are taken in growing order), as [`Forecaster::fit`] on them.
    ///
    /// # Errors
    /// As [`Forecaster::fit`] on the prefix: [`Error::NotEnoughData`] for a prefix shorter
    /// than the longest period or `p + 2`; [`Error::Fit`] for a degenerate design or a
    /// non-finite solution. [`Error::InvalidParameter`] for a prefix longer than the history or
    /// shorter than the rows already gathered.
    pub(crate) fn fit_prefix(&mut self, len: usize) -> Result<FittedFourierRegression> {
        self.spec.check_length(len)?;
        if len > self.z.len() || len < self.len {
            return Err(Error::param(format!(
                "a prefix of {len} values of a history of {} whose first {} are gathered",
                self.z.len(),
                self.len
            )));
        }
        self.extend_to(len);
        let periods = &self.spec.periods;
        let p = n_columns(periods);
        let q = p - 1;
        let n = len;
        let nf = n as f64;
        let t_scale = 1.0 / nf;
        // column 1 is t·t_scale: its sums scale by t_scale, its cross products by t_scale²
        let col_scale = |i: usize| if i == 0 { t_scale } else { 1.0 };
        let xbar: Vec<f64> = (0..q).map(|i| self.sx[i] / nf * col_scale(i)).collect();
        let zbar = self.sz / nf;
        let ybar = zbar + self.shift;
        // centred Gram matrix and cross products
        let mut g = vec![0.0; q * q];
        let mut b = vec![0.0; q];
        for i in 0..q {
            let si = col_scale(i);
            b[i] = (self.sxz[i] * si) - nf * xbar[i] * zbar;
            for j in i..q {
                let v = self.sxx[i * q + j] * si * col_scale(j) - nf * xbar[i] * xbar[j];
                g[i * q + j] = v;
                g[j * q + i] = v;
            }
        }
        let yy = (self.szz - nf * zbar * zbar).max(0.0);
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
        let lambda = match self.spec.penalty {
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
        // the eigenvectors as rows, so that the inner loop reads one contiguously
        let mut vt = vec![0.0; q * q];
        for (i, row) in v.chunks_exact(q).enumerate() {
            for (k, &x) in row.iter().enumerate() {
                vt[k * q + i] = x;
            }
        }
        for (k, vk) in vt.chunks_exact(q).enumerate() {
            if !keep[k] {
                continue;
            }
            let f = e[k] / (e[k] + lambda).powi(2);
            for (cov_i, &vik) in cov.chunks_exact_mut(q).zip(vk) {
                let vik = vik * f;
                for (c, &vjk) in cov_i.iter_mut().zip(vk) {
                    *c += vik * vjk;
                }
            }
        }
        let intercept = ybar - beta.iter().zip(&xbar).map(|(b, m)| b * m).sum::<f64>();
        let mut coef = Vec::with_capacity(p);
        coef.push(intercept);
        coef.extend_from_slice(&beta);
        let mut sse = 0.0;
        let w = row_stride(p);
        for (t, (&zt, row)) in self.z[..n]
            .iter()
            .zip(self.rows.chunks_exact(w))
            .enumerate()
        {
            // the row design_row gives at this t_scale (the trend column is t·t_scale), in the
            // order dot_in_order takes it, without copying the row
            let trend = t as f64 * t_scale;
            let fit: f64 = std::iter::once(row[0] * coef[0])
                .chain(std::iter::once(trend * coef[1]))
                .chain(row[2..].iter().zip(&coef[2..]).map(|(x, c)| x * c))
                .sum();
            sse += (zt - fit).powi(2);
        }
        let dof = (nf - edf).max(1.0);
        if !coef.iter().all(|c| c.is_finite()) || !sse.is_finite() {
            return Err(Error::Fit(
                "fourier regression: the least-squares solution is not finite".into(),
            ));
        }
        Ok(FittedFourierRegression {
            periods: periods.clone(),
            log: self.spec.log,
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
                n_filled: 0,
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
    ///
    /// `dev` is scratch for the row's deviations from the column means (`p − 1` values),
    /// computed once for the quadratic form.
    fn model_scale(&self, t: f64, row: &mut [f64], dev: &mut [f64]) -> (f64, f64) {
        design_row(&self.periods, self.t_scale, t, row);
        let mu = dot_in_order(row, &self.coef);
        let q = self.xbar.len();
        for ((d, &x), &m) in dev.iter_mut().zip(&row[1..]).zip(&self.xbar) {
            *d = x - m;
        }
        let dev = &dev[..q];
        let mut quad = 0.0;
        for (&di, cov_i) in dev.iter().zip(self.cov.chunks_exact(q)) {
            let mut acc = 0.0;
            for (&c, &dj) in cov_i.iter().zip(dev) {
                acc += c * dj;
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
        let mut dev = vec![0.0; self.xbar.len()];
        for (h, (m, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            let (mu, sm) = self.model_scale(self.t_next + h as f64, &mut row, &mut dev);
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
            self.info.n_obs = self.info.n_obs.saturating_add(1);
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

    /// The sums of a prefix extended to a longer one give, at every length, the fit on that
    /// prefix bit for bit (the same additions in the same order), here against the fit itself
    /// and, for the solution, against the centred normal equations solved directly (Cholesky,
    /// no penalty) on a series with a high level, where uncentred sums would cancel.
    #[test]
    fn prefix_sums_fit_every_prefix_as_fit_does() {
        let y: Vec<f64> = (0..600)
            .map(|t| {
                let t = t as f64;
                1e6 + 0.3 * t
                    + 40.0 * (TAU * t / 24.0).sin()
                    + 9.0 * (TAU * t / 168.0).cos()
                    + 5.0 * ((t * 12.9898).sin() * 43_758.545).fract()
            })
            .collect();
        for spec in [
            FourierRegression::new(vec![(24.0, 6), (168.0, 3)]),
            FourierRegression::new(vec![(24.0, 6)]).with_log(true),
            FourierRegression::new(vec![(24.0, 4)]).with_penalty(0.0),
        ] {
            let mut sums = spec.prefix_sums(&y).unwrap();
            for len in [200, 201, 350, 600] {
                assert_eq!(sums.fit_prefix(len).unwrap(), spec.fit(&y[..len]).unwrap());
            }
            // shorter than gathered, longer than the history
            assert!(matches!(
                sums.fit_prefix(599),
                Err(Error::InvalidParameter(_))
            ));
            assert!(matches!(
                sums.fit_prefix(601),
                Err(Error::InvalidParameter(_))
            ));
        }
        // the least-squares solution on the centred design, solved directly
        let spec = FourierRegression::new(vec![(24.0, 4)]).with_penalty(0.0);
        let n = 350;
        let f = spec.fit(&y[..n]).unwrap();
        let p = n_columns(&spec.periods);
        let q = p - 1;
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|t| {
                let mut r = vec![0.0; p];
                design_row(&spec.periods, 1.0 / n as f64, t as f64, &mut r);
                r
            })
            .collect();
        let xbar: Vec<f64> = (1..p)
            .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64)
            .collect();
        let ybar = y[..n].iter().sum::<f64>() / n as f64;
        let (mut a, mut r) = (vec![0.0; q * q], vec![0.0; q]);
        for (row, &yt) in rows.iter().zip(&y) {
            for i in 0..q {
                r[i] += (row[i + 1] - xbar[i]) * (yt - ybar);
                for j in 0..q {
                    a[i * q + j] += (row[i + 1] - xbar[i]) * (row[j + 1] - xbar[j]);
                }
            }
        }
        let beta = crate::numeric::cholesky_solve(&mut a, &mut r, q).unwrap();
        for (got, want) in f.coefficients()[1..].iter().zip(&beta) {
            assert!(
                (got - want).abs() <= 1e-7 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
        // a gap, or a negative value, is refused
        let mut gap = y.clone();
        gap[10] = f64::NAN;
        assert!(matches!(spec.prefix_sums(&gap), Err(Error::InvalidData(_))));
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

//! Holt-Winters exponential smoothing in its state-space (ETS) form with additive errors,
//! after Hyndman, Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing: the State
//! Space Approach* (2008), chapters 2, 5 and 6.
//!
//! # The model
//! With level `l`, trend `b`, damping `φ` and seasonal states `s` (season length `m`), the
//! one-step forecast is `μ = l + φb (+ s)` (additive season) or `μ = (l + φb)·s`
//! (multiplicative season), the error is `ε = y − μ`, and the states advance by
//!
//! | | additive season | multiplicative season |
//! |---|---|---|
//! | level | `l + φb + αε` | `l + φb + αε/s` |
//! | trend | `φb + βε` | `φb + βε/s` |
//! | season | `s + γε` | `s + γε/(l + φb)` |
//!
//! (`φ = 1` without damping; no trend: `b = 0`.) `β` is the state-space trend smoothing
//! parameter (`β = α·β*` with Holt's `β*`).
//!
//! # Fitting
//! Errors are additive and Gaussian, so the likelihood concentrated over σ² is
//! `−n/2·(ln(2π·SSE/n) + 1)`: maximum likelihood is least squares on the one-step errors, for
//! every variant including the multiplicative season. The smoothing parameters are fitted inside
//! the usual region `0 < α < 1`, `0 < β < α`, `0 < γ < 1 − α`, `0.8 ≤ φ ≤ 0.98` (bounds by a
//! logistic transform) by Nelder–Mead: the best of four spread-out starting points, a coarse
//! search (to 1e-4 of the SSE), then a fine restart that stops when its simplex's
//! log-likelihoods agree to a hundredth of a nat (`2·0.01/n` of the SSE on `n` points, at most
//! 1e-5; a fixed 1e-7 spent two thirds of a fit's evaluations there and fitted 1.6× slower, for
//! the same MASE to three decimals on every trace of `benches/accuracy.py`). Initial states
//! start from a classical decomposition of the first (up to four) full seasons: centred moving
//! average, seasonal means, a line through the deseasonalised values. For linear models (additive or no season) the initial level and trend
//! are profiled out exactly at every evaluation: the errors are linear in them, so one pass that
//! also runs the recursion from a unit level and a unit trend on zero data gives their
//! least-squares values by a 2×2 solve (multiplicative seasons put them in the search instead).
//! Before the fine restart, linear models with a short season also get least-squares values for
//! every initial state (one solve of size `m + 2`; the column of seasonal state `j` is that of
//! state 0 delayed by `j` steps). That solve is bounded to about 4·10⁷ multiply-adds (`(m+2)²`
//! times the points used, taken from the head of the series) and needs ten seasons in those
//! points (fewer over-fit the `m` seasonal states: on four weeks of hourly data with m = 168 it
//! forecast worse), so in practice it runs for m up to ~50. For larger seasons (168, 288, 1440,
//! ...) and for multiplicative seasons the seasonal states keep their decomposition values,
//! which keeps fitting fast at any season length. The series is scaled by its mean absolute
//! value internally, so results do not depend on units.
//!
//! # Intervals
//! Additive seasons (and no season): the exact class-1 variance of Hyndman et al. (2008, §6.1),
//! `σ²·(1 + Σ_{j<h} c_j²)` with `c_j = α + β·(j or φ+…+φʲ) + γ·[j mod m = 0]`.
//! Multiplicative season: the standard deviation of 2,000 simulated sample paths with a fixed
//! seed (so repeated calls agree); the point forecast is the usual `(l + φ_h·b)·s`.
//! σ² is the mean squared one-step error (the maximum-likelihood estimate), kept up to date by
//! [`crate::forecast::Fitted::update`].
//!
//! # Fallbacks
//! If the optimiser finds no finite point (only possible with a multiplicative season, whose
//! level or factors may not cross zero), the fit uses α = 0.2, β = 0.01, γ = 0.05, φ = 0.95 from
//! the decomposition states, and if that also fails, the same with the trend held at 0 (β = 0),
//! which stays admissible on positive data. [`HoltWintersParams::converged`] is then `false`.
//! Forecasts are never NaN or infinite.

//!
//! # Layout
//! The settings and the fit's outline are here; `recursion` holds the state update and the
//! likelihood, `init` the initial states (and the spike-robust copy of the history), `search`
//! the parameter search, and `fitted` the fitted model. The numeric helpers (Nelder–Mead,
//! Cholesky) are in the crate's `numeric` module.

mod fitted;
mod init;
mod recursion;
mod search;
#[cfg(test)]
mod tests;

pub use fitted::FittedHoltWinters;

use super::contract::{lagged_sum_sq, prepare, FitInfo, Forecaster};
use crate::error::{Error, Result};
use recursion::{log_likelihood, run, Smooth};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Trend component of a [`HoltWinters`] model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// No trend.
    None,
    /// Additive (linear) trend.
    #[default]
    Additive,
    /// Additive trend damped by `φ` (forecasts level off). Also accepted as `"damped"`.
    #[serde(alias = "damped")]
    AdditiveDamped,
}

/// Seasonal component of a [`HoltWinters`] model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seasonal {
    /// No season.
    None,
    /// Additive season: a fixed amount above or below the level.
    #[default]
    Additive,
    /// Multiplicative season: a fixed proportion of the level (needs values > 0).
    Multiplicative,
}

impl FromStr for Trend {
    type Err = Error;
    /// Parses `"none"`, `"additive"` (`"add"`), `"additive_damped"` (`"damped"`), case-blind.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "n" => Ok(Trend::None),
            "additive" | "add" | "a" => Ok(Trend::Additive),
            "additive_damped" | "damped" | "ad" | "additive-damped" => Ok(Trend::AdditiveDamped),
            _ => Err(Error::param(format!(
                "unknown trend {s:?}: expected \"none\", \"additive\" or \"additive_damped\" (\"damped\")"
            ))),
        }
    }
}

impl FromStr for Seasonal {
    type Err = Error;
    /// Parses `"none"`, `"additive"` (`"add"`), `"multiplicative"` (`"mul"`), case-blind.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "n" => Ok(Seasonal::None),
            "additive" | "add" | "a" => Ok(Seasonal::Additive),
            "multiplicative" | "mul" | "m" => Ok(Seasonal::Multiplicative),
            _ => Err(Error::param(format!(
                "unknown seasonal {s:?}: expected \"none\", \"additive\" or \"multiplicative\""
            ))),
        }
    }
}

/// Holt-Winters (ETS with additive errors) settings; see the [module docs](self) for the model,
/// the fitting and the intervals.
///
/// `seasonal` other than [`Seasonal::None`] needs `season_length = Some(m)` with `m >= 2`;
/// with `Seasonal::None` it must be `None` (a season length without a season is refused as a
/// likely mistake). Any `m` works (24, 168, 288, 1440, ...)
/// as long as the history holds two full seasons. `alpha`, `beta`, `gamma`, `phi` fix a
/// smoothing parameter instead of fitting it.
///
/// ```
/// use flaskscale_core::{Fitted, Forecaster, HoltWinters};
/// let y: Vec<f64> = (0..240)
///     .map(|t| 100.0 + 0.5 * t as f64 + 20.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin())
///     .collect();
/// let fitted = HoltWinters::new(24).fit(&y)?;
/// let fc = fitted.predict(24, &[0.95])?;
/// let truth = 100.0 + 0.5 * 240.0 + 20.0 * 0.0; // t = 240 is a whole number of seasons
/// assert!((fc.mean[0] - truth).abs() < 0.5);
/// println!("alpha = {}", fitted.params().alpha);
/// # Ok::<(), flaskscale_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HoltWinters {
    /// Season length in steps (24 for hourly data with a daily cycle); `None` = no season.
    pub season_length: Option<usize>,
    /// Trend component.
    pub trend: Trend,
    /// Seasonal component.
    pub seasonal: Seasonal,
    /// Fixed level smoothing parameter α in (0, 1]; `None` = fitted.
    pub alpha: Option<f64>,
    /// Fixed trend smoothing parameter β in [0, α]; `None` = fitted.
    pub beta: Option<f64>,
    /// Fixed seasonal smoothing parameter γ in [0, 1 − α]; `None` = fitted.
    pub gamma: Option<f64>,
    /// Fixed damping parameter φ in (0, 1]; `None` = fitted (damped trend only).
    pub phi: Option<f64>,
    /// Spike-robust fit (seasonal models; default `true`): the smoothing parameters and initial
    /// states are fitted on a copy of the history whose seasonal outliers (flash crowds,
    /// outages: values more than [`ROBUST_SIGMAS`] robust standard deviations from the same
    /// phase of the [`ROBUST_SEASONS`] seasons on either side) are replaced by that phase's
    /// median, then the recursion runs over the data as observed. A few points 10× the rest
    /// otherwise dominate the squared errors and drive α to 1 or the season to the spikes.
    /// The predictive sd then comes from the one-step errors at the points not replaced.
    pub robust: bool,
}

/// Seasons on either side a value is compared with by the robust fit (see
/// [`HoltWinters::robust`]).
pub const ROBUST_SEASONS: usize = crate::series::OUTLIER_SEASONS;
/// Robust standard deviations beyond which the robust fit treats a value as a spike.
pub const ROBUST_SIGMAS: f64 = crate::series::OUTLIER_SIGMAS;

impl Default for HoltWinters {
    /// Additive trend, no season (Holt's linear method).
    fn default() -> Self {
        HoltWinters {
            season_length: None,
            trend: Trend::Additive,
            seasonal: Seasonal::None,
            alpha: None,
            beta: None,
            gamma: None,
            phi: None,
            robust: true,
        }
    }
}

impl HoltWinters {
    /// Additive trend and additive season of length `m` (checked by `fit`).
    pub fn new(season_length: usize) -> Self {
        HoltWinters {
            season_length: Some(season_length),
            seasonal: Seasonal::Additive,
            ..Default::default()
        }
    }

    /// The given components (checked by `fit`: `season_length` must be `Some(m >= 2)` exactly
    /// when `seasonal` is not `None`).
    pub fn with(season_length: Option<usize>, trend: Trend, seasonal: Seasonal) -> Self {
        HoltWinters {
            season_length,
            trend,
            seasonal,
            ..Default::default()
        }
    }

    /// Checks the settings: a season length of at least 2 exactly when there is a season, and
    /// fixed parameters in range (α in (0, 1], β in [0, α], γ in [0, 1 − α], φ in (0, 1]) and
    /// only for the components the model has.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the fault.
    pub fn validate(&self) -> Result<()> {
        self.check().map(|_| ())
    }

    /// [`HoltWinters::validate`], returning the season length in use (1 without a season).
    fn check(&self) -> Result<usize> {
        let m = match self.seasonal {
            Seasonal::None => match self.season_length {
                // a season length with no season is almost always a forgotten `seasonal`
                Some(m) => {
                    return Err(Error::param(format!(
                        "season length {m} is set but seasonal is none: set seasonal to \
                         additive or multiplicative, or leave the season length unset"
                    )))
                }
                None => 1,
            },
            _ => match self.season_length {
                None => {
                    return Err(Error::param(
                        "a seasonal model needs a season length, got none",
                    ))
                }
                Some(m) => crate::check::at_least("season length", m, 2, "steps")?,
            },
        };
        let in_range = |name: &str, v: Option<f64>, lo: f64, lo_open: bool| -> Result<()> {
            if let Some(v) = v {
                let ok = v.is_finite() && v <= 1.0 && if lo_open { v > lo } else { v >= lo };
                if !ok {
                    let open = if lo_open { "(" } else { "[" };
                    return Err(Error::param(format!(
                        "{name} must be in {open}{lo}, 1], got {v}"
                    )));
                }
            }
            Ok(())
        };
        in_range("alpha", self.alpha, 0.0, true)?;
        in_range("beta", self.beta, 0.0, false)?;
        in_range("gamma", self.gamma, 0.0, false)?;
        in_range("phi", self.phi, 0.0, true)?;
        if self.trend == Trend::None && self.beta.is_some() {
            return Err(Error::param("beta is set but the trend is none"));
        }
        if self.trend != Trend::AdditiveDamped && self.phi.is_some() {
            return Err(Error::param("phi is set but the trend is not damped"));
        }
        if self.seasonal == Seasonal::None && self.gamma.is_some() {
            return Err(Error::param("gamma is set but there is no season"));
        }
        if let (Some(a), Some(b)) = (self.alpha, self.beta) {
            if b > a {
                return Err(Error::param(format!(
                    "beta must be <= alpha, got beta {b} > alpha {a}"
                )));
            }
        }
        if let (Some(a), Some(g)) = (self.alpha, self.gamma) {
            if g > 1.0 - a {
                return Err(Error::param(format!(
                    "gamma must be <= 1 - alpha, got gamma {g} with alpha {a}"
                )));
            }
        }
        Ok(m)
    }

    /// Points needed to fit: two full seasons, or 4 (3 without a trend) without a season.
    fn needed(&self, m: usize) -> usize {
        match (self.seasonal, self.trend) {
            (Seasonal::None, Trend::None) => 3,
            (Seasonal::None, _) => 4,
            _ => 2 * m,
        }
    }
}

/// What a Holt-Winters fit found, in the units of the data: smoothing parameters, initial
/// states and fit statistics. Parameters a model does not have are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersParams {
    /// Season length in use (`None` without a season).
    pub season_length: Option<usize>,
    /// Trend component.
    pub trend: Trend,
    /// Seasonal component.
    pub seasonal: Seasonal,
    /// Level smoothing parameter α.
    pub alpha: f64,
    /// Trend smoothing parameter β (state-space form, `β = α·β*`).
    pub beta: Option<f64>,
    /// Seasonal smoothing parameter γ.
    pub gamma: Option<f64>,
    /// Damping parameter φ.
    pub phi: Option<f64>,
    /// Initial level (the state before the first observation).
    pub initial_level: f64,
    /// Initial trend.
    pub initial_trend: Option<f64>,
    /// Initial seasonal states, for the first `m` observations in order.
    pub initial_season: Vec<f64>,
    /// Sum of squared one-step errors over the fitted history.
    pub sse: f64,
    /// Gaussian log-likelihood with σ² = SSE/n (the maximum over σ²).
    pub log_likelihood: f64,
    /// Akaike information criterion, `−2·logL + 2k`.
    pub aic: f64,
    /// `k`: fitted smoothing parameters + initial states + σ².
    pub n_params: usize,
    /// Whether the optimiser met its tolerance within its evaluation budget (if not, the best
    /// point found is used; it is always finite).
    pub converged: bool,
    /// Objective evaluations spent.
    pub n_evals: usize,
    /// Why the fit delivered is not the fitted model, when it is not: its one-step errors were
    /// more than [`FALLBACK_RATIO`] times seasonal naive's (naive's without a season), so the
    /// model runs with the smoothing parameters that make it seasonal naive (α = 0, β = 0,
    /// γ = 1; α = 1, β = 0 without a season) and this says so. `None` for a normal fit.
    #[serde(default)]
    pub fallback: Option<String>,
}

/// How much worse (root mean squared one-step error) than seasonal naive's a Holt-Winters fit
/// may be before it is replaced by seasonal naive; see [`HoltWintersParams::fallback`].
pub const FALLBACK_RATIO: f64 = 1.5;

impl Forecaster for HoltWinters {
    type Fitted = FittedHoltWinters;

    /// Fits the model; see the [module docs](self).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a season length below 2 (or missing) with a seasonal
    /// model, or a fixed parameter out of range;
    /// [`Error::NotEnoughData`] for fewer than two full seasons (4 points without a season);
    /// [`Error::InvalidData`] as [`prepare`];
    /// [`Error::Fit`] for a multiplicative season on data with a zero, or when no finite fit
    /// exists.
    fn fit(&self, y: &[f64]) -> Result<FittedHoltWinters> {
        self.fit_search(y, None)
    }
}

impl HoltWinters {
    /// [`Forecaster::fit`] on `y`, its parameter search warm-started from `earlier`, a fit of
    /// this same model on a part of `y` (the AutoForecaster's refit of a candidate its backtest
    /// fitted at an earlier origin): the earlier parameters join the spread-out starting points
    /// of the search, whose best starts the coarse stage (the earlier optimum usually, which
    /// leaves the coarse search less to do); the stages and their tolerances are those of a fit
    /// from scratch. An earlier fit that fell back to seasonal naive, or of other components,
    /// gives no warm start.
    ///
    /// # Errors
    /// As [`Forecaster::fit`].
    pub(crate) fn fit_warm(
        &self,
        y: &[f64],
        earlier: &HoltWintersParams,
    ) -> Result<FittedHoltWinters> {
        let same = earlier.trend == self.trend
            && earlier.seasonal == self.seasonal
            && earlier.season_length == self.season_length
            && earlier.fallback.is_none();
        let warm = same.then(|| Smooth {
            alpha: earlier.alpha,
            beta: earlier.beta.unwrap_or(0.0),
            gamma: earlier.gamma.unwrap_or(0.0),
            phi: earlier.phi.unwrap_or(1.0),
        });
        self.fit_search(y, warm)
    }

    fn fit_search(&self, y: &[f64], warm: Option<Smooth>) -> Result<FittedHoltWinters> {
        let m = self.check()?;
        let needed = self.needed(m);
        let what = match self.seasonal {
            Seasonal::None => "a holt-winters model".to_string(),
            _ => format!("a holt-winters model with season length {m} (two full seasons)"),
        };
        let (y, n_filled) = prepare(y, needed, &what)?;
        if self.seasonal == Seasonal::Multiplicative {
            if let Some(i) = y.iter().position(|&v| v <= 0.0) {
                return Err(Error::Fit(format!(
                    "a multiplicative season needs values > 0, got {} at index {i}; use an additive season",
                    y[i]
                )));
            }
        }
        let n = y.len();
        let scale = {
            let s = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
            if s > 0.0 && s.is_finite() {
                s
            } else {
                1.0
            }
        };
        let ys: Vec<f64> = y.iter().map(|v| v / scale).collect();
        // the robust fit learns parameters and initial states from the history with its spikes
        // replaced; the states after the last observation still come from the data as observed
        let cleaned = init::robust_copy(&ys, m, self.robust, self.seasonal)?;
        let yfit: &[f64] = cleaned.as_deref().unwrap_or(&ys);
        let search::Found {
            mut p,
            mut l,
            mut b,
            mut season0,
            mut converged,
            evals: total_evals,
        } = search::search(self, yfit, m, warm);

        let mut scratch = season0.clone();
        let (mut sse, mut lf, mut bf, mut pos) =
            run(&ys, self.seasonal, p, l, b, &mut scratch, None);
        if !sse.is_finite() && self.seasonal == Seasonal::Multiplicative {
            // last resort for a multiplicative season whose trend drives the level below zero:
            // hold the trend at 0 (β = 0). With positive data, a positive level and positive
            // factors then stay positive (each update is a convex mix of positive terms).
            converged = false;
            p.beta = 0.0;
            b = 0.0;
            l = ys[..m].iter().sum::<f64>() / m as f64;
            scratch.copy_from_slice(&season0);
            (sse, lf, bf, pos) = run(&ys, self.seasonal, p, l, b, &mut scratch, None);
        }
        if !sse.is_finite() {
            return Err(Error::Fit(format!(
                "no finite holt-winters fit for these data ({:?} trend, {:?} season): the \
                 level or a seasonal factor left the admissible region",
                self.trend, self.seasonal
            )));
        }
        // a fit far worse than seasonal naive one step ahead is not delivered as the model's
        // answer: the same recursion with seasonal naive's parameters is (fitted parameters
        // only; fixed ones are the caller's choice)
        let mut fallback = None;
        let free = self.alpha.is_none()
            && self.beta.is_none()
            && self.gamma.is_none()
            && self.phi.is_none();
        let lag = if self.seasonal == Seasonal::None {
            1
        } else {
            m
        };
        if free && n > lag {
            let rmse = (sse / n as f64).sqrt();
            let naive_rmse = (lagged_sum_sq(&ys, lag) / (n - lag) as f64).sqrt();
            if rmse > FALLBACK_RATIO * naive_rmse {
                let what = if lag == 1 { "naive" } else { "seasonal naive" };
                let (fp, fl, fs) = init::naive_equivalent(&ys, m, self.seasonal);
                fallback = Some(format!(
                    "holt-winters fit replaced by {what}: its one-step RMSE {:.4} was {:.1}x \
                     {what}'s {:.4} (more than {FALLBACK_RATIO}x)",
                    rmse * scale,
                    rmse / naive_rmse,
                    naive_rmse * scale
                ));
                p = fp;
                l = fl;
                b = 0.0;
                season0 = fs;
                scratch.copy_from_slice(&season0);
                (sse, lf, bf, pos) = run(&ys, self.seasonal, p, l, b, &mut scratch, None);
                converged = false;
            }
        }
        // the predictive scale: the one-step errors of the robust fit leave out the points it
        // replaced (a surge is not forecastable, and squared it would set the band of every
        // ordinary hour); the SSE and the likelihood stay those of the data as observed
        let (sum_sq, n_res) = match &cleaned {
            Some(c) if fallback.is_none() => {
                sum_sq_unreplaced(&ys, c, self.seasonal, p, l, b, &season0).unwrap_or((sse, n))
            }
            _ => (sse, n),
        };
        let k = self.n_params(m);
        let sse_data = sse * scale * scale;
        let log_likelihood = log_likelihood(sse_data, n);
        let has_season = self.seasonal != Seasonal::None;
        let params = HoltWintersParams {
            season_length: has_season.then_some(m),
            trend: self.trend,
            seasonal: self.seasonal,
            alpha: p.alpha,
            beta: (self.trend != Trend::None).then_some(p.beta),
            gamma: has_season.then_some(p.gamma),
            phi: (self.trend == Trend::AdditiveDamped).then_some(p.phi),
            initial_level: l * scale,
            initial_trend: (self.trend != Trend::None).then_some(b * scale),
            initial_season: if !has_season {
                Vec::new()
            } else if self.seasonal == Seasonal::Multiplicative {
                season0.clone()
            } else {
                season0.iter().map(|s| s * scale).collect()
            },
            sse: sse_data,
            log_likelihood,
            aic: -2.0 * log_likelihood + 2.0 * k as f64,
            n_params: k,
            converged,
            n_evals: total_evals,
            fallback,
        };
        Ok(FittedHoltWinters {
            trend: self.trend,
            seasonal: self.seasonal,
            m,
            alpha: p.alpha,
            beta: p.beta,
            gamma: p.gamma,
            phi: p.phi,
            scale,
            level: lf,
            slope: bf,
            season: scratch,
            pos,
            sum_sq,
            n_res,
            params: Box::new(params),
            info: FitInfo {
                n_obs: n,
                n_filled,
                sigma: (sum_sq / n_res as f64).sqrt() * scale,
            },
        })
    }
}

impl HoltWinters {
    /// `k` of the AIC: the fitted smoothing parameters, the initial states (`m − 1` seasonal
    /// ones, their sum being fixed) and σ².
    fn n_params(&self, m: usize) -> usize {
        let n_smooth = usize::from(self.alpha.is_none())
            + usize::from(self.trend != Trend::None && self.beta.is_none())
            + usize::from(self.seasonal != Seasonal::None && self.gamma.is_none())
            + usize::from(self.trend == Trend::AdditiveDamped && self.phi.is_none());
        let n_states = 1
            + usize::from(self.trend != Trend::None)
            + if self.seasonal == Seasonal::None {
                0
            } else {
                m - 1
            };
        n_smooth + n_states + 1
    }
}

/// The sum of squared one-step errors over the history as observed (`ys`) at the points the
/// robust copy (`cleaned`) did not replace, and their count, for the recursion from the given
/// parameters and initial states; `None` when no point is left or the sum is not finite.
fn sum_sq_unreplaced(
    ys: &[f64],
    cleaned: &[f64],
    seasonal: Seasonal,
    p: Smooth,
    l: f64,
    b: f64,
    season0: &[f64],
) -> Option<(f64, usize)> {
    let mut res = vec![0.0; ys.len()];
    let mut scratch = season0.to_vec();
    let _ = run(ys, seasonal, p, l, b, &mut scratch, Some(&mut res));
    let (mut s, mut k) = (0.0, 0usize);
    for ((r, a), c) in res.iter().zip(ys).zip(cleaned) {
        if a == c {
            s += r * r;
            k += 1;
        }
    }
    (k > 0 && s.is_finite()).then_some((s, k))
}

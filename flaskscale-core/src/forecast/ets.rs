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
//! search, then a fine restart. Initial states start from a classical decomposition of the first
//! (up to four) full seasons: centred moving average, seasonal means, a line through the
//! deseasonalised values. For linear models (additive or no season) the initial level and trend
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
//! which keeps fitting fast at any season length.
//! internally, so results do not depend on units.
//!
//! # Intervals
//! Additive seasons (and no season): the exact class-1 variance of Hyndman et al. (2008, §6.1),
//! `σ²·(1 + Σ_{j<h} c_j²)` with `c_j = α + β·(j or φ+…+φʲ) + γ·[j mod m = 0]`.
//! Multiplicative season: the standard deviation of 2,000 simulated sample paths with a fixed
//! seed (so repeated calls agree); the point forecast is the usual `(l + φ_h·b)·s`.
//! σ² is the mean squared one-step error (the maximum-likelihood estimate), kept up to date by
//! [`Fitted::update`].
//!
//! # Fallbacks
//! If the optimiser finds no finite point (only possible with a multiplicative season, whose
//! level or factors may not cross zero), the fit uses α = 0.2, β = 0.01, γ = 0.05, φ = 0.95 from
//! the decomposition states, and if that also fails, the same with the trend held at 0 (β = 0),
//! which stays admissible on positive data. [`HoltWintersParams::converged`] is then `false`.
//! Forecasts are never NaN or infinite.

use super::{
    check_ring, check_update, lagged_sum_sq, prepare, state_ensure, FitInfo, Fitted, Forecaster,
    StateCheck,
};
use crate::error::{Error, Result};
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
pub const ROBUST_SEASONS: usize = 3;
/// Robust standard deviations beyond which the robust fit treats a value as a spike.
pub const ROBUST_SIGMAS: f64 = 4.0;

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

    /// Checks the settings and returns the season length in use (1 without a season).
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
                Some(m) if m < 2 => {
                    return Err(Error::param(format!("season length must be >= 2, got {m}")))
                }
                Some(m) => m,
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

/// A fitted [`HoltWinters`] model: its state after the last observation, online-updatable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedHoltWinters {
    trend: Trend,
    seasonal: Seasonal,
    m: usize,
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    /// Internal units: data divided by `scale`.
    scale: f64,
    level: f64,
    slope: f64,
    /// Seasonal states (length m, 1 without a season); `season[pos]` is used next.
    season: Vec<f64>,
    pos: usize,
    /// Sum of squared one-step errors (internal units) and their count.
    sum_sq: f64,
    n_res: usize,
    params: Box<HoltWintersParams>,
    info: FitInfo,
}

/// Smoothing parameters in their natural scale.
#[derive(Debug, Clone, Copy)]
struct Smooth {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

/// Lower bound of the open parameter intervals (statsforecast and the forecast package use
/// the same 1e-4 margin).
const EPS: f64 = 1e-4;

/// Runs the recursion over `y` from the given initial states and returns the sum of squared
/// one-step errors, or `+∞` when the states leave the admissible region (a non-positive level
/// or seasonal factor under a multiplicative season) or the sum overflows. `season` holds the
/// initial seasonal states and is overwritten with the final ones; returns also the final
/// level, trend and position.
#[inline]
#[allow(clippy::too_many_arguments)]
fn run(
    y: &[f64],
    seasonal: Seasonal,
    p: Smooth,
    l0: f64,
    b0: f64,
    season: &mut [f64],
    mut residuals: Option<&mut [f64]>,
) -> (f64, f64, f64, usize) {
    let Smooth {
        alpha,
        beta,
        gamma,
        phi,
    } = p;
    let m = season.len();
    let (mut l, mut b) = (l0, b0);
    let mut sse = 0.0;
    let mut j = 0usize;
    match seasonal {
        Seasonal::None => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let e = yt - base;
                l = base + alpha * e;
                b = tp + beta * e;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
            }
        }
        Seasonal::Additive => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let sj = season[j];
                let e = yt - base - sj;
                l = base + alpha * e;
                b = tp + beta * e;
                season[j] = sj + gamma * e;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
                j += 1;
                if j == m {
                    j = 0;
                }
            }
        }
        Seasonal::Multiplicative => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let sj = season[j];
                if !(base > 0.0 && sj > 0.0) {
                    return (f64::INFINITY, l, b, j);
                }
                let e = yt - base * sj;
                let es = e / sj;
                l = base + alpha * es;
                b = tp + beta * es;
                season[j] = sj + gamma * e / base;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
                j += 1;
                if j == m {
                    j = 0;
                }
            }
        }
    }
    if !(sse.is_finite() && l.is_finite() && b.is_finite()) {
        return (f64::INFINITY, l, b, j);
    }
    (sse, l, b, j)
}

/// One pass of a linear model (additive or no season) that also profiles out the initial level
/// and trend: alongside the recursion from (`l0`, `b0`, `season`), it runs the same recursion on
/// zero data from a unit level and from a unit trend (the errors are linear in the initial
/// states, so these give the errors' derivatives). Returns the least SSE over shifts of the
/// initial level and trend, and those shifts. The three recursions are independent, so they
/// cost about as much as one. `sl`, `sb` are scratch of the season's length.
#[allow(clippy::too_many_arguments)]
fn run_profiled(
    y: &[f64],
    p: Smooth,
    has_trend: bool,
    l0: f64,
    b0: f64,
    season: &mut [f64],
    sl: &mut [f64],
    sb: &mut [f64],
) -> (f64, f64, f64) {
    let Smooth {
        alpha,
        beta,
        gamma,
        phi,
    } = p;
    let m = season.len();
    sl.iter_mut().for_each(|v| *v = 0.0);
    sb.iter_mut().for_each(|v| *v = 0.0);
    let (mut l, mut b) = (l0, b0);
    let (mut ll, mut bl) = (1.0, 0.0);
    let (mut lb, mut bb) = (0.0, if has_trend { 1.0 } else { 0.0 });
    let (mut s00, mut s0l, mut s0b, mut sll, mut slb, mut sbb) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    // written for a short loop-carried chain: with d = y − s (off the chain),
    // l' = (1 − α)·base + α·d and b' = (φb + β·d) − β·base; one season per outer step, so the
    // seasonal slots are plain zipped iterators (no index wrap, no bounds checks)
    let oma = 1.0 - alpha;
    for yc in y.chunks(m) {
        let slots = season.iter_mut().zip(sl.iter_mut()).zip(sb.iter_mut());
        for (&yt, ((s0, s1), s2)) in yc.iter().zip(slots) {
            let tp = phi * b;
            let base = l + tp;
            let sj = *s0;
            let d = yt - sj;
            let e = d - base;
            l = oma * base + alpha * d;
            b = (tp + beta * d) - beta * base;
            *s0 = sj + gamma * e;

            let tpl = phi * bl;
            let basel = ll + tpl;
            let slj = *s1;
            let el = -slj - basel;
            ll = oma * basel - alpha * slj;
            bl = (tpl - beta * slj) - beta * basel;
            *s1 = slj + gamma * el;

            let tpb = phi * bb;
            let baseb = lb + tpb;
            let sbj = *s2;
            let eb = -sbj - baseb;
            lb = oma * baseb - alpha * sbj;
            bb = (tpb - beta * sbj) - beta * baseb;
            *s2 = sbj + gamma * eb;

            s00 += e * e;
            s0l += e * el;
            s0b += e * eb;
            sll += el * el;
            slb += el * eb;
            sbb += eb * eb;
        }
    }
    if !s00.is_finite() {
        return (f64::INFINITY, 0.0, 0.0);
    }
    // minimise Σ(e + a·el + c·eb)²: [sll slb; slb sbb]·[a c] = −[s0l s0b]
    let det = sll * sbb - slb * slb;
    let (a, c) = if has_trend && det > 1e-12 * sll * sbb && det.is_finite() {
        (
            (-s0l * sbb + s0b * slb) / det,
            (-s0b * sll + s0l * slb) / det,
        )
    } else if sll > 0.0 && sll.is_finite() {
        (-s0l / sll, 0.0)
    } else {
        (0.0, 0.0)
    };
    let sse = (s00 + a * s0l + c * s0b).max(0.0);
    if sse.is_finite() && a.is_finite() && c.is_finite() {
        (sse, a, c)
    } else {
        (s00, 0.0, 0.0)
    }
}

/// Classical-decomposition initial states over the first `k ≥ 2` full seasons (at most 4):
/// returns (level, trend, seasonal states). Without a season: a line through the first points.
fn initial_states(y: &[f64], m: usize, trend: Trend, seasonal: Seasonal) -> (f64, f64, Vec<f64>) {
    let line = |x: &[f64]| -> (f64, f64) {
        // least-squares line through (t, x_t), t = 1..=n: returns (value at t = 0, slope)
        let n = x.len() as f64;
        if x.len() < 2 {
            return (x.first().copied().unwrap_or(0.0), 0.0);
        }
        let tm = (n + 1.0) / 2.0;
        let xm = x.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let d = (i + 1) as f64 - tm;
            sxy += d * (v - xm);
            sxx += d * d;
        }
        let slope = sxy / sxx;
        (xm - slope * tm, slope)
    };
    if seasonal == Seasonal::None {
        let head = &y[..y.len().min(10)];
        return match trend {
            Trend::None => (head.iter().sum::<f64>() / head.len() as f64, 0.0, vec![0.0]),
            _ => {
                let (l, b) = line(head);
                (l, b, vec![0.0])
            }
        };
    }
    let mult = seasonal == Seasonal::Multiplicative;
    let k = (y.len() / m).clamp(2, 4);
    let x = &y[..k * m];
    // centred moving average of order m (2×m for even m), by a running sum
    let half = m / 2;
    let even = m % 2 == 0;
    let mut idx_sum = vec![0.0; m];
    let mut idx_cnt = vec![0usize; m];
    let mut run_sum: f64 = x[..m].iter().sum(); // window [t - half, t - half + m)
    for t in half..x.len() - half {
        let lo = t - half;
        let ma = if even {
            // average of the windows starting at lo and lo+1 (a 2×m average)
            let next = if lo + m < x.len() {
                run_sum - x[lo] + x[lo + m]
            } else {
                run_sum
            };
            let v = (run_sum + next) / (2.0 * m as f64);
            run_sum = next;
            v
        } else {
            let v = run_sum / m as f64;
            if lo + m < x.len() {
                run_sum += x[lo + m] - x[lo];
            }
            v
        };
        if even && t + half >= x.len() {
            break; // the 2×m window would run past the data
        }
        let d = if mult {
            if ma > 0.0 {
                x[t] / ma
            } else {
                1.0
            }
        } else {
            x[t] - ma
        };
        idx_sum[t % m] += d;
        idx_cnt[t % m] += 1;
    }
    let mut season: Vec<f64> = idx_sum
        .iter()
        .zip(&idx_cnt)
        .map(|(&s, &c)| {
            if c > 0 {
                s / c as f64
            } else if mult {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mean = season.iter().sum::<f64>() / m as f64;
    for s in &mut season {
        if mult {
            *s = if mean > 0.0 { *s / mean } else { 1.0 };
        } else {
            *s -= mean;
        }
    }
    let deseason: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(t, &v)| {
            if mult {
                v / season[t % m]
            } else {
                v - season[t % m]
            }
        })
        .collect();
    let (l, b) = line(&deseason);
    match trend {
        Trend::None => (
            deseason.iter().sum::<f64>() / deseason.len() as f64,
            0.0,
            season,
        ),
        _ => (l, b, season),
    }
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Which parameters the optimiser moves, and how its vector maps to them.
struct Layout {
    trend: Trend,
    seasonal: Seasonal,
    fixed: HoltWinters,
    /// Optimise the initial level and trend too.
    states: bool,
    l0: f64,
    b0: f64,
}

impl Layout {
    fn dims(&self) -> usize {
        let mut d = 0;
        d += usize::from(self.fixed.alpha.is_none());
        d += usize::from(self.trend != Trend::None && self.fixed.beta.is_none());
        d += usize::from(self.seasonal != Seasonal::None && self.fixed.gamma.is_none());
        d += usize::from(self.trend == Trend::AdditiveDamped && self.fixed.phi.is_none());
        if self.states {
            d += 1 + usize::from(self.trend != Trend::None);
        }
        d
    }

    /// Maps an optimiser vector to (parameters, initial level, initial trend), respecting the
    /// usual region: α in (max(ε, β), min(1 − ε, 1 − γ)) for fixed β, γ; β in (ε, α);
    /// γ in (ε, 1 − α); φ in [0.8, 0.98].
    fn map(&self, x: &[f64]) -> (Smooth, f64, f64) {
        let mut i = 0;
        let mut next = || {
            let v = x[i];
            i += 1;
            v
        };
        let alpha = match self.fixed.alpha {
            Some(a) => a,
            None => {
                let lo = self.fixed.beta.unwrap_or(0.0).max(EPS);
                let hi = (1.0 - self.fixed.gamma.unwrap_or(0.0)).min(1.0 - EPS);
                lo + (hi - lo).max(0.0) * logistic(next())
            }
        };
        let beta = match (self.trend, self.fixed.beta) {
            (Trend::None, _) => 0.0,
            (_, Some(b)) => b,
            (_, None) => EPS + (alpha - EPS).max(0.0) * logistic(next()),
        };
        let gamma = match (self.seasonal, self.fixed.gamma) {
            (Seasonal::None, _) => 0.0,
            (_, Some(g)) => g,
            (_, None) => EPS + (1.0 - alpha - EPS).max(0.0) * logistic(next()),
        };
        let phi = match (self.trend, self.fixed.phi) {
            (Trend::AdditiveDamped, Some(p)) => p,
            (Trend::AdditiveDamped, None) => 0.8 + 0.18 * logistic(next()),
            _ => 1.0,
        };
        let (mut l0, mut b0) = (self.l0, self.b0);
        if self.states {
            l0 += next();
            if self.trend != Trend::None {
                b0 += 0.1 * next();
            }
        }
        (
            Smooth {
                alpha,
                beta,
                gamma,
                phi,
            },
            l0,
            b0,
        )
    }

    /// Optimiser start for the given natural parameters (initial-state offsets 0).
    fn start(&self, alpha: f64, beta_frac: f64, gamma_frac: f64, phi: f64) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.dims());
        if self.fixed.alpha.is_none() {
            x.push(logit(alpha));
        }
        if self.trend != Trend::None && self.fixed.beta.is_none() {
            x.push(logit(beta_frac));
        }
        if self.seasonal != Seasonal::None && self.fixed.gamma.is_none() {
            x.push(logit(gamma_frac));
        }
        if self.trend == Trend::AdditiveDamped && self.fixed.phi.is_none() {
            x.push(logit((phi - 0.8) / 0.18));
        }
        if self.states {
            x.push(0.0);
            if self.trend != Trend::None {
                x.push(0.0);
            }
        }
        x
    }
}

/// Result of a Nelder–Mead search.
struct Optimum {
    x: Vec<f64>,
    f: f64,
    evals: usize,
    converged: bool,
}

/// Nelder–Mead minimisation of `f` from `x0` with initial step `step` on every coordinate,
/// stopping when the simplex's values agree to `ftol` (relative) or after `max_evals`.
fn nelder_mead(
    f: &mut impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    ftol: f64,
    max_evals: usize,
) -> Optimum {
    let d = x0.len();
    if d == 0 {
        let v = f(x0);
        return Optimum {
            x: x0.to_vec(),
            f: v,
            evals: 1,
            converged: true,
        };
    }
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    let mut vals: Vec<f64> = Vec::with_capacity(d + 1);
    pts.push(x0.to_vec());
    vals.push(f(x0));
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        vals.push(f(&p));
        pts.push(p);
    }
    let mut evals = d + 1;
    let mut centroid = vec![0.0; d];
    let mut xr = vec![0.0; d];
    let mut xe = vec![0.0; d];
    let mut converged = false;
    let mut order: Vec<usize> = (0..=d).collect();
    while evals < max_evals {
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let (best, worst, second) = (order[0], order[d], order[d - 1]);
        let (fb, fw) = (vals[best], vals[worst]);
        if fw.is_finite() && (fw - fb) <= ftol * (fb.abs() + 1e-12) {
            converged = true;
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &k in &order[..d] {
            for (c, v) in centroid.iter_mut().zip(&pts[k]) {
                *c += v / d as f64;
            }
        }
        for ((r, c), w) in xr.iter_mut().zip(&centroid).zip(&pts[worst]) {
            *r = c + (c - w);
        }
        let fr = f(&xr);
        evals += 1;
        if fr < fb {
            for ((e, c), w) in xe.iter_mut().zip(&centroid).zip(&pts[worst]) {
                *e = c + 2.0 * (c - w);
            }
            let fe = f(&xe);
            evals += 1;
            if fe < fr {
                pts[worst].copy_from_slice(&xe);
                vals[worst] = fe;
            } else {
                pts[worst].copy_from_slice(&xr);
                vals[worst] = fr;
            }
            continue;
        }
        if fr < vals[second] {
            pts[worst].copy_from_slice(&xr);
            vals[worst] = fr;
            continue;
        }
        // contraction: outside if the reflection improved on the worst, else inside
        let outside = fr < fw;
        for ((e, c), w) in xe.iter_mut().zip(&centroid).zip(&pts[worst]) {
            *e = if outside {
                c + 0.5 * (c - w)
            } else {
                c - 0.5 * (c - w)
            };
        }
        let fc = f(&xe);
        evals += 1;
        if fc < fr.min(fw) {
            pts[worst].copy_from_slice(&xe);
            vals[worst] = fc;
            continue;
        }
        // shrink towards the best
        let bp = pts[best].clone();
        for k in 0..=d {
            if k == best {
                continue;
            }
            for (v, b) in pts[k].iter_mut().zip(&bp) {
                *v = b + 0.5 * (*v - b);
            }
            vals[k] = f(&pts[k]);
            evals += 1;
        }
    }
    let best = (0..=d)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    Optimum {
        x: pts[best].clone(),
        f: vals[best],
        evals,
        converged,
    }
}

/// Work budget (multiply-adds, `k²·n` for `k` initial states over `n` points) of the
/// least-squares refinement of the initial states. Over it the refinement uses a shorter
/// head of the series, and is skipped when that head would hold fewer than three seasons.
const LS_COST_MAX: usize = 40_000_000;

/// Seasons the least-squares refinement needs in the points it uses (about ten observations
/// per seasonal state; with fewer, the fitted initial season over-fits).
const LS_MIN_SEASONS: usize = 10;

/// Least-squares initial states for a linear (additive-season or no-season) model with fixed
/// smoothing parameters: the one-step errors are `e = e(0) − D·x0`, with `e(0)` the errors
/// from all-zero initial states and column `k` of `D` the forecasts from unit state `k` on zero
/// data. Returns (level, trend, season) or `None` if the system is singular.
fn ls_initial_states(y: &[f64], m: usize, trend: Trend, p: Smooth) -> Option<(f64, f64, Vec<f64>)> {
    let has_trend = trend != Trend::None;
    let k = 1 + usize::from(has_trend) + m;
    let n = y.len();
    // normal equations A·x = r, A = DᵀD, r = Dᵀe(0); D computed column by column
    let mut cols = vec![0.0; k * n];
    let zeros = vec![0.0; n];
    let mut season = vec![0.0; m];
    let off = 1 + usize::from(has_trend);
    // the recursion is time-invariant on zero data, so the column of seasonal state j is the
    // column of state 0 delayed by j steps: three runs give every column
    for c in 0..=off {
        season.iter_mut().for_each(|s| *s = 0.0);
        let (l0, b0) = match c {
            0 => (1.0, 0.0),
            1 if has_trend => (0.0, 1.0),
            _ => {
                season[0] = 1.0;
                (0.0, 0.0)
            }
        };
        // on zero data the error is −forecast, so the column is −residuals
        let col = &mut cols[c * n..(c + 1) * n];
        run(
            &zeros,
            Seasonal::Additive,
            p,
            l0,
            b0,
            &mut season,
            Some(col),
        );
        col.iter_mut().for_each(|v| *v = -*v);
    }
    for j in 1..m {
        let (head, tail) = cols.split_at_mut((off + j) * n);
        let src = &head[off * n..(off + 1) * n];
        let dst = &mut tail[..n];
        let lag = j.min(n);
        dst[..lag].iter_mut().for_each(|v| *v = 0.0);
        dst[lag..].copy_from_slice(&src[..n - lag]);
    }
    let mut e0 = vec![0.0; n];
    season.iter_mut().for_each(|s| *s = 0.0);
    run(
        y,
        Seasonal::Additive,
        p,
        0.0,
        0.0,
        &mut season,
        Some(&mut e0),
    );
    let mut a = vec![0.0; k * k];
    let mut r = vec![0.0; k];
    for i in 0..k {
        let ci = &cols[i * n..(i + 1) * n];
        r[i] = dot(ci, &e0);
        for j in i..k {
            let cj = &cols[j * n..(j + 1) * n];
            let v = dot(ci, cj);
            a[i * k + j] = v;
            a[j * k + i] = v;
        }
    }
    // the level and a constant season shift are confounded: a tiny ridge picks one solution
    let tr = (0..k).map(|i| a[i * k + i]).sum::<f64>() / k as f64;
    for i in 0..k {
        a[i * k + i] += 1e-9 * tr.max(1e-300);
    }
    let x = cholesky_solve(&mut a, &mut r, k)?;
    let mut s: Vec<f64> = x[off..].to_vec();
    let mean = s.iter().sum::<f64>() / m as f64;
    s.iter_mut().for_each(|v| *v -= mean);
    let l = x[0] + mean;
    let b = if has_trend { x[1] } else { 0.0 };
    if l.is_finite() && b.is_finite() && s.iter().all(|v| v.is_finite()) {
        Some((l, b, s))
    } else {
        None
    }
}

/// Dot product with four accumulators (independent add chains).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Solves the symmetric positive definite system `a·x = r` (k×k, row-major) in place by
/// Cholesky; `None` if `a` is not positive definite.
fn cholesky_solve(a: &mut [f64], r: &mut [f64], k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for p in 0..j {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / d;
        }
    }
    // forward then backward substitution with L and Lᵀ
    for i in 0..k {
        let mut v = r[i];
        for p in 0..i {
            v -= a[i * k + p] * r[p];
        }
        r[i] = v / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut v = r[i];
        for p in i + 1..k {
            v -= a[p * k + i] * r[p];
        }
        r[i] = v / a[i * k + i];
    }
    Some(r.to_vec())
}

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
        let cleaned = if self.robust && self.seasonal != Seasonal::None {
            let (c, replaced) =
                crate::series::clean_seasonal_outliers(&ys, m, ROBUST_SEASONS, ROBUST_SIGMAS)?;
            (replaced > 0).then_some(c)
        } else {
            None
        };
        let yfit: &[f64] = cleaned.as_deref().unwrap_or(&ys);
        let (l0, b0, mut season0) = initial_states(yfit, m, self.trend, self.seasonal);
        let linear = self.seasonal != Seasonal::Multiplicative;
        let has_trend = self.trend != Trend::None;
        let mut layout = Layout {
            trend: self.trend,
            seasonal: self.seasonal,
            fixed: *self,
            // linear models profile the initial level and trend out of the objective
            states: !linear,
            l0,
            b0,
        };
        let mut ev = Evaluator {
            ys: yfit,
            linear,
            has_trend,
            season0: season0.clone(),
            scratch: season0.clone(),
            sl: vec![0.0; m],
            sb: vec![0.0; m],
        };
        let budget = 200 + 100 * layout.dims();
        let mut total_evals = 0;

        // two coarse starts; then (linear models with a short season) the least-squares initial
        // states at the better one; then a fine restart from it (a restart is also the usual
        // remedy for a simplex that collapsed early)
        let mut opt = {
            let mut obj = |x: &[f64]| ev.sse(&layout, x);
            // the best of a few spread-out starting points, then a coarse search from it
            let mut x0 = layout.start(0.2, 0.1, 0.1, 0.9);
            let mut f0 = f64::INFINITY;
            for &(a, bf, gf) in &[
                (0.1, 0.1, 0.1),
                (0.3, 0.05, 0.2),
                (0.6, 0.05, 0.3),
                (0.9, 0.02, 0.5),
            ] {
                let x = layout.start(a, bf, gf, 0.9);
                let f = obj(&x);
                total_evals += 1;
                if f < f0 {
                    f0 = f;
                    x0 = x;
                }
            }
            let o = nelder_mead(&mut obj, &x0, 1.0, 1e-4, budget);
            total_evals += o.evals;
            o
        };
        let k_states = (m + 2) * (m + 2);
        let ls_n = n.min(LS_COST_MAX / k_states);
        if linear && ls_n >= LS_MIN_SEASONS * m && opt.f.is_finite() {
            let (p, _, _) = ev.states(&layout, &opt.x);
            if let Some((l, b, s)) = ls_initial_states(&yfit[..ls_n], m, self.trend, p) {
                let mut trial = s.clone();
                let f_ls = run(yfit, self.seasonal, p, l, b, &mut trial, None).0;
                if f_ls < opt.f {
                    season0 = s;
                    ev.season0.copy_from_slice(&season0);
                    layout.l0 = l;
                    layout.b0 = b;
                    opt.f = f_ls;
                }
            }
        }
        {
            let mut obj = |x: &[f64]| ev.sse(&layout, x);
            let o = nelder_mead(&mut obj, &opt.x, 0.3, 1e-7, budget);
            total_evals += o.evals;
            if o.f <= opt.f || !opt.f.is_finite() {
                opt = o;
            }
        }
        let mut scratch = season0.clone();

        let mut converged = opt.converged;
        let (mut p, mut l, mut b) = ev.states(&layout, &opt.x);
        if !opt.f.is_finite() {
            // fall back to conventional fixed parameters from the heuristic states
            converged = false;
            p = Smooth {
                alpha: self.alpha.unwrap_or(0.2),
                beta: match self.trend {
                    Trend::None => 0.0,
                    _ => self.beta.unwrap_or(0.01),
                },
                gamma: match self.seasonal {
                    Seasonal::None => 0.0,
                    _ => self.gamma.unwrap_or(0.05),
                },
                phi: match self.trend {
                    Trend::AdditiveDamped => self.phi.unwrap_or(0.95),
                    _ => 1.0,
                },
            };
            l = l0;
            b = b0;
        }
        scratch.copy_from_slice(&season0);
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
                let (fp, fl, fs) = naive_equivalent(&ys, m, self.seasonal);
                fallback = Some(format!(
                    "holt-winters fit replaced by {what}: its one-step RMSE {:.4} was {:.1}x                      {what}'s {:.4} (more than {FALLBACK_RATIO}x)",
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
                let mut res = vec![0.0; n];
                scratch.copy_from_slice(&season0);
                let _ = run(&ys, self.seasonal, p, l, b, &mut scratch, Some(&mut res));
                let (mut s, mut k) = (0.0, 0usize);
                for ((r, a), c) in res.iter().zip(&ys).zip(c) {
                    if a == c {
                        s += r * r;
                        k += 1;
                    }
                }
                if k > 0 && s.is_finite() {
                    (s, k)
                } else {
                    (sse, n)
                }
            }
            _ => (sse, n),
        };
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
        let k = n_smooth + n_states + 1;
        let nf = n as f64;
        let sse_data = sse * scale * scale;
        let sigma2 = sse_data / nf;
        let log_likelihood = if sigma2 > 0.0 {
            -0.5 * nf * ((std::f64::consts::TAU * sigma2).ln() + 1.0)
        } else {
            f64::INFINITY
        };
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

/// The smoothing parameters and initial states under which the recursion is seasonal naive
/// (naive without a season): with α = 0, β = 0 and γ = 1 the level stays put and each seasonal
/// state becomes the last value of its phase less the level (a factor of it for a
/// multiplicative season), so the forecast is `y[t − m]`; without a season α = 1 makes the
/// level the last value. The initial states reproduce the first season exactly.
fn naive_equivalent(y: &[f64], m: usize, seasonal: Seasonal) -> (Smooth, f64, Vec<f64>) {
    let p = |alpha, gamma| Smooth {
        alpha,
        beta: 0.0,
        gamma,
        phi: 1.0,
    };
    match seasonal {
        Seasonal::None => (p(1.0, 0.0), y[0], vec![0.0]),
        Seasonal::Additive => {
            let l = y[..m].iter().sum::<f64>() / m as f64;
            (p(0.0, 1.0), l, y[..m].iter().map(|v| v - l).collect())
        }
        Seasonal::Multiplicative => {
            let l = y[..m].iter().sum::<f64>() / m as f64;
            (p(0.0, 1.0), l, y[..m].iter().map(|v| v / l).collect())
        }
    }
}

/// The fitting objective with its scratch buffers.
struct Evaluator<'a> {
    ys: &'a [f64],
    linear: bool,
    has_trend: bool,
    season0: Vec<f64>,
    scratch: Vec<f64>,
    sl: Vec<f64>,
    sb: Vec<f64>,
}

impl Evaluator<'_> {
    /// SSE at optimiser point `x` (initial level and trend profiled out for linear models).
    fn sse(&mut self, layout: &Layout, x: &[f64]) -> f64 {
        let (p, l, b) = layout.map(x);
        self.scratch.copy_from_slice(&self.season0);
        if self.linear {
            let (sse, _, _) = run_profiled(
                self.ys,
                p,
                self.has_trend,
                l,
                b,
                &mut self.scratch,
                &mut self.sl,
                &mut self.sb,
            );
            sse
        } else {
            run(self.ys, layout.seasonal, p, l, b, &mut self.scratch, None).0
        }
    }

    /// Parameters and initial level and trend at `x`.
    fn states(&mut self, layout: &Layout, x: &[f64]) -> (Smooth, f64, f64) {
        let (p, l, b) = layout.map(x);
        if !self.linear {
            return (p, l, b);
        }
        self.scratch.copy_from_slice(&self.season0);
        let (_, da, db) = run_profiled(
            self.ys,
            p,
            self.has_trend,
            l,
            b,
            &mut self.scratch,
            &mut self.sl,
            &mut self.sb,
        );
        (p, l + da, b + db)
    }
}

impl FittedHoltWinters {
    /// The fitted parameters, initial states and fit statistics.
    pub fn params(&self) -> &HoltWintersParams {
        &self.params
    }

    /// The current level, trend and seasonal states (data units; the seasonal states start
    /// with the one for the next step, empty without a season). Multiplicative seasonal states
    /// are factors.
    pub fn states(&self) -> (f64, f64, Vec<f64>) {
        let mult = self.seasonal == Seasonal::Multiplicative;
        let m = if self.seasonal == Seasonal::None {
            0
        } else {
            self.m
        };
        let season = (0..m)
            .map(|i| {
                let s = self.season[(self.pos + i) % self.m];
                if mult {
                    s
                } else {
                    s * self.scale
                }
            })
            .collect();
        (self.level * self.scale, self.slope * self.scale, season)
    }

    /// Point forecast h ≥ 1 steps ahead, internal units.
    #[inline]
    fn point(&self, h: usize, phi_sum: f64) -> f64 {
        let base = self.level + phi_sum * self.slope;
        let s = self.season[(self.pos + (h - 1) % self.m) % self.m];
        match self.seasonal {
            Seasonal::None => base,
            Seasonal::Additive => base + s,
            Seasonal::Multiplicative => base * s,
        }
    }

    /// Standard deviation of the multiplicative-season forecast by simulation (internal units).
    fn simulate_sd(&self, sd: &mut [f64]) {
        const PATHS: usize = 2000;
        let sigma = (self.sum_sq / self.n_res as f64).sqrt();
        let hmax = sd.len();
        if sigma == 0.0 || !sigma.is_finite() {
            sd.iter_mut().for_each(|v| *v = 0.0);
            return;
        }
        let mut sum = vec![0.0; hmax];
        let mut sum2 = vec![0.0; hmax];
        let mut rng = crate::traffic::Rng::new(0x5EED_F1A5_C0DE_2026);
        let mut season = self.season.clone();
        for _ in 0..PATHS {
            let (mut l, mut b) = (self.level, self.slope);
            season.copy_from_slice(&self.season);
            let mut j = self.pos;
            for h in 0..hmax {
                let tp = self.phi * b;
                let base = l + tp;
                let sj = season[j];
                let e = sigma * rng.normal();
                let yv = base * sj + e;
                // keep paths inside the admissible region (positive level and factors)
                let es = if sj > 0.0 { e / sj } else { 0.0 };
                l = base + self.alpha * es;
                b = tp + self.beta * es;
                if base > 0.0 {
                    season[j] = sj + self.gamma * e / base;
                }
                sum[h] += yv;
                sum2[h] += yv * yv;
                j += 1;
                if j == self.m {
                    j = 0;
                }
            }
        }
        let np = PATHS as f64;
        for h in 0..hmax {
            let mean = sum[h] / np;
            let var = (sum2[h] / np - mean * mean).max(0.0) * np / (np - 1.0);
            sd[h] = var.sqrt();
        }
    }
}

impl FittedHoltWinters {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        let min_m = if self.seasonal == Seasonal::None {
            1
        } else {
            2
        };
        check_ring("Holt-Winters", self.m, self.season.len(), self.pos, min_m)?;
        for (name, v) in [
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("gamma", self.gamma),
            ("phi", self.phi),
        ] {
            state_ensure((0.0..=1.0).contains(&v), || {
                format!("{name} = {v} outside [0, 1]")
            })?;
        }
        state_ensure(self.scale.is_finite() && self.scale > 0.0, || {
            format!("scale {}", self.scale)
        })?;
        state_ensure(self.n_res >= 1, || "no residual behind the scale".into())
    }
}

impl Fitted for FittedHoltWinters {
    fn name(&self) -> &'static str {
        "holt_winters"
    }

    fn fit_info(&self) -> &FitInfo {
        &self.info
    }

    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        let sigma2 = self.sum_sq / self.n_res as f64;
        let mut phi_sum = 0.0; // φ + φ² + … + φʰ
        let mut phi_pow = 1.0;
        let mut c_sum = 0.0; // Σ_{j<h} c_j², class-1 variance
        let mut phi_j = 0.0; // φ + … + φʲ for the c_j term
        let mut phi_pow_j = 1.0;
        for (i, (mu, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            let h = i + 1;
            phi_pow *= self.phi;
            phi_sum += phi_pow;
            let v = self.point(h, phi_sum) * self.scale;
            *mu = if v.is_finite() { v } else { 0.0 };
            if h >= 2 {
                let j = h - 1;
                phi_pow_j *= self.phi;
                phi_j += phi_pow_j;
                let season_hit = self.seasonal != Seasonal::None && j % self.m == 0;
                let c = self.alpha + self.beta * phi_j + if season_hit { self.gamma } else { 0.0 };
                c_sum += c * c;
            }
            *s = (sigma2 * (1.0 + c_sum)).sqrt() * self.scale;
        }
        if self.seasonal == Seasonal::Multiplicative {
            self.simulate_sd(sd);
            sd.iter_mut().for_each(|v| *v *= self.scale);
        }
        for v in sd.iter_mut() {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
    }

    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for (i, &v) in y.iter().enumerate() {
            let tp = self.phi * self.slope;
            let base = self.level + tp;
            let j = self.pos;
            let sj = self.season[j];
            let yhat = match self.seasonal {
                Seasonal::None => base,
                Seasonal::Additive => base + sj,
                Seasonal::Multiplicative => base * sj,
            };
            // a missing value advances on the one-step forecast: no error term
            let e = if v.is_nan() {
                0.0
            } else {
                v / self.scale - yhat
            };
            let (l, b, s) = match self.seasonal {
                Seasonal::None => (base + self.alpha * e, tp + self.beta * e, sj),
                Seasonal::Additive => (
                    base + self.alpha * e,
                    tp + self.beta * e,
                    sj + self.gamma * e,
                ),
                Seasonal::Multiplicative => {
                    let es = if sj > 0.0 { e / sj } else { e };
                    // keep factors positive: one point far below the level cannot flip the
                    // season's sign
                    let s = if base > 0.0 {
                        (sj + self.gamma * e / base).max(1e-6)
                    } else {
                        sj
                    };
                    (base + self.alpha * es, tp + self.beta * es, s)
                }
            };
            let sum_sq = self.sum_sq + e * e;
            if !(l.is_finite() && b.is_finite() && s.is_finite() && sum_sq.is_finite()) {
                return Err(Error::data(format!(
                    "value {v} at index {i} drives the holt-winters state to infinity \
                     (values before it were applied); refit instead"
                )));
            }
            self.level = l;
            self.slope = b;
            self.season[j] = s;
            if !v.is_nan() {
                self.sum_sq = sum_sq;
                self.n_res += 1;
            }
            self.pos = if j + 1 == self.m { 0 } else { j + 1 };
            self.info.n_obs += 1;
        }
        self.info.sigma = (self.sum_sq / self.n_res as f64).sqrt() * self.scale;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{FittedModel, Forecast, ModelSpec};
    use proptest::prelude::*;
    use std::f64::consts::TAU;

    fn sine_trend(n: usize, m: usize) -> Vec<f64> {
        (0..n)
            .map(|t| {
                let t = t as f64;
                200.0 + 0.7 * t + 40.0 * (TAU * t / m as f64).sin()
            })
            .collect()
    }

    #[test]
    fn noiseless_sine_with_trend_is_recovered() {
        let (m, n, h) = (24, 24 * 12, 48);
        let all = sine_trend(n + h, m);
        let f = HoltWinters::new(m).fit(&all[..n]).unwrap();
        let fc = f.predict(h, &[0.95]).unwrap();
        // closed form: the series itself continues
        for (i, (&p, &y)) in fc.mean.iter().zip(&all[n..]).enumerate() {
            assert!((p - y).abs() < 0.05, "h={}: {p} vs {y}", i + 1);
        }
        assert!(f.fit_info().sigma < 0.05, "sigma {}", f.fit_info().sigma);
    }

    #[test]
    fn noiseless_line_with_trend_only_model() {
        let y: Vec<f64> = (0..50).map(|t| 10.0 + 3.0 * t as f64).collect();
        let f = HoltWinters::default().fit(&y).unwrap();
        let fc = f.predict(10, &[]).unwrap();
        for (h, &p) in fc.mean.iter().enumerate() {
            let truth = 10.0 + 3.0 * (50 + h) as f64;
            assert!((p - truth).abs() < 1e-4, "h={}: {p} vs {truth}", h + 1);
        }
    }

    #[test]
    fn multiplicative_season_is_recovered() {
        let m = 12;
        let y: Vec<f64> = (0..m * 10 + 12)
            .map(|t| (100.0 + t as f64) * (1.0 + 0.3 * (TAU * t as f64 / m as f64).sin()))
            .collect();
        let n = m * 10;
        let spec = HoltWinters::with(Some(m), Trend::Additive, Seasonal::Multiplicative);
        let f = spec.fit(&y[..n]).unwrap();
        let fc = f.predict(12, &[0.9]).unwrap();
        for (&p, &t) in fc.mean.iter().zip(&y[n..]) {
            assert!((p - t).abs() / t < 0.01, "{p} vs {t}");
        }
        // the simulated sd is deterministic (fixed seed) and finite
        let again = f.predict(12, &[0.9]).unwrap();
        assert_eq!(fc.sd, again.sd);
        assert!(fc.sd.iter().all(|s| s.is_finite() && *s >= 0.0));
    }

    #[test]
    fn constant_series_gives_flat_finite_forecast() {
        for seasonal in [Seasonal::None, Seasonal::Additive, Seasonal::Multiplicative] {
            for trend in [Trend::None, Trend::Additive, Trend::AdditiveDamped] {
                let m = (seasonal != Seasonal::None).then_some(24);
                let spec = HoltWinters::with(m, trend, seasonal);
                let f = spec.fit(&[42.0; 100]).unwrap();
                let fc = f.predict(30, &[0.95]).unwrap();
                for (&p, &s) in fc.mean.iter().zip(&fc.sd) {
                    assert!((p - 42.0).abs() < 1e-9, "{trend:?} {seasonal:?}: {p}");
                    assert!(s.is_finite() && s < 1e-9);
                }
            }
        }
        let f = HoltWinters::new(24).fit(&[0.0; 60]).unwrap();
        assert!(f.predict(5, &[0.5]).unwrap().mean.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn bad_settings_and_data_are_typed_errors() {
        let y = sine_trend(100, 24);
        for m in [0, 1] {
            let e = HoltWinters::new(m).fit(&y).unwrap_err();
            assert!(matches!(e, Error::InvalidParameter(ref s) if s.contains(&format!("got {m}"))));
        }
        match HoltWinters::new(60).fit(&y).unwrap_err() {
            Error::NotEnoughData { needed, got, .. } => assert_eq!((needed, got), (120, 100)),
            e => panic!("{e}"),
        }
        match HoltWinters::new(500).fit(&y).unwrap_err() {
            Error::NotEnoughData { needed, .. } => assert_eq!(needed, 1000),
            e => panic!("{e}"),
        }
        let no_m = HoltWinters::with(None, Trend::Additive, Seasonal::Additive);
        assert!(matches!(no_m.fit(&y), Err(Error::InvalidParameter(_))));
        let m_no_season = HoltWinters::with(Some(24), Trend::Additive, Seasonal::None);
        assert!(
            matches!(m_no_season.fit(&y), Err(Error::InvalidParameter(ref s)) if s.contains("24"))
        );
        let mut zeros = y.clone();
        zeros[7] = 0.0;
        let mult = HoltWinters::with(Some(24), Trend::Additive, Seasonal::Multiplicative);
        assert!(matches!(mult.fit(&zeros), Err(Error::Fit(ref s)) if s.contains("index 7")));
        let mut neg = y.clone();
        neg[3] = -1.0;
        assert!(matches!(
            HoltWinters::new(24).fit(&neg),
            Err(Error::InvalidData(_))
        ));
        let bad_alpha = HoltWinters {
            alpha: Some(1.5),
            ..HoltWinters::new(24)
        };
        assert!(
            matches!(bad_alpha.fit(&y), Err(Error::InvalidParameter(ref s)) if s.contains("1.5"))
        );
        let bad_phi = HoltWinters {
            phi: Some(0.9),
            ..HoltWinters::new(24)
        };
        assert!(matches!(bad_phi.fit(&y), Err(Error::InvalidParameter(_))));
        let beta_gt_alpha = HoltWinters {
            alpha: Some(0.1),
            beta: Some(0.2),
            ..HoltWinters::new(24)
        };
        assert!(matches!(
            beta_gt_alpha.fit(&y),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            HoltWinters::default().fit(&[1.0, 2.0, 3.0]),
            Err(Error::NotEnoughData { needed: 4, .. })
        ));
    }

    #[test]
    fn gaps_are_filled_and_counted() {
        let mut y = sine_trend(24 * 6, 24);
        y[10] = f64::NAN;
        y[11] = f64::NAN;
        y[50] = f64::NAN;
        let f = HoltWinters::new(24).fit(&y).unwrap();
        assert_eq!(f.fit_info().n_filled, 3);
        assert!(f
            .predict(24, &[0.8])
            .unwrap()
            .mean
            .iter()
            .all(|v| v.is_finite()));
    }

    #[test]
    fn strings_and_serde_names() {
        assert_eq!("additive".parse::<Trend>().unwrap(), Trend::Additive);
        assert_eq!("damped".parse::<Trend>().unwrap(), Trend::AdditiveDamped);
        assert_eq!(
            "Additive_Damped".parse::<Trend>().unwrap(),
            Trend::AdditiveDamped
        );
        assert_eq!("none".parse::<Trend>().unwrap(), Trend::None);
        assert_eq!(
            "multiplicative".parse::<Seasonal>().unwrap(),
            Seasonal::Multiplicative
        );
        let e = "quadratic".parse::<Trend>().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter(ref s) if s.contains("quadratic")));
        assert!("x".parse::<Seasonal>().is_err());
        let spec: ModelSpec = serde_json::from_str(
            r#"{"model": "holt_winters", "season_length": 24, "trend": "damped", "seasonal": "multiplicative"}"#,
        )
        .unwrap();
        assert_eq!(
            spec,
            ModelSpec::HoltWinters(HoltWinters::with(
                Some(24),
                Trend::AdditiveDamped,
                Seasonal::Multiplicative
            ))
        );
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""trend":"additive_damped""#), "{json}");
        // through the run-time enum, and the fitted model round-trips
        let fitted = ModelSpec::HoltWinters(HoltWinters::new(24))
            .fit(&sine_trend(100, 24))
            .unwrap();
        assert_eq!(fitted.name(), "holt_winters");
        let back: FittedModel =
            serde_json::from_str(&serde_json::to_string(&fitted).unwrap()).unwrap();
        let (a, b) = (
            back.predict(5, &[]).unwrap(),
            fitted.predict(5, &[]).unwrap(),
        );
        for (x, y) in a.mean.iter().zip(&b.mean) {
            assert!((x - y).abs() < 1e-9 * y.abs()); // JSON floats round-trip to the last ulp
        }
    }

    /// Class-1 variance by hand: ETS(A,A,A) with fixed α, β, γ; c_j = α + βj + γ[j mod m = 0].
    #[test]
    fn class_one_variance_matches_hand_formula() {
        let m = 4;
        let y: Vec<f64> = (0..40)
            .map(|t| 50.0 + t as f64 + [3.0, -1.0, 0.5, -2.5][t % 4] + ((t * 7 % 5) as f64 - 2.0))
            .collect();
        let spec = HoltWinters {
            alpha: Some(0.3),
            beta: Some(0.1),
            gamma: Some(0.2),
            ..HoltWinters::new(m)
        };
        let f = spec.fit(&y).unwrap();
        let sigma = f.fit_info().sigma;
        let fc = f.predict(9, &[]).unwrap();
        let mut sum = 0.0;
        for h in 1..=9usize {
            if h >= 2 {
                let j = (h - 1) as f64;
                let c = 0.3 + 0.1 * j + if (h - 1) % m == 0 { 0.2 } else { 0.0 };
                sum += c * c;
            }
            let want = sigma * (1.0 + sum).sqrt();
            assert!((fc.sd[h - 1] - want).abs() < 1e-9 * want, "h={h}");
        }
        // and the parameters were held
        let p = f.params();
        assert_eq!((p.alpha, p.beta, p.gamma), (0.3, Some(0.1), Some(0.2)));
    }

    /// The damped-trend term: ETS(A,Ad,N) with fixed parameters, c_j = α + β(φ + … + φʲ).
    #[test]
    fn damped_variance_and_mean_match_hand_formula() {
        let y: Vec<f64> = (0..30)
            .map(|t| 5.0 + 2.0 * t as f64 + (t % 3) as f64)
            .collect();
        let spec = HoltWinters {
            alpha: Some(0.5),
            beta: Some(0.2),
            phi: Some(0.9),
            ..HoltWinters::with(None, Trend::AdditiveDamped, Seasonal::None)
        };
        let f = spec.fit(&y).unwrap();
        let (l, b, _) = f.states();
        let sigma = f.fit_info().sigma;
        let fc = f.predict(5, &[]).unwrap();
        let (mut phi_h, mut sum) = (0.0, 0.0);
        for h in 1..=5 {
            phi_h += 0.9f64.powi(h);
            assert!((fc.mean[h as usize - 1] - (l + phi_h * b)).abs() < 1e-9);
            if h >= 2 {
                let phi_j: f64 = (1..h).map(|k| 0.9f64.powi(k)).sum();
                let c = 0.5 + 0.2 * phi_j;
                sum += c * c;
            }
            assert!((fc.sd[h as usize - 1] - sigma * (1.0 + sum).sqrt()).abs() < 1e-9);
        }
    }

    #[test]
    fn update_advances_the_state_by_hand() {
        // ETS(A,N,N), α fixed: l' = l + α(y − l); a gap keeps l.
        let y: Vec<f64> = (0..20).map(|t| 10.0 + (t % 4) as f64).collect();
        let spec = HoltWinters {
            alpha: Some(0.4),
            ..HoltWinters::with(None, Trend::None, Seasonal::None)
        };
        let mut f = spec.fit(&y).unwrap();
        let (l, _, _) = f.states();
        f.update(&[20.0]).unwrap();
        let l1 = l + 0.4 * (20.0 - l);
        assert!((f.predict(1, &[]).unwrap().mean[0] - l1).abs() < 1e-9);
        f.update(&[f64::NAN]).unwrap();
        assert!((f.predict(3, &[]).unwrap().mean[2] - l1).abs() < 1e-9);
        // ETS(A,A,N): a gap moves the level by the trend and keeps the trend
        let mut g = HoltWinters::default()
            .fit(&(0..20).map(|t| 3.0 * t as f64).collect::<Vec<_>>())
            .unwrap();
        let (l, b, _) = g.states();
        g.update(&[f64::NAN, f64::NAN]).unwrap();
        let (l2, b2, _) = g.states();
        assert!((l2 - (l + 2.0 * b)).abs() < 1e-9 && (b2 - b).abs() < 1e-12);
        assert_eq!(g.fit_info().n_obs, 22);
        // errors leave the model unchanged
        let before = g.clone();
        assert!(g.update(&[1.0, -1.0]).is_err());
        assert_eq!(g, before);
    }

    #[test]
    fn update_equals_fitting_through_the_data_with_the_same_parameters() {
        let y = sine_trend(24 * 8, 24);
        let (head, tail) = y.split_at(24 * 6);
        let mut f = HoltWinters::new(24).fit(head).unwrap();
        let p = f.params().clone();
        f.update(tail).unwrap();
        // refit with every parameter and initial state of the first fit held: run by hand
        let mut season = p.initial_season.clone();
        let (mut l, mut b) = (p.initial_level, p.initial_trend.unwrap());
        let (a, be, g) = (p.alpha, p.beta.unwrap(), p.gamma.unwrap());
        for (t, &v) in y.iter().enumerate() {
            let j = t % 24;
            let e = v - (l + b + season[j]);
            l = l + b + a * e;
            b += be * e;
            season[j] += g * e;
        }
        let fc = f.predict(24, &[]).unwrap();
        for h in 1..=24 {
            let want = l + h as f64 * b + season[(y.len() + h - 1) % 24];
            assert!((fc.mean[h - 1] - want).abs() < 1e-6 * want.abs().max(1.0));
        }
    }

    #[test]
    fn any_season_length_fits() {
        for m in [168usize, 288, 1440] {
            let y: Vec<f64> = (0..m * 2 + 10)
                .map(|t| 50.0 + 10.0 * (TAU * t as f64 / m as f64).sin() + (t % 7) as f64)
                .collect();
            let f = HoltWinters::new(m).fit(&y).unwrap();
            let fc = f.predict(m, &[0.9]).unwrap();
            assert!(fc.mean.iter().all(|v| v.is_finite()), "m={m}");
            assert_eq!(f.params().initial_season.len(), m);
        }
    }

    /// Seeded standard normals for the simulation tests.
    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut r = crate::traffic::Rng::new(seed);
        (0..n).map(|_| r.normal()).collect()
    }

    /// ETS(A,N,A) data with known σ: the fitted intervals cover close to their nominal rate.
    #[test]
    fn interval_coverage_on_simulated_ana() {
        let (m, n, h, reps) = (12, 240, 12, 150);
        let (alpha, gamma, sigma) = (0.3, 0.1, 2.0);
        let s0: Vec<f64> = (0..m)
            .map(|j| 8.0 * (TAU * j as f64 / m as f64).cos())
            .collect();
        let (mut hit80, mut hit95, mut total) = (0, 0, 0);
        for r in 0..reps {
            let e = normals(1000 + r as u64, n + h);
            let mut season = s0.clone();
            let mut l = 100.0;
            let y: Vec<f64> = (0..n + h)
                .map(|t| {
                    let j = t % m;
                    let v = l + season[j] + sigma * e[t];
                    l += alpha * sigma * e[t];
                    season[j] += gamma * sigma * e[t];
                    v
                })
                .collect();
            let spec = HoltWinters::with(Some(m), Trend::None, Seasonal::Additive);
            let f = spec.fit(&y[..n]).unwrap();
            let fc = f.predict(h, &[0.8, 0.95]).unwrap();
            for k in 0..h {
                let v = y[n + k];
                let (i80, i95) = (&fc.intervals[0], &fc.intervals[1]);
                hit80 += usize::from(i80.lower[k] <= v && v <= i80.upper[k]);
                hit95 += usize::from(i95.lower[k] <= v && v <= i95.upper[k]);
                total += 1;
            }
        }
        let (c80, c95) = (hit80 as f64 / total as f64, hit95 as f64 / total as f64);
        eprintln!("coverage: 80% -> {c80:.3}, 95% -> {c95:.3} over {total} forecasts");
        assert!((c80 - 0.80).abs() < 0.04, "80% coverage {c80}");
        assert!((c95 - 0.95).abs() < 0.03, "95% coverage {c95}");
    }

    /// ETS(A,N,M) data with known σ: the simulated intervals cover close to their nominal rate.
    #[test]
    fn interval_coverage_on_simulated_anm() {
        let (m, n, h, reps) = (12, 240, 12, 100);
        let (alpha, gamma, sigma) = (0.2, 0.1, 3.0);
        let s0: Vec<f64> = (0..m)
            .map(|j| 1.0 + 0.3 * (TAU * j as f64 / m as f64).cos())
            .collect();
        let (mut hit80, mut hit95, mut total) = (0, 0, 0);
        for r in 0..reps {
            let e = normals(5000 + r as u64, n + h);
            let mut season = s0.clone();
            let mut l = 100.0;
            let y: Vec<f64> = (0..n + h)
                .map(|t| {
                    let j = t % m;
                    let eps = sigma * e[t];
                    let v = l * season[j] + eps;
                    let (lo, so) = (l, season[j]);
                    l = lo + alpha * eps / so;
                    season[j] = so + gamma * eps / lo;
                    v
                })
                .collect();
            let spec = HoltWinters::with(Some(m), Trend::None, Seasonal::Multiplicative);
            let f = spec.fit(&y[..n]).unwrap();
            let fc = f.predict(h, &[0.8, 0.95]).unwrap();
            for k in 0..h {
                let v = y[n + k];
                let (i80, i95) = (&fc.intervals[0], &fc.intervals[1]);
                hit80 += usize::from(i80.lower[k] <= v && v <= i80.upper[k]);
                hit95 += usize::from(i95.lower[k] <= v && v <= i95.upper[k]);
                total += 1;
            }
        }
        let (c80, c95) = (hit80 as f64 / total as f64, hit95 as f64 / total as f64);
        eprintln!("coverage: 80% -> {c80:.3}, 95% -> {c95:.3} over {total} forecasts");
        assert!((c80 - 0.80).abs() < 0.05, "80% coverage {c80}");
        assert!((c95 - 0.95).abs() < 0.03, "95% coverage {c95}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn forecasts_are_finite_and_bands_nested(
            y in proptest::collection::vec(0.0f64..1e6, 8..80),
            m in 2usize..5,
            kind in 0usize..9,
        ) {
            let trend = [Trend::None, Trend::Additive, Trend::AdditiveDamped][kind % 3];
            let seasonal = [Seasonal::None, Seasonal::Additive, Seasonal::Multiplicative][kind / 3];
            let spec = HoltWinters::with((seasonal != Seasonal::None).then_some(m), trend, seasonal);
            match spec.fit(&y) {
                Ok(f) => {
                    let fc = f.predict(10, &[0.5, 0.8, 0.99]).unwrap();
                    for k in 0..10 {
                        prop_assert!(fc.mean[k].is_finite() && fc.sd[k].is_finite());
                        let (a, b, c) = (&fc.intervals[0], &fc.intervals[1], &fc.intervals[2]);
                        prop_assert!(a.lower[k] <= fc.mean[k] && fc.mean[k] <= a.upper[k]);
                        prop_assert!(b.lower[k] <= a.lower[k] && a.upper[k] <= b.upper[k]);
                        prop_assert!(c.lower[k] <= b.lower[k] && b.upper[k] <= c.upper[k]);
                    }
                }
                // only a multiplicative season on data with a zero may refuse
                Err(Error::Fit(_)) => prop_assert!(
                    seasonal == Seasonal::Multiplicative && y.iter().any(|v| *v <= 0.0)
                ),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        /// ETS(A,N,N) and ETS(A,A,N) with fixed parameters: one update moves the state as the
        /// recursion written out by hand says.
        #[test]
        fn update_matches_the_hand_recursion(
            y in proptest::collection::vec(0.0f64..1e4, 10..40),
            v in 0.0f64..1e4,
            alpha in 0.05f64..0.95,
            beta_frac in 0.05f64..0.95,
        ) {
            let beta = alpha * beta_frac;
            let ann = HoltWinters {
                alpha: Some(alpha),
                ..HoltWinters::with(None, Trend::None, Seasonal::None)
            };
            let mut f = ann.fit(&y).unwrap();
            let (l, _, _) = f.states();
            f.update(&[v]).unwrap();
            let want = l + alpha * (v - l);
            // the recursion's own forecast, not floored at 0 (a trend may run below it)
            let raw = |f: &FittedHoltWinters, h: usize| {
                let mut out = Forecast::default();
                f.predict_into_with(h, &[], false, &mut out).unwrap();
                out.mean
            };
            let got = raw(&f, 2);
            prop_assert!((got[0] - want).abs() <= 1e-9 * want.abs().max(1.0));
            prop_assert!((got[1] - want).abs() <= 1e-9 * want.abs().max(1.0));

            let aan = HoltWinters {
                alpha: Some(alpha),
                beta: Some(beta),
                ..HoltWinters::default()
            };
            let mut g = aan.fit(&y).unwrap();
            let (l, b, _) = g.states();
            g.update(&[v]).unwrap();
            let e = v - (l + b);
            let (l1, b1) = (l + b + alpha * e, b + beta * e);
            let got = raw(&g, 3);
            for (h, &p) in got.iter().enumerate() {
                let want = l1 + (h + 1) as f64 * b1;
                prop_assert!((p - want).abs() <= 1e-8 * want.abs().max(1.0), "h={} {} {}", h + 1, p, want);
            }
        }

        #[test]
        fn update_then_predict_stays_finite(
            y in proptest::collection::vec(0.0f64..1e4, 30..60),
            more in proptest::collection::vec(proptest::option::of(0.0f64..1e4), 1..30),
        ) {
            let mut f = HoltWinters::new(6).fit(&y).unwrap();
            let more: Vec<f64> = more.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            f.update(&more).unwrap();
            let fc = f.predict(12, &[0.9]).unwrap();
            prop_assert!(fc.mean.iter().chain(&fc.sd).all(|v| v.is_finite()));
        }
    }
}

//! The model contract: what every model implements ([`Forecaster`] for its settings, [`Fitted`]
//! for the fitted model) and returns ([`Forecast`], [`Interval`], [`FitInfo`]), and the checks
//! and helpers every model shares (input preparation, horizon and update checks, the normal
//! intervals, the checks of a loaded state). It imports no model: every model imports it.

use super::dist;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A prediction interval at one coverage level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Nominal coverage in (0, 1), e.g. 0.95.
    pub level: f64,
    /// Lower bound per step (the `(1 - level) / 2` quantile).
    pub lower: Vec<f64>,
    /// Upper bound per step (the `(1 + level) / 2` quantile).
    pub upper: Vec<f64>,
}

/// A forecast over `horizon` steps after the last observation: the mean path, the predictive
/// standard deviation, and one [`Interval`] per requested level.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecast per step.
    pub mean: Vec<f64>,
    /// Predictive standard deviation per step (the intervals assume normal errors).
    pub sd: Vec<f64>,
    /// One interval per requested level, in the order requested.
    pub intervals: Vec<Interval>,
    /// Whether the forecast is of a quantity that cannot be negative (a load: every model's
    /// input is one). The mean, the bounds and [`Forecast::quantile`] are then floored at 0:
    /// the predictive distribution is the model's normal censored at 0, whose quantiles are
    /// the normal's floored at 0. See [`NONNEGATIVE`].
    #[serde(default = "nonnegative_default")]
    pub nonnegative: bool,
}

/// The default of [`Forecast::nonnegative`]: `true`. Every model is fitted to request counts or
/// rates (negative values are refused), so a negative forecast or band says nothing the data
/// allow; [`Fitted::predict_into_with`] with `false` gives the model's unfloored normal.
pub const NONNEGATIVE: bool = true;

fn nonnegative_default() -> bool {
    NONNEGATIVE
}

/// Floors every value at 0 (NaN stays NaN).
fn floor_at_zero(v: &mut [f64]) {
    for x in v {
        if *x < 0.0 {
            *x = 0.0;
        }
    }
}

impl Forecast {
    /// Number of steps.
    pub fn horizon(&self) -> usize {
        self.mean.len()
    }

    /// The interval at `level`, if it was requested.
    pub fn interval(&self, level: f64) -> Option<&Interval> {
        self.intervals
            .iter()
            .find(|i| (i.level - level).abs() < 1e-12)
    }

    /// The `q`-quantile of the predictive distribution per step, `mean + Φ⁻¹(q)·sd`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `q` is not in (0, 1); [`Error::Fit`] when a quantile
    /// overflows (data near the top of the `f64` range).
    pub fn quantile(&self, q: f64) -> Result<Vec<f64>> {
        if !(q > 0.0 && q < 1.0) {
            return Err(Error::param(format!("quantile must be in (0, 1), got {q}")));
        }
        let z = dist::normal_quantile(q);
        let mut out: Vec<f64> = self
            .mean
            .iter()
            .zip(&self.sd)
            .map(|(m, s)| m + z * s)
            .collect();
        if self.nonnegative {
            floor_at_zero(&mut out);
        }
        if let Some(v) = out.iter().find(|v| !v.is_finite()) {
            return Err(Error::Fit(format!(
                "the {q}-quantile overflows the floating-point range ({v})"
            )));
        }
        Ok(out)
    }
}

/// What a fit saw: how many observations, how many gaps were interpolated, the residual scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// Observations used (gaps included after filling).
    pub n_obs: usize,
    /// Missing values filled by linear interpolation before fitting.
    pub n_filled: usize,
    /// Standard deviation of the one-step residuals.
    pub sigma: f64,
}

/// Settings of a model that can be fitted.
pub trait Forecaster {
    /// The fitted model.
    type Fitted: Fitted;

    /// Fits the model to `y` (per-step load, oldest first; `NaN` = missing, filled by linear
    /// interpolation and counted in [`FitInfo::n_filled`]).
    ///
    /// # Errors
    /// [`Error::InvalidData`] for negative or infinite values or no known value;
    /// [`Error::NotEnoughData`] when `y` is shorter than the model needs;
    /// [`Error::Fit`] when the model cannot be fitted to these data.
    fn fit(&self, y: &[f64]) -> Result<Self::Fitted>;
}

/// A fitted model.
pub trait Fitted: Send + Sync + std::fmt::Debug {
    /// Short model name, e.g. `"seasonal_naive"`.
    fn name(&self) -> &'static str;

    /// What the fit saw.
    fn fit_info(&self) -> &FitInfo;

    /// Writes the point forecast and predictive standard deviation of the next `mean.len()`
    /// steps into `mean` and `sd` (equal lengths, at least 1). The in-place core of
    /// [`Fitted::predict`].
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]);

    /// Advances the model with new observations without refitting. A `NaN` is a missing
    /// observation: the state advances on the model's own one-step forecast.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a negative or infinite value (the model is left unchanged).
    fn update(&mut self, y: &[f64]) -> Result<()>;

    /// Forecasts `horizon` steps with an interval for each of `levels`, into `out` (its
    /// buffers are reused).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a horizon of 0 or a level outside (0, 1);
    /// [`Error::Fit`] when the forecast overflows the `f64` range (data near 1e154 or 1e308
    /// for some models): never an infinite or NaN forecast.
    fn predict_into(&self, horizon: usize, levels: &[f64], out: &mut Forecast) -> Result<()> {
        self.predict_into_with(horizon, levels, NONNEGATIVE, out)
    }

    /// [`Fitted::predict_into`] with the [`Forecast::nonnegative`] setting given: `true` (the
    /// default, [`NONNEGATIVE`]) floors the mean, the bounds and the quantiles at 0.
    ///
    /// # Errors
    /// As [`Fitted::predict_into`].
    fn predict_into_with(
        &self,
        horizon: usize,
        levels: &[f64],
        nonnegative: bool,
        out: &mut Forecast,
    ) -> Result<()> {
        predict_normal(self, horizon, levels, nonnegative, out)
    }

    /// Forecasts `horizon` steps with an interval for each of `levels`.
    ///
    /// # Errors
    /// As [`Fitted::predict_into`].
    fn predict(&self, horizon: usize, levels: &[f64]) -> Result<Forecast> {
        let mut out = Forecast::default();
        self.predict_into(horizon, levels, &mut out)?;
        Ok(out)
    }
}

/// The normal-interval forecast of any fitted model: its mean and sd from
/// [`Fitted::predict_mean_sd`], then `mean ± Φ⁻¹((1 + level)/2)·sd` for each level; with
/// `nonnegative`, the mean and the bounds floored at 0. The one place every model's forecast
/// is bounded.
pub(crate) fn predict_normal<F: Fitted + ?Sized>(
    model: &F,
    horizon: usize,
    levels: &[f64],
    nonnegative: bool,
    out: &mut Forecast,
) -> Result<()> {
    check_horizon(horizon)?;
    crate::check::levels(levels, horizon)?;
    out.mean.clear();
    out.mean.resize(horizon, 0.0);
    out.sd.clear();
    out.sd.resize(horizon, 0.0);
    model.predict_mean_sd(&mut out.mean, &mut out.sd);
    out.nonnegative = nonnegative;
    out.intervals.clear();
    for &level in levels {
        let (mut lower, mut upper) = normal_bounds(&out.mean, &out.sd, level);
        if nonnegative {
            floor_at_zero(&mut lower);
            floor_at_zero(&mut upper);
        }
        out.intervals.push(Interval {
            level,
            lower,
            upper,
        });
    }
    if nonnegative {
        floor_at_zero(&mut out.mean);
    }
    check_finite(out)
}

/// Refuses a forecast with an infinite or NaN value: on data near the top of the `f64` range
/// (1e154 squared, 1e308 summed) a model's arithmetic can overflow, and an infinite band would
/// reach the policy as a replica count.
fn check_finite(fc: &Forecast) -> Result<()> {
    let bounds = fc
        .intervals
        .iter()
        .flat_map(|i| i.lower.iter().chain(&i.upper));
    match fc
        .mean
        .iter()
        .chain(&fc.sd)
        .chain(bounds)
        .find(|v| !v.is_finite())
    {
        None => Ok(()),
        Some(v) => Err(Error::Fit(format!(
            "the forecast overflows the floating-point range ({v}): the data are too large \
             for this model; divide them by a constant (e.g. count in thousands)"
        ))),
    }
}

/// `mean ∓ Φ⁻¹((1 + level)/2)·sd` per step: the lower and upper bounds of a normal interval.
/// `z` comes from the tail, `−Φ⁻¹((1 − level)/2)`: for a level within an ulp of 1, `(1 +
/// level)/2` rounds to 1 and would give an infinite band.
pub(crate) fn normal_bounds(mean: &[f64], sd: &[f64], level: f64) -> (Vec<f64>, Vec<f64>) {
    let z = -dist::normal_quantile((1.0 - level) / 2.0);
    (
        mean.iter().zip(sd).map(|(m, s)| m - z * s).collect(),
        mean.iter().zip(sd).map(|(m, s)| m + z * s).collect(),
    )
}

/// The longest forecast, in steps: a million (two years of minutes, eleven days of seconds).
/// Longer ones are refused rather than attempted: each step of a forecast holds a mean, an sd
/// and two bounds per level, and a horizon of a billion would exhaust memory.
pub const MAX_HORIZON: usize = 1_000_000;

/// Checks a forecast horizon: 1 to [`MAX_HORIZON`] steps.
pub(crate) fn check_horizon(horizon: usize) -> Result<()> {
    if horizon == 0 {
        return Err(Error::param("horizon must be >= 1, got 0"));
    }
    if horizon > MAX_HORIZON {
        return Err(Error::param(format!(
            "horizon must be at most {MAX_HORIZON} steps, got {horizon}"
        )));
    }
    Ok(())
}

/// Validates model input and fills gaps: returns the series to fit (borrowed when nothing was
/// missing) and the number of values filled.
///
/// # Errors
/// [`Error::InvalidData`] for a negative or infinite value or when every value is missing;
/// [`Error::NotEnoughData`] when `y` has fewer than `needed` values.
pub fn prepare<'a>(y: &'a [f64], needed: usize, what: &str) -> Result<(Cow<'a, [f64]>, usize)> {
    if y.len() < needed {
        return Err(Error::NotEnoughData {
            needed,
            got: y.len(),
            what: what.to_string(),
        });
    }
    // the usual case, every value known, finite and >= 0 (NaN fails `>= 0`), checked without a
    // branch per value; anything else is found and told below
    let ordinary = |v: f64| (0.0..=f64::MAX).contains(&v);
    let chunks = y.chunks_exact(8);
    let tail_ok = chunks.remainder().iter().all(|&v| ordinary(v));
    if tail_ok
        && chunks
            .into_iter()
            .all(|c| c.iter().fold(true, |ok, &v| ok & ordinary(v)))
    {
        return Ok((Cow::Borrowed(y), 0));
    }
    let mut missing = 0;
    for (i, &v) in y.iter().enumerate() {
        if v.is_nan() {
            missing += 1;
        } else if !(v.is_finite() && v >= 0.0) {
            return Err(Error::data(format!(
                "values must be finite and >= 0 (NaN marks a gap), got {v} at index {i}"
            )));
        }
    }
    if missing == 0 {
        return Ok((Cow::Borrowed(y), 0));
    }
    let mut owned = y.to_vec();
    let filled = crate::series::interpolate_gaps(&mut owned)?;
    Ok((Cow::Owned(owned), filled))
}

/// `Σ (y[t] − y[t − lag])²` over `t = lag..n`, summed in eight interleaved lanes so the adds
/// do not wait on each other (a single running sum is bound by the add latency).
pub(crate) fn lagged_sum_sq(y: &[f64], lag: usize) -> f64 {
    if lag >= y.len() {
        return 0.0;
    }
    let (later, earlier) = (&y[lag..], &y[..y.len() - lag]);
    let mut lanes = [0.0f64; 8];
    let (a, b) = (later.chunks_exact(8), earlier.chunks_exact(8));
    let (ra, rb) = (a.remainder(), b.remainder());
    for (ca, cb) in a.zip(b) {
        for k in 0..8 {
            let d = ca[k] - cb[k];
            lanes[k] += d * d;
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, z)| (x - z) * (x - z)).sum();
    lanes.iter().sum::<f64>() + tail
}

/// Checks the values given to [`Fitted::update`] (NaN allowed, meaning missing).
pub(crate) fn check_update(y: &[f64]) -> Result<()> {
    for (i, &v) in y.iter().enumerate() {
        if !(v.is_nan() || (v.is_finite() && v >= 0.0)) {
            return Err(Error::data(format!(
                "values must be finite and >= 0 (NaN marks a gap), got {v} at index {i}"
            )));
        }
    }
    Ok(())
}

/// A broken invariant of a fitted state, in words; see [`FittedModel::check_state`].
pub(crate) type StateCheck = std::result::Result<(), String>;

/// `Ok` when `ok`, else the words `what` gives.
pub(crate) fn state_ensure(ok: bool, what: impl FnOnce() -> String) -> StateCheck {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// A season ring: `m >= min_m` values, the next position inside it.
pub(crate) fn check_ring(name: &str, m: usize, len: usize, pos: usize, min_m: usize) -> StateCheck {
    state_ensure(m >= min_m, || format!("{name} season length {m} < {min_m}"))?;
    state_ensure(len == m, || {
        format!("{name} holds {len} seasonal values for season length {m}")
    })?;
    state_ensure(pos < m, || {
        format!("{name} season position {pos} outside 0..{m}")
    })
}

//! The automatic forecaster: backtest every candidate model with rolling origins, pick the one
//! with the lowest loss (or combine the best few), refit it on the whole history, and optionally
//! calibrate its intervals on the backtest errors.
//!
//! # Why the default loss punishes under-forecasting
//! An autoscaler provisions for the forecast. A forecast that runs short leaves too few replicas:
//! requests queue or drop and the SLO burns. One that runs long costs replica-hours, which is
//! money but not an outage. So the default selection loss is the pinball loss of the 0.9-quantile
//! forecast ([`Loss::Pinball`]): a miss below the actual costs 9 times one above it, and a model
//! is rewarded both for a good centre and for an upper band that holds. [`Loss::Asymmetric`]
//! weighs the errors of the point forecast the same way with explicit weights, and [`Loss::Mase`]
//! is the symmetric classic. Every loss is divided by the MASE scale of each origin's training
//! part (the in-sample MAE of the seasonal naive forecast), so it is comparable across series.
//!
//! # Bias, and the seasonal naive guard
//! Calibration (below) widens a biased model's spread until its quantile covers the actuals,
//! so a pinball ranking alone lets a model whose every window runs low rank with one that is
//! right on average. The ranking loss therefore adds, per origin, the absolute mean error of the
//! window (scaled like the loss, times [`BIAS_WEIGHT`]). And the centre of the answer is never
//! worse than seasonal naive's: when the seasonal naive at the MASE period has a lower backtest
//! MASE than the ranking's choice (a combination included), seasonal naive is the answer and
//! [`FittedAuto::why`] says what it replaced.
//!
//! # Short histories
//! A backtest with horizon `h`, `n_origins` origins and stride `s` spans `h + s·(n_origins − 1)`
//! steps and needs training data before its earliest origin: two full seasons (`2·m`) of the
//! longest season length kept, or `max(h, 3)` values when no season is kept. The stride is `h`
//! (test windows side by side) unless the longest season that would otherwise be dropped fits
//! with origins closer together: then it is the largest `s < h` that keeps that season, as long
//! as `s` is at least [`MIN_STRIDE_SHARE`] of `h` (the test windows then overlap; a weekly
//! season on three weeks of hourly data is worth more than independent test windows). A season
//! length `m` is kept when `2·m + span <= n`; longer ones are dropped (and said so in
//! [`FittedAuto::why`], which also gives a shortened stride).
//! When even `max(h, 3) + h·n_origins` values are not there, no backtest runs: the model is
//! [`SeasonalNaive`] with the longest given season `m` that has `2·m` values, else [`Naive`],
//! and [`FittedAuto::why`] gives the reason.
//!
//! # Work shared between origins
//! Every candidate is scored at the origins of [`backtest`](super::backtest::backtest), with one
//! exception that saves most of its cost: a [`HoltWinters`] candidate is fitted once, at the
//! earliest origin, and then filtered forward — [`Fitted::update`] runs its recursion over the
//! values up to the next origin, which forecasts from there — instead of searching its smoothing
//! parameters again at every origin (the search is nearly all of a fit). Its parameters come from
//! the training part of the earliest origin, which holds no test value of any origin, so the
//! backtest still only forecasts what the model could not have seen. (With `max_train` set the
//! training windows slide, and it is fitted at each origin like the others.) A
//! [`FourierRegression`] candidate on a history without gaps gathers the sums its fit is solved
//! from (cross products of the regressors, their products with the values) once, from origin to
//! origin, since the training parts are nested prefixes: each origin's fit is the one a fit on
//! that part gives, bit for bit, at the cost of its new rows and a small solve.
//!
//! The chosen model is refitted on the whole history, and that refit starts from its backtest:
//! a Fourier regression extends the last origin's sums to the end of the history (the same fit
//! as from scratch), and a Holt-Winters search adds the parameters its fit at the earliest
//! origin found to its starting points (usually the best of them, so the search has less to do;
//! its stages and tolerances are those of a fit from scratch, and it may settle on a nearby
//! optimum of its own).
//!
//! Inside a rayon pool (a batch over series, [`crate::batch::forecast_many`]) the candidates
//! and origins of one series run one after another, so that the cores go to the series;
//! called on its own, a fit spreads its candidates over the cores. The result is the same.
//!
//! # Calibration
//! With `calibrate: true` the predictive standard deviation of the chosen forecast is multiplied
//! at every step by one factor `k`, fitted on the chosen forecast's backtest errors: with
//! `z = (actual − mean)/sd` over every scored point (points with `sd = 0` are skipped), `k`
//! minimises `(c₈₀(k) − 0.8)² + (c₉₅(k) − 0.95)²`, where `c_L(k)` is the share of `|z| <=
//! k·Φ⁻¹((1 + L)/2)` — the 80% and 95% coverage the backtest would have had with the sd scaled by
//! `k`. The objective is a step function of `k`; the midpoint of the best step is taken. Fewer
//! than [`MIN_CALIBRATION_RESIDUALS`] errors leave `k = 1`. Because the factor scales the sd,
//! every interval and [`Forecast::quantile`] of the fitted model is calibrated alike.
//!
//! The delivered factor is never below 1: calibration widens a model's intervals, never
//! narrows them, because the backtest errors it is fitted on are the same ones the model was
//! chosen on (in-sample for the calibration) and running short costs more than running long.
//! For the ranking itself, with `calibrate: true`, every candidate's loss is computed with its
//! own unconstrained factor, so candidates compete on their point errors and the shape of their
//! errors rather than on how wide their own intervals happen to be.

use super::backtest::{
    interval_bounds, score_with, BacktestConfig, BacktestResult, OriginForecast, OriginScales,
    COVERAGE_LEVELS,
};
use super::baseline::{Drift, Naive, SeasonalNaive};
use super::contract::{
    check_horizon, check_update, normal_bounds, predict_normal, prepare, state_ensure, FitInfo,
    Fitted, Forecast, Forecaster, StateCheck,
};
use super::dist;
use super::ensemble::MultiSeasonalNaive;
use super::ets::{HoltWinters, HoltWintersParams, Seasonal, Trend};
use super::fourier::{FourierRegression, PrefixSums};
use super::linear::LinearTrend;
use super::registry::{FittedModel, ModelSpec};
use crate::error::{Error, Result};
use crate::periods::detect_periods;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A candidate joins a [`Select::CombineTopK`] combination only if its backtest loss is at most
/// this many times the best candidate's.
pub const COMBINE_WITHIN: f64 = 1.5;

/// Backtest origins may move closer together than the horizon, down to this share of it, when
/// that lets a longer season be kept on a short history (overlapping test windows).
pub const MIN_STRIDE_SHARE: f64 = 0.25;

/// Fewest backtest errors a calibration is fitted on; with fewer the sd is left as the model
/// gives it.
pub const MIN_CALIBRATION_RESIDUALS: usize = 20;

/// The models applicable to a history of `n_obs` values with the given season lengths, in
/// this order: [`Naive`] (from 2 values), [`Drift`] (from 3), [`LinearTrend`] over the last
/// week-or-so window (from 3), then for the season lengths `m >= 2` with at least `2·m` values
/// (ascending, duplicates dropped): [`SeasonalNaive`] for each, [`HoltWinters`] (additive
/// damped trend, additive season) for each, [`MultiSeasonalNaive`] over all
/// of them when there are two or more, and one [`FourierRegression`] with all of them at once
/// (`K = clamp(m/4, 1, 10)` harmonics each, trend included, ridge penalty by GCV).
///
/// This is the one list of models the [`AutoForecaster`] tries when it is given no candidates.
///
/// ```
/// use flaskscale_core::forecast::default_candidates;
/// // naive, drift, linear trend, seasonal naive 24, Holt-Winters 24, Fourier (24)
/// assert_eq!(default_candidates(&[24, 168], 200).len(), 6);
/// // ... and seasonal naive and Holt-Winters 168, multi-seasonal naive, Fourier (24 and 168)
/// assert_eq!(default_candidates(&[24, 168], 400).len(), 9);
/// ```
pub fn default_candidates(season_lengths: &[usize], n_obs: usize) -> Vec<ModelSpec> {
    let mut seasons: Vec<usize> = season_lengths
        .iter()
        .copied()
        .filter(|&m| m >= 2 && n_obs >= m.saturating_mul(2))
        .collect();
    seasons.sort_unstable();
    seasons.dedup();
    let mut out = Vec::new();
    if n_obs >= 2 {
        out.push(ModelSpec::Naive(Naive));
    }
    if n_obs >= 3 {
        out.push(ModelSpec::Drift(Drift));
        // a recent window: the longest season (or 168 steps) keeps the trend local
        let window = seasons.last().copied().unwrap_or(168).max(3);
        out.push(ModelSpec::LinearTrend(LinearTrend::with_window(window)));
    }
    out.extend(
        seasons
            .iter()
            .map(|&m| ModelSpec::SeasonalNaive(SeasonalNaive::new(m))),
    );
    out.extend(seasons.iter().map(|&m| {
        ModelSpec::HoltWinters(HoltWinters::with(
            Some(m),
            Trend::AdditiveDamped,
            Seasonal::Additive,
        ))
    }));
    if seasons.len() >= 2 {
        out.push(ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive {
            periods: seasons.clone(),
        }));
    }
    let fourier: Vec<(f64, usize)> = seasons
        .iter()
        .filter(|&&m| m >= 3)
        .map(|&m| (m as f64, (m / 4).clamp(1, 10)))
        .collect();
    if !fourier.is_empty() {
        out.push(ModelSpec::FourierRegression(FourierRegression::new(
            fourier,
        )));
    }
    out
}

/// The loss the [`AutoForecaster`] ranks candidates by, computed over every scored point of the
/// backtest and divided point by point by that origin's MASE scale (see the
/// [module docs](self) for why under-forecasting costs more by default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    /// Pinball loss of the `q`-quantile forecast `mean + Φ⁻¹(q)·sd`: `q·(y − ŷ)` below the
    /// actual, `(1 − q)·(ŷ − y)` above. `q` in (0, 1); the default is 0.9.
    Pinball {
        /// The quantile, in (0, 1).
        q: f64,
    },
    /// Mean absolute scaled error of the point forecast (symmetric).
    Mase,
    /// Weighted absolute error of the point forecast: `under·(y − ŷ)` when the forecast is below
    /// the actual, `over·(ŷ − y)` when above. Both weights >= 0, not both 0. (The same ranking as
    /// the pinball loss at `q = under/(under + over)` applied to the mean.)
    Asymmetric {
        /// Weight of a forecast below the actual (running short).
        under: f64,
        /// Weight of a forecast above the actual (running long).
        over: f64,
    },
}

impl Default for Loss {
    fn default() -> Self {
        Loss::Pinball { q: 0.9 }
    }
}

impl Loss {
    /// Checks the loss's parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `q` outside (0, 1), a negative or non-finite weight, or
    /// both weights 0.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Loss::Pinball { q } if !(q > 0.0 && q < 1.0) => Err(Error::param(format!(
                "pinball quantile must be in (0, 1), got {q}"
            ))),
            Loss::Asymmetric { under, over }
                if !(under.is_finite() && over.is_finite() && under >= 0.0 && over >= 0.0)
                    || under + over == 0.0 =>
            {
                Err(Error::param(format!(
                    "asymmetric loss weights must be finite, >= 0 and not both 0, got under {under}, over {over}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The loss over the scored points of a backtest.
    ///
    /// # Errors
    /// As [`Loss::validate`]; [`Error::InvalidData`] when the backtest scored no point.
    pub fn evaluate(&self, r: &BacktestResult) -> Result<f64> {
        pooled(&self.per_origin(r, 1.0)?)
    }

    /// The loss of each origin that scored a point: (mean loss, points scored), with every
    /// forecast sd multiplied by `sd_scale` (for ranking by a loss that reads the spread).
    fn per_origin(&self, r: &BacktestResult, sd_scale: f64) -> Result<Vec<(f64, usize)>> {
        self.validate()?;
        let z = match *self {
            Loss::Pinball { q } => dist::normal_quantile(q),
            _ => 0.0,
        };
        let mut out = Vec::with_capacity(r.origins.len());
        for o in &r.origins {
            let (mut sum, mut n) = (0.0, 0usize);
            for (i, &a) in o.actual.iter().enumerate() {
                let (Some(&m), Some(&s)) = (o.mean.get(i), o.sd.get(i)) else {
                    continue;
                };
                let s = if sd_scale != 1.0 { s * sd_scale } else { s };
                if a.is_nan() {
                    continue;
                }
                let l = match *self {
                    Loss::Pinball { q } => {
                        let d = a - (m + z * s);
                        (q * d).max((q - 1.0) * d)
                    }
                    Loss::Mase => (a - m).abs(),
                    Loss::Asymmetric { under, over } => {
                        let d = a - m;
                        if d > 0.0 {
                            under * d
                        } else {
                            -over * d
                        }
                    }
                };
                sum += l / o.scale;
                n += 1;
            }
            if n > 0 {
                out.push((sum / n as f64, n));
            }
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        match *self {
            Loss::Pinball { q } => format!("pinball loss at q = {q}"),
            Loss::Mase => "MASE".to_string(),
            Loss::Asymmetric { under, over } => {
                format!("asymmetric loss (under-forecast ×{under}, over-forecast ×{over})")
            }
        }
    }
}

/// How the [`AutoForecaster`] turns the ranking into a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// The candidate with the lowest loss.
    Best,
    /// The mean of the `k` candidates with the lowest loss (fewer when fewer fitted, and only
    /// those within [`COMBINE_WITHIN`] times the best loss): the mean
    /// of their point forecasts, with the mean of their standard deviations (an upper bound on
    /// the sd of the mean forecast, whatever the correlation of their errors). `k >= 1`.
    CombineTopK(usize),
}

impl Default for Select {
    /// The mean of the best three: on the shared real traces (Wikipedia hourly, NASA hourly and
    /// 5-minute, Twitter 5-minute) it beat the single best candidate on rolling-origin MASE in
    /// every case tried, because five backtest origins rank close candidates noisily and the
    /// mean of several good forecasts is rarely far from the best of them
    /// (`benches/accuracy.py` prints the table).
    fn default() -> Self {
        Select::CombineTopK(3)
    }
}

/// Settings of the automatic forecaster; see the [module docs](self).
///
/// ```
/// use flaskscale_core::forecast::AutoForecaster;
/// use flaskscale_core::{Fitted, Forecaster};
/// let y: Vec<f64> = (0..24 * 14).map(|t| 100.0 + 40.0 * ((t % 24) as f64 / 4.0).sin()).collect();
/// let auto = AutoForecaster { season_lengths: Some(vec![24]), ..AutoForecaster::default() };
/// let fitted = auto.fit(&y)?;
/// assert_eq!(fitted.scores().len(), 6); // naive, drift, linear, seasonal naive, Holt-Winters, Fourier
/// println!("{}", fitted.why());
/// let fc = fitted.predict(24, &[0.95])?;
/// # assert_eq!(fc.mean.len(), 24);
/// # Ok::<(), flaskscale_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoForecaster {
    /// Season lengths in steps (e.g. 24 and 168 for hourly data). `None`: no season is assumed
    /// (see [`AutoForecaster::seasons_for`]). The first one is the MASE period.
    pub season_lengths: Option<Vec<usize>>,
    /// The models to try; `None` = [`default_candidates`]. Must not be empty or contain an
    /// auto forecaster.
    pub candidates: Option<Vec<ModelSpec>>,
    /// Steps forecast at each backtest origin (the horizon the choice is optimised for). Default 24.
    pub horizon: usize,
    /// Backtest origins, `horizon` steps apart at the end of the history. Default 5.
    pub n_origins: usize,
    /// Fit each backtest model on at most this many recent values (`None` = all).
    pub max_train: Option<usize>,
    /// The selection loss. Default [`Loss::Pinball`] at q = 0.9.
    pub loss: Loss,
    /// Best candidate or a combination of the best few. Default: the mean of the best three ([`Select::default`]).
    pub select: Select,
    /// Calibrate the interval width on the backtest errors. Default `true`.
    pub calibrate: bool,
}

impl Default for AutoForecaster {
    fn default() -> Self {
        AutoForecaster {
            season_lengths: None,
            candidates: None,
            horizon: 24,
            n_origins: 5,
            max_train: None,
            loss: Loss::default(),
            select: Select::default(),
            calibrate: true,
        }
    }
}

/// How one candidate did in the backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// A readable label of the model and its settings, e.g. `seasonal_naive(season_length=24)`.
    pub name: String,
    /// The candidate.
    pub spec: ModelSpec,
    /// The selection loss (`None` when the candidate failed).
    pub loss: Option<f64>,
    /// Pooled backtest scores (`None` when the candidate failed).
    pub scores: Option<super::backtest::Scores>,
    /// Why the candidate failed to fit at some origin, if it did.
    pub error: Option<String>,
}

/// The interval calibration of a [`FittedAuto`]; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The factor every predictive sd is multiplied by.
    pub sd_scale: f64,
    /// Backtest errors it was fitted on.
    pub n_residuals: usize,
    /// Scored points left out because their sd was 0.
    pub n_zero_sd: usize,
    /// Backtest coverage of the 80% / 95% intervals before calibration.
    pub coverage_before: (f64, f64),
    /// The same with the sd scaled (in-sample: the factor was fitted on these errors).
    pub coverage_after: (f64, f64),
}

/// A fitted [`AutoForecaster`]: the chosen model (or combination) refitted on the whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedAuto {
    members: Vec<FittedModel>,
    chosen: Vec<ModelSpec>,
    sd_scale: f64,
    calibration: Option<Calibration>,
    scores: Vec<CandidateScore>,
    chosen_scores: Option<super::backtest::Scores>,
    fallback: bool,
    why: String,
    info: FitInfo,
}

impl AutoForecaster {
    /// The loss a candidate (or a combination) is ranked by: with calibration on, computed with
    /// the backtest's own unconstrained sd factor, so candidates compete on their point errors
    /// and the shape of their errors, not on how wide their own intervals happen to be (a
    /// random walk's √h band would otherwise lose to a regression's narrow one whatever their
    /// point errors); the winner's intervals are calibrated afterwards anyway.
    ///
    /// A pinball loss is then charged each origin's bias too (`|mean(actual − forecast)|` over
    /// the window, scaled, times [`BIAS_WEIGHT`]): calibration widens a biased model's spread until its quantile covers the
    /// actuals, and without the charge a model whose every window runs, say, 30% low would rank
    /// with one that is right on average.
    fn ranking_loss(&self, bt: &BacktestResult) -> Result<f64> {
        let mut per = if self.calibrate {
            self.loss.per_origin(bt, calibrate(bt, 0.0).sd_scale)?
        } else {
            self.loss.per_origin(bt, 1.0)?
        };
        if matches!(self.loss, Loss::Pinball { .. }) {
            let bias = origin_bias(bt);
            for (l, b) in per.iter_mut().zip(bias) {
                l.0 += BIAS_WEIGHT * b;
            }
        }
        pooled(&per)
    }

    /// The season lengths used for a history `y`: the ones given, or, when `None`, the (at
    /// most two) strongest periods [`detect_periods`] finds with an autocorrelation of at least
    /// 0.15 (none when detection finds nothing or the history is too short to look). The low
    /// bar is on purpose: a weak season costs only a few candidates, which the backtest then
    /// judges; a missed one cannot be recovered.
    ///
    /// When detection finds one period `P`, the multiple `k·P` (`k` in 2..=7, three of them in
    /// the history) that repeats best is added if it repeats clearly better than `P` itself:
    /// the median of `|y[t] − y[t − k·P]|` below [`MULTIPLE_GAIN`] times that of
    /// `|y[t] − y[t − P]|` (a median, so surges and level shifts, a few windows of the history,
    /// do not decide it). Weekly match days on hourly data are such a case: their surges are
    /// clipped before the periodogram, so detection reports the daily cycle alone.
    pub fn seasons_for(&self, y: &[f64]) -> Vec<usize> {
        if let Some(s) = &self.season_lengths {
            return s.clone();
        }
        let n = y.len();
        let max_period = (n / 2).max(2);
        let found: Vec<usize> = detect_periods(y, max_period, 0.15)
            .map(|found| found.iter().take(2).map(|p| p.period).collect())
            .unwrap_or_default();
        let Some(&primary) = found.first() else {
            return found;
        };
        let base = median_seasonal_diff(y, primary);
        let repeats_better = |lag: usize| match (median_seasonal_diff(y, lag), base) {
            (Some(d), Some(b)) => d < MULTIPLE_GAIN * b,
            _ => false,
        };
        let mut out = found;
        if out.len() == 1 {
            // a multiple the detector did not report: the one that repeats best, if it repeats
            // better than the period itself and the history holds three of it
            let best = (2..=7usize)
                .map(|k| k * primary)
                .filter(|&l| l.saturating_mul(3) <= n)
                .filter_map(|l| median_seasonal_diff(y, l).map(|d| (d, l)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, l)) = best {
                if repeats_better(l) {
                    out.push(l);
                }
            }
        }
        out
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a horizon, `n_origins`, `max_train` or `k` of 0, a
    /// season length below 2, an invalid [`Loss`], an empty candidate list or an auto
    /// forecaster among the candidates.
    pub fn validate(&self) -> Result<()> {
        check_horizon(self.horizon)?;
        if self.n_origins == 0 {
            return Err(Error::param("n_origins must be >= 1, got 0"));
        }
        if self.max_train == Some(0) {
            return Err(Error::param("max_train must be >= 1, got 0"));
        }
        if let Some(&m) = self.season_lengths.iter().flatten().find(|&&m| m < 2) {
            return Err(Error::param(format!("season length must be >= 2, got {m}")));
        }
        self.loss.validate()?;
        if self.select == Select::CombineTopK(0) {
            return Err(Error::param("combine_top_k needs k >= 1, got 0"));
        }
        if let Some(c) = &self.candidates {
            if c.is_empty() {
                return Err(Error::param("the candidate list is empty"));
            }
            if let Some(i) = c.iter().position(|s| matches!(s, ModelSpec::Auto(_))) {
                return Err(Error::param(format!(
                    "an auto forecaster cannot be a candidate of an auto forecaster (candidate {i})"
                )));
            }
        }
        Ok(())
    }

    /// Steps between backtest origins for a history of `n` values: the horizon (test windows side
    /// by side), unless that leaves too little training data for the longest season that could
    /// be kept with origins closer together, down to [`MIN_STRIDE_SHARE`] of the horizon; see
    /// the [module docs](self).
    fn stride_for(&self, n: usize, seasons: &[usize]) -> usize {
        let h = self.horizon;
        let gaps = self.n_origins.saturating_sub(1);
        let floor = ((h as f64 * MIN_STRIDE_SHARE).ceil() as usize).clamp(1, h);
        let mut longest_first = seasons.to_vec();
        longest_first.sort_unstable_by(|a, b| b.cmp(a));
        for m in longest_first {
            // the training part (2 seasons) and the first test window must fit
            let Some(room) = n.checked_sub(m.saturating_mul(2).saturating_add(h)) else {
                continue;
            };
            let s = room.checked_div(gaps).map_or(h, |s| s.min(h));
            if s >= floor {
                return s;
            }
        }
        h
    }

    fn backtest_config(&self, mase_period: usize) -> BacktestConfig {
        BacktestConfig {
            horizon: self.horizon,
            n_origins: self.n_origins,
            stride: None,
            max_train: self.max_train,
            season_length: mase_period,
            quantile: match self.loss {
                Loss::Pinball { q } => q,
                _ => 0.9,
            },
        }
    }

    fn fallback(&self, y: &[f64], seasons: &[usize], needed: usize) -> Result<FittedAuto> {
        let n = y.len();
        let m = seasons
            .iter()
            .copied()
            .filter(|&m| n >= m.saturating_mul(2))
            .max();
        let (spec, what) = match m {
            Some(m) => (
                ModelSpec::SeasonalNaive(SeasonalNaive::new(m)),
                format!("seasonal naive (m = {m})"),
            ),
            None => (
                ModelSpec::Naive(Naive),
                "naive (no season length has two full seasons of history)".to_string(),
            ),
        };
        let fitted = finite_fit(&spec, y)?;
        let why = format!(
            "{what} chosen without a backtest: the history has {n} values, fewer than the \
             {needed} a backtest of {} origins × {} steps needs",
            self.n_origins, self.horizon
        );
        Ok(FittedAuto::new(
            vec![fitted],
            vec![spec],
            1.0,
            None,
            Vec::new(),
            None,
            true,
            why,
        ))
    }
}

impl Forecaster for AutoForecaster {
    type Fitted = FittedAuto;

    /// Backtests every candidate, chooses, refits on the whole history; see the
    /// [module docs](self).
    ///
    /// # Errors
    /// As [`AutoForecaster::validate`]; as [`prepare`] for the data (fewer than 2 values,
    /// negative or infinite values, nothing known); [`Error::Fit`] when every candidate fails,
    /// with each one's reason.
    fn fit(&self, y: &[f64]) -> Result<FittedAuto> {
        self.validate()?;
        prepare(y, 2, "the auto forecaster (its naive fallback)")?;
        let n = y.len();
        let given = self.seasons_for(y);
        let stride = self.stride_for(n, &given);
        let span = self
            .horizon
            .saturating_add(self.n_origins.saturating_sub(1).saturating_mul(stride));
        let (kept, dropped): (Vec<usize>, Vec<usize>) = given
            .iter()
            .partition(|&&m| m.saturating_mul(2).saturating_add(span) <= n);
        let min_train = kept.iter().max().map_or(self.horizon.max(3), |&m| 2 * m);
        let needed = min_train.saturating_add(span);
        if n < needed {
            return self.fallback(y, &given, needed);
        }
        let mase_period = kept.first().copied().unwrap_or(1);
        let cfg = BacktestConfig {
            stride: Some(stride),
            ..self.backtest_config(mase_period)
        };
        let candidates = match &self.candidates {
            Some(c) => c.clone(),
            None => default_candidates(&kept, n),
        };
        // inside a pool already (a batch over series), the candidates run one after another:
        // the outer loop keeps every core busy, and splitting each series again only adds
        // scheduling
        let parallel = rayon::current_thread_index().is_none();
        // every candidate is scored at the same origins: their MASE scales once (a candidate's
        // own backtest reports origins that cannot be taken)
        let scales = cfg.origins(n).map_or_else(
            |_| OriginScales::default(),
            |o| OriginScales::new(y, &o, cfg.season_length),
        );
        let results: Vec<Result<(BacktestResult, f64, Reuse)>> =
            map_in_order(&candidates, parallel, |spec| {
                let (r, reuse) = candidate_backtest(spec, y, &cfg, &scales, parallel)?;
                let l = self.ranking_loss(&r)?;
                if l.is_finite() {
                    Ok((r, l, reuse))
                } else {
                    Err(Error::Fit(format!("the backtest loss is not finite ({l})")))
                }
            });
        let mut scores = Vec::with_capacity(candidates.len());
        let mut ok: Vec<(usize, f64, BacktestResult)> = Vec::new();
        let mut reuse: Vec<Reuse> = Vec::with_capacity(candidates.len());
        for (i, (spec, r)) in candidates.iter().zip(results).enumerate() {
            let name = spec_label(spec);
            match r {
                Ok((r, l, left)) => {
                    reuse.push(left);
                    scores.push(CandidateScore {
                        name,
                        spec: spec.clone(),
                        loss: Some(l),
                        scores: Some(r.summary.clone()),
                        error: None,
                    });
                    ok.push((i, l, r));
                }
                Err(e) => {
                    reuse.push(Reuse::Nothing);
                    scores.push(CandidateScore {
                        name,
                        spec: spec.clone(),
                        loss: None,
                        scores: None,
                        error: Some(e.to_string()),
                    })
                }
            }
        }
        if ok.is_empty() {
            let reasons: Vec<String> = scores
                .iter()
                .map(|s| format!("{}: {}", s.name, s.error.as_deref().unwrap_or("?")))
                .collect();
            return Err(Error::Fit(format!(
                "every candidate failed: {}",
                reasons.join("; ")
            )));
        }
        // stable: equal losses keep the candidates' order
        ok.sort_by(|a, b| a.1.total_cmp(&b.1));
        let k = match self.select {
            Select::Best => 1,
            Select::CombineTopK(k) => k.min(ok.len()),
        };
        // only candidates within COMBINE_WITHIN of the best loss join a combination: averaging
        // in clearly worse models would dilute a clear winner
        let k = ok[..k]
            .iter()
            .take_while(|t| t.1 <= ok[0].1 * COMBINE_WITHIN)
            .count()
            .max(1);
        let (chosen_bt, chosen_loss) = if k == 1 {
            (ok[0].2.clone(), ok[0].1)
        } else {
            let bt = combine(y, &cfg, &scales, ok[..k].iter().map(|t| &t.2))?;
            let l = self.ranking_loss(&bt)?;
            (bt, l)
        };
        let mut top: Vec<usize> = ok[..k].iter().map(|t| t.0).collect();
        let (mut chosen_bt, mut chosen_loss) = (chosen_bt, chosen_loss);
        // the centre is never worse than seasonal naive's: when the reference seasonal naive
        // (the MASE period) has the lower backtest MASE, it is the answer
        let mut guard_note = None;
        let reference = ok.iter().position(|t| {
            matches!(&candidates[t.0], ModelSpec::SeasonalNaive(s) if s.season_length == mase_period)
        });
        if let Some(r) = reference {
            let theirs = Loss::Mase.evaluate(&ok[r].2)?;
            let ours = Loss::Mase.evaluate(&chosen_bt)?;
            if theirs < ours && !(top.len() == 1 && top[0] == ok[r].0) {
                let was: Vec<String> = top.iter().map(|&i| spec_label(&candidates[i])).collect();
                guard_note = Some(format!(
                    " The ranking's choice ({}) was replaced by {}: the latter's backtest MASE \
                     {theirs:.4} is below the former's {ours:.4}, and the centre is never worse \
                     than seasonal naive's.",
                    was.join(", "),
                    spec_label(&candidates[ok[r].0])
                ));
                top = vec![ok[r].0];
                chosen_bt = ok[r].2.clone();
                chosen_loss = ok[r].1;
            }
        }
        let chosen: Vec<ModelSpec> = top.iter().map(|&i| candidates[i].clone()).collect();
        let members = map_in_order(&top, parallel, |&i| {
            finite_refit(&candidates[i], y, &reuse[i])
        })
        .into_iter()
        .collect::<Result<Vec<FittedModel>>>()?;
        // the delivered intervals are only ever widened: the backtest errors are in-sample for the
        // calibration, and running short costs more than running long
        let calibration = self.calibrate.then(|| calibrate(&chosen_bt, 1.0));
        let sd_scale = calibration.as_ref().map_or(1.0, |c| c.sd_scale);
        let mut why = explain(
            self,
            &cfg,
            &scores,
            &ok,
            &chosen,
            chosen_loss,
            &dropped,
            calibration.as_ref(),
        );
        // a Holt-Winters member refitted on the whole history may have fallen back
        for m in &members {
            if let FittedModel::HoltWinters(h) = m {
                if let Some(f) = &h.params().fallback {
                    why += &format!(" On the whole history, {f}.");
                }
            }
        }
        if let Some(note) = guard_note {
            why += &note;
        } else if let Select::CombineTopK(want) = self.select {
            if want > k && ok.len() > k {
                why += &format!(
                    " Combined {k} of the top {want}: the others scored more than {:.0}% above the best.",
                    (COMBINE_WITHIN - 1.0) * 100.0
                );
            }
        }
        Ok(FittedAuto::new(
            members,
            chosen,
            sd_scale,
            calibration,
            scores,
            Some(chosen_bt.summary),
            false,
            why,
        ))
    }
}

/// `f` over `items`, results in their order: in parallel (rayon) or one after another.
fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    parallel: bool,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    if parallel {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

/// Whether a candidate's backtest fits it once, at the earliest origin, and filters it forward
/// through the later ones (see the [module docs](self)): Holt-Winters, whose parameter search
/// is the cost of a fit and whose [`Fitted::update`] runs the same recursion over new values,
/// when every origin trains from the start of the history.
fn filters_forward(spec: &ModelSpec, cfg: &BacktestConfig) -> bool {
    matches!(spec, ModelSpec::HoltWinters(_)) && cfg.max_train.is_none()
}

/// What a candidate's backtest leaves for the refit of the chosen model on the whole history
/// (see the [module docs](self)).
enum Reuse {
    /// Nothing: the refit is a plain fit.
    Nothing,
    /// The parameters the Holt-Winters fit at the earliest origin found, where the refit's
    /// search starts.
    HoltWinters(Box<HoltWintersParams>),
    /// The Fourier regression's sums over the latest origin's training part, which the refit
    /// extends to the whole history.
    Fourier(Box<PrefixSums>),
}

/// The rolling-origin backtest of one candidate, with the origins and scores of
/// [`backtest`](super::backtest::backtest): a model that [`filters_forward`] is fitted at the
/// earliest origin only and advanced from origin to origin with the values in between; a
/// Fourier regression on nested training parts without gaps gathers its sums once, from origin
/// to origin (each fit is the one [`Forecaster::fit`] gives on that part); every other one is
/// fitted at each origin. Also returns what the refit on the whole history can start from.
fn candidate_backtest(
    spec: &ModelSpec,
    y: &[f64],
    cfg: &BacktestConfig,
    scales: &OriginScales,
    parallel: bool,
) -> Result<(BacktestResult, Reuse)> {
    let origins = cfg.origins(y.len())?;
    check_update(y)?;
    let forecast_at = |fitted: &FittedModel, start: usize, o: usize| -> Result<OriginForecast> {
        let fc = fitted.predict(cfg.horizon, &COVERAGE_LEVELS)?;
        let bounds = interval_bounds(&fc);
        Ok((start, o, fc.mean, fc.sd, bounds))
    };
    let nested = cfg.max_train.is_none() && !y.iter().any(|v| v.is_nan());
    let (forecasts, reuse) = match spec {
        ModelSpec::HoltWinters(_) if filters_forward(spec, cfg) => {
            let mut out = Vec::with_capacity(origins.len());
            let mut fitted: Option<(FittedModel, usize)> = None;
            let mut first = None;
            for &(start, o) in &origins {
                let model = match fitted.take() {
                    None => {
                        let m = spec.fit(&y[start..o])?;
                        if let FittedModel::HoltWinters(h) = &m {
                            first = Some(Box::new(h.params().clone()));
                        }
                        m
                    }
                    Some((mut m, at)) => {
                        m.update(&y[at..o])?;
                        m
                    }
                };
                out.push(forecast_at(&model, start, o)?);
                fitted = Some((model, o));
            }
            (out, first.map_or(Reuse::Nothing, Reuse::HoltWinters))
        }
        ModelSpec::FourierRegression(f) if nested => {
            let mut sums = f.prefix_sums(y)?;
            let mut out = Vec::with_capacity(origins.len());
            for &(start, o) in &origins {
                let model = FittedModel::FourierRegression(sums.fit_prefix(o)?);
                out.push(forecast_at(&model, start, o)?);
            }
            (out, Reuse::Fourier(Box::new(sums)))
        }
        _ => {
            let out = map_in_order(&origins, parallel, |&(start, o)| {
                forecast_at(&spec.fit(&y[start..o])?, start, o)
            })
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
            (out, Reuse::Nothing)
        }
    };
    Ok((score_with(y, cfg, forecasts, scales)?, reuse))
}

/// Fits `spec` on the whole history `y`, from what its backtest left (see [`Reuse`]), and
/// refuses a non-finite residual scale (values so large that their squares overflow), which
/// would give infinite intervals.
fn finite_refit(spec: &ModelSpec, y: &[f64], reuse: &Reuse) -> Result<FittedModel> {
    let f = match (spec, reuse) {
        (ModelSpec::HoltWinters(h), Reuse::HoltWinters(p)) => {
            FittedModel::HoltWinters(h.fit_warm(y, p)?)
        }
        (ModelSpec::FourierRegression(_), Reuse::Fourier(sums)) => {
            FittedModel::FourierRegression(sums.as_ref().clone().fit_prefix(y.len())?)
        }
        _ => spec.fit(y)?,
    };
    let sigma = f.fit_info().sigma;
    if !sigma.is_finite() {
        return Err(Error::Fit(format!(
            "{} has a non-finite residual scale ({sigma}) on this history",
            spec_label(spec)
        )));
    }
    Ok(f)
}

/// [`finite_refit`] without a backtest to start from.
fn finite_fit(spec: &ModelSpec, y: &[f64]) -> Result<FittedModel> {
    finite_refit(spec, y, &Reuse::Nothing)
}

/// A multiple `k·P` of a detected period `P` is a season of its own only when the median
/// seasonal difference at `k·P` is below this share of the one at `P`; see
/// [`AutoForecaster::seasons_for`].
pub const MULTIPLE_GAIN: f64 = 0.8;

/// The median of `|y[t] − y[t − lag]|` over the pairs with both values known (`None` for none).
fn median_seasonal_diff(y: &[f64], lag: usize) -> Option<f64> {
    if lag == 0 || lag >= y.len() {
        return None;
    }
    let mut d: Vec<f64> = y[lag..]
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .filter(|v| !v.is_nan())
        .collect();
    if d.is_empty() {
        return None;
    }
    let k = d.len() / 2;
    Some(*d.select_nth_unstable_by(k, f64::total_cmp).1)
}

/// How much of each origin's scaled bias a pinball ranking loss adds (see the
/// [module docs](self)).
pub const BIAS_WEIGHT: f64 = 1.0;

/// `loss` over a backtest's scored points (the points-weighted mean of its origins' losses).
fn pooled(per: &[(f64, usize)]) -> Result<f64> {
    let (sum, n) = per
        .iter()
        .fold((0.0, 0usize), |(s, k), &(l, c)| (s + l * c as f64, k + c));
    if n == 0 {
        return Err(Error::data("the backtest scored no point: no loss"));
    }
    Ok(sum / n as f64)
}

/// The bias of a backtest per origin that scored a point: the absolute mean error
/// `|mean(actual − forecast)|` over its scored points divided by the origin's MASE scale. Per
/// origin, so a window that runs high does not cancel one that runs low.
fn origin_bias(bt: &BacktestResult) -> Vec<f64> {
    let mut out = Vec::with_capacity(bt.origins.len());
    for o in &bt.origins {
        let (mut e, mut k) = (0.0, 0usize);
        for (&a, &m) in o.actual.iter().zip(&o.mean) {
            if !a.is_nan() {
                e += a - m;
                k += 1;
            }
        }
        if k > 0 {
            out.push((e / k as f64).abs() / o.scale);
        }
    }
    out
}

/// The backtest of the mean of several candidates' forecasts at the same origins.
fn combine<'a>(
    y: &[f64],
    cfg: &BacktestConfig,
    scales: &OriginScales,
    parts: impl Iterator<Item = &'a BacktestResult>,
) -> Result<BacktestResult> {
    let parts: Vec<&BacktestResult> = parts.collect();
    let Some(first) = parts.first() else {
        return Err(Error::Fit("nothing to combine".to_string()));
    };
    let w = 1.0 / parts.len() as f64;
    let mut out: Vec<OriginForecast> = Vec::with_capacity(first.origins.len());
    for (j, o) in first.origins.iter().enumerate() {
        let mut mean = vec![0.0; cfg.horizon];
        let mut sd = vec![0.0; cfg.horizon];
        for p in &parts {
            let Some(po) = p.origins.get(j) else {
                return Err(Error::Fit("backtests with different origins".to_string()));
            };
            for i in 0..cfg.horizon.min(po.mean.len()).min(po.sd.len()) {
                mean[i] += w * po.mean[i];
                sd[i] += w * po.sd[i];
            }
        }
        let bounds = [0, 1].map(|l| normal_bounds(&mean, &sd, super::backtest::COVERAGE_LEVELS[l]));
        out.push((o.train_start, o.origin, mean, sd, bounds));
    }
    score_with(y, cfg, out, scales)
}

/// Fits the sd scale factor on a backtest's errors, at least `min_scale`; see the
/// [module docs](self).
fn calibrate(bt: &BacktestResult, min_scale: f64) -> Calibration {
    let mut z: Vec<f64> = Vec::new();
    let mut n_zero_sd = 0;
    for o in &bt.origins {
        for ((&a, &m), &s) in o.actual.iter().zip(&o.mean).zip(&o.sd) {
            if a.is_nan() {
                continue;
            }
            if s > 0.0 {
                z.push(((a - m) / s).abs());
            } else {
                n_zero_sd += 1;
            }
        }
    }
    z.retain(|v| v.is_finite());
    z.sort_unstable_by(f64::total_cmp);
    let z80 = dist::normal_quantile(0.9);
    let z95 = dist::normal_quantile(0.975);
    let cov = |k: f64| {
        let n = z.len().max(1) as f64;
        (
            z.partition_point(|&v| v <= k * z80) as f64 / n,
            z.partition_point(|&v| v <= k * z95) as f64 / n,
        )
    };
    let before = cov(1.0);
    let max_z = z.last().copied().unwrap_or(0.0);
    let sd_scale = if z.len() < MIN_CALIBRATION_RESIDUALS || max_z <= 0.0 {
        1.0
    } else {
        // the coverage steps up where k·z_L crosses an error: evaluate between the steps (the
        // two sorted lists of crossings, merged)
        let breaks = merge_sorted_positive(&z, z80, z95);
        let mut best = (f64::INFINITY, 1.0);
        let last = breaks.last().copied().unwrap_or(1.0);
        let probes = breaks
            .windows(2)
            .map(|w| 0.5 * (w[0] + w[1]))
            .chain(std::iter::once(last * 1.05));
        // the probes ascend, so each coverage count only moves forward: one sweep over the
        // sorted errors counts what `cov` would at every probe
        let n = z.len() as f64;
        let (mut i80, mut i95) = (0usize, 0usize);
        for k in probes {
            while i80 < z.len() && z[i80] <= k * z80 {
                i80 += 1;
            }
            while i95 < z.len() && z[i95] <= k * z95 {
                i95 += 1;
            }
            let o = (i80 as f64 / n - 0.8).powi(2) + (i95 as f64 / n - 0.95).powi(2);
            if o < best.0 {
                best = (o, k);
            }
        }
        if best.1.is_finite() && best.1 > 0.0 {
            best.1.max(min_scale)
        } else {
            1.0
        }
    };
    Calibration {
        sd_scale,
        n_residuals: z.len(),
        n_zero_sd,
        coverage_before: before,
        coverage_after: cov(sd_scale),
    }
}

/// The positive values of `z/a` and `z/b` (`z` sorted ascending, `a`, `b` > 0) in ascending
/// order without repeats: the merge of two sorted lists.
fn merge_sorted_positive(z: &[f64], a: f64, b: f64) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(2 * z.len());
    let (mut i, mut j) = (0, 0);
    while i < z.len() || j < z.len() {
        let v = match (z.get(i).map(|v| v / a), z.get(j).map(|v| v / b)) {
            (Some(x), Some(y)) if x <= y => {
                i += 1;
                x
            }
            (_, Some(y)) => {
                j += 1;
                y
            }
            (Some(x), None) => {
                i += 1;
                x
            }
            (None, None) => break,
        };
        if v > 0.0 && out.last() != Some(&v) {
            out.push(v);
        }
    }
    out
}

/// A readable label of a model and its settings, e.g. `seasonal_naive(season_length=24)`.
pub fn spec_label(spec: &ModelSpec) -> String {
    match serde_json::to_value(spec) {
        Ok(serde_json::Value::Object(map)) => {
            let name = map
                .get("model")
                .and_then(|v| v.as_str())
                .unwrap_or("model")
                .to_string();
            let params: Vec<String> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "model")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if params.is_empty() {
                name
            } else {
                format!("{name}({})", params.join(", "))
            }
        }
        _ => format!("{spec:?}"),
    }
}

fn pct_below(win: f64, other: f64) -> String {
    if other > 0.0 {
        format!("{:.1}% below", 100.0 * (other - win) / other)
    } else {
        "no better than".to_string()
    }
}

#[allow(clippy::too_many_arguments)]
fn explain(
    auto: &AutoForecaster,
    cfg: &BacktestConfig,
    scores: &[CandidateScore],
    ranked: &[(usize, f64, BacktestResult)],
    chosen: &[ModelSpec],
    chosen_loss: f64,
    dropped: &[usize],
    calibration: Option<&Calibration>,
) -> String {
    let scale = if cfg.season_length > 1 {
        format!("seasonal naive MAE with m = {}", cfg.season_length)
    } else {
        "naive MAE".to_string()
    };
    let names: Vec<String> = chosen.iter().map(spec_label).collect();
    let mut s = if names.len() == 1 {
        format!("{} won", names[0])
    } else {
        format!("the mean of the top {}: {},", names.len(), names.join(", "))
    };
    s += &format!(
        " with {} of {:.4} (scaled by the in-sample {scale}) over {} origins × {} steps",
        auto.loss.describe(),
        chosen_loss,
        cfg.n_origins,
        cfg.horizon
    );
    if cfg.stride() < cfg.horizon {
        s += &format!(
            " (origins {} steps apart, so that the seasons fit)",
            cfg.stride()
        );
    }
    // the runner-up: the best candidate not chosen
    let runner = ranked.iter().find(|r| !chosen.contains(&scores[r.0].spec));
    match runner {
        Some((i, l, _)) => {
            s += &format!(
                "; {} the runner-up {} ({:.4})",
                pct_below(chosen_loss, *l),
                scores[*i].name,
                l
            )
        }
        None => s += "; no other candidate fitted",
    }
    // the reference: seasonal naive at the MASE period, or naive
    let reference = if cfg.season_length > 1 {
        ModelSpec::SeasonalNaive(SeasonalNaive::new(cfg.season_length))
    } else {
        ModelSpec::Naive(Naive)
    };
    let runner_up = runner.map(|r| &scores[r.0].spec);
    if chosen.len() == 1 && chosen[0] == reference {
        s += "; the winner is the reference baseline itself";
    } else if chosen.contains(&reference) {
        s += "; the reference baseline is among them";
    } else if runner_up == Some(&reference) {
        s += ", the reference baseline";
    } else if let Some(c) = scores.iter().find(|c| c.spec == reference) {
        if let Some(l) = c.loss {
            s += &format!(" and {} {} ({:.4})", pct_below(chosen_loss, l), c.name, l);
        }
    }
    s.push('.');
    let failed: Vec<String> = scores
        .iter()
        .filter_map(|c| c.error.as_ref().map(|e| format!("{} ({e})", c.name)))
        .collect();
    if !failed.is_empty() {
        s += &format!(" Failed: {}.", failed.join("; "));
    }
    if !dropped.is_empty() {
        s += &format!(
            " Season lengths {dropped:?} dropped: a backtest needs 2 seasons plus {} test steps.",
            cfg.span()
        );
    }
    match calibration {
        Some(c) if c.n_residuals >= MIN_CALIBRATION_RESIDUALS && c.sd_scale == 1.0 => {
            s += &format!(
                " Intervals kept as the models give them (backtest 80%/95% coverage {:.2}/{:.2}; \
                 calibration only widens).",
                c.coverage_before.0, c.coverage_before.1
            )
        }
        Some(c) if c.n_residuals >= MIN_CALIBRATION_RESIDUALS => {
            s += &format!(
                " Intervals calibrated: sd × {:.3} (fitted on {} backtest errors; 80%/95% \
                 coverage {:.2}/{:.2} before, {:.2}/{:.2} after).",
                c.sd_scale,
                c.n_residuals,
                c.coverage_before.0,
                c.coverage_before.1,
                c.coverage_after.0,
                c.coverage_after.1
            )
        }
        Some(c) => {
            s += &format!(
                " Intervals not calibrated: {} backtest errors, fewer than {MIN_CALIBRATION_RESIDUALS}.",
                c.n_residuals
            )
        }
        None => {}
    }
    s
}

impl FittedAuto {
    #[allow(clippy::too_many_arguments)]
    fn new(
        members: Vec<FittedModel>,
        chosen: Vec<ModelSpec>,
        sd_scale: f64,
        calibration: Option<Calibration>,
        scores: Vec<CandidateScore>,
        chosen_scores: Option<super::backtest::Scores>,
        fallback: bool,
        why: String,
    ) -> Self {
        let mut f = FittedAuto {
            members,
            chosen,
            sd_scale,
            calibration,
            scores,
            chosen_scores,
            fallback,
            why,
            info: FitInfo {
                n_obs: 0,
                n_filled: 0,
                sigma: 0.0,
            },
        };
        f.refresh_info();
        f
    }

    fn refresh_info(&mut self) {
        if let Some(first) = self.members.first() {
            let k = self.members.len() as f64;
            let sigma = self.members.iter().map(|m| m.fit_info().sigma).sum::<f64>() / k;
            self.info = FitInfo {
                n_obs: first.fit_info().n_obs,
                n_filled: first.fit_info().n_filled,
                sigma: sigma * self.sd_scale,
            };
        }
    }

    /// Every candidate with its backtest scores and loss, or its error, in the order tried.
    /// Empty when the history was too short for a backtest (see [`FittedAuto::is_fallback`]).
    pub fn scores(&self) -> &[CandidateScore] {
        &self.scores
    }

    /// Why this model: which won, by how much over the runner-up and over seasonal naive, which
    /// candidates failed, and the calibration; or why no backtest ran.
    pub fn why(&self) -> &str {
        &self.why
    }

    /// The chosen model(s): one for [`Select::Best`], the top k for [`Select::CombineTopK`].
    pub fn chosen(&self) -> &[ModelSpec] {
        &self.chosen
    }

    /// The chosen model(s), refitted on the whole history.
    pub fn models(&self) -> &[FittedModel] {
        &self.members
    }

    /// Pooled backtest scores of the chosen forecast (of the combination, when combined), before
    /// calibration; `None` for a fallback.
    pub fn chosen_scores(&self) -> Option<&super::backtest::Scores> {
        self.chosen_scores.as_ref()
    }

    /// The factor applied to every predictive sd (1 without calibration).
    pub fn sd_scale(&self) -> f64 {
        self.sd_scale
    }

    /// The calibration, when `calibrate` was set and a backtest ran.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// True when the history was too short for a backtest and a baseline was taken directly.
    pub fn is_fallback(&self) -> bool {
        self.fallback
    }
}

impl FittedAuto {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        state_ensure(!self.members.is_empty(), || "no member".into())?;
        state_ensure(self.members.len() == self.chosen.len(), || {
            format!(
                "{} fitted members for {} chosen models",
                self.members.len(),
                self.chosen.len()
            )
        })?;
        state_ensure(self.sd_scale.is_finite() && self.sd_scale >= 0.0, || {
            format!("sd scale {}", self.sd_scale)
        })?;
        self.members.iter().try_for_each(|m| m.state())
    }
}

impl Fitted for FittedAuto {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn fit_info(&self) -> &FitInfo {
        &self.info
    }

    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        match self.members.as_slice() {
            [one] => one.predict_mean_sd(mean, sd),
            many => {
                let w = 1.0 / many.len().max(1) as f64;
                let mut m = vec![0.0; mean.len()];
                let mut s = vec![0.0; sd.len()];
                mean.fill(0.0);
                sd.fill(0.0);
                for model in many {
                    model.predict_mean_sd(&mut m, &mut s);
                    for (acc, v) in mean.iter_mut().zip(&m) {
                        *acc += w * v;
                    }
                    for (acc, v) in sd.iter_mut().zip(&s) {
                        *acc += w * v;
                    }
                }
            }
        }
        if self.sd_scale != 1.0 {
            for v in sd.iter_mut() {
                *v *= self.sd_scale;
            }
        }
    }

    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for m in &mut self.members {
            m.update(y)?;
        }
        self.refresh_info();
        Ok(())
    }

    /// A single chosen model without calibration forecasts exactly as that model (its own
    /// intervals); otherwise normal intervals around the combined mean with the scaled sd.
    fn predict_into_with(
        &self,
        horizon: usize,
        levels: &[f64],
        nonnegative: bool,
        out: &mut Forecast,
    ) -> Result<()> {
        if let ([one], true) = (self.members.as_slice(), self.sd_scale == 1.0) {
            return one.predict_into_with(horizon, levels, nonnegative, out);
        }
        predict_normal(self, horizon, levels, nonnegative, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::backtest::backtest;
    use crate::forecast::backtest::score;
    use crate::forecast::backtest::COVERAGE_LEVELS;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Worked by hand: horizon 24, 5 origins (4 gaps), so the stride may fall to 6.
    #[test]
    fn stride_shrinks_only_to_keep_a_longer_season() {
        let a = AutoForecaster::default();
        // room for everything side by side: 2·168 + 5·24 = 456
        assert_eq!(a.stride_for(456, &[24, 168]), 24);
        assert_eq!(a.stride_for(10_000, &[24, 168]), 24);
        // 455: (455 − 336 − 24) / 4 = 23
        assert_eq!(a.stride_for(455, &[24, 168]), 23);
        // 400: 40 / 4 = 10; 384: 24 / 4 = 6, the floor
        assert_eq!(a.stride_for(400, &[168, 24]), 10);
        assert_eq!(a.stride_for(384, &[24, 168]), 6);
        // 383: 23 / 4 = 5 < 6, so 168 is given up and 24 fits side by side
        assert_eq!(a.stride_for(383, &[24, 168]), 24);
        // no season, or none with even one test window: side by side
        assert_eq!(a.stride_for(100, &[]), 24);
        assert_eq!(a.stride_for(60, &[24]), 24);
        // a single origin has no gap to shrink
        let one = AutoForecaster {
            n_origins: 1,
            ..AutoForecaster::default()
        };
        assert_eq!(one.stride_for(360, &[168]), 24);
        // horizon 1: the floor is 1 step
        let h1 = AutoForecaster {
            horizon: 1,
            ..AutoForecaster::default()
        };
        assert_eq!(h1.stride_for(2 * 168 + 1 + 4, &[168]), 1);
    }

    /// The hand-worked backtest of `backtest::tests::hand_worked_naive_backtest` (naive model,
    /// y = [1,2,4,3,5,6,8,7], horizon 2, 2 origins): errors 2, 3 with scale 4/3 and 2, 1 with
    /// scale 7/5, all forecasts below the actual.
    fn hand_backtest() -> BacktestResult {
        let y = [1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 8.0, 7.0];
        let cfg = BacktestConfig {
            horizon: 2,
            n_origins: 2,
            ..BacktestConfig::default()
        };
        backtest(&ModelSpec::Naive(Naive), &y, &cfg).unwrap()
    }

    #[test]
    fn losses_by_hand() {
        let r = hand_backtest();
        // MASE: (2/(4/3) + 3/(4/3) + 2/1.4 + 1/1.4)/4 = (1.5 + 2.25 + 1.4285714 + 0.7142857)/4
        assert!(close(Loss::Mase.evaluate(&r).unwrap(), 1.473_214_3, 1e-7));
        // pinball points 0.1688512, 0.3932072 (scale 4/3) and 0.0892367, 0.1688205 (scale 1.4)
        let want =
            (0.168_851_2 * 0.75 + 0.393_207_2 * 0.75 + 0.089_236_7 / 1.4 + 0.168_820_5 / 1.4) / 4.0;
        let got = Loss::Pinball { q: 0.9 }.evaluate(&r).unwrap();
        assert!(close(got, want, 1e-7), "{got} vs {want}");
        // every forecast is short: the under weight multiplies the MASE terms, the over weight
        // does not enter
        let a = Loss::Asymmetric {
            under: 3.0,
            over: 100.0,
        };
        assert!(close(a.evaluate(&r).unwrap(), 3.0 * 1.473_214_3, 1e-6));
        // mirrored: y = [7,8,6,5,3,4,2,1]; origin 4 forecasts 5 for [3,4] (over by 2, 1; scale
        // (1+2+1)/3 = 4/3), origin 6 forecasts 4 for [2,1] (over by 2, 3; scale 7/5): with
        // over weight 2 the points cost 2·2·0.75 = 3, 1.5, 4/1.4, 6/1.4 → mean 2.9107143
        let y = [7.0, 8.0, 6.0, 5.0, 3.0, 4.0, 2.0, 1.0];
        let r = backtest(&ModelSpec::Naive(Naive), &y, &r.config).unwrap();
        let a = Loss::Asymmetric {
            under: 100.0,
            over: 2.0,
        };
        assert!(close(a.evaluate(&r).unwrap(), 2.910_714_3, 1e-7));
    }

    /// 20 errors with |z| = 0.1, 0.2, ..., 2.0 (sd 1). Unscaled, 12 fall within ±Φ⁻¹(0.9) =
    /// ±1.2815516 (60%) and 19 within ±1.9599640 (95%). Scaling the sd by k: 80% coverage needs
    /// 16 inside, i.e. 1.6 <= 1.2815516·k < 1.7; there every |z| <= 2.0 < 1.96·k, so 95%
    /// coverage is 1 and the objective 0.05² = 0.0025. Coverages (0.75 or 0.85, 1) cost 0.005
    /// and k with 95% coverage exactly 0.95 (0.969 <= k < 1.020) leaves 80% coverage at 0.6 or
    /// 0.65. The best step is k ∈ [1.6, 1.7)/1.2815516, whose midpoint is 1.65/1.2815516 =
    /// 1.2874949.
    #[test]
    fn calibration_factor_by_hand() {
        let fc: Vec<OriginForecast> = (1..=20)
            .map(|i| {
                let mean = vec![10.0];
                let sd = vec![1.0];
                let bounds = COVERAGE_LEVELS.map(|l| normal_bounds(&mean, &sd, l));
                (0, 10 + i, mean, sd, bounds)
            })
            .collect();
        let mut y = vec![10.0; 31];
        for i in 1..=20 {
            y[10 + i] = 10.0 + if i % 2 == 0 { 0.1 } else { -0.1 } * i as f64;
        }
        let cfg = BacktestConfig {
            horizon: 1,
            n_origins: 20,
            stride: Some(1),
            ..BacktestConfig::default()
        };
        let bt = score(&y, &cfg, fc).unwrap();
        let c = calibrate(&bt, 0.0);
        assert_eq!(c.n_residuals, 20);
        assert!(
            close(c.sd_scale, 1.65 / 1.281_551_565_5, 1e-9),
            "{}",
            c.sd_scale
        );
        assert!(close(c.coverage_before.0, 0.6, 1e-12));
        assert!(close(c.coverage_before.1, 0.95, 1e-12));
        assert!(close(c.coverage_after.0, 0.8, 1e-12));
        assert!(close(c.coverage_after.1, 1.0, 1e-12));
    }

    /// A Holt-Winters candidate's backtest is its fit at the earliest origin, then that fit
    /// advanced with `update` from origin to origin; other candidates (and Holt-Winters with
    /// sliding windows) give the plain [`backtest`]. Each forecast is checked against the
    /// public calls made by hand.
    #[test]
    fn holt_winters_is_fitted_once_and_filtered_forward() {
        let y: Vec<f64> = (0..400)
            .map(|t| {
                let t = t as f64;
                100.0
                    + 0.05 * t
                    + 30.0 * (t * std::f64::consts::TAU / 24.0).sin()
                    + 7.0 * ((t * 12.9898).sin() * 43_758.545).fract()
            })
            .collect();
        let cfg = BacktestConfig {
            horizon: 12,
            n_origins: 4,
            season_length: 24,
            ..BacktestConfig::default()
        };
        let hw = ModelSpec::HoltWinters(HoltWinters::new(24));
        for parallel in [false, true] {
            let got = candidate_backtest(&hw, &y, &cfg, &OriginScales::default(), parallel)
                .unwrap()
                .0;
            let origins = cfg.origins(y.len()).unwrap();
            let mut model = hw.fit(&y[..origins[0].1]).unwrap();
            for (i, (o, &(_, at))) in got.origins.iter().zip(&origins).enumerate() {
                if i > 0 {
                    model.update(&y[origins[i - 1].1..at]).unwrap();
                }
                let fc = model.predict(12, &COVERAGE_LEVELS).unwrap();
                assert_eq!((o.origin, &o.mean, &o.sd), (at, &fc.mean, &fc.sd));
            }
            // a refit at a later origin would differ: the parameters are the earliest origin's
            let refit = backtest(&hw, &y, &cfg).unwrap();
            assert_eq!(refit.origins[0].mean, got.origins[0].mean);
            assert_ne!(refit.origins[3].mean, got.origins[3].mean);
            // a Fourier regression gathers its sums from origin to origin, with the fits
            // of the plain backtest bit for bit (and the MASE scales kept for the origins are
            // the ones the plain backtest computes)
            let scales = OriginScales::new(&y, &origins, cfg.season_length);
            for spec in [
                ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
                ModelSpec::Drift(Drift),
                ModelSpec::FourierRegression(FourierRegression::new(vec![(24.0, 6), (168.0, 10)])),
            ] {
                let a = candidate_backtest(&spec, &y, &cfg, &scales, parallel)
                    .unwrap()
                    .0;
                assert_eq!(a, backtest(&spec, &y, &cfg).unwrap());
            }
            let sliding = BacktestConfig {
                max_train: Some(200),
                ..cfg.clone()
            };
            let a = candidate_backtest(&hw, &y, &sliding, &OriginScales::default(), parallel)
                .unwrap()
                .0;
            assert_eq!(a, backtest(&hw, &y, &sliding).unwrap());
        }
    }

    /// The sweep over the probes against the direct way: at every probe, the coverage counts
    /// by binary search, the best probe kept; on seeded errors of several sizes, with ties.
    #[test]
    fn calibration_sweep_matches_counting_at_every_probe() {
        let (z80, z95) = (dist::normal_quantile(0.9), dist::normal_quantile(0.975));
        for (len, modulus) in [(20usize, 7u64), (57, 1000), (240, 97), (500, 13)] {
            let mut state = len as u64;
            let fc: Vec<OriginForecast> = (0..len)
                .map(|i| {
                    let (mean, sd) = (vec![10.0], vec![1.0 + (i % 3) as f64]);
                    let bounds = COVERAGE_LEVELS.map(|l| normal_bounds(&mean, &sd, l));
                    (0, 10 + i, mean, sd, bounds)
                })
                .collect();
            let mut y = vec![10.0; 10 + len];
            for i in 0..len {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let u = ((state >> 33) % modulus) as f64 / modulus as f64;
                y[10 + i] = 10.0 + (u - 0.4) * 4.0 * (1.0 + (i % 3) as f64);
            }
            let cfg = BacktestConfig {
                horizon: 1,
                n_origins: len,
                stride: Some(1),
                ..BacktestConfig::default()
            };
            let bt = score(&y, &cfg, fc).unwrap();
            let got = calibrate(&bt, 0.0).sd_scale;
            let mut z: Vec<f64> = bt
                .origins
                .iter()
                .map(|o| ((o.actual[0] - o.mean[0]) / o.sd[0]).abs())
                .collect();
            z.sort_by(f64::total_cmp);
            let n = z.len() as f64;
            let objective = |k: f64| {
                let c80 = z.partition_point(|&v| v <= k * z80) as f64 / n;
                let c95 = z.partition_point(|&v| v <= k * z95) as f64 / n;
                (c80 - 0.8).powi(2) + (c95 - 0.95).powi(2)
            };
            let breaks = merge_sorted_positive(&z, z80, z95);
            let mut probes: Vec<f64> = breaks.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
            probes.push(breaks.last().copied().unwrap_or(1.0) * 1.05);
            let mut best = (f64::INFINITY, 1.0);
            for k in probes {
                if objective(k) < best.0 {
                    best = (objective(k), k);
                }
            }
            assert_eq!(got, best.1, "{len} errors");
        }
    }

    /// Against the direct way: every quotient, sorted, repeats dropped.
    #[test]
    fn merged_crossings_are_the_sorted_quotients() {
        let mut z: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 17.0).collect();
        z.sort_by(f64::total_cmp);
        let (a, b) = (1.281_551_565_5, 1.959_963_985);
        let mut want: Vec<f64> = z
            .iter()
            .flat_map(|&v| [v / a, v / b])
            .filter(|&v| v > 0.0)
            .collect();
        want.sort_by(f64::total_cmp);
        want.dedup();
        assert_eq!(merge_sorted_positive(&z, a, b), want);
        assert!(merge_sorted_positive(&[0.0, 0.0], a, b).is_empty());
    }

    #[test]
    fn labels_name_the_settings() {
        assert_eq!(spec_label(&ModelSpec::Naive(Naive)), "naive");
        assert_eq!(
            spec_label(&ModelSpec::SeasonalNaive(SeasonalNaive::new(24))),
            "seasonal_naive(season_length=24)"
        );
    }

    #[test]
    fn default_candidates_follow_the_data() {
        let names = |c: Vec<ModelSpec>| c.iter().map(spec_label).collect::<Vec<_>>();
        assert_eq!(
            names(default_candidates(&[168, 24, 24, 1], 400)),
            [
                "naive",
                "drift",
                "linear_trend(window=168)",
                "seasonal_naive(season_length=24)",
                "seasonal_naive(season_length=168)",
                "holt_winters(alpha=null, beta=null, gamma=null, phi=null, robust=true, season_length=24, seasonal=\"additive\", trend=\"additive_damped\")",
                "holt_winters(alpha=null, beta=null, gamma=null, phi=null, robust=true, season_length=168, seasonal=\"additive\", trend=\"additive_damped\")",
                "multi_seasonal_naive(periods=[24,168])",
                "fourier_regression(log=false, penalty=null, periods=[[24.0,6],[168.0,10]])"
            ]
        );
        assert_eq!(
            names(default_candidates(&[24], 47)),
            ["naive", "drift", "linear_trend(window=168)"]
        );
        assert_eq!(names(default_candidates(&[], 2)), ["naive"]);
        assert!(default_candidates(&[], 1).is_empty());
    }
}

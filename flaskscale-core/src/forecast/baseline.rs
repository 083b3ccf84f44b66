//! Baseline forecasters: [`Naive`], [`SeasonalNaive`] and [`Drift`], with the residual-based
//! prediction intervals of Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*
//! (3rd ed., §5.5): σ̂ is the root mean squared one-step residual and the h-step standard
//! deviation is σ̂·√h (naive), σ̂·√(⌊(h−1)/m⌋+1) (seasonal naive) and σ̂·√(h·(1+h/(T−1)))
//! (drift, with T−1 the number of differences its slope is the mean of).

use super::contract::{
    check_ring, check_update, lagged_sum_sq, prepare, state_ensure, FitInfo, Fitted, Forecaster,
    StateCheck,
};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The last value, repeated: `ŷ(T+h) = y(T)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Naive;

/// A fitted [`Naive`] model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedNaive {
    last: f64,
    sum_sq: f64,
    n_res: usize,
    info: FitInfo,
}

impl Forecaster for Naive {
    type Fitted = FittedNaive;
    fn fit(&self, y: &[f64]) -> Result<FittedNaive> {
        let (y, n_filled) = prepare(y, 2, "the naive model's residuals")?;
        let sum_sq = lagged_sum_sq(&y, 1);
        let mut f = FittedNaive {
            last: y[y.len() - 1],
            sum_sq,
            n_res: y.len() - 1,
            info: FitInfo {
                n_obs: y.len(),
                n_filled,
                sigma: 0.0,
            },
        };
        f.info.sigma = (f.sum_sq / f.n_res as f64).sqrt();
        Ok(f)
    }
}

impl FittedNaive {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        // the last value is an observation: finite and >= 0
        state_ensure(self.last.is_finite() && self.last >= 0.0, || {
            format!("last value {}", self.last)
        })?;
        state_ensure(self.sum_sq.is_finite() && self.sum_sq >= 0.0, || {
            format!("sum of squares {}", self.sum_sq)
        })?;
        state_ensure(self.n_res >= 1, || "no residual behind the scale".into())
    }
}

impl Fitted for FittedNaive {
    fn name(&self) -> &'static str {
        "naive"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        for (h, (m, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            *m = self.last;
            *s = self.info.sigma * ((h + 1) as f64).sqrt();
        }
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for &v in y {
            self.info.n_obs = self.info.n_obs.saturating_add(1);
            if v.is_nan() {
                continue;
            }
            self.sum_sq += (v - self.last).powi(2);
            self.n_res = self.n_res.saturating_add(1);
            self.last = v;
        }
        self.info.sigma = (self.sum_sq / self.n_res as f64).sqrt();
        Ok(())
    }
}

/// The value one season ago: `ŷ(T+h) = y(T+h−m·(⌊(h−1)/m⌋+1))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonalNaive {
    /// Season length m in steps (24 for hourly data with a daily cycle).
    pub season_length: usize,
}

impl SeasonalNaive {
    /// A seasonal naive model with season length `m` (checked by `fit`).
    pub fn new(season_length: usize) -> Self {
        SeasonalNaive { season_length }
    }

    /// Checks the settings: a season of at least 2 steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a shorter season.
    pub fn validate(&self) -> Result<()> {
        crate::check::at_least("season length", self.season_length, 2, "steps").map(|_| ())
    }
}

/// A fitted [`SeasonalNaive`] model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedSeasonalNaive {
    m: usize,
    /// The last m values as a ring; `season[pos]` is the oldest.
    season: Vec<f64>,
    pos: usize,
    sum_sq: f64,
    n_res: usize,
    info: FitInfo,
}

/// Checks a season length against the history: `2 <= m` and `m + 1 <= n` (a seasonal model
/// needs at least one full season plus one point to measure its error).
pub(crate) fn check_season(m: usize, n: usize) -> Result<()> {
    SeasonalNaive::new(m).validate()?;
    if n <= m {
        return Err(Error::NotEnoughData {
            needed: m.saturating_add(1),
            got: n,
            what: format!("a seasonal model with season length {m} (one season plus one point)"),
        });
    }
    Ok(())
}

impl Forecaster for SeasonalNaive {
    type Fitted = FittedSeasonalNaive;
    fn fit(&self, y: &[f64]) -> Result<FittedSeasonalNaive> {
        let m = self.season_length;
        check_season(m, y.len())?;
        let (y, n_filled) = prepare(y, m + 1, "a seasonal naive model")?;
        Ok(self.fit_prepared(&y, n_filled))
    }
}

impl SeasonalNaive {
    /// The fit on values already through [`prepare`] (gap-free, checked, longer than the
    /// season), `n_filled` of them filled in.
    pub(crate) fn fit_prepared(&self, y: &[f64], n_filled: usize) -> FittedSeasonalNaive {
        let m = self.season_length;
        let n = y.len();
        let sum_sq = lagged_sum_sq(y, m);
        let n_res = n - m;
        FittedSeasonalNaive {
            m,
            season: y[n - m..].to_vec(),
            pos: 0,
            sum_sq,
            n_res,
            info: FitInfo {
                n_obs: n,
                n_filled,
                sigma: (sum_sq / n_res as f64).sqrt(),
            },
        }
    }
}

impl FittedSeasonalNaive {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        check_ring("seasonal naive", self.m, self.season.len(), self.pos, 2)?;
        // the season holds observations: finite and >= 0
        if let Some(v) = self.season.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(format!("seasonal value {v}"));
        }
        state_ensure(self.sum_sq.is_finite() && self.sum_sq >= 0.0, || {
            format!("sum of squares {}", self.sum_sq)
        })?;
        state_ensure(self.n_res >= 1, || "no residual behind the scale".into())
    }
}

impl Fitted for FittedSeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal_naive"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        for (h, (mu, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            *mu = self.season[(self.pos + h % self.m) % self.m];
            *s = self.info.sigma * ((h / self.m + 1) as f64).sqrt();
        }
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for &v in y {
            let old = self.season[self.pos];
            if !v.is_nan() {
                self.sum_sq += (v - old).powi(2);
                self.n_res = self.n_res.saturating_add(1);
                self.season[self.pos] = v;
            }
            // a missing value keeps last season's value in its slot
            self.pos = (self.pos + 1) % self.m;
            self.info.n_obs = self.info.n_obs.saturating_add(1);
        }
        self.info.sigma = (self.sum_sq / self.n_res as f64).sqrt();
        Ok(())
    }
}

/// The line through the first and last observations, extended:
/// `ŷ(T+h) = y(T) + h·(y(T) − y(1))/(T − 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drift;

/// A fitted [`Drift`] model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedDrift {
    last: f64,
    /// Sum and sum of squares of the first differences, and their count.
    sum_d: f64,
    sum_d2: f64,
    n_d: usize,
    info: FitInfo,
}

impl FittedDrift {
    fn slope(&self) -> f64 {
        self.sum_d / self.n_d as f64
    }
    fn refresh_sigma(&mut self) {
        let c = self.slope();
        // Σ(d − c)² = Σd² − n·c²; one parameter (the slope) is estimated: divide by n − 1.
        let ss = (self.sum_d2 - self.n_d as f64 * c * c).max(0.0);
        self.info.sigma = (ss / (self.n_d - 1) as f64).sqrt();
    }
}

impl Forecaster for Drift {
    type Fitted = FittedDrift;
    fn fit(&self, y: &[f64]) -> Result<FittedDrift> {
        let (y, n_filled) = prepare(y, 3, "the drift model (a slope and its residuals)")?;
        let (mut sum_d, mut sum_d2) = (0.0, 0.0);
        for w in y.windows(2) {
            let d = w[1] - w[0];
            sum_d += d;
            sum_d2 += d * d;
        }
        let mut f = FittedDrift {
            last: y[y.len() - 1],
            sum_d,
            sum_d2,
            n_d: y.len() - 1,
            info: FitInfo {
                n_obs: y.len(),
                n_filled,
                sigma: 0.0,
            },
        };
        f.refresh_sigma();
        Ok(f)
    }
}

impl FittedDrift {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        state_ensure(self.n_d >= 2, || {
            format!("{} differences, the drift needs 2", self.n_d)
        })?;
        let finite = [self.last, self.sum_d, self.sum_d2]
            .iter()
            .all(|v| v.is_finite());
        state_ensure(finite && self.sum_d2 >= 0.0, || {
            format!(
                "last value {}, sums of differences {} and {}",
                self.last, self.sum_d, self.sum_d2
            )
        })
    }
}

impl Fitted for FittedDrift {
    fn name(&self) -> &'static str {
        "drift"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        let c = self.slope();
        let t1 = self.n_d as f64;
        for (i, (m, s)) in mean.iter_mut().zip(sd.iter_mut()).enumerate() {
            let h = (i + 1) as f64;
            *m = self.last + h * c;
            *s = self.info.sigma * (h * (1.0 + h / t1)).sqrt();
        }
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for &v in y {
            // a missing value advances on the forecast: its difference is the slope itself
            let d = if v.is_nan() {
                self.slope()
            } else {
                v - self.last
            };
            self.last += d;
            self.sum_d += d;
            self.sum_d2 += d * d;
            self.n_d = self.n_d.saturating_add(1);
            self.info.n_obs = self.info.n_obs.saturating_add(1);
        }
        self.refresh_sigma();
        Ok(())
    }
}

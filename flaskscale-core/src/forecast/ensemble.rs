//! Combinations of forecasts: [`MultiSeasonalNaive`] (several seasonal naive forecasts averaged)
//! and [`Ensemble`] (any models, combined by mean or median).
//!
//! **Spread.** A combination's sd is taken conservatively: the mean of the members' sds for
//! [`Combine::Mean`] and the median sd for [`Combine::Median`]. The sd of an average of
//! forecasts is at most the average of their sds (equal only when their errors are perfectly
//! correlated), so the mean rule never claims more certainty than the members have; it does not
//! add the members' disagreement, which the backtest-calibrated intervals elsewhere can do.

use super::baseline::{check_season, FittedSeasonalNaive, SeasonalNaive};
use super::contract::{
    check_update, prepare, state_ensure, FitInfo, Fitted, Forecaster, StateCheck,
};
use super::registry::{FittedModel, ModelSpec};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How an [`Ensemble`] combines its members' mean paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The mean of the members' forecasts per step; sd = mean of the members' sds.
    #[default]
    Mean,
    /// The median per step (mean of the two middle ones for an even count); sd = median sd.
    Median,
}

fn combine_into(how: Combine, vals: &mut [f64]) -> f64 {
    match how {
        Combine::Mean => vals.iter().sum::<f64>() / vals.len() as f64,
        Combine::Median => {
            vals.sort_by(|a, b| a.total_cmp(b));
            let k = vals.len();
            if k % 2 == 1 {
                vals[k / 2]
            } else {
                (vals[k / 2 - 1] + vals[k / 2]) / 2.0
            }
        }
    }
}

/// Combines members' predictions step by step.
fn combine_paths<F: Fitted>(members: &[F], how: Combine, mean: &mut [f64], sd: &mut [f64]) {
    let h = mean.len();
    let k = members.len();
    let mut means = vec![0.0; k * h];
    let mut sds = vec![0.0; k * h];
    for (i, m) in members.iter().enumerate() {
        m.predict_mean_sd(&mut means[i * h..(i + 1) * h], &mut sds[i * h..(i + 1) * h]);
    }
    let mut col = vec![0.0; k];
    for step in 0..h {
        for i in 0..k {
            col[i] = means[i * h + step];
        }
        mean[step] = combine_into(how, &mut col);
        for i in 0..k {
            col[i] = sds[i * h + step];
        }
        sd[step] = combine_into(how, &mut col);
    }
}

/// Seasonal naive with several periods: the mean of the single-period seasonal naive forecasts
/// (e.g. `[24, 168]` on hourly data: yesterday's and last week's value at the same hour).
///
/// Why the mean: the daily naive is fresh in level but blind to the weekday/weekend shape, the
/// weekly naive has the right shape but is a week stale; their errors are far from perfectly
/// correlated, so their average usually beats both (forecast combination), and it needs no
/// parameter. The sd is the mean of the members' sds (see the module docs). The single-period
/// [`SeasonalNaive`] is unchanged and is what each member is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiSeasonalNaive {
    /// Season lengths in steps, each >= 2; the history must be longer than the longest.
    pub periods: Vec<usize>,
}

impl MultiSeasonalNaive {
    /// A multi-period seasonal naive model (checked by `fit`).
    pub fn new(periods: Vec<usize>) -> Self {
        MultiSeasonalNaive { periods }
    }

    /// Checks the settings: at least one period, each of at least 2 steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the fault.
    pub fn validate(&self) -> Result<()> {
        if self.periods.is_empty() {
            return Err(Error::param(
                "multi-seasonal naive needs at least one period, got none",
            ));
        }
        for &m in &self.periods {
            SeasonalNaive::new(m).validate()?;
        }
        Ok(())
    }
}

/// A fitted [`MultiSeasonalNaive`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMultiSeasonalNaive {
    members: Vec<FittedSeasonalNaive>,
    info: FitInfo,
}

impl Forecaster for MultiSeasonalNaive {
    type Fitted = FittedMultiSeasonalNaive;
    fn fit(&self, y: &[f64]) -> Result<FittedMultiSeasonalNaive> {
        self.validate()?;
        if let Some(&m) = self.periods.iter().find(|&&m| m >= y.len()) {
            return Err(Error::NotEnoughData {
                needed: m.saturating_add(1),
                got: y.len(),
                what: format!("a seasonal naive model with season length {m}"),
            });
        }
        // gaps are filled once here, not once per member
        let longest = self.periods.iter().copied().max().unwrap_or(0);
        let (y, n_filled) = prepare(y, longest + 1, "a multi-seasonal naive model")?;
        for &m in &self.periods {
            check_season(m, y.len())?;
        }
        let members: Vec<FittedSeasonalNaive> = self
            .periods
            .iter()
            .map(|&m| SeasonalNaive::new(m).fit_prepared(&y, n_filled))
            .collect();
        let mut info = combined_info(&members, Combine::Mean);
        info.n_filled = n_filled;
        Ok(FittedMultiSeasonalNaive { members, info })
    }
}

fn combined_info<F: Fitted>(members: &[F], how: Combine) -> FitInfo {
    let mut sig: Vec<f64> = members.iter().map(|m| m.fit_info().sigma).collect();
    let first = members.first().map(|m| m.fit_info());
    FitInfo {
        n_obs: first.map_or(0, |i| i.n_obs),
        n_filled: first.map_or(0, |i| i.n_filled),
        sigma: if sig.is_empty() {
            0.0
        } else {
            combine_into(how, &mut sig)
        },
    }
}

impl FittedMultiSeasonalNaive {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        state_ensure(!self.members.is_empty(), || "no member".into())?;
        self.members.iter().try_for_each(|m| m.check_state())
    }
}

impl Fitted for FittedMultiSeasonalNaive {
    fn name(&self) -> &'static str {
        "multi_seasonal_naive"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        combine_paths(&self.members, Combine::Mean, mean, sd);
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        check_update(y)?;
        for m in &mut self.members {
            m.update(y)?;
        }
        let n_filled = self.info.n_filled;
        self.info = combined_info(&self.members, Combine::Mean);
        self.info.n_filled = n_filled;
        Ok(())
    }
}

/// Any models fitted to the same history, their forecasts combined per step.
///
/// A member that fails to fit fails the ensemble with that member's error (same variant, the
/// message prefixed with the member's position): an ensemble silently missing a member would
/// not be the model that was asked for. Members may themselves be ensembles.
///
/// ```
/// use flaskscale_core::{Combine, Drift, Ensemble, Fitted, Forecaster, ModelSpec, Naive};
/// let ens = Ensemble::new(vec![ModelSpec::Naive(Naive), ModelSpec::Drift(Drift)], Combine::Mean);
/// let fc = ens.fit(&[1.0, 2.0, 3.0, 4.0, 5.0])?.predict(1, &[])?;
/// assert!((fc.mean[0] - (5.0 + 6.0) / 2.0).abs() < 1e-12); // naive 5, drift 6
/// // as configuration: {"model":"ensemble","members":[{"model":"naive"},{"model":"drift"}],"combine":"mean"}
/// let json = serde_json::to_string(&ModelSpec::Ensemble(ens))?;
/// assert!(json.starts_with(r#"{"model":"ensemble""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// The member models (at least one).
    pub members: Vec<ModelSpec>,
    /// How to combine their forecasts.
    #[serde(default)]
    pub combine: Combine,
}

impl Ensemble {
    /// An ensemble of `members` combined by `combine`.
    pub fn new(members: Vec<ModelSpec>, combine: Combine) -> Self {
        Ensemble { members, combine }
    }

    /// Checks the settings: at least one member, and each member's
    /// ([`ModelSpec::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the fault (and the member).
    pub fn validate(&self) -> Result<()> {
        if self.members.is_empty() {
            return Err(Error::param("ensemble needs at least one member, got none"));
        }
        for (i, m) in self.members.iter().enumerate() {
            m.validate().map_err(|e| member_error(i, e))?;
        }
        Ok(())
    }
}

/// A fitted [`Ensemble`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedEnsemble {
    members: Vec<FittedModel>,
    combine: Combine,
    info: FitInfo,
}

impl FittedEnsemble {
    /// The fitted members, in the order given.
    pub fn members(&self) -> &[FittedModel] {
        &self.members
    }
}

/// The member's error with its position in the message, variant kept.
fn member_error(i: usize, e: Error) -> Error {
    let tag = format!("ensemble member {i}");
    match e {
        Error::InvalidParameter(m) => Error::InvalidParameter(format!("{tag}: {m}")),
        Error::InvalidData(m) => Error::InvalidData(format!("{tag}: {m}")),
        Error::NotEnoughData { needed, got, what } => Error::NotEnoughData {
            needed,
            got,
            what: format!("{tag}: {what}"),
        },
        Error::Fit(m) => Error::Fit(format!("{tag}: {m}")),
        other => other,
    }
}

impl Forecaster for Ensemble {
    type Fitted = FittedEnsemble;
    fn fit(&self, y: &[f64]) -> Result<FittedEnsemble> {
        self.validate()?;
        // validate once here so the error is not blamed on member 0
        let (_, n_filled) = prepare(y, 1, "an ensemble")?;
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| m.fit(y).map_err(|e| member_error(i, e)))
            .collect::<Result<Vec<_>>>()?;
        let mut info = combined_info(&members, self.combine);
        info.n_obs = y.len();
        info.n_filled = n_filled;
        Ok(FittedEnsemble {
            members,
            combine: self.combine,
            info,
        })
    }
}

impl FittedEnsemble {
    /// See [`FittedModel::check_state`](super::FittedModel::check_state).
    pub(crate) fn check_state(&self) -> StateCheck {
        state_ensure(!self.members.is_empty(), || "no member".into())?;
        self.members.iter().try_for_each(|m| m.state())
    }
}

impl Fitted for FittedEnsemble {
    fn name(&self) -> &'static str {
        "ensemble"
    }
    fn fit_info(&self) -> &FitInfo {
        &self.info
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        combine_paths(&self.members, self.combine, mean, sd);
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        // checked up front so that no member is advanced when another would refuse
        check_update(y)?;
        for (i, m) in self.members.iter_mut().enumerate() {
            m.update(y).map_err(|e| member_error(i, e))?;
        }
        let n_obs = self.info.n_obs.saturating_add(y.len());
        let n_filled = self.info.n_filled;
        self.info = combined_info(&self.members, self.combine);
        self.info.n_obs = n_obs;
        self.info.n_filled = n_filled;
        Ok(())
    }
}

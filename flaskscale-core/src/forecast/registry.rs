//! The model registry: [`ModelSpec`] and [`FittedModel`], one serialisable enum over every
//! model for callers that choose the model at run time (the autoscaler, the bindings,
//! configuration files), with the run-time fit, the saved-state check and the delegation of the
//! [`Fitted`] methods. The only module that names every model.

use super::auto::{AutoForecaster, FittedAuto};
use super::baseline::{Drift, FittedDrift, FittedNaive, FittedSeasonalNaive, Naive, SeasonalNaive};
use super::contract::{FitInfo, Fitted, Forecast, Forecaster, StateCheck};
use super::ensemble::{Ensemble, FittedEnsemble, FittedMultiSeasonalNaive, MultiSeasonalNaive};
use super::ets::{FittedHoltWinters, HoltWinters};
use super::fourier::{FittedFourierRegression, FourierRegression};
use super::linear::{FittedLinearTrend, LinearTrend};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Any model's settings, chosen at run time. Serialises as `{"model": "seasonal_naive", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelSpec {
    /// [`Naive`].
    Naive(Naive),
    /// [`SeasonalNaive`].
    SeasonalNaive(SeasonalNaive),
    /// [`Drift`].
    Drift(Drift),
    /// [`AutoForecaster`] (its candidates cannot be auto forecasters themselves).
    Auto(AutoForecaster),
    /// [`LinearTrend`].
    LinearTrend(LinearTrend),
    /// [`FourierRegression`].
    FourierRegression(FourierRegression),
    /// [`MultiSeasonalNaive`].
    MultiSeasonalNaive(MultiSeasonalNaive),
    /// [`Ensemble`] (its members are `ModelSpec`s again).
    Ensemble(Ensemble),
    /// [`HoltWinters`].
    HoltWinters(HoltWinters),
}

/// Any fitted model; see [`ModelSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FittedModel {
    /// [`FittedNaive`].
    Naive(FittedNaive),
    /// [`FittedSeasonalNaive`].
    SeasonalNaive(FittedSeasonalNaive),
    /// [`FittedDrift`].
    Drift(FittedDrift),
    /// [`FittedAuto`].
    Auto(Box<FittedAuto>),
    /// [`FittedLinearTrend`].
    LinearTrend(FittedLinearTrend),
    /// [`FittedFourierRegression`].
    FourierRegression(FittedFourierRegression),
    /// [`FittedMultiSeasonalNaive`].
    MultiSeasonalNaive(FittedMultiSeasonalNaive),
    /// [`FittedEnsemble`].
    Ensemble(FittedEnsemble),
    /// [`FittedHoltWinters`].
    HoltWinters(FittedHoltWinters),
}

impl ModelSpec {
    /// Checks the chosen model's settings without data: what its `fit` checks first, so a
    /// spec can be refused where it is made (a constructor, a configuration file, a saved
    /// autoscaler) rather than at its first fit. An auto forecaster's candidates are checked
    /// too.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the fault.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelSpec::Naive(_) | ModelSpec::Drift(_) => Ok(()),
            ModelSpec::SeasonalNaive(m) => m.validate(),
            ModelSpec::Auto(m) => {
                m.validate()?;
                for (i, c) in m.candidates.iter().flatten().enumerate() {
                    c.validate().map_err(|e| match e {
                        Error::InvalidParameter(s) => {
                            Error::InvalidParameter(format!("auto forecaster candidate {i}: {s}"))
                        }
                        other => other,
                    })?;
                }
                Ok(())
            }
            ModelSpec::LinearTrend(m) => m.validate(),
            ModelSpec::FourierRegression(m) => m.validate(),
            ModelSpec::MultiSeasonalNaive(m) => m.validate(),
            ModelSpec::Ensemble(m) => m.validate(),
            ModelSpec::HoltWinters(m) => m.validate(),
        }
    }

    /// Fits the chosen model; see [`Forecaster::fit`].
    ///
    /// # Errors
    /// As the chosen model's `fit`.
    pub fn fit(&self, y: &[f64]) -> Result<FittedModel> {
        Ok(match self {
            ModelSpec::Naive(m) => FittedModel::Naive(m.fit(y)?),
            ModelSpec::SeasonalNaive(m) => FittedModel::SeasonalNaive(m.fit(y)?),
            ModelSpec::Drift(m) => FittedModel::Drift(m.fit(y)?),
            ModelSpec::Auto(m) => FittedModel::Auto(Box::new(m.fit(y)?)),
            ModelSpec::LinearTrend(m) => FittedModel::LinearTrend(m.fit(y)?),
            ModelSpec::FourierRegression(m) => FittedModel::FourierRegression(m.fit(y)?),
            ModelSpec::MultiSeasonalNaive(m) => FittedModel::MultiSeasonalNaive(m.fit(y)?),
            ModelSpec::Ensemble(m) => FittedModel::Ensemble(m.fit(y)?),
            ModelSpec::HoltWinters(m) => FittedModel::HoltWinters(m.fit(y)?),
        })
    }
}

macro_rules! delegate {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            FittedModel::Naive($m) => $e,
            FittedModel::SeasonalNaive($m) => $e,
            FittedModel::Drift($m) => $e,
            FittedModel::Auto($m) => $e,
            FittedModel::LinearTrend($m) => $e,
            FittedModel::FourierRegression($m) => $e,
            FittedModel::MultiSeasonalNaive($m) => $e,
            FittedModel::Ensemble($m) => $e,
            FittedModel::HoltWinters($m) => $e,
        }
    };
}

impl FittedModel {
    /// Checks a fitted state that did not come from fitting (a saved file, a restored
    /// autoscaler): the shapes, positions and parameter ranges that fitting establishes and
    /// forecasting relies on — a season ring as long as its season, coefficient vectors as
    /// long as the design, smoothing parameters in [0, 1], members present. A state that fails
    /// is refused as a whole, so a corrupted or edited file cannot panic or forecast garbage
    /// later. Values themselves are not judged: a fitted state may hold very large numbers.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the model and what is wrong.
    pub fn check_state(&self) -> Result<()> {
        self.state().map_err(|what| {
            Error::parse(
                0,
                format!(
                    "saved {} model does not match its format: {what}",
                    self.name()
                ),
            )
        })
    }

    pub(crate) fn state(&self) -> StateCheck {
        delegate!(self, m => m.check_state())
    }

    /// Reads a fitted model from JSON (as `serde_json` writes it) and checks it with
    /// [`FittedModel::check_state`].
    ///
    /// # Errors
    /// [`Error::Parse`] for text that is not a fitted model or a state that fails the check.
    ///
    /// ```
    /// use flaskscale_core::forecast::{Fitted, FittedModel, ModelSpec, SeasonalNaive};
    /// let f = ModelSpec::SeasonalNaive(SeasonalNaive::new(3)).fit(&[1.0, 2.0, 3.0, 1.0]).unwrap();
    /// let text = serde_json::to_string(&f).unwrap();
    /// assert_eq!(FittedModel::from_json(&text).unwrap(), f);
    /// let edited = text.replace("\"m\":3", "\"m\":0");
    /// assert!(FittedModel::from_json(&edited).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let f: FittedModel = serde_json::from_str(text).map_err(|e| Error::Parse {
            line: e.line(),
            message: format!("not a fitted model: {e}"),
        })?;
        f.check_state()?;
        Ok(f)
    }
}

impl Fitted for FittedModel {
    fn name(&self) -> &'static str {
        delegate!(self, m => m.name())
    }
    fn fit_info(&self) -> &FitInfo {
        delegate!(self, m => m.fit_info())
    }
    fn predict_mean_sd(&self, mean: &mut [f64], sd: &mut [f64]) {
        delegate!(self, m => m.predict_mean_sd(mean, sd))
    }
    fn update(&mut self, y: &[f64]) -> Result<()> {
        delegate!(self, m => m.update(y))
    }
    fn predict_into_with(
        &self,
        horizon: usize,
        levels: &[f64],
        nonnegative: bool,
        out: &mut Forecast,
    ) -> Result<()> {
        delegate!(self, m => m.predict_into_with(horizon, levels, nonnegative, out))
    }
}

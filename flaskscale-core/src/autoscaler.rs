//! The stateful [`Autoscaler`]: a bounded history of load per step, a forecasting model refitted
//! on a schedule and updated online in between, and a [`PredictivePolicy`] with the HPA's
//! stabilization and rate-limit state. Everything saves to and restores from versioned JSON,
//! and a restored autoscaler makes bit-identical decisions.
//!
//! Per step (`step_seconds`), [`Autoscaler::observe`] adds observations (per-step totals or
//! single events) to the step they fall in. A step is complete once time has passed its end
//! (a later observation or a [`Autoscaler::recommend`] call); a complete step without any
//! observation is missing (or zero, with [`EmptySteps::Zero`], for event counting). Each
//! complete step is appended to the history and fed to the fitted model's online update.
//!
//! [`Autoscaler::recommend`] refits when `refit_every` steps have passed (or no model is fitted
//! yet), forecasts the lead window and decides. The warm-up chain: while the history is too
//! short for the configured model, a seasonal naive model (season `warmup_season`) decides if
//! it can, else the reactive HPA alone — with reason [`Reason::WarmUp`]. A failed fit or a
//! missing last observation gives [`Reason::FailSafe`]: the reactive path, or the count held.

use crate::check;
use crate::error::{Error, Result};
use crate::forecast::{Fitted, FittedModel, Forecast, ModelSpec, SeasonalNaive, MAX_HORIZON};
use crate::policy::count::{
    recent_predictions, Calibration, Prediction, ScaleUpWindow, Sized, MAX_PHASE_PERIOD,
};
use crate::policy::{Decision, ForecastInput, PredictiveConfig, PredictivePolicy, Reason, Sizing};
use crate::series::CleanCache;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::Path;

/// The saved-state format name and the newest version this build reads and writes.
pub const STATE_FORMAT: &str = "flaskscale-autoscaler";
/// See [`STATE_FORMAT`].
pub const STATE_VERSION: u32 = 1;

/// What a complete step with no observation means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptySteps {
    /// Missing (the default, for per-step totals that a collector reports every step).
    #[default]
    Missing,
    /// Zero (for single events: no request in a step means no load).
    Zero,
}

fn default_history() -> usize {
    20_160
}
fn default_refit() -> usize {
    60
}

/// Settings of an [`Autoscaler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalerConfig {
    /// Length of one step of the history, seconds (> 0).
    pub step_seconds: f64,
    /// The forecasting model.
    pub model: ModelSpec,
    /// The scaling policy.
    pub policy: PredictiveConfig,
    /// Steps of history kept (>= 2; default 20,160: two weeks of minutes).
    #[serde(default = "default_history")]
    pub max_history: usize,
    /// Refit the model every this many complete steps (>= 1; default 60).
    #[serde(default = "default_refit")]
    pub refit_every: usize,
    /// Season of the warm-up seasonal naive model, in steps (default: one day of steps when
    /// that is at least 2).
    #[serde(default)]
    pub warmup_season: Option<usize>,
    /// What a complete step without observations means.
    #[serde(default)]
    pub empty_steps: EmptySteps,
    /// Before each fit, replace values far from the same time of the surrounding days
    /// ([`crate::series::clean_seasonal_outliers`] with the warm-up season, 3 days each side,
    /// 4 robust sigmas), so a flash crowd is not replayed as a daily pattern. Default on.
    #[serde(default = "default_clean")]
    pub clean_outliers: bool,
}

fn default_clean() -> bool {
    true
}

impl AutoscalerConfig {
    /// Settings with the defaults for everything but the step, model and policy.
    pub fn new(step_seconds: f64, model: ModelSpec, policy: PredictiveConfig) -> Self {
        AutoscalerConfig {
            step_seconds,
            model,
            policy,
            max_history: default_history(),
            refit_every: default_refit(),
            warmup_season: None,
            empty_steps: EmptySteps::Missing,
            clean_outliers: true,
        }
    }

    /// The model an autoscaler forecasts with when none is chosen: the
    /// [`AutoForecaster`](crate::forecast::AutoForecaster) with its defaults.
    pub fn default_model() -> ModelSpec {
        ModelSpec::Auto(crate::forecast::AutoForecaster::default())
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field, as [`ModelSpec::validate`] for the model
    /// and as [`PredictiveConfig::validate`].
    pub fn validate(&self) -> Result<()> {
        check::positive("step_seconds", self.step_seconds)?;
        // a step is decided on at its end: one longer than the longest lead is no schedule
        if self.step_seconds > crate::policy::MAX_LEAD_SECONDS {
            return Err(Error::param(format!(
                "step_seconds must be at most {} (a week), got {}",
                crate::policy::MAX_LEAD_SECONDS,
                self.step_seconds
            )));
        }
        if self.max_history < 2 {
            return Err(Error::param(format!(
                "max_history must be >= 2 steps, got {}",
                self.max_history
            )));
        }
        if self.refit_every == 0 {
            return Err(Error::param("refit_every must be >= 1 step, got 0"));
        }
        if let Some(m) = self.warmup_season {
            if m < 2 {
                return Err(Error::param(format!(
                    "warmup_season must be >= 2 steps, got {m}"
                )));
            }
        }
        self.model.validate()?;
        self.policy.validate()
    }

    fn warmup_season(&self) -> Option<usize> {
        self.warmup_season
            .or_else(|| check::steps_per_day(self.step_seconds))
    }
}

/// Which model the autoscaler currently forecasts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStage {
    /// No model: the reactive HPA decides.
    Reactive,
    /// The warm-up seasonal naive model.
    WarmUp,
    /// The configured model.
    Full,
}

/// Seasonal neighbours on each side that the cleaning before a fit compares a value with.
const CLEAN_SEASONS: usize = crate::series::OUTLIER_SEASONS;
/// Robust standard deviations beyond which the cleaning replaces a value.
const CLEAN_SIGMAS: f64 = crate::series::OUTLIER_SIGMAS;

/// The last forecast and what it was made from: the grid index one past the newest step, the
/// fit counter and the steps ahead. An online update or a refit changes the first or second,
/// so a key that matches means the same model state. Not part of the state, like
/// [`CleanCache`].
#[derive(Debug, Clone, Default)]
struct ForecastCache {
    key: Option<(u64, u64, usize)>,
    forecast: Option<Forecast>,
}

/// The recent load of the floor at the grid index one past the newest step (see
/// `Autoscaler::recent_load`). Not part of the state, like [`CleanCache`].
#[derive(Debug, Clone, Default)]
struct RecentCache {
    end: Option<u64>,
    load: Option<f64>,
}

/// The count sizing's recent predictions for the history ending at grid index `key.0` over
/// the steps `key.1..=key.2` ahead (see `Autoscaler::recent_predictions`): a step's
/// calibration and the decisions within it ask for the same windows (the lead window, and
/// with [`ScaleUpWindow::Ready`] the part of it a new replica serves: two entries, the
/// newer first). Not part of the state.
#[derive(Debug, Clone, Default)]
struct PredictionsCache {
    entries: [Option<CachedPredictions>; 2],
}

/// One entry of the [`PredictionsCache`]: the key, and the level, trend and ramp.
type CachedPredictions = ((u64, u64, u64), [Prediction; 3]);

/// What a decision at `now` takes from an autoscaler's history, model and calibration: all
/// of it but the replica count and the policy's own state (its HPA's windows and last
/// decisions). Autoscalers whose settings differ only in the reactive target, fed the same
/// observations, prepare the same inputs at the same times; a replay of many such settings
/// (the frontier's sweep) prepares them once and lets each setting's policy decide on them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecisionInputs {
    pub now: f64,
    /// The newest complete step's load, per second (`NaN` when missing or none).
    pub load: f64,
    pub recent: Option<f64>,
    pub sized: Option<Sized>,
    pub status: Option<(Reason, String)>,
    /// Start of the forecast's step 0 when the model gave a forecast (it is in the cache).
    forecast_start: Option<f64>,
}

/// The autoscaler; see the [module docs](self). Two autoscalers are `==` when their saved
/// states are (the caches, rebuilt on demand, are not compared).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Autoscaler {
    config: AutoscalerConfig,
    policy: PredictivePolicy,
    /// Start of step 0 of the grid (set by the first observation).
    origin: Option<f64>,
    /// Grid index of `history[0]`.
    first_index: u64,
    #[serde(with = "crate::nan_serde::seq")]
    history: VecDeque<f64>,
    /// The step still open: its index, sum of observations, and whether any was known.
    open: Option<(u64, f64, bool)>,
    fitted: Option<FittedModel>,
    stage: ModelStage,
    steps_since_fit: usize,
    last_fit_error: Option<String>,
    n_fits: u64,
    /// The count sizing's record of each predictor's errors (empty without it).
    #[serde(default)]
    calibration: Calibration,
    /// The same over the part of the lead window a replica asked for now can serve
    /// ([`ScaleUpWindow::Ready`]; empty otherwise).
    #[serde(default)]
    calibration_up: Calibration,
    #[serde(skip)]
    clean_cache: CleanCache,
    #[serde(skip)]
    forecast_cache: ForecastCache,
    #[serde(skip)]
    recent_cache: RecentCache,
    #[serde(skip)]
    predictions_cache: PredictionsCache,
}

impl PartialEq for Autoscaler {
    fn eq(&self, other: &Self) -> bool {
        // every saved field, by name, so a new field cannot be forgotten here
        let Autoscaler {
            config,
            policy,
            origin,
            first_index,
            history,
            open,
            fitted,
            stage,
            steps_since_fit,
            last_fit_error,
            n_fits,
            calibration,
            calibration_up,
            clean_cache: _,
            forecast_cache: _,
            recent_cache: _,
            predictions_cache: _,
        } = self;
        *config == other.config
            && *policy == other.policy
            && *origin == other.origin
            && *first_index == other.first_index
            && history.len() == other.history.len()
            && history
                .iter()
                .zip(&other.history)
                .all(|(a, b)| crate::nan_serde::same(*a, *b))
            && *open == other.open
            && *fitted == other.fitted
            && *stage == other.stage
            && *steps_since_fit == other.steps_since_fit
            && *last_fit_error == other.last_fit_error
            && *n_fits == other.n_fits
            && *calibration == other.calibration
            && *calibration_up == other.calibration_up
    }
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    format: String,
    version: u32,
    autoscaler: Autoscaler,
}

impl Autoscaler {
    /// A new autoscaler with validated settings and no history.
    ///
    /// # Errors
    /// As [`AutoscalerConfig::validate`].
    pub fn new(config: AutoscalerConfig) -> Result<Self> {
        config.validate()?;
        let policy = PredictivePolicy::new(config.policy.clone())?;
        Ok(Autoscaler {
            config,
            policy,
            origin: None,
            first_index: 0,
            history: VecDeque::new(),
            open: None,
            fitted: None,
            stage: ModelStage::Reactive,
            steps_since_fit: 0,
            last_fit_error: None,
            n_fits: 0,
            calibration: Calibration::default(),
            calibration_up: Calibration::default(),
            clean_cache: CleanCache::default(),
            forecast_cache: ForecastCache::default(),
            recent_cache: RecentCache::default(),
            predictions_cache: PredictionsCache::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &AutoscalerConfig {
        &self.config
    }

    /// The complete steps kept, oldest first (`NaN` = missing).
    pub fn history(&self) -> Vec<f64> {
        self.history.iter().copied().collect()
    }

    /// Start time of the oldest kept step, if any.
    pub fn history_start(&self) -> Option<f64> {
        self.origin
            .map(|o| o + self.first_index as f64 * self.config.step_seconds)
    }

    /// Which model forecasts now.
    pub fn stage(&self) -> ModelStage {
        self.stage
    }

    /// The fitted model, if any.
    pub fn model(&self) -> Option<&FittedModel> {
        self.fitted.as_ref()
    }

    /// The last fit error, if the last fit failed.
    pub fn last_fit_error(&self) -> Option<&str> {
        self.last_fit_error.as_deref()
    }

    /// How many fits were made.
    pub fn n_fits(&self) -> u64 {
        self.n_fits
    }

    fn index_of(&self, t: f64) -> Result<u64> {
        let step = self.config.step_seconds;
        let origin = self
            .origin
            .unwrap_or_else(|| crate::time::slot_start(t, step));
        let k = ((t - origin) / step).floor();
        if !(0.0..=9.0e15).contains(&k) {
            return Err(Error::data(format!(
                "time {t} lies before the autoscaler's first step ({origin}) or absurdly far after it"
            )));
        }
        Ok(k as u64)
    }

    /// Adds an observation at time `t` (UTC seconds): a per-step total or a count of events,
    /// summed into the step `t` falls in. `NaN` marks a missing observation.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a non-finite `t`, a negative or infinite value, or time going
    /// backwards (an observation for a step already complete). Nothing changes on error.
    pub fn observe(&mut self, t: f64, value: f64) -> Result<()> {
        check::timestamp("time", t)?;
        check::observation("observations", value)?;
        let k = self.index_of(t)?;
        if let Some((open, _, _)) = self.open {
            if k < open {
                return Err(Error::data(format!(
                    "time went backwards: {t} falls in a step that is already complete"
                )));
            }
        } else if self.origin.is_some() && k < self.first_index + self.history.len() as u64 {
            return Err(Error::data(format!(
                "time went backwards: {t} falls in a step that is already complete"
            )));
        }
        if self.origin.is_none() {
            let step = self.config.step_seconds;
            self.origin = Some(crate::time::slot_start(t, step));
        }
        self.close_before(k);
        let (known, add) = if value.is_nan() {
            (false, 0.0)
        } else {
            (true, value)
        };
        match &mut self.open {
            Some((_, sum, seen)) => {
                *sum += add;
                *seen |= known;
            }
            None => self.open = Some((k, add, known)),
        }
        Ok(())
    }

    /// Completes every step before grid index `k` (the open one and any skipped ones).
    fn close_before(&mut self, k: u64) {
        if let Some((open, sum, seen)) = self.open {
            if open >= k {
                return;
            }
            self.fill_empty_until(open);
            self.push_step(if seen { sum } else { f64::NAN });
            self.open = None;
        }
        if self.origin.is_some() {
            self.fill_empty_until(k);
        }
    }

    /// Appends empty steps up to (not including) grid index `target`. A gap longer than the
    /// whole history starts the history over at `target` (nothing of it would be kept, and a
    /// model advanced through it would forecast from stale state).
    fn fill_empty_until(&mut self, target: u64) {
        let next = self.first_index + self.history.len() as u64;
        if target <= next {
            return;
        }
        let gap = target - next;
        if gap > self.config.max_history as u64 {
            self.history.clear();
            self.calibration.clear();
            self.calibration_up.clear();
            self.clean_cache = CleanCache::default();
            self.first_index = target;
            self.fitted = None;
            self.stage = ModelStage::Reactive;
            self.last_fit_error = None;
            return;
        }
        for _ in 0..gap {
            self.push_step(self.empty_value());
        }
    }

    fn empty_value(&self) -> f64 {
        match self.config.empty_steps {
            EmptySteps::Missing => f64::NAN,
            EmptySteps::Zero => 0.0,
        }
    }

    fn push_step(&mut self, v: f64) {
        self.history.push_back(v);
        if self.history.len() > self.config.max_history {
            self.history.pop_front();
            self.first_index += 1;
        }
        self.steps_since_fit += 1;
        if let Some(f) = &mut self.fitted {
            if let Err(e) = f.update(&[v]) {
                self.last_fit_error = Some(format!("online update failed: {e}"));
                self.fitted = None;
                self.stage = ModelStage::Reactive;
            }
        }
        if self.config.policy.sizing == Sizing::Count {
            self.calibrate();
        }
    }

    /// Steps of the lead window of a decision at the start of a step, beyond that step.
    fn lead_steps(&self) -> u64 {
        let l = (self.config.policy.lead_seconds() / self.config.step_seconds).floor();
        l.clamp(0.0, MAX_HORIZON as f64 - 1.0) as u64
    }

    /// The level, trend and last predictions `h_from..=h_to` steps ahead of the newest step.
    fn recent_predictions(&mut self, h_from: u64, h_to: u64) -> [Prediction; 3] {
        // the history only grows at its end, so its end index and the window name the answer
        let key = (self.first_index + self.history.len() as u64, h_from, h_to);
        let cache = &mut self.predictions_cache.entries;
        if let Some((_, p)) = cache.iter().flatten().find(|(k, _)| *k == key) {
            return *p;
        }
        let predictions = self.compute_recent_predictions(h_from, h_to);
        let cache = &mut self.predictions_cache.entries;
        cache[1] = cache[0].take();
        cache[0] = Some((key, predictions));
        predictions
    }

    fn compute_recent_predictions(&self, h_from: u64, h_to: u64) -> [Prediction; 3] {
        let step = self.config.step_seconds;
        let k = ((self.config.policy.count.recent_seconds / step).ceil() as usize)
            .max(3)
            .min(self.history.len());
        let (a, b) = self.history.as_slices();
        let n = self.history.len();
        let recent: Vec<f64> = if b.len() >= k {
            b[b.len() - k..].to_vec()
        } else {
            a[a.len() - (k - b.len())..]
                .iter()
                .chain(b)
                .copied()
                .collect()
        };
        debug_assert_eq!(recent.len(), k.min(n));
        let short = (self.config.policy.count.short_seconds / step).ceil() as usize;
        recent_predictions(&recent, short.max(1), h_from, h_to)
    }

    /// The count sizing's bookkeeping when a step completes: the predictions whose window
    /// has now passed get their error, and each predictor predicts the window of a decision
    /// at the start of the next step.
    fn calibrate(&mut self) {
        let Some(g) = (self.first_index + self.history.len() as u64).checked_sub(1) else {
            return;
        };
        let (first_index, cfg) = (self.first_index, &self.config.policy.count);
        let history = &self.history;
        let q = self.config.policy.quantile;
        let window_peak = |a: u64, b: u64| {
            let lo = usize::try_from(a.checked_sub(first_index)?).ok()?;
            let hi = usize::try_from(b.checked_sub(first_index)?).ok()?;
            let mut peak = f64::NEG_INFINITY;
            for i in lo..=hi {
                let v = *history.get(i)?;
                if v.is_nan() {
                    return None;
                }
                peak = peak.max(v);
            }
            Some(peak)
        };
        self.calibration.resolve(g, q, cfg, window_peak);
        let ready = self.ready_steps();
        if ready.is_some() {
            self.calibration_up.resolve(g, q, cfg, window_peak);
        }
        let l = self.lead_steps();
        let fc = self
            .fitted
            .as_ref()
            .and_then(|f| f.predict(l as usize + 1, &[]).ok());
        // the model's highest mean from `from` steps after the next one to the window's end
        let model = |from: u64| {
            let fc = fc.as_ref()?;
            let peak = fc
                .mean
                .iter()
                .skip(from as usize)
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            peak.is_finite().then_some(peak.max(0.0))
        };
        let [level, trend, ramp] = self.recent_predictions(1, l + 1);
        let count = &self.config.policy.count;
        let phase = self.phase_of(g + 1, count.phase_seconds);
        let day_phase = self.phase_of(g + 1, count.day_phase_seconds);
        let peak = self.recent_peak();
        self.calibration.predict(
            g + 1,
            g + 1 + l,
            [model(0), level, trend, ramp, level, peak, level],
            q,
            &self.config.policy.count,
            phase,
            day_phase,
        );
        if let Some(s) = ready {
            let [level, trend, ramp] = self.recent_predictions(s + 1, l + 1);
            self.calibration_up.predict(
                g + 1 + s,
                g + 1 + l,
                [model(s), level, trend, ramp, level, peak, level],
                q,
                &self.config.policy.count,
                phase,
                day_phase,
            );
        }
    }

    /// With [`ScaleUpWindow::Ready`], the steps after the start of a decision's step until a
    /// replica asked for then is ready (`floor(startup / step)`, within the lead window);
    /// `None` without it or when that is no step (the two windows are then the same).
    fn ready_steps(&self) -> Option<u64> {
        let policy = &self.config.policy;
        if policy.count.scale_up_window != ScaleUpWindow::Ready {
            return None;
        }
        let s = (policy.startup_seconds / self.config.step_seconds).floor() as u64;
        (s > 0).then_some(s.min(self.lead_steps()))
    }

    /// The highest known count of the last `peak_seconds` of history; `None` when that is
    /// less than two steps (one step's peak is only the last value, which the other
    /// predictors already cover).
    fn recent_peak(&self) -> Prediction {
        let k = (self.config.policy.count.peak_seconds / self.config.step_seconds).ceil() as usize;
        if k < 2 {
            return None;
        }
        let peak = self
            .history
            .iter()
            .rev()
            .take(k)
            .filter(|v| !v.is_nan())
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        peak.is_finite().then_some(peak)
    }

    /// The phase of grid step `k` in a cycle of `cycle` seconds (the count sizing's
    /// `phase_seconds` or `day_phase_seconds`) and the cycle's length in steps, `None` when
    /// the cycle is shorter than two steps.
    fn phase_of(&self, k: u64, cycle: f64) -> Option<(u32, u32)> {
        let step = self.config.step_seconds;
        let period = (cycle / step).round();
        if !(2.0..=f64::from(MAX_PHASE_PERIOD)).contains(&period) {
            return None;
        }
        let t = self.origin? + k as f64 * step;
        let phase = (t.rem_euclid(cycle) / step).floor() as u32 % period as u32;
        Some((phase, period as u32))
    }

    /// Refits now if a refit is due (or no model is fitted), walking the warm-up chain.
    fn maybe_refit(&mut self) -> Option<(Reason, String)> {
        let due = self.fitted.is_none() || self.steps_since_fit >= self.config.refit_every;
        if !due {
            return match self.stage {
                ModelStage::WarmUp => Some((
                    Reason::WarmUp,
                    "warm-up: seasonal naive until the history suffices for the model".into(),
                )),
                _ => None,
            };
        }
        self.steps_since_fit = 0;
        if self.history.is_empty() {
            self.stage = ModelStage::Reactive;
            return Some((Reason::WarmUp, "warm-up: no history yet; reactive".into()));
        }
        let season = self
            .config
            .clean_outliers
            .then(|| self.config.warmup_season())
            .flatten();
        let raw: &[f64] = self.history.make_contiguous();
        let y: &[f64] = match season {
            Some(m) => {
                self.clean_cache
                    .clean(raw, self.first_index, m, CLEAN_SEASONS, CLEAN_SIGMAS)
            }
            None => raw,
        };
        self.n_fits += 1;
        match self.config.model.fit(y) {
            Ok(f) => {
                self.fitted = Some(f);
                self.stage = ModelStage::Full;
                self.last_fit_error = None;
                None
            }
            Err(full_err) => {
                let not_enough = matches!(full_err, Error::NotEnoughData { .. });
                let warm = self
                    .config
                    .warmup_season()
                    .and_then(|m| ModelSpec::SeasonalNaive(SeasonalNaive::new(m)).fit(y).ok());
                let cause = if not_enough {
                    format!("warm-up: {full_err}")
                } else {
                    self.last_fit_error = Some(full_err.to_string());
                    format!("fail-safe: the model failed to fit ({full_err})")
                };
                let reason = if not_enough {
                    Reason::WarmUp
                } else {
                    Reason::FailSafe
                };
                match warm {
                    Some(w) if not_enough => {
                        self.fitted = Some(w);
                        self.stage = ModelStage::WarmUp;
                        Some((reason, format!("{cause}; seasonal naive meanwhile")))
                    }
                    _ => {
                        self.fitted = None;
                        self.stage = ModelStage::Reactive;
                        Some((reason, format!("{cause}; reactive meanwhile")))
                    }
                }
            }
        }
    }

    /// The load (per second) the policy's [`crate::policy::RecentFloor`] asks for: its
    /// quantile of the known steps among the last `ceil(window / step)` (at least one), cached
    /// until the next step completes. `None` without a floor or without a known step there.
    fn recent_load(&mut self) -> Option<f64> {
        let floor = self.config.policy.recent_floor?;
        let end = self.first_index + self.history.len() as u64;
        if self.recent_cache.end != Some(end) {
            let step = self.config.step_seconds;
            let k = ((floor.window_seconds / step).ceil() as usize)
                .max(1)
                .min(self.history.len());
            let mut window: Vec<f64> = self
                .history
                .iter()
                .skip(self.history.len() - k)
                .map(|v| v / step)
                .collect();
            self.recent_cache = RecentCache {
                end: Some(end),
                load: crate::policy::recent_quantile(&mut window, floor.quantile),
            };
        }
        self.recent_cache.load
    }

    /// Decides the replica count at `now` with `current` replicas; see the [module docs](self).
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a non-finite `now` or time going backwards (before the last
    /// decision). A failing model never makes this fail: it is reported in the decision.
    pub fn recommend(&mut self, now: f64, current: u32) -> Result<Decision> {
        let inputs = self.prepare(now)?;
        self.decide_prepared(current, inputs)
    }

    /// Everything [`Autoscaler::recommend`] does at `now` before its policy decides: the
    /// history closed up to `now`, a refit when due, the forecast and the count sizing.
    pub(crate) fn prepare(&mut self, now: f64) -> Result<DecisionInputs> {
        if !now.is_finite() {
            return Err(Error::data(format!("time must be finite, got {now}")));
        }
        self.policy.hpa().check_time(now)?;
        if self.origin.is_some() {
            let k = self.index_of(now)?;
            self.close_before(k);
        }
        let status = self.maybe_refit();
        let recent = self.recent_load();
        let step = self.config.step_seconds;
        let load = self.history.back().map_or(f64::NAN, |v| v / step);
        let end = self
            .history_start()
            .map(|s| s + self.history.len() as f64 * step);
        // the count sizing's lead window, as steps ahead of the newest one (1 = the next),
        // and the recent level and trend over it
        let window = match (self.config.policy.sizing, end) {
            (Sizing::Count, Some(end)) if !self.history.is_empty() => {
                let lead = self.config.policy.lead_seconds();
                let h_from = ((now - end) / step).floor().max(0.0) as u64 + 1;
                let h_to = (((now + lead - end) / step).ceil().max(1.0) as u64).max(h_from);
                let recent = self.recent_predictions(h_from, h_to);
                // the part of it a replica asked for now can serve, from `now + startup`
                let up = self.ready_steps().map(|_| {
                    let startup = self.config.policy.startup_seconds;
                    let h_up = (((now + startup - end) / step).floor().max(0.0) as u64 + 1)
                        .clamp(h_from, h_to);
                    (h_up, self.recent_predictions(h_up, h_to))
                });
                Some((h_from, h_to, recent, self.recent_peak(), up))
            }
            _ => None,
        };
        let forecast = match (&self.fitted, end) {
            (Some(f), Some(end)) => {
                let ahead = ((now + self.config.policy.lead_seconds() - end) / step)
                    .ceil()
                    .clamp(1.0, MAX_HORIZON as f64) as usize;
                // the forecast changes only with a new step or fit: decisions between steps
                // (every sync interval within one step) reuse it
                let key = (
                    self.first_index + self.history.len() as u64,
                    self.n_fits,
                    ahead,
                );
                let cache = &mut self.forecast_cache;
                if cache.key != Some(key) {
                    cache.key = Some(key);
                    cache.forecast = match f.predict(ahead, &[]) {
                        Ok(fc) if fc.mean.iter().all(|v| v.is_finite()) => Some(fc),
                        _ => None,
                    };
                }
                cache.forecast.as_ref().map(|fc| (fc, end))
            }
            _ => None,
        };
        let sized = match (self.config.policy.sizing, end, window) {
            (Sizing::Count, Some(_), Some((h_from, h_to, [level, trend, ramp], peak, up))) => {
                // the model's highest mean over the steps `from..=h_to` ahead
                let model = |from: u64| {
                    forecast.and_then(|(fc, _)| {
                        let n = fc.mean.len() as u64;
                        let peak = (from - 1..h_to.min(n))
                            .map(|i| fc.mean[i as usize])
                            .fold(f64::NEG_INFINITY, f64::max);
                        peak.is_finite().then_some(peak.max(0.0))
                    })
                };
                let (q, cfg) = (self.config.policy.quantile, &self.config.policy.count);
                let sized = self.calibration.size(
                    [model(h_from), level, trend, ramp, level, peak, level],
                    q,
                    cfg,
                    step,
                );
                let scale_up = up.and_then(|(h_up, [level, trend, ramp])| {
                    let predictions = [model(h_up), level, trend, ramp, level, peak, level];
                    let z = self.calibration_up.size(predictions, q, cfg, step)?;
                    Some(z.scale_up.unwrap_or((z.predictor, z.count)))
                });
                sized.map(|z| {
                    if up.is_some() {
                        Sized { scale_up, ..z }
                    } else {
                        z
                    }
                })
            }
            _ => None,
        };
        let status = match (status, &forecast, &self.fitted) {
            (s, Some(_), _) => s,
            (None, None, Some(_)) => Some((
                Reason::FailSafe,
                "the model gave no finite forecast: reactive".into(),
            )),
            (s, _, _) => s,
        };
        Ok(DecisionInputs {
            now,
            load,
            recent,
            sized,
            status,
            forecast_start: forecast.map(|(_, start)| start),
        })
    }

    /// The policy's decision with `current` replicas on what [`Autoscaler::prepare`] gave.
    pub(crate) fn decide_prepared(
        &mut self,
        current: u32,
        inputs: DecisionInputs,
    ) -> Result<Decision> {
        let name = self.fitted.as_ref().map(|f| f.name()).unwrap_or("none");
        let step = self.config.step_seconds;
        let input = inputs.forecast_start.and_then(|start| {
            self.forecast_cache
                .forecast
                .as_ref()
                .map(|forecast| ForecastInput {
                    forecast,
                    step_seconds: step,
                    start,
                    model: name,
                })
        });
        let DecisionInputs {
            now,
            load,
            recent,
            sized,
            status,
            ..
        } = inputs;
        self.policy
            .decide(now, current, load, input, recent, sized, status)
    }

    /// The whole state as versioned JSON text.
    ///
    /// # Errors
    /// [`Error::InvalidData`] if serialisation fails (it does not for valid states).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&SavedState {
            format: STATE_FORMAT.into(),
            version: STATE_VERSION,
            autoscaler: self.clone(),
        })
        .map_err(|e| Error::data(format!("cannot serialise the autoscaler: {e}")))
    }

    /// Restores an autoscaler saved by [`Autoscaler::to_json`].
    ///
    /// # Errors
    /// [`Error::Parse`] for text that is not a saved autoscaler (corrupt, truncated, another
    /// format), a newer version than this build reads, or a fitted model that fails
    /// [`FittedModel::check_state`], settings that do not validate, or a state observing could
    /// not have produced (a negative history value, more history than `max_history`, an open
    /// step before the end of the history, a policy that differs from its settings).
    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Parse {
            line: e.line(),
            message: format!("not a saved autoscaler (corrupt or truncated JSON): {e}"),
        })?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != STATE_FORMAT {
            return Err(Error::parse(
                0,
                format!("not a saved autoscaler: format {format:?}, expected {STATE_FORMAT:?}"),
            ));
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version > STATE_VERSION as u64 || version == 0 {
            return Err(Error::parse(
                0,
                format!(
                    "saved autoscaler version {version} is not readable by this build (reads up to {STATE_VERSION})"
                ),
            ));
        }
        let saved: SavedState = serde_json::from_value(v).map_err(|e| {
            Error::parse(
                0,
                format!("saved autoscaler does not match its format: {e}"),
            )
        })?;
        let mut auto = saved.autoscaler;
        auto.check_loaded()?;
        auto.calibration.restore()?;
        auto.calibration_up.restore()?;
        Ok(auto)
    }

    /// The checks of a state that did not come from this build's own calls (a saved file):
    /// the settings validate as a new autoscaler's would, the policy inside is the one the
    /// settings build, and the history, the open step and the fitted model are what
    /// observing could have produced. Any fault is an [`Error::Parse`] naming it.
    fn check_loaded(&self) -> Result<()> {
        let bad = |what: String| Error::parse(0, format!("saved autoscaler: {what}"));
        let settings = |e: Error| match e {
            Error::InvalidParameter(m) | Error::InvalidData(m) => bad(format!("settings: {m}")),
            other => other,
        };
        self.config.validate().map_err(settings)?;
        if *self.policy.config() != self.config.policy
            || *self.policy.hpa().config() != self.config.policy.hpa
        {
            return Err(bad(
                "the policy does not match the policy settings it was built from".into(),
            ));
        }
        if self.history.len() > self.config.max_history {
            return Err(bad(format!(
                "{} steps of history, more than max_history {}",
                self.history.len(),
                self.config.max_history
            )));
        }
        if let Some((i, v)) = self
            .history
            .iter()
            .enumerate()
            .find(|(_, v)| check::observation("a value", **v).is_err())
        {
            return Err(bad(format!(
                "history value {v} at step {i} (values are finite and >= 0, NaN = missing)"
            )));
        }
        let end = self
            .first_index
            .checked_add(self.history.len() as u64)
            .ok_or_else(|| bad(format!("first step index {} too large", self.first_index)))?;
        match self.origin {
            Some(o) => {
                check::timestamp("the grid origin", o).map_err(settings)?;
                let last = o + end as f64 * self.config.step_seconds;
                check::timestamp("the end of the history", last).map_err(settings)?;
            }
            None if !self.history.is_empty() || self.open.is_some() => {
                return Err(bad("history without a grid origin".into()));
            }
            None => {}
        }
        if let Some((k, sum, _)) = self.open {
            if k < end {
                return Err(bad(format!(
                    "the open step {k} is before the end of the history (step {end})"
                )));
            }
            if !(sum.is_finite() && sum >= 0.0) {
                return Err(bad(format!("the open step holds {sum}")));
            }
        }
        if let Some(f) = &self.fitted {
            f.check_state()?;
        }
        Ok(())
    }

    /// Writes [`Autoscaler::to_json`] to `path` (through a temporary file and a rename, so a
    /// crash never leaves half a file).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_json()?).map_err(|e| Error::io(&tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, &e))
    }

    /// Reads a state written by [`Autoscaler::save`].
    ///
    /// # Errors
    /// [`Error::Io`] naming the path; otherwise as [`Autoscaler::from_json`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        Self::from_json(&text)
    }
}

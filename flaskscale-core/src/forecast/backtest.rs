//! Rolling-origin backtesting: how well would a model have forecast the end of this series, had
//! it been fitted at several points ("origins") in the past?
//!
//! With `n` observations, horizon `h`, `n_origins` origins `k` steps apart (`stride`, default
//! `h`), the last origin is at `n − h` and origin `i` (0 = earliest) is at
//! `o_i = n − h − (n_origins − 1 − i)·k`. At each origin the model is fitted on `y[..o_i]`
//! (or its last `max_train` values) and forecasts `y[o_i..o_i + h]`.
//!
//! Scores (missing actuals are left out and counted, never scored):
//!
//! | score | per origin | pooled over all scored points |
//! |---|---|---|
//! | MASE | MAE / scale, scale = in-sample MAE of the seasonal naive forecast with period `season_length` on that origin's training part ([`crate::metrics::naive_scale`]) | mean of \|e\|/scale |
//! | sMAPE | [`crate::metrics::smape`] | mean |
//! | RMSE | [`crate::metrics::rmse`] | √mean(e²) |
//! | pinball | [`crate::metrics::pinball`] of [`Forecast::quantile`]`(q)` | mean, and mean of pinball/scale |
//! | coverage | share inside the model's 80% and 95% intervals | share |
//!
//! Pooled scores weigh every scored point the same (an origin with missing actuals weighs less).
//! When the training part is constant at lag `season_length` the scale falls back to lag 1, and
//! when that is 0 too, to 1 (scores in raw units); [`BacktestResult::scale_fallbacks`] counts those
//! origins.

use super::contract::{check_horizon, check_update, normal_bounds, Fitted, Forecast, NONNEGATIVE};
use super::registry::ModelSpec;
use crate::error::{Error, Result};
use crate::metrics;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The interval levels whose coverage a backtest reports.
pub const COVERAGE_LEVELS: [f64; 2] = [0.8, 0.95];

/// Settings of a rolling-origin backtest; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BacktestConfig {
    /// Steps forecast at each origin (>= 1). Default 24.
    pub horizon: usize,
    /// Number of origins (>= 1). Default 5.
    pub n_origins: usize,
    /// Steps between consecutive origins (>= 1); `None` = `horizon` (test windows side by side).
    pub stride: Option<usize>,
    /// Fit on at most this many of the most recent values before each origin (>= 1); `None` =
    /// everything before the origin.
    pub max_train: Option<usize>,
    /// Period m of the seasonal naive forecast whose in-sample MAE scales MASE and the scaled
    /// pinball loss (>= 1; 1 = naive). Default 1.
    pub season_length: usize,
    /// Quantile q of the pinball loss, in (0, 1). Default 0.9.
    pub quantile: f64,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            horizon: 24,
            n_origins: 5,
            stride: None,
            max_train: None,
            season_length: 1,
            quantile: 0.9,
        }
    }
}

impl BacktestConfig {
    /// The default settings with the given horizon.
    pub fn new(horizon: usize) -> Self {
        BacktestConfig {
            horizon,
            ..Self::default()
        }
    }

    /// The stride in use (`stride`, or `horizon` when unset).
    pub fn stride(&self) -> usize {
        self.stride.unwrap_or(self.horizon)
    }

    /// Steps from the earliest origin to the end of the last test window:
    /// `horizon + (n_origins − 1)·stride`.
    pub fn span(&self) -> usize {
        self.horizon.saturating_add(
            self.n_origins
                .saturating_sub(1)
                .saturating_mul(self.stride()),
        )
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a horizon, origin count, stride, `max_train` or season
    /// length of 0, or a quantile outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        check_horizon(self.horizon)?;
        if self.n_origins == 0 {
            return Err(Error::param("n_origins must be >= 1, got 0"));
        }
        if self.stride == Some(0) {
            return Err(Error::param("stride must be >= 1, got 0"));
        }
        if self.max_train == Some(0) {
            return Err(Error::param("max_train must be >= 1, got 0"));
        }
        if self.season_length == 0 {
            return Err(Error::param("backtest season length must be >= 1, got 0"));
        }
        if !(self.quantile > 0.0 && self.quantile < 1.0) {
            return Err(Error::param(format!(
                "quantile must be in (0, 1), got {}",
                self.quantile
            )));
        }
        Ok(())
    }

    /// The origins for a series of `n` values, earliest first, as `(train_start, origin)`.
    ///
    /// # Errors
    /// As [`BacktestConfig::validate`]; [`Error::NotEnoughData`] when the earliest origin would
    /// leave fewer than 2 training values.
    pub fn origins(&self, n: usize) -> Result<Vec<(usize, usize)>> {
        self.validate()?;
        let needed = self.span().saturating_add(2);
        if n < needed {
            return Err(Error::NotEnoughData {
                needed,
                got: n,
                what: format!(
                    "a backtest with {} origins, stride {} and horizon {} (plus 2 training values)",
                    self.n_origins,
                    self.stride(),
                    self.horizon
                ),
            });
        }
        let last = n - self.horizon;
        Ok((0..self.n_origins)
            .map(|i| {
                let o = last - (self.n_origins - 1 - i) * self.stride();
                let start = self.max_train.map_or(0, |w| o.saturating_sub(w));
                (start, o)
            })
            .collect())
    }
}

/// Accuracy scores over a set of scored points; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Mean absolute scaled error.
    pub mase: f64,
    /// Symmetric MAPE in percent (0 to 200).
    pub smape: f64,
    /// Root mean squared error, in the series' units.
    pub rmse: f64,
    /// Pinball loss of the `q`-quantile forecast, in the series' units.
    pub pinball: f64,
    /// Pinball loss divided by the MASE scale (comparable across series).
    pub scaled_pinball: f64,
    /// Share of actuals inside the 80% interval.
    pub coverage_80: f64,
    /// Share of actuals inside the 95% interval.
    pub coverage_95: f64,
    /// Number of points scored.
    pub n_scored: usize,
}

/// One origin of a backtest: where it is, what was forecast, how it scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginResult {
    /// First training index.
    pub train_start: usize,
    /// The origin: index of the first forecast step (training is `train_start..origin`).
    pub origin: usize,
    /// The MASE scale of this origin's training part.
    pub scale: f64,
    /// Actual values of the test window (`NaN` = missing).
    pub actual: Vec<f64>,
    /// Point forecast per step.
    pub mean: Vec<f64>,
    /// Predictive standard deviation per step.
    pub sd: Vec<f64>,
    /// Lower and upper bounds of the 80% and 95% intervals, in the order of
    /// [`COVERAGE_LEVELS`].
    pub bounds: [(Vec<f64>, Vec<f64>); 2],
    /// Scores over the known actuals; `None` when every actual in the window is missing.
    pub scores: Option<Scores>,
    /// Missing actuals in the window (excluded from the scores).
    pub n_missing: usize,
}

/// The outcome of [`backtest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    /// The settings used.
    pub config: BacktestConfig,
    /// Scores pooled over every scored point of every origin.
    pub summary: Scores,
    /// Per origin, earliest first.
    pub origins: Vec<OriginResult>,
    /// Per horizon step (index 0 = one step ahead), the errors `actual − mean` at each origin
    /// whose actual at that step is known.
    pub residuals: Vec<Vec<f64>>,
    /// Missing actuals across all test windows (excluded from every score).
    pub n_missing: usize,
    /// Origins whose MASE scale fell back to lag 1 or to 1 (constant training part).
    pub scale_fallbacks: usize,
}

/// Backtests `spec` on `y` with rolling origins; see the [module docs](self).
///
/// # Errors
/// As [`BacktestConfig::origins`]; the model's `fit` error at the first origin where it fails;
/// [`Error::Fit`] when a forecast is not finite; [`Error::InvalidData`] for a negative or
/// infinite value in `y` or when every actual in the test windows is missing.
///
/// ```
/// use flaskscale_core::forecast::{backtest, BacktestConfig};
/// use flaskscale_core::{ModelSpec, Naive};
/// let y: Vec<f64> = (0..50).map(|t| (t % 7) as f64 + 10.0).collect();
/// let r = backtest(&ModelSpec::Naive(Naive), &y, &BacktestConfig::new(3))?;
/// assert_eq!(r.origins.len(), 5);
/// assert_eq!(r.origins[4].origin, 47);
/// # Ok::<(), flaskscale_core::Error>(())
/// ```
pub fn backtest(spec: &ModelSpec, y: &[f64], cfg: &BacktestConfig) -> Result<BacktestResult> {
    let origins = cfg.origins(y.len())?;
    check_update(y)?;
    let forecasts = origins
        .par_iter()
        .map(|&(start, o)| -> Result<OriginForecast> {
            let fitted = spec.fit(&y[start..o])?;
            let fc = fitted.predict(cfg.horizon, &COVERAGE_LEVELS)?;
            let bounds = interval_bounds(&fc);
            Ok((start, o, fc.mean, fc.sd, bounds))
        })
        .collect::<Result<Vec<_>>>()?;
    score(y, cfg, forecasts)
}

pub(crate) fn interval_bounds(fc: &Forecast) -> [(Vec<f64>, Vec<f64>); 2] {
    COVERAGE_LEVELS.map(|l| match fc.interval(l) {
        Some(i) => (i.lower.clone(), i.upper.clone()),
        None => normal_bounds(&fc.mean, &fc.sd, l),
    })
}

/// A forecast made at one origin: `(train_start, origin, mean, sd, bounds)`.
pub(crate) type OriginForecast = (usize, usize, Vec<f64>, Vec<f64>, [(Vec<f64>, Vec<f64>); 2]);

/// The MASE scale of each origin's training part (the same for every model backtested at
/// those origins), with whether it fell back; see [`score_with`].
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginScales(Vec<(usize, usize, f64, bool)>);

impl OriginScales {
    /// The scales of the training parts `y[start..o]` of `origins` at lag `m`.
    pub(crate) fn new(y: &[f64], origins: &[(usize, usize)], m: usize) -> Self {
        OriginScales(
            origins
                .iter()
                .map(|&(start, o)| {
                    let (s, fell_back) = scale_of(&y[start..o], m);
                    (start, o, s, fell_back)
                })
                .collect(),
        )
    }

    /// The scale of `y[start..o]` at lag `m`: the one kept, or computed (the same value).
    fn get(&self, y: &[f64], start: usize, o: usize, m: usize) -> (f64, bool) {
        match self.0.iter().find(|t| t.0 == start && t.1 == o) {
            Some(&(_, _, s, fell_back)) => (s, fell_back),
            None => scale_of(&y[start..o], m),
        }
    }
}

/// Scores forecasts made at the given origins against `y` (shared by [`backtest`] and the
/// combinations of the auto forecaster).
pub(crate) fn score(
    y: &[f64],
    cfg: &BacktestConfig,
    forecasts: Vec<OriginForecast>,
) -> Result<BacktestResult> {
    score_with(y, cfg, forecasts, &OriginScales::default())
}

/// [`score`] with the MASE scales of the origins already computed (`scales`, for the
/// season length of `cfg`): the auto forecaster scores every candidate at the same origins.
pub(crate) fn score_with(
    y: &[f64],
    cfg: &BacktestConfig,
    forecasts: Vec<OriginForecast>,
    scales: &OriginScales,
) -> Result<BacktestResult> {
    let h = cfg.horizon;
    let q = cfg.quantile;
    let mut origins = Vec::with_capacity(forecasts.len());
    let mut residuals = vec![Vec::with_capacity(forecasts.len()); h];
    let (mut n_missing, mut scale_fallbacks) = (0usize, 0usize);
    // pooled sums, each weighted by the origin's scored count
    let mut pooled = Scores {
        mase: 0.0,
        smape: 0.0,
        rmse: 0.0,
        pinball: 0.0,
        scaled_pinball: 0.0,
        coverage_80: 0.0,
        coverage_95: 0.0,
        n_scored: 0,
    };
    for (start, o, mean, sd, bounds) in forecasts {
        let finite = mean.iter().chain(&sd).all(|v| v.is_finite());
        let lengths_ok = mean.len() == h
            && sd.len() == h
            && bounds.iter().all(|(lo, hi)| lo.len() == h && hi.len() == h);
        if !finite || !lengths_ok {
            return Err(Error::Fit(format!(
                "the forecast at origin {o} is not finite or not {h} steps long"
            )));
        }
        let (scale, fell_back) = scales.get(y, start, o, cfg.season_length);
        scale_fallbacks += usize::from(fell_back);
        let actual = y[o..o + h].to_vec();
        let quant: Vec<f64> = Forecast {
            mean: mean.clone(),
            sd: sd.clone(),
            intervals: Vec::new(),
            nonnegative: NONNEGATIVE,
        }
        .quantile(q)?;
        let known: Vec<usize> = (0..h).filter(|&i| !actual[i].is_nan()).collect();
        for &i in &known {
            residuals[i].push(actual[i] - mean[i]);
        }
        let missing = h - known.len();
        n_missing += missing;
        let pick = |v: &[f64]| known.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let scores = if known.is_empty() {
            None
        } else {
            let (a, m) = (pick(&actual), pick(&mean));
            let pin = metrics::pinball(&a, &pick(&quant), q)?;
            let s = Scores {
                mase: metrics::mae(&a, &m)? / scale,
                smape: metrics::smape(&a, &m)?,
                rmse: metrics::rmse(&a, &m)?,
                pinball: pin,
                scaled_pinball: pin / scale,
                coverage_80: metrics::coverage(&a, &pick(&bounds[0].0), &pick(&bounds[0].1))?,
                coverage_95: metrics::coverage(&a, &pick(&bounds[1].0), &pick(&bounds[1].1))?,
                n_scored: known.len(),
            };
            let w = known.len() as f64;
            pooled.mase += w * s.mase;
            pooled.smape += w * s.smape;
            pooled.rmse += w * s.rmse * s.rmse;
            pooled.pinball += w * s.pinball;
            pooled.scaled_pinball += w * s.scaled_pinball;
            pooled.coverage_80 += w * s.coverage_80;
            pooled.coverage_95 += w * s.coverage_95;
            pooled.n_scored += known.len();
            Some(s)
        };
        origins.push(OriginResult {
            train_start: start,
            origin: o,
            scale,
            actual,
            mean,
            sd,
            bounds,
            scores,
            n_missing: missing,
        });
    }
    if pooled.n_scored == 0 {
        return Err(Error::data(format!(
            "every actual in the backtest windows is missing ({n_missing} values): nothing to score"
        )));
    }
    let n = pooled.n_scored as f64;
    pooled.mase /= n;
    pooled.smape /= n;
    pooled.rmse = (pooled.rmse / n).sqrt();
    pooled.pinball /= n;
    pooled.scaled_pinball /= n;
    pooled.coverage_80 /= n;
    pooled.coverage_95 /= n;
    Ok(BacktestResult {
        config: cfg.clone(),
        summary: pooled,
        origins,
        residuals,
        n_missing,
        scale_fallbacks,
    })
}

/// The MASE scale of `train` at lag `m`, falling back to lag 1 and then to 1; the flag says
/// whether it fell back.
fn scale_of(train: &[f64], m: usize) -> (f64, bool) {
    if let Ok(s) = metrics::naive_scale(train, m) {
        return (s, false);
    }
    if m > 1 {
        if let Ok(s) = metrics::naive_scale(train, 1) {
            return (s, true);
        }
    }
    (1.0, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Naive, SeasonalNaive};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Hand-worked backtest of the naive model (σ̂·√h intervals) on
    /// y = [1, 2, 4, 3, 5, 6, 8, 7], horizon 2, 2 origins, stride 2, m = 1, q = 0.9
    /// (Φ⁻¹(0.9) = 1.2815516, Φ⁻¹(0.975) = 1.9599640; products checked with Python's
    /// `statistics.NormalDist`).
    ///
    /// Origin 4: train [1,2,4,3], test [5,6]. Differences 1,2,−1: σ̂ = √(6/3) = √2; forecast 3, 3
    /// with sd √2, 2. Errors 2, 3 → MAE 2.5; scale mean|Δ| = 4/3 → MASE 1.875.
    /// q-quantiles 3 + 1.2815516·(√2, 2) = 4.8123876, 5.5631031; pinball
    /// 0.9·0.1876124 = 0.1688512 and 0.9·0.4368969 = 0.3932072. 80%: ±1.8123876, ±2.5631031 →
    /// 5 and 6 both outside (0/2). 95%: ±2.7718076, ±3.9199280 → both inside (2/2).
    ///
    /// Origin 6: train [1,2,4,3,5,6], test [8,7]. Differences 1,2,−1,2,1: σ̂ = √(11/5) =
    /// 1.4832397; forecast 6, 6 with sd 1.4832397, 2.0976177. Errors 2, 1 → MAE 1.5; scale
    /// 7/5 → MASE 1.0714286. q-quantiles 7.9008482, 8.6882052; pinball 0.9·0.0991518 =
    /// 0.0892367 and 0.1·1.6882052 = 0.1688205. 80%: [4.0991518, 7.9008482] misses 8,
    /// [3.3117948, 8.6882052] holds 7 (1/2). 95%: ±2.9070964, ±4.1112551 → both inside.
    ///
    /// Pooled: MASE (2·1.875 + 2·1.0714286)/4 = 1.4732143; pinball (0.1688512 + 0.3932072 +
    /// 0.0892367 + 0.1688205)/4 = 0.2050289; coverage 80% 1/4, 95% 1; RMSE √((4+9+4+1)/4) =
    /// √4.5; residuals per step [2, 2], [3, 1].
    #[test]
    fn hand_worked_naive_backtest() {
        let y = [1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 8.0, 7.0];
        let cfg = BacktestConfig {
            horizon: 2,
            n_origins: 2,
            ..BacktestConfig::default()
        };
        let r = backtest(&ModelSpec::Naive(Naive), &y, &cfg).unwrap();
        assert_eq!(r.origins.len(), 2);
        assert_eq!((r.origins[0].train_start, r.origins[0].origin), (0, 4));
        assert_eq!((r.origins[1].train_start, r.origins[1].origin), (0, 6));
        let o0 = r.origins[0].scores.as_ref().unwrap();
        let o1 = r.origins[1].scores.as_ref().unwrap();
        assert!(close(r.origins[0].scale, 4.0 / 3.0, 1e-12));
        assert!(close(o0.mase, 1.875, 1e-12));
        assert!(close(o1.mase, 1.071_428_6, 1e-7));
        assert!(close(o0.pinball, (0.168_851_2 + 0.393_207_2) / 2.0, 1e-7));
        assert!(close(o1.pinball, (0.089_236_7 + 0.168_820_5) / 2.0, 1e-7));
        assert_eq!((o0.coverage_80, o0.coverage_95), (0.0, 1.0));
        assert_eq!((o1.coverage_80, o1.coverage_95), (0.5, 1.0));
        let s = &r.summary;
        assert_eq!(s.n_scored, 4);
        assert!(close(s.mase, 1.473_214_3, 1e-7));
        assert!(close(s.pinball, 0.205_028_9, 1e-7));
        assert!(close(s.rmse, 4.5f64.sqrt(), 1e-12));
        assert_eq!((s.coverage_80, s.coverage_95), (0.25, 1.0));
        assert_eq!(r.residuals, vec![vec![2.0, 2.0], vec![3.0, 1.0]]);
        assert_eq!((r.n_missing, r.scale_fallbacks), (0, 0));
    }

    /// The same series with the actual 6 (index 5) missing: origin 4 scores only the 5 (error
    /// 2, MASE 2/(4/3) = 1.5) and counts the gap. Origin 6 trains on [1,2,4,3,5,NaN]: the model
    /// fills the trailing gap flat (last value 5, forecasts 5, 5, errors 3, 2, MAE 2.5) while the
    /// scale skips the pairs with the gap (|Δ| = 1,2,1,2 → 1.5): MASE 2.5/1.5.
    #[test]
    fn missing_actuals_are_counted_not_scored() {
        let y = [1.0, 2.0, 4.0, 3.0, 5.0, f64::NAN, 8.0, 7.0];
        let cfg = BacktestConfig {
            horizon: 2,
            n_origins: 2,
            ..BacktestConfig::default()
        };
        let r = backtest(&ModelSpec::Naive(Naive), &y, &cfg).unwrap();
        assert_eq!(r.n_missing, 1);
        assert_eq!(r.origins[0].n_missing, 1);
        let o0 = r.origins[0].scores.as_ref().unwrap();
        assert_eq!(o0.n_scored, 1);
        assert!(close(o0.mase, 1.5, 1e-12));
        assert!(close(r.origins[1].scale, 1.5, 1e-12));
        let o1 = r.origins[1].scores.as_ref().unwrap();
        assert!(close(o1.mase, 2.5 / 1.5, 1e-12));
        assert_eq!(r.summary.n_scored, 3);
        assert!(close(r.summary.mase, (1.5 + 2.0 * 2.5 / 1.5) / 3.0, 1e-12));
        assert_eq!(r.residuals, vec![vec![2.0, 3.0], vec![2.0]]);
    }

    #[test]
    fn stride_and_max_train_place_the_windows() {
        let y: Vec<f64> = (0..30).map(|t| (t * t % 11) as f64).collect();
        let cfg = BacktestConfig {
            horizon: 3,
            n_origins: 4,
            stride: Some(2),
            max_train: Some(10),
            season_length: 2,
            ..BacktestConfig::default()
        };
        let r = backtest(&ModelSpec::SeasonalNaive(SeasonalNaive::new(2)), &y, &cfg).unwrap();
        let got: Vec<(usize, usize)> = r
            .origins
            .iter()
            .map(|o| (o.train_start, o.origin))
            .collect();
        assert_eq!(got, vec![(11, 21), (13, 23), (15, 25), (17, 27)]);
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let y: Vec<f64> = (0..40).map(f64::from).collect();
        let spec = ModelSpec::Naive(Naive);
        let bad = [
            BacktestConfig::new(0),
            BacktestConfig {
                n_origins: 0,
                ..BacktestConfig::default()
            },
            BacktestConfig {
                quantile: 1.0,
                ..BacktestConfig::default()
            },
            BacktestConfig {
                quantile: 0.0,
                ..BacktestConfig::default()
            },
            BacktestConfig {
                stride: Some(0),
                ..BacktestConfig::default()
            },
        ];
        for cfg in bad {
            assert!(
                matches!(backtest(&spec, &y, &cfg), Err(Error::InvalidParameter(_))),
                "{cfg:?}"
            );
        }
        // 5 origins of 24 steps need 122 values
        assert!(matches!(
            backtest(&spec, &y, &BacktestConfig::default()),
            Err(Error::NotEnoughData {
                needed: 122,
                got: 40,
                ..
            })
        ));
        let mut neg = y.clone();
        neg[3] = -1.0;
        assert!(matches!(
            backtest(&spec, &neg, &BacktestConfig::new(2)),
            Err(Error::InvalidData(_))
        ));
        // squares that overflow give an infinite sd: an error, not a score
        let huge: Vec<f64> = (0..20)
            .map(|t| if t % 2 == 0 { 1e300 } else { 0.0 })
            .collect();
        assert!(matches!(
            backtest(&spec, &huge, &BacktestConfig::new(2)),
            Err(Error::Fit(_))
        ));
        let mut gone = y.clone();
        for v in &mut gone[30..] {
            *v = f64::NAN;
        }
        assert!(matches!(
            backtest(&spec, &gone, &BacktestConfig::new(2)),
            Err(Error::InvalidData(_))
        ));
    }
}

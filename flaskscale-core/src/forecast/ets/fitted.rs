//! A fitted Holt-Winters model: its state after the last observation, the forecast (mean and
//! class-1 or simulated sd), the online update and the check of a loaded state.

use super::recursion::{observe, Smooth};
use super::{HoltWintersParams, Seasonal, Trend};
use crate::error::{Error, Result};
use crate::forecast::contract::{
    check_ring, check_update, state_ensure, FitInfo, Fitted, StateCheck,
};
use serde::{Deserialize, Serialize};

/// A fitted [`HoltWinters`](super::HoltWinters) model: its state after the last observation, online-updatable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedHoltWinters {
    pub(super) trend: Trend,
    pub(super) seasonal: Seasonal,
    pub(super) m: usize,
    pub(super) alpha: f64,
    pub(super) beta: f64,
    pub(super) gamma: f64,
    pub(super) phi: f64,
    /// Internal units: data divided by `scale`.
    pub(super) scale: f64,
    pub(super) level: f64,
    pub(super) slope: f64,
    /// Seasonal states (length m, 1 without a season); `season[pos]` is used next.
    pub(super) season: Vec<f64>,
    pub(super) pos: usize,
    /// Sum of squared one-step errors (internal units) and their count.
    pub(super) sum_sq: f64,
    pub(super) n_res: usize,
    pub(super) params: Box<HoltWintersParams>,
    pub(super) info: FitInfo,
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

    /// The smoothing parameters.
    fn smooth(&self) -> Smooth {
        Smooth {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
        }
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
    /// See [`FittedModel::check_state`](crate::forecast::FittedModel::check_state).
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
            let j = self.pos;
            let sj = self.season[j];
            let yhat = self.point(1, self.phi);
            // a missing value advances on the one-step forecast: no error term
            let e = if v.is_nan() {
                0.0
            } else {
                v / self.scale - yhat
            };
            let (l, b, s) = observe(self.seasonal, self.smooth(), self.level, self.slope, sj, e);
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
                self.n_res = self.n_res.saturating_add(1);
            }
            self.pos = if j + 1 == self.m { 0 } else { j + 1 };
            self.info.n_obs = self.info.n_obs.saturating_add(1);
        }
        self.info.sigma = (self.sum_sq / self.n_res as f64).sqrt() * self.scale;
        Ok(())
    }
}

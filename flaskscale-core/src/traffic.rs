//! A seeded generator of synthetic request traffic: daily and weekly cycles, a trend, Poisson
//! noise, flash crowds and outages. The same [`TrafficSpec`] (seed included) gives the same
//! [`Series`] on every run and platform that shares the floating-point `exp`/`ln`/`cos` of the
//! Rust standard library.
//!
//! The expected rate at time `t` (seconds since the trace start, `d = t / 86400`) is
//! ```text
//! rate(t) = base_rate × (1 + trend_per_day × d)
//!         × (1 + daily_amplitude × cos(2π (hour_of_day(t) − daily_peak_hour) / 24))
//!         × (weekend_factor on Saturdays and Sundays (UTC), else 1)
//!         × Π flash-crowd multipliers
//! ```
//! The count of a step is Poisson with mean `rate(mid-step) × step` (or exactly that mean,
//! rounded to the nearest integer, without noise). Outages are **gaps**: their steps are `NaN`
//! (missing), as a monitoring system that was down would record them, not zero.
//!
//! Random numbers come from xoshiro256** seeded by splitmix64. Poisson sampling uses inversion
//! (sequential search) for means below 10 and Hörmann's PTRS transformed rejection (1993) for
//! larger means; both are exact samplers.
//!
//! ```
//! use flaskscale_core::traffic::{generate, FlashCrowd, TrafficSpec};
//! let mut spec = TrafficSpec::new(0.0, 60.0, 1440, 5.0);
//! spec.flash_crowds.push(FlashCrowd { start: 43_200.0, duration: 3600.0, multiplier: 4.0, ramp: 600.0 });
//! let s = generate(&spec)?;
//! assert_eq!(s.len(), 1440);
//! assert_eq!(s, generate(&spec)?); // seeded: the same every time
//! # Ok::<(), flaskscale_core::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::series::Series;
use serde::{Deserialize, Serialize};

/// splitmix64: seeds the main generator (and is a fine generator on its own).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The xoshiro256** pseudo-random generator (Blackman and Vigna), seeded through splitmix64.
/// Small, fast and reproducible; not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform number in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal draw (Box–Muller on two uniforms in (0, 1)).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // in (0, 1]: ln is finite
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A Poisson-distributed count with mean `lambda` (0 for a mean that is not finite and > 0).
    /// Inversion below a mean of 10, PTRS above.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if !(lambda.is_finite() && lambda > 0.0) {
            return 0;
        }
        if lambda < 10.0 {
            self.poisson_inversion(lambda)
        } else {
            self.poisson_ptrs(lambda)
        }
    }

    fn poisson_inversion(&mut self, lambda: f64) -> u64 {
        let u = self.uniform();
        let mut p = (-lambda).exp();
        let mut f = p;
        let mut k = 0u64;
        // the tail beyond k = 200 has probability < 1e-150 for lambda < 10; the cap only
        // guards against rounding keeping f below u forever
        while u > f && k < 200 {
            k += 1;
            p *= lambda / k as f64;
            f += p;
        }
        k
    }

    /// PTRS (Hörmann, "The transformed rejection method for generating Poisson random
    /// variables", Insurance: Mathematics and Economics 12, 1993), valid for lambda >= 10.
    fn poisson_ptrs(&mut self, lambda: f64) -> u64 {
        let slam = lambda.sqrt();
        let loglam = lambda.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.uniform() - 0.5;
            let v = self.uniform();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
            if us >= 0.07 && v <= vr {
                return k as u64;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            let lhs = v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln();
            let rhs = -lambda + k * loglam - ln_factorial(k);
            if lhs <= rhs {
                return k as u64;
            }
        }
    }
}

/// `ln(k!)`: exact summation below 20, Stirling's series above (error < 1e-13).
fn ln_factorial(k: f64) -> f64 {
    if k < 20.0 {
        let mut s = 0.0;
        let mut i = 2.0;
        while i <= k {
            s += f64::ln(i);
            i += 1.0;
        }
        s
    } else {
        let k2 = k * k;
        (k + 0.5) * k.ln() - k + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * k)
            - 1.0 / (360.0 * k * k2)
            + 1.0 / (1260.0 * k2 * k2 * k)
    }
}

/// A flash crowd: from `start` (seconds after the trace start) for `duration` seconds the rate
/// is multiplied by `multiplier`, reached by a linear ramp over `ramp` seconds at the start and
/// left by one at the end (the ramps lie inside the duration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlashCrowd {
    /// Seconds after the trace start.
    pub start: f64,
    /// Length in seconds (> 0).
    pub duration: f64,
    /// Rate multiplier at full strength (>= 0).
    pub multiplier: f64,
    /// Length of each linear ramp in seconds (0 = a jump; at most half the duration).
    pub ramp: f64,
}

impl FlashCrowd {
    /// The multiplier at `t` seconds after the trace start (1 outside the crowd).
    pub fn factor(&self, t: f64) -> f64 {
        let x = t - self.start;
        if x < 0.0 || x >= self.duration {
            return 1.0;
        }
        let edge = x.min(self.duration - x);
        let w = if self.ramp > 0.0 {
            (edge / self.ramp).min(1.0)
        } else {
            1.0
        };
        1.0 + (self.multiplier - 1.0) * w
    }
}

/// An outage of the data: steps whose midpoint lies in `[start, start + duration)` seconds
/// after the trace start are missing (`NaN`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// Seconds after the trace start.
    pub start: f64,
    /// Length in seconds (> 0).
    pub duration: f64,
}

/// Everything that fixes a synthetic trace. See the [module docs](self) for the formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficSpec {
    /// Seed of the random stream.
    pub seed: u64,
    /// Start of the first step, UTC seconds (day of week and hour of day are taken from it).
    pub start: f64,
    /// Step in seconds (> 0).
    pub step: f64,
    /// Number of steps (>= 1).
    pub len: usize,
    /// Mean rate in requests per second at the start, before cycles (>= 0).
    pub base_rate: f64,
    /// Relative amplitude of the daily cosine, in [0, 1].
    pub daily_amplitude: f64,
    /// Hour of the day (UTC, [0, 24)) at which the daily cycle peaks.
    pub daily_peak_hour: f64,
    /// Rate multiplier on Saturdays and Sundays (UTC; >= 0; 1 = no weekly cycle).
    pub weekend_factor: f64,
    /// Relative growth per day (linear; the factor is floored at 0).
    pub trend_per_day: f64,
    /// Poisson noise on (`true`) or the rounded expected count (`false`).
    pub poisson_noise: bool,
    /// Flash crowds.
    pub flash_crowds: Vec<FlashCrowd>,
    /// Data outages (gaps).
    pub outages: Vec<Outage>,
}

impl TrafficSpec {
    /// A flat Poisson trace of `len` steps at `base_rate` requests per second, seed 0: no
    /// cycles, trend, flash crowds or outages. Set the fields to add them.
    pub fn new(start: f64, step: f64, len: usize, base_rate: f64) -> Self {
        TrafficSpec {
            seed: 0,
            start,
            step,
            len,
            base_rate,
            daily_amplitude: 0.0,
            daily_peak_hour: 0.0,
            weekend_factor: 1.0,
            trend_per_day: 0.0,
            poisson_noise: true,
            flash_crowds: Vec::new(),
            outages: Vec::new(),
        }
    }

    /// The expected rate (requests per second) at absolute time `t` (UTC seconds).
    pub fn rate_at(&self, t: f64) -> f64 {
        let rel = t - self.start;
        let days = rel / 86_400.0;
        let trend = (1.0 + self.trend_per_day * days).max(0.0);
        let hour = t.rem_euclid(86_400.0) / 3600.0;
        let daily = 1.0
            + self.daily_amplitude
                * (2.0 * std::f64::consts::PI * (hour - self.daily_peak_hour) / 24.0).cos();
        // 1970-01-01 was a Thursday: day index 0 = Thursday, 2 = Saturday, 3 = Sunday
        let dow = (t / 86_400.0).floor().rem_euclid(7.0);
        let weekly = if dow == 2.0 || dow == 3.0 {
            self.weekend_factor
        } else {
            1.0
        };
        let flash: f64 = self.flash_crowds.iter().map(|f| f.factor(rel)).product();
        (self.base_rate * trend * daily * weekly * flash).max(0.0)
    }

    fn validate(&self) -> Result<()> {
        let fin = |name: &str, v: f64, lo: f64| -> Result<()> {
            if v.is_finite() && v >= lo {
                Ok(())
            } else {
                Err(Error::param(format!(
                    "{name} must be finite and >= {lo}, got {v}"
                )))
            }
        };
        crate::check::positive("step", self.step)?;
        if !self.start.is_finite() {
            return Err(Error::param(format!(
                "start must be finite, got {}",
                self.start
            )));
        }
        if self.len == 0 {
            return Err(Error::param("len must be >= 1, got 0"));
        }
        fin("base_rate", self.base_rate, 0.0)?;
        fin("weekend_factor", self.weekend_factor, 0.0)?;
        if !(0.0..=1.0).contains(&self.daily_amplitude) {
            return Err(Error::param(format!(
                "daily_amplitude must be in [0, 1], got {}",
                self.daily_amplitude
            )));
        }
        if !(0.0..24.0).contains(&self.daily_peak_hour) {
            return Err(Error::param(format!(
                "daily_peak_hour must be in [0, 24), got {}",
                self.daily_peak_hour
            )));
        }
        if !self.trend_per_day.is_finite() {
            return Err(Error::param(format!(
                "trend_per_day must be finite, got {}",
                self.trend_per_day
            )));
        }
        for f in &self.flash_crowds {
            if !(f.start.is_finite()
                && f.duration.is_finite()
                && f.duration > 0.0
                && f.multiplier.is_finite()
                && f.multiplier >= 0.0
                && f.ramp.is_finite()
                && f.ramp >= 0.0
                && f.ramp <= f.duration / 2.0)
            {
                return Err(Error::param(format!(
                    "flash crowd needs finite start, duration > 0, multiplier >= 0 and \
                     0 <= ramp <= duration / 2, got {f:?}"
                )));
            }
        }
        for o in &self.outages {
            if !(o.start.is_finite() && o.duration.is_finite() && o.duration > 0.0) {
                return Err(Error::param(format!(
                    "outage needs a finite start and duration > 0, got {o:?}"
                )));
            }
        }
        Ok(())
    }
}

/// Generates the trace `spec` describes (requests per step; outages as `NaN`).
///
/// # Errors
/// [`Error::InvalidParameter`] naming the field for a spec out of range (step not > 0,
/// `len` 0, negative rates or factors, an amplitude outside [0, 1], a peak hour outside
/// [0, 24), a flash crowd or outage with a bad duration or ramp) or an expected count per step
/// above 1e15.
pub fn generate(spec: &TrafficSpec) -> Result<Series> {
    spec.validate()?;
    let mut rng = Rng::new(spec.seed);
    let mut values = Vec::with_capacity(spec.len);
    for i in 0..spec.len {
        let rel_mid = spec.step * (i as f64 + 0.5);
        let mean = spec.rate_at(spec.start + rel_mid) * spec.step;
        if mean.is_nan() || mean > 1e15 {
            return Err(Error::param(format!(
                "expected count per step must be <= 1e15, got {mean} at step {i}"
            )));
        }
        // draw even in outages, so an outage does not shift the rest of the stream
        let count = if spec.poisson_noise {
            rng.poisson(mean) as f64
        } else {
            mean.round()
        };
        let out = spec
            .outages
            .iter()
            .any(|o| rel_mid >= o.start && rel_mid < o.start + o.duration);
        values.push(if out { f64::NAN } else { count });
    }
    Series::new(values, spec.start, spec.step)
}

/// The default dataset `datasets/shop-2w`: two weeks of requests per minute to a web shop,
/// starting Monday 2024-03-04 00:00 UTC, seed 20240304. Base 8 req/s; a daily cycle of
/// amplitude 0.6 peaking at 19:00 UTC; weekends 1.25×; 1 % growth per week; a flash sale on
/// day 10 (Thursday 2024-03-14) from 18:00 UTC for 2 hours at 5× with 15-minute ramps; a
/// 45-minute monitoring outage on day 5 (Saturday) from 03:00 UTC.
pub fn shop_two_weeks_spec() -> TrafficSpec {
    let start = 1_709_510_400.0; // 2024-03-04T00:00:00Z, a Monday
    let mut s = TrafficSpec::new(start, 60.0, 14 * 1440, 8.0);
    s.seed = 20_240_304;
    s.daily_amplitude = 0.6;
    s.daily_peak_hour = 19.0;
    s.weekend_factor = 1.25;
    s.trend_per_day = 0.01 / 7.0;
    s.flash_crowds.push(FlashCrowd {
        start: 10.0 * 86_400.0 + 18.0 * 3600.0,
        duration: 2.0 * 3600.0,
        multiplier: 5.0,
        ramp: 900.0,
    });
    s.outages.push(Outage {
        start: 5.0 * 86_400.0 + 3.0 * 3600.0,
        duration: 45.0 * 60.0,
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_and_xoshiro_match_reference_outputs() {
        // splitmix64 from state 0: the published first output 0xE220A8397B1DCDAF
        let mut st = 0u64;
        assert_eq!(splitmix64(&mut st), 0xE220_A839_7B1D_CDAF);
        // xoshiro256** with state [1, 2, 3, 4]: first output rotl(2·5, 7)·9 = 11520
        let mut r = Rng { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), 11_520);
        assert_eq!(r.next_u64(), 0);
    }

    #[test]
    fn ln_factorial_matches_exact_sums() {
        let exact: f64 = (2..=30).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(30.0) - exact).abs() < 1e-11);
        assert!(
            (ln_factorial(20.0) - (2..=20).map(|i| (i as f64).ln()).sum::<f64>()).abs() < 1e-11
        );
        assert_eq!(ln_factorial(0.0), 0.0);
    }

    /// Mean and variance of the Poisson samplers equal lambda (both branches), within
    /// 5 standard errors over 200,000 draws.
    #[test]
    fn poisson_moments_equal_lambda() {
        let mut rng = Rng::new(7);
        for lambda in [0.3, 4.0, 9.9, 10.0, 55.5, 1e4] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| rng.poisson(lambda) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se_mean = (lambda / n as f64).sqrt();
            assert!(
                (mean - lambda).abs() < 5.0 * se_mean,
                "lambda {lambda}: mean {mean}"
            );
            // var of the sample variance ≈ (mu4 - sigma^4)/n with mu4 = 3λ² + λ
            let se_var = ((2.0 * lambda * lambda + lambda) / n as f64).sqrt();
            assert!(
                (var - lambda).abs() < 5.0 * se_var,
                "lambda {lambda}: var {var}"
            );
        }
    }

    /// The probability mass at a few points matches e^{-λ} λ^k / k! for λ = 25 (PTRS branch).
    #[test]
    fn ptrs_pmf_matches_closed_form() {
        let mut rng = Rng::new(11);
        let lambda = 25.0;
        let n = 400_000;
        let mut counts = vec![0usize; 80];
        for _ in 0..n {
            let k = rng.poisson(lambda) as usize;
            if k < counts.len() {
                counts[k] += 1;
            }
        }
        for k in [15usize, 20, 25, 30, 35] {
            let p = (-lambda + k as f64 * f64::ln(lambda) - ln_factorial(k as f64)).exp();
            let got = counts[k] as f64 / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((got - p).abs() < 5.0 * se, "k {k}: {got} vs {p}");
        }
    }

    #[test]
    fn cycles_flash_crowds_and_outages() {
        let mut spec = TrafficSpec::new(0.0, 60.0, 7 * 1440, 10.0);
        spec.daily_amplitude = 0.5;
        spec.daily_peak_hour = 12.0;
        spec.weekend_factor = 2.0;
        spec.poisson_noise = false;
        spec.flash_crowds.push(FlashCrowd {
            start: 3600.0,
            duration: 1200.0,
            multiplier: 3.0,
            ramp: 300.0,
        });
        spec.outages.push(Outage {
            start: 7200.0,
            duration: 120.0,
        });
        // 1970-01-01 (Thursday) 12:00: 10 × 1.5; Saturday 12:00: × 2; midnight: × 0.5
        assert!((spec.rate_at(43_200.0) - 15.0).abs() < 1e-9);
        assert!((spec.rate_at(2.0 * 86_400.0 + 43_200.0) - 30.0).abs() < 1e-9);
        assert!((spec.rate_at(86_400.0) - 5.0).abs() < 1e-9);
        // flash crowd: half-way up the ramp at 150 s in (factor 2), full at 300 s (factor 3)
        let f = spec.flash_crowds[0];
        assert!((f.factor(3750.0) - 2.0).abs() < 1e-12);
        assert!((f.factor(3900.0) - 3.0).abs() < 1e-12);
        assert_eq!(f.factor(4800.0), 1.0);
        let s = generate(&spec).unwrap();
        assert!(s.values()[120].is_nan() && s.values()[121].is_nan());
        assert!(!s.values()[119].is_nan() && !s.values()[122].is_nan());
        assert_eq!(s.missing(), 2);
        assert!(generate(&TrafficSpec::new(0.0, 0.0, 10, 1.0)).is_err());
    }
}

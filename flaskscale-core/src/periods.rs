//! Seasonal period detection: which cycles (daily, weekly, ...) a load series has, and how
//! strong each is.
//!
//! [`detect_periods`] works on the gap-filled (linear interpolation), linearly detrended
//! series `d` of length `n`:
//!
//! 1. **Periodogram.** `d` is zero-padded to `N`, the power of two ≥ 2n, and transformed by a
//!    real FFT (`realfft`, O(N log N), its plans kept per thread). The strongest local maxima of `|X_k|²` whose period `N/k` lies
//!    in `[2, max_period]` are the candidates (the frequency grid is coarse at long periods, so
//!    a candidate only says "about here").
//! 2. **ACF confirmation.** The autocorrelation comes from the same transform (the inverse FFT
//!    of `|X|²`, exact thanks to the 2n padding), normalised per lag as
//!    `r(L) = (Σ d_t d_{t+L} / (n − L)) / (Σ d_t² / n)`. Around each candidate period `P` the
//!    lag `L₀` in `[0.85P − 1, 1.15P + 1]` with the largest `r̄` is taken, where `r̄` is `r`
//!    averaged over lags `L ± ⌊L/100⌋` (per-minute data have a flat, noisy top around a daily
//!    peak); it must lie inside that range, not on its edge. The period `L` is then refined
//!    within `L₀ ± max(1, L₀/50)` by the mean of `r̄` over its first multiples `kL`, `k ≤ 8`
//!    (a wrong lag drifts further off at each multiple, so this is sharper than `r̄(L)` alone
//!    and less biased by the ACF's decay with lag), and `r̄(L)` must be ≥ `min_strength`.
//!    Candidates landing within 2 % of each other are merged.
//! 3. **Multiples.** A lag that is (within 2 %) a whole multiple `m·S` of a shorter accepted
//!    period `S` is kept only if `r̄` there beats `r̄` at `(m−1)·S` and `(m+1)·S` by more than
//!    `2/√(n − L)` (two standard errors of a white-noise autocorrelation): 168 h is
//!    kept next to 24 h when a week ago resembles now better than six or eight days ago does;
//!    72 h is not.
//!
//! The **strength** of a period is `r̄(L)` clipped to [0, 1]: the correlation of the load with
//! itself one period earlier (for a series that is seasonal pattern plus noise, about the share
//! of variance the pattern explains). White noise gives |r| of order `1/√(n − L)`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One detected seasonal period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedPeriod {
    /// The period in steps (the confirmed autocorrelation peak).
    pub period: usize,
    /// The periodogram peak that led to it, `N/k` steps (coarse for long periods).
    pub spectral_period: f64,
    /// Autocorrelation at `period` (averaged over `period ± period/100`), in [0, 1].
    pub strength: f64,
    /// Share of the detrended series' variance in the periodogram peak (±2 bins), in [0, 1].
    pub power_share: f64,
}

/// The `min_strength` of [`detect_periods`] unless told otherwise: an autocorrelation of 0.2 at
/// the period.
pub const DEFAULT_MIN_STRENGTH: f64 = 0.2;

/// The `max_period` of [`detect_periods`] unless told otherwise for `n` values: half of them
/// (a period must repeat at least twice), at least 2.
pub fn default_max_period(n: usize) -> usize {
    (n / 2).max(2)
}

/// Finds seasonal periods of at most `max_period` steps (and at most half the series) whose
/// autocorrelation is at least `min_strength`; strongest first. See the module docs for the
/// method; [`DEFAULT_MIN_STRENGTH`] is a sensible `min_strength`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `max_period < 2` or `min_strength` outside [0, 1];
/// [`Error::InvalidData`] for an infinite value or no known value;
/// [`Error::NotEnoughData`] for fewer than 8 values.
///
/// ```
/// let y: Vec<f64> = (0..480).map(|t| 10.0 + (t as f64 * std::f64::consts::TAU / 24.0).sin()).collect();
/// let found = flaskscale_core::detect_periods(&y, 200, 0.2).unwrap();
/// assert_eq!(found[0].period, 24);
/// ```
pub fn detect_periods(
    y: &[f64],
    max_period: usize,
    min_strength: f64,
) -> Result<Vec<DetectedPeriod>> {
    if max_period < 2 {
        return Err(Error::param(format!(
            "max period must be >= 2 steps, got {max_period}"
        )));
    }
    if !(0.0..=1.0).contains(&min_strength) {
        return Err(Error::param(format!(
            "min strength must be in [0, 1], got {min_strength}"
        )));
    }
    let n = y.len();
    if n < 8 {
        return Err(Error::NotEnoughData {
            needed: 8,
            got: n,
            what: "period detection".into(),
        });
    }
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| v.is_infinite()) {
        return Err(Error::data(format!(
            "values must be finite (NaN marks a gap), got {v} at index {i}"
        )));
    }
    let mut d = y.to_vec();
    crate::series::interpolate_gaps(&mut d)?;
    detrend(&mut d);
    winsorize(&mut d);
    let var: f64 = d.iter().map(|v| v * v).sum();
    if !(var > 0.0 && var.is_finite()) {
        return Ok(Vec::new());
    }
    let max_p = max_period.min(n / 2);
    if max_p < 2 {
        return Ok(Vec::new());
    }
    let nn = (2 * n).next_power_of_two();
    let (power, ar) = power_and_autocovariance(&d, nn);
    let r0 = ar[0];
    let acf = |lag: usize| -> f64 {
        if lag >= n {
            return 0.0;
        }
        (ar[lag] / (n - lag) as f64) / (r0 / n as f64)
    };
    // the power over the whole circle: bins 1..N/2 stand for their mirror images too
    let total: f64 = power[0] + power[nn / 2] + 2.0 * power[1..nn / 2].iter().sum::<f64>();

    // 1. periodogram candidates: local maxima with period in [2, max_p]
    let k_lo = (nn as f64 / max_p as f64).ceil().max(1.0) as usize;
    let k_hi = nn / 2;
    let mut cands: Vec<(f64, usize)> = (k_lo.max(1)..k_hi)
        .filter(|&k| power[k] > power[k - 1] && power[k] >= power[k + 1])
        .map(|k| (power[k], k))
        .collect();
    cands.sort_by(|a, b| b.0.total_cmp(&a.0));
    cands.truncate(30);

    // 2. ACF confirmation, on the ACF smoothed over ±1 % of the lag (per-minute data have a
    //    flat, noisy top around a daily peak)
    // prefix sums of the ACF make the ±1 % average O(1) per lag
    let mut prefix = vec![0.0; n + 1];
    for lag in 0..n {
        prefix[lag + 1] = prefix[lag] + acf(lag);
    }
    let smooth = |lag: usize| -> f64 {
        let w = lag / 100;
        let a = lag.saturating_sub(w).max(1);
        let b = (lag + w).min(n - 1);
        if a > b {
            return 0.0;
        }
        (prefix[b + 1] - prefix[a]) / (b - a + 1) as f64
    };
    // a period also repeats at its multiples, where a wrong lag drifts further off: score a lag
    // by the mean smoothed ACF over its first few multiples within the series
    let score = |lag: usize| -> f64 {
        let kmax = ((n - 1) / lag).clamp(1, 8);
        (1..=kmax).map(|k| smooth(k * lag)).sum::<f64>() / kmax as f64
    };
    let mut found: Vec<DetectedPeriod> = Vec::new();
    for &(_, k) in &cands {
        let p = nn as f64 / k as f64;
        let lo = ((0.85 * p).floor() as usize).saturating_sub(1).max(2);
        let hi = (((1.15 * p).ceil() as usize) + 1).min(max_p + 1).min(n - 1);
        if hi <= lo + 1 {
            continue;
        }
        // the smoothed ACF must peak inside the range ...
        let mut l0 = lo;
        for lag in lo..=hi {
            if smooth(lag) > smooth(l0) {
                l0 = lag;
            }
        }
        if l0 == lo || l0 == hi || l0 > max_p {
            continue;
        }
        // ... and the lag is then refined within ±2 % of that peak by the multiples score
        let w = (l0 / 50).max(1);
        let mut best = l0;
        for lag in l0.saturating_sub(w).max(2)..=(l0 + w).min(max_p) {
            if score(lag) > score(best) {
                best = lag;
            }
        }
        let r = smooth(best);
        if r < min_strength {
            continue;
        }
        // ... and finally to the lag whose folded profile explains the series best
        let best = refine_by_folding(&d, best, max_p);
        let share = (k.saturating_sub(2)..=(k + 2).min(nn / 2))
            .map(|j| power[j])
            .sum::<f64>()
            * 2.0
            / total;
        // candidates that land within 2 % of one another are the same period
        if let Some(prev) = found
            .iter_mut()
            .find(|f| f.period.abs_diff(best) as f64 <= 0.02 * best as f64)
        {
            if r > prev.strength {
                prev.period = best;
                prev.strength = r.clamp(0.0, 1.0);
                prev.spectral_period = p;
            }
            prev.power_share = prev.power_share.max(share.min(1.0));
            continue;
        }
        found.push(DetectedPeriod {
            period: best,
            spectral_period: p,
            strength: r.clamp(0.0, 1.0),
            power_share: share.min(1.0),
        });
    }

    // 3. a multiple m·S of a shorter accepted period S is a period of its own only if it
    //    repeats better than the neighbouring multiples (m−1)·S and (m+1)·S
    found.sort_by_key(|f| f.period);
    let mut kept: Vec<DetectedPeriod> = Vec::new();
    for f in found {
        let dominated = kept.iter().any(|s| {
            let ratio = f.period as f64 / s.period as f64;
            let m = ratio.round();
            if m < 2.0 || (ratio - m).abs() > 0.02 * m {
                return false;
            }
            let m = m as usize;
            let before = smooth((m - 1) * s.period);
            let after = if (m + 1) * s.period < n - 1 {
                smooth((m + 1) * s.period)
            } else {
                f64::NEG_INFINITY
            };
            // by more than two white-noise standard errors of an autocorrelation at this lag
            let margin = 2.0 / ((n - f.period) as f64).sqrt();
            !(f.strength > before + margin && f.strength > after + margin)
        });
        if !dominated {
            kept.push(f);
        }
    }
    kept.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    Ok(kept)
}

/// Robust standard deviations beyond which a detrended value is clipped before the transform.
const CLIP_SIGMAS: f64 = 4.0;

/// Clips the detrended series at its median ± [`CLIP_SIGMAS`] robust standard deviations
/// (1.4826 × the median absolute deviation): a few surges 10× the level otherwise dominate the
/// periodogram and the autocorrelation, and their spacing (match days every three or four
/// days) is found as a period instead of the daily cycle. A series whose MAD is 0 (mostly
/// constant) is left alone.
fn winsorize(d: &mut [f64]) {
    let mut v = d.to_vec();
    let median = |v: &mut [f64]| -> f64 {
        let k = v.len() / 2;
        *v.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let med = median(&mut v);
    v.iter_mut()
        .zip(d.iter())
        .for_each(|(a, &b)| *a = (b - med).abs());
    let sigma = 1.4826 * median(&mut v);
    if !(sigma > 0.0 && sigma.is_finite()) {
        return;
    }
    let (lo, hi) = (med - CLIP_SIGMAS * sigma, med + CLIP_SIGMAS * sigma);
    d.iter_mut().for_each(|x| *x = x.clamp(lo, hi));
}

/// Most lags on either side [`refine_by_folding`] tries.
const FOLD_REACH: usize = 32;

/// Refines a period to the lag within `p ± max(1, p/50)` (at most [`FOLD_REACH`] steps, at most
/// `max_p`) whose folded profile — the mean of `d` at each phase `t mod L` — explains the most
/// variance, by the adjusted R² `1 − (SS_within/(n − L))/(SS_total/(n − 1))` (phase dispersion
/// minimisation, Stellingwerf 1978). The autocorrelation's peak is pulled off the period by its
/// decay with lag; folding at a lag a few steps off blurs the profile at every cycle instead.
/// (What changes the pattern within the data still moves it: on 3.5 days of 5-minute data
/// that run into a weekend at 1.3× the weekday load, folding finds 292 for 288, the
/// autocorrelation 292 too.)
fn refine_by_folding(d: &[f64], p: usize, max_p: usize) -> usize {
    let n = d.len();
    let reach = (p / 50).clamp(1, FOLD_REACH);
    let mean = d.iter().sum::<f64>() / n as f64;
    let sst: f64 = d.iter().map(|v| (v - mean) * (v - mean)).sum();
    if !(sst > 0.0 && sst.is_finite()) {
        return p;
    }
    let mut sums = Vec::new();
    let mut score = |lag: usize| -> f64 {
        sums.clear();
        sums.resize(lag, 0.0);
        // one whole cycle at a time: the phase is the position in the chunk (no division)
        for cycle in d.chunks(lag) {
            for (s, &v) in sums.iter_mut().zip(cycle) {
                *s += v;
            }
        }
        // phase j is seen once by every cycle that reaches it: ceil((n − j)/lag) times
        let counts = (0..lag).map(|j| n.saturating_sub(j).div_ceil(lag));
        // SS_within = SS_total − Σ_phase count·(phase mean − mean)²
        let between: f64 = sums
            .iter()
            .zip(counts)
            .filter(|(_, c)| *c > 0)
            .map(|(&s, c)| {
                let m = s / c as f64 - mean;
                c as f64 * m * m
            })
            .sum();
        let within = (sst - between).max(0.0);
        1.0 - (within / (n - lag) as f64) / (sst / (n - 1) as f64)
    };
    let lo = p.saturating_sub(reach).max(2);
    let hi = (p + reach).min(max_p).min(n.saturating_sub(2) / 2);
    let mut best = (score(p), p);
    for lag in lo..=hi {
        if lag == p {
            continue;
        }
        let s = score(lag);
        if s > best.0 {
            best = (s, lag);
        }
    }
    best.1
}

/// Subtracts the least-squares line through `(t, d[t])`.
fn detrend(d: &mut [f64]) {
    let n = d.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = d.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in d.iter().enumerate() {
        let x = t as f64 - mx;
        sxy += x * (v - my);
        sxx += x * x;
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    for (t, v) in d.iter_mut().enumerate() {
        *v -= my + b * (t as f64 - mx);
    }
}

thread_local! {
    /// FFT plans by length, kept between calls: detecting periods again on a series of the
    /// same padded length (every refit of an autoscaler) reuses the plan.
    static PLANNER: std::cell::RefCell<realfft::RealFftPlanner<f64>> =
        std::cell::RefCell::new(realfft::RealFftPlanner::new());
}

/// The periodogram `|X_k|²` for `k` in `0..=N/2` of `d` zero-padded to `nn` (even), and the
/// autocovariance sums `Σ_t d_t d_{t+L}` for `L` in `0..nn` (exact for `L < len(d)` when
/// `nn >= 2·len(d)`: the inverse real transform of the power).
fn power_and_autocovariance(d: &[f64], nn: usize) -> (Vec<f64>, Vec<f64>) {
    PLANNER.with(|p| {
        let mut planner = p.borrow_mut();
        let forward = planner.plan_fft_forward(nn);
        let inverse = planner.plan_fft_inverse(nn);
        let mut x = forward.make_input_vec();
        x[..d.len()].copy_from_slice(d);
        let mut spectrum = forward.make_output_vec();
        let mut scratch = forward.make_scratch_vec();
        // lengths come from the plan itself: the transforms cannot fail
        let _ = forward.process_with_scratch(&mut x, &mut spectrum, &mut scratch);
        let power: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
        for (c, &p) in spectrum.iter_mut().zip(&power) {
            *c = realfft::num_complex::Complex::new(p, 0.0);
        }
        let mut ar = inverse.make_output_vec();
        let mut scratch = inverse.make_scratch_vec();
        let _ = inverse.process_with_scratch(&mut spectrum, &mut ar, &mut scratch);
        (power, ar)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the transforms written out: `|Σ_t d_t e^{-2πikt/N}|²` and `Σ_t d_t d_{t+L}`, at
    /// an odd data length and twice over (the second call reuses the plans).
    #[test]
    fn power_and_autocovariance_match_the_direct_sums() {
        let d: Vec<f64> = (0..37)
            .map(|t| ((t * 7) % 5) as f64 - 1.5 + 0.1 * t as f64)
            .collect();
        let nn = 128;
        for _ in 0..2 {
            let (power, ar) = power_and_autocovariance(&d, nn);
            assert_eq!((power.len(), ar.len()), (nn / 2 + 1, nn));
            let scale = d.iter().map(|v| v * v).sum::<f64>() * d.len() as f64;
            for (k, &p) in power.iter().enumerate() {
                let (mut sr, mut si) = (0.0, 0.0);
                for (t, v) in d.iter().enumerate() {
                    let a = -std::f64::consts::TAU * (k * t) as f64 / nn as f64;
                    sr += v * a.cos();
                    si += v * a.sin();
                }
                assert!((p - (sr * sr + si * si)).abs() <= 1e-12 * scale, "bin {k}");
            }
            for lag in 0..d.len() {
                let direct: f64 = (0..d.len() - lag).map(|t| d[t] * d[t + lag]).sum();
                // the unnormalised inverse carries a factor N
                assert!(
                    (ar[lag] / nn as f64 - direct).abs() <= 1e-12 * scale,
                    "lag {lag}"
                );
            }
        }
    }

    #[test]
    fn finds_a_pure_cycle_and_rejects_bad_arguments() {
        let y: Vec<f64> = (0..700)
            .map(|t| 5.0 + 0.01 * t as f64 + (std::f64::consts::TAU * t as f64 / 7.0).cos())
            .collect();
        let f = detect_periods(&y, 100, 0.2).unwrap();
        assert_eq!(f[0].period, 7);
        assert!(f[0].strength > 0.95, "{f:?}");
        assert!(detect_periods(&y, 1, 0.2).is_err());
        assert!(detect_periods(&y, 10, 1.5).is_err());
        assert!(detect_periods(&y[..5], 10, 0.2).is_err());
        assert!(detect_periods(&[f64::NAN; 20], 10, 0.2).is_err());
        assert!(detect_periods(&[3.0; 20], 10, 0.2).unwrap().is_empty());
    }
}

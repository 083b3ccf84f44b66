//! Initial states of a Holt-Winters fit: the spike-robust copy of the history the fit learns
//! from, the classical decomposition that starts the search, the least-squares refinement for
//! linear models, and the states that make the recursion seasonal naive (the fallback).

use super::recursion::{run, Smooth};
use super::{Seasonal, Trend, ROBUST_SEASONS, ROBUST_SIGMAS};
use crate::error::Result;
use crate::numeric::{cholesky_solve, dot};

/// The history the robust fit learns from (see [`HoltWinters::robust`](super::HoltWinters::robust)):
/// a copy of `y` with its seasonal outliers replaced by their phase's median, or `None` when
/// nothing was replaced (or the fit is not robust, or has no season).
///
/// # Errors
/// As [`crate::series::clean_seasonal_outliers`], which refuses only what the fit has
/// already refused (a season below 2).
pub(super) fn robust_copy(
    y: &[f64],
    m: usize,
    robust: bool,
    seasonal: Seasonal,
) -> Result<Option<Vec<f64>>> {
    if robust && seasonal != Seasonal::None {
        let (c, replaced) =
            crate::series::clean_seasonal_outliers(y, m, ROBUST_SEASONS, ROBUST_SIGMAS)?;
        Ok((replaced > 0).then_some(c))
    } else {
        Ok(None)
    }
}

/// Classical-decomposition initial states over the first `k ≥ 2` full seasons (at most 4):
/// returns (level, trend, seasonal states). Without a season: a line through the first points.
pub(super) fn initial_states(
    y: &[f64],
    m: usize,
    trend: Trend,
    seasonal: Seasonal,
) -> (f64, f64, Vec<f64>) {
    let line = |x: &[f64]| -> (f64, f64) {
        // least-squares line through (t, x_t), t = 1..=n: returns (value at t = 0, slope)
        let n = x.len() as f64;
        if x.len() < 2 {
            return (x.first().copied().unwrap_or(0.0), 0.0);
        }
        let tm = (n + 1.0) / 2.0;
        let xm = x.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let d = (i + 1) as f64 - tm;
            sxy += d * (v - xm);
            sxx += d * d;
        }
        let slope = sxy / sxx;
        (xm - slope * tm, slope)
    };
    if seasonal == Seasonal::None {
        let head = &y[..y.len().min(10)];
        return match trend {
            Trend::None => (head.iter().sum::<f64>() / head.len() as f64, 0.0, vec![0.0]),
            _ => {
                let (l, b) = line(head);
                (l, b, vec![0.0])
            }
        };
    }
    let mult = seasonal == Seasonal::Multiplicative;
    let k = (y.len() / m).clamp(2, 4);
    let x = &y[..k * m];
    // centred moving average of order m (2×m for even m), by a running sum
    let half = m / 2;
    let even = m % 2 == 0;
    let mut idx_sum = vec![0.0; m];
    let mut idx_cnt = vec![0usize; m];
    let mut run_sum: f64 = x[..m].iter().sum(); // window [t - half, t - half + m)
    for t in half..x.len() - half {
        let lo = t - half;
        let ma = if even {
            // average of the windows starting at lo and lo+1 (a 2×m average)
            let next = if lo + m < x.len() {
                run_sum - x[lo] + x[lo + m]
            } else {
                run_sum
            };
            let v = (run_sum + next) / (2.0 * m as f64);
            run_sum = next;
            v
        } else {
            let v = run_sum / m as f64;
            if lo + m < x.len() {
                run_sum += x[lo + m] - x[lo];
            }
            v
        };
        if even && t + half >= x.len() {
            break; // the 2×m window would run past the data
        }
        let d = if mult {
            if ma > 0.0 {
                x[t] / ma
            } else {
                1.0
            }
        } else {
            x[t] - ma
        };
        idx_sum[t % m] += d;
        idx_cnt[t % m] += 1;
    }
    let mut season: Vec<f64> = idx_sum
        .iter()
        .zip(&idx_cnt)
        .map(|(&s, &c)| {
            if c > 0 {
                s / c as f64
            } else if mult {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mean = season.iter().sum::<f64>() / m as f64;
    for s in &mut season {
        if mult {
            *s = if mean > 0.0 { *s / mean } else { 1.0 };
        } else {
            *s -= mean;
        }
    }
    let deseason: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(t, &v)| {
            if mult {
                v / season[t % m]
            } else {
                v - season[t % m]
            }
        })
        .collect();
    let (l, b) = line(&deseason);
    match trend {
        Trend::None => (
            deseason.iter().sum::<f64>() / deseason.len() as f64,
            0.0,
            season,
        ),
        _ => (l, b, season),
    }
}

/// Work budget of the least-squares refinement of the initial states, counted as `k²·n` for `k`
/// initial states over `n` points (what the normal equations cost before their seasonal block
/// came from one column's lagged sums; it still bounds the points used). Over it the
/// refinement uses a shorter head of the series, and is skipped when that head would hold
/// fewer than three seasons.
pub(super) const LS_COST_MAX: usize = 40_000_000;

/// Seasons the least-squares refinement needs in the points it uses (about ten observations
/// per seasonal state; with fewer, the fitted initial season over-fits).
pub(super) const LS_MIN_SEASONS: usize = 10;

/// Least-squares initial states for a linear (additive-season or no-season) model with fixed
/// smoothing parameters: the one-step errors are `e = e(0) − D·x0`, with `e(0)` the errors
/// from all-zero initial states and column `k` of `D` the forecasts from unit state `k` on zero
/// data. Returns (level, trend, season) or `None` if the system is singular.
pub(super) fn ls_initial_states(
    y: &[f64],
    m: usize,
    trend: Trend,
    p: Smooth,
) -> Option<(f64, f64, Vec<f64>)> {
    let has_trend = trend != Trend::None;
    let k = 1 + usize::from(has_trend) + m;
    let n = y.len();
    // normal equations A·x = r, A = DᵀD, r = Dᵀe(0); D computed column by column
    let mut cols = vec![0.0; k * n];
    let zeros = vec![0.0; n];
    let mut season = vec![0.0; m];
    let off = 1 + usize::from(has_trend);
    // the recursion is time-invariant on zero data, so the column of seasonal state j is the
    // column of state 0 delayed by j steps: three runs give every column
    for c in 0..=off {
        season.iter_mut().for_each(|s| *s = 0.0);
        let (l0, b0) = match c {
            0 => (1.0, 0.0),
            1 if has_trend => (0.0, 1.0),
            _ => {
                season[0] = 1.0;
                (0.0, 0.0)
            }
        };
        // on zero data the error is −forecast, so the column is −residuals
        let col = &mut cols[c * n..(c + 1) * n];
        run(
            &zeros,
            Seasonal::Additive,
            p,
            l0,
            b0,
            &mut season,
            Some(col),
        );
        col.iter_mut().for_each(|v| *v = -*v);
    }
    for j in 1..m {
        let (head, tail) = cols.split_at_mut((off + j) * n);
        let src = &head[off * n..(off + 1) * n];
        let dst = &mut tail[..n];
        let lag = j.min(n);
        dst[..lag].iter_mut().for_each(|v| *v = 0.0);
        dst[lag..].copy_from_slice(&src[..n - lag]);
    }
    let mut e0 = vec![0.0; n];
    season.iter_mut().for_each(|s| *s = 0.0);
    run(
        y,
        Seasonal::Additive,
        p,
        0.0,
        0.0,
        &mut season,
        Some(&mut e0),
    );
    let mut a = vec![0.0; k * k];
    let mut r = vec![0.0; k];
    for i in 0..k {
        let ci = &cols[i * n..(i + 1) * n];
        r[i] = dot(ci, &e0);
        // the level's and trend's columns against every column
        if i < off {
            for j in i..k {
                let v = dot(ci, &cols[j * n..(j + 1) * n]);
                a[i * k + j] = v;
                a[j * k + i] = v;
            }
        }
    }
    // the seasonal columns are one column c shifted: for i <= j, the product of the columns of
    // states i and j is Σ_{s < n − j} c[s]·c[s + j − i], so one sum per lag d = j − i, shortened
    // by a term at each larger j, gives them all (m sums of n terms instead of m²/2)
    let c = &cols[off * n..(off + 1) * n];
    for d in 0..m.min(n) {
        let mut v = dot(&c[..n - d], &c[d..]);
        for j in d..m.min(n) {
            if j > d {
                v -= c[n - j] * c[n - j + d];
            }
            let i = j - d;
            a[(off + i) * k + off + j] = v;
            a[(off + j) * k + off + i] = v;
        }
    }
    // the level and a constant season shift are confounded: a tiny ridge picks one solution
    let tr = (0..k).map(|i| a[i * k + i]).sum::<f64>() / k as f64;
    for i in 0..k {
        a[i * k + i] += 1e-9 * tr.max(1e-300);
    }
    let x = cholesky_solve(&mut a, &mut r, k)?;
    let mut s: Vec<f64> = x[off..].to_vec();
    let mean = s.iter().sum::<f64>() / m as f64;
    s.iter_mut().for_each(|v| *v -= mean);
    let l = x[0] + mean;
    let b = if has_trend { x[1] } else { 0.0 };
    if l.is_finite() && b.is_finite() && s.iter().all(|v| v.is_finite()) {
        Some((l, b, s))
    } else {
        None
    }
}

/// The smoothing parameters and initial states under which the recursion is seasonal naive
/// (naive without a season): with α = 0, β = 0 and γ = 1 the level stays put and each seasonal
/// state becomes the last value of its phase less the level (a factor of it for a
/// multiplicative season), so the forecast is `y[t − m]`; without a season α = 1 makes the
/// level the last value. The initial states reproduce the first season exactly.
pub(super) fn naive_equivalent(y: &[f64], m: usize, seasonal: Seasonal) -> (Smooth, f64, Vec<f64>) {
    let p = |alpha, gamma| Smooth {
        alpha,
        beta: 0.0,
        gamma,
        phi: 1.0,
    };
    match seasonal {
        Seasonal::None => (p(1.0, 0.0), y[0], vec![0.0]),
        Seasonal::Additive => {
            let l = y[..m].iter().sum::<f64>() / m as f64;
            (p(0.0, 1.0), l, y[..m].iter().map(|v| v - l).collect())
        }
        Seasonal::Multiplicative => {
            let l = y[..m].iter().sum::<f64>() / m as f64;
            (p(0.0, 1.0), l, y[..m].iter().map(|v| v / l).collect())
        }
    }
}

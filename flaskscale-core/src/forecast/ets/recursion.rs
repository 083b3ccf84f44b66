//! The Holt-Winters recursion: the state update over a history (with the sum of squared
//! one-step errors it yields), its profiled form for linear models, the one-step update of a
//! fitted model's state, and the Gaussian likelihood of a fit.

use super::Seasonal;

/// Smoothing parameters in their natural scale.
#[derive(Debug, Clone, Copy)]
pub(super) struct Smooth {
    pub(super) alpha: f64,
    pub(super) beta: f64,
    pub(super) gamma: f64,
    pub(super) phi: f64,
}

/// Runs the recursion over `y` from the given initial states and returns the sum of squared
/// one-step errors, or `+∞` when the states leave the admissible region (a non-positive level
/// or seasonal factor under a multiplicative season) or the sum overflows. `season` holds the
/// initial seasonal states and is overwritten with the final ones; returns also the final
/// level, trend and position.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    y: &[f64],
    seasonal: Seasonal,
    p: Smooth,
    l0: f64,
    b0: f64,
    season: &mut [f64],
    mut residuals: Option<&mut [f64]>,
) -> (f64, f64, f64, usize) {
    let Smooth {
        alpha,
        beta,
        gamma,
        phi,
    } = p;
    let m = season.len();
    let (mut l, mut b) = (l0, b0);
    let mut sse = 0.0;
    let mut j = 0usize;
    match seasonal {
        Seasonal::None => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let e = yt - base;
                l = base + alpha * e;
                b = tp + beta * e;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
            }
        }
        Seasonal::Additive => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let sj = season[j];
                let e = yt - base - sj;
                l = base + alpha * e;
                b = tp + beta * e;
                season[j] = sj + gamma * e;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
                j += 1;
                if j == m {
                    j = 0;
                }
            }
        }
        Seasonal::Multiplicative => {
            for (t, &yt) in y.iter().enumerate() {
                let tp = phi * b;
                let base = l + tp;
                let sj = season[j];
                if !(base > 0.0 && sj > 0.0) {
                    return (f64::INFINITY, l, b, j);
                }
                let e = yt - base * sj;
                let es = e / sj;
                l = base + alpha * es;
                b = tp + beta * es;
                season[j] = sj + gamma * e / base;
                sse += e * e;
                if let Some(r) = residuals.as_deref_mut() {
                    r[t] = e;
                }
                j += 1;
                if j == m {
                    j = 0;
                }
            }
        }
    }
    if !(sse.is_finite() && l.is_finite() && b.is_finite()) {
        return (f64::INFINITY, l, b, j);
    }
    (sse, l, b, j)
}

/// The seasonal states of [`run_profiled`]'s three recursions at one position of the season:
/// the data's, the unit level's and the unit trend's.
pub(super) type Slot = [f64; 3];

/// One pass of a linear model (additive or no season) that also profiles out the initial level
/// and trend: alongside the recursion from (`l0`, `b0`, `season0`), it runs the same recursion
/// on zero data from a unit level and from a unit trend (the errors are linear in the initial
/// states, so these give the errors' derivatives). Returns the least SSE over shifts of the
/// initial level and trend, and those shifts. The three recursions are independent, so they
/// cost about as much as one; `slots` (scratch of the season's length) holds their seasonal
/// states side by side, one stream through memory for all three.
pub(super) fn run_profiled(
    y: &[f64],
    p: Smooth,
    has_trend: bool,
    l0: f64,
    b0: f64,
    season0: &[f64],
    slots: &mut [Slot],
) -> (f64, f64, f64) {
    let Smooth {
        alpha,
        beta,
        gamma,
        phi,
    } = p;
    let m = season0.len();
    let slots = &mut slots[..m];
    for (slot, &s) in slots.iter_mut().zip(season0) {
        *slot = [s, 0.0, 0.0];
    }
    // the level is not kept: the state is (base, b), with base = l + φb the one-step forecast
    // before the season, so that with d = y − s (off the chain)
    //   base' = (1 − α − φβ)·base + φ²·b + (α + φβ)·d,   b' = (φb + β·d) − β·base,
    // a shorter chain from step to step than l' = (1 − α)·base + α·d followed by
    // base' = l' + φb' (about 5% less time per fit); one season per outer step, so the
    // seasonal slots are plain zipped iterators (no index wrap, no bounds checks). The
    // unit-level and unit-trend recursions start at base = 1 and base = φ (with a trend).
    let k = alpha + phi * beta;
    let c1 = 1.0 - k;
    let phi2 = phi * phi;
    let bt = if has_trend { 1.0 } else { 0.0 };
    let (mut base, mut b) = (l0 + phi * b0, b0);
    let (mut basel, mut bl) = (1.0, 0.0);
    let (mut baseb, mut bb) = (phi * bt, bt);
    let (mut s00, mut s0l, mut s0b, mut sll, mut slb, mut sbb) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for yc in y.chunks(m) {
        for (&yt, slot) in yc.iter().zip(slots.iter_mut()) {
            let [sj, slj, sbj] = *slot;
            let d = yt - sj;
            let e = d - base;
            let nb = (phi * b + beta * d) - beta * base;
            base = c1 * base + (phi2 * b + k * d);
            b = nb;

            let el = -slj - basel;
            let nbl = (phi * bl - beta * slj) - beta * basel;
            basel = c1 * basel + (phi2 * bl - k * slj);
            bl = nbl;

            let eb = -sbj - baseb;
            let nbb = (phi * bb - beta * sbj) - beta * baseb;
            baseb = c1 * baseb + (phi2 * bb - k * sbj);
            bb = nbb;

            *slot = [sj + gamma * e, slj + gamma * el, sbj + gamma * eb];

            s00 += e * e;
            s0l += e * el;
            s0b += e * eb;
            sll += el * el;
            slb += el * eb;
            sbb += eb * eb;
        }
    }
    if !s00.is_finite() {
        return (f64::INFINITY, 0.0, 0.0);
    }
    // minimise Σ(e + a·el + c·eb)²: [sll slb; slb sbb]·[a c] = −[s0l s0b]
    let det = sll * sbb - slb * slb;
    let (a, c) = if has_trend && det > 1e-12 * sll * sbb && det.is_finite() {
        (
            (-s0l * sbb + s0b * slb) / det,
            (-s0b * sll + s0l * slb) / det,
        )
    } else if sll > 0.0 && sll.is_finite() {
        (-s0l / sll, 0.0)
    } else {
        (0.0, 0.0)
    };
    let sse = (s00 + a * s0l + c * s0b).max(0.0);
    if sse.is_finite() && a.is_finite() && c.is_finite() {
        (sse, a, c)
    } else {
        (s00, 0.0, 0.0)
    }
}

/// The states after observing one-step error `e` from level `l`, trend `b` and seasonal state
/// `sj` ([`Fitted::update`](super::super::Fitted::update)'s step; the same update as [`run`],
/// except that a multiplicative factor is kept positive: one point far below the level cannot
/// flip the season's sign). Returns the new level, trend and seasonal state.
pub(super) fn observe(
    seasonal: Seasonal,
    p: Smooth,
    l: f64,
    b: f64,
    sj: f64,
    e: f64,
) -> (f64, f64, f64) {
    let tp = p.phi * b;
    let base = l + tp;
    match seasonal {
        Seasonal::None => (base + p.alpha * e, tp + p.beta * e, sj),
        Seasonal::Additive => (base + p.alpha * e, tp + p.beta * e, sj + p.gamma * e),
        Seasonal::Multiplicative => {
            let es = if sj > 0.0 { e / sj } else { e };
            let s = if base > 0.0 {
                (sj + p.gamma * e / base).max(1e-6)
            } else {
                sj
            };
            (base + p.alpha * es, tp + p.beta * es, s)
        }
    }
}

/// The Gaussian log-likelihood of `n` one-step errors with sum of squares `sse`, concentrated
/// over σ² (σ² = SSE/n): `−n/2·(ln(2π·SSE/n) + 1)`; `+∞` for a perfect fit.
pub(super) fn log_likelihood(sse: f64, n: usize) -> f64 {
    let nf = n as f64;
    let sigma2 = sse / nf;
    if sigma2 > 0.0 {
        -0.5 * nf * ((std::f64::consts::TAU * sigma2).ln() + 1.0)
    } else {
        f64::INFINITY
    }
}

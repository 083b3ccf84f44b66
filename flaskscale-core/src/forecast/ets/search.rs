//! The parameter search of a Holt-Winters fit: the smoothing parameters (and, for a
//! multiplicative season, the initial level and trend) by Nelder–Mead on the one-step SSE,
//! inside the usual region by a logistic map; see the [model docs](super) for the stages.

use super::init::{initial_states, ls_initial_states, LS_COST_MAX, LS_MIN_SEASONS};
use super::recursion::{run, run_profiled, Slot, Smooth};
use super::{HoltWinters, Seasonal, Trend};
use crate::numeric::nelder_mead;

/// Lower bound of the open parameter intervals (statsforecast and the forecast package use
/// the same 1e-4 margin).
pub(super) const EPS: f64 = 1e-4;

/// Relative tolerance on the SSE of the coarse search.
pub(super) const COARSE_FTOL: f64 = 1e-4;

/// The fine restart stops when the log-likelihoods of its simplex agree to this many nats: the
/// SSE's relative spread `2·δ/n` on `n` points (`n/2·ln(SSE)` is the likelihood's part that
/// moves), at most a tenth of [`COARSE_FTOL`]. A hundredth of a nat is far inside the
/// likelihood's own uncertainty (a 95% confidence region of four parameters spans
/// χ²₄(0.95)/2 ≈ 4.7 nats), and a tighter stop only spends evaluations: at 1e-7 of the SSE,
/// the fixed stop it replaces, the restart took two thirds of a fit's evaluations. (The stop
/// is on the simplex's spread, not the distance to the optimum: on seeded seasonal series with
/// a trend, a search started again from a fit's optimum gained at most 0.16 nats with m = 168
/// on 1,200 points, 0.07 with m = 12 on 400 and nothing with m = 24 on 2,000; at most 1e-4 at
/// the old stop.)
pub(super) const FINE_LOGLIK_TOL: f64 = 0.01;

fn fine_ftol(n: usize) -> f64 {
    (2.0 * FINE_LOGLIK_TOL / n.max(1) as f64).min(0.1 * COARSE_FTOL)
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Which parameters the optimiser moves, and how its vector maps to them.
pub(super) struct Layout {
    trend: Trend,
    seasonal: Seasonal,
    fixed: HoltWinters,
    /// Optimise the initial level and trend too.
    states: bool,
    l0: f64,
    b0: f64,
}

impl Layout {
    /// The layout of a fit of `spec` from the initial level and trend 0 (linear models profile
    /// them out; a multiplicative season's search moves them).
    pub(super) fn for_spec(spec: &HoltWinters) -> Self {
        Layout {
            trend: spec.trend,
            seasonal: spec.seasonal,
            fixed: *spec,
            states: spec.seasonal == Seasonal::Multiplicative,
            l0: 0.0,
            b0: 0.0,
        }
    }

    fn dims(&self) -> usize {
        let mut d = 0;
        d += usize::from(self.fixed.alpha.is_none());
        d += usize::from(self.trend != Trend::None && self.fixed.beta.is_none());
        d += usize::from(self.seasonal != Seasonal::None && self.fixed.gamma.is_none());
        d += usize::from(self.trend == Trend::AdditiveDamped && self.fixed.phi.is_none());
        if self.states {
            d += 1 + usize::from(self.trend != Trend::None);
        }
        d
    }

    /// Maps an optimiser vector to (parameters, initial level, initial trend), respecting the
    /// usual region: α in (max(ε, β), min(1 − ε, 1 − γ)) for fixed β, γ; β in (ε, α);
    /// γ in (ε, 1 − α); φ in [0.8, 0.98].
    pub(super) fn map(&self, x: &[f64]) -> (Smooth, f64, f64) {
        let mut i = 0;
        let mut next = || {
            let v = x[i];
            i += 1;
            v
        };
        let alpha = match self.fixed.alpha {
            Some(a) => a,
            None => {
                let lo = self.fixed.beta.unwrap_or(0.0).max(EPS);
                let hi = (1.0 - self.fixed.gamma.unwrap_or(0.0)).min(1.0 - EPS);
                lo + (hi - lo).max(0.0) * logistic(next())
            }
        };
        let beta = match (self.trend, self.fixed.beta) {
            (Trend::None, _) => 0.0,
            (_, Some(b)) => b,
            (_, None) => EPS + (alpha - EPS).max(0.0) * logistic(next()),
        };
        let gamma = match (self.seasonal, self.fixed.gamma) {
            (Seasonal::None, _) => 0.0,
            (_, Some(g)) => g,
            (_, None) => EPS + (1.0 - alpha - EPS).max(0.0) * logistic(next()),
        };
        let phi = match (self.trend, self.fixed.phi) {
            (Trend::AdditiveDamped, Some(p)) => p,
            (Trend::AdditiveDamped, None) => 0.8 + 0.18 * logistic(next()),
            _ => 1.0,
        };
        let (mut l0, mut b0) = (self.l0, self.b0);
        if self.states {
            l0 += next();
            if self.trend != Trend::None {
                b0 += 0.1 * next();
            }
        }
        (
            Smooth {
                alpha,
                beta,
                gamma,
                phi,
            },
            l0,
            b0,
        )
    }

    /// The optimiser point whose [`Layout::map`] gives the parameters `p` (initial-state
    /// offsets 0): the inverse map, each share kept strictly inside its interval (a parameter
    /// found at a bound starts just inside it).
    pub(super) fn unmap(&self, p: Smooth) -> Vec<f64> {
        let share = |v: f64, lo: f64, hi: f64| -> f64 {
            let w = hi - lo;
            let s = if w > 0.0 { (v - lo) / w } else { 0.5 };
            logit(s.clamp(1e-9, 1.0 - 1e-9))
        };
        let mut x = Vec::with_capacity(self.dims());
        let alpha = match self.fixed.alpha {
            Some(a) => a,
            None => {
                let lo = self.fixed.beta.unwrap_or(0.0).max(EPS);
                let hi = (1.0 - self.fixed.gamma.unwrap_or(0.0)).min(1.0 - EPS);
                x.push(share(p.alpha, lo, hi));
                lo + (hi - lo).max(0.0) * logistic(x[0])
            }
        };
        if self.trend != Trend::None && self.fixed.beta.is_none() {
            x.push(share(p.beta, EPS, alpha));
        }
        if self.seasonal != Seasonal::None && self.fixed.gamma.is_none() {
            x.push(share(p.gamma, EPS, 1.0 - alpha));
        }
        if self.trend == Trend::AdditiveDamped && self.fixed.phi.is_none() {
            x.push(share(p.phi, 0.8, 0.98));
        }
        if self.states {
            x.push(0.0);
            if self.trend != Trend::None {
                x.push(0.0);
            }
        }
        x
    }

    /// Optimiser start for the given natural parameters (initial-state offsets 0).
    fn start(&self, alpha: f64, beta_frac: f64, gamma_frac: f64, phi: f64) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.dims());
        if self.fixed.alpha.is_none() {
            x.push(logit(alpha));
        }
        if self.trend != Trend::None && self.fixed.beta.is_none() {
            x.push(logit(beta_frac));
        }
        if self.seasonal != Seasonal::None && self.fixed.gamma.is_none() {
            x.push(logit(gamma_frac));
        }
        if self.trend == Trend::AdditiveDamped && self.fixed.phi.is_none() {
            x.push(logit((phi - 0.8) / 0.18));
        }
        if self.states {
            x.push(0.0);
            if self.trend != Trend::None {
                x.push(0.0);
            }
        }
        x
    }
}

/// Most optimiser coordinates of any layout: four smoothing parameters, the initial level and
/// trend.
const MAX_DIMS: usize = 6;

/// Points the [`Evaluator`] remembers besides the best: the latest ones.
const RECENT: usize = 4;

/// One evaluation remembered: the optimiser point (its bits), the SSE and the profiled shifts
/// of the initial level and trend.
#[derive(Clone, Copy)]
struct Seen {
    x: [f64; MAX_DIMS],
    dims: usize,
    sse: f64,
    da: f64,
    db: f64,
}

impl Seen {
    fn at(&self, x: &[f64]) -> bool {
        self.dims == x.len()
            && self.x[..self.dims]
                .iter()
                .zip(x)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

/// The fitting objective with its scratch buffers, and the evaluations it remembers: the
/// search asks again for points it has seen (the best start is where the coarse search starts,
/// the coarse optimum where the fine one starts, and the initial states are read off the
/// optimum), and the objective is a pure function of the point while the layout and the
/// initial seasonal states stay, so a point seen gives its value without another pass.
struct Evaluator<'a> {
    ys: &'a [f64],
    linear: bool,
    has_trend: bool,
    season0: Vec<f64>,
    scratch: Vec<f64>,
    slots: Vec<Slot>,
    best: Option<Seen>,
    recent: [Option<Seen>; RECENT],
    next: usize,
}

impl Evaluator<'_> {
    fn recall(&self, x: &[f64]) -> Option<Seen> {
        self.best
            .iter()
            .chain(self.recent.iter().flatten())
            .find(|s| s.at(x))
            .copied()
    }

    fn remember(&mut self, x: &[f64], sse: f64, da: f64, db: f64) {
        if x.len() > MAX_DIMS {
            return;
        }
        let mut seen = Seen {
            x: [0.0; MAX_DIMS],
            dims: x.len(),
            sse,
            da,
            db,
        };
        seen.x[..x.len()].copy_from_slice(x);
        if self.best.is_none_or(|b| sse < b.sse) {
            self.best = Some(seen);
        }
        self.recent[self.next] = Some(seen);
        self.next = (self.next + 1) % RECENT;
    }

    /// Forgets every evaluation: the objective changed (new initial states).
    fn forget(&mut self) {
        self.best = None;
        self.recent = [None; RECENT];
    }

    /// The profiled pass at `x` (linear models): SSE and the shifts of the initial states.
    fn profiled(&mut self, layout: &Layout, x: &[f64]) -> (f64, f64, f64) {
        if let Some(s) = self.recall(x) {
            return (s.sse, s.da, s.db);
        }
        let (p, l, b) = layout.map(x);
        let (sse, da, db) = run_profiled(
            self.ys,
            p,
            self.has_trend,
            l,
            b,
            &self.season0,
            &mut self.slots,
        );
        self.remember(x, sse, da, db);
        (sse, da, db)
    }

    /// SSE at optimiser point `x` (initial level and trend profiled out for linear models).
    fn sse(&mut self, layout: &Layout, x: &[f64]) -> f64 {
        if self.linear {
            return self.profiled(layout, x).0;
        }
        if let Some(s) = self.recall(x) {
            return s.sse;
        }
        let (p, l, b) = layout.map(x);
        self.scratch.copy_from_slice(&self.season0);
        let sse = run(self.ys, layout.seasonal, p, l, b, &mut self.scratch, None).0;
        self.remember(x, sse, 0.0, 0.0);
        sse
    }

    /// Parameters and initial level and trend at `x`.
    fn states(&mut self, layout: &Layout, x: &[f64]) -> (Smooth, f64, f64) {
        let (p, l, b) = layout.map(x);
        if !self.linear {
            return (p, l, b);
        }
        let (_, da, db) = self.profiled(layout, x);
        (p, l + da, b + db)
    }
}

/// What the search found: the smoothing parameters, the initial level, trend and seasonal
/// states, whether the optimiser converged (and found a finite point), and its evaluations.
pub(super) struct Found {
    pub(super) p: Smooth,
    pub(super) l: f64,
    pub(super) b: f64,
    pub(super) season0: Vec<f64>,
    pub(super) converged: bool,
    pub(super) evals: usize,
}

/// Fits the smoothing parameters and initial states of `spec` (season length `m`, 1 without a
/// season) to `yfit` (internal units): a coarse search from the best of four spread-out starts,
/// then (linear models with a short season) the least-squares initial states at its optimum,
/// then a fine restart from it (a restart is also the usual remedy for a simplex that collapsed
/// early). With `warm` (the parameters a fit of the same model found on a part of this history)
/// that point is a fifth start: usually the best, so the coarse search starts near its optimum
/// and stops sooner, with the same tolerances. If no finite point is found, conventional fixed
/// parameters from the decomposition states, not converged.
pub(super) fn search(spec: &HoltWinters, yfit: &[f64], m: usize, warm: Option<Smooth>) -> Found {
    let n = yfit.len();
    let (l0, b0, mut season0) = initial_states(yfit, m, spec.trend, spec.seasonal);
    let linear = spec.seasonal != Seasonal::Multiplicative;
    let has_trend = spec.trend != Trend::None;
    let mut layout = Layout {
        l0,
        b0,
        ..Layout::for_spec(spec)
    };
    let mut ev = Evaluator {
        ys: yfit,
        linear,
        has_trend,
        season0: season0.clone(),
        scratch: season0.clone(),
        slots: vec![[0.0; 3]; m],
        best: None,
        recent: [None; RECENT],
        next: 0,
    };
    let budget = 200 + 100 * layout.dims();
    let mut total_evals = 0;

    let mut opt = {
        let mut obj = |x: &[f64]| ev.sse(&layout, x);
        // the best of a few spread-out starting points (and of the earlier fit's parameters,
        // when warm), then a coarse search from it
        let mut x0 = layout.start(0.2, 0.1, 0.1, 0.9);
        let mut f0 = f64::INFINITY;
        let spread = [
            (0.1, 0.1, 0.1),
            (0.3, 0.05, 0.2),
            (0.6, 0.05, 0.3),
            (0.9, 0.02, 0.5),
        ]
        .map(|(a, bf, gf)| layout.start(a, bf, gf, 0.9));
        for x in spread.into_iter().chain(warm.map(|p| layout.unmap(p))) {
            let f = obj(&x);
            total_evals += 1;
            if f < f0 {
                f0 = f;
                x0 = x;
            }
        }
        let o = nelder_mead(&mut obj, &x0, 1.0, COARSE_FTOL, budget);
        total_evals += o.evals;
        o
    };
    let k_states = (m + 2) * (m + 2);
    let ls_n = n.min(LS_COST_MAX / k_states);
    if linear && ls_n >= LS_MIN_SEASONS * m && opt.f.is_finite() {
        let (p, _, _) = ev.states(&layout, &opt.x);
        if let Some((l, b, s)) = ls_initial_states(&yfit[..ls_n], m, spec.trend, p) {
            let mut trial = s.clone();
            let f_ls = run(yfit, spec.seasonal, p, l, b, &mut trial, None).0;
            if f_ls < opt.f {
                season0 = s;
                ev.season0.copy_from_slice(&season0);
                ev.forget();
                layout.l0 = l;
                layout.b0 = b;
                opt.f = f_ls;
            }
        }
    }
    {
        let mut obj = |x: &[f64]| ev.sse(&layout, x);
        let o = nelder_mead(&mut obj, &opt.x, 0.3, fine_ftol(n), budget);
        total_evals += o.evals;
        if o.f <= opt.f || !opt.f.is_finite() {
            opt = o;
        }
    }

    let mut converged = opt.converged;
    let (mut p, mut l, mut b) = ev.states(&layout, &opt.x);
    if !opt.f.is_finite() {
        // fall back to conventional fixed parameters from the heuristic states
        converged = false;
        p = Smooth {
            alpha: spec.alpha.unwrap_or(0.2),
            beta: match spec.trend {
                Trend::None => 0.0,
                _ => spec.beta.unwrap_or(0.01),
            },
            gamma: match spec.seasonal {
                Seasonal::None => 0.0,
                _ => spec.gamma.unwrap_or(0.05),
            },
            phi: match spec.trend {
                Trend::AdditiveDamped => spec.phi.unwrap_or(0.95),
                _ => 1.0,
            },
        };
        l = l0;
        b = b0;
    }
    Found {
        p,
        l,
        b,
        season0,
        converged,
        evals: total_evals,
    }
}

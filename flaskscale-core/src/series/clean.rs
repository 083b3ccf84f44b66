//! Cleaning a load series before a fit: filling gaps by interpolation, and replacing seasonal
//! outliers (flash crowds, outages) by the median of their phase, from scratch or incrementally
//! over a sliding window ([`CleanCache`], for the autoscaler's refits).

use crate::error::{Error, Result};

/// Fills `NaN` gaps in place by linear interpolation (flat at the ends); returns the count filled.
///
/// # Errors
/// [`Error::InvalidData`] when every value is missing (or the slice is empty).
pub fn interpolate_gaps(values: &mut [f64]) -> Result<usize> {
    let first = values
        .iter()
        .position(|v| !v.is_nan())
        .ok_or_else(|| Error::data("every value is missing: nothing to interpolate from"))?;
    let lead = values[first];
    for v in &mut values[..first] {
        *v = lead;
    }
    let mut filled = first;
    let mut last = first;
    for i in first + 1..values.len() {
        if values[i].is_nan() {
            continue;
        }
        if i > last + 1 {
            let (a, b) = (values[last], values[i]);
            let span = (i - last) as f64;
            for (k, j) in (last + 1..i).enumerate() {
                values[j] = a + (b - a) * (k + 1) as f64 / span;
                filled += 1;
            }
        }
        last = i;
    }
    let tail = values[last];
    for v in &mut values[last + 1..] {
        *v = tail;
        filled += 1;
    }
    Ok(filled)
}

/// Seasons on either side a value is compared with by the seasonal outlier rule wherever the
/// project applies it (the robust Holt-Winters fit, the autoscaler's cleaning before a fit).
pub const OUTLIER_SEASONS: usize = 3;
/// Robust standard deviations beyond which that rule replaces a value.
pub const OUTLIER_SIGMAS: f64 = 4.0;

/// Seasonal outlier cleaning: each value is compared with the values at the same phase of the
/// `k` seasons before and after it (`y[t ± j·m]`, `j = 1..=k`); when it lies more than
/// `n_sigmas` robust standard deviations (1.4826 × the median absolute deviation of those
/// neighbours, at least 5% of their median) from their median, it is replaced by that median.
/// This keeps a flash crowd or an outage out of the seasonal shape a model learns, while a
/// level that persists across seasons is kept. Missing values stay missing. Returns the cleaned
/// values and how many were replaced.
///
/// # Errors
/// [`Error::InvalidParameter`] for `m < 2`, `k = 0` or `n_sigmas` not finite and > 0.
///
/// ```
/// use flaskscale_core::series::clean_seasonal_outliers;
/// let mut y: Vec<f64> = (0..24 * 7).map(|t| 100.0 + (t % 24) as f64).collect();
/// y[24 * 3 + 5] = 900.0; // a flash crowd on day 3 at 05:00
/// let (clean, n) = clean_seasonal_outliers(&y, 24, 3, 4.0).unwrap();
/// assert_eq!((n, clean[24 * 3 + 5]), (1, 105.0));
/// ```
pub fn clean_seasonal_outliers(
    y: &[f64],
    m: usize,
    k: usize,
    n_sigmas: f64,
) -> Result<(Vec<f64>, usize)> {
    if m < 2 || k == 0 || !(n_sigmas.is_finite() && n_sigmas > 0.0) {
        return Err(Error::param(format!(
            "seasonal cleaning needs m >= 2, k >= 1 and n_sigmas > 0, got m {m}, k {k}, n_sigmas {n_sigmas}"
        )));
    }
    let mut out = y.to_vec();
    let mut replaced = 0;
    let mut scratch = CleanScratch::default();
    for (t, o) in out.iter_mut().enumerate() {
        if let Some(med) = seasonal_outlier_at(y, t, m, k, n_sigmas, &mut scratch) {
            *o = med;
            replaced += 1;
        }
    }
    Ok((out, replaced))
}

/// Reusable buffers of [`seasonal_outlier_at`].
#[derive(Debug, Default)]
struct CleanScratch {
    nb: Vec<f64>,
    dev: Vec<f64>,
}

/// The replacement of `y[t]` by [`clean_seasonal_outliers`] (the median of its seasonal
/// neighbours) when it is an outlier, else `None`. Depends only on `y[t]` and the known
/// `y[t ± j·m]`, `j = 1..=k`, that lie inside `y`.
fn seasonal_outlier_at(
    y: &[f64],
    t: usize,
    m: usize,
    k: usize,
    n_sigmas: f64,
    scratch: &mut CleanScratch,
) -> Option<f64> {
    let x = y[t];
    if x.is_nan() {
        return None;
    }
    let median = |v: &mut Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    let CleanScratch { nb, dev } = scratch;
    nb.clear();
    for j in 1..=k {
        let d = j.saturating_mul(m);
        if let Some(&v) = t.checked_sub(d).and_then(|i| y.get(i)) {
            if !v.is_nan() {
                nb.push(v);
            }
        }
        if let Some(&v) = t.checked_add(d).and_then(|i| y.get(i)) {
            if !v.is_nan() {
                nb.push(v);
            }
        }
    }
    if nb.len() < 2 {
        return None;
    }
    let med = median(nb);
    // the spread is at least 5% of the median, so a value that close to it is no outlier
    // whatever the spread (n_sigmas > 0, and a product rounds monotonically): the deviations
    // need not be sorted for it
    let floor = 0.05 * med.abs();
    if (x - med).abs() <= n_sigmas * floor {
        return None;
    }
    dev.clear();
    dev.extend(nb.iter().map(|v| (v - med).abs()));
    let sigma = (1.4826 * median(dev)).max(floor);
    (sigma > 0.0 && (x - med).abs() > n_sigmas * sigma).then_some(med)
}

/// The cleaned history of the last fit, so the next fit recomputes only the values whose
/// seasonal neighbours in the history changed (the newest, and those whose neighbours were
/// appended or dropped) instead of the whole history. A cleaned value depends only on the
/// kept values at the same phase of the seasons around it, and a kept value never changes, so
/// a value whose count of neighbours before and after it is unchanged is still right.
/// The autoscaler keeps one between its fits; it is not part of its state (never saved, not
/// compared by its `==`, rebuilt by the first fit).
#[derive(Debug, Clone, Default)]
pub(crate) struct CleanCache {
    /// Grid index of `values[0]`.
    first: u64,
    /// The season, the seasons on each side and the threshold the values were cleaned with.
    season: usize,
    k: usize,
    n_sigmas: f64,
    values: Vec<f64>,
}

/// Seasonal neighbours (capped at `k`) before and after value `i` of `n` that lie inside the
/// window, with season `m`.
fn clean_signature(i: usize, n: usize, m: usize, k: usize) -> (usize, usize) {
    // `(i / m).min(k)` by comparisons: a division per value is what this path would otherwise
    // spend its time on
    let seasons = |d: usize| {
        (1..=k)
            .map(|k| usize::from(d >= k.saturating_mul(m)))
            .sum::<usize>()
    };
    (seasons(i), seasons(n - 1 - i))
}

impl CleanCache {
    /// [`clean_seasonal_outliers`] of `y` (whose first value has grid index `first`) with
    /// season `m`, `k` seasons on each side and threshold `n_sigmas`, reusing what is still valid of the previous call: a value
    /// whose neighbour counts are the same in both windows is copied, and the stretch where
    /// both windows hold all neighbours on both sides is copied in one piece.
    pub(crate) fn clean(
        &mut self,
        y: &[f64],
        first: u64,
        m: usize,
        k: usize,
        n_sigmas: f64,
    ) -> &[f64] {
        let n = y.len();
        let old = std::mem::take(&mut self.values);
        let same = self.season == m && self.k == k && self.n_sigmas.to_bits() == n_sigmas.to_bits();
        let (old_first, old_n) = if same {
            (self.first, old.len())
        } else {
            (first, 0)
        };
        // grid indices [g0, g1) where both windows have every neighbour
        let full = (k * m) as u64;
        let inner = |start: u64, len: usize| {
            let len = len as u64;
            (start + full, (start + len).saturating_sub(full))
        };
        let (a0, a1) = inner(first, n);
        let (b0, b1) = inner(old_first, old_n);
        let (g0, g1) = (a0.max(b0), a1.min(b1));
        let mut values = Vec::with_capacity(n);
        let mut scratch = CleanScratch::default();
        let mut i = 0usize;
        while i < n {
            let g = first + i as u64;
            if g == g0 && g0 < g1 {
                let from = (g0 - old_first) as usize;
                let len = (g1 - g0) as usize;
                values.extend_from_slice(&old[from..from + len]);
                i += len;
                continue;
            }
            let cached = g
                .checked_sub(old_first)
                .and_then(|j| usize::try_from(j).ok())
                .filter(|&j| {
                    j < old_n && clean_signature(j, old_n, m, k) == clean_signature(i, n, m, k)
                });
            values.push(match cached {
                Some(j) => old[j],
                None => seasonal_outlier_at(y, i, m, k, n_sigmas, &mut scratch).unwrap_or(y[i]),
            });
            i += 1;
        }
        self.first = first;
        self.season = m;
        self.k = k;
        self.n_sigmas = n_sigmas;
        self.values = values;
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Rng;

    /// The incremental cleaning equals the cleaning from scratch, bit for bit, over a window
    /// that grows, slides by uneven amounts (also by more than its length) and holds gaps,
    /// flash crowds and outages.
    #[test]
    fn clean_cache_equals_cleaning_from_scratch() {
        let m = 24;
        let mut rng = Rng::new(7);
        let y: Vec<f64> = (0..24 * 60)
            .map(|t| {
                let base = 100.0 + 50.0 * ((t % m) as f64 / 24.0 * std::f64::consts::TAU).sin();
                match rng.next_u64() % 50 {
                    0 => f64::NAN,
                    1 => 10.0 * base,
                    2 => 0.0,
                    _ => base + 5.0 * rng.uniform(),
                }
            })
            .collect();
        let mut cache = CleanCache::default();
        let (mut first, mut end) = (0usize, 0usize);
        let mut replaced_somewhere = false;
        for step in [1, 5, 24, 60, 100, 7, 300, 1, 2, 3, 500, 24, 24, 24] {
            end = (end + step).min(y.len());
            first = first.max(end.saturating_sub(24 * 10)); // a 10-season window
            if step == 500 {
                first = end - 30; // a jump: nothing of the old window is kept
            }
            let w = &y[first..end];
            let (want, n) = clean_seasonal_outliers_ref(w, m);
            replaced_somewhere |= n > 0;
            let got = cache.clean(w, first as u64, m, 3, 4.0);
            assert_eq!(got.len(), want.len());
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits(),
                    "window [{first}, {end}) value {i}: {a} != {b}"
                );
            }
        }
        assert!(replaced_somewhere);
    }

    fn clean_seasonal_outliers_ref(y: &[f64], m: usize) -> (Vec<f64>, usize) {
        clean_seasonal_outliers(y, m, 3, 4.0).unwrap()
    }
}

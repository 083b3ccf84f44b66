//! Numeric helpers shared by the models: dot products, a Cholesky solver, the symmetric
//! eigen solvers (Householder–QL in [`eigen`], the faster; cyclic Jacobi here, its fallback)
//! and the Nelder–Mead minimiser. Each is small and dense-matrix only
//! (row-major `Vec<f64>`, sizes up to a few hundred): the models' systems are that small, and
//! a linear-algebra dependency would buy nothing here. Every helper is tested against a closed
//! form or a hand-worked case (below, and in `eigen`).

pub(crate) mod eigen;

/// Dot product with four accumulators (independent add chains).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Dot product summed left to right (one add chain). Used where a result was defined with this
/// order (the Fourier regression's fitted values and forecasts), so its forecasts stay
/// bit-for-bit what they were; for long vectors [`dot`] is faster.
pub(crate) fn dot_in_order(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves the symmetric positive definite system `a·x = r` (k×k, row-major) in place by
/// Cholesky; `None` if `a` is not positive definite.
pub(crate) fn cholesky_solve(a: &mut [f64], r: &mut [f64], k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for p in 0..j {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / d;
        }
    }
    // forward then backward substitution with L and Lᵀ
    for i in 0..k {
        let mut v = r[i];
        for p in 0..i {
            v -= a[i * k + p] * r[p];
        }
        r[i] = v / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut v = r[i];
        for p in i + 1..k {
            v -= a[p * k + i] * r[p];
        }
        r[i] = v / a[i * k + i];
    }
    Some(r.to_vec())
}

/// Eigendecomposition of the symmetric `q × q` matrix `a` (row-major) by cyclic Jacobi
/// rotations: returns the eigenvalues and the eigenvectors as the columns of a row-major matrix.
pub(crate) fn sym_eigen(a: &[f64], q: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; q * q];
    for i in 0..q {
        v[i * q + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..q)
            .flat_map(|i| (0..q).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * q + j] * a[i * q + j])
            .sum();
        let diag: f64 = (0..q).map(|i| a[i * q + i] * a[i * q + i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..q {
            for r in p + 1..q {
                let apr = a[p * q + r];
                if apr == 0.0 {
                    continue;
                }
                let app = a[p * q + p];
                let arr = a[r * q + r];
                let theta = (arr - app) / (2.0 * apr);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..q {
                    let akp = a[k * q + p];
                    let akr = a[k * q + r];
                    a[k * q + p] = c * akp - s * akr;
                    a[k * q + r] = s * akp + c * akr;
                }
                for k in 0..q {
                    let apk = a[p * q + k];
                    let ark = a[r * q + k];
                    a[p * q + k] = c * apk - s * ark;
                    a[r * q + k] = s * apk + c * ark;
                }
                for k in 0..q {
                    let vkp = v[k * q + p];
                    let vkr = v[k * q + r];
                    v[k * q + p] = c * vkp - s * vkr;
                    v[k * q + r] = s * vkp + c * vkr;
                }
            }
        }
    }
    let e = (0..q).map(|i| a[i * q + i]).collect();
    (e, v)
}

/// Result of a Nelder–Mead search.
pub(crate) struct Optimum {
    /// The best point found.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// Objective evaluations spent.
    pub evals: usize,
    /// Whether the simplex's values met `ftol` within the budget.
    pub converged: bool,
}

/// Nelder–Mead minimisation of `f` from `x0` with initial step `step` on every coordinate,
/// stopping when the simplex's values agree to `ftol` (relative) or after `max_evals`.
pub(crate) fn nelder_mead(
    f: &mut impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    ftol: f64,
    max_evals: usize,
) -> Optimum {
    let d = x0.len();
    if d == 0 {
        let v = f(x0);
        return Optimum {
            x: x0.to_vec(),
            f: v,
            evals: 1,
            converged: true,
        };
    }
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    let mut vals: Vec<f64> = Vec::with_capacity(d + 1);
    pts.push(x0.to_vec());
    vals.push(f(x0));
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        vals.push(f(&p));
        pts.push(p);
    }
    let mut evals = d + 1;
    let mut centroid = vec![0.0; d];
    let mut xr = vec![0.0; d];
    let mut xe = vec![0.0; d];
    let mut converged = false;
    let mut order: Vec<usize> = (0..=d).collect();
    while evals < max_evals {
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let (best, worst, second) = (order[0], order[d], order[d - 1]);
        let (fb, fw) = (vals[best], vals[worst]);
        if fw.is_finite() && (fw - fb) <= ftol * (fb.abs() + 1e-12) {
            converged = true;
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &k in &order[..d] {
            for (c, v) in centroid.iter_mut().zip(&pts[k]) {
                *c += v / d as f64;
            }
        }
        for ((r, c), w) in xr.iter_mut().zip(&centroid).zip(&pts[worst]) {
            *r = c + (c - w);
        }
        let fr = f(&xr);
        evals += 1;
        if fr < fb {
            for ((e, c), w) in xe.iter_mut().zip(&centroid).zip(&pts[worst]) {
                *e = c + 2.0 * (c - w);
            }
            let fe = f(&xe);
            evals += 1;
            if fe < fr {
                pts[worst].copy_from_slice(&xe);
                vals[worst] = fe;
            } else {
                pts[worst].copy_from_slice(&xr);
                vals[worst] = fr;
            }
            continue;
        }
        if fr < vals[second] {
            pts[worst].copy_from_slice(&xr);
            vals[worst] = fr;
            continue;
        }
        // contraction: outside if the reflection improved on the worst, else inside
        let outside = fr < fw;
        for ((e, c), w) in xe.iter_mut().zip(&centroid).zip(&pts[worst]) {
            *e = if outside {
                c + 0.5 * (c - w)
            } else {
                c - 0.5 * (c - w)
            };
        }
        let fc = f(&xe);
        evals += 1;
        if fc < fr.min(fw) {
            pts[worst].copy_from_slice(&xe);
            vals[worst] = fc;
            continue;
        }
        // shrink towards the best
        let bp = pts[best].clone();
        for k in 0..=d {
            if k == best {
                continue;
            }
            for (v, b) in pts[k].iter_mut().zip(&bp) {
                *v = b + 0.5 * (*v - b);
            }
            vals[k] = f(&pts[k]);
            evals += 1;
        }
    }
    let best = (0..=d)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    Optimum {
        x: pts[best].clone(),
        f: vals[best],
        evals,
        converged,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The tridiagonal Toeplitz matrix of order `q` with 2 on the diagonal and −1 beside it,
    /// row-major: its spectrum has a closed form.
    pub(crate) fn second_difference(q: usize) -> Vec<f64> {
        let mut a = vec![0.0; q * q];
        for i in 0..q {
            a[i * q + i] = 2.0;
            if i + 1 < q {
                a[i * q + i + 1] = -1.0;
                a[(i + 1) * q + i] = -1.0;
            }
        }
        a
    }

    #[test]
    fn dots_match_the_closed_form_sum() {
        // Σ_{i=1..n} i·(n + 1 − i) = n(n + 1)(n + 2)/6, exact in f64 at these sizes; n = 0..9
        // covers every remainder of the four lanes
        for n in 0..10usize {
            let a: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            let b: Vec<f64> = (1..=n).map(|i| (n + 1 - i) as f64).collect();
            let want = (n * (n + 1) * (n + 2) / 6) as f64;
            assert_eq!(dot(&a, &b), want, "n = {n}");
            assert_eq!(dot_in_order(&a, &b), want, "n = {n}");
        }
        // the two orders differ by rounding (why both exist): at 2^56 (ulp 16) each 6 added in
        // order is lost, while the lanes first add 6 + 6 = 12, which rounds 2^56 + 12 up to
        // 2^56 + 16
        let big = 2f64.powi(56);
        let a = [big, 6.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, -big];
        let b = [1.0; 9];
        assert_eq!(dot_in_order(&a, &b), 0.0);
        assert_eq!(dot(&a, &b), 16.0);
    }

    #[test]
    fn cholesky_of_a_known_factor() {
        // A = L·Lᵀ with L = [2 0 0; 6 1 0; −8 5 3]; x = (1, 2, 3) gives r = A·x = (−20, −43, 192)
        let mut a = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
        let mut r = [-20.0, -43.0, 192.0];
        let x = cholesky_solve(&mut a, &mut r, 3).unwrap();
        for (got, want) in x.iter().zip([1.0, 2.0, 3.0]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        // the lower triangle now holds L
        for (i, j, l) in [
            (0, 0, 2.0),
            (1, 0, 6.0),
            (1, 1, 1.0),
            (2, 0, -8.0),
            (2, 1, 5.0),
        ] {
            assert!(
                (a[i * 3 + j] - l).abs() < 1e-12,
                "L[{i}][{j}] = {}",
                a[i * 3 + j]
            );
        }
        assert!((a[8] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn cholesky_refuses_what_is_not_positive_definite() {
        // eigenvalues 3 and −1
        assert!(cholesky_solve(&mut [1.0, 2.0, 2.0, 1.0], &mut [1.0, 1.0], 2).is_none());
        // singular (rank 1)
        assert!(cholesky_solve(&mut [1.0, 1.0, 1.0, 1.0], &mut [1.0, 1.0], 2).is_none());
        assert!(cholesky_solve(&mut [f64::NAN], &mut [1.0], 1).is_none());
    }

    #[test]
    fn jacobi_reconstructs_matrix() {
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let (e, v) = sym_eigen(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * e[k] * v[j * 3 + k]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        // trace and determinant are preserved: 12 and 4·(15−0.25) − 1·(5−1) + 2·(0.5−6) = 44
        assert!((e.iter().sum::<f64>() - 12.0).abs() < 1e-12);
        assert!((e.iter().product::<f64>() - 44.0).abs() < 1e-10);
    }

    #[test]
    fn jacobi_finds_the_spectrum_of_the_second_difference_matrix() {
        // tridiagonal (−1, 2, −1) of order q: eigenvalues 2 − 2·cos(kπ/(q + 1)), k = 1..=q, with
        // eigenvectors sin(jkπ/(q + 1)), j = 1..=q
        let q = 7;
        let a = second_difference(q);
        let (e, v) = sym_eigen(&a, q);
        let theta = std::f64::consts::PI / (q + 1) as f64;
        let mut got: Vec<(f64, usize)> = e.iter().copied().zip(0..).collect();
        got.sort_by(|x, y| x.0.total_cmp(&y.0));
        for (k, &(ek, col)) in got.iter().enumerate() {
            let k = k + 1;
            let want = 2.0 - 2.0 * (k as f64 * theta).cos();
            assert!((ek - want).abs() < 1e-12, "eigenvalue {k}: {ek} vs {want}");
            // the column is ± the normalised sine vector
            let s: Vec<f64> = (1..=q)
                .map(|j| (j as f64 * k as f64 * theta).sin())
                .collect();
            let norm = dot_in_order(&s, &s).sqrt();
            let c: f64 = (0..q).map(|j| v[j * q + col] * s[j] / norm).sum();
            assert!((c.abs() - 1.0).abs() < 1e-12, "eigenvector {k}: cosine {c}");
        }
    }

    #[test]
    fn jacobi_leaves_a_diagonal_matrix_alone() {
        let (e, v) = sym_eigen(&[3.0, 0.0, 0.0, -1.0], 2);
        assert_eq!(e, vec![3.0, -1.0]);
        assert_eq!(v, vec![1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn nelder_mead_reaches_the_rosenbrock_minimum() {
        // f(x, y) = (1 − x)² + 100·(y − x²)², minimum 0 at (1, 1), from the classic (−1.2, 1)
        let mut evals = 0;
        let mut f = |x: &[f64]| {
            evals += 1;
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let o = nelder_mead(&mut f, &[-1.2, 1.0], 0.5, 1e-14, 5_000);
        assert!(o.converged, "{} evaluations", o.evals);
        assert!(
            (o.x[0] - 1.0).abs() < 1e-3 && (o.x[1] - 1.0).abs() < 1e-3,
            "{:?}",
            o.x
        );
        assert!(o.f < 1e-8, "f = {}", o.f);
        assert_eq!(o.evals, evals);
    }

    #[test]
    fn nelder_mead_on_a_quadratic_and_its_budget() {
        // Σ (i + 1)·(x_i − i)², minimum 0 at (0, 1, 2, 3)
        let mut f = |x: &[f64]| {
            x.iter()
                .enumerate()
                .map(|(i, v)| (i + 1) as f64 * (v - i as f64).powi(2))
                .sum::<f64>()
        };
        let o = nelder_mead(&mut f, &[5.0; 4], 1.0, 1e-16, 20_000);
        for (i, v) in o.x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-4, "{:?}", o.x);
        }
        // a budget too small to converge: the best point so far, flagged
        let o = nelder_mead(&mut f, &[5.0; 4], 1.0, 1e-16, 20);
        assert!(!o.converged);
        assert!(o.evals <= 20 + 2 + 4, "{}", o.evals);
        assert!(o.f < f(&[5.0; 4]));
        // no dimension: one evaluation
        let mut g = |_: &[f64]| 7.0;
        let o = nelder_mead(&mut g, &[], 1.0, 1e-4, 10);
        assert_eq!((o.f, o.evals, o.converged), (7.0, 1, true));
    }
}

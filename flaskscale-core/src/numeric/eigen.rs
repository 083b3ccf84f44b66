//! Eigendecomposition of a small dense symmetric matrix by Householder reduction to tridiagonal
//! form and the implicit QL algorithm with Wilkinson-type shifts (Golub & Van Loan, *Matrix
//! Computations*, §8.3; the EISPACK `tred2`/`tql2` pair): about `9q³` flops for a `q × q`
//! matrix with its eigenvectors, where cyclic Jacobi sweeps cost about `3q³` each and take
//! six to ten of them. The Fourier regression decomposes its Gram matrix once per fit, and a
//! backtest fits it at every origin, so this is on the AutoForecaster's hot path.

/// Most QL iterations spent on one eigenvalue before giving up (two or three are usual).
const MAX_ITERATIONS: usize = 60;

/// The eigenvalues and eigenvectors of the symmetric `q × q` matrix `a` (row-major; only the
/// lower triangle is read): `(values, vectors)` with eigenvector `k` in column `k` of the
/// row-major `vectors`, so `a = V·diag(values)·Vᵀ`. Values in no particular order. `None`
/// when the QL iteration does not converge (non-finite entries), for the caller to fall back.
pub(crate) fn symmetric(a: &[f64], q: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if a.len() != q * q || !a.iter().all(|v| v.is_finite()) {
        return None;
    }
    let mut z = a.to_vec();
    let mut d = vec![0.0; q];
    let mut e = vec![0.0; q];
    tridiagonalize(&mut z, q, &mut d, &mut e);
    ql_implicit(&mut z, q, &mut d, &mut e)?;
    Some((d, z))
}

/// Householder reduction of the symmetric `z` (lower triangle) to a tridiagonal matrix with
/// diagonal `d` and sub-diagonal `e[1..]`; `z` is overwritten with the orthogonal matrix of the
/// accumulated reflections.
fn tridiagonalize(z: &mut [f64], n: usize, d: &mut [f64], e: &mut [f64]) {
    if n == 0 {
        return;
    }
    // row i is reduced against columns 0..i, from the last row up
    for i in (1..n).rev() {
        let l = i - 1;
        let mut h = 0.0;
        if l > 0 {
            let scale: f64 = z[i * n..i * n + i].iter().map(|v| v.abs()).sum();
            if scale == 0.0 {
                e[i] = z[i * n + l];
            } else {
                for k in 0..=l {
                    z[i * n + k] /= scale;
                    h += z[i * n + k] * z[i * n + k];
                }
                let f = z[i * n + l];
                let g = if f >= 0.0 { -h.sqrt() } else { h.sqrt() };
                e[i] = scale * g;
                h -= f * g;
                z[i * n + l] = f - g;
                let mut f = 0.0;
                for j in 0..=l {
                    // the reflection vector scaled by 1/h, kept in column i
                    z[j * n + i] = z[i * n + j] / h;
                    let mut g = 0.0;
                    for k in 0..=j {
                        g += z[j * n + k] * z[i * n + k];
                    }
                    for k in j + 1..=l {
                        g += z[k * n + j] * z[i * n + k];
                    }
                    e[j] = g / h;
                    f += e[j] * z[i * n + j];
                }
                let hh = f / (h + h);
                for j in 0..=l {
                    let f = z[i * n + j];
                    let g = e[j] - hh * f;
                    e[j] = g;
                    for k in 0..=j {
                        z[j * n + k] -= f * e[k] + g * z[i * n + k];
                    }
                }
            }
        } else {
            e[i] = z[i * n + l];
        }
        d[i] = h;
    }
    d[0] = 0.0;
    e[0] = 0.0;
    // accumulate the reflections into the orthogonal matrix. For each i the sums g[j] read
    // row i and column j above row i, and the updates change only columns j < i above row i,
    // so every g[j] can be summed first (each over k in order, as one at a time) and the rows
    // then updated along j, contiguously
    let mut g = vec![0.0; n];
    for i in 0..n {
        if d[i] != 0.0 {
            let g = &mut g[..i];
            g.fill(0.0);
            for k in 0..i {
                let zik = z[i * n + k];
                for (gj, &zkj) in g.iter_mut().zip(&z[k * n..k * n + i]) {
                    *gj += zik * zkj;
                }
            }
            for k in 0..i {
                let zki = z[k * n + i];
                for (zkj, &gj) in z[k * n..k * n + i].iter_mut().zip(g.iter()) {
                    *zkj -= gj * zki;
                }
            }
        }
        d[i] = z[i * n + i];
        z[i * n + i] = 1.0;
        for j in 0..i {
            z[j * n + i] = 0.0;
            z[i * n + j] = 0.0;
        }
    }
}

/// The eigenvalues (into `d`) and eigenvectors (the columns of `z`, which holds the
/// tridiagonalising transform on entry) of the tridiagonal matrix with diagonal `d` and
/// sub-diagonal `e[1..]`, by implicit QL steps. `None` when an eigenvalue does not converge.
fn ql_implicit(z: &mut [f64], n: usize, d: &mut [f64], e: &mut [f64]) -> Option<()> {
    if n == 0 {
        return Some(());
    }
    // renumber the sub-diagonal: e[i] couples d[i] and d[i + 1]
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    // the rotations combine columns of the transform: held transposed, each column is a
    // contiguous row (the same operations on the same values)
    transpose(z, n);
    for l in 0..n {
        let mut iterations = 0;
        loop {
            // the first negligible sub-diagonal element at or after l splits the matrix
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() + dd == dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > MAX_ITERATIONS {
                return None;
            }
            // shift from the leading 2 × 2 block
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = pythag(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut underflow = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = pythag(f, g);
                e[i + 1] = r;
                if r == 0.0 {
                    // deflate early and start the step again
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                // columns i and i + 1 of the transform, rows i and i + 1 of its transpose
                let (head, tail) = z.split_at_mut((i + 1) * n);
                let zi = &mut head[i * n..];
                for (a, b) in zi.iter_mut().zip(&mut tail[..n]) {
                    let f = *b;
                    *b = s * *a + c * f;
                    *a = c * *a - s * f;
                }
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    transpose(z, n);
    d.iter().all(|v| v.is_finite()).then_some(())
}

/// Transposes the `n × n` row-major `z` in place.
fn transpose(z: &mut [f64], n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            z.swap(i * n + j, j * n + i);
        }
    }
}

/// `√(a² + b²)` without overflow or underflow in the squares. (Written out rather than
/// `f64::hypot`: that links the platform's `hypot`, whose current symbol version would raise
/// the oldest C library the Python wheel runs on.)
fn pythag(a: f64, b: f64) -> f64 {
    let (a, b) = (a.abs(), b.abs());
    if a > b {
        a * (1.0 + (b / a) * (b / a)).sqrt()
    } else if b == 0.0 {
        0.0
    } else {
        b * (1.0 + (a / b) * (a / b)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `V·diag(e)·Vᵀ − a` and `VᵀV − I`, largest absolute entries.
    fn errors(a: &[f64], q: usize, e: &[f64], v: &[f64]) -> (f64, f64) {
        let (mut rec, mut orth) = (0.0f64, 0.0f64);
        for i in 0..q {
            for j in 0..q {
                let r: f64 = (0..q).map(|k| v[i * q + k] * e[k] * v[j * q + k]).sum();
                rec = rec.max((r - a[i * q + j]).abs());
                let o: f64 = (0..q).map(|k| v[k * q + i] * v[k * q + j]).sum();
                orth = orth.max((o - if i == j { 1.0 } else { 0.0 }).abs());
            }
        }
        (rec, orth)
    }

    /// Seeded symmetric matrices (splitmix64 entries in [−1, 1)) of several sizes.
    fn random_symmetric(q: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = state;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        let mut a = vec![0.0; q * q];
        for i in 0..q {
            for j in 0..=i {
                let v = next();
                a[i * q + j] = v;
                a[j * q + i] = v;
            }
        }
        a
    }

    #[test]
    fn reconstructs_random_matrices() {
        for (q, seed) in [(1, 1), (2, 2), (3, 3), (7, 4), (33, 5), (60, 6)] {
            let a = random_symmetric(q, seed);
            let (e, v) = symmetric(&a, q).unwrap();
            let (rec, orth) = errors(&a, q, &e, &v);
            assert!(rec < 1e-12 * q as f64, "q {q}: reconstruction {rec}");
            assert!(orth < 1e-12 * q as f64, "q {q}: orthogonality {orth}");
        }
    }

    /// The tridiagonal Toeplitz matrix with 2 on the diagonal and −1 beside it has the
    /// eigenvalues `2 − 2·cos(kπ/(q + 1))`, `k = 1..=q` (closed form).
    #[test]
    fn second_difference_matrix_has_its_closed_form_eigenvalues() {
        let q = 12;
        let a = crate::numeric::tests::second_difference(q);
        let (e, v) = symmetric(&a, q).unwrap();
        let (rec, orth) = errors(&a, q, &e, &v);
        assert!(rec < 1e-13 && orth < 1e-13, "{rec} {orth}");
        let mut e = e;
        e.sort_by(f64::total_cmp);
        for (k, got) in e.iter().enumerate() {
            let want = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (q + 1) as f64).cos();
            assert!((got - want).abs() < 1e-13, "k {k}: {got} vs {want}");
        }
    }

    /// By hand: [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, −1)/√2, (1, 1)/√2;
    /// a diagonal matrix, the identity (one eigenvalue repeated) and zero are their own answers.
    #[test]
    fn small_cases_by_hand() {
        let (mut e, _) = symmetric(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        e.sort_by(f64::total_cmp);
        assert!(
            (e[0] - 1.0).abs() < 1e-15 && (e[1] - 3.0).abs() < 1e-15,
            "{e:?}"
        );
        for a in [
            vec![5.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0],
            vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            vec![0.0; 9],
        ] {
            let (e, v) = symmetric(&a, 3).unwrap();
            let (rec, orth) = errors(&a, 3, &e, &v);
            assert!(rec < 1e-15 && orth < 1e-15, "{a:?}: {rec} {orth}");
        }
        // 3-4-5, and squares that would overflow or underflow
        assert_eq!(pythag(3.0, -4.0), 5.0);
        assert!((pythag(1e300, 1e300) / (1e300 * std::f64::consts::SQRT_2) - 1.0).abs() < 1e-15);
        assert!((pythag(3e-300, 4e-300) / 5e-300 - 1.0).abs() < 1e-15);
        assert_eq!(pythag(0.0, 0.0), 0.0);
        assert_eq!(symmetric(&[], 0), Some((vec![], vec![])));
        assert_eq!(symmetric(&[1.0, f64::NAN, f64::NAN, 1.0], 2), None);
        assert_eq!(symmetric(&[1.0, 2.0], 2), None);
    }
}

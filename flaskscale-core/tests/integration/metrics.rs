//! The forecast metrics (metrics.rs) against hand-worked values.

use crate::common::close;
use flaskscale_core::metrics;

#[test]
fn metrics_hand_worked() {
    let y = [1.0, 2.0, 3.0, 4.0];
    let f = [2.0, 2.0, 2.0, 2.0];
    close(metrics::mae(&y, &f).unwrap(), 1.0, 1e-15);
    close(metrics::rmse(&y, &f).unwrap(), 1.5f64.sqrt(), 1e-15);
    // 200·(1/3 + 0 + 1/5 + 2/6)/4
    close(
        metrics::smape(&y, &f).unwrap(),
        200.0 * (1.0 / 3.0 + 0.2 + 1.0 / 3.0) / 4.0,
        1e-12,
    );
    // scale: mean |Δ| of 1 2 4 7 = (1+2+3)/3 = 2
    close(
        metrics::mase(&y, &f, &[1.0, 2.0, 4.0, 7.0], 1).unwrap(),
        0.5,
        1e-15,
    );
    // m = 2: |4−1|, |7−2| → 4; MASE = 1/4
    close(
        metrics::mase(&y, &f, &[1.0, 2.0, 4.0, 7.0], 2).unwrap(),
        0.25,
        1e-15,
    );
    // e = −1 0 1 2 at q = .9: 0.1 0 0.9 1.8 → 0.7
    close(metrics::pinball(&y, &f, 0.9).unwrap(), 0.7, 1e-12);
    close(
        metrics::coverage(&y, &[0.0, 2.5, 2.0, 5.0], &[1.0, 3.0, 3.0, 6.0]).unwrap(),
        0.5,
        1e-15,
    );
    assert_eq!(metrics::smape(&[0.0], &[0.0]).unwrap(), 0.0);
    assert!(metrics::mae(&[1.0], &[1.0, 2.0]).is_err());
    assert!(metrics::mae(&[f64::NAN], &[1.0]).is_err());
    assert!(metrics::mase(&y, &f, &[3.0; 5], 1).is_err());
    assert!(metrics::pinball(&y, &f, 1.0).is_err());
}

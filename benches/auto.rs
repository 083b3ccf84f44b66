//! AutoForecaster fit (rolling-origin backtest of the baseline candidates, choice, refit and
//! calibration) on seeded synthetic hourly series with daily and weekly cycles.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flaskscale_core::forecast::AutoForecaster;
use flaskscale_core::Forecaster;
use std::hint::black_box;

/// Hourly load with a daily and a weekly cycle plus seeded noise (splitmix64, uniform).
fn series(n: usize) -> Vec<f64> {
    let mut state: u64 = 42;
    (0..n)
        .map(|t| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
            let tau = std::f64::consts::TAU;
            1000.0
                + 300.0 * (tau * (t % 24) as f64 / 24.0).sin()
                + 100.0 * (tau * (t % 168) as f64 / 168.0).sin()
                + 50.0 * (u - 0.5)
        })
        .collect()
}

fn fit(c: &mut Criterion) {
    let mut g = c.benchmark_group("auto_fit");
    let auto = AutoForecaster {
        season_lengths: Some(vec![24, 168]),
        ..AutoForecaster::default()
    };
    for n in [1_000usize, 10_000] {
        let y = series(n);
        g.bench_with_input(BenchmarkId::new("baselines_24_168", n), &y, |b, y| {
            b.iter(|| auto.fit(black_box(y)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);

//! AutoForecaster fit (rolling-origin backtest of the baseline candidates, choice, refit and
//! calibration) on seeded synthetic hourly series with daily and weekly cycles, and the default
//! AutoForecaster (period detection included) over many generated series of the shape issue 12
//! measured (hourly, 1,000 points, daily and weekly cycles, growth, surges), one after another.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flaskscale_core::forecast::AutoForecaster;
use flaskscale_core::traffic::{generate, FlashCrowd, TrafficSpec};
use flaskscale_core::Forecaster;
use std::hint::black_box;

/// `count` generated hourly series of `n` points: seeds 1.., daily amplitudes, weekend factors,
/// growth and surges varying with the seed.
fn fleet(count: usize, n: usize) -> Vec<Vec<f64>> {
    (0..count as u64)
        .map(|i| {
            let mut s = TrafficSpec::new(1_709_510_400.0, 3600.0, n, 1.0 + (i % 7) as f64);
            s.seed = i + 1;
            s.daily_amplitude = 0.2 + 0.1 * (i % 6) as f64;
            s.daily_peak_hour = (i % 24) as f64;
            s.weekend_factor = 0.6 + 0.1 * (i % 8) as f64;
            s.trend_per_day = 0.01 * (i % 5) as f64;
            if i % 3 == 0 {
                for d in (3..n / 24).step_by(7) {
                    s.flash_crowds.push(FlashCrowd {
                        start: (d * 24 + 18) as f64 * 3600.0,
                        duration: 3.0 * 3600.0,
                        multiplier: 10.0,
                        ramp: 1800.0,
                    });
                }
            }
            generate(&s).unwrap().into_values()
        })
        .collect()
}

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

    let mut g = c.benchmark_group("auto_many");
    g.sample_size(10);
    let auto = AutoForecaster::default();
    let ys = fleet(100, 1000);
    g.bench_with_input(
        BenchmarkId::new("default_100_series", 1000),
        &ys,
        |b, ys| {
            b.iter(|| {
                for y in ys {
                    black_box(auto.fit(black_box(y)).unwrap());
                }
            })
        },
    );
    g.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);

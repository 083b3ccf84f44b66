//! Seasonal and linear forecasters and period detection: fit at n = 1k, 10k, 100k steps of a
//! synthetic hourly load (daily + weekly cycle, trend, seeded noise), and the online update.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flaskscale_core::{detect_periods, Fitted, Forecaster, FourierRegression, LinearTrend};
use std::f64::consts::TAU;
use std::hint::black_box;

fn load(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|t| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            let t = t as f64;
            1000.0
                + 0.01 * t
                + 300.0 * (TAU * t / 24.0).sin()
                + 100.0 * (TAU * t / 168.0).cos()
                + 50.0 * (u - 0.5)
        })
        .collect()
}

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn fits(c: &mut Criterion) {
    let mut g = c.benchmark_group("seasonal_fit");
    let fourier = FourierRegression::new(vec![(24.0, 6), (168.0, 3)]);
    for n in SIZES {
        let y = load(n, 7);
        g.bench_with_input(BenchmarkId::new("linear_trend", n), &y, |b, y| {
            b.iter(|| LinearTrend::new().fit(black_box(y)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("fourier_24x6_168x3_gcv", n), &y, |b, y| {
            b.iter(|| fourier.fit(black_box(y)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("detect_periods", n), &y, |b, y| {
            b.iter(|| detect_periods(black_box(y), 500, 0.2).unwrap())
        });
    }
    g.finish();
}

fn updates(c: &mut Criterion) {
    let mut g = c.benchmark_group("seasonal_update_one");
    let y = load(10_000, 9);
    let lin = LinearTrend::new().fit(&y).unwrap();
    let win = LinearTrend::with_window(1000).fit(&y).unwrap();
    let four = FourierRegression::new(vec![(24.0, 6), (168.0, 3)])
        .fit(&y)
        .unwrap();
    g.bench_function(BenchmarkId::new("linear_trend", 10_000), |b| {
        let mut f = lin.clone();
        b.iter(|| f.update(black_box(&[1234.0])).unwrap())
    });
    g.bench_function(BenchmarkId::new("linear_trend_window_1000", 10_000), |b| {
        let mut f = win.clone();
        b.iter(|| f.update(black_box(&[1234.0])).unwrap())
    });
    g.bench_function(BenchmarkId::new("fourier_24x6_168x3", 10_000), |b| {
        let mut f = four.clone();
        b.iter(|| f.update(black_box(&[1234.0])).unwrap())
    });
    g.bench_function(BenchmarkId::new("fourier_predict_48", 10_000), |b| {
        let mut out = flaskscale_core::Forecast::default();
        b.iter(|| four.predict_into(48, &[0.95], &mut out).unwrap())
    });
    g.finish();
}

criterion_group!(benches, fits, updates);
criterion_main!(benches);

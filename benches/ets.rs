//! Holt-Winters (ETS) speed: fit + forecast with intervals on seeded synthetic series at several
//! lengths and season lengths, on the three training sets of the peer comparison (Wikipedia
//! 696 hourly points m = 24, NASA 1440 hourly m = 24, NASA 4032 five-minute m = 288), and the
//! online update per value.
//!
//! `cargo bench -p flaskscale-core --bench ets`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flaskscale_core::{Aggregation, CsvOptions, Fitted, Forecaster, HoltWinters, Series};
use std::hint::black_box;

/// A seeded synthetic load: level 1000, slight trend, a daily cycle of period `m`, noise.
fn synthetic(n: usize, m: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|t| {
            let phase = std::f64::consts::TAU * (t % m) as f64 / m as f64;
            1000.0 + 0.01 * t as f64 + 300.0 * phase.sin() + 60.0 * (uniform() - 0.5)
        })
        .collect()
}

fn fit_predict(c: &mut Criterion) {
    let mut g = c.benchmark_group("ets_fit_predict");
    g.sample_size(10);
    for &(n, m) in &[
        (1_000usize, 24usize),
        (10_000, 24),
        (100_000, 24),
        (10_000, 288),
    ] {
        let y = synthetic(n, m, 42);
        let spec = HoltWinters::new(m);
        g.bench_with_input(BenchmarkId::new(format!("m{m}"), n), &y, |b, y| {
            b.iter(|| {
                let f = spec.fit(black_box(y)).unwrap();
                black_box(f.predict(48, &[0.8, 0.95]).unwrap())
            })
        });
    }
    g.finish();
}

/// The training sets of the peer comparison (`tests/data/ets_peers.json`), so the figures can be
/// set beside the peers' timings on the same machine.
fn peer_cases(c: &mut Criterion) {
    let traces = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces/");
    let load = |rel: &str| Series::from_csv_path(format!("{traces}{rel}"), CsvOptions::default());
    let (Ok(wiki), Ok(nasa)) = (
        load("wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv"),
        load("nasa-http-1995/nasa_http_1995_per_minute.csv"),
    ) else {
        eprintln!("traces not found beside the repository: skipping the peer-case benches");
        return;
    };
    let filled = |step: f64| {
        nasa.resample(step, Aggregation::Sum)
            .and_then(|s| s.fill_gaps())
            .map(|(s, _)| s.into_values())
    };
    let (Ok(nasa_h), Ok(nasa_5)) = (filled(3600.0), filled(300.0)) else {
        return;
    };
    let n5 = nasa_5.len();
    let cases = [
        ("wikipedia_696_m24", wiki.values()[..696].to_vec(), 24, 48),
        ("nasa_hourly_1440_m24", nasa_h[..1440].to_vec(), 24, 48),
        (
            "nasa_5min_4032_m288",
            nasa_5[n5 - 288 - 4032..n5 - 288].to_vec(),
            288,
            288,
        ),
    ];
    let mut g = c.benchmark_group("ets_peer_cases_fit_predict");
    for (name, train, m, h) in cases {
        let spec = HoltWinters::new(m);
        g.bench_function(name, |b| {
            b.iter(|| {
                let f = spec.fit(black_box(&train)).unwrap();
                black_box(f.predict(h, &[0.8, 0.95]).unwrap())
            })
        });
    }
    g.finish();
}

fn update(c: &mut Criterion) {
    let y = synthetic(2_000, 24, 7);
    let more = synthetic(4_096, 24, 8);
    let mut f = HoltWinters::new(24).fit(&y).unwrap();
    let mut i = 0usize;
    c.bench_function("ets_update_one_value_m24", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            f.update(black_box(&more[i..i + 1])).unwrap();
        })
    });
}

criterion_group!(benches, fit_predict, peer_cases, update);
criterion_main!(benches);

//! Criterion benches of the batch API: many series through `forecast_many` (rayon over the
//! series) against the loop over the same series, one fit after another, for Holt-Winters and
//! the AutoForecaster on generated hourly series of 850 points; and `simulate_many` with the
//! command line's policies against the loop of `simulate` calls, on a week per minute.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flaskscale_core::batch::{forecast_many, simulate_many, FleetPlan};
use flaskscale_core::sim::Progress;
use flaskscale_core::traffic::{generate, TrafficSpec};
use flaskscale_core::{AutoForecaster, Fitted, HoltWinters, ModelSpec, Series};
use std::hint::black_box;
use std::time::Duration;

fn fleet(n: usize, step: f64, len: usize) -> Vec<Series> {
    (0..n)
        .map(|i| {
            let mut spec = TrafficSpec::new(1_700_000_000.0, step, len, 2.0 + i as f64 % 17.0);
            spec.seed = 1000 + i as u64;
            spec.daily_amplitude = 0.3 + 0.4 * ((i % 5) as f64 / 5.0);
            spec.daily_peak_hour = (i % 24) as f64;
            spec.weekend_factor = 0.8 + 0.1 * (i % 4) as f64;
            generate(&spec).expect("valid spec")
        })
        .collect()
}

fn forecasts(c: &mut Criterion) {
    let mut g = c.benchmark_group("forecast_many");
    g.measurement_time(Duration::from_secs(5)).sample_size(10);
    let n = 64;
    let series: Vec<Vec<f64>> = fleet(n, 3600.0, 850)
        .into_iter()
        .map(Series::into_values)
        .collect();
    g.throughput(Throughput::Elements(n as u64));
    for (name, model) in [
        ("holt_winters", ModelSpec::HoltWinters(HoltWinters::new(24))),
        ("auto", ModelSpec::Auto(AutoForecaster::default())),
    ] {
        g.bench_with_input(
            BenchmarkId::new(format!("{name}/batch"), n),
            &series,
            |b, s| {
                b.iter(|| {
                    forecast_many(black_box(s), &model, 48, &[0.9], &Progress::new()).unwrap()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new(format!("{name}/loop"), n),
            &series,
            |b, s| {
                b.iter(|| {
                    s.iter()
                        .map(|y| model.fit(black_box(y)).and_then(|f| f.predict(48, &[0.9])))
                        .collect::<Vec<_>>()
                })
            },
        );
    }
    g.finish();
}

fn simulations(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate_many");
    g.measurement_time(Duration::from_secs(5)).sample_size(10);
    let n = 8;
    let traces = fleet(n, 60.0, 7 * 1440);
    let plan = FleetPlan::standard();
    g.throughput(Throughput::Elements((n * 7 * 1440) as u64));
    g.bench_with_input(BenchmarkId::new("batch", n), &traces, |b, t| {
        b.iter(|| simulate_many(black_box(t), &plan, &Progress::new()).unwrap())
    });
    g.bench_with_input(BenchmarkId::new("loop", n), &traces, |b, t| {
        b.iter(|| {
            t.iter()
                .map(|trace| simulate_many(std::slice::from_ref(trace), &plan, &Progress::new()))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, forecasts, simulations);
criterion_main!(benches);

//! Criterion benches of the simulator: trace steps per second per policy without refits (the
//! reactive reference policy and the fixed fleet on a seeded synthetic trace), and the NASA
//! per-minute trace (89,280 steps) through the oracle and the reactive reference, and through
//! the HPA and the predictive autoscaler as `flaskscale simulate` runs them.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::policy::{HpaConfig, HpaPolicy, PredictiveConfig};
use flaskscale_core::sim::{
    replay_model, run_policy, simulate, AutoscalerSim, FixedFleet, HpaSim, Oracle, SimConfig,
    SimPolicy, TargetTracking,
};
use flaskscale_core::traffic::{generate, TrafficSpec};
use flaskscale_core::{CsvOptions, Series};
use std::hint::black_box;
use std::time::Duration;

fn synthetic(n: usize) -> Series {
    let mut spec = TrafficSpec::new(0.0, 60.0, n, 20.0);
    spec.seed = 42;
    spec.daily_amplitude = 0.6;
    spec.daily_peak_hour = 19.0;
    spec.weekend_factor = 1.3;
    generate(&spec).expect("valid spec")
}

fn steps_per_second(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim_steps");
    g.measurement_time(Duration::from_secs(3)).sample_size(10);
    let cfg = SimConfig::new(5.0, 120.0).expect("valid config");
    for n in [100_000usize, 1_000_000] {
        let trace = synthetic(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("reactive", n), &trace, |b, t| {
            b.iter(|| {
                let mut p = TargetTracking::new(5.0, 0.8, 60.0, 60.0).expect("valid");
                run_policy(black_box(t), &mut p, &cfg).expect("runs")
            })
        });
        g.bench_with_input(BenchmarkId::new("fixed_fleet", n), &trace, |b, t| {
            b.iter(|| {
                let mut p = FixedFleet::new(12, 60.0).expect("valid");
                run_policy(black_box(t), &mut p, &cfg).expect("runs")
            })
        });
    }
    g.finish();
}

fn nasa(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/traces/nasa-http-1995/nasa_http_1995_per_minute.csv"
    );
    let Ok(trace) = Series::from_csv_path(path, CsvOptions::default()) else {
        return;
    };
    let mut g = c.benchmark_group("sim_nasa");
    g.measurement_time(Duration::from_secs(3)).sample_size(10);
    g.throughput(Throughput::Elements(trace.len() as u64));
    let cfg = SimConfig::new(0.5, 120.0).expect("valid config");
    g.bench_function(
        BenchmarkId::new("oracle_and_reactive_parallel", trace.len()),
        |b| {
            b.iter(|| {
                let policies: Vec<Box<dyn SimPolicy>> = vec![
                    Box::new(Oracle::new(&trace, 0.5, 120.0, 60.0).expect("valid")),
                    Box::new(TargetTracking::new(0.5, 0.8, 60.0, 60.0).expect("valid")),
                ];
                simulate(black_box(&trace), policies, &cfg).expect("runs")
            })
        },
    );
    // what `flaskscale simulate` replays besides the references: the HPA at 70% and the
    // predictive autoscaler with the replay model, refitted hourly (capacity = peak / 20)
    let capacity = trace.stats().max / trace.step() / 20.0;
    let mut cfg = SimConfig::new(capacity, 120.0).expect("valid config");
    cfg.max_replicas = 100;
    g.bench_function(
        BenchmarkId::new("hpa_and_predictive_parallel", trace.len()),
        |b| {
            b.iter(|| {
                let hpa = HpaPolicy::new(HpaConfig::new(0.7 * capacity, 1, 100)).expect("valid");
                let mut pc = PredictiveConfig::new(capacity, 1, 100);
                pc.startup_seconds = 120.0;
                pc.quantile = 0.9;
                pc.hpa = HpaConfig::new(0.8 * capacity, 1, 100);
                let mut ac = AutoscalerConfig::new(trace.step(), replay_model(&trace), pc);
                ac.refit_every = 60;
                let auto = Autoscaler::new(ac).expect("valid");
                let policies: Vec<Box<dyn SimPolicy>> = vec![
                    Box::new(HpaSim::new("hpa", hpa, trace.step(), 15.0).expect("valid")),
                    Box::new(AutoscalerSim::new("predictive", auto)),
                ];
                simulate(black_box(&trace), policies, &cfg).expect("runs")
            })
        },
    );
    g.finish();
}

criterion_group!(benches, steps_per_second, nasa);
criterion_main!(benches);

//! Criterion benches of the per-tick paths: the HPA decision alone, the autoscaler's decision
//! with a fitted model (no refit due), and its observe.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::forecast::{ModelSpec, MultiSeasonalNaive, SeasonalNaive};
use flaskscale_core::policy::{HpaConfig, HpaPolicy, PredictiveConfig};
use std::hint::black_box;

fn load(t: usize) -> f64 {
    6000.0
        + 3000.0 * ((t % 1440) as f64 / 1440.0 * std::f64::consts::TAU).sin()
        + ((t * 7919) % 101) as f64
}

fn hpa(c: &mut Criterion) {
    let mut h = HpaPolicy::new(HpaConfig::new(50.0, 1, 100)).unwrap();
    let mut t = 0.0;
    c.bench_function("hpa_recommend", |b| {
        b.iter(|| {
            t += 15.0;
            h.recommend(t, 10, black_box(520.0)).unwrap()
        })
    });
}

fn autoscaler(c: &mut Criterion) {
    let mut g = c.benchmark_group("autoscaler");
    for (name, model) in [
        (
            "seasonal_naive",
            ModelSpec::SeasonalNaive(SeasonalNaive::new(1440)),
        ),
        (
            "multi_seasonal_naive",
            ModelSpec::MultiSeasonalNaive(MultiSeasonalNaive {
                periods: vec![1440, 10080],
            }),
        ),
    ] {
        let mut policy = PredictiveConfig::new(20.0, 1, 100);
        policy.startup_seconds = 120.0;
        let mut cfg = AutoscalerConfig::new(60.0, model, policy);
        cfg.refit_every = usize::MAX / 2; // measure decisions, not refits
        let mut a = Autoscaler::new(cfg).unwrap();
        let n = 3 * 10080;
        for t in 0..n {
            a.observe(60.0 * t as f64, load(t)).unwrap();
        }
        a.recommend(60.0 * n as f64, 10).unwrap(); // the one fit
                                                   // one sync tick every 15 s: the step's requests so far, then a decision (a step of
                                                   // 60 s closes every fourth tick and updates the model online)
        let mut now = 60.0 * n as f64;
        let mut i = n * 4;
        let mut tick = a.clone();
        g.bench_with_input(
            BenchmarkId::new("tick_observe_recommend", name),
            &(),
            |b, _| {
                b.iter(|| {
                    now += 15.0;
                    i += 1;
                    tick.observe(now, black_box(load(i / 4) / 4.0)).unwrap();
                    tick.recommend(now, 10).unwrap()
                })
            },
        );
        let now = 60.0 * n as f64;
        let mut t = now;
        g.bench_with_input(
            BenchmarkId::new("observe_within_step", name),
            &(),
            |b, _| {
                b.iter(|| {
                    t += 1e-6;
                    a.observe(t, black_box(1.0)).unwrap()
                })
            },
        );
        let mut k = (t / 60.0).ceil() as usize + 1;
        g.bench_with_input(BenchmarkId::new("observe_new_step", name), &(), |b, _| {
            b.iter(|| {
                k += 1;
                a.observe(60.0 * k as f64, black_box(load(k))).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hpa, autoscaler);
criterion_main!(benches);

//! Criterion benches of ingestion and the baselines: CSV load of the NASA trace, access-log
//! parsing throughput, SeasonalNaive fit + predict.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flaskscale_core::access_log::{count_access_log, AccessLogOptions};
use flaskscale_core::{Fitted, Forecaster, SeasonalNaive, Series};
use std::hint::black_box;

fn nasa_csv() -> Option<String> {
    let path = format!(
        "{}/../../shared/traces/nasa-http-1995/nasa_http_1995_per_minute.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).ok()
}

/// A Combined Log Format log of `n` lines, one request every 50 ms, offsets varying by line.
fn synthetic_log(n: usize) -> Vec<u8> {
    let months = ["Jan", "Feb", "Mar"];
    let paths = [
        "/",
        "/api/v1/orders",
        "/static/app.js",
        "/healthz",
        "/images/logo.png",
    ];
    let mut out = String::with_capacity(n * 150);
    for i in 0..n {
        let t = i / 20; // seconds since start
        let (d, h, m, s) = (1 + t / 86_400 % 28, t / 3600 % 24, t / 60 % 60, t % 60);
        out.push_str(&format!(
            "10.1.{}.{} - - [{d:02}/{}/2024:{h:02}:{m:02}:{s:02} +0000] \"GET {} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
            i % 256,
            (i / 256) % 256,
            months[(t / (86_400 * 28)) % 3],
            paths[i % paths.len()],
            100 + i % 5000
        ));
    }
    out.into_bytes()
}

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ingest");
    if let Some(text) = nasa_csv() {
        g.throughput(Throughput::Elements(89_280));
        g.bench_function("csv_nasa_per_minute_89280_rows", |b| {
            b.iter(|| Series::from_csv_str(black_box(&text)).unwrap())
        });
        // the same rows with every field quoted, as spreadsheets export them (RFC 4180)
        let quoted: String = text
            .lines()
            .map(|l| {
                let fields: Vec<String> = l.split(',').map(|f| format!("\"{f}\"")).collect();
                fields.join(",") + "\n"
            })
            .collect();
        g.bench_function("csv_nasa_per_minute_89280_rows_quoted", |b| {
            b.iter(|| Series::from_csv_str(black_box(&quoted)).unwrap())
        });
    }
    for n in [100_000usize, 1_000_000] {
        let log = synthetic_log(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("access_log_lines", n), &log, |b, log| {
            b.iter(|| count_access_log(black_box(log), &AccessLogOptions::with_step(60.0)).unwrap())
        });
    }
    g.finish();
}

fn baselines(c: &mut Criterion) {
    let mut g = c.benchmark_group("seasonal_naive_fit_predict");
    for n in [1_000usize, 10_000, 100_000] {
        let y: Vec<f64> = (0..n)
            .map(|i| 100.0 + 40.0 * ((i % 24) as f64 * 0.2618).sin() + ((i * 7919) % 13) as f64)
            .collect();
        g.bench_with_input(BenchmarkId::new("m24_h48", n), &y, |b, y| {
            b.iter(|| {
                let f = SeasonalNaive::new(24).fit(black_box(y)).unwrap();
                f.predict(48, &[0.8, 0.95]).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ingest, baselines);
criterion_main!(benches);

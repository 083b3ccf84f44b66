//! Helpers shared by the integration tests.
#![allow(dead_code)]

use flaskscale_core::{CsvOptions, Series};

/// Path of a shared trace, relative to this crate: `../../shared/traces/<rel>`.
pub fn trace_path(rel: &str) -> String {
    format!("{}/../../shared/traces/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// Loads a shared trace by its path under `shared/traces`.
pub fn trace(rel: &str) -> Series {
    Series::from_csv_path(trace_path(rel), CsvOptions::default())
        .unwrap_or_else(|e| panic!("loading {rel}: {e}"))
}

pub const NASA: &str = "nasa-http-1995/nasa_http_1995_per_minute.csv";
pub const WIKIPEDIA: &str = "wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv";
pub const TWITTER: &str = "twitter-stream-2021-08/twitter_stream_2021-08_per_minute.csv";

/// Asserts |a - b| <= tol, with a message.
#[track_caller]
pub fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} != {b} (tol {tol})");
}

/// Full path of the Wikipedia hourly trace.
pub const WIKI_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/traces/wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv"
);
/// Full path of the NASA per-minute trace.
pub const NASA_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/traces/nasa-http-1995/nasa_http_1995_per_minute.csv"
);

/// Loads a series from a CSV path.
pub fn load(path: &str) -> Series {
    Series::from_csv_path(path, CsvOptions::default()).unwrap()
}

/// Seeded standard normal draws.
pub fn normals(seed: u64, n: usize) -> Vec<f64> {
    let mut r = flaskscale_core::traffic::Rng::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

/// Whether `a` and `b` agree to `tol` relative to their size (absolute below 1).
pub fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Hourly load with a trend, two daily and two weekly harmonics.
pub fn two_cycles(t: f64) -> f64 {
    use std::f64::consts::TAU;
    100.0
        + 0.05 * t
        + 10.0 * (TAU * t / 24.0).sin()
        + 5.0 * (2.0 * TAU * t / 24.0).cos()
        + 8.0 * (TAU * t / 168.0).sin()
        - 3.0 * (TAU * t / 168.0).cos()
}

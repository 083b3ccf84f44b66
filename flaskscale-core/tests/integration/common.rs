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

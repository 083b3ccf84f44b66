//! Holt-Winters against the peers' backtest accuracy on real traces
//! (`tests/data/ets_peers.json`, recorded with statsmodels and statsforecast).

use flaskscale_core::metrics::mase;
use flaskscale_core::{Aggregation, CsvOptions, Fitted, Forecaster, HoltWinters, Series};

const TRACES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces/");
const PEERS: &str = include_str!("../data/ets_peers.json");

fn load(rel: &str) -> Series {
    Series::from_csv_path(format!("{TRACES}{rel}"), CsvOptions::default()).unwrap()
}

/// The series of a case, prepared as the recording script does: sum-resample (a bin with a
/// missing slot is missing), then fill gaps linearly.
fn series(name: &str) -> Vec<f64> {
    if name.starts_with("wikipedia") {
        return load("wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv")
            .into_values();
    }
    let nasa = load("nasa-http-1995/nasa_http_1995_per_minute.csv");
    let step = if name.contains("5min") { 300.0 } else { 3600.0 };
    let (s, _) = nasa
        .resample(step, Aggregation::Sum)
        .unwrap()
        .fill_gaps()
        .unwrap();
    s.into_values()
}

struct Case {
    name: String,
    train: (usize, usize),
    test: (usize, usize),
    m: usize,
    mase_m: usize,
    /// (peer, MASE at the main split, mean MASE over the rolling origins)
    peers: Vec<(String, f64, Option<f64>)>,
    origins: Vec<((usize, usize), (usize, usize))>,
}

fn cases() -> Vec<Case> {
    let v: serde_json::Value = serde_json::from_str(PEERS).unwrap();
    let pair = |x: &serde_json::Value| {
        (
            x[0].as_u64().unwrap() as usize,
            x[1].as_u64().unwrap() as usize,
        )
    };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            train: pair(&c["train"]),
            test: pair(&c["test"]),
            m: c["m"].as_u64().unwrap() as usize,
            mase_m: c["mase_m"].as_u64().unwrap() as usize,
            peers: c["peers"]
                .as_object()
                .unwrap()
                .iter()
                .filter_map(|(k, p)| {
                    p["mase"]
                        .as_f64()
                        .map(|x| (k.clone(), x, p["rolling_mean_mase"].as_f64()))
                })
                .collect(),
            origins: c["rolling_origins"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| (pair(&o[0]), pair(&o[1])))
                .collect(),
        })
        .collect()
}

fn our_mase(c: &Case, y: &[f64], train: (usize, usize), test: (usize, usize)) -> f64 {
    let train = &y[train.0..train.1];
    let test = &y[test.0..test.1];
    let fitted = HoltWinters::new(c.m).fit(train).unwrap();
    let fc = fitted.predict(test.len(), &[0.8]).unwrap();
    assert!(fc.mean.iter().all(|v| v.is_finite()), "{}", c.name);
    mase(test, &fc.mean, train, c.mase_m).unwrap()
}

#[test]
fn peers_file_is_complete() {
    let cs = cases();
    assert_eq!(cs.len(), 4);
    assert!(cs
        .iter()
        .all(|c| c.peers.len() == 2 && c.origins.len() == 5));
}

/// Our MASE at the main split and its mean over the rolling origins against the peers'.
///
/// One 48-step origin is noisy: on these traces the peers' own MASE ranges 0.46–2.04 across
/// five neighbouring origins, and which of the two peers wins flips from origin to origin. The
/// assertion is therefore on the mean over the five recorded origins: ours must be within 5 % of
/// the peers' average and within 10 % of the better peer. The main-split figures are printed
/// (run with `--nocapture`) and reported, not asserted.
fn check_case(name: &str) {
    let c = cases().into_iter().find(|c| c.name == name).unwrap();
    let y = series(&c.name);
    let main = our_mase(&c, &y, c.train, c.test);
    let roll: Vec<f64> = c
        .origins
        .iter()
        .map(|&(a, b)| our_mase(&c, &y, a, b))
        .collect();
    let ours = roll.iter().sum::<f64>() / roll.len() as f64;
    eprintln!(
        "{}: ours main {main:.4} rolling mean {ours:.4}; peers (main, rolling mean) {:?}",
        c.name, c.peers
    );
    let peers: Vec<f64> = c.peers.iter().filter_map(|p| p.2).collect();
    assert!(!peers.is_empty(), "{}: no peer rolling figures", c.name);
    let avg = peers.iter().sum::<f64>() / peers.len() as f64;
    let best = peers.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        ours <= avg * 1.05,
        "{}: our rolling MASE {ours:.4} vs peers' average {avg:.4}",
        c.name
    );
    assert!(
        ours <= best * 1.10,
        "{}: our rolling MASE {ours:.4} vs the best peer {best:.4}",
        c.name
    );
}

#[test]
fn wikipedia_hourly_m24_matches_peers() {
    check_case("wikipedia_hourly_m24");
}

#[test]
fn wikipedia_hourly_m168_matches_peers() {
    check_case("wikipedia_hourly_m168");
}

#[test]
fn nasa_hourly_m24_matches_peers() {
    check_case("nasa_hourly_m24");
}

#[test]
fn nasa_5min_m288_matches_peers() {
    check_case("nasa_5min_m288");
}

/// The objective itself: with additive Gaussian errors, maximum likelihood is least squares on
/// the one-step errors, which statsmodels minimises too (with all initial states free). Where
/// our fit refines every initial state (m = 24) it must reach statsmodels' SSE or better; where
/// the seasonal states keep their decomposition values (m = 168, 288, for speed) it may lose a
/// bounded amount. The least-squares fit is the non-robust one (`robust: false`): the robust fit
/// learns its parameters from the history with its spikes replaced, so it does not minimise the
/// SSE of the data as observed.
#[test]
fn in_sample_sse_reaches_statsmodels() {
    let v: serde_json::Value = serde_json::from_str(PEERS).unwrap();
    for c in cases() {
        let entry = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == c.name.as_str())
            .unwrap();
        let theirs = entry["peers"]["statsmodels"]["in_sample_sse"]
            .as_f64()
            .unwrap();
        let y = series(&c.name);
        let least_squares = HoltWinters {
            robust: false,
            ..HoltWinters::new(c.m)
        };
        let fitted = least_squares.fit(&y[c.train.0..c.train.1]).unwrap();
        let ours = fitted.params().sse;
        let ratio = ours / theirs;
        eprintln!("{}: SSE ours / statsmodels = {ratio:.4}", c.name);
        let bound = if c.m <= 24 { 1.001 } else { 1.25 };
        assert!(ratio <= bound, "{}: SSE ratio {ratio:.4} > {bound}", c.name);
    }
}

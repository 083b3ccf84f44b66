//! Period detection (periods.rs) on the periods real traces are known to have, and on noise.

use crate::common::{load, normals, NASA_CSV as NASA, WIKI_CSV as WIKI};
use flaskscale_core::{detect_periods, Aggregation};

fn has(found: &[flaskscale_core::DetectedPeriod], p: usize, tol: usize) -> Option<f64> {
    found
        .iter()
        .find(|f| f.period.abs_diff(p) <= tol)
        .map(|f| f.strength)
}

#[test]
fn periods_wikipedia_hourly_daily_and_weekly() {
    let y = load(WIKI);
    let found = detect_periods(y.values(), 372, 0.2).unwrap();
    eprintln!("wikipedia hourly periods: {found:?}");
    let d = has(&found, 24, 0).expect("24 h found");
    let w = has(&found, 168, 0).expect("168 h found");
    assert!(d > 0.5 && w > 0.5, "{d} {w}");
    assert_eq!(found.len(), 2, "nothing else: {found:?}");
}

#[test]
fn periods_nasa_hourly_and_per_minute() {
    let s = load(NASA);
    let hourly = s.resample(3600.0, Aggregation::Sum).unwrap();
    let found = detect_periods(hourly.values(), 24 * 14, 0.2).unwrap();
    eprintln!("nasa hourly periods: {found:?}");
    assert!(has(&found, 24, 0).is_some());
    assert!(has(&found, 168, 0).is_some());
    assert_eq!(found.len(), 2, "nothing else: {found:?}");
    let found = detect_periods(s.values(), 20_000, 0.2).unwrap();
    eprintln!("nasa per-minute periods: {found:?}");
    assert!(has(&found, 1440, 5).is_some());
    assert!(has(&found, 10_080, 30).is_some());
    assert_eq!(found.len(), 2, "nothing else: {found:?}");
}

#[test]
fn periods_white_noise_has_none_strong() {
    for seed in [1, 2, 3] {
        let y: Vec<f64> = normals(seed, 2000).iter().map(|e| 50.0 + e).collect();
        let found = detect_periods(&y, 500, 0.0).unwrap();
        let max = found.iter().map(|f| f.strength).fold(0.0, f64::max);
        assert!(max < 0.2, "seed {seed}: {found:?}");
        assert!(detect_periods(&y, 500, 0.2).unwrap().is_empty());
    }
}

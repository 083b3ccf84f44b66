//! The AutoForecaster against SeasonalNaive on every shared real trace: a nested rolling-origin
//! backtest (5 outer origins, the AutoForecaster running its own inner backtest at each) scored
//! by MASE and by the pinball loss at q = 0.9, both scaled by the in-sample daily seasonal naive
//! error. `benches/accuracy.py` prints the same table with Holt-Winters and Fourier alongside.
//!
//! The Twitter proxy trace one day ahead at 5-minute steps was a known miss (calibrated bands
//! wider than needed gave a higher pinball loss than seasonal naive's); since the ranking loss
//! charges bias, Holt-Winters fits spike-robustly and detected periods are refined, it is
//! asserted like the others. `robust.rs` holds the generated surge and level-shift series.

use crate::common::{trace, NASA, TWITTER, WIKIPEDIA};
use flaskscale_core::forecast::{backtest, AutoForecaster, BacktestConfig, Scores};
use flaskscale_core::{Aggregation, ModelSpec, SeasonalNaive};

fn scores(spec: ModelSpec, y: &[f64], h: usize, m: usize) -> Scores {
    let cfg = BacktestConfig {
        horizon: h,
        n_origins: 5,
        season_length: m,
        ..BacktestConfig::default()
    };
    backtest(&spec, y, &cfg).unwrap().summary
}

fn compare(name: &str, y: &[f64], h: usize, m: usize) -> (Scores, Scores) {
    let auto = AutoForecaster {
        horizon: h,
        ..AutoForecaster::default()
    };
    let a = scores(ModelSpec::Auto(auto), y, h, m);
    let sn = scores(ModelSpec::SeasonalNaive(SeasonalNaive::new(m)), y, h, m);
    println!(
        "{name:<14} h={h:<4} MASE auto {:.3} vs seasonal naive {:.3}; pinball(0.9) {:.3} vs {:.3}; \
         auto coverage 80/95 {:.2}/{:.2}",
        a.mase, sn.mase, a.scaled_pinball, sn.scaled_pinball, a.coverage_80, a.coverage_95
    );
    (a, sn)
}

fn beats(name: &str, y: &[f64], h: usize, m: usize) {
    let (a, sn) = compare(name, y, h, m);
    assert!(
        a.mase < sn.mase,
        "{name} h={h}: MASE {} >= {}",
        a.mase,
        sn.mase
    );
    assert!(
        a.scaled_pinball < sn.scaled_pinball,
        "{name} h={h}: pinball {} >= {}",
        a.scaled_pinball,
        sn.scaled_pinball
    );
}

#[test]
fn auto_beats_seasonal_naive_on_wikipedia_hourly() {
    let y = trace(WIKIPEDIA).into_values();
    beats("wikipedia 1h", &y, 24, 24);
    beats("wikipedia 1h", &y, 48, 24);
}

#[test]
fn auto_beats_seasonal_naive_on_nasa() {
    let nasa = trace(NASA);
    let hourly = nasa.resample(3600.0, Aggregation::Sum).unwrap();
    beats("nasa 1h", hourly.values(), 24, 24);
    let five = nasa.resample(300.0, Aggregation::Sum).unwrap();
    beats("nasa 5min", five.values(), 12, 288);
    beats("nasa 5min", five.values(), 288, 288);
}

#[test]
fn auto_beats_seasonal_naive_on_twitter() {
    let five = trace(TWITTER).resample(300.0, Aggregation::Sum).unwrap();
    beats("twitter 5min", five.values(), 12, 288);
    beats("twitter 5min", five.values(), 288, 288);
}

//! Forecast the next day of the Wikipedia hourly trace with the seasonal naive baseline and
//! score it on the last day held out. Run: `cargo run --release --example forecast`.

use flaskscale_core::{metrics, CsvOptions, Fitted, Forecaster, SeasonalNaive, Series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/traces/wikipedia-en-2016-01/wikipedia_en_pagecounts_2016-01_hourly.csv"
    );
    let series = Series::from_csv_path(path, CsvOptions::default())?;
    let y = series.values();
    let (train, test) = y.split_at(y.len() - 24);

    let fitted = SeasonalNaive::new(24).fit(train)?;
    let fc = fitted.predict(24, &[0.8, 0.95])?;
    let q90 = fc.quantile(0.9)?;
    println!(
        "{} hourly steps; holdout of 24: MASE {:.3}, sMAPE {:.2} %, pinball(0.9) {:.0}",
        series.len(),
        metrics::mase(test, &fc.mean, train, 24)?,
        metrics::smape(test, &fc.mean)?,
        metrics::pinball(test, &q90, 0.9)?
    );
    let band = fc.interval(0.95).ok_or("no 95% band")?;
    for h in [0, 6, 12, 18] {
        println!(
            "{:>3} h ahead: {:>12.0}  [{:>12.0}, {:>12.0}]  actual {:>12.0}",
            h + 1,
            fc.mean[h],
            band.lower[h],
            band.upper[h],
            test[h]
        );
    }
    Ok(())
}

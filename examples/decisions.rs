//! Prints the decisions of an autoscaler with the predictive policy's defaults on a trace, one
//! JSON line per step: `{"step": i, "replicas": n, "reason": "..."}`. The Python, command-line
//! and Flask surfaces are tested against these lines: one set of defaults, the same decisions.
//! Run: `cargo run --release --example decisions TRACE.csv CAPACITY SEASON [STEPS]` — the model
//! is the seasonal naive model of SEASON steps, refitted every 60 steps; at the end of each
//! step the step is observed and one decision is made with the count it left.

use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::forecast::{ModelSpec, SeasonalNaive};
use flaskscale_core::policy::PredictiveConfig;
use flaskscale_core::{CsvOptions, Series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: decisions TRACE.csv CAPACITY SEASON [STEPS]";
    let path = args.next().ok_or(usage)?;
    let capacity: f64 = args.next().ok_or(usage)?.parse()?;
    let season: usize = args.next().ok_or(usage)?.parse()?;
    let trace = Series::from_csv_path(&path, CsvOptions::default())?;
    let steps: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(trace.len());
    let step = trace.step();
    let model = ModelSpec::SeasonalNaive(SeasonalNaive::new(season));
    let mut cfg = AutoscalerConfig::new(step, model, PredictiveConfig::new(capacity, 1, 100));
    cfg.refit_every = 60;
    let mut auto = Autoscaler::new(cfg)?;
    let mut current = 1;
    for (i, &v) in trace.values().iter().take(steps).enumerate() {
        let t = trace.start() + step * i as f64;
        auto.observe(t, v)?;
        let d = auto.recommend(t + step, current)?;
        current = d.replicas;
        println!(
            "{{\"step\": {i}, \"replicas\": {}, \"reason\": \"{}\"}}",
            d.replicas, d.reason
        );
    }
    Ok(())
}

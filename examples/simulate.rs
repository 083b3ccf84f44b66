//! Replays a trace through the reference policies (fixed fleet, oracle, reactive target
//! tracking), prints the cost-versus-violations table, then sweeps the reactive policy's target
//! utilisation and prints the Pareto front.
//! Run: `cargo run --release --example simulate [TRACE.csv [CAPACITY_PER_REPLICA]]`
//! (default: the bundled `datasets/shop-2w` trace, 2 requests per second per replica).

use flaskscale_core::sim::{
    simulate, sweep, FixedFleet, Oracle, SimConfig, SimPolicy, TargetTracking,
};
use flaskscale_core::{CsvOptions, Series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../datasets/shop-2w/shop_2w_per_minute.csv"
        )
        .to_string()
    });
    let capacity: f64 = args.next().map(|c| c.parse()).transpose()?.unwrap_or(2.0);
    let (startup, interval) = (120.0, 60.0);
    let trace = Series::from_csv_path(&path, CsvOptions::default())?;
    let step = trace.step();
    let cfg = SimConfig::new(capacity, startup)?;
    let policies: Vec<Box<dyn SimPolicy>> = vec![
        Box::new(FixedFleet::for_peak(&trace, capacity, interval)?),
        Box::new(Oracle::new(&trace, capacity, startup, interval)?),
        Box::new(TargetTracking::new(capacity, 0.7, step, interval)?),
    ];
    let report = simulate(&trace, policies, &cfg)?;
    println!(
        "{} steps of {step} s ({} missing); {capacity} req/s per replica, startup {startup} s",
        trace.len(),
        trace.missing()
    );
    println!(
        "{:<12} {:>10} {:>12} {:>10} {:>9} {:>8} {:>6} {:>5}",
        "policy", "viol. min", "replica-h", "over-prov", "dropped%", "util", "ups", "peak"
    );
    for p in &report.policies {
        let s = &p.summary;
        println!(
            "{:<12} {:>10.1} {:>12.1} {:>10.1} {:>9.3} {:>8.3} {:>6} {:>5}",
            p.name,
            s.violation_minutes,
            s.replica_hours,
            s.over_provisioned_replica_hours,
            100.0 * s.dropped_share,
            s.mean_utilisation,
            s.scale_ups,
            s.peak_replicas
        );
    }
    let utilisations: Vec<f64> = (3..=10).map(|k| k as f64 / 10.0).collect();
    let sw = sweep(
        &trace,
        &utilisations,
        |&u| Ok(Box::new(TargetTracking::new(capacity, u, step, interval)?) as Box<dyn SimPolicy>),
        &cfg,
    )?;
    println!("reactive target utilisation sweep, Pareto front (cheapest first):");
    for r in sw.front() {
        println!(
            "  u = {:.1}: {:>10.1} replica-h, {:>8.1} violation min",
            r.params, r.summary.replica_hours, r.summary.violation_minutes
        );
    }
    Ok(())
}

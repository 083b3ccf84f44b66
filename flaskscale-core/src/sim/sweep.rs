//! Parameter sweeps: one simulation per point of a parameter grid, in parallel, summarised as a
//! cost-versus-violations table with its Pareto front.

use super::cluster::run_policy_with;
use super::{PolicySummary, Progress, SimConfig, SimPolicy};
use crate::error::{Error, Result};
use crate::series::Series;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One point of a sweep: the parameters, the policy's name and its totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow<P> {
    /// The parameters this row was built from.
    pub params: P,
    /// [`SimPolicy::name`] of the policy built from them.
    pub name: String,
    /// The policy's totals (replica-hours = cost, violation minutes = harm).
    pub summary: PolicySummary,
}

/// The result of a sweep: one row per parameter point (in the order given) and the indices of
/// the rows on the Pareto front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport<P> {
    /// One row per parameter point.
    pub rows: Vec<SweepRow<P>>,
    /// Indices into `rows` of the non-dominated points by (replica-hours, violation minutes),
    /// sorted by replica-hours.
    pub pareto: Vec<usize>,
}

impl<P> SweepReport<P> {
    /// The rows on the Pareto front, cheapest first.
    pub fn front(&self) -> impl Iterator<Item = &SweepRow<P>> {
        self.pareto.iter().filter_map(|&i| self.rows.get(i))
    }
}

impl<P: Serialize> SweepReport<P> {
    /// The table as CSV: `params` (as JSON, quoted), `name`, `replica_hours`,
    /// `violation_minutes`, `dropped_share`, `pareto` (1 on the front).
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("params,name,replica_hours,violation_minutes,dropped_share,pareto\n");
        for (i, r) in self.rows.iter().enumerate() {
            let p = serde_json::to_string(&r.params)
                .unwrap_or_default()
                .replace('"', "\"\"");
            out.push_str(&format!(
                "\"{p}\",{},{},{},{},{}\n",
                r.name,
                r.summary.replica_hours,
                r.summary.violation_minutes,
                r.summary.dropped_share,
                u8::from(self.pareto.contains(&i))
            ));
        }
        out
    }
}

/// Indices of the points `(cost, harm)` that no other point dominates (another point is no
/// worse in both and better in one), sorted by cost then harm. Equal points are all kept.
/// Points with a `NaN` coordinate are never on the front.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| !points[i].0.is_nan() && !points[i].1.is_nan())
        .collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    // scanning by cost, a point is on the front when its harm is below every cheaper point's
    // (or equal to the front point it ties with exactly)
    let mut front: Vec<usize> = Vec::new();
    let mut best = f64::INFINITY;
    for i in idx {
        let (c, h) = points[i];
        match front.last() {
            Some(&j) if points[j] == (c, h) => front.push(i),
            _ if h < best => {
                front.push(i);
                best = h;
            }
            _ => {}
        }
    }
    front
}

/// Runs one simulation per element of `params`, each with the policy `factory` builds from it
/// and the common `cfg`, in parallel.
///
/// ```
/// use flaskscale_core::sim::{sweep, SimConfig, SimPolicy, TargetTracking};
/// use flaskscale_core::Series;
/// let trace = Series::new((0..120).map(|i| 600.0 + 30.0 * i as f64).collect(), 0.0, 60.0)?;
/// let cfg = SimConfig::new(10.0, 120.0)?;
/// let utilisations = vec![0.5, 0.7, 0.9];
/// let report = sweep(&trace, &utilisations, |&u| {
///     Ok(Box::new(TargetTracking::new(10.0, u, 60.0, 60.0)?) as Box<dyn SimPolicy>)
/// }, &cfg)?;
/// assert_eq!(report.rows.len(), 3);
/// // the lower the target utilisation, the more it costs
/// assert!(report.rows[0].summary.replica_hours > report.rows[2].summary.replica_hours);
/// # Ok::<(), flaskscale_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty `params` or a bad `cfg`; any error of the factory
/// or of a simulation.
pub fn sweep<P, F>(
    trace: &Series,
    params: &[P],
    factory: F,
    cfg: &SimConfig,
) -> Result<SweepReport<P>>
where
    P: Clone + Sync + Send,
    F: Fn(&P) -> Result<Box<dyn SimPolicy>> + Sync,
{
    sweep_configs(trace, params, |p| Ok((factory(p)?, cfg.clone())))
}

/// As [`sweep`], counting the replayed trace steps into `progress` (its total raised by
/// `params.len()` × the trace's length) and stopping with [`Error::Cancelled`] once it is
/// cancelled.
///
/// # Errors
/// As [`sweep`], and [`Error::Cancelled`].
pub fn sweep_with_progress<P, F>(
    trace: &Series,
    params: &[P],
    factory: F,
    cfg: &SimConfig,
    progress: &Progress,
) -> Result<SweepReport<P>>
where
    P: Clone + Sync + Send,
    F: Fn(&P) -> Result<Box<dyn SimPolicy>> + Sync,
{
    progress.add_total(trace.len() as u64 * params.len() as u64);
    sweep_each(
        trace,
        params,
        |p| Ok((factory(p)?, cfg.clone())),
        Some(progress),
    )
}

/// As [`sweep`], but the factory also returns the cluster configuration of each point, for
/// sweeps over cluster settings (startup delay, capacity, queue bounds).
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty `params`; any error of the factory or of a
/// simulation.
pub fn sweep_configs<P, F>(trace: &Series, params: &[P], factory: F) -> Result<SweepReport<P>>
where
    P: Clone + Sync + Send,
    F: Fn(&P) -> Result<(Box<dyn SimPolicy>, SimConfig)> + Sync,
{
    sweep_each(trace, params, factory, None)
}

fn sweep_each<P, F>(
    trace: &Series,
    params: &[P],
    factory: F,
    progress: Option<&Progress>,
) -> Result<SweepReport<P>>
where
    P: Clone + Sync + Send,
    F: Fn(&P) -> Result<(Box<dyn SimPolicy>, SimConfig)> + Sync,
{
    if params.is_empty() {
        return Err(Error::param(
            "sweep needs at least one parameter point, got none",
        ));
    }
    let rows = params
        .par_iter()
        .map(|p| {
            let (mut policy, cfg) = factory(p)?;
            let r = run_policy_with(trace, policy.as_mut(), &cfg, progress)?;
            Ok(SweepRow {
                params: p.clone(),
                name: r.name,
                summary: r.summary,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.summary.replica_hours, r.summary.violation_minutes))
        .collect();
    Ok(SweepReport {
        pareto: pareto_front(&pts),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: i is on the front iff no j dominates it.
    fn naive(points: &[(f64, f64)]) -> Vec<usize> {
        let mut out: Vec<usize> = (0..points.len())
            .filter(|&i| {
                let (a, b) = points[i];
                !points
                    .iter()
                    .any(|&(c, d)| c <= a && d <= b && (c < a || d < b))
            })
            .collect();
        out.sort_by(|&x, &y| {
            points[x]
                .0
                .total_cmp(&points[y].0)
                .then(points[x].1.total_cmp(&points[y].1))
        });
        out
    }

    #[test]
    fn front_matches_brute_force() {
        let pts = [
            (3.0, 5.0),
            (1.0, 9.0),
            (2.0, 5.0),
            (2.0, 5.0),
            (4.0, 1.0),
            (5.0, 1.0),
            (1.0, 9.5),
            (6.0, 0.0),
        ];
        let f = pareto_front(&pts);
        assert_eq!(f, vec![1, 2, 3, 4, 7]);
        let mut g = naive(&pts);
        g.sort();
        let mut h = f.clone();
        h.sort();
        assert_eq!(g, h);
    }

    proptest::proptest! {
        #[test]
        fn front_equals_brute_force(pts in proptest::collection::vec((0u8..8, 0u8..8), 1..30)) {
            let pts: Vec<(f64, f64)> = pts.iter().map(|&(a, b)| (a as f64, b as f64)).collect();
            let mut f = pareto_front(&pts);
            let mut g = naive(&pts);
            f.sort();
            g.sort();
            proptest::prop_assert_eq!(f, g);
        }
    }
}

//! [`Progress`]: how far a running simulation has come, readable from another thread while it
//! runs, and a way to stop it early.
//!
//! The simulation only counts (one relaxed atomic add per block of trace steps); drawing a bar
//! is the watcher's business. A watcher polls [`Progress::done`] and [`Progress::total`] as often
//! as it likes; the counts never go backwards and `done <= total` once the runs it watches
//! have started.
//!
//! ```
//! use flaskscale_core::sim::{simulate_with_progress, FixedFleet, Progress, SimConfig, SimPolicy};
//! use flaskscale_core::Series;
//!
//! let trace = Series::new(vec![600.0; 5000], 0.0, 60.0)?;
//! let cfg = SimConfig::new(10.0, 60.0)?;
//! let policies: Vec<Box<dyn SimPolicy>> = vec![Box::new(FixedFleet::new(1, 60.0)?)];
//! let progress = Progress::new();
//! simulate_with_progress(&trace, policies, &cfg, &progress)?;
//! assert_eq!((progress.done(), progress.total()), (5000, 5000));
//! # Ok::<(), flaskscale_core::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Trace steps between two updates of the shared counter.
pub(crate) const BLOCK: usize = 1024;

/// A progress counter shared by simulations and whoever watches them; see the
/// [module docs](self). One `Progress` may serve several simulations (a sweep): each adds its
/// steps to the total when it starts.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// A counter at 0 of 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trace steps replayed so far, summed over the policies.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Trace steps to replay, summed over the policies of every simulation started so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Asks the simulations to stop: each returns [`crate::Error::Cancelled`] at its next
    /// block of trace steps.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Progress::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub(crate) fn add_total(&self, steps: u64) {
        self.total.fetch_add(steps, Ordering::Relaxed);
    }

    pub(crate) fn advance(&self, steps: u64) {
        self.done.fetch_add(steps, Ordering::Relaxed);
    }
}

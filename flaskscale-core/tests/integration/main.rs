//! The one integration-test binary of flaskscale-core; one module per area.
// index loops read closest to the formulas they check
#![allow(clippy::needless_range_loop)]

mod access_log;
mod accuracy;
mod auto;
mod baseline;
mod check;
mod common;
mod contract;
mod count;
mod ensemble;
mod ets;
mod fourier;
mod linear;
mod metrics;
mod periods;
mod policy;
mod robust;
mod series;
mod sim;
mod state;

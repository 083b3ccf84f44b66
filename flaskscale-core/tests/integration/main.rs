//! The one integration-test binary of flaskscale-core; one module per area.
// index loops read closest to the formulas they check
#![allow(clippy::needless_range_loop)]

mod accuracy;
mod auto;
mod check;
mod common;
mod contract;
mod count;
mod ensemble;
mod ets;
mod foundation;
mod fourier;
mod linear;
mod periods;
mod policy;
mod robust;
mod sim;
mod state;

//! The integration tests of flaskscale-core, one module per area.

mod ets;

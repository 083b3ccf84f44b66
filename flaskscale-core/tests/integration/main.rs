//! Integration tests of flaskscale-core, one module per area.

mod auto;

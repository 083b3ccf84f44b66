//! Core benches (placeholder until the lead fills it).
fn main() {}

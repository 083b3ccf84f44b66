//! HPA and predictive-policy configs as JSON (what `--hpa` and `--policy` files hold): any text
//! parses to a valid config or is refused, never a panic; a valid config builds a policy that
//! decides.
#![no_main]

use flaskscale_core::policy::{HpaConfig, HpaPolicy, PredictiveConfig, PredictivePolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = HpaConfig::from_json(text) {
        let mut hpa = HpaPolicy::new(c.clone()).expect("a valid config builds");
        for (k, load) in [0.0, 50.0, 1e6, 3.0].into_iter().enumerate() {
            let d = hpa.recommend(15.0 * k as f64, 2, load).expect("a valid policy decides");
            assert!(d.replicas >= c.min_replicas && d.replicas <= c.max_replicas);
        }
    }
    if let Ok(c) = serde_json::from_str::<PredictiveConfig>(text) {
        if c.validate().is_ok() {
            PredictivePolicy::new(c).expect("a valid config builds");
        }
    }
});

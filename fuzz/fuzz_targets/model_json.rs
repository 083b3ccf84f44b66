//! A saved fitted model: any text loads or is refused, never a panic; a model that loads
//! forecasts finite means and ordered bands, and saves to a model that loads as the same.
#![no_main]

use flaskscale_core::forecast::{Fitted, FittedModel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut m) = FittedModel::from_json(text) else {
        return;
    };
    let saved = serde_json::to_string(&m).expect("a loaded model saves");
    let again = FittedModel::from_json(&saved).expect("a saved model loads");
    assert_eq!(serde_json::to_string(&again).expect("saves"), saved);
    if let Ok(fc) = m.predict(24, &[0.8, 0.95]) {
        assert_eq!(fc.mean.len(), 24);
    }
    let _ = m.update(&[1.0, 2.0, f64::NAN, 3.0]);
    let _ = m.predict(5, &[0.5]);
});

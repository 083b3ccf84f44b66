//! A saved autoscaler state: any text loads or is refused, never a panic; a state that loads
//! observes, decides and saves again to a state that loads as the same.
#![no_main]

use flaskscale_core::autoscaler::Autoscaler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut a) = Autoscaler::from_json(text) else {
        return;
    };
    let saved = a.to_json().expect("a loaded state saves");
    let b = Autoscaler::from_json(&saved).expect("a saved state loads");
    assert_eq!(b.to_json().expect("saves"), saved);
    let step = a.config().step_seconds;
    let t0 = a.history_start().unwrap_or(0.0) + step * a.history().len() as f64;
    for k in 0..3 {
        let t = t0 + step * f64::from(k);
        let _ = a.observe(t, 10.0 * f64::from(k));
        let _ = a.recommend(t, 3);
    }
    let _ = a.to_json();
});

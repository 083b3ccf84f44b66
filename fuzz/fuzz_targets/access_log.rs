//! The access-log parser: any bytes give counts or an error, never a panic; the counts add up.
#![no_main]

use flaskscale_core::access_log::{count_access_log, parse_line, AccessLogOptions, OnMalformed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&opt, body)) = data.split_first() else {
        return;
    };
    for line in body.split(|&b| b == b'\n') {
        let _ = parse_line(line);
    }
    let mut options = AccessLogOptions::with_step([1.0, 60.0, 0.5, 3600.0][usize::from(opt & 3)]);
    if opt & 4 == 4 {
        options.on_malformed = OnMalformed::Fail;
    }
    if opt & 8 == 8 {
        options.exclude_path_prefixes = vec!["/health".to_string()];
    }
    if let Ok(c) = count_access_log(body, &options) {
        let total: f64 = c.series.values().iter().filter(|v| !v.is_nan()).sum();
        assert_eq!(total, c.counted as f64);
    }
});

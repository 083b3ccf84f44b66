//! The CSV reader: any bytes give a series or an error, never a panic; a series it gives
//! writes back to CSV that reads as the same series.
#![no_main]

use flaskscale_core::{CsvOptions, Series, SkippedRows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // the first byte picks the options, the rest is the file
    let Some((&opt, body)) = data.split_first() else {
        return;
    };
    let options = CsvOptions {
        step: if opt & 1 == 1 { Some(60.0) } else { None },
        skipped_rows: if opt & 2 == 2 {
            SkippedRows::Error
        } else {
            SkippedRows::Missing
        },
    };
    if let Ok(s) = Series::from_csv_reader(body, options) {
        if s.len() > 100_000 {
            return; // writing it back would only be slow
        }
        let back = CsvOptions {
            step: Some(s.step()),
            skipped_rows: SkippedRows::Error,
        };
        let again = Series::from_csv_str_with(&s.to_csv_string(), back).expect("a written series reads");
        assert_eq!(again.len(), s.len());
        assert_eq!(again.missing(), s.missing());
    }
});

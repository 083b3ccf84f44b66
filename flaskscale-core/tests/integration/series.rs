//! `Series` (series/): the shared traces against the figures their provenance files publish,
//! CSV edge cases (every error names its line), events on a grid, round trips and bounds.

use crate::common::{close, trace, NASA, TWITTER, WIKIPEDIA};
use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::policy::PredictiveConfig;
use flaskscale_core::{Aggregation, CsvOptions, Error, ModelSpec, Naive, Series, SkippedRows};
use proptest::prelude::*;

#[test]
fn nasa_trace_rows_gaps_and_total() {
    let s = trace(NASA);
    assert_eq!(s.len(), 89_280);
    assert_eq!(s.missing(), 7_210);
    assert_eq!(s.step(), 60.0);
    // 1995-07-01T04:00:00Z
    assert_eq!(s.start(), 804_571_200.0);
    let st = s.stats();
    assert_eq!(st.sum, 3_461_610.0);
    assert_eq!(st.max, 405.0);
    assert_eq!(st.min, 0.0);
    close(st.mean, 42.18, 0.005);
}

#[test]
fn wikipedia_trace_rows_and_total() {
    let s = trace(WIKIPEDIA);
    assert_eq!(s.len(), 744);
    assert_eq!(s.missing(), 0);
    assert_eq!(s.step(), 3600.0);
    let st = s.stats();
    assert_eq!(st.sum, 5_536_487_588.0);
    assert_eq!(st.max, 10_548_855.0);
    assert_eq!(st.min, 2_849_509.0);
}

#[test]
fn twitter_trace_rows_and_gaps() {
    let s = trace(TWITTER);
    assert_eq!(s.len(), 31_652);
    assert_eq!(s.missing(), 612);
    assert_eq!(s.stats().sum, 120_774_229.0);
}

#[test]
fn nasa_hourly_resample_keeps_the_total_of_complete_hours() {
    let s = trace(NASA);
    let h = s.resample(3600.0, Aggregation::Sum).unwrap();
    assert_eq!(h.len(), 1488); // 62 days
                               // every hour with no missing minute carries its exact total
    let complete: f64 = s
        .values()
        .chunks(60)
        .filter(|c| c.iter().all(|v| !v.is_nan()))
        .map(|c| c.iter().sum::<f64>())
        .sum();
    assert_eq!(h.stats().sum, complete);
    let mx = s.resample(3600.0, Aggregation::Max).unwrap();
    assert_eq!(mx.stats().max, 405.0);
}

fn csv_err(text: &str) -> Error {
    Series::from_csv_str(text).expect_err("should fail")
}

#[test]
fn csv_errors_name_the_line() {
    let hdr = "timestamp,value\n";
    match csv_err("time,val\n2016-01-01T00:00:00Z,1\n") {
        Error::Parse { line: 1, .. } => {}
        e => panic!("{e}"),
    }
    match csv_err(&format!(
        "{hdr}2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,x\n"
    )) {
        Error::Parse { line: 3, message } => assert!(message.contains("\"x\""), "{message}"),
        e => panic!("{e}"),
    }
    match csv_err(&format!(
        "{hdr}2016-01-01T00:00:00Z,1\n2016-13-01T01:00:00Z,2\n"
    )) {
        Error::Parse { line: 3, message } => assert!(message.contains("timestamp")),
        e => panic!("{e}"),
    }
    // not increasing
    match csv_err(&format!(
        "{hdr}2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,2\n2016-01-01T00:30:00Z,3\n"
    )) {
        Error::Parse { line: 4, message } => assert!(message.contains("increase"), "{message}"),
        e => panic!("{e}"),
    }
    // off the grid
    match csv_err(&format!(
        "{hdr}2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,2\n2016-01-01T02:30:00Z,3\n"
    )) {
        Error::Parse { line: 4, message } => assert!(message.contains("grid"), "{message}"),
        e => panic!("{e}"),
    }
    // three fields
    match csv_err(&format!("{hdr}2016-01-01T00:00:00Z,1,2\n")) {
        Error::Parse { line: 2, .. } => {}
        e => panic!("{e}"),
    }
    // negative and infinite values are data errors that name the line
    for bad in ["-1", "inf"] {
        match csv_err(&format!(
            "{hdr}2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,{bad}\n"
        )) {
            Error::InvalidData(m) => assert!(m.contains("line 3"), "{m}"),
            e => panic!("{e}"),
        }
    }
    assert!(matches!(
        csv_err(hdr),
        Error::NotEnoughData {
            needed: 1,
            got: 0,
            ..
        }
    ));
    assert!(matches!(csv_err(""), Error::Parse { .. }));
}

#[test]
fn csv_skipped_rows_fail_or_become_gaps() {
    let text =
        "timestamp,value\n2016-01-01T00:00:00Z,1\n2016-01-01T01:00:00Z,2\n2016-01-01T04:00:00Z,5\n";
    match Series::from_csv_str(text) {
        Err(Error::Parse { line: 4, message }) => assert!(message.contains("skips 2"), "{message}"),
        other => panic!("{other:?}"),
    }
    let opts = CsvOptions {
        skipped_rows: SkippedRows::Missing,
        ..Default::default()
    };
    let s = Series::from_csv_str_with(text, opts).unwrap();
    assert_eq!(s.len(), 5);
    assert_eq!(s.missing(), 2);
    assert_eq!(s.values()[4], 5.0);
}

#[test]
fn csv_accepts_offsets_unix_seconds_bom_and_crlf() {
    let text = "\u{feff}timestamp,value\r\n1451606400,1\r\n2016-01-01T02:00:00+01:00,\r\n2016-01-01T02:00:00Z,3\r\n";
    let s = Series::from_csv_str(text).unwrap();
    assert_eq!((s.start(), s.step(), s.len()), (1_451_606_400.0, 3600.0, 3));
    assert!(s.values()[1].is_nan());
}

/// RFC 4180 quoting, as spreadsheets and database exports write it: quoted header and
/// fields, a doubled quote, a line break inside quotes (the line numbers after it still count
/// it). A quoted "1,5" is one field, judged as a number (and refused: no decimal comma).
#[test]
fn csv_accepts_rfc_4180_quoted_fields() {
    let text = "\"timestamp\",\"value\"\n\"2016-01-01T00:00:00Z\",\"5\"\n 2016-01-01T01:00:00Z , \"\" \n\"2016-01-01T02:00:00Z\",7.5\n";
    let s = Series::from_csv_str(text).unwrap();
    assert_eq!((s.start(), s.step(), s.len()), (1_451_606_400.0, 3600.0, 3));
    assert_eq!(s.values()[0], 5.0);
    assert!(s.values()[1].is_nan());
    assert_eq!(s.values()[2], 7.5);
    let hdr = "timestamp,value\n2016-01-01T00:00:00Z,1\n";
    match csv_err(&format!("{hdr}2016-01-01T01:00:00Z,\"1,5\"\n")) {
        Error::Parse { line: 3, message } => {
            assert!(message.contains("bad number \"1,5\""), "{message}")
        }
        e => panic!("{e}"),
    }
    match csv_err(&format!(
        "{hdr}\"2016-01-01\nT01:00:00Z\",2\n2016-01-01T02:00:00Z,\"3\"x\n"
    )) {
        Error::Parse { line: 3, message } => assert!(
            message.contains("bad timestamp \"2016-01-01\\nT01"),
            "{message}"
        ),
        e => panic!("{e}"),
    }
    match csv_err(&format!(
        "{hdr}2016-01-01T01:00:00Z,2\n2016-01-01T02:00:00Z,\"3\"x\n"
    )) {
        Error::Parse { line: 4, message } => {
            assert!(message.contains("closing quote"), "{message}")
        }
        e => panic!("{e}"),
    }
    match csv_err(&format!("{hdr}2016-01-01T01:00:00Z,\"2\n")) {
        Error::Parse { line: 3, message } => assert!(message.contains("not closed"), "{message}"),
        e => panic!("{e}"),
    }
    // a doubled quote is one quote: this timestamp is not a time, and says so verbatim
    match csv_err(&format!("{hdr}\"a\"\"b\",2\n")) {
        Error::Parse { line: 3, message } => assert!(message.contains("a\\\"b"), "{message}"),
        e => panic!("{e}"),
    }
}

/// Times on the grid whose slot start `⌊t/step⌋·step` rounds to just above them: one event is
/// one step holding 1, starting at (or an ulp-sized rounding below) the event.
#[test]
fn events_exactly_on_a_fractional_grid_point() {
    for (t, step) in [(1_490_668_223.0, 1.1), (1_023_383_418.4, 0.1), (1e9, 1e-9)] {
        let s = Series::from_events(&[t], step, None).unwrap();
        assert_eq!(s.values(), [1.0], "t = {t}, step = {step}");
        assert!(
            s.start() <= t && t - s.start() < step,
            "t = {t}, step = {step}"
        );
        // an autoscaler on the same grid takes the first observation into its first step
        let mut a = Autoscaler::new(AutoscalerConfig::new(
            step,
            ModelSpec::Naive(Naive),
            PredictiveConfig::new(10.0, 1, 100),
        ))
        .unwrap();
        a.observe(t, 5.0).unwrap();
    }
}

#[test]
fn absurd_spans_are_errors_not_allocations() {
    // a stray timestamp a million years out must not try to allocate the steps in between
    assert!(matches!(
        Series::from_events(&[0.0, 3.0e13], 1.0, None),
        Err(Error::InvalidData(m)) if m.contains("steps")
    ));
    let text = "timestamp,value\n0,1\n60,2\n600000000000,3\n"; // on the grid, 1e10 steps on
    let opts = CsvOptions {
        skipped_rows: SkippedRows::Missing,
        ..Default::default()
    };
    assert!(matches!(
        Series::from_csv_str_with(text, opts),
        Err(Error::InvalidData(_))
    ));
}

/// A grid finer than a millisecond is written as Unix seconds and reads back exactly; times
/// outside the years 0000–9999 are refused when the series is made.
#[test]
fn csv_round_trip_of_fine_grids_and_the_date_range() {
    for (start, step) in [
        (1_700_000_000.0, 0.0001),
        (1_700_000_000.000_05, 1.0),
        (0.5, 0.25),
    ] {
        let s = Series::new(vec![1.0, f64::NAN, 3.0, 4.0], start, step).unwrap();
        let text = s.to_csv_string();
        let back = Series::from_csv_str(&text).unwrap();
        assert_eq!((back.start(), back.len()), (s.start(), 4), "{text}");
        // the step is read from the times' differences; float seconds near 1.7e9 are spaced
        // 2.4e-7 s apart, so a 0.1 ms step comes back to within a microsecond
        close(back.step(), step, 1e-6);
        assert!(back.values()[1].is_nan() && back.values()[3] == 4.0);
    }
    // whole milliseconds stay ISO 8601
    let s = Series::new(vec![1.0, 2.0], 1_700_000_000.5, 0.25).unwrap();
    assert!(s.to_csv_string().contains("2023-11-14T22:13:20.500Z"));
    for start in [-1e12, 1e300, 253_402_300_799.0] {
        let e = Series::new(vec![1.0, 2.0], start, 60.0).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter(m) if m.contains("between 0000-01-01 and 9999-12-31")),
            "{e}"
        );
    }
    // the ends of the range themselves
    Series::new(vec![1.0], -62_167_219_200.0, 60.0).unwrap();
    Series::new(vec![1.0], 253_402_300_740.0, 60.0).unwrap();
}

proptest! {
    #[test]
    fn resample_sum_preserves_the_total(
        vals in prop::collection::vec(0u32..10_000, 1..300),
        factor in 1usize..12,
    ) {
        let n = vals.len() / factor * factor;
        prop_assume!(n > 0);
        let v: Vec<f64> = vals[..n].iter().map(|&x| x as f64).collect();
        let s = Series::new(v.clone(), 1_000_000.0, 60.0).unwrap();
        let r = s.resample(60.0 * factor as f64, Aggregation::Sum).unwrap();
        prop_assert_eq!(r.len(), n / factor);
        prop_assert_eq!(r.stats().sum, v.iter().sum::<f64>());
    }

    #[test]
    fn csv_round_trip(
        vals in prop::collection::vec(prop_oneof![Just(f64::NAN), 0.0f64..1e9], 2..200),
        start in -1_000_000_000i64..4_000_000_000,
        step in prop_oneof![Just(1.0), Just(60.0), Just(300.0), Just(3600.0), Just(86_400.0)],
    ) {
        let s = Series::new(vals, start as f64, step).unwrap();
        let back = Series::from_csv_str(&s.to_csv_string()).unwrap();
        prop_assert_eq!(back.start(), s.start());
        prop_assert_eq!(back.step(), s.step());
        for (a, b) in s.values().iter().zip(back.values()) {
            prop_assert!(a == b || (a.is_nan() && b.is_nan()));
        }
    }

    #[test]
    fn events_are_all_counted(times in prop::collection::vec(0.0f64..1e6, 1..500)) {
        let s = Series::from_events(&times, 60.0, None).unwrap();
        prop_assert_eq!(s.stats().sum, times.len() as f64);
    }

    /// Epoch-sized times on fractional steps, where `⌊t/step⌋·step` can round above `t`.
    #[test]
    fn events_on_fractional_steps_start_at_or_before_the_first(
        base in 1.0e9f64..1.7e9,
        offsets in prop::collection::vec(0.0f64..1000.0, 1..20),
        step in prop_oneof![Just(0.1), Just(1.1), Just(0.3), 0.001f64..10.0],
    ) {
        let times: Vec<f64> = offsets.iter().map(|o| base + o).collect();
        let s = Series::from_events(&times, step, None).unwrap();
        prop_assert_eq!(s.stats().sum, times.len() as f64);
        let lo = times.iter().copied().fold(f64::INFINITY, f64::min);
        prop_assert!(s.start() <= lo && lo - s.start() < step);
    }
}

//! Series ingestion, baseline forecasters and metrics against hand-worked values and the
//! published statistics of the shared traces (their PROVENANCE.md files).

use crate::common::{close, trace, NASA, TWITTER, WIKIPEDIA};
use flaskscale_core::access_log::{count_access_log, AccessLogOptions, OnMalformed};
use flaskscale_core::autoscaler::{Autoscaler, AutoscalerConfig};
use flaskscale_core::forecast::dist::normal_quantile;
use flaskscale_core::policy::PredictiveConfig;
use flaskscale_core::{
    metrics, Aggregation, CsvOptions, Drift, Error, Fitted, Forecaster, ModelSpec, Naive,
    SeasonalNaive, Series, SkippedRows,
};
use proptest::prelude::*;

// ---- the shared traces, against the figures their provenance files publish ----

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

// ---- CSV edge cases: every error names its line ----

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

// ---- access logs: known request times, mixed offsets, malformed lines ----

/// A log of 10 minutes; minute k (from 2021-03-04T05:00Z) gets k + 1 requests, each written in
/// one of several UTC offsets, with malformed lines and health checks in between.
fn generated_log() -> (String, Vec<f64>, usize, usize) {
    let base = 1_614_834_000i64; // 2021-03-04T05:00:00Z
    let offsets = [0i64, -4 * 3600, 5 * 3600 + 1800, -7 * 3600, 9 * 3600];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut lines = Vec::new();
    let mut expected = vec![0.0; 10];
    let (mut malformed, mut health) = (0, 0);
    let mut n = 0usize;
    for k in 0..10i64 {
        for j in 0..=k {
            let t = base + k * 60 + (j * 7) % 60;
            let off = offsets[n % offsets.len()];
            n += 1;
            let local = t + off;
            let days = local.div_euclid(86_400);
            let sod = local.rem_euclid(86_400);
            let (y, m, d) = flaskscale_core::time::civil_from_days(days);
            let sign = if off < 0 { '-' } else { '+' };
            let stamp = format!(
                "{d:02}/{}/{y}:{:02}:{:02}:{:02} {sign}{:02}{:02}",
                months[m as usize - 1],
                sod / 3600,
                (sod % 3600) / 60,
                sod % 60,
                off.abs() / 3600,
                (off.abs() % 3600) / 60
            );
            if n % 4 == 0 {
                lines.push(format!(
                    "10.0.0.{n} - - [{stamp}] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\""
                ));
                health += 1;
            } else {
                lines.push(format!(
                    "10.0.0.{n} - alice [{stamp}] \"POST /api/v1/orders HTTP/1.1\" 201 512 \"https://shop/\" \"Mozilla/5.0\""
                ));
                expected[k as usize] += 1.0;
            }
            if n % 9 == 0 {
                lines.push("this is not a log line".into());
                lines.push(format!("10.0.0.1 - - [{stamp}] \"GET / HTTP/1.1\" 2OO 5"));
                malformed += 2;
            }
        }
    }
    lines.reverse(); // order must not matter
    (lines.join("\n") + "\n", expected, malformed, health)
}

#[test]
fn access_log_counts_per_minute_across_offsets() {
    let (log, expected, malformed, health) = generated_log();
    let mut opts = AccessLogOptions::with_step(60.0);
    opts.exclude_path_prefixes = vec!["/healthz".into()];
    let c = count_access_log(log.as_bytes(), &opts).unwrap();
    assert_eq!(c.series.start(), 1_614_834_000.0);
    assert_eq!(c.series.values(), expected.as_slice());
    assert_eq!(c.malformed, malformed);
    assert_eq!(c.excluded, health);
    assert_eq!(c.counted + c.excluded + c.malformed, c.lines);
    assert!(c.first_malformed.is_some());
    // strict mode names the first malformed line
    opts.on_malformed = OnMalformed::Fail;
    match count_access_log(log.as_bytes(), &opts) {
        Err(Error::Parse { line, .. }) => {
            let first = log
                .lines()
                .position(|l| flaskscale_core::access_log::parse_line(l.as_bytes()).is_none())
                .unwrap();
            assert_eq!(line, first + 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn access_log_with_nothing_countable_is_an_error() {
    let opts = AccessLogOptions::with_step(60.0);
    assert!(matches!(
        count_access_log(b"junk\nmore junk\n", &opts),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        count_access_log(b"", &AccessLogOptions::with_step(0.0)),
        Err(Error::InvalidParameter(_))
    ));
}

// ---- baselines against hand-worked values ----

const Z975: f64 = 1.959_963_984_540_054;

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
fn naive_hand_worked() {
    // y = 1 3 2 5 4: residuals 2 -1 3 -1, Σe² = 15 over 4 → σ = √3.75
    let f = Naive.fit(&[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
    let fc = f.predict(3, &[0.95]).unwrap();
    assert_eq!(fc.mean, vec![4.0; 3]);
    let s = 3.75f64.sqrt();
    for h in 0..3 {
        close(fc.sd[h], s * ((h + 1) as f64).sqrt(), 1e-12);
        close(fc.intervals[0].upper[h], 4.0 + Z975 * fc.sd[h], 1e-9);
    }
}

#[test]
fn seasonal_naive_hand_worked() {
    // m = 2, y = 1 3 2 5 4 6: residuals y_t − y_{t−2} = 1 2 2 1, Σe² = 10 over 4 → σ = √2.5
    let f = SeasonalNaive::new(2)
        .fit(&[1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
        .unwrap();
    let fc = f.predict(5, &[0.8]).unwrap();
    assert_eq!(fc.mean, vec![4.0, 6.0, 4.0, 6.0, 4.0]);
    let s = 2.5f64.sqrt();
    let k: [f64; 5] = [1.0, 1.0, 2.0, 2.0, 3.0]; // ⌊(h−1)/m⌋ + 1
    for h in 0..5 {
        close(fc.sd[h], s * k[h].sqrt(), 1e-12);
    }
    // 80% band: z = 1.2815515655446004
    close(
        fc.intervals[0].lower[0],
        4.0 - 1.281_551_565_544_600_5 * s,
        1e-9,
    );
}

#[test]
fn drift_hand_worked() {
    // y = 1 3 2 5 4: slope (4 − 1)/4 = 0.75; d − c = 1.25 −1.75 2.25 −1.75,
    // Σ = 12.75 over 3 → σ² = 4.25; sd_h = σ√(h(1 + h/4))
    let f = Drift.fit(&[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
    let fc = f.predict(2, &[]).unwrap();
    close(fc.mean[0], 4.75, 1e-12);
    close(fc.mean[1], 5.5, 1e-12);
    close(fc.sd[0], (4.25f64 * 1.25).sqrt(), 1e-12);
    close(fc.sd[1], (4.25f64 * 2.0 * 1.5).sqrt(), 1e-12);
}

#[test]
fn online_update_equals_refit_for_baselines() {
    let y: Vec<f64> = (0..200)
        .map(|i| {
            50.0 + 20.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()
                + (i * 37 % 11) as f64
        })
        .collect();
    for spec in [
        ModelSpec::Naive(Naive),
        ModelSpec::SeasonalNaive(SeasonalNaive::new(24)),
        ModelSpec::Drift(Drift),
    ] {
        let full = spec.fit(&y).unwrap();
        let mut part = spec.fit(&y[..150]).unwrap();
        part.update(&y[150..]).unwrap();
        let (a, b) = (
            full.predict(30, &[0.9]).unwrap(),
            part.predict(30, &[0.9]).unwrap(),
        );
        for h in 0..30 {
            close(a.mean[h], b.mean[h], 1e-9);
            close(a.sd[h], b.sd[h], 1e-9);
        }
        assert_eq!(full.fit_info().n_obs, part.fit_info().n_obs);
    }
}

#[test]
fn gaps_are_interpolated_and_counted() {
    let f = Naive.fit(&[1.0, f64::NAN, f64::NAN, 4.0]).unwrap();
    assert_eq!(f.fit_info().n_filled, 2);
    // filled 1 2 3 4: residuals all 1
    close(f.fit_info().sigma, 1.0, 1e-12);
}

#[test]
fn bad_model_input_is_a_typed_error() {
    assert!(matches!(
        SeasonalNaive::new(1).fit(&[1.0; 10]),
        Err(Error::InvalidParameter(m)) if m.contains("got 1")
    ));
    assert!(matches!(
        SeasonalNaive::new(24).fit(&[1.0; 20]),
        Err(Error::NotEnoughData {
            needed: 25,
            got: 20,
            ..
        })
    ));
    assert!(matches!(
        Naive.fit(&[1.0]),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        Naive.fit(&[1.0, -2.0]),
        Err(Error::InvalidData(_))
    ));
    assert!(matches!(
        Naive.fit(&[f64::NAN; 3]),
        Err(Error::InvalidData(_))
    ));
    let f = Naive.fit(&[1.0, 2.0]).unwrap();
    assert!(matches!(f.predict(0, &[]), Err(Error::InvalidParameter(_))));
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(matches!(
            f.predict(3, &[bad]),
            Err(Error::InvalidParameter(_))
        ));
    }
    let mut f = f;
    assert!(f.update(&[1.0, f64::INFINITY]).is_err());
    assert_eq!(
        f.fit_info().n_obs,
        2,
        "a rejected update leaves the model unchanged"
    );
}

#[test]
fn forecast_quantile_matches_intervals() {
    let f = SeasonalNaive::new(3)
        .fit(&[1.0, 5.0, 9.0, 2.0, 6.0, 8.0, 1.0])
        .unwrap();
    let fc = f.predict(4, &[0.9]).unwrap();
    let q95 = fc.quantile(0.95).unwrap();
    for h in 0..4 {
        close(q95[h], fc.intervals[0].upper[h], 1e-9);
    }
    close(normal_quantile(0.05), -normal_quantile(0.95), 1e-15);
}

// ---- metrics against hand-worked values ----

#[test]
fn metrics_hand_worked() {
    let y = [1.0, 2.0, 3.0, 4.0];
    let f = [2.0, 2.0, 2.0, 2.0];
    close(metrics::mae(&y, &f).unwrap(), 1.0, 1e-15);
    close(metrics::rmse(&y, &f).unwrap(), 1.5f64.sqrt(), 1e-15);
    // 200·(1/3 + 0 + 1/5 + 2/6)/4
    close(
        metrics::smape(&y, &f).unwrap(),
        200.0 * (1.0 / 3.0 + 0.2 + 1.0 / 3.0) / 4.0,
        1e-12,
    );
    // scale: mean |Δ| of 1 2 4 7 = (1+2+3)/3 = 2
    close(
        metrics::mase(&y, &f, &[1.0, 2.0, 4.0, 7.0], 1).unwrap(),
        0.5,
        1e-15,
    );
    // m = 2: |4−1|, |7−2| → 4; MASE = 1/4
    close(
        metrics::mase(&y, &f, &[1.0, 2.0, 4.0, 7.0], 2).unwrap(),
        0.25,
        1e-15,
    );
    // e = −1 0 1 2 at q = .9: 0.1 0 0.9 1.8 → 0.7
    close(metrics::pinball(&y, &f, 0.9).unwrap(), 0.7, 1e-12);
    close(
        metrics::coverage(&y, &[0.0, 2.5, 2.0, 5.0], &[1.0, 3.0, 3.0, 6.0]).unwrap(),
        0.5,
        1e-15,
    );
    assert_eq!(metrics::smape(&[0.0], &[0.0]).unwrap(), 0.0);
    assert!(metrics::mae(&[1.0], &[1.0, 2.0]).is_err());
    assert!(metrics::mae(&[f64::NAN], &[1.0]).is_err());
    assert!(metrics::mase(&y, &f, &[3.0; 5], 1).is_err());
    assert!(metrics::pinball(&y, &f, 1.0).is_err());
}

// ---- invariants ----

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

    #[test]
    fn baseline_bands_are_ordered_and_finite(
        vals in prop::collection::vec(0.0f64..1e6, 30..120),
        h in 1usize..60,
    ) {
        for spec in [
            ModelSpec::Naive(Naive),
            ModelSpec::SeasonalNaive(SeasonalNaive::new(7)),
            ModelSpec::Drift(Drift),
        ] {
            let fc = spec.fit(&vals).unwrap().predict(h, &[0.5, 0.8, 0.95]).unwrap();
            for i in 0..h {
                prop_assert!(fc.mean[i].is_finite());
                for w in fc.intervals.windows(2) {
                    prop_assert!(w[1].lower[i] <= w[0].lower[i]);
                    prop_assert!(w[0].upper[i] <= w[1].upper[i]);
                }
                prop_assert!(fc.intervals[0].lower[i] <= fc.mean[i]);
                prop_assert!(fc.mean[i] <= fc.intervals[0].upper[i]);
            }
        }
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

/// A horizon past the cap is refused before any memory is taken; the cap itself forecasts.
#[test]
fn horizons_are_capped() {
    use flaskscale_core::forecast::MAX_HORIZON;
    let f = ModelSpec::Naive(Naive).fit(&[1.0, 2.0, 4.0]).unwrap();
    assert_eq!(f.predict(MAX_HORIZON, &[]).unwrap().mean.len(), MAX_HORIZON);
    for h in [MAX_HORIZON + 1, 1_000_000_000, usize::MAX] {
        let e = f.predict(h, &[0.8]).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidParameter(m) if m.contains("at most 1000000 steps")),
            "{e}"
        );
    }
}

/// Levels next to 1 give wide but finite bands: z = Φ⁻¹(1 − 5.55e-17) ≈ 8.29 for level 1 − 1e-16
/// (which is 1 − 2⁻⁵³ as a float), where (1 + level)/2 would round to 1 and z to infinity.
#[test]
fn a_level_next_to_one_has_a_finite_band() {
    let f = ModelSpec::Naive(Naive).fit(&[1.0, 2.0, 4.0, 3.0]).unwrap();
    let fc = f.predict(2, &[0.8, 1.0 - 1e-16]).unwrap();
    let sigma = f.fit_info().sigma;
    let z = (fc.intervals[1].upper[0] - fc.mean[0]) / sigma;
    close(z, -normal_quantile((1.0 - (1.0 - 1e-16)) / 2.0), 1e-9);
    assert!(z > 8.2 && z < 8.4, "{z}");
    // the usual levels are unchanged: 80% is ±1.2816 σ
    close(
        (fc.intervals[0].upper[0] - fc.mean[0]) / sigma,
        1.281_551_565_545,
        1e-9,
    );
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

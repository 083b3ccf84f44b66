//! Access logs (access_log.rs): known request times, mixed offsets, malformed lines.

use flaskscale_core::access_log::{count_access_log, AccessLogOptions, OnMalformed};
use flaskscale_core::Error;

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

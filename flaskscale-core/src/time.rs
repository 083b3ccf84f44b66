//! Timestamps: ISO 8601 and Common Log Format parsing, and ISO 8601 formatting, all in UTC
//! seconds since the Unix epoch. Hand-written because ingestion is a hot path (access logs of
//! millions of lines) and the formats are narrow.

/// The start of the grid slot of width `step` that holds `t`: `⌊t/step⌋·step`, one step lower
/// when rounding put that product above `t` (e.g. `t = 1490668223`, `step = 1.1`, where
/// `t/step` is a whole number but its product with `step` rounds up). So `t − slot_start(t, step)`
/// is never negative and every `t` lands in a slot at or after the grid's start. A step finer
/// than the float spacing at `t` cannot move the start below `t`; then the start is `t` itself.
///
/// ```
/// use flaskscale_core::time::slot_start;
/// assert_eq!(slot_start(125.0, 60.0), 120.0);
/// let t = 1_490_668_223.0;
/// assert!(slot_start(t, 1.1) <= t && t - slot_start(t, 1.1) < 1.1);
/// ```
pub fn slot_start(t: f64, step: f64) -> f64 {
    let s = (t / step).floor() * step;
    if s > t {
        (s - step).min(t)
    } else {
        s
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if b.is_empty() {
        return None;
    }
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn check_fields(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<()> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    Some(())
}

/// Parses a timestamp as either unix seconds (`1438387200`, `1438387200.5`) or ISO 8601 /
/// RFC 3339 (`2015-08-01T00:00:00Z`, `2015-08-01 00:00:00+02:00`, fractional seconds allowed,
/// no offset = UTC). Returns UTC seconds since the epoch, or `None` when the text is neither.
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    if b.len() >= 10 && b[4] == b'-' {
        return parse_iso8601(b);
    }
    let v: f64 = t.parse().ok()?;
    v.is_finite().then_some(v)
}

fn parse_iso8601(b: &[u8]) -> Option<f64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let (mut h, mut mi, mut s, mut frac) = (0, 0, 0, 0.0);
    let mut rest = &b[10..];
    if !rest.is_empty() {
        if rest[0] != b'T' && rest[0] != b't' && rest[0] != b' ' {
            return None;
        }
        rest = &rest[1..];
        if rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        h = digits(&rest[0..2])?;
        mi = digits(&rest[3..5])?;
        rest = &rest[5..];
        if rest.first() == Some(&b':') {
            if rest.len() < 3 {
                return None;
            }
            s = digits(&rest[1..3])?;
            rest = &rest[3..];
            if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
                let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return None;
                }
                let mut scale = 0.1;
                for &c in &rest[1..1 + n] {
                    frac += (c - b'0') as f64 * scale;
                    scale *= 0.1;
                }
                rest = &rest[1 + n..];
            }
        }
    }
    check_fields(y, mo, d, h, mi, s)?;
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0i64,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (oh, om) = match tail {
                [a, b2, b':', c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2, c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                [a, b2] => (digits(&[*a, *b2])?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = (oh * 3600 + om * 60) as i64;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64 - offset;
    Some(secs as f64 + frac)
}

fn month_abbrev(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Parses the time of a Common Log Format line, the text between the brackets:
/// `10/Oct/2000:13:55:36 -0700`. Returns UTC seconds since the epoch.
pub fn parse_clf_time(b: &[u8]) -> Option<f64> {
    // dd/Mon/yyyy:hh:mm:ss +zzzz  -> 26 bytes
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let d = digits(&b[0..2])?;
    let mo = month_abbrev(&b[3..6])?;
    let y = digits(&b[7..11])? as i64;
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let h = digits(&b[12..14])?;
    let mi = digits(&b[15..17])?;
    let s = digits(&b[18..20])?;
    check_fields(y, mo, d, h, mi, s)?;
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let oh = digits(&b[22..24])? as i64;
    let om = digits(&b[24..26])? as i64;
    if oh > 23 || om > 59 {
        return None;
    }
    let off = sign * (oh * 3600 + om * 60);
    Some((days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64 - off) as f64)
}

/// Formats UTC seconds as ISO 8601 with a `Z` suffix: `2016-01-01T00:00:00Z`. Fractional seconds
/// are written only when present (to the millisecond).
pub fn format_iso8601(t: f64) -> String {
    let whole = t.floor();
    let ms = ((t - whole) * 1000.0).round() as i64;
    let (whole, ms) = if ms >= 1000 {
        (whole as i64 + 1, 0)
    } else {
        (whole as i64, ms)
    };
    let days = whole.div_euclid(86_400);
    let sod = whole.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if ms == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // 2000-03-01 is day 11017 (hand-checked: 30 years incl. 7 leap days + Jan + Feb 2000)
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        for z in [-800_000i64, -1, 0, 59, 60, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn iso_forms() {
        // `date -u -d 2016-01-01T00:00:00Z +%s` = 1451606400
        assert_eq!(
            parse_timestamp("2016-01-01T00:00:00Z"),
            Some(1_451_606_400.0)
        );
        assert_eq!(
            parse_timestamp("2016-01-01 02:00:00+02:00"),
            Some(1_451_606_400.0)
        );
        assert_eq!(
            parse_timestamp("2015-12-31T19:00-0500"),
            Some(1_451_606_400.0)
        );
        assert_eq!(
            parse_timestamp("2016-01-01T00:00:00.250Z"),
            Some(1_451_606_400.25)
        );
        assert_eq!(parse_timestamp("2016-01-01"), Some(1_451_606_400.0));
        assert_eq!(parse_timestamp("1451606400"), Some(1_451_606_400.0));
        assert_eq!(parse_timestamp("2016-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2016-01-01T25:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("inf"), None);
        assert_eq!(format_iso8601(1_451_606_400.0), "2016-01-01T00:00:00Z");
        assert_eq!(format_iso8601(-1.5), "1969-12-31T23:59:58.500Z");
    }

    #[test]
    fn clf_time() {
        // 10/Oct/2000:13:55:36 -0700 = 2000-10-10T20:55:36Z = 971211336
        assert_eq!(
            parse_clf_time(b"10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336.0)
        );
        assert_eq!(
            parse_clf_time(b"10/Oct/2000:20:55:36 +0000"),
            Some(971_211_336.0)
        );
        assert_eq!(parse_clf_time(b"10/Foo/2000:20:55:36 +0000"), None);
        assert_eq!(parse_clf_time(b"31/Apr/2000:20:55:36 +0000"), None);
    }
}

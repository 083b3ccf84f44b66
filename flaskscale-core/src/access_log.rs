//! Web-server access logs (Common and Combined Log Format, the nginx and Apache defaults)
//! counted into a request-rate [`Series`].

use crate::check;
use crate::error::{Error, Result};
use crate::series::Series;
use crate::time::parse_clf_time;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What [`count_access_log`] does with a line it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OnMalformed {
    /// Skip it, count it in [`AccessLogCounts::malformed`] and remember the first one.
    #[default]
    Skip,
    /// Fail with [`Error::Parse`] naming the line.
    Fail,
}

/// Options of [`count_access_log`].
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogOptions {
    /// Step of the resulting series, seconds.
    pub step: f64,
    /// Grid start (UTC seconds); the first request rounded down to a multiple of `step` if `None`.
    pub start: Option<f64>,
    /// Requests whose path starts with one of these are not counted (health checks, metrics
    /// scrapes); they are reported in [`AccessLogCounts::excluded`].
    pub exclude_path_prefixes: Vec<String>,
    /// What to do with lines that do not parse.
    pub on_malformed: OnMalformed,
}

impl AccessLogOptions {
    /// Options with the given step and everything else at its default.
    pub fn with_step(step: f64) -> Self {
        AccessLogOptions {
            step,
            start: None,
            exclude_path_prefixes: Vec::new(),
            on_malformed: OnMalformed::Skip,
        }
    }
}

/// The result of [`count_access_log`]: the series and an account of every line.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogCounts {
    /// Requests per step.
    pub series: Series,
    /// Non-blank lines read.
    pub lines: usize,
    /// Requests counted in `series`.
    pub counted: usize,
    /// Requests not counted because their path matched an excluded prefix.
    pub excluded: usize,
    /// Lines that did not parse and were skipped.
    pub malformed: usize,
    /// The first malformed line: its 1-based number and (up to 200 bytes of) its text.
    pub first_malformed: Option<(usize, String)>,
}

/// One parsed log line: request time (UTC seconds) and request path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRecord<'a> {
    /// Request time, UTC seconds since the epoch (the log's offset applied).
    pub time: f64,
    /// The request target (`/index.html?x=1`); empty when the request line has none.
    pub path: &'a [u8],
    /// The HTTP status code.
    pub status: u16,
}

#[inline]
fn find(hay: &[u8], from: usize, byte: u8) -> Option<usize> {
    hay[from..]
        .iter()
        .position(|&b| b == byte)
        .map(|p| p + from)
}

/// Parses one Common or Combined Log Format line:
/// `host ident user [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 ["referer" "agent"]`.
/// Returns `None` when the line is not of that shape.
pub fn parse_line(line: &[u8]) -> Option<LogRecord<'_>> {
    let open = find(line, 0, b'[')?;
    let close = find(line, open + 1, b']')?;
    let time = parse_clf_time(&line[open + 1..close])?;
    // ` "request" status bytes`
    let rest = &line[close + 1..];
    if rest.len() < 2 || rest[0] != b' ' || rest[1] != b'"' {
        return None;
    }
    // the request ends at the last `" ` that is followed by a 3-digit status
    let req_start = close + 3;
    let mut q = find(line, req_start, b'"')?;
    loop {
        let after = &line[q + 1..];
        if after.len() >= 4
            && after[0] == b' '
            && after[1..4].iter().all(u8::is_ascii_digit)
            && (after.len() == 4 || after[4] == b' ')
        {
            break;
        }
        q = find(line, q + 1, b'"')?;
    }
    let request = &line[req_start..q];
    let s = &line[q + 2..q + 5];
    let status = (s[0] - b'0') as u16 * 100 + (s[1] - b'0') as u16 * 10 + (s[2] - b'0') as u16;
    let tail = &line[q + 5..];
    // bytes field: digits or '-' (Combined Log Format appends quoted referer and agent)
    if !tail.is_empty() {
        let b = tail.strip_prefix(b" ")?;
        let end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
        let bytes = &b[..end];
        if bytes.is_empty() || !(bytes == b"-" || bytes.iter().all(u8::is_ascii_digit)) {
            return None;
        }
    }
    let path = {
        let mut parts = request.split(|&b| b == b' ').filter(|p| !p.is_empty());
        let _method = parts.next();
        parts.next().unwrap_or(&[])
    };
    Some(LogRecord { time, path, status })
}

/// Counts the requests of an access log (the whole text) per step.
///
/// Timezone offsets are honoured (every time becomes UTC); lines may be out of order. Blank
/// lines are ignored. Malformed lines are skipped and counted, or fail the call, as
/// `options.on_malformed` says; excluded paths are counted separately. Nothing is dropped
/// without being reported in the returned [`AccessLogCounts`].
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad step or start; [`Error::Parse`] for the first
/// malformed line with [`OnMalformed::Fail`]; [`Error::NotEnoughData`] when no request is
/// counted; [`Error::InvalidData`] for a request before an explicit `start`.
///
/// ```
/// use flaskscale_core::access_log::{count_access_log, AccessLogOptions};
/// let log = "1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] \"GET / HTTP/1.0\" 200 6245\n\
///            garbage\n\
///            1.2.3.4 - - [01/Jul/1995:04:01:30 +0000] \"GET /a HTTP/1.0\" 304 -\n";
/// let c = count_access_log(log.as_bytes(), &AccessLogOptions::with_step(60.0)).unwrap();
/// assert_eq!(c.series.values(), &[1.0, 1.0]);
/// assert_eq!((c.counted, c.malformed), (2, 1));
/// ```
pub fn count_access_log(text: &[u8], options: &AccessLogOptions) -> Result<AccessLogCounts> {
    check::positive("step (seconds)", options.step)?;
    let mut times = Vec::with_capacity(text.len() / 100);
    let (mut lines, mut excluded, mut malformed) = (0usize, 0usize, 0usize);
    let mut first_malformed = None;
    let excl: Vec<&[u8]> = options
        .exclude_path_prefixes
        .iter()
        .map(|p| p.as_bytes())
        .collect();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        match parse_line(line) {
            Some(rec) => {
                if excl.iter().any(|p| rec.path.starts_with(p)) {
                    excluded += 1;
                } else {
                    times.push(rec.time);
                }
            }
            None => {
                let shown = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                if options.on_malformed == OnMalformed::Fail {
                    return Err(Error::parse(
                        i + 1,
                        format!("not a Common/Combined Log Format line: {shown:?}"),
                    ));
                }
                malformed += 1;
                if first_malformed.is_none() {
                    first_malformed = Some((i + 1, shown));
                }
            }
        }
    }
    if times.is_empty() {
        return Err(Error::NotEnoughData {
            needed: 1,
            got: 0,
            what: format!(
                "requests counted ({lines} lines: {malformed} malformed, {excluded} excluded)"
            ),
        });
    }
    let series = Series::from_events(&times, options.step, options.start)?;
    Ok(AccessLogCounts {
        series,
        lines,
        counted: times.len(),
        excluded,
        malformed,
        first_malformed,
    })
}

/// Reads an access log file and counts it; see [`count_access_log`].
///
/// # Errors
/// As [`count_access_log`], and [`Error::Io`] naming the path when it cannot be read.
pub fn count_access_log_path(
    path: impl AsRef<Path>,
    options: &AccessLogOptions,
) -> Result<AccessLogCounts> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    count_access_log(&bytes, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_and_combined() {
        let r = parse_line(b"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326").unwrap();
        assert_eq!(r.time, 971_211_336.0);
        assert_eq!(r.path, b"/apache_pb.gif");
        assert_eq!(r.status, 200);
        let r = parse_line(b"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a?q=\\\"x\\\" HTTP/1.1\" 404 - \"http://ref/\" \"Mozilla/5.0 (X11)\"").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.path, b"/a?q=\\\"x\\\"");
        // request lines with stray quotes still find the status
        let r =
            parse_line(b"h - - [01/Jul/1995:00:00:12 -0400] \"GET /a\"b HTTP/1.0\" 200 0").unwrap();
        assert_eq!(r.status, 200);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b"garbage"[..],
            b"h - - [10/Oct/2000:13:55:36 -0700]",
            b"h - - [10/Oct/2000:13:55:36] \"GET / HTTP/1.0\" 200 1",
            b"h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 2x0 1",
            b"h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 abc",
        ] {
            assert!(
                parse_line(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

//! [`Series`]: load on a regular time grid, the input of every forecaster, policy and simulation.

mod clean;

pub(crate) use clean::CleanCache;
pub use clean::{clean_seasonal_outliers, interpolate_gaps, OUTLIER_SEASONS, OUTLIER_SIGMAS};

use crate::check;
use crate::csv_records::Records;
use crate::error::{Error, Result};
use crate::time;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// Load observed on a regular time grid: `values[i]` is the load in
/// `[start + i·step, start + (i+1)·step)`; `NaN` marks a missing observation (a gap, not zero).
///
/// Invariants, checked once at construction: `step` is finite and positive, `start` is finite,
/// every value is `NaN` or finite and non-negative, and there is at least one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    start: f64,
    step: f64,
    values: Vec<f64>,
}

/// How [`Series::resample`] combines the values that fall in one coarser step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// Total of the step (request counts). Known only when every slot in the bin is known:
    /// a bin with a missing slot, or a trailing bin with fewer slots than the factor, is `NaN`.
    Sum,
    /// Mean of the known slots (`NaN` when none is known).
    Mean,
    /// Maximum of the known slots (`NaN` when none is known).
    Max,
}

impl std::str::FromStr for Aggregation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sum" => Ok(Aggregation::Sum),
            "mean" => Ok(Aggregation::Mean),
            "max" => Ok(Aggregation::Max),
            other => Err(Error::param(format!(
                "aggregation must be one of \"sum\", \"mean\", \"max\", got {other:?}"
            ))),
        }
    }
}

/// Summary statistics of the known (non-missing) values of a [`Series`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of steps.
    pub len: usize,
    /// Number of missing steps.
    pub missing: usize,
    /// Sum of known values.
    pub sum: f64,
    /// Mean of known values (`NaN` when none).
    pub mean: f64,
    /// Sample standard deviation of known values (`NaN` with fewer than two).
    pub std: f64,
    /// Smallest known value (`NaN` when none).
    pub min: f64,
    /// Largest known value (`NaN` when none).
    pub max: f64,
}

/// What to do with rows of a CSV whose timestamps skip grid points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SkippedRows {
    /// Fail, naming the line (the default: a skipped row is usually a broken export).
    #[default]
    Error,
    /// Insert the skipped grid points as missing values.
    Missing,
}

/// Options of [`Series::from_csv_str_with`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CsvOptions {
    /// The grid step in seconds; inferred from the first two rows when `None`.
    pub step: Option<f64>,
    /// What to do when timestamps skip grid points.
    pub skipped_rows: SkippedRows,
}

/// The most steps a series built from timestamps may span (800 MB of values): more is almost
/// surely a wrong step or a stray timestamp, and would exhaust memory instead of failing.
pub const MAX_STEPS: usize = 100_000_000;

pub use crate::check::{END_TIME, FIRST_TIME};

fn check_span(steps: f64, what: &str) -> Result<()> {
    if steps.is_nan() || steps >= MAX_STEPS as f64 {
        return Err(Error::data(format!(
            "{what} would span {steps:.0} steps, more than the {MAX_STEPS} allowed: check the step and the timestamps"
        )));
    }
    Ok(())
}

fn check_step(step: f64) -> Result<()> {
    check::positive("step (seconds)", step).map(|_| ())
}

fn check_value(i: usize, v: f64) -> Result<()> {
    if v.is_nan() || (v.is_finite() && v >= 0.0) {
        Ok(())
    } else {
        Err(Error::data(format!(
            "values must be finite and >= 0 (NaN marks a gap), got {v} at index {i}"
        )))
    }
}

impl Series {
    /// Builds a series from values on the grid `start + i·step`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `start`, a `step` that is not finite and
    /// positive, or times outside the years 0000–9999 (the dates ISO 8601 writes with four
    /// digits); [`Error::InvalidData`] for an empty `values` or a negative or infinite value
    /// (the message gives its index).
    ///
    /// ```
    /// use flaskscale_core::Series;
    /// let s = Series::new(vec![1.0, f64::NAN, 3.0], 0.0, 60.0).unwrap();
    /// assert_eq!(s.len(), 3);
    /// assert_eq!(s.stats().missing, 1);
    /// assert!(Series::new(vec![1.0], 0.0, 0.0).is_err());
    /// ```
    pub fn new(values: Vec<f64>, start: f64, step: f64) -> Result<Self> {
        check_step(step)?;
        if !start.is_finite() {
            return Err(Error::param(format!("start must be finite, got {start}")));
        }
        if values.is_empty() {
            return Err(Error::data("a series needs at least one value, got none"));
        }
        let end = start + values.len() as f64 * step;
        if start < FIRST_TIME || end > END_TIME {
            return Err(Error::param(format!(
                "a series must lie between 0000-01-01 and 9999-12-31 (UTC seconds {FIRST_TIME} to \
                 {END_TIME}), got {start} to {end}"
            )));
        }
        for (i, &v) in values.iter().enumerate() {
            check_value(i, v)?;
        }
        Ok(Series {
            start,
            step,
            values,
        })
    }

    /// Start of the first step, UTC seconds since the epoch.
    pub fn start(&self) -> f64 {
        self.start
    }
    /// Length of one step in seconds.
    pub fn step(&self) -> f64 {
        self.step
    }
    /// The values (`NaN` = missing).
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// Takes the values out.
    pub fn into_values(self) -> Vec<f64> {
        self.values
    }
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Always `false`: a series has at least one step. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// End of the last step (exclusive), UTC seconds.
    pub fn end(&self) -> f64 {
        self.start + self.step * self.values.len() as f64
    }
    /// Start time of step `i`.
    pub fn time_at(&self, i: usize) -> f64 {
        self.start + self.step * i as f64
    }
    /// Start times of all steps.
    pub fn timestamps(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.time_at(i)).collect()
    }

    /// Reads `timestamp,value` CSV text with the default [`CsvOptions`].
    ///
    /// The first line must be the header `timestamp,value`. A timestamp is ISO 8601
    /// (`2016-01-01T00:00:00Z`, with `Z`, an offset, or none = UTC) or unix seconds; an empty
    /// value is a missing observation. Rows must lie on one regular grid.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the line for a missing header, a bad timestamp or number, a row
    /// with the wrong number of fields, timestamps that do not increase, or a row off the grid;
    /// [`Error::InvalidData`] for a negative or infinite value; [`Error::NotEnoughData`] when
    /// there are no rows, or one row and no `step`.
    ///
    /// ```
    /// use flaskscale_core::Series;
    /// let s = Series::from_csv_str("timestamp,value\n2016-01-01T00:00:00Z,5\n2016-01-01T01:00:00Z,\n").unwrap();
    /// assert_eq!((s.start(), s.step(), s.len()), (1451606400.0, 3600.0, 2));
    /// assert!(s.values()[1].is_nan());
    /// ```
    pub fn from_csv_str(text: &str) -> Result<Self> {
        Self::from_csv_str_with(text, CsvOptions::default())
    }

    /// Reads `timestamp,value` CSV text; see [`Series::from_csv_str`].
    ///
    /// # Errors
    /// As [`Series::from_csv_str`], and [`Error::InvalidParameter`] for a bad `options.step`.
    pub fn from_csv_str_with(text: &str, options: CsvOptions) -> Result<Self> {
        if let Some(step) = options.step {
            check_step(step)?;
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut records = Records::new(text);
        let header = records.next().ok_or_else(|| {
            Error::parse(1, "empty input: expected the header \"timestamp,value\"")
        })??;
        let is = |f: &str, name: &str| f.eq_ignore_ascii_case(name);
        if !(header.n_fields == 2
            && is(&header.fields[0], "timestamp")
            && is(&header.fields[1], "value"))
        {
            return Err(Error::parse(
                header.line,
                format!(
                    "expected the header \"timestamp,value\", got {:?}",
                    header.text
                ),
            ));
        }
        let mut times: Vec<(usize, f64)> = Vec::new();
        let mut vals: Vec<f64> = Vec::new();
        for record in records {
            let record = record?;
            let ln = record.line;
            if record.n_fields != 2 {
                return Err(Error::parse(
                    ln,
                    format!(
                        "expected two fields \"timestamp,value\", got {:?}",
                        record.text
                    ),
                ));
            }
            let [ts, v] = &record.fields;
            let (ts, v) = (ts.as_ref(), v.as_ref());
            let t = time::parse_timestamp(ts).ok_or_else(|| {
                Error::parse(
                    ln,
                    format!("bad timestamp {ts:?}: expected ISO 8601 or unix seconds"),
                )
            })?;
            let value = if v.is_empty() || v.eq_ignore_ascii_case("nan") {
                f64::NAN
            } else {
                let x: f64 = v
                    .parse()
                    .map_err(|_| Error::parse(ln, format!("bad number {v:?}")))?;
                if !(x.is_finite() && x >= 0.0) {
                    return Err(Error::data(format!(
                        "line {ln}: values must be finite and >= 0 (empty marks a gap), got {v}"
                    )));
                }
                x
            };
            times.push((ln, t));
            vals.push(value);
        }
        if times.is_empty() {
            return Err(Error::NotEnoughData {
                needed: 1,
                got: 0,
                what: "rows after the CSV header".into(),
            });
        }
        Self::on_grid(&times, vals, options)
    }

    /// Builds a series from timestamped values (UTC seconds, increasing) that lie on one regular
    /// grid, as read from a table with a time index (a pandas `DatetimeIndex`, a database).
    /// The step is `options.step` or the first difference.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when the lengths differ or a value is negative or infinite;
    /// [`Error::Parse`] (with the 1-based row) for timestamps that do not increase, lie off the
    /// grid, or skip grid points (unless `options.skipped_rows` is `Missing`);
    /// [`Error::NotEnoughData`] for no rows, or one row and no `step`.
    ///
    /// ```
    /// use flaskscale_core::{CsvOptions, Series, SkippedRows};
    /// let opts = CsvOptions { skipped_rows: SkippedRows::Missing, ..Default::default() };
    /// let s = Series::from_timestamps(&[0.0, 60.0, 180.0], vec![1.0, 2.0, 3.0], opts).unwrap();
    /// assert_eq!(s.len(), 4);
    /// assert!(s.values()[2].is_nan());
    /// ```
    pub fn from_timestamps(times: &[f64], values: Vec<f64>, options: CsvOptions) -> Result<Self> {
        if times.len() != values.len() {
            return Err(Error::data(format!(
                "timestamps and values differ in length ({} vs {})",
                times.len(),
                values.len()
            )));
        }
        if let Some(step) = options.step {
            check_step(step)?;
        }
        for (i, &t) in times.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::parse(
                    i + 1,
                    format!("timestamp must be finite, got {t}"),
                ));
            }
        }
        for (i, &v) in values.iter().enumerate() {
            check_value(i, v)?;
        }
        if times.is_empty() {
            return Err(Error::NotEnoughData {
                needed: 1,
                got: 0,
                what: "timestamped values".into(),
            });
        }
        let numbered: Vec<(usize, f64)> =
            times.iter().enumerate().map(|(i, &t)| (i + 1, t)).collect();
        Self::on_grid(&numbered, values, options)
    }

    /// Places `(line, time)` rows and their values on the one regular grid they must lie on.
    fn on_grid(times: &[(usize, f64)], vals: Vec<f64>, options: CsvOptions) -> Result<Self> {
        let step = match options.step {
            Some(s) => s,
            None => {
                if times.len() < 2 {
                    return Err(Error::NotEnoughData {
                        needed: 2,
                        got: 1,
                        what: "CSV rows to infer the step (or pass the step)".into(),
                    });
                }
                let s = times[1].1 - times[0].1;
                if s <= 0.0 {
                    return Err(Error::parse(
                        times[1].0,
                        format!(
                            "timestamps must increase: {} does not follow {}",
                            time::format_iso8601(times[1].1),
                            time::format_iso8601(times[0].1)
                        ),
                    ));
                }
                s
            }
        };
        let start = times[0].1;
        let tol = 1e-6 * step.max(1.0);
        let mut values = Vec::with_capacity(vals.len());
        let mut prev = f64::NEG_INFINITY;
        for (&(ln, t), &v) in times.iter().zip(&vals) {
            if t <= prev {
                return Err(Error::parse(
                    ln,
                    format!(
                        "timestamps must increase: {} does not follow {}",
                        time::format_iso8601(t),
                        time::format_iso8601(prev)
                    ),
                ));
            }
            prev = t;
            let k = (t - start) / step;
            let kr = k.round();
            if (k - kr).abs() * step > tol {
                return Err(Error::parse(
                    ln,
                    format!(
                        "timestamp {} is off the regular grid (start {}, step {step} s)",
                        time::format_iso8601(t),
                        time::format_iso8601(start)
                    ),
                ));
            }
            check_span(kr + 1.0, "the timestamps")?;
            let k = kr as usize;
            if k != values.len() {
                match options.skipped_rows {
                    SkippedRows::Error => {
                        return Err(Error::parse(
                            ln,
                            format!(
                                "timestamp {} skips {} grid point(s) after {} (step {step} s); \
                                 pass skipped_rows=\"missing\" (Rust: SkippedRows::Missing) to keep them as gaps",
                                time::format_iso8601(t),
                                k - values.len(),
                                time::format_iso8601(start + step * (values.len() as f64 - 1.0))
                            ),
                        ))
                    }
                    SkippedRows::Missing => values.resize(k, f64::NAN),
                }
            }
            values.push(v);
        }
        Series::new(values, start, step)
    }

    /// Reads a `timestamp,value` CSV from any reader; see [`Series::from_csv_str`].
    ///
    /// # Errors
    /// As [`Series::from_csv_str`], and [`Error::Io`] when reading fails or the text is not UTF-8.
    pub fn from_csv_reader<R: Read>(mut reader: R, options: CsvOptions) -> Result<Self> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| Error::Io(format!("reading CSV: {e}")))?;
        Self::from_csv_str_with(&text, options)
    }

    /// Reads a `timestamp,value` CSV file; see [`Series::from_csv_str`].
    ///
    /// # Errors
    /// As [`Series::from_csv_str`], and [`Error::Io`] naming the path when it cannot be read.
    pub fn from_csv_path(path: impl AsRef<Path>, options: CsvOptions) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        Self::from_csv_str_with(&text, options)
    }

    /// Writes the series as `timestamp,value` CSV (ISO 8601 UTC timestamps to the millisecond,
    /// or Unix seconds in full when the start or step is not a whole millisecond; empty =
    /// missing), the format [`Series::from_csv_str`] reads back.
    pub fn to_csv_string(&self) -> String {
        let mut out = String::with_capacity(32 * self.len() + 16);
        out.push_str("timestamp,value\n");
        // ISO 8601 is written to the millisecond: finer grids are written as Unix seconds
        let whole_ms = |t: f64| (t * 1000.0).fract() == 0.0;
        let iso = whole_ms(self.start) && whole_ms(self.step);
        for (i, v) in self.values.iter().enumerate() {
            let t = self.time_at(i);
            if iso {
                out.push_str(&time::format_iso8601(t));
            } else {
                out.push_str(&format!("{t}"));
            }
            out.push(',');
            if !v.is_nan() {
                out.push_str(&format!("{v}"));
            }
            out.push('\n');
        }
        out
    }

    /// Counts events (for example request arrival times, UTC seconds) per step.
    ///
    /// The grid starts at `start`, or at the earliest event rounded down to a multiple of
    /// `step` when `None`, and covers every event. Events need not be sorted.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad `step` or `start`; [`Error::InvalidData`] for no
    /// events, a non-finite time, or an event before an explicit `start` (never dropped silently).
    ///
    /// ```
    /// use flaskscale_core::Series;
    /// let s = Series::from_events(&[0.5, 10.0, 59.9, 60.0, 185.0], 60.0, None).unwrap();
    /// assert_eq!(s.values(), &[3.0, 1.0, 0.0, 1.0]);
    /// ```
    pub fn from_events(times: &[f64], step: f64, start: Option<f64>) -> Result<Self> {
        check_step(step)?;
        if times.is_empty() {
            return Err(Error::data("no events to count"));
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (i, &t) in times.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::data(format!(
                    "event times must be finite, got {t} at index {i}"
                )));
            }
            lo = lo.min(t);
            hi = hi.max(t);
        }
        let start = match start {
            Some(s) if !s.is_finite() => {
                return Err(Error::param(format!("start must be finite, got {s}")))
            }
            Some(s) if lo < s => {
                return Err(Error::data(format!(
                    "event at {} is before start {}",
                    time::format_iso8601(lo),
                    time::format_iso8601(s)
                )))
            }
            Some(s) => s,
            None => time::slot_start(lo, step),
        };
        let span = ((hi - start) / step).floor() + 1.0;
        check_span(span, "the events")?;
        let n = span as usize;
        let mut values = vec![0.0; n];
        for &t in times {
            let k = (((t - start) / step).floor() as usize).min(n - 1);
            values[k] += 1.0;
        }
        Series::new(values, start, step)
    }

    /// Aggregates to a coarser step `new_step`, which must be a whole multiple of `step`.
    /// Bins start at `start`; see [`Aggregation`] for how missing slots are treated.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `new_step` is not a positive whole multiple of `step`.
    ///
    /// ```
    /// use flaskscale_core::{Aggregation, Series};
    /// let s = Series::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], 0.0, 60.0).unwrap();
    /// let h = s.resample(120.0, Aggregation::Sum).unwrap();
    /// assert_eq!(h.values()[..2], [3.0, 7.0]);
    /// assert!(h.values()[2].is_nan()); // the trailing bin has one slot of two
    /// ```
    pub fn resample(&self, new_step: f64, how: Aggregation) -> Result<Self> {
        check_step(new_step)?;
        let ratio = new_step / self.step;
        let factor = ratio.round();
        if factor < 1.0 || (ratio - factor).abs() > 1e-9 * ratio {
            return Err(Error::param(format!(
                "new step must be a whole multiple of the step {} s, got {new_step} s",
                self.step
            )));
        }
        let factor = factor as usize;
        let values = self
            .values
            .chunks(factor)
            .map(|bin| match how {
                Aggregation::Sum => {
                    if bin.len() < factor {
                        f64::NAN
                    } else {
                        bin.iter().sum() // NaN if any slot is missing
                    }
                }
                Aggregation::Mean => {
                    let (s, c) = bin
                        .iter()
                        .filter(|v| !v.is_nan())
                        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
                    if c == 0 {
                        f64::NAN
                    } else {
                        s / c as f64
                    }
                }
                Aggregation::Max => bin
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .fold(f64::NAN, f64::max),
            })
            .collect();
        Series::new(values, self.start, self.step * factor as f64)
    }

    /// Number of missing values.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    /// A copy with gaps filled by linear interpolation between the nearest known neighbours;
    /// leading and trailing gaps take the nearest known value. Returns the series and how many
    /// values were filled.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when every value is missing.
    pub fn fill_gaps(&self) -> Result<(Self, usize)> {
        let mut values = self.values.clone();
        let filled = interpolate_gaps(&mut values)?;
        Ok((
            Series {
                values,
                ..self.clone()
            },
            filled,
        ))
    }

    /// The steps whose start lies in `[from, to)` (UTC seconds).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when the range is not finite or holds no step of the series.
    pub fn slice(&self, from: f64, to: f64) -> Result<Self> {
        if !(from.is_finite() && to.is_finite()) || to <= from {
            return Err(Error::param(format!(
                "slice needs finite from < to, got [{from}, {to})"
            )));
        }
        let i0 = ((from - self.start) / self.step).ceil().max(0.0) as usize;
        let i1 = (((to - self.start) / self.step).ceil().max(0.0) as usize).min(self.len());
        if i0 >= i1 {
            return Err(Error::param(format!(
                "slice [{}, {}) holds no step of the series [{}, {})",
                time::format_iso8601(from),
                time::format_iso8601(to),
                time::format_iso8601(self.start),
                time::format_iso8601(self.end())
            )));
        }
        Ok(Series {
            start: self.time_at(i0),
            step: self.step,
            values: self.values[i0..i1].to_vec(),
        })
    }

    /// Summary statistics of the known values.
    pub fn stats(&self) -> Stats {
        let known: Vec<f64> = self
            .values
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .collect();
        let n = known.len();
        let sum: f64 = known.iter().sum();
        let mean = if n > 0 { sum / n as f64 } else { f64::NAN };
        let std = if n > 1 {
            (known.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        Stats {
            len: self.len(),
            missing: self.len() - n,
            sum,
            mean,
            std,
            min: known.iter().copied().fold(f64::NAN, f64::min),
            max: known.iter().copied().fold(f64::NAN, f64::max),
        }
    }
}

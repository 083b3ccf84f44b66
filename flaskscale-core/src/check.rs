//! The checks every constructor, every `validate()` and every loader of a saved file calls:
//! one rule and one wording per kind of value, so the Rust API, the Python bindings, the
//! command line and the Flask extension refuse the same inputs with the same words.
//!
//! Settings out of range are [`Error::InvalidParameter`]; measured values (observations,
//! timestamps) are [`Error::InvalidData`]. Each message names the value and shows it.
//!
//! ```
//! use flaskscale_core::check;
//! assert_eq!(check::positive("step_seconds", 60.0).unwrap(), 60.0);
//! let e = check::positive("step_seconds", 0.0).unwrap_err();
//! assert_eq!(e.to_string(), "invalid parameter: step_seconds must be finite and > 0, got 0");
//! assert!(check::unit_open("quantile", 1.0).is_err());
//! assert_eq!(check::steps_per_day(60.0), Some(1440));
//! ```

use crate::error::{Error, Result};

/// 0000-01-01T00:00:00Z in UTC seconds: the earliest time a series or an observation may hold.
pub const FIRST_TIME: f64 = -62_167_219_200.0;
/// 10000-01-01T00:00:00Z in UTC seconds: every step of a series ends by then. A millisecond
/// timestamp of this era (1.7e12) is far beyond it, so it is refused instead of being taken as
/// a time 54,000 years ahead.
pub const END_TIME: f64 = 253_402_300_800.0;

/// The most interval levels one forecast may carry.
pub const MAX_LEVELS: usize = 100;
/// The most numbers one forecast may hold, counted as `horizon × (2 + 2 × levels)` (the mean,
/// the sd and two bounds per level): 10^8 numbers are 800 MB. A longer forecast or more levels
/// is refused up front instead of exhausting memory.
pub const MAX_FORECAST_VALUES: usize = 100_000_000;

/// The deepest nesting of a JSON configuration or saved file (serde_json's own limit): deeper
/// is refused as a parse error, never a stack overflow.
pub const MAX_NESTING: usize = 128;

/// Seconds in a day.
pub const DAY_SECONDS: f64 = 86_400.0;

/// `v` when it is finite and > 0.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn positive(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::param(format!(
            "{name} must be finite and > 0, got {v}"
        )))
    }
}

/// `v` when it is finite and >= 0.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn non_negative(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::param(format!(
            "{name} must be finite and >= 0, got {v}"
        )))
    }
}

/// `v` when it is finite.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn finite(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::param(format!("{name} must be finite, got {v}")))
    }
}

/// `v` when it is in the open unit interval (0, 1) (a quantile, a coverage level).
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn unit_open(name: &str, v: f64) -> Result<f64> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(Error::param(format!("{name} must be in (0, 1), got {v}")))
    }
}

/// `v` when it is in (0, 1] (a quantile where 1 is the maximum).
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn unit_left_open(name: &str, v: f64) -> Result<f64> {
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(Error::param(format!("{name} must be in (0, 1], got {v}")))
    }
}

/// `v` when it is in [0, 1) (a tolerance, a smoothing weight that must leave some memory).
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name`.
pub fn unit_right_open(name: &str, v: f64) -> Result<f64> {
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Error::param(format!("{name} must be in [0, 1), got {v}")))
    }
}

/// A count `v` when it is at least `min` (steps, replicas, seasons).
///
/// # Errors
/// [`Error::InvalidParameter`] naming `name` and the unit.
pub fn at_least(name: &str, v: usize, min: usize, unit: &str) -> Result<usize> {
    if v >= min {
        Ok(v)
    } else {
        Err(Error::param(format!(
            "{name} must be >= {min} {unit}, got {v}"
        )))
    }
}

/// An observed value: finite and >= 0, or `NaN` for a missing one.
///
/// # Errors
/// [`Error::InvalidData`] for a negative or infinite value, naming `what`.
pub fn observation(what: &str, v: f64) -> Result<f64> {
    if v.is_nan() || (v.is_finite() && v >= 0.0) {
        Ok(v)
    } else {
        Err(Error::data(format!(
            "{what} must be finite and >= 0 (NaN = missing), got {v}"
        )))
    }
}

/// A time in UTC seconds between [`FIRST_TIME`] (year 0) and [`END_TIME`] (year 10000).
///
/// # Errors
/// [`Error::InvalidData`] for a time outside, with a hint when it looks like milliseconds.
pub fn timestamp(what: &str, t: f64) -> Result<f64> {
    if (FIRST_TIME..END_TIME).contains(&t) {
        return Ok(t);
    }
    let hint = if (t / 1000.0).is_finite() && (FIRST_TIME..END_TIME).contains(&(t / 1000.0)) {
        " (it looks like milliseconds: give seconds)"
    } else {
        ""
    };
    Err(Error::data(format!(
        "{what} must be UTC seconds between years 0 and 10000, got {t}{hint}"
    )))
}

/// One day in steps of `step_seconds`, rounded, when that is at least 2 steps and at most
/// 10^7 (a day of steps shorter than 10 ms is no season); `None` otherwise. The one
/// definition of "a day" the warm-up season, the replay model and the Flask defaults use.
pub fn steps_per_day(step_seconds: f64) -> Option<usize> {
    let day = (DAY_SECONDS / step_seconds).round();
    (2.0..=1e7).contains(&day).then_some(day as usize)
}

/// Interval levels for a forecast of `horizon` steps: each in (0, 1), at most [`MAX_LEVELS`]
/// of them, and the whole forecast within [`MAX_FORECAST_VALUES`] numbers.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the level or the bound.
pub fn levels(levels: &[f64], horizon: usize) -> Result<()> {
    if levels.len() > MAX_LEVELS {
        return Err(Error::param(format!(
            "at most {MAX_LEVELS} interval levels per forecast, got {}",
            levels.len()
        )));
    }
    let values = horizon.saturating_mul(2 + 2 * levels.len());
    if values > MAX_FORECAST_VALUES {
        return Err(Error::param(format!(
            "a forecast of {horizon} steps with {} levels would hold {values} numbers, more than \
             the {MAX_FORECAST_VALUES} allowed: ask for fewer steps or levels",
            levels.len()
        )));
    }
    for &l in levels {
        if !(l > 0.0 && l < 1.0) {
            return Err(Error::param(format!(
                "interval levels must be in (0, 1), got {l}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_by_hand() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(positive("x", bad).is_err(), "{bad}");
        }
        assert!(non_negative("x", 0.0).is_ok());
        assert!(non_negative("x", -0.5).is_err());
        assert!(finite("x", f64::NEG_INFINITY).is_err());
        assert!(unit_open("q", 0.5).is_ok());
        for bad in [0.0, 1.0, 2.0, f64::NAN] {
            assert!(unit_open("q", bad).is_err(), "{bad}");
        }
        assert!(unit_left_open("q", 1.0).is_ok());
        assert!(unit_left_open("q", 0.0).is_err());
        assert!(unit_right_open("t", 0.0).is_ok());
        assert!(unit_right_open("t", 1.0).is_err());
        assert_eq!(
            at_least("season length", 1, 2, "steps")
                .unwrap_err()
                .to_string(),
            "invalid parameter: season length must be >= 2 steps, got 1"
        );
        assert!(observation("v", f64::NAN).is_ok());
        assert!(matches!(observation("v", -1.0), Err(Error::InvalidData(_))));
    }

    #[test]
    fn timestamps_and_days() {
        assert!(timestamp("t", 1.7e9).is_ok());
        let e = timestamp("t", 1.7e12).unwrap_err().to_string();
        assert!(e.contains("milliseconds"), "{e}");
        assert!(timestamp("t", f64::NAN).is_err());
        assert!(!timestamp("t", 1e300)
            .unwrap_err()
            .to_string()
            .contains("milliseconds"));
        // 86,400 / 60 and / 3600 by hand; a step of a day or more has no daily season
        assert_eq!(steps_per_day(60.0), Some(1440));
        assert_eq!(steps_per_day(3600.0), Some(24));
        assert_eq!(steps_per_day(86_400.0), None);
        assert_eq!(steps_per_day(0.001), None);
        assert_eq!(steps_per_day(f64::NAN), None);
    }

    #[test]
    fn levels_are_bounded() {
        assert!(levels(&[0.8, 0.95], 1_000_000).is_ok());
        // a million steps with 2,000 levels would be 32 GB
        let many: Vec<f64> = (1..=2000).map(|i| i as f64 / 2001.0).collect();
        assert!(levels(&many, 10)
            .unwrap_err()
            .to_string()
            .contains("at most 100"));
        let fifty = &many[..50];
        assert!(levels(fifty, 1_000_000)
            .unwrap_err()
            .to_string()
            .contains("numbers"));
        assert!(levels(fifty, 100_000).is_ok());
        assert!(levels(&[1.0], 1).is_err());
    }
}

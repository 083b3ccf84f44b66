//! Serde helpers for `f64` sequences that may hold `NaN` (a missing step). JSON has no `NaN`:
//! `serde_json` writes it as `null` and would refuse to read that `null` back as an `f64`. These
//! write `NaN` as `null` and read `null` as `NaN`, so saved state round-trips exactly.

use serde::{Deserialize, Deserializer, Serializer};

/// Whether two values saved through these helpers are the same: equal, or both `NaN` (both
/// written as `null`). For the `PartialEq` of states that hold missing values.
pub(crate) fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// For `VecDeque<f64>`, `Vec<f64>` and the like: `#[serde(with = "crate::nan_serde::seq")]`.
pub(crate) mod seq {
    use super::*;

    pub(crate) fn serialize<'a, C, S>(values: &'a C, s: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a f64>,
        S: Serializer,
    {
        s.collect_seq(
            values
                .into_iter()
                .map(|v| if v.is_nan() { None } else { Some(*v) }),
        )
    }

    pub(crate) fn deserialize<'de, C, D>(d: D) -> Result<C, D::Error>
    where
        C: FromIterator<f64>,
        D: Deserializer<'de>,
    {
        let raw: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(raw.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

/// For one `f64` that may be `NaN`: `#[serde(with = "crate::nan_serde::one")]`.
pub(crate) mod one {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_some(value)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

//! The text names of the settings' choices, in one place: `FromStr` for each choice enum (the
//! names its serde form uses, the ones the command line, the Python keywords and the Flask
//! settings accept) and the names of the autoscaler's stages. An unknown name is an
//! [`Error::InvalidParameter`] that lists the valid ones.
//!
//! ```
//! use flaskscale_core::policy::{Combination, Mode};
//! assert_eq!("predictive_only".parse::<Combination>().unwrap(), Combination::PredictiveOnly);
//! let e = "sideways".parse::<Mode>().unwrap_err();
//! assert_eq!(
//!     e.to_string(),
//!     "invalid parameter: mode must be \"full\", \"forecast_only\" or \"scale_out_only\", got \"sideways\""
//! );
//! ```

use crate::access_log::OnMalformed;
use crate::autoscaler::{EmptySteps, ModelStage};
use crate::error::{Error, Result};
use crate::forecast::{Combine, Loss, Select};
use crate::policy::{Combination, Mode};
use crate::series::SkippedRows;
use std::str::FromStr;

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn choices(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The value named `s` among `table`, or the error listing the names.
fn lookup<T: Copy>(what: &str, s: &str, table: &[(&str, T)]) -> Result<T> {
    table
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            Error::param(format!("{what} must be {}, got {s:?}", choices(&names)))
        })
}

impl FromStr for Combination {
    type Err = Error;
    /// `"max"`, `"predictive_only"`, `"reactive_only"`.
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "combination",
            s,
            &[
                ("max", Combination::Max),
                ("predictive_only", Combination::PredictiveOnly),
                ("reactive_only", Combination::ReactiveOnly),
            ],
        )
    }
}

impl FromStr for Mode {
    type Err = Error;
    /// `"full"`, `"forecast_only"`, `"scale_out_only"`.
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "mode",
            s,
            &[
                ("full", Mode::Full),
                ("forecast_only", Mode::ForecastOnly),
                ("scale_out_only", Mode::ScaleOutOnly),
            ],
        )
    }
}

impl FromStr for EmptySteps {
    type Err = Error;
    /// `"missing"`, `"zero"`.
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "empty_steps",
            s,
            &[("missing", EmptySteps::Missing), ("zero", EmptySteps::Zero)],
        )
    }
}

impl FromStr for Combine {
    type Err = Error;
    /// `"mean"`, `"median"`.
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "combine",
            s,
            &[("mean", Combine::Mean), ("median", Combine::Median)],
        )
    }
}

impl FromStr for SkippedRows {
    type Err = Error;
    /// `"error"`, `"missing"`.
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "skipped_rows",
            s,
            &[
                ("error", SkippedRows::Error),
                ("missing", SkippedRows::Missing),
            ],
        )
    }
}

impl FromStr for OnMalformed {
    type Err = Error;
    /// `"skip"`, `"raise"` (fail on the first malformed line).
    fn from_str(s: &str) -> Result<Self> {
        lookup(
            "on_malformed",
            s,
            &[("skip", OnMalformed::Skip), ("raise", OnMalformed::Fail)],
        )
    }
}

impl Loss {
    /// The loss named `name` (`"pinball"`, `"mase"`, `"asymmetric"`) with its parameter: the
    /// pinball loss takes `quantile`, the asymmetric one `weights` = (under, over), which no
    /// other loss takes.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown name, or weights missing or misplaced.
    pub fn from_name(name: &str, quantile: f64, weights: Option<(f64, f64)>) -> Result<Self> {
        match (name, weights) {
            ("pinball", None) => Ok(Loss::Pinball { q: quantile }),
            ("mase", None) => Ok(Loss::Mase),
            ("asymmetric", Some((under, over))) => Ok(Loss::Asymmetric { under, over }),
            ("asymmetric", None) => Err(Error::param(
                "loss \"asymmetric\" needs weights (under, over)",
            )),
            ("pinball" | "mase", Some(_)) => {
                Err(Error::param("weights go with loss \"asymmetric\" only"))
            }
            (other, _) => Err(Error::param(format!(
                "loss must be {}, got {other:?}",
                choices(&["pinball", "mase", "asymmetric"])
            ))),
        }
    }
}

impl Select {
    /// The selection named `name`: `"best"`, or `"combine"` (the mean of the best `top_k`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown name.
    pub fn from_name(name: &str, top_k: usize) -> Result<Self> {
        match name {
            "best" => Ok(Select::Best),
            "combine" => Ok(Select::CombineTopK(top_k)),
            other => Err(Error::param(format!(
                "select must be {}, got {other:?}",
                choices(&["best", "combine"])
            ))),
        }
    }
}

impl ModelStage {
    /// `"reactive"`, `"warm_up"` or `"full"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ModelStage::Reactive => "reactive",
            ModelStage::WarmUp => "warm_up",
            ModelStage::Full => "full",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name parses to the variant whose serde form is that same name.
    #[test]
    fn names_match_the_serde_names() {
        for name in ["max", "predictive_only", "reactive_only"] {
            let c: Combination = name.parse().unwrap();
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("{name:?}"));
        }
        for name in ["full", "forecast_only", "scale_out_only"] {
            let m: Mode = name.parse().unwrap();
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("{name:?}"));
        }
        for name in ["missing", "zero"] {
            let e: EmptySteps = name.parse().unwrap();
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("{name:?}"));
        }
        assert_eq!("median".parse::<Combine>().unwrap(), Combine::Median);
        assert!("Max".parse::<Combination>().is_err());
    }

    #[test]
    fn losses_and_selections() {
        assert_eq!(
            Loss::from_name("pinball", 0.8, None).unwrap(),
            Loss::Pinball { q: 0.8 }
        );
        assert_eq!(
            Loss::from_name("asymmetric", 0.9, Some((3.0, 1.0))).unwrap(),
            Loss::Asymmetric {
                under: 3.0,
                over: 1.0
            }
        );
        assert!(Loss::from_name("asymmetric", 0.9, None).is_err());
        assert!(Loss::from_name("mase", 0.9, Some((1.0, 1.0))).is_err());
        let e = Loss::from_name("l2", 0.9, None).unwrap_err().to_string();
        assert!(
            e.ends_with("\"pinball\", \"mase\" or \"asymmetric\", got \"l2\""),
            "{e}"
        );
        assert_eq!(
            Select::from_name("combine", 3).unwrap(),
            Select::CombineTopK(3)
        );
        assert_eq!(ModelStage::WarmUp.as_str(), "warm_up");
    }
}

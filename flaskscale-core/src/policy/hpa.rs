//! The Kubernetes HorizontalPodAutoscaler's replica calculation (autoscaling/v2, the controller
//! in `pkg/controller/podautoscaler`), for one metric with a value or average-value target.
//!
//! Per call of [`HpaPolicy::recommend`]:
//! 1. current replicas 0 while `minReplicas` > 0: scaling is disabled, the count stays 0;
//!    current above `maxReplicas` or below `minReplicas`: straight to the bound;
//! 2. the metric: `usage_ratio = load / (averageValue · current)` (or `load / value`); inside
//!    the tolerance (`1 − down ≤ ratio ≤ 1 + up`, default 0.1 each) the count is kept, else
//!    `desired = ceil(load / averageValue)` (or `ceil(ratio · current)`); a missing load (NaN)
//!    makes no change at all (no scale-down on missing metrics);
//! 3. without `behavior`: the scale-down stabilization (the largest recommendation of the last
//!    `downscaleStabilizationSeconds`, default 300 s) and the limits `[minReplicas,
//!    min(maxReplicas, max(2·current, 4))]`;
//! 4. with `behavior`: the recommendation is kept between the smallest recommendation of the
//!    scale-up window and the largest of the scale-down window (starting from the current
//!    count), then the rate policies: for each policy, the replicas at the start of its period
//!    (current minus the scale-ups plus the scale-downs recorded within `periodSeconds`)
//!    plus `value` pods or `value` percent (rounded up when scaling up, truncated when scaling
//!    down); `selectPolicy` Max takes the policy allowing the largest change, Min the smallest,
//!    Disabled none; then `[minReplicas, maxReplicas]`.
//!
//! Defaults are Kubernetes': up — no stabilization, 4 pods or 100% per 15 s, Max; down — 300 s
//! stabilization, 100% per 15 s, Max. A decision is assumed applied: when it changes the count
//! it is recorded as a scale event for the rate policies.

use super::{Decision, Explain, Reason};
use crate::check;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// `Pods` or `Percent`, as in `behavior.scaleUp.policies[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalingPolicyType {
    /// At most `value` pods per period.
    Pods,
    /// At most `value` percent of the replicas at the period's start, per period.
    Percent,
}

/// `selectPolicy`: which of several rate policies applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy that allows the largest change (the default).
    #[default]
    Max,
    /// The policy that allows the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One rate policy (`behavior.scaleUp.policies[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingPolicy {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub policy_type: ScalingPolicyType,
    /// Pods or percent per period, > 0.
    pub value: u32,
    /// The period, 1 to 1800 seconds.
    pub period_seconds: u32,
}

/// Scaling rules for one direction (`behavior.scaleUp` / `behavior.scaleDown`); unset fields
/// take Kubernetes' defaults for that direction.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingRules {
    /// Stabilization window, 0 to 3600 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window_seconds: Option<u32>,
    /// Which policy applies when there are several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    /// The rate policies (at least one when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<HpaScalingPolicy>>,
    /// Tolerance for this direction, in [0, 1) (Kubernetes' configurable tolerance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// `spec.behavior`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaBehavior {
    /// Rules for scaling up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<HpaScalingRules>,
    /// Rules for scaling down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<HpaScalingRules>,
}

/// The metric target (`metrics[].*.target`), numbers instead of quantity strings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum MetricTarget {
    /// The metric's total divided by the replicas should be `averageValue` (load per replica).
    AverageValue {
        /// Target per replica, > 0.
        #[serde(rename = "averageValue")]
        average_value: f64,
    },
    /// The metric itself should be `value` (e.g. a queue length per replica already).
    Value {
        /// Target value, > 0.
        value: f64,
    },
}

/// The fewest replicas unless told otherwise.
pub const DEFAULT_MIN_REPLICAS: u32 = 1;
/// The most replicas where a caller gives no limit (the bindings, the command line): a ceiling
/// that keeps a wrong capacity from asking for thousands of replicas.
pub const DEFAULT_MAX_REPLICAS: u32 = 100;

fn default_min() -> u32 {
    DEFAULT_MIN_REPLICAS
}
fn default_tolerance() -> f64 {
    0.1
}
fn default_downscale() -> u32 {
    300
}

/// An HPA's settings, with autoscaling/v2 field names so a manifest's values paste in:
/// `{"minReplicas": 2, "maxReplicas": 20, "target": {"type": "AverageValue", "averageValue": 50},
/// "behavior": {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaConfig {
    /// Lower bound, >= 1 (default 1).
    #[serde(default = "default_min")]
    pub min_replicas: u32,
    /// Upper bound, >= `min_replicas`.
    pub max_replicas: u32,
    /// The metric target.
    pub target: MetricTarget,
    /// The controller's tolerance, in [0, 1) (default 0.1; `--horizontal-pod-autoscaler-tolerance`).
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// The controller's scale-down stabilization without `behavior`, 0 to 3600 s (default 300;
    /// `--horizontal-pod-autoscaler-downscale-stabilization`).
    #[serde(default = "default_downscale")]
    pub downscale_stabilization_seconds: u32,
    /// `spec.behavior`; `None` = the legacy rules (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HpaBehavior>,
}

impl HpaConfig {
    /// An average-value target of `target_per_replica` with the given bounds and defaults.
    pub fn new(target_per_replica: f64, min_replicas: u32, max_replicas: u32) -> Self {
        HpaConfig {
            min_replicas,
            max_replicas,
            target: MetricTarget::AverageValue {
                average_value: target_per_replica,
            },
            tolerance: default_tolerance(),
            downscale_stabilization_seconds: default_downscale(),
            behavior: None,
        }
    }

    /// Parses JSON with the autoscaling/v2 names; unknown keys are rejected with the list of
    /// valid ones, then [`HpaConfig::validate`] runs.
    ///
    /// # Errors
    /// [`Error::Parse`] for JSON that does not parse or has unknown keys;
    /// [`Error::InvalidParameter`] as [`HpaConfig::validate`].
    pub fn from_json(text: &str) -> Result<Self> {
        let c: HpaConfig = serde_json::from_str(text).map_err(|e| Error::Parse {
            line: e.line(),
            message: format!("hpa config: {e}"),
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field: `minReplicas` 0 or above `maxReplicas`, a
    /// target not finite and > 0, a tolerance outside [0, 1), a window outside 0..=3600 s, a
    /// policy period outside 1..=1800 s or value 0, or an empty policy list.
    pub fn validate(&self) -> Result<()> {
        if self.min_replicas == 0 {
            return Err(Error::param(
                "minReplicas must be >= 1 (scale to zero is not modelled), got 0",
            ));
        }
        if self.min_replicas > self.max_replicas {
            return Err(Error::param(format!(
                "minReplicas ({}) must not exceed maxReplicas ({})",
                self.min_replicas, self.max_replicas
            )));
        }
        let t = match self.target {
            MetricTarget::AverageValue { average_value } => average_value,
            MetricTarget::Value { value } => value,
        };
        check::positive("the metric target", t)?;
        check_tolerance("tolerance", self.tolerance)?;
        check_window(
            "downscaleStabilizationSeconds",
            self.downscale_stabilization_seconds,
        )?;
        if let Some(b) = &self.behavior {
            for (dir, r) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
                let Some(r) = r else { continue };
                if let Some(w) = r.stabilization_window_seconds {
                    check_window(&format!("behavior.{dir}.stabilizationWindowSeconds"), w)?;
                }
                if let Some(t) = r.tolerance {
                    check_tolerance(&format!("behavior.{dir}.tolerance"), t)?;
                }
                if let Some(ps) = &r.policies {
                    if ps.is_empty() {
                        return Err(Error::param(format!(
                            "behavior.{dir}.policies must hold at least one policy when given"
                        )));
                    }
                    for (i, p) in ps.iter().enumerate() {
                        if !(1..=1800).contains(&p.period_seconds) {
                            return Err(Error::param(format!(
                                "behavior.{dir}.policies[{i}].periodSeconds must be in 1..=1800, got {}",
                                p.period_seconds
                            )));
                        }
                        if p.value == 0 {
                            return Err(Error::param(format!(
                                "behavior.{dir}.policies[{i}].value must be > 0, got 0"
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_window(name: &str, w: u32) -> Result<()> {
    if w > 3600 {
        return Err(Error::param(format!(
            "{name} must be in 0..=3600 seconds, got {w}"
        )));
    }
    Ok(())
}

fn check_tolerance(name: &str, t: f64) -> Result<()> {
    check::unit_right_open(name, t).map(|_| ())
}

/// Scaling rules with Kubernetes' defaults filled in.
#[derive(Debug, Clone, PartialEq)]
struct Rules {
    window: f64,
    select: SelectPolicy,
    policies: Vec<HpaScalingPolicy>,
    tolerance: f64,
}

impl Rules {
    fn up(r: Option<&HpaScalingRules>, tolerance: f64) -> Rules {
        Rules {
            window: r.and_then(|r| r.stabilization_window_seconds).unwrap_or(0) as f64,
            select: r.and_then(|r| r.select_policy).unwrap_or_default(),
            policies: r.and_then(|r| r.policies.clone()).unwrap_or_else(|| {
                vec![
                    HpaScalingPolicy {
                        policy_type: ScalingPolicyType::Pods,
                        value: 4,
                        period_seconds: 15,
                    },
                    HpaScalingPolicy {
                        policy_type: ScalingPolicyType::Percent,
                        value: 100,
                        period_seconds: 15,
                    },
                ]
            }),
            tolerance: r.and_then(|r| r.tolerance).unwrap_or(tolerance),
        }
    }
    fn down(r: Option<&HpaScalingRules>, tolerance: f64, window: u32) -> Rules {
        Rules {
            window: r
                .and_then(|r| r.stabilization_window_seconds)
                .unwrap_or(window) as f64,
            select: r.and_then(|r| r.select_policy).unwrap_or_default(),
            policies: r.and_then(|r| r.policies.clone()).unwrap_or_else(|| {
                vec![HpaScalingPolicy {
                    policy_type: ScalingPolicyType::Percent,
                    value: 100,
                    period_seconds: 15,
                }]
            }),
            tolerance: r.and_then(|r| r.tolerance).unwrap_or(tolerance),
        }
    }
    fn longest_period(&self) -> f64 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0) as f64
    }
}

/// What an [`HpaPolicy`] remembers between calls: recommendations (for the stabilization
/// windows) and scale events (for the rate policies), with their times.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HpaState {
    /// `(time, recommended replicas)` within the longest window.
    pub recommendations: Vec<(f64, u32)>,
    /// `(time, replicas added)` within the longest scale-up period.
    pub scale_up_events: Vec<(f64, u32)>,
    /// `(time, replicas removed)` within the longest scale-down period.
    pub scale_down_events: Vec<(f64, u32)>,
    /// Time of the last call, to refuse time going backwards.
    pub last_time: Option<f64>,
}

/// The HPA: settings plus the state its windows and rate policies need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaPolicy {
    config: HpaConfig,
    state: HpaState,
}

/// Most recommendations an [`HpaPolicy`] keeps for its stabilization windows.
pub const MAX_RECORDS: usize = 4096;

/// The steps of one normalization, for the explanation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalized {
    pub replicas: u32,
    pub reason: Reason,
    pub after_stabilization: u32,
    pub after_rate_limit: u32,
}

impl HpaPolicy {
    /// A policy with validated settings and an empty history.
    ///
    /// # Errors
    /// As [`HpaConfig::validate`].
    pub fn new(config: HpaConfig) -> Result<Self> {
        config.validate()?;
        Ok(HpaPolicy {
            config,
            state: HpaState::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &HpaConfig {
        &self.config
    }

    /// The remembered recommendations and scale events.
    pub fn state(&self) -> &HpaState {
        &self.state
    }

    fn up_rules(&self) -> Rules {
        Rules::up(
            self.config
                .behavior
                .as_ref()
                .and_then(|b| b.scale_up.as_ref()),
            self.config.tolerance,
        )
    }

    fn down_rules(&self) -> Rules {
        Rules::down(
            self.config
                .behavior
                .as_ref()
                .and_then(|b| b.scale_down.as_ref()),
            self.config.tolerance,
            self.config.downscale_stabilization_seconds,
        )
    }

    /// The metric part alone: `(desired, usage_ratio, within_tolerance)` for a load (the
    /// metric's total) at `current` replicas (> 0).
    pub fn reactive(&self, current: u32, load: f64) -> (u32, f64, bool) {
        let (ratio, desired_f) = match self.config.target {
            MetricTarget::AverageValue { average_value } => (
                load / (average_value * current as f64),
                load / average_value,
            ),
            MetricTarget::Value { value } => {
                let r = load / value;
                (r, r * current as f64)
            }
        };
        let (up, down) = match &self.config.behavior {
            Some(_) => (self.up_rules().tolerance, self.down_rules().tolerance),
            None => (self.config.tolerance, self.config.tolerance),
        };
        if ratio >= 1.0 - down && ratio <= 1.0 + up {
            return (current, ratio, true);
        }
        (to_replicas(desired_f.ceil()), ratio, false)
    }

    /// One HPA decision at time `now` (seconds), with `current` replicas and the metric's
    /// `load` (its total, e.g. requests/s; `NaN` = missing). The decision is assumed applied.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a non-finite `now`, time going backwards, or a negative or
    /// infinite load. The state is unchanged on error.
    ///
    /// ```
    /// use flaskscale_core::policy::{HpaConfig, HpaPolicy};
    /// let mut hpa = HpaPolicy::new(HpaConfig::new(50.0, 1, 100)).unwrap();
    /// // 4 replicas at 400 req/s with a target of 50 per replica: ratio 2 → 8 replicas
    /// let d = hpa.recommend(0.0, 4, 400.0).unwrap();
    /// assert_eq!(d.replicas, 8);
    /// ```
    pub fn recommend(&mut self, now: f64, current: u32, load: f64) -> Result<Decision> {
        self.check_time(now)?;
        check::observation("load", load)?;
        let mut explain = Explain {
            load,
            current_replicas: current,
            usage_ratio: f64::NAN,
            ..Explain::default()
        };
        self.state.last_time = Some(now);
        if let Some((replicas, reason)) = self.bounds_first(current) {
            explain.raw_target = replicas;
            explain.after_stabilization = replicas;
            explain.after_rate_limit = replicas;
            return Ok(self.finish(now, current, replicas, reason, "hpa", explain));
        }
        if load.is_nan() {
            explain.raw_target = current;
            explain.after_stabilization = current;
            explain.after_rate_limit = current;
            explain.after_clamp = current;
            return Ok(Decision {
                replicas: current,
                mode: "hpa".into(),
                reason: Reason::MissingMetric,
                explain,
            });
        }
        let (desired, ratio, within) = self.reactive(current, load);
        explain.usage_ratio = ratio;
        explain.reactive = Some(desired);
        explain.raw_target = desired;
        let n = self.normalize(now, current, desired);
        explain.after_stabilization = n.after_stabilization;
        explain.after_rate_limit = n.after_rate_limit;
        let reason = if within && n.replicas == current && n.reason == Reason::DesiredWithinRange {
            Reason::WithinTolerance
        } else {
            n.reason
        };
        Ok(self.finish(now, current, n.replicas, reason, "hpa", explain))
    }

    pub(crate) fn check_time(&self, now: f64) -> Result<()> {
        if !now.is_finite() {
            return Err(Error::data(format!("time must be finite, got {now}")));
        }
        if let Some(last) = self.state.last_time {
            if now < last {
                return Err(Error::data(format!(
                    "time went backwards: {now} after {last}"
                )));
            }
        }
        Ok(())
    }

    /// The controller's checks before any metric: scaling disabled at 0 replicas, and a
    /// current count outside the bounds goes straight to the bound.
    pub(crate) fn bounds_first(&self, current: u32) -> Option<(u32, Reason)> {
        if current == 0 {
            Some((0, Reason::ScalingDisabled))
        } else if current > self.config.max_replicas {
            Some((self.config.max_replicas, Reason::TooManyReplicas))
        } else if current < self.config.min_replicas {
            Some((self.config.min_replicas, Reason::TooFewReplicas))
        } else {
            None
        }
    }

    /// Records the outcome (scale events) and builds the decision.
    pub(crate) fn finish(
        &mut self,
        now: f64,
        current: u32,
        replicas: u32,
        reason: Reason,
        mode: &str,
        mut explain: Explain,
    ) -> Decision {
        self.state.last_time = Some(now);
        if self.config.behavior.is_some() && replicas != current && current > 0 {
            if replicas > current {
                self.state.scale_up_events.push((now, replicas - current));
            } else {
                self.state.scale_down_events.push((now, current - replicas));
            }
        }
        self.prune(now);
        explain.after_clamp = replicas;
        Decision {
            replicas,
            mode: mode.into(),
            reason,
            explain,
        }
    }

    fn prune(&mut self, now: f64) {
        let (up, down) = (self.up_rules(), self.down_rules());
        let keep_recs = match self.config.behavior {
            Some(_) => up.window.max(down.window),
            None => self.config.downscale_stabilization_seconds as f64,
        };
        self.state
            .recommendations
            .retain(|&(t, _)| t > now - keep_recs);
        // bounded memory for callers that decide far more often than every sync period: the
        // oldest recommendations go first (at the HPA's 15 s period a 300 s window holds 20)
        let excess = self.state.recommendations.len().saturating_sub(MAX_RECORDS);
        self.state.recommendations.drain(..excess);
        // both lists serve both directions' periods
        let keep = up.longest_period().max(down.longest_period());
        self.state.scale_up_events.retain(|&(t, _)| t > now - keep);
        self.state
            .scale_down_events
            .retain(|&(t, _)| t > now - keep);
    }

    /// Stabilization, rate limits and bounds for a `desired` count (the part of the HPA that a
    /// predictive target passes through too). Records the recommendation.
    pub(crate) fn normalize(&mut self, now: f64, current: u32, desired: u32) -> Normalized {
        let (cfg_min, cfg_max) = (self.config.min_replicas, self.config.max_replicas);
        if self.config.behavior.is_none() {
            // legacy: the largest recommendation of the downscale window, then the limits
            let cutoff = now - self.config.downscale_stabilization_seconds as f64;
            let stabilized = self
                .state
                .recommendations
                .iter()
                // this path keeps a sample exactly at the cutoff (only older ones are dropped)
                .filter(|&&(t, _)| t >= cutoff)
                .map(|&(_, r)| r)
                .fold(desired, u32::max);
            self.state.recommendations.push((now, desired));
            let scale_up_limit = (2u64 * current as u64).max(4).min(u32::MAX as u64) as u32;
            let (max_allowed, max_reason) = if cfg_max > scale_up_limit {
                (scale_up_limit, Reason::ScaleUpLimit)
            } else {
                (cfg_max, Reason::TooManyReplicas)
            };
            let (replicas, reason) = if stabilized < cfg_min {
                (cfg_min, Reason::TooFewReplicas)
            } else if stabilized > max_allowed {
                (max_allowed, max_reason)
            } else if stabilized != desired {
                (stabilized, Reason::ScaleDownStabilized)
            } else {
                (stabilized, Reason::DesiredWithinRange)
            };
            return Normalized {
                replicas,
                reason,
                after_stabilization: stabilized,
                after_rate_limit: replicas,
            };
        }
        let (up, down) = (self.up_rules(), self.down_rules());
        // stabilization between the scale-up window's minimum and the scale-down window's maximum
        let (up_cut, down_cut) = (now - up.window, now - down.window);
        let (mut up_rec, mut down_rec) = (desired, desired);
        for &(t, r) in &self.state.recommendations {
            if t > up_cut {
                up_rec = up_rec.min(r);
            }
            if t > down_cut {
                down_rec = down_rec.max(r);
            }
        }
        let stabilized = current.max(up_rec).min(down_rec);
        self.state.recommendations.push((now, desired));
        let stab_reason = if stabilized == desired {
            None
        } else if desired > current {
            Some(Reason::ScaleUpStabilized)
        } else {
            Some(Reason::ScaleDownStabilized)
        };
        // rate policies, then bounds
        let (replicas, limit_reason) = if stabilized > current {
            let limit = scale_up_limit(current, &self.state, &up, now).max(current);
            let (max_allowed, r) = if cfg_max > limit {
                (limit, Reason::ScaleUpLimit)
            } else {
                (cfg_max, Reason::TooManyReplicas)
            };
            if stabilized > max_allowed {
                (max_allowed, Some(r))
            } else {
                (stabilized, None)
            }
        } else if stabilized < current {
            let limit = scale_down_limit(current, &self.state, &down, now).min(current);
            let (min_allowed, r) = if cfg_min < limit {
                (limit, Reason::ScaleDownLimit)
            } else {
                (cfg_min, Reason::TooFewReplicas)
            };
            if stabilized < min_allowed {
                (min_allowed, Some(r))
            } else {
                (stabilized, None)
            }
        } else {
            (stabilized, None)
        };
        Normalized {
            replicas,
            reason: limit_reason
                .or(stab_reason)
                .unwrap_or(Reason::DesiredWithinRange),
            after_stabilization: stabilized,
            after_rate_limit: replicas,
        }
    }
}

/// A non-negative real count as replicas, saturating at `u32::MAX`.
pub(crate) fn to_replicas(x: f64) -> u32 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u32::MAX as f64 {
        u32::MAX
    } else {
        x as u32
    }
}

/// Replicas changed by the events within `period` seconds before `now`.
fn change_in_period(events: &[(f64, u32)], period: f64, now: f64) -> u64 {
    events
        .iter()
        .filter(|&&(t, _)| t > now - period)
        .map(|&(_, c)| c as u64)
        .sum()
}

/// The replicas at the start of a policy's period: the current count less what was added and
/// plus what was removed within it (both directions count, as in current Kubernetes).
fn period_start(current: u32, state: &HpaState, period: f64, now: f64) -> i64 {
    current as i64 - change_in_period(&state.scale_up_events, period, now) as i64
        + change_in_period(&state.scale_down_events, period, now) as i64
}

fn scale_up_limit(current: u32, state: &HpaState, rules: &Rules, now: f64) -> u32 {
    if rules.select == SelectPolicy::Disabled {
        return current;
    }
    let mut result: Option<i64> = None;
    for p in &rules.policies {
        let start = period_start(current, state, p.period_seconds as f64, now);
        let proposed = match p.policy_type {
            ScalingPolicyType::Pods => start + p.value as i64,
            ScalingPolicyType::Percent => {
                (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64
            }
        };
        result = Some(match (result, rules.select) {
            (None, _) => proposed,
            (Some(r), SelectPolicy::Min) => r.min(proposed),
            (Some(r), _) => r.max(proposed),
        });
    }
    result.unwrap_or(current as i64).clamp(0, u32::MAX as i64) as u32
}

fn scale_down_limit(current: u32, state: &HpaState, rules: &Rules, now: f64) -> u32 {
    if rules.select == SelectPolicy::Disabled {
        return current;
    }
    let mut result: Option<i64> = None;
    for p in &rules.policies {
        let start = period_start(current, state, p.period_seconds as f64, now);
        let proposed = match p.policy_type {
            ScalingPolicyType::Pods => start - p.value as i64,
            // truncation, as Kubernetes' int32 conversion
            ScalingPolicyType::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64,
        };
        // Max allows the largest change: the lowest count; Min the smallest: the highest
        result = Some(match (result, rules.select) {
            (None, _) => proposed,
            (Some(r), SelectPolicy::Min) => r.max(proposed),
            (Some(r), _) => r.min(proposed),
        });
    }
    result.unwrap_or(current as i64).clamp(0, u32::MAX as i64) as u32
}

//! Kubernetes manifests in and out: an `autoscaling/v2` `HorizontalPodAutoscaler` or a KEDA
//! `ScaledObject` read into an [`HpaConfig`] ([`hpa_from_manifest`]), and the manifest of a
//! config written back ([`manifest_of`]), so that reading it again gives the same config.
//!
//! The manifest arrives as JSON: one document, a list of documents (a YAML stream), or a
//! `kind: List` with `items`. Among them exactly one HPA or ScaledObject is used (by `name`
//! when there are several); other kinds (a Deployment, a Service) are passed over.
//!
//! How the metric becomes requests per second per replica (the load flaskscale simulates):
//! - `Pods`, `Object` and `External` metrics with an `AverageValue` target: the average value
//!   *is* the requests/s one replica should serve (the metric is taken to be the request rate);
//!   `Object`/`External` with a `Value` target keep it as a value target;
//! - `Resource` (and `ContainerResource`) with a `Utilization` target of U %: a replica is taken
//!   to use its whole resource request at `capacity_per_replica` requests/s, so the target is
//!   U/100 × that capacity, which the caller must give; a `Resource` `AverageValue` (CPU cores,
//!   bytes) has no such rule and is refused;
//! - a KEDA trigger: `metrics-api` (`targetValue`), `prometheus` (`threshold`) with
//!   `metricType` `AverageValue` (KEDA's default) or `Value`, and `cpu`/`memory` (`value`,
//!   metricType `Utilization`) as `Resource` above.
//!
//! Defaults are Kubernetes' and KEDA's: an HPA needs `maxReplicas` and has `minReplicas` 1; a
//! ScaledObject has `minReplicaCount` 0 and `maxReplicaCount` 100, and the HPA KEDA creates has
//! at least 1 replica (KEDA itself scales between 0 and 1, which is not modelled: 0 reads as 1).
//! Fields with no effect on the replica count (metadata, the scale target, metric names and
//! selectors, KEDA's polling, cooldown and fallback) are passed over; fields that change it
//! but are not modelled (a second metric, `idleReplicaCount`, `scalingModifiers`, ...) and
//! names that are not in the API at all are refused together in one [`Error::Parse`] listing
//! each with its line.

use super::hpa::{HpaBehavior, HpaConfig, MetricTarget};
use super::predictive::PredictiveConfig;
use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Where each field of the manifest sits in the user's file, for errors: the field's path
/// (`spec.metrics[0].pods.target`, with `[i]` first for the i-th document of a stream) →
/// its 1-based line. Paths not in the map take their nearest listed parent's line.
pub type Lines = HashMap<String, usize>;

/// What [`hpa_from_manifest`] needs beyond the manifest.
#[derive(Debug, Clone, Default)]
pub struct ManifestOptions {
    /// Requests/s one replica serves at 100% of its resource request: needed for a `Resource`
    /// `Utilization` target (and a KEDA `cpu`/`memory` trigger), unused otherwise.
    pub capacity_per_replica: Option<f64>,
    /// Which HPA or ScaledObject (`metadata.name`) when the manifest holds several.
    pub name: Option<String>,
    /// The file name errors start with.
    pub source: Option<String>,
}

/// The kind of manifest [`manifest_of`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An `autoscaling/v2` HPA on the pods' `flaskscale_forecast_requests_per_second` gauge
    /// (served to the HPA by prometheus-adapter).
    Hpa,
    /// A KEDA `ScaledObject` with a `metrics-api` trigger on the pods' `/flaskscale/recommendation`.
    Keda,
}

impl std::str::FromStr for ManifestKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hpa" => Ok(ManifestKind::Hpa),
            "keda" => Ok(ManifestKind::Keda),
            _ => Err(Error::param(format!(
                "manifest kind must be \"hpa\" or \"keda\", got {s:?}"
            ))),
        }
    }
}

/// The gauge the written HPA scales on (`flaskscale.flask` exports it per pod).
pub const FORECAST_METRIC: &str = "flaskscale_forecast_requests_per_second";

struct Reader<'a> {
    lines: &'a Lines,
    opts: &'a ManifestOptions,
    /// `(path, why)` of every field refused, reported together.
    refused: Vec<(String, String)>,
}

impl Reader<'_> {
    fn line(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            if let Some(&l) = self.lines.get(p) {
                return l;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return self.lines.get("").copied().unwrap_or(0),
            }
        }
    }

    /// `file, path` (the line travels in the error's `line`).
    fn at(&self, path: &str) -> String {
        match &self.opts.source {
            Some(s) => format!("{s}, {path}"),
            None => path.to_string(),
        }
    }

    fn fail(&self, path: &str, why: impl std::fmt::Display) -> Error {
        Error::Parse {
            line: self.line(path),
            message: format!("{}: {why}", self.at(path)),
        }
    }

    fn refuse(&mut self, path: String, why: impl Into<String>) {
        self.refused.push((path, why.into()));
    }

    /// Checks the keys of `obj`: `used` and `ignored` are known, others refused.
    fn keys(&mut self, obj: &Map<String, Value>, path: &str, used: &[&str], ignored: &[&str]) {
        for k in obj.keys() {
            if !used.contains(&k.as_str()) && !ignored.contains(&k.as_str()) {
                let why = if used.is_empty() && ignored.is_empty() {
                    "not modelled".to_string()
                } else {
                    format!(
                        "not a field here (known: {})",
                        used.iter()
                            .chain(ignored)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.refuse(join(path, k), why);
            }
        }
    }

    fn object<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| self.fail(path, format!("expected a mapping, got {}", kind_of(v))))
    }

    fn count(&self, v: &Value, path: &str) -> Result<u32> {
        match v.as_u64() {
            Some(n) if n <= u64::from(u32::MAX) => Ok(n as u32),
            _ => Err(self.fail(
                path,
                format!("expected a whole number from 0 to {}, got {v}", u32::MAX),
            )),
        }
    }

    fn quantity(&self, v: &Value, path: &str) -> Result<f64> {
        let q = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => parse_quantity(s),
            _ => None,
        };
        match q {
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err(self.fail(
                path,
                format!(
                    "expected a quantity > 0 (like 50, \"12.5\", \"1500m\" or \"2k\"), got {v}"
                ),
            )),
        }
    }

    fn finish(&mut self) -> Result<()> {
        if self.refused.is_empty() {
            return Ok(());
        }
        let line = self.line(&self.refused[0].0);
        let list: Vec<String> = self
            .refused
            .iter()
            .map(|(p, why)| {
                let l = self.line(p);
                if l > 0 {
                    format!("line {l}: {p} ({why})")
                } else {
                    format!("{p} ({why})")
                }
            })
            .collect();
        let head = self.opts.source.as_deref().unwrap_or("manifest");
        Err(Error::Parse {
            line,
            message: format!(
                "{head}: {} unsupported field{}: {}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join("; ")
            ),
        })
    }

    fn behavior(&mut self, v: &Value, path: &str) -> Result<HpaBehavior> {
        let b = self.object(v, path)?;
        self.keys(b, path, &["scaleUp", "scaleDown"], &[]);
        for dir in ["scaleUp", "scaleDown"] {
            let Some(r) = b.get(dir) else { continue };
            let rp = join(path, dir);
            let r = self.object(r, &rp)?;
            self.keys(
                r,
                &rp,
                &[
                    "stabilizationWindowSeconds",
                    "selectPolicy",
                    "policies",
                    "tolerance",
                ],
                &[],
            );
            if let Some(Value::Array(ps)) = r.get("policies") {
                for (i, p) in ps.iter().enumerate() {
                    let pp = format!("{}[{i}]", join(&rp, "policies"));
                    let p = self.object(p, &pp)?;
                    self.keys(p, &pp, &["type", "value", "periodSeconds"], &[]);
                }
            }
        }
        self.finish()?;
        // the tolerance is a quantity in the API ("0.05"); the core's type holds a number
        let mut b = v.clone();
        for dir in ["scaleUp", "scaleDown"] {
            if let Some(t) = b.get_mut(dir).and_then(|r| r.get_mut("tolerance")) {
                let tp = join(&join(path, dir), "tolerance");
                let x = match &*t {
                    Value::String(s) => parse_quantity(s),
                    other => other.as_f64(),
                }
                .ok_or_else(|| self.fail(&tp, format!("expected a number, got {t}")))?;
                *t = json!(x);
            }
        }
        serde_json::from_value(b).map_err(|e| self.fail(path, e))
    }

    /// The target of an HPA metric (`metrics[i].<source>.target`).
    fn target(&mut self, v: &Value, path: &str, source: &str) -> Result<Option<MetricTarget>> {
        let t = self.object(v, path)?;
        self.keys(
            t,
            path,
            &["type", "averageValue", "averageUtilization", "value"],
            &[],
        );
        let ty = t.get("type").and_then(Value::as_str).unwrap_or("");
        let tp = join(path, "type");
        let resource = matches!(source, "resource" | "containerResource");
        match (ty, resource) {
            ("AverageValue", false) => {
                let p = join(path, "averageValue");
                let v = t
                    .get("averageValue")
                    .ok_or_else(|| self.fail(&p, "missing"))?;
                Ok(Some(MetricTarget::AverageValue {
                    average_value: self.quantity(v, &p)?,
                }))
            }
            ("Value", false) if source != "pods" => {
                let p = join(path, "value");
                let v = t.get("value").ok_or_else(|| self.fail(&p, "missing"))?;
                Ok(Some(MetricTarget::Value {
                    value: self.quantity(v, &p)?,
                }))
            }
            ("Utilization", true) => {
                let p = join(path, "averageUtilization");
                let u = t
                    .get("averageUtilization")
                    .ok_or_else(|| self.fail(&p, "missing"))?;
                let u = self.count(u, &p)?;
                Ok(Some(self.utilization(f64::from(u), &p)?))
            }
            ("AverageValue", true) => {
                self.refuse(
                    tp,
                    "a resource's average value (cores, bytes) has no rule to requests/s: \
                     use a Utilization target with a capacity, or a Pods metric"
                        .to_string(),
                );
                Ok(None)
            }
            (other, _) => {
                let allowed = match source {
                    "pods" => "AverageValue",
                    "resource" | "containerResource" => "Utilization",
                    _ => "AverageValue or Value",
                };
                Err(self.fail(
                    &tp,
                    format!("target type {other:?} is not one of {allowed} for a {source} metric"),
                ))
            }
        }
    }

    fn utilization(&self, percent: f64, path: &str) -> Result<MetricTarget> {
        let Some(c) = self.opts.capacity_per_replica else {
            return Err(self.fail(
                path,
                "a Utilization target needs the requests/s one replica serves at 100% of its \
                 resource request (the capacity per replica): give it",
            ));
        };
        if !(c.is_finite() && c > 0.0) {
            return Err(Error::param(format!(
                "capacity per replica must be finite and > 0, got {c}"
            )));
        }
        if percent <= 0.0 {
            return Err(self.fail(path, format!("utilization must be > 0 %, got {percent}")));
        }
        Ok(MetricTarget::AverageValue {
            average_value: percent / 100.0 * c,
        })
    }

    fn hpa(&mut self, doc: &Map<String, Value>, path: &str) -> Result<HpaConfig> {
        self.keys(
            doc,
            path,
            &["spec"],
            &["apiVersion", "kind", "metadata", "status"],
        );
        let sp = join(path, "spec");
        let spec = self.object(doc.get("spec").unwrap_or(&Value::Null), &sp)?;
        self.keys(
            spec,
            &sp,
            &["minReplicas", "maxReplicas", "metrics", "behavior"],
            &["scaleTargetRef"],
        );
        let min = match spec.get("minReplicas") {
            Some(v) => self.count(v, &join(&sp, "minReplicas"))?,
            None => 1,
        };
        let maxp = join(&sp, "maxReplicas");
        let max = match spec.get("maxReplicas") {
            Some(v) => self.count(v, &maxp)?,
            None => return Err(self.fail(&maxp, "required (as in Kubernetes)")),
        };
        let mp = join(&sp, "metrics");
        let metrics = match spec.get("metrics") {
            Some(Value::Array(m)) => m.as_slice(),
            Some(other) => {
                return Err(self.fail(&mp, format!("expected a list, got {}", kind_of(other))))
            }
            None => &[],
        };
        if metrics.is_empty() {
            // Kubernetes' default: 80% average CPU utilisation
            return Err(self.fail(
                &mp,
                "no metrics: Kubernetes would scale on 80% CPU utilisation; write that metric \
                 out (type Resource, target Utilization 80) to use it with a capacity",
            ));
        }
        let mut target = None;
        for (i, m) in metrics.iter().enumerate() {
            let ip = format!("{mp}[{i}]");
            if i > 0 {
                self.refuse(ip, "only one metric is modelled".to_string());
                continue;
            }
            let m = self.object(m, &ip)?;
            let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
            let source = match ty {
                "Pods" => "pods",
                "Object" => "object",
                "External" => "external",
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                other => {
                    return Err(self.fail(
                        &join(&ip, "type"),
                        format!(
                            "metric type {other:?} is not one of Pods, Object, External, \
                             Resource, ContainerResource"
                        ),
                    ))
                }
            };
            self.keys(m, &ip, &["type", source], &[]);
            let srcp = join(&ip, source);
            let src = self.object(m.get(source).unwrap_or(&Value::Null), &srcp)?;
            let ignored: &[&str] = match source {
                "pods" | "external" => &["metric"],
                "object" => &["metric", "describedObject"],
                "resource" => &["name"],
                _ => &["name", "container"],
            };
            self.keys(src, &srcp, &["target"], ignored);
            let tp = join(&srcp, "target");
            let t = src.get("target").ok_or_else(|| self.fail(&tp, "missing"))?;
            target = self.target(t, &tp, source)?;
        }
        let behavior = match spec.get("behavior") {
            Some(b) => Some(self.behavior(b, &join(&sp, "behavior"))?),
            None => None,
        };
        self.finish()?;
        let target = target.ok_or_else(|| self.fail(&mp, "no usable metric"))?;
        self.config(min, max, target, behavior, path)
    }

    fn keda(&mut self, doc: &Map<String, Value>, path: &str) -> Result<HpaConfig> {
        self.keys(
            doc,
            path,
            &["spec"],
            &["apiVersion", "kind", "metadata", "status"],
        );
        let sp = join(path, "spec");
        let spec = self.object(doc.get("spec").unwrap_or(&Value::Null), &sp)?;
        self.keys(
            spec,
            &sp,
            &["minReplicaCount", "maxReplicaCount", "triggers", "advanced"],
            &[
                "scaleTargetRef",
                "pollingInterval",
                "cooldownPeriod",
                "initialCooldownPeriod",
                "fallback",
            ],
        );
        if spec.contains_key("idleReplicaCount") {
            self.refused
                .retain(|(p, _)| !p.ends_with(".idleReplicaCount"));
            self.refuse(
                join(&sp, "idleReplicaCount"),
                "scale to zero is not modelled".to_string(),
            );
        }
        // KEDA's defaults; the HPA it creates has at least one replica
        let min = match spec.get("minReplicaCount") {
            Some(v) => self.count(v, &join(&sp, "minReplicaCount"))?.max(1),
            None => 1,
        };
        let max = match spec.get("maxReplicaCount") {
            Some(v) => self.count(v, &join(&sp, "maxReplicaCount"))?,
            None => 100,
        };
        let mut behavior = None;
        if let Some(a) = spec.get("advanced") {
            let ap = join(&sp, "advanced");
            let a = self.object(a, &ap)?;
            self.keys(
                a,
                &ap,
                &["horizontalPodAutoscalerConfig"],
                &["restoreToOriginalReplicaCount"],
            );
            if let Some(h) = a.get("horizontalPodAutoscalerConfig") {
                let hp = join(&ap, "horizontalPodAutoscalerConfig");
                let h = self.object(h, &hp)?;
                self.keys(h, &hp, &["behavior"], &["name"]);
                if let Some(b) = h.get("behavior") {
                    behavior = Some(self.behavior(b, &join(&hp, "behavior"))?);
                }
            }
        }
        let tp = join(&sp, "triggers");
        let triggers = match spec.get("triggers") {
            Some(Value::Array(t)) if !t.is_empty() => t.as_slice(),
            _ => return Err(self.fail(&tp, "required: a list of one trigger")),
        };
        let mut target = None;
        for (i, t) in triggers.iter().enumerate() {
            let ip = format!("{tp}[{i}]");
            if i > 0 {
                self.refuse(ip, "only one trigger is modelled".to_string());
                continue;
            }
            let t = self.object(t, &ip)?;
            self.keys(
                t,
                &ip,
                &["type", "metadata", "metricType"],
                &["name", "authenticationRef", "useCachedMetrics"],
            );
            let ty = t.get("type").and_then(Value::as_str).unwrap_or("");
            let metric_type = t.get("metricType").and_then(Value::as_str);
            let mp = join(&ip, "metadata");
            let meta = self.object(t.get("metadata").unwrap_or(&Value::Null), &mp)?;
            let key = match ty {
                "metrics-api" => "targetValue",
                "prometheus" => "threshold",
                "cpu" | "memory" => "value",
                other => {
                    return Err(self.fail(
                        &join(&ip, "type"),
                        format!(
                            "trigger type {other:?} has no rule to requests/s: use metrics-api, \
                             prometheus, cpu or memory"
                        ),
                    ))
                }
            };
            let vp = join(&mp, key);
            let v = meta.get(key).ok_or_else(|| self.fail(&vp, "missing"))?;
            let x = self.quantity(v, &vp)?;
            let mtp = join(&ip, "metricType");
            target = Some(match (ty, metric_type) {
                ("cpu" | "memory", Some("Utilization") | None) => self.utilization(x, &vp)?,
                ("cpu" | "memory", Some(other)) => {
                    return Err(self.fail(
                        &mtp,
                        format!("metricType {other:?}: only Utilization has a rule to requests/s"),
                    ))
                }
                (_, Some("AverageValue") | None) => MetricTarget::AverageValue { average_value: x },
                (_, Some("Value")) => MetricTarget::Value { value: x },
                (_, Some(other)) => {
                    return Err(self.fail(
                        &mtp,
                        format!("metricType {other:?} is not AverageValue or Value"),
                    ))
                }
            });
        }
        self.finish()?;
        let target = target.ok_or_else(|| self.fail(&tp, "no usable trigger"))?;
        self.config(min, max, target, behavior, path)
    }

    fn config(
        &self,
        min: u32,
        max: u32,
        target: MetricTarget,
        behavior: Option<HpaBehavior>,
        path: &str,
    ) -> Result<HpaConfig> {
        let c = HpaConfig {
            target,
            behavior,
            ..HpaConfig::new(1.0, min, max)
        };
        c.validate().map_err(|e| match e {
            Error::InvalidParameter(m) => self.fail(path, m),
            other => other,
        })?;
        Ok(c)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A Kubernetes quantity (`"50"`, `"12.5"`, `"1500m"`, `"2k"`, `"1Mi"`, `"1e3"`) as a number;
/// None when it is not one.
///
/// ```
/// use flaskscale_core::policy::parse_quantity;
/// assert_eq!(parse_quantity("1500m"), Some(1.5));
/// assert_eq!(parse_quantity("2Ki"), Some(2048.0));
/// assert_eq!(parse_quantity("50"), Some(50.0));
/// assert_eq!(parse_quantity("fifty"), None);
/// ```
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() {
        return None;
    }
    let x: f64 = num.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(x * scale)
}

/// Reads the HPA or ScaledObject of `manifest` (see the module docs for the rules).
///
/// # Errors
/// [`Error::Parse`] naming the file, line and field: no HPA or ScaledObject in it, several
/// without `name` choosing one, a missing `maxReplicas`, a value of the wrong kind, or the
/// unsupported fields (all of them in one error); [`Error::InvalidParameter`] as
/// [`HpaConfig::validate`].
pub fn hpa_from_manifest(
    manifest: &Value,
    lines: &Lines,
    opts: &ManifestOptions,
) -> Result<HpaConfig> {
    let mut r = Reader {
        lines,
        opts,
        refused: Vec::new(),
    };
    // the documents, with their paths
    let mut docs: Vec<(String, &Value)> = Vec::new();
    match manifest {
        Value::Array(items) => {
            for (i, d) in items.iter().enumerate() {
                docs.push((format!("[{i}]"), d));
            }
        }
        Value::Object(o) if o.get("kind").and_then(Value::as_str) == Some("List") => {
            if let Some(Value::Array(items)) = o.get("items") {
                for (i, d) in items.iter().enumerate() {
                    docs.push((format!("items[{i}]"), d));
                }
            }
        }
        other => docs.push((String::new(), other)),
    }
    let mut found: Vec<(String, &Map<String, Value>, bool)> = Vec::new();
    for (p, d) in &docs {
        let Some(o) = d.as_object() else { continue };
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let keda = match (kind, api) {
            ("HorizontalPodAutoscaler", "autoscaling/v2") => false,
            ("HorizontalPodAutoscaler", other) => {
                return Err(r.fail(
                    &join(p, "apiVersion"),
                    format!("apiVersion {other:?}: only autoscaling/v2 is read"),
                ))
            }
            ("ScaledObject", a) if a.starts_with("keda.sh/") => true,
            _ => continue,
        };
        let name = o
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str);
        if opts.name.is_none() || opts.name.as_deref() == name {
            found.push((p.clone(), o, keda));
        }
    }
    let head = opts.source.as_deref().unwrap_or("manifest");
    match found.len() {
        0 => Err(Error::parse(
            0,
            match &opts.name {
                Some(n) => {
                    format!("{head}: no HorizontalPodAutoscaler or ScaledObject named {n:?}")
                }
                None => format!(
                    "{head}: no HorizontalPodAutoscaler (autoscaling/v2) or KEDA ScaledObject in it"
                ),
            },
        )),
        1 => {
            let (p, o, keda) = &found[0];
            if *keda {
                r.keda(o, p)
            } else {
                r.hpa(o, p)
            }
        }
        _ => {
            let names: Vec<String> = found
                .iter()
                .map(|(_, o, _)| {
                    o.get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("(no name)")
                        .to_string()
                })
                .collect();
            Err(r.fail(
                &found[1].0,
                format!(
                    "{} autoscalers in the file ({}): choose one by name",
                    found.len(),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// The HPA that does with the pods' published forecast what `policy` does with its own: an
/// `AverageValue` target of the capacity per replica (divided by 1 + headroom), the policy's
/// replica bounds, tolerance, legacy window and `behavior` (its reactive HPA's). This is what
/// [`manifest_of`] writes for the predictive setup.
pub fn forecast_hpa(policy: &PredictiveConfig) -> HpaConfig {
    HpaConfig {
        target: MetricTarget::AverageValue {
            average_value: policy.capacity_per_replica / (1.0 + policy.headroom),
        },
        ..policy.hpa.clone()
    }
}

/// A quantity string for a target: the shortest decimal that reads back as the same number.
fn quantity_text(x: f64) -> String {
    format!("{x}")
}

/// The manifest (a JSON document) that scales the Deployment `name` with `config`: its min/max,
/// `behavior` and target, the target applied to the pods' forecast (the gauge
/// [`FORECAST_METRIC`] for an HPA, `/flaskscale/recommendation`'s `forecast_rps.quantile`
/// for KEDA, at `url`; by default `http://NAME:8000/flaskscale/recommendation`, the Service
/// `name` on the pods' port 8000). Reading it with [`hpa_from_manifest`] gives `config` back.
///
/// # Errors
/// [`Error::InvalidParameter`] for a config a manifest cannot state: a tolerance other than
/// Kubernetes' 0.1 or a legacy downscale window other than 300 s (controller flags, not fields
/// of the object), or a `Value` target; or as [`HpaConfig::validate`].
pub fn manifest_of(
    config: &HpaConfig,
    kind: ManifestKind,
    name: &str,
    url: Option<&str>,
) -> Result<Value> {
    let url = match url {
        Some(u) => u.to_string(),
        None => format!("http://{name}:8000/flaskscale/recommendation"),
    };
    config.validate()?;
    let default = HpaConfig::new(1.0, 1, 1);
    if config.tolerance != default.tolerance
        || config.downscale_stabilization_seconds != default.downscale_stabilization_seconds
    {
        return Err(Error::param(format!(
            "a manifest cannot state the controller's tolerance ({}) or legacy downscale window \
             ({} s): they are flags of kube-controller-manager; use behavior instead",
            config.tolerance, config.downscale_stabilization_seconds
        )));
    }
    let MetricTarget::AverageValue { average_value } = config.target else {
        return Err(Error::param(
            "a manifest of the forecast needs an AverageValue target (requests/s per replica)",
        ));
    };
    let behavior = config
        .behavior
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::data(format!("cannot write the behavior: {e}")))?;
    let target = quantity_text(average_value);
    let meta = json!({"name": name});
    let scale_ref = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": name});
    let mut doc = match kind {
        ManifestKind::Hpa => json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": scale_ref,
                "minReplicas": config.min_replicas,
                "maxReplicas": config.max_replicas,
                "metrics": [{
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": FORECAST_METRIC},
                        "target": {"type": "AverageValue", "averageValue": target},
                    },
                }],
            },
        }),
        ManifestKind::Keda => json!({
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": scale_ref,
                "minReplicaCount": config.min_replicas,
                "maxReplicaCount": config.max_replicas,
                "triggers": [{
                    "type": "metrics-api",
                    "metricType": "AverageValue",
                    "metadata": {
                        "url": url.as_str(),
                        "format": "json",
                        "valueLocation": "forecast_rps.quantile",
                        "aggregateFromKubeServiceEndpoints": "true",
                        "aggregationType": "sum",
                        "targetValue": target,
                    },
                }],
            },
        }),
    };
    if let Some(b) = behavior {
        let spec = doc["spec"].as_object_mut().expect("spec is an object");
        match kind {
            ManifestKind::Hpa => {
                spec.insert("behavior".into(), b);
            }
            ManifestKind::Keda => {
                spec.insert(
                    "advanced".into(),
                    json!({"horizontalPodAutoscalerConfig": {"behavior": b}}),
                );
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{HpaScalingPolicy, HpaScalingRules, ScalingPolicyType};

    fn read(v: Value) -> Result<HpaConfig> {
        hpa_from_manifest(&v, &Lines::new(), &ManifestOptions::default())
    }

    #[test]
    fn quantities_follow_kubernetes_suffixes() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("1k"), Some(1000.0));
        assert_eq!(parse_quantity("1.5M"), Some(1.5e6));
        assert_eq!(parse_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(parse_quantity("2e3"), Some(2000.0));
        assert_eq!(parse_quantity("12.5"), Some(12.5));
        assert_eq!(parse_quantity(""), None);
        assert_eq!(parse_quantity("5 apples"), None);
        assert_eq!(parse_quantity("1x"), None);
    }

    #[test]
    fn hpa_with_defaults_and_a_pods_metric() {
        let c = read(json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "shop"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "shop"}, "maxReplicas": 20,
                     "metrics": [{"type": "Pods", "pods": {"metric": {"name": "rps"},
                                  "target": {"type": "AverageValue", "averageValue": "35"}}}]}
        }))
        .unwrap();
        assert_eq!((c.min_replicas, c.max_replicas), (1, 20));
        assert_eq!(
            c.target,
            MetricTarget::AverageValue {
                average_value: 35.0
            }
        );
        assert!(c.behavior.is_none());
    }

    #[test]
    fn max_replicas_is_required_and_unsupported_fields_are_listed_together() {
        let e = read(
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"metrics": []}}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("spec.maxReplicas: required"), "{e}");
        let e = read(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 5, "maxReplica": 3, "metrics": [
                {"type": "Pods", "pods": {"target": {"type": "AverageValue", "averageValue": 1}}},
                {"type": "Pods", "pods": {"target": {"type": "AverageValue", "averageValue": 2}}}]}}))
        .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("2 unsupported fields"), "{m}");
        assert!(
            m.contains("spec.maxReplica (not a field here") && m.contains("spec.metrics[1]"),
            "{m}"
        );
    }

    #[test]
    fn utilization_goes_through_the_capacity() {
        let doc = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 10, "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                     "target": {"type": "Utilization", "averageUtilization": 70}}}]}});
        assert!(read(doc.clone())
            .unwrap_err()
            .to_string()
            .contains("capacity per replica"));
        let opts = ManifestOptions {
            capacity_per_replica: Some(50.0),
            ..Default::default()
        };
        let c = hpa_from_manifest(&doc, &Lines::new(), &opts).unwrap();
        assert_eq!(
            c.target,
            MetricTarget::AverageValue {
                average_value: 35.0
            }
        );
    }

    #[test]
    fn keda_defaults_and_behavior() {
        let c = read(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "spec": {"scaleTargetRef": {"name": "shop"}, "pollingInterval": 15,
              "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": {
                  "stabilizationWindowSeconds": 120,
                  "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}}}},
              "triggers": [{"type": "prometheus", "metadata": {"query": "x", "threshold": "40"}}]}}))
        .unwrap();
        assert_eq!((c.min_replicas, c.max_replicas), (1, 100));
        assert_eq!(
            c.target,
            MetricTarget::AverageValue {
                average_value: 40.0
            }
        );
        let down = c.behavior.unwrap().scale_down.unwrap();
        assert_eq!(down.stabilization_window_seconds, Some(120));
        assert_eq!(
            down.policies.unwrap(),
            vec![HpaScalingPolicy {
                policy_type: ScalingPolicyType::Pods,
                value: 2,
                period_seconds: 60
            }]
        );
    }

    #[test]
    fn written_manifests_read_back_to_the_same_config() {
        let mut c = HpaConfig::new(42.5, 2, 30);
        c.behavior = Some(HpaBehavior {
            scale_up: Some(HpaScalingRules {
                stabilization_window_seconds: Some(0),
                ..Default::default()
            }),
            scale_down: None,
        });
        for kind in [ManifestKind::Hpa, ManifestKind::Keda] {
            let m = manifest_of(&c, kind, "shop", None).unwrap();
            assert_eq!(read(m).unwrap(), c);
        }
        let mut t = c.clone();
        t.tolerance = 0.2;
        assert!(manifest_of(&t, ManifestKind::Hpa, "x", None).is_err());
    }

    #[test]
    fn lines_point_at_the_users_file() {
        let doc = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 5, "metrics": [{"type": "Pods", "pods": {"target":
                {"type": "Utilization", "averageUtilization": 50}}}]}});
        let lines: Lines = [
            ("spec".to_string(), 3),
            ("spec.metrics[0].pods.target".to_string(), 9),
            ("spec.metrics[0].pods.target.type".to_string(), 10),
        ]
        .into_iter()
        .collect();
        let opts = ManifestOptions {
            source: Some("my-hpa.yaml".into()),
            ..Default::default()
        };
        match hpa_from_manifest(&doc, &lines, &opts).unwrap_err() {
            Error::Parse { line, message } => {
                assert_eq!(line, 10);
                assert!(
                    message.starts_with("my-hpa.yaml, spec.metrics[0].pods.target.type"),
                    "{message}"
                );
            }
            e => panic!("{e}"),
        }
    }
}

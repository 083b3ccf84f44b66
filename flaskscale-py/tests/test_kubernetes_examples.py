"""The Kubernetes examples: the manifests use the field names and values KEDA and
autoscaling/v2 define, agree with the README's numbers, and the orchestration loop emits valid
scale patches, only on change, against a replayed trace and a fake Prometheus and API server
on loopback."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlsplit

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "examples" / "kubernetes"
ORCHESTRATE = REPO / "examples" / "orchestrate.py"
SHOP = REPO / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"

METRIC = "flaskscale_forecast_requests_per_second"
# KEDA's metrics-api trigger metadata, as its documentation lists them
METRICS_API_KEYS = {
    "url", "format", "valueLocation", "targetValue", "activationTargetValue", "unsafeSsl",
    "aggregateFromKubeServiceEndpoints", "aggregationType", "authMode", "method",
    "keyParamName", "timeout",
}
HPA_SPEC_KEYS = {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"}
SCALED_OBJECT_SPEC_KEYS = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
    "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
}


def docs(name: str) -> List[Dict[str, Any]]:
    with open(K8S / name, encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def by_kind(documents: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    kinds = [d["kind"] for d in documents]
    assert len(kinds) == len(set(kinds)), f"a kind appears twice: {kinds}"
    return {d["kind"]: d for d in documents}


def readme_setting(key: str) -> str:
    text = (K8S / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^{key}=(\S+)", text, re.MULTILINE)
    assert m, f"README.md does not set {key}"
    return m.group(1)


def quantity(text: Any) -> float:
    """A Kubernetes quantity with the suffixes a requests/s target can use."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(m|k)?", str(text))
    assert m, f"not a quantity: {text!r}"
    return float(m.group(1)) * {None: 1.0, "m": 1e-3, "k": 1e3}[m.group(2)]


def check_behavior(behavior: Dict[str, Any]) -> None:
    """autoscaling/v2 HPAScalingRules: names and the API server's validation limits."""
    assert set(behavior) <= {"scaleUp", "scaleDown"}
    assert "stabilizationWindowSeconds" in behavior["scaleDown"]
    for direction, rules in behavior.items():
        assert set(rules) <= {"stabilizationWindowSeconds", "selectPolicy", "policies",
                              "tolerance"}, direction
        window = rules.get("stabilizationWindowSeconds", 0)
        assert isinstance(window, int) and 0 <= window <= 3600, (direction, window)
        assert rules.get("selectPolicy", "Max") in {"Max", "Min", "Disabled"}
        for p in rules.get("policies", []):
            assert set(p) == {"type", "value", "periodSeconds"}, p
            assert p["type"] in {"Pods", "Percent"}, p
            assert isinstance(p["value"], int) and p["value"] > 0, p
            assert isinstance(p["periodSeconds"], int) and 0 < p["periodSeconds"] <= 1800, p


def check_target_ref(ref: Dict[str, Any]) -> None:
    assert ref == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"}


# --- manifests ---


def test_keda_scaled_object_and_trigger_authentication() -> None:
    kinds = by_kind(docs("keda-scaledobject.yaml"))
    assert set(kinds) == {"ScaledObject", "TriggerAuthentication"}
    so, auth = kinds["ScaledObject"], kinds["TriggerAuthentication"]
    assert so["apiVersion"] == auth["apiVersion"] == "keda.sh/v1alpha1"
    assert so["metadata"]["namespace"] == auth["metadata"]["namespace"]
    spec = so["spec"]
    assert set(spec) <= SCALED_OBJECT_SPEC_KEYS, set(spec) - SCALED_OBJECT_SPEC_KEYS
    check_target_ref(spec["scaleTargetRef"])
    assert isinstance(spec["pollingInterval"], int) and spec["pollingInterval"] > 0
    lo, hi = spec["minReplicaCount"], spec["maxReplicaCount"]
    assert isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi
    check_behavior(spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"])

    (trigger,) = spec["triggers"]
    assert trigger["type"] == "metrics-api"
    assert trigger["metricType"] == "AverageValue"
    meta = trigger["metadata"]
    assert set(meta) <= METRICS_API_KEYS, set(meta) - METRICS_API_KEYS
    # trigger metadata is a map of strings: a YAML boolean or number would be rejected
    assert all(isinstance(v, str) for v in meta.values()), meta
    url = urlsplit(meta["url"])
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "http", "shop.default.svc.cluster.local", 8000, "/flaskscale/recommendation"
    )
    assert meta["valueLocation"] == "forecast_rps.quantile"
    assert meta["aggregateFromKubeServiceEndpoints"] == "true"
    assert meta["aggregationType"] == "sum"
    assert meta.get("format", "json") == "json"
    assert float(meta["targetValue"]) == float(readme_setting("FLASKSCALE_CAPACITY")) == 50.0

    assert meta["authMode"] == "bearer"
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "token"
    assert ref["name"] and ref["key"]


def test_hpa_with_prometheus_adapter() -> None:
    kinds = by_kind(docs("hpa-prometheus-adapter.yaml"))
    assert set(kinds) == {"ConfigMap", "HorizontalPodAutoscaler", "ServiceMonitor"}
    hpa = kinds["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert set(spec) <= HPA_SPEC_KEYS, set(spec) - HPA_SPEC_KEYS
    check_target_ref(spec["scaleTargetRef"])
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    (metric,) = spec["metrics"]
    assert metric["type"] == "Pods" and set(metric) == {"type", "pods"}
    assert metric["pods"]["metric"]["name"] == METRIC
    target = metric["pods"]["target"]
    assert set(target) == {"type", "averageValue"}
    assert target["type"] == "AverageValue"
    assert quantity(target["averageValue"]) == float(readme_setting("FLASKSCALE_CAPACITY"))
    check_behavior(spec["behavior"])

    cm = kinds["ConfigMap"]
    assert cm["apiVersion"] == "v1"
    config = yaml.safe_load(cm["data"]["config.yaml"])
    (rule,) = config["rules"]
    assert set(rule) == {"seriesQuery", "resources", "name", "metricsQuery"}
    assert METRIC in rule["seriesQuery"]
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    assert re.fullmatch(rule["name"]["matches"], METRIC)
    assert rule["name"]["as"] == METRIC
    query = rule["metricsQuery"]
    for placeholder in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
        assert placeholder in query
    quantile = float(readme_setting("FLASKSCALE_QUANTILE"))
    assert f'quantile="{quantile}"' in query

    sm = kinds["ServiceMonitor"]
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["path"] == "/flaskscale/metrics" and endpoint["port"]
    assert sm["spec"]["selector"]["matchLabels"]


def test_both_manifests_scale_the_same_way() -> None:
    so = by_kind(docs("keda-scaledobject.yaml"))["ScaledObject"]["spec"]
    hpa = by_kind(docs("hpa-prometheus-adapter.yaml"))["HorizontalPodAutoscaler"]["spec"]
    assert so["minReplicaCount"] == hpa["minReplicas"]
    assert so["maxReplicaCount"] == hpa["maxReplicas"]
    assert so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == hpa["behavior"]


# --- the orchestration loop ---


def orchestrate(*args: str, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, str(ORCHESTRATE), *args],
        capture_output=True, text=True, timeout=timeout, cwd=str(REPO),
    )


def patches(stdout: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_replay_emits_scale_patches_only_on_change() -> None:
    capacity, lo, hi, steps = 2.0, 2, 40, 1440  # the shop's first day: 5 to 13 requests/s
    r = orchestrate("--replay", str(SHOP), "--limit", str(steps), "--capacity", str(capacity),
                    "--min", str(lo), "--max", str(hi), "--initial", "1",
                    "--namespace", "prod", "--deployment", "web")
    assert r.returncode == 0, r.stderr
    lines = patches(r.stdout)
    assert len(lines) > 5
    with open(SHOP, newline="") as fh:
        rows = list(csv.DictReader(fh))[:steps]
    start = 1709510400.0
    previous = 1
    for line in lines:
        assert line["method"] == "PATCH"
        assert line["path"] == "/apis/apps/v1/namespaces/prod/deployments/web/scale"
        assert line["content_type"] == "application/merge-patch+json"
        assert set(line["body"]) == {"spec"} and set(line["body"]["spec"]) == {"replicas"}
        n = line["body"]["spec"]["replicas"]
        assert isinstance(n, int) and lo <= n <= hi
        assert line["from_replicas"] == previous != n  # a line only when the count changes
        assert line["applied"] is False  # dry run
        assert start < line["now"] <= start + steps * 60
        assert line["reason"] and isinstance(line["explain"], dict)
        previous = n
    # the HPA's own rules, by hand: 1 replica is below --min, so 2 first; then 541 requests
    # in the 2nd minute want ceil(9.02 / 2) = 5, capped at max(2 x 2, 4) = 4 (the scale-up
    # limit without `behavior`)
    assert [float(row["value"]) for row in rows[:2]] == [575, 541]
    assert [(line["body"]["spec"]["replicas"], line["reason"]) for line in lines[:2]] == [
        (2, "TooFewReplicas"), (4, "ScaleUpLimit")]
    # the daily peak is served: some target reaches the peak rate / capacity, less the HPA's
    # 10 % tolerance; and the night is not: the count comes back down
    peak = max(float(row["value"]) for row in rows if row["value"]) / 60.0
    counts = [line["body"]["spec"]["replicas"] for line in lines]
    assert max(counts) >= peak / capacity / 1.1, (max(counts), peak)
    assert min(counts[counts.index(max(counts)):]) < max(counts)


def test_missing_trace_is_one_line_and_non_zero() -> None:
    r = orchestrate("--replay", "no-such-trace.csv", "--limit", "3")
    assert r.returncode != 0
    assert r.stdout == ""
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("orchestrate: error:"), r.stderr
    assert "no-such-trace.csv" in err[0]


def test_apply_without_a_token_is_one_line_and_non_zero(tmp_path: Path) -> None:
    missing = tmp_path / "token"
    r = orchestrate("--replay", str(SHOP), "--limit", "3", "--apply", "--token-file", str(missing),
                    "--api-server", "http://127.0.0.1:9")
    assert r.returncode != 0 and r.stdout == ""
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0], r.stderr


class FakeCluster(BaseHTTPRequestHandler):
    """Prometheus' instant query (120 requests/s; the 2nd query fails) and a Deployment's
    scale subresource, recording every request."""

    replicas = 1
    queries = 0
    seen: List[Dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep stderr quiet
        pass

    def reply(self, code: int, body: Dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/api/v1/query":
            cls = type(self)
            cls.queries += 1
            if cls.queries == 2:
                self.reply(500, {"status": "error", "error": "storage unavailable"})
                return
            at = float(parse_qs(url.query)["time"][0])
            self.reply(200, {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {}, "value": [at, "120"]}]}})
        else:
            self.seen.append({"method": "GET", "path": url.path,
                              "auth": self.headers.get("Authorization")})
            self.reply(200, {"kind": "Scale", "spec": {"replicas": type(self).replicas}})

    def do_PATCH(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"method": "PATCH", "path": self.path, "body": body,
                          "auth": self.headers.get("Authorization"),
                          "type": self.headers.get("Content-Type")})
        type(self).replicas = body["spec"]["replicas"]
        self.reply(200, {"kind": "Scale", "spec": body["spec"]})


def test_prometheus_source_and_apply_against_a_fake_cluster(tmp_path: Path) -> None:
    FakeCluster.replicas, FakeCluster.queries, FakeCluster.seen = 1, 0, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        token = tmp_path / "token"
        token.write_text("s3cret\n")
        r = orchestrate("--prometheus", base, "--step", "1", "--limit", "4", "--capacity", "50",
                        "--apply", "--api-server", base, "--token-file", str(token),
                        "--namespace", "default", "--deployment", "shop", timeout=30)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert r.returncode == 0, r.stderr
    assert FakeCluster.queries == 4
    assert "Prometheus read failed" in r.stderr  # the failing 2nd read is logged, not fatal
    path = "/apis/apps/v1/namespaces/default/deployments/shop/scale"
    sent = [s for s in FakeCluster.seen if s["method"] == "PATCH"]
    # 120 requests/s at 50 per replica: at least ceil(2.4) = 3, what the core's Autoscaler
    # with the loop's settings decides for that step; patched once, then left alone
    import flaskscale as fs

    ref = fs.Autoscaler(fs.PredictivePolicy(50.0, startup_seconds=120.0, interval_seconds=1.0,
                                            quantile=0.95, min_replicas=1, max_replicas=100),
                        step_seconds=1.0, refit_every=3600)
    ref.observe(0.0, 120.0)
    n = ref.recommend(1.0, current_replicas=1).replicas
    assert n >= 3
    assert sent == [{"method": "PATCH", "path": path, "body": {"spec": {"replicas": n}},
                     "auth": "Bearer s3cret", "type": "application/merge-patch+json"}]
    assert all(s["path"] == path and s["auth"] == "Bearer s3cret" for s in FakeCluster.seen)
    (line,) = patches(r.stdout)
    assert line["body"] == {"spec": {"replicas": n}} and line["applied"] is True
    assert line["from_replicas"] == 1
    assert math.isclose(line["explain"]["load"], 120.0)

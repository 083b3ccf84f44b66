"""Kubernetes manifests in and out: real autoscaling/v2 HPAs and KEDA ScaledObjects written as
users write them (YAML streams, JSON, kind: List), the repository's own example manifests, the
errors (file, line, every unsupported field at once) and the round trip of the manifest
flaskscale writes for its predictive setup."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import flaskscale as fs
from flaskscale._manifest import dump
from flaskscale.cli import main

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"

HPA_STREAM = """\
# the app, then its autoscaler: a stream as `kubectl get -o yaml` or a chart renders it
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 3
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: shop
  namespace: default
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: shop
  maxReplicas: 30
  metrics:
    - type: Pods
      pods:
        metric:
          name: http_requests_per_second
        target:
          type: AverageValue
          averageValue: "35"
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
        - type: Pods
          value: 4
          periodSeconds: 60
    scaleDown:
      stabilizationWindowSeconds: 600
      selectPolicy: Min
      policies:
        - type: Percent
          value: 10
          periodSeconds: 60
        - type: Pods
          value: 2
          periodSeconds: 60
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_hpa_yaml_stream_with_behavior(tmp_path: Path) -> None:
    p = fs.HpaPolicy.from_manifest(write(tmp_path, "hpa.yaml", HPA_STREAM))
    c = p.config()
    assert (c["minReplicas"], c["maxReplicas"]) == (1, 30)  # minReplicas defaults to 1
    assert c["target"] == {"type": "AverageValue", "averageValue": 35.0}
    down = c["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] == 600 and down["selectPolicy"] == "Min"
    assert down["policies"] == [{"type": "Percent", "value": 10, "periodSeconds": 60},
                                {"type": "Pods", "value": 2, "periodSeconds": 60}]
    # the manifest's rules decide: 400 req/s at 35 per replica -> ceil(11.4) = 12, but scale-up
    # is limited to 4 pods per minute from 4 replicas
    assert p.recommend(now=0.0, current_replicas=4, load=400.0).replicas == 8


def test_json_list_and_kind_list(tmp_path: Path) -> None:
    doc = yaml.safe_load_all(HPA_STREAM)
    docs = list(doc)
    as_list = write(tmp_path, "hpa.json", json.dumps(docs, indent=2))
    kind_list = write(tmp_path, "list.json", json.dumps({"apiVersion": "v1", "kind": "List",
                                                          "items": docs}))
    expected = fs.HpaPolicy.from_manifest(write(tmp_path, "hpa.yaml", HPA_STREAM)).config()
    assert fs.HpaPolicy.from_manifest(as_list).config() == expected
    assert fs.HpaPolicy.from_manifest(kind_list).config() == expected
    assert fs.HpaPolicy.from_manifest(docs).config() == expected  # parsed data too


def test_resource_utilization_goes_through_the_capacity(tmp_path: Path) -> None:
    p = write(tmp_path, "cpu.yaml", """\
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
          minReplicas: 2
          maxReplicas: 10
          metrics:
            - type: Resource
              resource:
                name: cpu
                target:
                  type: Utilization
                  averageUtilization: 70
        """)
    with pytest.raises(fs.ParseError) as e:
        fs.HpaPolicy.from_manifest(p)
    assert "capacity" in str(e.value) and e.value.line == 14 and "cpu.yaml" in str(e.value)
    c = fs.HpaPolicy.from_manifest(p, capacity_per_replica=50.0).config()
    # 70% of a replica that serves 50 req/s at 100% of its CPU request
    assert c["target"] == {"type": "AverageValue", "averageValue": 35.0}
    assert (c["minReplicas"], c["maxReplicas"]) == (2, 10)


def test_keda_scaled_object_with_its_defaults(tmp_path: Path) -> None:
    p = write(tmp_path, "so.yaml", """\
        apiVersion: keda.sh/v1alpha1
        kind: ScaledObject
        metadata:
          name: worker
        spec:
          scaleTargetRef:
            name: worker
          pollingInterval: 30
          cooldownPeriod: 300
          advanced:
            restoreToOriginalReplicaCount: false
            horizontalPodAutoscalerConfig:
              name: keda-hpa-worker
              behavior:
                scaleDown:
                  stabilizationWindowSeconds: 120
                  policies:
                    - type: Pods
                      value: 1
                      periodSeconds: 30
          triggers:
            - type: prometheus
              metadata:
                serverAddress: http://prometheus.monitoring:9090
                query: sum(rate(http_requests_total{app="worker"}[1m]))
                threshold: "25"
        """)
    c = fs.HpaPolicy.from_manifest(p).config()
    # KEDA's defaults: minReplicaCount 0 (its HPA keeps at least 1), maxReplicaCount 100
    assert (c["minReplicas"], c["maxReplicas"]) == (1, 100)
    assert c["target"] == {"type": "AverageValue", "averageValue": 25.0}
    assert c["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 120,
                                           "policies": [{"type": "Pods", "value": 1,
                                                         "periodSeconds": 30}]}}


def test_the_repositorys_example_manifests_read() -> None:
    keda = fs.HpaPolicy.from_manifest(ROOT / "examples" / "kubernetes" / "keda-scaledobject.yaml")
    hpa = fs.HpaPolicy.from_manifest(ROOT / "examples" / "kubernetes" / "hpa-prometheus-adapter.yaml")
    for c in (keda.config(), hpa.config()):
        assert (c["minReplicas"], c["maxReplicas"]) == (2, 40)
        assert c["target"] == {"type": "AverageValue", "averageValue": 50.0}
    assert keda.config()["behavior"] == hpa.config()["behavior"]


def test_unsupported_fields_are_named_together_with_their_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.yaml", """\
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: shop}
        spec:
          scaleTargetRef: {kind: Deployment, name: shop}
          maxReplicas: 10
          maxReplica: 12
          metrics:
            - type: Pods
              pods:
                metric: {name: rps}
                target: {type: AverageValue, averageValue: 30}
            - type: External
              external:
                metric: {name: queue}
                target: {type: Value, value: 100}
          behavior:
            scaleDown:
              stabilisationWindowSeconds: 60
        """)
    with pytest.raises(fs.ParseError) as e:
        fs.HpaPolicy.from_manifest(p)
    msg = str(e.value)
    assert "bad.yaml" in msg and "3 unsupported fields" in msg
    assert "line 7: spec.maxReplica" in msg
    assert "line 13: spec.metrics[1] (only one metric is modelled)" in msg
    assert "line 19: spec.behavior.scaleDown.stabilisationWindowSeconds" in msg
    assert e.value.line == 7


@pytest.mark.parametrize(
    "text, words, line",
    [
        ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  metrics: []\n",
         "spec.maxReplicas: required", 3),
        ("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nspec: {maxReplicas: 3}\n",
         "only autoscaling/v2", 1),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "no HorizontalPodAutoscaler", 0),
        ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 3\n"
         "  metrics:\n  - type: Pods\n    pods:\n      target: {type: AverageValue, averageValue: lots}\n",
         "expected a quantity", 8),
        ("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nspec:\n  idleReplicaCount: 0\n"
         "  triggers:\n  - type: metrics-api\n    metadata: {targetValue: '5'}\n",
         "scale to zero is not modelled", 4),
        ("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nspec:\n"
         "  triggers:\n  - type: kafka\n    metadata: {lagThreshold: '5'}\n",
         "trigger type \"kafka\" has no rule", 5),
        ("spec: [unclosed\n", "not a YAML or JSON manifest", 2),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, words: str, line: int) -> None:
    p = write(tmp_path, "m.yaml", text)
    with pytest.raises(fs.ParseError) as e:
        fs.HpaPolicy.from_manifest(p)
    assert words in str(e.value) and "m.yaml" in str(e.value)
    assert e.value.line == line


def test_several_autoscalers_are_chosen_by_name(tmp_path: Path) -> None:
    two = HPA_STREAM + "---\n" + HPA_STREAM.split("---\n")[1].replace("name: shop\n  namespace",
                                                                        "name: cart\n  namespace")
    p = write(tmp_path, "two.yaml", two)
    with pytest.raises(fs.ParseError, match="2 autoscalers in the file \\(shop, cart\\)"):
        fs.HpaPolicy.from_manifest(p)
    assert fs.HpaPolicy.from_manifest(p, name="cart").config()["maxReplicas"] == 30


@pytest.mark.parametrize("kind", ["keda", "hpa"])
def test_written_manifest_reads_back_to_the_same_policy(tmp_path: Path, kind: str) -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 300,
                              "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}}
    reactive = fs.HpaPolicy(40.0, min_replicas=2, max_replicas=40, behavior=behavior)
    pol = fs.PredictivePolicy(50.0, startup_seconds=120, hpa=reactive)
    path = tmp_path / f"{kind}.yaml"
    dump(pol.manifest(kind, name="shop"), path)
    back = fs.HpaPolicy.from_manifest(path).config()
    # the forecast's HPA: target = the capacity per replica, the policy's bounds and behavior
    want = dict(reactive.config(), target={"type": "AverageValue", "averageValue": 50.0})
    assert back == want
    doc = yaml.safe_load(path.read_text())
    assert doc["kind"] == ("ScaledObject" if kind == "keda" else "HorizontalPodAutoscaler")
    assert fs.HpaPolicy.from_manifest(doc).config() == want
    # an HpaPolicy's own manifest, too
    assert fs.HpaPolicy.from_manifest(reactive.manifest(kind)).config() == reactive.config()


def test_simulate_with_your_own_hpa_and_write_the_manifest(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    hpa = write(tmp_path, "my-hpa.yaml", HPA_STREAM.replace('averageValue: "35"', 'averageValue: "2"'))
    out = tmp_path / "keda.yaml"
    assert main(["simulate", str(SHOP), "--capacity", "2.5", "--hpa", str(hpa),
                 "--write-manifest", str(out), "--manifest-name", "shop"]) == 0
    text = capsys.readouterr().out
    assert "hpa " in text and "predictive " in text and f"written to {out}" in text
    doc = yaml.safe_load(out.read_text())
    assert doc["spec"]["triggers"][0]["metadata"]["targetValue"] == "2.5"
    assert doc["spec"]["maxReplicaCount"] == 30  # the bounds of the HPA it wraps
    back = fs.HpaPolicy.from_manifest(out).config()
    assert back["behavior"] == fs.HpaPolicy.from_manifest(hpa).config()["behavior"]
    # a broken manifest is one line and exit 2
    bad = write(tmp_path, "bad.yaml", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {}\n")
    assert main(["simulate", str(SHOP), "--hpa", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml" in err and "maxReplicas" in err


def test_a_policy_file_compares_manifests(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, "hpa.yaml", HPA_STREAM.replace('averageValue: "35"', 'averageValue: "2"'))
    (tmp_path / "keda.yaml").write_text(
        (ROOT / "examples" / "kubernetes" / "keda-scaledobject.yaml").read_text()
        .replace('targetValue: "50"', 'targetValue: "2"'))
    spec = {"mine": {"manifest": "hpa.yaml"}, "keda": {"manifest": "keda.yaml"}}
    (tmp_path / "p.json").write_text(json.dumps(spec))
    out = tmp_path / "r.json"
    assert main(["simulate", str(SHOP), "--policy", str(tmp_path / "p.json"), "--json", str(out),
                 "--no-progress"]) == 0
    by_name = {p["name"]: p["summary"] for p in json.loads(out.read_text())["policies"]}
    assert list(by_name) == ["mine", "keda", "oracle", "fixed-fleet"]
    # the flash sale needs about 34 replicas of 2 req/s: the manifests' maxReplicas bind
    assert by_name["mine"]["peak_replicas"] == 30 and 30 < by_name["keda"]["peak_replicas"] <= 40
    capsys.readouterr()

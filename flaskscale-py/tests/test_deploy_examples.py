"""The deployment examples the seed project ran on: Docker and Google Cloud. No Docker engine
and no cloud are reachable here, so what can run, runs on loopback:

- the Dockerfile's run stage, outside a container: its ENV and CMD lines started as they are
  (paths and the listening address mapped to a temporary folder and loopback), the packages its
  RUN line installs present, the endpoints answering for all four workers;
- the GKE manifest: field names of the kinds it uses, the ScaledObject read by flaskscale's own
  manifest reader, the environment variables being the extension's settings;
- the managed-instance-group loop of ``examples/orchestrate.py`` against a fake Compute Engine
  API: the resize calls it sends are the ones it prints, only on change, with the token.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest

import flaskscale as fs
from flaskscale.flask import Settings

yaml = pytest.importorskip("yaml")
pytest.importorskip("flask")

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "examples" / "docker" / "Dockerfile"
GKE = REPO / "examples" / "gcp" / "gke-shop.yaml"
ORCHESTRATE = REPO / "examples" / "orchestrate.py"
SHOP = REPO / "datasets" / "shop-2w" / "shop_2w_per_minute.csv"
REQUIRED = os.environ.get("REQUIRE_LOAD_TOOLS") == "1"


def run_stage(text: str) -> List[Tuple[str, str]]:
    """The instructions of the Dockerfile's last stage (after its last FROM), comments and
    blank lines left out, as (INSTRUCTION, argument)."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    last = max(i for i, ln in enumerate(lines) if ln.startswith("FROM "))
    out = []
    for ln in lines[last + 1 :]:
        op, _, arg = ln.partition(" ")
        out.append((op, arg))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def test_dockerfile_run_stage_outside_a_container(tmp_path: Path) -> None:
    if importlib.util.find_spec("gunicorn") is None:
        if REQUIRED:
            pytest.fail("gunicorn is required (REQUIRE_LOAD_TOOLS=1) but missing")
        pytest.skip("gunicorn not installed")
    stage = run_stage(DOCKERFILE.read_text())
    ops = [op for op, _ in stage]
    assert ops[0] == "COPY" and "CMD" in ops and "EXPOSE" in ops
    # RUN: the packages it installs are the ones present here (CI installs the same)
    (run,) = [arg for op, arg in stage if op == "RUN"]
    words = shlex.split(run)
    assert words[:3] == ["pip", "install", "--no-cache-dir"]
    for spec in words[3:]:
        name = re.split(r"[<>=]", spec)[0]
        name = "flaskscale" if name.startswith("/wheels/flaskscale") else name
        assert importlib.util.find_spec(name) is not None, f"{name} is not installed"
    # COPY of the app into the work directory
    workdir = next(arg for op, arg in stage if op == "WORKDIR")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for op, arg in stage:
        if op == "COPY" and not arg.startswith("--from"):
            src, dst = arg.split()
            assert dst.startswith(workdir + "/")
            shutil.copy(REPO / src, app_dir / Path(dst).name)
    # ENV, with the container's paths moved under tmp_path
    shm = tmp_path / "shm"
    env = {}
    for op, arg in stage:
        if op == "ENV":
            k, v = arg.split("=", 1)
            assert k in Settings.names(), f"{k} is not a flaskscale setting"
            env[k] = v.replace("/dev/shm", str(shm))
    assert "FLASKSCALE_SHARED_DIR" in env  # the workers count together
    # the one change: 1-second steps, so that a leader is elected and decides within the test
    env["FLASKSCALE_STEP_SECONDS"] = "1"
    # CMD, exec form, on loopback
    cmd = json.loads(next(arg for op, arg in stage if op == "CMD"))
    port = free_port()
    expose = next(arg for op, arg in stage if op == "EXPOSE")
    assert f"0.0.0.0:{expose}" in cmd
    cmd = [c.replace(f"0.0.0.0:{expose}", f"127.0.0.1:{port}").replace(workdir, str(app_dir))
           for c in cmd]
    assert cmd[0] == "gunicorn" and cmd[cmd.index("-w") + 1] == "4"
    proc = subprocess.Popen([sys.executable, "-m"] + cmd, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                get(base + "/healthz")
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        for _ in range(40):
            assert json.loads(get(base + "/")) == {"items": ["tea", "cups"]}
        # every worker answers for the pod: all four count into the shared directory
        deadline = time.time() + 20
        while True:
            rec = json.loads(get(base + "/flaskscale/recommendation"))
            if rec["workers"] == 4 or time.time() > deadline:
                break
            get(base + "/")
            time.sleep(0.1)
        assert rec["workers"] == 4 and rec["requests_total"] >= 40
        deadline = time.time() + 20
        while rec.get("steps", 0) < 2 and time.time() < deadline:  # a leader decided
            time.sleep(0.2)
            rec = json.loads(get(base + "/flaskscale/recommendation"))
        assert rec.get("steps", 0) >= 2, rec
        assert rec["capacity_per_replica"] == 50.0 and rec["lead_seconds"] >= 120
        metrics = get(base + "/flaskscale/metrics")
        assert re.search(r"^flaskscale_requests_total \d+$", metrics, re.M)
        assert (shm / "flaskscale" / "requests.counter").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, out
    # gunicorn's graceful stop let the leading worker save the state
    fs.Autoscaler.load(str(shm / "flaskscale-state.json"))


# Field names of the kinds the GKE manifest uses (apps/v1, core/v1), as the API defines them.
DEPLOYMENT_SPEC = {"replicas", "selector", "template", "strategy", "minReadySeconds",
                   "revisionHistoryLimit", "progressDeadlineSeconds", "paused"}
POD_SPEC = {"containers", "volumes", "terminationGracePeriodSeconds", "serviceAccountName",
            "nodeSelector", "affinity", "tolerations", "initContainers", "securityContext"}
CONTAINER = {"name", "image", "ports", "env", "envFrom", "resources", "readinessProbe",
             "livenessProbe", "startupProbe", "volumeMounts", "command", "args",
             "imagePullPolicy", "securityContext", "lifecycle"}
SERVICE_SPEC = {"selector", "ports", "type", "clusterIP", "sessionAffinity"}


def test_gke_manifest_fields_and_its_scaled_object() -> None:
    from test_kubernetes_examples import (  # the KEDA/HPA field lists of those tests
        METRICS_API_KEYS,
        SCALED_OBJECT_SPEC_KEYS,
        check_behavior,
    )

    docs = [d for d in yaml.safe_load_all(GKE.read_text()) if d]
    kinds = {d["kind"]: d for d in docs}
    assert list(kinds) == ["Deployment", "Service", "ScaledObject", "TriggerAuthentication"]
    dep = kinds["Deployment"]
    assert dep["apiVersion"] == "apps/v1" and set(dep["spec"]) <= DEPLOYMENT_SPEC
    pod = dep["spec"]["template"]["spec"]
    assert set(pod) <= POD_SPEC
    (c,) = pod["containers"]
    assert set(c) <= CONTAINER
    assert re.fullmatch(r"[a-z0-9-]+-docker\.pkg\.dev/[^/]+/[^/]+/[^/:]+:\S+", c["image"])
    env = {e["name"]: e for e in c["env"]}
    assert set(env) <= set(Settings.names())
    # the shared directory is a memory emptyDir mounted where FLASKSCALE_SHARED_DIR points
    mount = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vol = {v["name"]: v for v in pod["volumes"]}
    assert env["FLASKSCALE_SHARED_DIR"]["value"] == mount["flaskscale"]
    assert vol["flaskscale"]["emptyDir"]["medium"] == "Memory"
    assert env["FLASKSCALE_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "shop-flaskscale"
    svc = kinds["Service"]
    assert set(svc["spec"]) <= SERVICE_SPEC
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    so = kinds["ScaledObject"]
    assert set(so["spec"]) <= SCALED_OBJECT_SPEC_KEYS
    (trigger,) = so["spec"]["triggers"]
    assert set(trigger["metadata"]) <= METRICS_API_KEYS
    port = c["ports"][0]["containerPort"]
    assert trigger["metadata"]["url"] == (
        f"http://shop.default.svc.cluster.local:{port}/flaskscale/recommendation")
    check_behavior(so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"])
    assert trigger["authenticationRef"]["name"] == kinds["TriggerAuthentication"]["metadata"]["name"]
    # flaskscale reads it: the policy it runs is the one the pods' settings describe
    cfg = fs.HpaPolicy.from_manifest(GKE).config()
    assert cfg["target"]["averageValue"] == float(env["FLASKSCALE_CAPACITY"]["value"])
    assert (cfg["minReplicas"], cfg["maxReplicas"]) == (2, 40)


class FakeCompute(BaseHTTPRequestHandler):
    """instanceGroupManagers.get and .resize of one zonal group, recording every call."""

    size = 1
    seen: List[Dict[str, Any]] = []
    prefix = "/compute/v1/projects/my-project/zones/europe-west1-b/instanceGroupManagers/shop-mig"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, code: int, body: Dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        cls = type(self)
        cls.seen.append({"method": "GET", "path": self.path,
                         "auth": self.headers.get("Authorization")})
        if self.path != cls.prefix:
            self.reply(404, {"error": {"code": 404, "message": "not found"}})
            return
        self.reply(200, {"kind": "compute#instanceGroupManager", "name": "shop-mig",
                         "targetSize": cls.size})

    def do_POST(self) -> None:
        cls = type(self)
        url = urlsplit(self.path)
        cls.seen.append({"method": "POST", "path": url.path, "query": parse_qs(url.query),
                         "auth": self.headers.get("Authorization")})
        if url.path != cls.prefix + "/resize":
            self.reply(404, {"error": {"code": 404, "message": "not found"}})
            return
        cls.size = int(parse_qs(url.query)["size"][0])
        self.reply(200, {"kind": "compute#operation", "operationType": "compute.instanceGroupManagers.resize",
                         "status": "DONE"})


def test_managed_instance_group_loop_against_a_fake_compute_api(tmp_path: Path) -> None:
    FakeCompute.size, FakeCompute.seen = 2, []  # the group runs --min, where the dry run starts
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCompute)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = tmp_path / "token"
    token.write_text("ya29.test\n")
    common = ["--replay", str(SHOP), "--limit", "600", "--capacity", "2", "--min", "2",
              "--max", "40", "--mig", "shop-mig", "--project", "my-project",
              "--zone", "europe-west1-b"]
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/compute/v1"
        dry = subprocess.run([sys.executable, str(ORCHESTRATE)] + common, capture_output=True,
                             text=True, timeout=120, cwd=REPO)
        assert dry.returncode == 0, dry.stderr
        assert FakeCompute.seen == []  # the dry run calls nothing
        r = subprocess.run([sys.executable, str(ORCHESTRATE)] + common +
                           ["--apply", "--compute-api", base, "--token-file", str(token)],
                           capture_output=True, text=True, timeout=120, cwd=REPO)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert r.returncode == 0, r.stderr
    printed = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert printed == [json.loads(ln) | {"applied": True} for ln in dry.stdout.splitlines()]
    assert len(printed) > 3
    resizes = [s for s in FakeCompute.seen if s["method"] == "POST"]
    assert [int(s["query"]["size"][0]) for s in resizes] == [
        int(p["path"].rsplit("=", 1)[1]) for p in printed]
    prev = 2
    for p in printed:
        n = int(p["path"].rsplit("=", 1)[1])
        assert p["method"] == "POST" and p["body"] is None and p["from_replicas"] == prev != n
        assert p["gcloud"] == ("gcloud compute instance-groups managed resize shop-mig "
                               f"--size={n} --zone=europe-west1-b --project=my-project")
        assert 2 <= n <= 40
        prev = n
    assert all(s["auth"] == "Bearer ya29.test" for s in FakeCompute.seen)
    assert FakeCompute.size == prev

"""The Flask extension in a real server under a real load generator, on loopback: gunicorn with
one and with several worker processes, wrk as the client. The count the pod publishes must equal
the requests wrk made, give or take the ones in flight when wrk stopped.

Needs gunicorn and wrk; without them these tests are skipped, unless
REQUIRE_LOAD_TOOLS=1 (as in CI), where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

pytest.importorskip("flask")

REQUIRED = os.environ.get("REQUIRE_LOAD_TOOLS") == "1"


def _need(ok: bool, what: str) -> None:
    if not ok:
        if REQUIRED:
            pytest.fail(f"{what} is required (REQUIRE_LOAD_TOOLS=1) but missing")
        pytest.skip(f"{what} not installed")


def _has_gunicorn() -> bool:
    return subprocess.run([sys.executable, "-c", "import gunicorn"], capture_output=True).returncode == 0


APP = textwrap.dedent(
    """
    import os
    from flask import Flask

    app = Flask("loadapp")

    @app.route("/")
    def index():
        return "ok"

    if os.environ.get("LOADAPP_FLASKSCALE", "1") == "1":
        from flaskscale.flask import FlaskScale
        FlaskScale(app, capacity=100.0)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving the app above on loopback."""

    def __init__(
        self,
        tmp_path,
        workers: int,
        env: dict,
        threads: int = 1,
        ready_path: str = "/flaskscale/metrics",
    ) -> None:
        (tmp_path / "loadapp.py").write_text(APP)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-m", "gunicorn",
            "-w", str(workers),
            "-b", f"127.0.0.1:{self.port}",
            "--chdir", str(tmp_path),
            "--graceful-timeout", "10",
            "--log-level", "warning",
        ]
        if threads > 1:
            cmd += ["-k", "gthread", "--threads", str(threads)]
        cmd.append("loadapp:app")
        full_env = {**os.environ, **env}
        self.log = open(tmp_path / "gunicorn.log", "w+")
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.get(path)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise AssertionError(f"gunicorn did not start:\n{self.log.read()}")

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode()

    def requests_total(self) -> int:
        m = re.search(r"^flaskscale_requests_total (\d+)$", self.get("/flaskscale/metrics"), re.M)
        assert m, "no flaskscale_requests_total in the metrics"
        return int(m.group(1))

    def settled_total(self, quiet: float = 1.0, timeout: float = 15.0) -> int:
        """The pod's count once it has not moved for `quiet` seconds. A request wrk had sent when
        its time ran out may still reach a worker after wrk returns; until it has, two reads can
        rightly differ by it."""
        deadline = time.time() + timeout
        last, since = self.requests_total(), time.time()
        while time.time() - since < quiet:
            assert time.time() < deadline, f"the count kept moving for {timeout} s after the load"
            time.sleep(0.1)
            now = self.requests_total()
            if now != last:
                last, since = now, time.time()
        return last

    def recommendation_when(self, ok, timeout: float = 15.0) -> dict:
        """The first /flaskscale/recommendation that satisfies `ok`, asked every 0.1 s; the last one
        seen if none does within `timeout` (the caller's asserts then say what was wrong)."""
        deadline = time.time() + timeout
        while True:
            rec = json.loads(self.get("/flaskscale/recommendation"))
            if ok(rec) or time.time() > deadline:
                return rec
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wrk(url: str, connections: int, seconds: int) -> int:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", url + "/"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout
    assert "Non-2xx" not in out, out
    assert "Socket errors" not in out, out
    m = re.search(r"(\d+) requests in", out)
    assert m, out
    return int(m.group(1))


@pytest.fixture
def tools():
    _need(shutil.which("wrk") is not None, "wrk")
    _need(_has_gunicorn(), "gunicorn")


@pytest.mark.parametrize("threads", [1, 4])
def test_single_worker_count_equals_the_generators(tools, tmp_path, threads):
    srv = Server(tmp_path, workers=1, threads=threads, env={})
    try:
        before = srv.requests_total()
        made = wrk(srv.url, connections=8, seconds=2)
        after = srv.requests_total()
    finally:
        srv.stop()
    assert made > 500, f"wrk made only {made} requests"
    # wrk counts completed responses; the server counted arrivals, up to one per connection
    # still in flight when wrk stopped
    assert made <= after - before <= made + 8


def test_multi_worker_pod_publishes_the_count_of_all_workers(tools, tmp_path):
    shared = tmp_path / "shared"
    state = tmp_path / "state.json"
    env = {
        "FLASKSCALE_SHARED_DIR": str(shared),
        "FLASKSCALE_STEP_SECONDS": "1",
        "FLASKSCALE_STATE_FILE": str(state),
    }
    srv = Server(tmp_path, workers=4, env=env)
    try:
        before = srv.requests_total()
        made = wrk(srv.url, connections=16, seconds=3)
        settled = srv.settled_total()
        # every worker answers for the whole pod: ask often enough to reach each of them
        totals = {settled} | {srv.requests_total() for _ in range(40)}
        recs = [json.loads(srv.get("/flaskscale/recommendation")) for _ in range(20)]
        # steps close every second: wait for two more than the load saw
        seen = max(r.get("steps", 0) for r in recs)
        later = srv.recommendation_when(lambda r: r.get("steps", 0) >= seen + 2 and not r["stale"])
    finally:
        srv.stop()
    assert made > 500
    assert len(totals) == 1, f"workers disagree on the pod's total: {sorted(totals)}"
    delta = totals.pop() - before
    assert made <= delta <= made + 16
    assert all(r["workers"] == 4 for r in recs)
    # one worker runs the autoscaler; every worker serves its snapshot
    assert later.get("steps", 0) >= seen + 2 and not later["stale"], later
    assert later["desired_replicas"] >= 1
    assert isinstance(later["forecast_rps"]["quantile"], float)
    # the leader saved its state when gunicorn stopped it
    assert state.exists()
    saved = json.loads(state.read_text())
    assert saved["format"] == "flaskscale-autoscaler"


def test_corrupt_state_file_does_not_stop_the_app(tools, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{ this is not a state file")
    srv = Server(tmp_path, workers=1, env={"FLASKSCALE_STATE_FILE": str(state),
                                          "FLASKSCALE_STEP_SECONDS": "0.5"})
    try:
        made = wrk(srv.url, connections=4, seconds=1)
        rec = srv.recommendation_when(lambda r: r.get("steps", 0) >= 1)
    finally:
        srv.stop()
    assert made > 100
    assert rec["restore_error"] is not None and "state.json" in rec["restore_error"]
    assert rec["steps"] >= 1

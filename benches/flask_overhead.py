"""Throughput of one Flask app with and without the flaskscale extension, side by side in one
run, precise enough to tell a 3% loss.

- gunicorn (sync workers) on loopback serves an app whose handler returns a short string, the
  worst case for the extension's share of the work; with several workers the extension runs in
  its multi-worker mode (a shared directory);
- wrk is the client; with ``--pin`` (the default on a machine with two or more cores) the server
  runs on one core and wrk on another (``taskset``), so that they do not take turns on a core;
- many short rounds alternate between the two servers in the order A B B A (or, with
  ``--together``, load both at once), so that a drift of
  the machine's load hits both alike; each pair of rounds gives one ratio with/without, and the
  result is the median ratio with its interquartile range and a bootstrap 95% interval;
- the servers' own CPU time (master and workers, from ``/proc``) per request served, with and
  without: their difference is the extension's CPU per request, whatever the throughput noise;
- in-process, the CPU time (``time.process_time``) of a WSGI call of the bare app and of the
  same call through the extension, with its single-process and its shared (multi-worker)
  counter, alternated in many short blocks: the difference is what the extension adds to a
  request, and 1 - difference / (CPU of a served request) bounds the throughput ratio of a
  CPU-bound server from below.

Run after ``pip install . gunicorn`` with wrk installed (Debian: ``apt-get install wrk``):
``python benches/flask_overhead.py [--workers 1 2 4] [--pairs 20] [--seconds 2]``
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "flaskscale-py" / "tests"))

from test_flask_load import APP  # noqa: E402  (the same app the load tests serve)

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn with ``workers`` sync workers on loopback, optionally pinned to ``cpus``."""

    def __init__(self, folder: Path, workers: int, env: Dict[str, str],
                 cpus: Optional[str]) -> None:
        (folder / "loadapp.py").write_text(APP)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
               f"127.0.0.1:{self.port}", "--chdir", str(folder), "--log-level", "warning",
               "loadapp:app"]
        if cpus is not None:
            cmd = ["taskset", "-c", cpus] + cmd
        self.log = open(folder / "gunicorn.log", "w+")
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as r:
                    r.read()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    self.log.seek(0)
                    raise SystemExit(f"gunicorn did not start:\n{self.log.read()}")
                time.sleep(0.1)

    def pids(self) -> List[int]:
        """The master (``taskset`` execs into it) and its worker processes."""
        out = [self.proc.pid]
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/children") as fh:
                    out += [int(p) for p in fh.read().split()]
        except OSError:
            pass
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU time of the master and its workers so far."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        return total / TICK

    def other_threads_cpu(self) -> float:
        """CPU time of the workers' threads other than the one serving requests (the
        extension's ticker thread, when it runs there)."""
        total = 0
        for pid in self.pids()[1:]:
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    if int(tid) == pid:
                        continue
                    with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / TICK

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _wrk_cmd(url: str, connections: int, seconds: float, cpus: Optional[str]) -> List[str]:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", url + "/"]
    return ["taskset", "-c", cpus] + cmd if cpus is not None else cmd


def wrk(url: str, connections: int, seconds: float, cpus: Optional[str]) -> int:
    out = subprocess.run(_wrk_cmd(url, connections, seconds, cpus), capture_output=True,
                         text=True, timeout=seconds + 60, check=True).stdout
    return _served(out)


def wrk_together(urls: Sequence[str], connections: int, seconds: float,
                 cpus: Optional[str]) -> List[int]:
    """One wrk per URL, all at once: the servers share the same moments of the machine."""
    procs = [subprocess.Popen(_wrk_cmd(u, connections, seconds, cpus), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for u in urls]
    outs = [p.communicate(timeout=seconds + 60)[0] for p in procs]
    for p in procs:
        if p.returncode != 0:
            raise SystemExit(f"wrk failed with {p.returncode}")
    return [_served(o) for o in outs]


def _served(out: str) -> int:
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    m = re.search(r"(\d+) requests in", out)
    if not m:
        raise SystemExit(f"no request count in wrk's output:\n{out}")
    return int(m.group(1))


def quartiles(xs: Sequence[float]) -> tuple:
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def bootstrap_median(xs: Sequence[float], n: int = 4000, seed: int = 7) -> tuple:
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]


def in_process(blocks: int = 40, calls: int = 2000) -> Dict[str, float]:
    """CPU microseconds per WSGI call: the bare app, and with the extension (local and shared
    counter); medians over alternating blocks."""
    import io

    import flask

    from flaskscale.flask import FlaskScale

    def app_with(options: Optional[Dict[str, Any]]) -> Any:
        a = flask.Flask("bench")
        a.route("/")(lambda: "ok")
        if options is not None:
            FlaskScale(a, capacity=100.0, **options)
        return a

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http"}

    def call(a: Any) -> None:
        e = dict(environ)
        e["wsgi.input"] = io.BytesIO()
        body = a.wsgi_app(e, lambda status, headers, exc=None: None)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()

    with tempfile.TemporaryDirectory() as d:
        apps = {"bare": app_with(None), "local": app_with({}),
                "shared": app_with({"shared_dir": os.path.join(d, "shared")})}
        times: Dict[str, List[float]] = {k: [] for k in apps}
        for a in apps.values():
            call(a)  # starts the ticker
        for _ in range(blocks):
            for name, a in apps.items():
                t0 = time.process_time()
                for _ in range(calls):
                    call(a)
                times[name].append(1e6 * (time.process_time() - t0) / calls)
        for a in apps.values():
            if "flaskscale" in a.extensions:
                a.extensions["flaskscale"].stop()
    return {k: statistics.median(v) for k, v in times.items()}


def run(workers: int, pairs: int, seconds: float, connections: int,
        pin: bool, together: bool = False, same: bool = False) -> Dict[str, float]:
    server_cpus, client_cpus = ("0", "1") if pin else (None, None)
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        # same: an A/A run, both servers without the extension, to see the bench's own bias
        env_with = {"LOADAPP_FLASKSCALE": "0" if same else "1"}
        if workers > 1:
            env_with["FLASKSCALE_SHARED_DIR"] = os.path.join(d2, "shared")
        servers = {
            "without": Server(Path(d1), workers, {"LOADAPP_FLASKSCALE": "0"}, server_cpus),
            "with": Server(Path(d2), workers, env_with, server_cpus),
        }
        rate: Dict[str, List[float]] = {k: [] for k in servers}
        cpu: Dict[str, float] = {k: 0.0 for k in servers}
        ticker0 = servers["with"].other_threads_cpu()
        served: Dict[str, int] = {k: 0 for k in servers}
        try:
            for srv in servers.values():  # warm up: imports, first fits, page cache
                wrk(srv.url, connections, 1, client_cpus)
            for i in range(pairs):
                if together:  # both at once, sharing the server core half and half
                    c0 = {k: s.cpu_seconds() for k, s in servers.items()}
                    ns = wrk_together([s.url for s in servers.values()], connections, seconds,
                                      client_cpus)
                    for (name, srv), n in zip(servers.items(), ns):
                        cpu[name] += srv.cpu_seconds() - c0[name]
                        served[name] += n
                        rate[name].append(n / seconds)
                    continue
                order = ["without", "with"] if i % 2 == 0 else ["with", "without"]
                for name in order:
                    srv = servers[name]
                    c0 = srv.cpu_seconds()
                    n = wrk(srv.url, connections, seconds, client_cpus)
                    cpu[name] += srv.cpu_seconds() - c0
                    served[name] += n
                    rate[name].append(n / seconds)
            ticker = servers["with"].other_threads_cpu() - ticker0
        finally:
            for srv in servers.values():
                srv.stop()
    ratios = [w / wo for w, wo in zip(rate["with"], rate["without"])]
    lo, hi = quartiles(ratios)
    blo, bhi = bootstrap_median(ratios)
    us = {k: 1e6 * cpu[k] / served[k] for k in servers}
    return {
        "workers": workers, "median_without": statistics.median(rate["without"]),
        "median_with": statistics.median(rate["with"]), "ratio": statistics.median(ratios),
        "q1": lo, "q3": hi, "ci_lo": blo, "ci_hi": bhi, "cpu_us_without": us["without"],
        "cpu_us_with": us["with"], "cpu_us_extension": us["with"] - us["without"],
        "ticker_us": 1e6 * ticker / served["with"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--pairs", type=int, default=20, help="pairs of rounds (A B, then B A)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--together", action="store_true",
                    help="load both servers at once in each round (both on the server core) "
                         "instead of alternating: the machine's drift then hits both alike")
    ap.add_argument("--aa", action="store_true",
                    help="an A/A run: both servers without the extension, so the ratio shows "
                         "the resolution of the bench itself")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin the server and wrk to separate cores")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    pin = args.pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{'server on core 0, wrk on core 1' if pin else 'not pinned'}; {args.pairs} "
          f"{'rounds with both servers loaded at once' if args.together else 'pairs of rounds'} "
          f"of {args.seconds:g} s per worker count, wrk -c {args.connections}")
    cpu = in_process()
    print(f"in-process CPU per WSGI call: bare app {cpu['bare']:.2f} us; with the extension "
          f"{cpu['local']:.2f} us (+{cpu['local'] - cpu['bare']:.2f}), with its shared counter "
          f"{cpu['shared']:.2f} us (+{cpu['shared'] - cpu['bare']:.2f})")
    print(f"{'workers':>7}{'without req/s':>15}{'with req/s':>12}{'ratio':>8}{'IQR':>16}"
          f"{'95% CI of median':>20}{'CPU us/req w/o':>16}{'with':>8}{'extension':>11}")
    for w in args.workers:
        r = run(w, args.pairs, args.seconds, args.connections, pin, args.together, args.aa)
        iqr = f"{r['q1']:.3f}-{r['q3']:.3f}"
        ci = f"{r['ci_lo']:.3f}-{r['ci_hi']:.3f}"
        bound = 1 - (max(cpu["local"], cpu["shared"]) - cpu["bare"]) / r["cpu_us_without"]
        print(f"{w:>7}{r['median_without']:>15.0f}{r['median_with']:>12.0f}{r['ratio']:>8.3f}"
              f"{iqr:>16}{ci:>20}{r['cpu_us_without']:>16.1f}{r['cpu_us_with']:>8.1f}"
              f"{r['cpu_us_extension']:>11.1f}", flush=True)
        print(f"{'':>7}ratio bound from the in-process CPU cost of a served request: "
              f"{bound:.4f}; the workers' other threads (the ticker): "
              f"{r['ticker_us']:.2f} us per request", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Throughput of one Flask app with and without the flaskscale extension, side by side in one
run: gunicorn on loopback, wrk as the client, rounds alternating between the two servers so that
drift of the machine hits both alike. The app's handler returns a short string, the worst case
for the extension's share of the work. Target: under 3% loss.

Run after ``pip install '.[test]' gunicorn`` with wrk installed (Debian: ``apt-get install wrk``):
``python benches/flask_overhead.py [--rounds 5] [--seconds 5] [--workers 1] [--connections 16]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "flaskscale-py" / "tests"))

from test_flask_load import Server, wrk  # noqa: E402


def per_request_cost() -> None:
    """The middleware's own cost per request, and Flask's cost for the same request, in-process."""
    import time

    import flask

    from flaskscale.flask import FlaskScale

    def best_of(fn, n: int) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, (time.perf_counter() - t0) / n)
        return best

    bare = flask.Flask("bare")
    bare.route("/")(lambda: "ok")
    app = flask.Flask("counted")
    app.route("/")(lambda: "ok")
    ext = FlaskScale(app, capacity=100.0)
    environ = {"PATH_INFO": "/"}
    inner = app.wsgi_app.app  # the Flask app the counting middleware wraps
    noop = lambda e, s: None  # noqa: E731
    app.wsgi_app.app = noop
    counting = best_of(lambda: app.wsgi_app(environ, None), 200_000)
    app.wsgi_app.app = inner
    c_bare, c_app = bare.test_client(), app.test_client()
    t_bare = best_of(lambda: c_bare.get("/"), 3_000)
    t_app = best_of(lambda: c_app.get("/"), 3_000)
    ext.shutdown(app)
    print("in-process, one request:")
    print(f"  counting middleware alone        {counting * 1e9:8.0f} ns")
    print(f"  Flask test client, without       {t_bare * 1e6:8.1f} us")
    print(f"  Flask test client, with          {t_app * 1e6:8.1f} us"
          f"  (counting = {100 * counting / t_bare:.2f}% of a bare request)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    per_request_cost()

    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        shared = os.path.join(d2, "shared")
        env_with = {"LOADAPP_FLASKSCALE": "1"}
        if args.workers > 1:
            env_with["FLASKSCALE_SHARED_DIR"] = shared
        servers = {
            "without": Server(Path(d1), workers=args.workers, env={"LOADAPP_FLASKSCALE": "0"},
                              ready_path="/"),
            "with flaskscale": Server(Path(d2), workers=args.workers, env=env_with),
        }
        rates: dict = {k: [] for k in servers}
        try:
            for name, srv in servers.items():  # warm up
                wrk(srv.url, args.connections, 1)
            for _ in range(args.rounds):
                for name, srv in servers.items():
                    n = wrk(srv.url, args.connections, args.seconds)
                    rates[name].append(n / args.seconds)
            counted = servers["with flaskscale"].requests_total()
        finally:
            for srv in servers.values():
                srv.stop()

    print(f"gunicorn -w {args.workers}, wrk -c {args.connections}, {args.rounds} rounds of "
          f"{args.seconds} s each, alternating")
    for name, r in rates.items():
        print(f"  {name:16s} median {statistics.median(r):9.0f} req/s   "
              f"(rounds: {', '.join(f'{x:.0f}' for x in r)})")
    base = statistics.median(rates["without"])
    ext = statistics.median(rates["with flaskscale"])
    print(f"  throughput ratio with/without: {ext / base:.4f}  (loss {100 * (1 - ext / base):+.2f}%)")
    print(f"  requests counted by the extension: {counted}")


if __name__ == "__main__":
    main()

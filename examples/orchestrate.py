"""Drive a Deployment's replica count from the service's total request rate.

Each step the loop reads how many requests the whole service received in the step that just
ended, feeds it to a :class:`flaskscale.Autoscaler`, asks for a replica count and, when the
count changes, emits the body of the Kubernetes scale-subresource patch

    PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{deployment}/scale
    {"spec": {"replicas": N}}

as one JSON line on stdout, with the decision's explanation. Forecasting the service's total
(rather than each pod its own share, as the KEDA and prometheus-adapter examples in
``examples/kubernetes`` do) keeps the forecast free of the level shifts a pod sees each time
the replica count changes.

Sources: ``--replay TRACE.csv`` replays a ``timestamp,value`` CSV of requests per step as
fast as it computes (a dry run of a past day or fortnight); ``--prometheus URL`` asks a
Prometheus server once per step for the request rate of the service. A failing read is
logged on stderr and the last decision stays in force.

Dry run by default: nothing is sent. With ``--apply`` the loop reads the Deployment's replica
count and sends the patch to the API server with the pod's service account token, which
needs a Role allowing ``get`` and ``patch`` on ``deployments/scale``.

A Google Compute Engine managed instance group instead (``--mig NAME --project P --zone Z``,
or ``--region R`` for a regional group): each change is the Compute Engine API call

    POST /compute/v1/projects/{project}/zones/{zone}/instanceGroupManagers/{mig}/resize?size=N

(``gcloud compute instance-groups managed resize NAME --size=N --zone=Z``), emitted as a JSON
line; with ``--apply`` the loop reads the group's ``targetSize`` and sends the call with an
OAuth access token: the VM's service account token from the metadata server, or
``--token-file`` (e.g. the output of ``gcloud auth print-access-token``). The account needs
``compute.instanceGroupManagers.get`` and ``.update`` (roles/compute.instanceAdmin.v1).

Run from the repository root: ``python examples/orchestrate.py --help``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional, Tuple

import flaskscale as fs
from flaskscale.exceptions import FlaskscaleError

# Where Kubernetes mounts a pod's service account credentials (a documented, fixed path).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_PATH = SERVICE_ACCOUNT_DIR + "/token"
CA_PATH = SERVICE_ACCOUNT_DIR + "/ca.crt"

DEFAULT_QUERY = "sum(rate(flaskscale_requests_total[1m]))"
PATCH_CONTENT_TYPE = "application/merge-patch+json"

EPILOG = """examples:
  # dry run: replay the bundled two weeks of shop traffic, one pod serving 2 requests/s
  python examples/orchestrate.py --replay datasets/shop-2w/shop_2w_per_minute.csv \\
      --capacity 2 --max 40

  # the first day only, pods that take 3 minutes to start, provisioning for the 0.9 quantile
  python examples/orchestrate.py --replay datasets/shop-2w/shop_2w_per_minute.csv \\
      --capacity 2 --startup 180 --quantile 0.9 --limit 1440

  # a Compute Engine managed instance group (dry run: prints the resize calls)
  python examples/orchestrate.py --replay datasets/shop-2w/shop_2w_per_minute.csv \
      --capacity 2 --max 40 --mig shop-mig --project my-project --zone europe-west1-b

  # in the cluster: every minute, ask Prometheus and scale the Deployment default/shop
  python examples/orchestrate.py --prometheus http://prometheus.monitoring.svc:9090 \\
      --query 'sum(rate(flaskscale_requests_total{service="shop"}[1m]))' \\
      --capacity 50 --startup 120 --min 2 --max 40 --state /data/shop.json --apply

output: one JSON line per change of the replica count, e.g.
  {"time": "2024-03-04T18:01:00Z", "body": {"spec": {"replicas": 9}}, "from_replicas": 8, ...}
"""


def log(message: str) -> None:
    print(f"orchestrate: {message}", file=sys.stderr, flush=True)


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def finite_or_none(value: Any) -> Any:
    """The value with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


# --- sources: each yields (step start, requests in the step, why they are None, now) ---

Reading = Tuple[float, Optional[float], Optional[str], float]


def replay(path: str, step: Optional[float], scale: float) -> Tuple[float, Iterator[Reading]]:
    """The trace's step and its steps, as fast as they are consumed."""
    series = fs.Series.from_csv(path)
    if step is not None and step != series.step:
        series = series.resample(step, how="sum")
    timestamps, values = series.timestamps, series.values

    def steps() -> Iterator[Reading]:
        for t, v in zip(timestamps.tolist(), values.tolist()):
            t_end = t + series.step
            if math.isnan(v):
                yield t, None, f"no data in the trace for the step at {iso(t)}", t_end
            else:
                yield t, v * scale, None, t_end

    return series.step, steps()


def query_url(base: str, query: str, at: float) -> str:
    url = base.rstrip("/")
    if not url.endswith("/api/v1/query"):
        url += "/api/v1/query"
    return url + "?" + urllib.parse.urlencode({"query": query, "time": f"{at:.3f}"})


def rate_from_prometheus(body: bytes) -> float:
    """The single number in a Prometheus instant-query answer (requests/s)."""
    answer = json.loads(body)
    if answer.get("status") != "success":
        raise ValueError(f"Prometheus answered {answer.get('status')!r}: {answer.get('error')}")
    data = answer["data"]
    if data["resultType"] == "scalar":
        sample = data["result"]
    elif data["resultType"] == "vector":
        if len(data["result"]) != 1:
            raise ValueError(
                f"the query gave {len(data['result'])} series, expected 1 (wrap it in sum(...))"
            )
        sample = data["result"][0]["value"]
    else:
        raise ValueError(f"the query gave a {data['resultType']}, expected a vector or scalar")
    rate = float(sample[1])
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"the query gave {sample[1]!r} requests/s")
    return rate


def prometheus(base: str, query: str, step: float) -> Iterator[Reading]:
    """Once per step, at the step's end (wall clock), the rate over the step times the step."""
    while True:
        boundary = (math.floor(time.time() / step) + 1) * step
        time.sleep(max(0.0, boundary - time.time()))
        try:
            with urllib.request.urlopen(query_url(base, query, boundary), timeout=10) as resp:
                rate = rate_from_prometheus(resp.read())
        except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
            yield boundary - step, None, f"Prometheus read failed: {e}", boundary
            continue
        yield boundary - step, rate * step, None, boundary


# --- the Kubernetes API (only with --apply) ---


class ScaleClient:
    """GET and PATCH of a Deployment's scale subresource with a bearer token."""

    def __init__(self, server: str, token_file: str, namespace: str, deployment: str) -> None:
        self.url = (
            f"{server.rstrip('/')}/apis/apps/v1/namespaces/{namespace}"
            f"/deployments/{deployment}/scale"
        )
        self.token_file = token_file
        self.token()  # fail at start, not at the first change, if there is no token
        self.context: Optional[ssl.SSLContext] = None
        if server.startswith("https://"):
            self.context = ssl.create_default_context(
                cafile=CA_PATH if os.path.exists(CA_PATH) else None
            )

    def token(self) -> str:
        # read each time: projected service account tokens are rotated on disk
        with open(self.token_file, encoding="utf-8") as fh:
            return fh.read().strip()

    def _call(self, method: str, body: Optional[bytes] = None) -> Dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = PATCH_CONTENT_TYPE
        req = urllib.request.Request(self.url, data=body, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
            answer: Dict[str, Any] = json.loads(resp.read())
            return answer

    def replicas(self) -> int:
        return int(self._call("GET")["spec"]["replicas"])

    def patch(self, body: Dict[str, Any]) -> None:
        self._call("PATCH", json.dumps(body).encode())


# --- the Compute Engine API (a managed instance group; only with --apply) ---

COMPUTE_API = "https://compute.googleapis.com/compute/v1"
# the metadata server every Compute Engine VM (and GKE node) answers on (documented address)
METADATA_TOKEN_URL = (
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
)


def mig_path(project: str, zone: Optional[str], region: Optional[str], mig: str) -> str:
    where = f"zones/{zone}" if zone else f"regions/{region}"
    return f"/projects/{project}/{where}/instanceGroupManagers/{mig}"


class MigClient:
    """GET of a managed instance group's ``targetSize`` and its ``resize`` call."""

    def __init__(self, api: str, path: str, token_file: Optional[str],
                 metadata_url: str = METADATA_TOKEN_URL) -> None:
        self.url = api.rstrip("/") + path
        self.token_file = token_file
        self.metadata_url = metadata_url
        self.token()  # fail at start, not at the first change, if there is no token

    def token(self) -> str:
        if self.token_file:
            with open(self.token_file, encoding="utf-8") as fh:
                return fh.read().strip()
        req = urllib.request.Request(self.metadata_url, headers={"Metadata-Flavor": "Google"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return str(json.loads(resp.read())["access_token"])

    def _call(self, method: str, url: str) -> Dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        data = b"" if method == "POST" else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer: Dict[str, Any] = json.loads(resp.read())
            return answer

    def replicas(self) -> int:
        return int(self._call("GET", self.url)["targetSize"])

    def resize(self, size: int) -> None:
        self._call("POST", f"{self.url}/resize?size={size}")


def default_api_server() -> str:
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        return "https://kubernetes.default.svc"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"


# --- the loop ---


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="orchestrate.py",
        description="Scale a Deployment ahead of its traffic with flaskscale.Autoscaler: read\n"
        "the service's requests per step, forecast, and emit (or, with --apply, send) the\n"
        "scale-subresource patch whenever the replica count changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--replay", metavar="TRACE.csv",
                     help="replay a timestamp,value CSV of requests per step, as fast as possible")
    src.add_argument("--prometheus", metavar="URL",
                     help="Prometheus server (http://host:9090) asked once per step for --query")
    p.add_argument("--query", default=DEFAULT_QUERY,
                   help="PromQL giving the service's requests/s, its rate window matching "
                   f"--step (default: {DEFAULT_QUERY})")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply replayed counts by this, to fit a trace to your capacity "
                   "(default 1)")
    p.add_argument("--capacity", type=float, default=50.0,
                   help="requests/s one replica serves within its SLO (default 50)")
    p.add_argument("--startup", type=float, default=120.0,
                   help="seconds from scale-up to a ready pod: the forecast's lead (default 120)")
    p.add_argument("--step", type=float, default=None,
                   help="seconds per step and between decisions (default: the trace's step; "
                   "60 with --prometheus)")
    p.add_argument("--quantile", type=float, default=0.95,
                   help="provision for this quantile of the forecast (default 0.95)")
    p.add_argument("--min", dest="min_replicas", type=int, default=1,
                   help="fewest replicas (default 1)")
    p.add_argument("--max", dest="max_replicas", type=int, default=100,
                   help="most replicas (default 100)")
    p.add_argument("--initial", type=int, default=None,
                   help="replicas at the start (default: --min); with --apply, read from "
                   "the Deployment instead")
    p.add_argument("--namespace", default="default",
                   help="the Deployment's namespace (default: default)")
    p.add_argument("--deployment", default="shop", help="the Deployment's name (default: shop)")
    p.add_argument("--mig", metavar="NAME",
                   help="scale a Compute Engine managed instance group instead of a Deployment")
    p.add_argument("--project", help="the group's Google Cloud project (with --mig)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--zone", help="the zone of a zonal group (with --mig)")
    where.add_argument("--region", help="the region of a regional group (with --mig)")
    p.add_argument("--compute-api", default=COMPUTE_API,
                   help=f"Compute Engine API base for --mig --apply (default: {COMPUTE_API})")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="stop after N steps (default: the whole trace, or forever)")
    p.add_argument("--state", metavar="FILE",
                   help="keep the autoscaler (history, model, settings) in FILE across "
                   "restarts; a saved state's settings win over the options")
    p.add_argument("--apply", action="store_true",
                   help="send the patches to the API server (default: dry run, print only)")
    p.add_argument("--api-server", default=None,
                   help="API server URL for --apply (default: the in-cluster address)")
    p.add_argument("--token-file", default=None,
                   help=f"bearer token for --apply (default: {TOKEN_PATH}; with --mig, the "
                   "VM's service account token from the metadata server)")
    return p


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise FlaskscaleError(f"--limit must be >= 1, got {args.limit}")
    if not (math.isfinite(args.scale) and args.scale > 0):
        raise FlaskscaleError(f"--scale must be finite and > 0, got {args.scale}")
    if args.step is not None and not (math.isfinite(args.step) and args.step > 0):
        raise FlaskscaleError(f"--step must be finite and > 0, got {args.step}")

    if args.replay:
        step, source = replay(args.replay, args.step, args.scale)
    else:
        step = args.step or 60.0
        source = prometheus(args.prometheus, args.query, step)

    policy = fs.PredictivePolicy(
        args.capacity,
        startup_seconds=args.startup,
        interval_seconds=step,
        quantile=args.quantile,
        min_replicas=args.min_replicas,
        max_replicas=args.max_replicas,
    )
    refit_every = max(1, round(3600 / step))  # refit hourly
    autoscaler = None
    if args.state and os.path.exists(args.state):
        try:
            autoscaler = fs.Autoscaler.load(args.state)
            log(f"resumed from {args.state}: {autoscaler!r}")
        except FlaskscaleError as e:
            # a restart must not turn into a crash loop: start over, and say so
            log(f"cannot resume from {args.state} ({e}); starting with an empty history")
    if autoscaler is None:
        autoscaler = fs.Autoscaler(policy, step_seconds=step, refit_every=refit_every)

    client: Any = None
    if args.mig:
        if not args.project or not (args.zone or args.region):
            raise FlaskscaleError("--mig needs --project and --zone (or --region)")
        path = mig_path(args.project, args.zone, args.region, args.mig)
        if args.apply:
            client = MigClient(args.compute_api, path, args.token_file)
    else:
        path = f"/apis/apps/v1/namespaces/{args.namespace}/deployments/{args.deployment}/scale"
        if args.apply:
            client = ScaleClient(args.api_server or default_api_server(),
                                 args.token_file or TOKEN_PATH, args.namespace, args.deployment)
    current = args.initial if args.initial is not None else args.min_replicas
    steps = changes = failures = 0
    try:
        for t, count, error, now in source:
            steps += 1
            if count is None:
                failures += 1
                log(f"{error}; keeping {current} replicas")
            else:
                try:
                    autoscaler.observe(t, count)
                    if client is not None:
                        try:
                            current = client.replicas()
                        except (OSError, ValueError, KeyError) as e:
                            log(f"cannot read the replica count: {e}; assuming {current}")
                    decision = autoscaler.recommend(now, current_replicas=current)
                except FlaskscaleError as e:
                    failures += 1
                    log(f"step at {iso(t)} skipped: {e}; keeping {current} replicas")
                    decision = None
                if decision is not None and decision.replicas != current:
                    n = decision.replicas
                    call: Dict[str, Any]
                    if args.mig:
                        where = f"--zone={args.zone}" if args.zone else f"--region={args.region}"
                        call = {"method": "POST", "path": f"/compute/v1{path}/resize?size={n}",
                                "body": None,
                                "gcloud": f"gcloud compute instance-groups managed resize "
                                          f"{args.mig} --size={n} {where} --project={args.project}"}
                    else:
                        call = {"method": "PATCH", "path": path,
                                "content_type": PATCH_CONTENT_TYPE,
                                "body": {"spec": {"replicas": n}}}
                    applied = False
                    if client is not None:
                        try:
                            if args.mig:
                                client.resize(n)
                            else:
                                client.patch(call["body"])
                            applied = True
                        except (OSError, ValueError) as e:
                            log(f"{call['method']} {call['path']} failed: {e}; will retry at "
                                "the next step")
                    record = {
                        "time": iso(now),
                        "now": now,
                        **call,
                        "from_replicas": current,
                        "reason": decision.reason,
                        "mode": decision.mode,
                        "model": autoscaler.model_name,
                        "stage": autoscaler.stage,
                        "explain": decision.explain(),
                        "applied": applied,
                    }
                    print(json.dumps(finite_or_none(record), allow_nan=False), flush=True)
                    changes += 1
                    if client is None or applied:
                        current = decision.replicas
            if args.state and steps % refit_every == 0:
                try:
                    autoscaler.save(args.state)
                except FlaskscaleError as e:
                    log(f"cannot save the state: {e}")
            if args.limit is not None and steps >= args.limit:
                break
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        if args.state:
            autoscaler.save(args.state)
    if autoscaler.last_fit_error:
        log(f"last fit error: {autoscaler.last_fit_error}")
    log(
        f"{steps} steps of {step:g} s, {changes} changes, {failures} skipped; "
        f"{current} replicas; model {autoscaler.model_name} ({autoscaler.stage})"
    )
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (FlaskscaleError, OSError, ValueError) as e:
        print(f"orchestrate: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

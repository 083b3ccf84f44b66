"""The Flask extension in one process: settings, counting, endpoints, the ticker, state files,
the shared counter and bad input. Real servers under load are in test_flask_load.py."""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import threading
import time

import numpy as np
import pytest

flask = pytest.importorskip("flask")

import flaskscale as fs  # noqa: E402
from flaskscale.flask import FlaskScale, Settings, _Clock, _Counting, _Engine, _State  # noqa: E402


def make_app(**options):
    app = flask.Flask("shop")

    @app.route("/")
    def index():
        return "ok"

    @app.route("/healthz")
    def health():
        return "fine"

    @app.route("/boom")
    def boom():
        raise RuntimeError("handler failure")

    ext = FlaskScale(app, **options)
    return app, ext


@pytest.fixture
def app_ext():
    app, ext = make_app(capacity=10.0, step_seconds=60.0)
    yield app, ext
    ext.shutdown(app)


# ---------------------------------------------------------------- settings


def test_unknown_config_key_lists_the_valid_ones():
    app = flask.Flask("x")
    app.config["FLASKSCALE_CAPCITY"] = 5
    with pytest.raises(fs.ConfigError) as e:
        FlaskScale(app, capacity=3)
    msg = str(e.value)
    assert "FLASKSCALE_CAPCITY" in msg and "FLASKSCALE_CAPACITY" in msg
    assert "FLASKSCALE_SHARED_DIR" in msg
    assert isinstance(e.value, ValueError)


def test_unknown_keyword_option():
    with pytest.raises(fs.ConfigError, match="unknown option 'capcity'"):
        FlaskScale(capcity=3)


@pytest.mark.parametrize(
    "options, match",
    [
        ({}, "CAPACITY .* is required"),
        # the ranges are the core's: its words, raised at init_app as a ConfigError
        ({"capacity": 0}, "capacity_per_replica must be finite and > 0"),
        ({"capacity": -5}, "capacity_per_replica must be finite and > 0"),
        ({"capacity": float("nan")}, "capacity_per_replica must be finite"),
        ({"capacity": "many"}, "CAPACITY must be a number"),
        ({"capacity": 5, "min_replicas": 4, "max_replicas": 2}, "minReplicas .4. must not exceed"),
        ({"capacity": 5, "min_replicas": 0}, "minReplicas must be >= 1"),
        ({"capacity": 5, "max_replicas": 2.5}, "MAX_REPLICAS must be a whole number"),
        ({"capacity": 5, "quantile": 1.0}, "quantile must be in \\(0, 1\\)"),
        ({"capacity": 5, "step_seconds": 0}, "interval_seconds must be finite and > 0"),
        ({"capacity": 5, "metrics_path": "metrics"}, "METRICS_PATH must be a URL path"),
        ({"capacity": 5, "recommendation_path": "/flaskscale/metrics"}, "both"),
        ({"capacity": 5, "exclude_paths": ["healthz"]}, "EXCLUDE_PATHS entries"),
        ({"capacity": 5, "enabled": "perhaps"}, "ENABLED must be true or false"),
        ({"capacity": 5, "floor_seconds": 0}, "window_seconds must be finite and > 0"),
        ({"capacity": 5, "floor_seconds": 60, "floor_quantile": 0}, "quantile must be in"),
        ({"capacity": 5, "floor_seconds": 60, "floor_factor": -1}, "factor must be finite and > 0"),
        # issue 14: accepted by the extension before, refused by the core
        ({"capacity": 5, "startup_seconds": 1e7}, "at most 604800 \\(a week\\)"),
        ({"capacity": 5, "max_replicas": 2**40}, "max_replicas"),
        ({"capacity": 5, "step_seconds": 1e300}, "at most 604800"),
        ({"capacity": 5, "model": "holt_winters"}, "expected a flaskscale model"),
        ({"capacity": 5, "save_every": 0}, "SAVE_EVERY must be >= 1"),
    ],
)
def test_impossible_settings_are_config_errors(options, match):
    app = flask.Flask("x")
    app.config.update({f"FLASKSCALE_{k.upper()}": v for k, v in options.items()})
    with pytest.raises(fs.ConfigError, match=match):
        FlaskScale(app)


def test_config_keys_override_keyword_options(app_ext):
    app = flask.Flask("x")
    app.config["FLASKSCALE_CAPACITY"] = 25
    app.config["FLASKSCALE_MAX_REPLICAS"] = "7"
    ext = FlaskScale(app, capacity=3, max_replicas=50)
    s = FlaskScale.state(app).settings
    assert (s.capacity, s.max_replicas) == (25.0, 7)
    ext.shutdown(app)


def test_environment_variables_sit_between_options_and_config(monkeypatch):
    monkeypatch.setenv("FLASKSCALE_CAPACITY", "12.5")
    monkeypatch.setenv("FLASKSCALE_TOKEN", "from-env")
    monkeypatch.setenv("FLASKSCALE_EXCLUDE_PATHS", "/healthz, /ready")
    monkeypatch.setenv("FLASKSCALE_MAX_REPLICAS", "9")
    app = flask.Flask("x")
    app.config["FLASKSCALE_MAX_REPLICAS"] = 4
    ext = FlaskScale(app, capacity=3, max_replicas=50)
    s = FlaskScale.state(app).settings
    assert (s.capacity, s.token, s.max_replicas) == (12.5, "from-env", 4)
    assert s.exclude_paths == ("/healthz", "/ready")
    ext.shutdown(app)
    # the environment also holds others' variables (a Service named flaskscale gets
    # FLASKSCALE_SERVICE_HOST from Kubernetes): those are logged and ignored, not fatal
    monkeypatch.setenv("FLASKSCALE_SERVICE_HOST", "10.0.0.1")
    app2 = flask.Flask("y")
    ext.init_app(app2)
    assert FlaskScale.state(app2).settings.capacity == 12.5
    ext.shutdown(app2)


def test_recent_load_floor_settings_reach_the_policy(monkeypatch):
    monkeypatch.setenv("FLASKSCALE_FLOOR_SECONDS", "1800")
    s = Settings.resolve({}, {"capacity": 5, "floor_factor": 1.3}, environ=dict(os.environ))
    floor = json.loads(s.autoscaler().to_json())["autoscaler"]["config"]["policy"]["recent_floor"]
    assert floor == {"window_seconds": 1800.0, "quantile": 1.0, "factor": 1.3}
    off = json.loads(Settings.resolve({}, {"capacity": 5}).autoscaler().to_json())
    assert "recent_floor" not in off["autoscaler"]["config"]["policy"]


def test_disabled_registers_nothing():
    app, ext = make_app(capacity=5, enabled=False)
    assert "flaskscale" not in app.extensions
    assert app.test_client().get("/flaskscale/metrics").status_code == 404


def test_application_factory_gives_each_app_its_own_state():
    ext = FlaskScale(capacity=5)

    def create_app():
        app = flask.Flask("factory")
        bp = flask.Blueprint("shop", "shop")
        bp.add_url_rule("/items", "items", lambda: "items")
        app.register_blueprint(bp, url_prefix="/api")
        ext.init_app(app)
        return app

    a, b = create_app(), create_app()
    for _ in range(3):
        a.test_client().get("/api/items")
    b.test_client().get("/api/items")
    assert FlaskScale.state(a).counter.total() == 3
    assert FlaskScale.state(b).counter.total() == 1
    with pytest.raises(fs.ConfigError, match="already"):
        ext.init_app(a)
    ext.shutdown(a)
    ext.shutdown(b)


# ---------------------------------------------------------------- counting and endpoints


def test_counts_requests_but_not_its_own_endpoints_nor_excluded_paths():
    app, ext = make_app(capacity=10, exclude_paths=["/healthz"])
    c = app.test_client()
    for _ in range(5):
        assert c.get("/").status_code == 200
    c.get("/healthz")
    c.get("/missing")  # a 404 is a request too
    c.get("/flaskscale/metrics")
    c.get("/flaskscale/recommendation")
    assert FlaskScale.state(app).counter.total() == 6
    ext.shutdown(app)


def test_a_failing_handler_is_counted_and_fails_as_it_would_without_the_extension():
    app, ext = make_app(capacity=10)
    r = app.test_client().get("/boom")
    assert r.status_code == 500
    assert FlaskScale.state(app).counter.total() == 1
    ext.shutdown(app)


def test_metrics_parse_with_prometheus_client(app_ext):
    parser = pytest.importorskip("prometheus_client.parser")
    app, _ = app_ext
    c = app.test_client()
    for _ in range(12):
        c.get("/")
    r = c.get("/flaskscale/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in parser.text_string_to_metric_families(r.get_data(as_text=True))}
    # prometheus_client strips the _total suffix from a counter family's name
    req = fams["flaskscale_requests"]
    assert req.type == "counter"
    assert [s.value for s in req.samples] == [12.0]
    assert fams["flaskscale_workers"].samples[0].value == 1.0
    q = fams["flaskscale_forecast_requests_per_second"].samples[0]
    # unset, the quantile is the core's default, and the label says which one is in force
    assert q.labels == {"quantile": str(fs.PredictivePolicy(10).config()["quantile"])}
    assert fams["flaskscale_desired_replicas"].type == "gauge"
    assert fams["flaskscale_capacity_per_replica_requests_per_second"].samples[0].value == 10.0
    for name in ("flaskscale_fit_errors", "flaskscale_steps", "flaskscale_clock_jumps"):
        assert fams[name].type == "counter"


def test_recommendation_json_has_the_keda_value_location(app_ext):
    app, _ = app_ext
    body = app.test_client().get("/flaskscale/recommendation").get_json()
    # KEDA's metrics-api scaler reads valueLocation "forecast_rps.quantile"
    assert isinstance(body["forecast_rps"]["quantile"], float)
    assert body["desired_replicas"] == 1
    assert body["stage"] == "starting" and body["stale"] is True
    assert body["capacity_per_replica"] == 10.0


def test_token_protects_both_endpoints():
    app, ext = make_app(capacity=10, token="s3cret")
    c = app.test_client()
    for path in ("/flaskscale/metrics", "/flaskscale/recommendation"):
        assert c.get(path).status_code == 401
        assert c.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/").status_code == 200  # the app itself is not protected
    ext.shutdown(app)


def test_custom_paths():
    app, ext = make_app(capacity=10, metrics_path="/m", recommendation_path="/r")
    c = app.test_client()
    assert c.get("/m").status_code == 200 and c.get("/r").status_code == 200
    c.get("/")
    assert FlaskScale.state(app).counter.total() == 1
    ext.shutdown(app)


def test_eight_threads_times_100k_requests_lose_no_counts():
    st = _State(Settings.resolve({}, {"capacity": 1}))
    mw = _Counting(lambda environ, start_response: [b"ok"], st)
    st.started = True  # no ticker: this test is about the counter under contention
    environ = {"PATH_INFO": "/orders"}
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(100_000):
            mw(environ, None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert st.counter.total() == 800_000


def test_metrics_endpoint_hammered_concurrently_while_requests_are_counted(app_ext):
    parser = pytest.importorskip("prometheus_client.parser")
    app, _ = app_ext
    errors = []
    totals = []

    def scrape():
        c = app.test_client()
        for _ in range(100):
            r = c.get("/flaskscale/metrics")
            if r.status_code != 200:
                errors.append(r.status_code)
                continue
            for f in parser.text_string_to_metric_families(r.get_data(as_text=True)):
                if f.name == "flaskscale_requests":
                    totals.append(f.samples[0].value)

    def load():
        c = app.test_client()
        for _ in range(300):
            c.get("/")

    ts = [threading.Thread(target=scrape) for _ in range(4)] + [
        threading.Thread(target=load) for _ in range(4)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert len(totals) == 400 and max(totals) <= 1200
    assert FlaskScale.state(app).counter.total() == 1200


# ---------------------------------------------------------------- the engine and the ticker


def daily(n, step=60.0, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    rate = 200 + 150 * np.sin(2 * np.pi * t / 86400.0)
    return rng.poisson(rate * step / 60.0).astype(float)


def test_engine_decides_as_a_standalone_autoscaler_fed_the_same_steps():
    s = Settings.resolve({}, {"capacity": 1.0, "refit_every": 120, "max_history": 4000})
    eng = _Engine(s, [])
    ref = s.autoscaler()
    counts = daily(3000)
    t0 = 1_700_006_400.0
    replicas = []
    ref_replicas = []
    current = 1
    for i, c in enumerate(counts):
        start = t0 + i * 60.0
        eng.close_step(start, c)
        replicas.append(eng.desired)
        ref.observe(start, c)
        d = ref.recommend(start + 60.0, current_replicas=current)
        current = d.replicas
        ref_replicas.append(current)
    assert replicas == ref_replicas
    snap = eng.snapshot(int(counts.sum()), counts[-1] / 60.0)
    assert snap["steps"] == 3000 and snap["fits"] >= 1 and snap["last_fit_time"] is not None
    # 200 +- 150 requests per minute at 1 request/s per replica: the peak (5.8/s) needs 6
    # replicas, the trough (0.8/s) 1; the reactive floor holds the highest minute at the
    # default utilisation (70%), and the upper quantile may add one more
    ceiling = int(np.ceil(max(counts[1500:]) / 60.0 / fs.DEFAULT_HPA_UTILIZATION)) + 1
    assert min(replicas[1500:]) <= 2 and 6 <= max(replicas[1500:]) <= ceiling
    assert snap["forecast_rps"]["quantile"] >= snap["forecast_rps"]["mean"]


class _FailingAutoscaler:
    """Wraps an Autoscaler and makes recommend() fail on demand."""

    def __init__(self, inner):
        self.inner = inner
        self.fail = False

    def recommend(self, now, *, current_replicas):
        if self.fail:
            raise fs.FitError("model exploded")
        return self.inner.recommend(now, current_replicas=current_replicas)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_ticker_survives_failures_and_keeps_the_last_good_decision():
    st = _State(Settings.resolve({}, {"capacity": 1.0}))
    assert st._try_lead()
    st.engine.autoscaler = _FailingAutoscaler(st.engine.autoscaler)
    clock = st._clock
    clock.step = 60.0
    for i in range(30):
        st.counter.add(600)
        st._close([1_700_000_000.0 + 60 * i])
    good = st.snapshot()
    # the decision a standalone Autoscaler of the same settings takes on the same steps
    ref = st.settings.autoscaler()
    current = st.settings.min_replicas
    for i in range(30):
        ref.observe(1_700_000_000.0 + 60 * i, 600.0)
        current = ref.recommend(1_700_000_000.0 + 60 * (i + 1), current_replicas=current).replicas
    assert good["desired_replicas"] == current >= 10 and good["step_errors"] == 0
    st.engine.autoscaler.fail = True
    st.counter.add(6000)
    st._close([1_700_000_000.0 + 60 * 30])
    snap = st.snapshot()
    assert snap["step_errors"] == 1 and "model exploded" in snap["last_error"]
    assert snap["desired_replicas"] == current  # the last good decision is still served
    # a step going back in time is refused by the Autoscaler and counted, not raised
    st.engine.autoscaler.fail = False
    st._close([1_700_000_000.0])
    assert st.snapshot()["step_errors"] == 2
    st.stop()


def test_ticker_closes_steps_in_real_time():
    app, ext = make_app(capacity=10, step_seconds=0.2, startup_seconds=0.4)
    c = app.test_client()
    c.get("/")  # starts the ticker lazily
    st = FlaskScale.state(app)
    assert st.started
    deadline = time.time() + 5
    while (st.snapshot() or {}).get("steps", 0) < 3 and time.time() < deadline:
        c.get("/")
        time.sleep(0.01)
    snap = st.snapshot()
    assert snap is not None and snap["steps"] >= 3
    assert snap["requests_total_at_step"] <= st.counter.total()
    ext.shutdown(app)
    assert not st.started and st._thread is None


def test_clock_grid_late_thread_and_jumps():
    wall = [1000.5]
    mono = [50.0]
    c = _Clock(10.0, wall=lambda: wall[0], mono=lambda: mono[0])
    assert c.align() == pytest.approx(9.5)  # starts counting at the 1010 boundary
    assert c.next_start == 1010.0

    def advance(dt, jump=0.0):
        wall[0] += dt + jump
        mono[0] += dt

    advance(9.5)
    assert c.due()[0] == []  # at the boundary the first step has just begun
    advance(10.0)
    starts, wait = c.due()
    assert starts == [1010.0] and wait == pytest.approx(10.0)
    advance(35.0)  # the thread was late: three steps closed at once
    starts, _ = c.due()
    assert starts == [1020.0, 1030.0, 1040.0] and c.late_steps == 2
    advance(5.0, jump=-3600.0)  # wall clock set back an hour: the grid does not go back
    starts, _ = c.due()
    assert starts == [1050.0] and c.jumps == 1
    advance(10.0)
    assert c.due()[0] == [1060.0]
    advance(10.0, jump=+7200.0)  # forward: the grid moves on; the skipped steps stay missing
    starts, _ = c.due()
    assert starts == [1070.0] and c.jumps >= 2
    advance(10.0)
    nxt = c.due()[0][0]
    assert nxt >= 1070.0 + 3600.0 and nxt % 10.0 == 0


# ---------------------------------------------------------------- state files


def test_state_is_saved_on_shutdown_and_restored_on_start(tmp_path):
    path = str(tmp_path / "state.json")
    st = _State(Settings.resolve({}, {"capacity": 1.0, "state_file": path}))
    assert st._try_lead()
    counts = daily(500)
    for i, c in enumerate(counts):
        st.counter.add(int(c))
        st._close([1_700_000_000.0 + 60 * i])
    st.stop()
    assert os.path.exists(path)
    st2 = _State(Settings.resolve({}, {"capacity": 1.0, "state_file": path}))
    assert st2._try_lead()
    np.testing.assert_array_equal(st2.engine.autoscaler.history, counts)
    assert st2.engine.restore_error is None
    st2.stop()


def test_changed_settings_keep_the_history_only(tmp_path):
    path = str(tmp_path / "state.json")
    st = _State(Settings.resolve({}, {"capacity": 1.0, "state_file": path}))
    st._try_lead()
    for i in range(50):
        st.counter.add(60)
        st._close([1_700_000_000.0 + 60 * i])
    st.stop()
    st2 = _State(Settings.resolve({}, {"capacity": 2.0, "state_file": path}))
    st2._try_lead()
    a = st2.engine.autoscaler
    assert json.loads(a.to_json())["autoscaler"]["config"]["policy"]["capacity_per_replica"] == 2.0
    st2.counter.add(30)
    st2._close([1_700_000_000.0 + 60 * 50])  # the replayed history goes on
    np.testing.assert_array_equal(a.history, [60.0] * 50 + [30.0])
    st2.stop()


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": "other", "version": 9}', b"\x00\xff" * 40])
def test_corrupt_state_file_starts_fresh_logs_why_and_serves(tmp_path, caplog, content):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    app, ext = make_app(capacity=5, state_file=str(path))
    st = FlaskScale.state(app)
    with caplog.at_level(logging.WARNING, logger="flaskscale.flask"):
        assert st._try_lead()
    assert st.engine.restore_error is not None
    assert "unusable" in caplog.text and "starting fresh" in caplog.text
    assert app.test_client().get("/").status_code == 200
    st.counter.add(5)
    st._close([1_700_000_000.0])
    ext.shutdown(app)
    # the next shutdown wrote a good file over the corrupt one
    fs.Autoscaler.load(str(path))


def test_unwritable_state_file_is_reported_not_raised(tmp_path):
    path = tmp_path / "no-such-dir" / "state.json"
    st = _State(Settings.resolve({}, {"capacity": 1.0, "state_file": str(path)}))
    st._try_lead()
    st.counter.add(5)
    st._close([1_700_000_000.0])
    eng = st.engine
    st.stop()
    assert "saving" in (eng.last_error or "")


# ---------------------------------------------------------------- the shared counter


def _hammer(path, n, q, barrier):
    c = fs.RequestCounter.shared(path)
    barrier.wait()  # all four alive at once: none can inherit another's slot
    for _ in range(n):
        c.add()
    q.put((os.getpid(), c.slot, c.value))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_shared_counter_sums_processes_and_keeps_dead_workers_counts(tmp_path):
    path = str(tmp_path / "requests.counter")
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_hammer, args=(path, 50_000, q, barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(r[1] for r in results) == [0, 1, 2, 3]
    assert all(r[2] == 50_000 for r in results)
    c = fs.RequestCounter.shared(path)
    # the four workers have exited: their slots are reused, their counts stay in the total
    assert c.total() == 200_000
    assert c.slot in (0, 1, 2, 3)
    assert c.workers() == 1
    c.add(7)
    assert c.total() == 200_007 and c.value == 50_007


def test_shared_counter_slots_run_out_with_a_clear_error(tmp_path):
    path = str(tmp_path / "c")
    a = fs.RequestCounter.shared(path, slots=1)
    # the same process shares its slot
    b = fs.RequestCounter.shared(path, slots=1)
    a.add(2)
    b.add(3)
    assert a.total() == 5 and a.slot == b.slot == 0

    ctx = mp.get_context("fork")
    q = ctx.Queue()

    def child():
        try:
            fs.RequestCounter.shared(path)
            q.put("opened")
        except fs.InvalidParameterError as e:
            q.put(str(e))

    p = ctx.Process(target=child)
    p.start()
    msg = q.get(timeout=30)
    p.join()
    assert "worker slots" in msg and "FLASKSCALE_WORKER_SLOTS" in msg


@pytest.mark.parametrize("content", [b"x" * 10, b"y" * 200])
def test_corrupt_counter_file_is_a_typed_error(tmp_path, content):
    path = tmp_path / "c"
    path.write_bytes(content)
    with pytest.raises(fs.InvalidDataError, match="not a flaskscale counter file"):
        fs.RequestCounter.shared(str(path))


def test_counter_slot_bounds():
    with pytest.raises(fs.InvalidParameterError, match="worker slots"):
        fs.RequestCounter.shared(os.devnull, slots=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_worker_claims_its_own_slot(tmp_path):
    app, ext = make_app(capacity=5, shared_dir=str(tmp_path))
    st = FlaskScale.state(app)
    st.counter.add(3)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the at-fork hook gave it a slot of its own
        try:
            st.counter.add(4)
            os.write(w, json.dumps([st.counter.slot, st.counter.value, st.counter.total()]).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = json.loads(os.read(r, 1000))
    os.waitpid(pid, 0)
    assert data[0] != st.counter.slot and data[1] == 4 and data[2] == 7
    assert st.counter.total() == 7
    ext.shutdown(app)


def _standalone(settings, counts, t0):
    """The replica count a standalone Autoscaler of ``settings`` decides after ``counts`` (one
    per step from ``t0``), each decision taken as the next step's current count."""
    a = settings.autoscaler()
    current = settings.min_replicas
    for i, c in enumerate(counts):
        a.observe(t0 + settings.step_seconds * i, c)
        current = a.recommend(t0 + settings.step_seconds * (i + 1), current_replicas=current).replicas
    return current


def test_shared_mode_leader_publishes_a_snapshot_followers_read(tmp_path):
    s = Settings.resolve({}, {"capacity": 1.0, "shared_dir": str(tmp_path)})
    leader, follower = _State(s), _State(s)
    assert leader._try_lead()
    assert not follower._try_lead()  # the lock is taken
    for i in range(5):
        leader.counter.add(120)
        leader._close([1_700_000_000.0 + 60 * i])
    snap = follower.snapshot()
    want = _standalone(s, [120.0] * 5, 1_700_000_000.0)
    assert snap is not None and snap["steps"] == 5 and snap["desired_replicas"] == want >= 2
    leader.stop()  # resigns: the follower takes over and restores the hand-over state
    assert follower._try_lead()
    assert follower.engine.autoscaler.history.size == 5
    follower.stop()


def test_every_failed_fit_is_counted_and_the_last_fit_time_kept():
    s = Settings.resolve({}, {"capacity": 1.0})
    eng = _Engine(s, [])
    a = _FailingAutoscaler(eng.autoscaler)
    eng.autoscaler = a
    t0 = 1_700_000_000.0
    for i in range(5):
        eng.close_step(t0 + 60 * i, 60.0)
    assert eng.fit_errors == 0 and eng.last_fit_time is not None
    fitted_at = eng.last_fit_time
    # two refits fail with the same message, a third with another: three failed fits
    for i, err in enumerate(["diverged", "diverged", "singular"]):
        a.n_fits = a.inner.n_fits + 1 + i
        a.last_fit_error = err
        eng.close_step(t0 + 60 * (5 + i), 60.0)
    snap = eng.snapshot(0, 1.0)
    assert snap["fit_errors"] == 3
    assert snap["last_fit_time"] == fitted_at
    assert snap["last_fit_error"] == "singular"
    assert snap["desired_replicas"] == _standalone(s, [60.0] * 8, t0) and snap["steps"] == 8


def test_example_app_counts_traffic_but_not_probes():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "flask_app.py"
    spec = importlib.util.spec_from_file_location("flask_app_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    app = mod.create_app()
    c = app.test_client()
    assert c.get("/").get_json() == {"items": ["tea", "cups"]}
    c.get("/healthz")
    assert FlaskScale.state(app).counter.total() == 1
    assert c.get("/flaskscale/recommendation").get_json()["capacity_per_replica"] == 50.0
    mod.flaskscale.shutdown(app)


# ---------------------------------------------------------------- one answer, the core's ranges


def _metric(app, name):
    parser = pytest.importorskip("prometheus_client.parser")
    text = app.test_client().get("/flaskscale/metrics").get_data(as_text=True)
    fams = {f.name: f for f in parser.text_string_to_metric_families(text)}
    return [s.value for s in fams[name].samples]


def test_before_the_first_step_both_endpoints_give_one_answer():
    app, ext = make_app(capacity=10, min_replicas=3, startup_seconds=90, step_seconds=30)
    body = app.test_client().get("/flaskscale/recommendation").get_json()
    assert body["reason"] == "starting" and body["desired_replicas"] == 3
    assert _metric(app, "flaskscale_desired_replicas") == [3.0]
    assert _metric(app, "flaskscale_forecast_requests_per_second") == [body["forecast_rps"]["quantile"]]
    # the lead is start-up plus one interval (a step), as the core's policy has it
    assert _metric(app, "flaskscale_lead_seconds") == [120.0] == [body["lead_seconds"]]
    assert fs.PredictivePolicy(10, startup_seconds=90, interval_seconds=30).lead_seconds == 120.0
    ext.shutdown(app)


@pytest.mark.parametrize("q", [0.01, 0.3, 0.5, 0.99])
def test_the_quantile_range_is_the_cores(q):
    # the extension refused q < 0.5 before; the core takes (0, 1)
    s = Settings.resolve({}, {"capacity": 5, "quantile": q})
    assert json.loads(s.autoscaler().to_json())["autoscaler"]["config"]["policy"]["quantile"] == q


def test_settings_summary_is_logged_once_with_the_token_masked(monkeypatch, caplog):
    monkeypatch.setenv("FLASKSCALE_STEP_SECONDS", "30")
    monkeypatch.setenv("FLASKSCALE_STEP_SECOND", "15")  # misspelt: warned about, ignored
    app = flask.Flask("x")
    app.config["FLASKSCALE_TOKEN"] = "s3cret"
    with caplog.at_level(logging.INFO, logger="flaskscale.flask"):
        ext = FlaskScale(app, capacity=7)
    summaries = [r.getMessage() for r in caplog.records if "flaskscale settings:" in r.getMessage()]
    assert len(summaries) == 1
    line = summaries[0]
    assert "CAPACITY=7.0 (keyword)" in line and "STEP_SECONDS=30.0 (environment)" in line
    assert "TOKEN='***' (app.config)" in line and "s3cret" not in line
    assert "ignoring environment variable FLASKSCALE_STEP_SECOND: not a setting" in caplog.text
    assert FlaskScale.state(app).settings.step_seconds == 30.0
    ext.shutdown(app)


def _newer_state(path, version=2):
    a = Settings.resolve({}, {"capacity": 1.0}).autoscaler()
    doc = json.loads(a.to_json())
    doc["version"] = version
    doc["a_field_of_the_future"] = {"x": 1}
    text = json.dumps(doc)
    path.write_text(text)
    return text


def test_a_newer_versions_state_file_is_never_overwritten(tmp_path, caplog):
    path = tmp_path / "state.json"
    text = _newer_state(path)
    st = _State(Settings.resolve({}, {"capacity": 1.0, "state_file": str(path), "save_every": 1}))
    with caplog.at_level(logging.WARNING, logger="flaskscale.flask"):
        assert st._try_lead()
    assert "written by a newer flaskscale" in caplog.text
    for i in range(3):  # saves every step, and at shutdown
        st.counter.add(5)
        st._close([1_700_000_000.0 + 60 * i])
    st.stop()
    assert path.read_text() == text


def test_a_newer_state_file_stays_even_when_the_hand_over_file_is_restored(tmp_path):
    shared = tmp_path / "shared"
    state = tmp_path / "state.json"
    s = Settings.resolve({}, {"capacity": 1.0, "state_file": str(state), "shared_dir": str(shared)})
    first = _State(s)
    assert first._try_lead()
    first.counter.add(5)
    first._close([1_700_000_000.0])
    first.stop()  # writes both files
    text = _newer_state(state)
    os.utime(state, (1, 1))  # the hand-over file is the newer one: it is restored
    second = _State(s)
    assert second._try_lead()
    assert second.engine.restore_error is None
    second.counter.add(5)
    second._close([1_700_000_060.0])
    second.stop()
    assert state.read_text() == text
    fs.Autoscaler.load(str(shared / "autoscaler.json"))  # the hand-over file was saved


def test_worker_slots_the_shared_counter_refuses_are_a_config_error(tmp_path):
    app = flask.Flask("x")
    with pytest.raises(fs.ConfigError, match="worker slots must be in"):
        FlaskScale(app, capacity=5, shared_dir=str(tmp_path), worker_slots=0)


def test_documented_gunicorn_commands_are_valid_shell():
    import subprocess
    from pathlib import Path

    import flaskscale.flask as ext_module

    example = Path(__file__).resolve().parents[2] / "examples" / "flask_app.py"
    for doc in (ext_module.__doc__, example.read_text()):
        text = doc.replace("\\\n", " ")
        cmds = [ln.strip() for ln in text.splitlines() if "gunicorn -w" in ln and "create_app" in ln]
        assert cmds, "no gunicorn command documented"
        for cmd in cmds:
            # bash parses it (an unquoted create_app() is a syntax error) and keeps the app
            # spec one word
            r = subprocess.run(["bash", "-n", "-c", cmd], capture_output=True, text=True)
            assert r.returncode == 0, (cmd, r.stderr)
            assert "'flask_app:create_app()'" in cmd


def test_unset_settings_take_the_cores_defaults():
    s = Settings.resolve({}, {"capacity": 5})
    core = fs.PredictivePolicy(5).config()
    assert (s.quantile, s.startup_seconds) == (core["quantile"], core["startup_seconds"])
    policy = json.loads(s.autoscaler().to_json())["autoscaler"]["config"]["policy"]
    assert (policy["quantile"], policy["startup_seconds"]) == (s.quantile, s.startup_seconds)
    given = Settings.resolve({"FLASKSCALE_QUANTILE": "0.9"}, {"capacity": 5})
    assert given.quantile == 0.9

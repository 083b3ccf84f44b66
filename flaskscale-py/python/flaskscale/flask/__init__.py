"""Flask extension: the app measures its own request rate, forecasts it and publishes the replica
count Kubernetes should run, ahead of time.

Two lines::

    from flaskscale.flask import FlaskScale
    FlaskScale(app, capacity=50)          # requests/s one replica serves at its SLO

or, with an application factory, ``ext = FlaskScale(capacity=50)`` at import time and
``ext.init_app(app)`` in the factory. Settings come from keyword arguments, overridden by
``FLASKSCALE_*`` environment variables (a pod's ``env``), overridden by ``FLASKSCALE_*`` keys of
``app.config``. An unknown keyword or ``app.config`` key is an error that lists the valid ones;
an unknown ``FLASKSCALE_*`` environment variable is logged and ignored (an environment holds
others' variables too). The ranges are the core's, checked at ``init_app``; the effective
settings are logged once there. Before the first step closes both endpoints answer
``MIN_REPLICAS`` with the reason ``starting``.

Several workers (the example app of the repository)::

    FLASKSCALE_SHARED_DIR=/dev/shm/flaskscale gunicorn -w 4 -b 127.0.0.1:8000 \\
        --chdir examples 'flask_app:create_app()'

What it does:

- counts every request except its own endpoints in a lock-free counter that lives in Rust; with
  ``FLASKSCALE_SHARED_DIR`` set, the counter is a shared-memory file with one slot per worker
  process, so a pod under ``gunicorn -w N`` publishes the count of all its workers;
- a background thread, started by the first request, closes each step (``STEP_SECONDS``),
  feeds the :class:`~flaskscale.Autoscaler`, which refits on schedule, and keeps the last good
  decision when a fit fails. With several workers one of them (the holder of a file lock) runs
  the Autoscaler and shares its snapshot; another takes over if it exits;
- ``/flaskscale/metrics``: Prometheus text exposition; ``/flaskscale/recommendation``: JSON for
  KEDA's metrics-api scaler (``valueLocation: forecast_rps.quantile``). Both paths are
  configurable and can require a bearer token;
- an optional state file (``STATE_FILE``) is restored on start and saved on shutdown and every
  ``SAVE_EVERY`` steps; an unreadable file is logged and the extension starts fresh.

The extension never makes a request fail: every error in counting or forecasting is caught,
logged on the ``flaskscale.flask`` logger and counted in the metrics.

The package's modules: :mod:`.settings` (the settings and their conversion), the runtime —
:mod:`.engine` (the Autoscaler and its snapshot), :mod:`.clock` (step boundaries),
:mod:`.runtime` (the ticker thread, the leadership among workers, the counting middleware) —
and :mod:`.exposition` (the two endpoints' bodies).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from typing import Any, Callable

from ..exceptions import ConfigError, FlaskscaleError
from .clock import _Clock  # noqa: F401  (re-exported for tests and advanced use)
from .engine import _Engine  # noqa: F401
from .exposition import recommendation, render_metrics
from .runtime import _Counting, _State
from .settings import Settings

__all__ = ["FlaskScale", "Settings", "render_metrics"]

log = logging.getLogger("flaskscale.flask")


class FlaskScale:
    """The Flask extension. ``FlaskScale(app, capacity=50)``, or ``FlaskScale(capacity=50)`` and
    later :meth:`init_app` (application factories). Options: see :class:`Settings`.

    >>> from flask import Flask
    >>> app = Flask("shop")
    >>> ext = FlaskScale(app, capacity=40, step_seconds=60)
    >>> app.test_client().get("/flaskscale/recommendation").get_json()["desired_replicas"]
    1
    >>> ext.shutdown(app)
    """

    def __init__(self, app: Any = None, **options: Any) -> None:
        # names are checked now; values when an app brings its config
        Settings.resolve({}, {"capacity": 1.0, **options})
        self._options = dict(options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Attaches to ``app``: counting middleware, the two endpoints, the state."""
        from flask import Blueprint

        settings = Settings.resolve(app.config, self._options, os.environ)
        if not settings.enabled:
            return
        if "flaskscale" in app.extensions:
            raise ConfigError("FlaskScale is already initialised on this app")
        try:
            state = _State(settings)
        except FlaskscaleError as e:  # e.g. WORKER_SLOTS the shared counter refuses
            raise ConfigError(f"flaskscale settings refused: {e}") from e
        log.info("%s", settings.summary())  # once per app and process: what is in effect
        app.extensions["flaskscale"] = state
        app.wsgi_app = _Counting(app.wsgi_app, state)
        bp = Blueprint("flaskscale", __name__)
        bp.add_url_rule(settings.metrics_path, "metrics", self._view(state, self._metrics))
        bp.add_url_rule(
            settings.recommendation_path,
            "recommendation",
            self._view(state, self._recommendation),
        )
        app.register_blueprint(bp)

    @staticmethod
    def state(app: Any) -> _State:
        """The extension's state on ``app`` (for tests and advanced use)."""
        return app.extensions["flaskscale"]  # type: ignore[no-any-return]

    def shutdown(self, app: Any) -> None:
        """Stops the ticker and saves the state. Also runs at interpreter exit."""
        st = app.extensions.get("flaskscale")
        if st is not None:
            st.stop()

    def start(self, app: Any) -> None:
        """Starts the ticker now instead of at the first request."""
        self.state(app).ensure_started()

    @staticmethod
    def _view(state: _State, body: Callable[[_State], Any]) -> Callable[[], Any]:
        from flask import Response, request

        def view() -> Any:
            tok = state.settings.token
            if tok is not None:
                given = request.headers.get("Authorization", "")
                ok = given.startswith("Bearer ") and hmac.compare_digest(
                    given[7:].strip().encode(), tok.encode()
                )
                if not ok:
                    return Response(
                        "missing or wrong bearer token\n",
                        status=401,
                        mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="flaskscale"'},
                    )
            try:
                resp = body(state)
            except Exception as err:
                log.exception("flaskscale: endpoint failed: %s", err)
                resp = Response(f"flaskscale error: {err}\n", status=503, mimetype="text/plain")
            resp.headers["Cache-Control"] = "no-store"
            return resp

        return view

    @staticmethod
    def _metrics(state: _State) -> Any:
        from flask import Response

        text = render_metrics(
            state.snapshot(),
            requests_total=state.counter.total(),
            workers=state.counter.workers(),
            settings=state.settings,
        )
        return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8")

    @staticmethod
    def _recommendation(state: _State) -> Any:
        from flask import Response

        body = recommendation(
            state.snapshot(),
            settings=state.settings,
            requests_total=state.counter.total(),
            workers=state.counter.workers(),
        )
        snap = body
        return Response(json.dumps(snap), mimetype="application/json")

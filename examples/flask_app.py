"""A Flask app that forecasts its own traffic: the two lines of flaskscale.flask in context.

One process (Flask's development server)::

    python examples/flask_app.py

A pod's worth of workers, counted together::

    FLASKSCALE_SHARED_DIR=/dev/shm/flaskscale gunicorn -w 4 -b 127.0.0.1:8000 \\
        --chdir examples 'flask_app:create_app()'

Then ``curl 127.0.0.1:8000/flaskscale/metrics`` and ``curl 127.0.0.1:8000/flaskscale/recommendation``.
With ``FLASKSCALE_STEP_SECONDS=5`` the numbers move within a minute of sending load (for
example ``wrk -c 16 -d 60s http://127.0.0.1:8000/``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from flaskscale.flask import FlaskScale

# Created once; settings not given here come from FLASKSCALE_* environment variables or app.config.
flaskscale = FlaskScale(capacity=50.0, startup_seconds=120, exclude_paths=["/healthz"])

shop = Blueprint("shop", __name__)


@shop.route("/")
def index():  # type: ignore[no-untyped-def]
    return jsonify(items=["tea", "cups"])


@shop.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return "ok"  # excluded: probes are not traffic


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(shop)
    flaskscale.init_app(app)
    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=8000, threaded=True)

"""A tests-only app: linli plus one route behind a per-device limit.

No board route uses acting_device_required yet, so the browser tests serve this with
gunicorn ('tests.e2e.limited_app:create_limited_app()') to try the limit across workers.
"""

import os

from flask import Blueprint

from app import create_app
from app.kiosk.access import acting_device_required, actor_key

PROBE_LIMIT = "3 per minute"
WORKER_HEADER = "X-Worker-Pid"

probe = Blueprint("limit_probe", __name__)


@probe.post("/limit-probe")
@acting_device_required("limit-probe", PROBE_LIMIT)
def limit_probe():
    return {"ok": True, "pid": os.getpid(), "actor": actor_key()}


def create_limited_app():
    app = create_app()
    app.register_blueprint(probe)

    @app.after_request
    def name_the_worker(response):
        # Refusals (403, 429) carry no JSON body: this says which worker answered them.
        response.headers[WORKER_HEADER] = str(os.getpid())
        return response

    return app

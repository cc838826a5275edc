"""A tests-only app: linli, with its default rate limits, naming the gunicorn worker that
answered each request.

The browser tests serve this with gunicorn ('tests.e2e.limited_app:create_limited_app()')
to try a per-device limit across workers (test_rate_limits.py).
"""

import os

from app import create_app

WORKER_HEADER = "X-Worker-Pid"


def create_limited_app():
    app = create_app()

    @app.after_request
    def name_the_worker(response):
        # Every answer, refusals (403, 429) included, says which worker gave it.
        response.headers[WORKER_HEADER] = str(os.getpid())
        return response

    return app

"""Several gunicorn instances serving one district: the same data, the same secret, and
per-kiosk limits that hold across them.

Two instances (2 workers each) on different ports share the instance folder, so its
secret key and its database (the SQLite file, or DATABASE_URL's PostgreSQL), and count
limits where the app is configured to: in the database, or in Redis when REDIS_URL is set
(`.ci/run`'s district run sets both DATABASE_URL and REDIS_URL, as a district deployment
behind nginx would). The test checks the counts landed in the backend it expects.
"""

import os
import re
import time

import pytest
import redis
from sqlalchemy import text

from app.limits import Limit
from tests.e2e.conftest import Gunicorn
from tests.e2e.test_rate_limits import RECEIPT_IN_HTML, _enroll, _fresh_window_if_needed, _wish

LIMIT = Limit.parse("5 per 10 minutes")  # the wall's posting default
REDIS_URL = os.environ.get("REDIS_URL")
RECEIPT = re.compile(r'id="receipt-code">(\d{4}) (\d{4})<')


@pytest.fixture
def two_instances(e2e_database, tmp_path_factory):
    """Two gunicorn instances on one instance folder: what a district runs behind nginx."""
    instance = tmp_path_factory.mktemp("e2e-district")
    first, second = Gunicorn(instance), Gunicorn(instance)
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


def _on(device, server):
    """Point the device at another instance: its cookies (session, kiosk) go along, as
    nginx would send the same browser to either."""
    device.base_url = server.url
    return device


def test_instances_share_data_sessions_and_limits(two_instances):
    one, two = two_instances
    assert one.url != two.url
    kiosk_a = _enroll(one, "区 A")  # paired through instance one …
    kiosk_b = _enroll(two, "区 B")  # … and instance two

    _fresh_window_if_needed()
    window_ends = (time.time() // LIMIT.seconds + 1) * LIMIT.seconds
    receipts = []
    for turn in range(LIMIT.count):  # A's posts alternate between the instances
        status, _, body = _on(kiosk_a, (one, two)[turn % 2]).post_to_wall(_wish("区 A"))
        assert status == 200 and RECEIPT_IN_HTML.search(body), body
        receipts.append("".join(RECEIPT.search(body).groups()))
    # Each instance answered fewer than the limit itself: only a shared count refuses now.
    for server in (two, one):
        status, headers, body = _on(kiosk_a, server).post_to_wall(_wish("区 A"))
        assert status == 429 and int(headers["Retry-After"]) >= 1, body
    status, _, body = _on(kiosk_b, one).post_to_wall(_wish("区 B"))
    assert status == 200, body
    assert time.time() < window_ends, "the posts straddled a window boundary"

    # What one instance stored, the other shows: every receipt looks up on both.
    for server in (one, two):
        for code in receipts:
            status, _, body = _on(kiosk_b, server).request("GET", f"/c/main/wall/receipt?code={code}")
            assert status == 200, body
            assert re.search(r'id="receipt-result"[^>]*>\s*<h2>', body), body  # kind and state shown

    # The counts are where the configuration says.
    namespace = re.search(r"RATE_LIMIT_NAMESPACE = '([^']+)'", (one.instance / "config.py").read_text()).group(1)
    if REDIS_URL:
        keys = redis.Redis.from_url(REDIS_URL).keys(f"{namespace}:rate:wall-post:*")
        assert keys, f"no wall-post counts in Redis under {namespace}"
        assert one.sql(text("SELECT count(*) FROM rate_counters WHERE key LIKE 'wall-post:%'")) == 0
    else:
        assert one.sql(text("SELECT count(*) FROM rate_counters WHERE key LIKE 'wall-post:%'")) >= 1
    one.assert_no_errors()
    print(f"\ndistrict: 2 instances × 2 workers, counts in {'Redis' if REDIS_URL else 'the database'}, "
          f"database {'PostgreSQL' if one.database_url.startswith('postgres') else 'SQLite'}")

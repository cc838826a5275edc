"""Per-device limits: counted in the database or in Redis, per actor, per window."""

import json
import uuid

import pytest
import redis

from app.kiosk.access import acting_device_required
from app.kiosk.devices import DEVICE_COOKIE
from app.limits import Limit, hit
from tests.conftest import ON_POSTGRES
from tests.factories import enrolled_kiosk

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_limits_parse():
    assert Limit.parse("5 per minute") == Limit(5, 60)
    assert Limit.parse("20 per 10 minutes") == Limit(20, 600)
    assert Limit.parse("1 per day") == Limit(1, 86400)
    with pytest.raises(ValueError):
        Limit.parse("lots")


@pytest.fixture(params=["database", "redis"])
def limited_app(request, make_app):
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()  # the machine's Redis service must be up; a failure here is a real failure
        return make_app(REDIS_URL=REDIS_URL, RATE_LIMIT_NAMESPACE=f"test-{uuid.uuid4().hex}")
    return make_app(REDIS_URL=None)  # the database, even when the suite runs with REDIS_URL


def test_windows_count_per_key(limited_app):
    key = f"test:{uuid.uuid4().hex}"
    limit = Limit(3, 60)
    with limited_app.app_context():
        start = 60.0 * 16_667 + 20  # 20 s into a window
        assert [hit(key, limit, now=start + i) for i in range(3)] == [0, 0, 0]
        assert hit(key, limit, now=start + 3) == 37  # wait for the window to turn
        assert hit(f"{key}-other", limit, now=start + 3) == 0
        assert hit(key, limit, now=start + 40) == 0  # a new window


def test_housekeeping_keeps_each_keys_latest_window_only(make_app):
    from sqlalchemy import select

    from app import housekeeping
    from app.clock import utcnow
    from app.extensions import db
    from app.limits import RateCounter

    app = make_app(REDIS_URL=None)
    limit = Limit(5, 60)
    start = 60.0 * 16_667
    with app.app_context():
        for offset in (0, 60, 120):  # three windows of one key
            hit("test:often", limit, now=start + offset)
        hit("test:once", limit, now=start)  # one window of another, long gone by
        assert len(db.session.scalars(select(RateCounter)).all()) == 4
        assert housekeeping.run(utcnow())["rate windows cleared"] == 2
        kept = {(row.key.split(":")[1], row.window) for row in db.session.scalars(select(RateCounter))}
        assert kept == {("often", 16_669), ("once", 16_667)}
        assert hit("test:often", limit, now=start + 121) == 0  # the current window counts on: 2 of 5
        assert db.session.scalar(select(RateCounter.hits).where(RateCounter.window == 16_669)) == 2


def _probe_app(make_app, **config):
    app = make_app(**config)

    @app.post("/probe")
    @acting_device_required("probe", "2 per minute")
    def probe():
        return "done"

    return app


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_actions_are_limited_per_device_and_refused_to_read_only_browsers(make_app, backend):
    # Each test's database numbers kiosks from 1: a fresh namespace keeps Redis counts apart.
    redis_config = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_NAMESPACE": f"test-{uuid.uuid4().hex}"}
    app = _probe_app(make_app, **(redis_config if backend == "redis" else {"REDIS_URL": None}))
    with app.app_context():
        _a, token_a = enrolled_kiosk(f"A-{uuid.uuid4().hex[:6]}")
        _b, token_b = enrolled_kiosk(f"B-{uuid.uuid4().hex[:6]}")
    kiosk_a, kiosk_b, browser = app.test_client(), app.test_client(), app.test_client()
    kiosk_a.set_cookie(DEVICE_COOKIE, token_a)
    kiosk_b.set_cookie(DEVICE_COOKIE, token_b)

    refused = browser.post("/probe", headers={"Accept-Language": "en"})
    assert refused.status_code == 403 and "This screen can only show information" in refused.get_data(as_text=True)

    assert [kiosk_a.post("/probe").status_code for _ in range(2)] == [200, 200]
    limited = kiosk_a.post("/probe")
    assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
    assert "请等" in limited.get_data(as_text=True)
    assert kiosk_b.post("/probe").status_code == 200


ENDINGS = {"commits": 200, "rolls back": 200, "aborts": 409, "only reads": 200}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_hit_is_kept_once_whatever_the_action_does(make_app, ending):
    """On PostgreSQL the hit commits with the action: an action that rolls back, aborts or
    only reads still has its hit counted (once), and one that commits takes one transaction
    where SQLite's takes two (the hit commits at once there)."""
    from flask import abort
    from sqlalchemy import event, select

    from app.communities.models import Community
    from app.extensions import db
    from app.limits import RateCounter

    app = make_app(REDIS_URL=None)

    @app.post("/probe")
    @acting_device_required("probe", "2 per minute")
    def probe():
        db.session.execute(select(Community.id)).all()  # in the hit's transaction
        if ending == "commits":
            db.session.commit()
        elif ending == "rolls back":
            db.session.rollback()
        elif ending == "aborts":
            abort(409)
        return "done"

    with app.app_context():
        _kiosk, token = enrolled_kiosk()
        engine = db.engine
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, token)
    commits = []

    def committed(connection):
        commits.append(connection)

    event.listen(engine, "commit", committed)
    try:
        first = client.post("/probe")
        committed_by_first = len(commits)
        answers = [first.status_code] + [client.post("/probe").status_code for _ in range(2)]
    finally:
        event.remove(engine, "commit", committed)
    assert answers == [ENDINGS[ending], ENDINGS[ending], 429]  # a hit counted twice would refuse the second
    if ending == "commits":
        assert committed_by_first == (1 if ON_POSTGRES else 2)
    with app.app_context():
        assert db.session.scalars(select(RateCounter.hits).where(RateCounter.key.startswith("probe:"))).all() == [3]


@pytest.fixture
def once_an_hour(make_app):
    """A kiosk client of an app whose probe allows one action an hour (set in config)."""
    app = _probe_app(make_app, RATE_LIMITS={"probe": "1 per hour"})
    with app.app_context():
        _kiosk, token = enrolled_kiosk()
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, token)
    return client


def test_limits_can_be_set_in_config(once_an_hour):
    assert [once_an_hour.post("/probe").status_code for _ in range(2)] == [200, 429]


def test_over_the_limit_htmx_keeps_the_form_and_raises_an_event(once_an_hour):
    client = once_an_hour
    client.post("/probe", headers={"HX-Request": "true"})
    limited = client.post("/probe", headers={"HX-Request": "true"})
    assert limited.status_code == 429 and limited.headers["HX-Reswap"] == "none"
    event = json.loads(limited.headers["HX-Trigger"])["limit-reached"]
    assert event["seconds"] == int(limited.headers["Retry-After"]) > 0


LOOKUPS = ["/c/main/wall/receipt", "/c/main/classes/my", "/c/main/experts/receipt", "/c/main/friends/mine"]


def test_code_lookups_are_limited_per_device_or_address(make_app):
    """Receipts, sign-ups, help requests and cards by code: guessing codes one after another
    meets the wait, across all four lookups together; opening the empty form never does."""
    app = make_app(RATE_LIMITS={"code-lookup": "8 per 10 minutes"})
    phone, other_phone = app.test_client(), app.test_client()
    answers = [phone.get(LOOKUPS[n % 4], query_string={"code": f"{n:08d}"},
                         environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code for n in range(8)]
    assert answers == [200] * 8
    page = phone.get("/c/main/wall/receipt?code=12345678", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "请等" in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    fragment = phone.get("/c/main/friends/mine?code=12345678", headers={"HX-Request": "true"},
                         environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert fragment.status_code == 429 and fragment.headers["HX-Reswap"] == "none"
    assert "limit-reached" in json.loads(fragment.headers["HX-Trigger"])
    for path in LOOKUPS:  # the empty forms still open
        assert phone.get(path, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200
    assert other_phone.get("/c/main/classes/my?code=12345678",
                           environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 200

    with app.app_context():
        _kiosk, token = enrolled_kiosk()
    kiosk = app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, token)  # a kiosk counts as itself, whatever its address
    assert kiosk.get("/c/main/experts/receipt?code=12345678",
                     environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200

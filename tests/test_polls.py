"""Unchanged polls answered before Flask (app/polls.py): every answer equals Flask's own
(FAST_POLLS off, same database), and the unchanged ones never reach Flask."""

import re
import time

import pytest
from flask import request_started

from datetime import timedelta

from app.classes import services as classes
from app.clock import utcnow
from app.notices import services as notices
from app.communities import scope
from app.communities.services import create_community
from app.kiosk import devices
from app.kiosk.devices import DEVICE_COOKIE
from app.wall import services as wall
from tests.classes.test_routes import new_course
from tests.factories import enrolled_kiosk

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/c/main/wall/"}


@pytest.fixture
def apps(make_app):
    """The app as served, and the same app on the same database with the fast path off."""
    fast, flask_only = make_app(), make_app(FAST_POLLS=False)
    reached = []
    request_started.connect(lambda sender, **_: reached.append(1), fast, weak=False)
    return fast, flask_only, reached


def _post(wall, text):
    receipt = wall.create_post("greeting", text, posted_by="kiosk:1")
    wall.approve(wall.receipt(receipt.code).id, None)


def _world(app):
    with app.app_context():
        _post(wall, "楼下的桂花开了")
        course = new_course()
        second = create_community("second", "第二社区")
        _here, here_token = enrolled_kiosk("大厅")
        with scope.within(second):
            there_id, there_token = enrolled_kiosk("二社区大厅")
            gone_id, gone_token = enrolled_kiosk("已停用")
            devices.revoke(gone_id)
        return {"wall": wall.version(), "course": course, "revision": classes.revision(course),
                "here": here_token, "there": there_token, "there_id": there_id, "gone": gone_token}


# A page Flask renders carries a CSRF token of its own, and its session cookie with it.
_TOKENS = re.compile(rb'(X-CSRFToken&#34;: &#34;|X-CSRFToken": "|name="csrf_token" value=")[^"&]+')


def _answer(app, path, *, token=None, headers=HTMX, https=False, session_locale=None):
    client = app.test_client()
    if token:
        client.set_cookie(DEVICE_COOKIE, token)
    if session_locale:
        with client.session_transaction() as session:
            session["locale"] = session_locale
    response = client.get(path, headers=headers, base_url="https://localhost" if https else "http://localhost")
    headers = sorted((name, value.split("=")[0] if name == "Set-Cookie" else value)
                     for name, value in response.headers.items())
    return response.status_code, headers, _TOKENS.sub(rb"\1-", response.get_data())


def test_every_answer_is_flasks_own_and_unchanged_polls_skip_flask(apps):
    fast, flask_only, reached = apps
    world = _world(fast)
    wall_poll = f"/c/main/wall/live?v={world['wall']}"
    seats = f"/c/main/classes/{world['course']}/seats?v={world['revision']}"
    # (path, device cookie, headers, https), and whether Flask answers it.
    cases = [
        (wall_poll, None, HTMX, False, False),
        (wall_poll + "&kind=greeting", None, HTMX, False, False),
        (wall_poll, world["here"], HTMX, False, False),
        (wall_poll, world["gone"], HTMX, False, False),      # a revoked kiosk reads as a passer-by
        (wall_poll, "not-a-token", HTMX, False, False),
        (wall_poll, None, HTMX, True, False),                # over HTTPS: HSTS as well
        (seats, world["here"], HTMX, False, False),
        (wall_poll, world["there"], HTMX, False, True),      # another community's kiosk: 404
        (seats, world["there"], HTMX, False, True),
        ("/c/main/wall/live?v=999", None, HTMX, False, True),  # changed: the list
        (f"/c/main/classes/{world['course']}/seats?v=0", None, HTMX, False, True),
        (f"/c/main/classes/{world['course'] + 50}/seats?v=1", None, HTMX, False, True),  # no such course
        ("/c/main/classes/99999999999/seats?v=1", None, HTMX, False, True),  # past INTEGER
        (f"/c/second/wall/live?v={world['wall']}", None, HTMX, False, True),  # second's wall is at 0
        ("/c/second/wall/live?v=0", world["there"], HTMX, False, False),
        (f"/c/nowhere/wall/live?v={world['wall']}", None, HTMX, False, True),
        (wall_poll + "&kind=%00", None, HTMX, False, True),   # a NUL: refused by Flask's checks
        (wall_poll + "&other=1", None, HTMX, False, True),
        (wall_poll + f"&v={world['wall']}", None, HTMX, False, True),
        (wall_poll, None, {**HTMX, "HX-Current-URL": "http://localhost/c/main/\u202ewall/"}, False, True),
        (f"/wall/live?v={world['wall']}", None, HTMX, False, True),  # no community: a redirect
    ]
    for path, token, headers, https, through_flask in cases:
        reached.clear()
        answer = _answer(fast, path, token=token, headers=headers, https=https)
        assert answer == _answer(flask_only, path, token=token, headers=headers, https=https), path
        assert bool(reached) is through_flask, (path, token)
    assert _answer(fast, wall_poll)[0] == 204
    assert ("Strict-Transport-Security", "max-age=31536000") in _answer(fast, wall_poll, https=True)[1]
    assert _answer(fast, wall_poll, token=world["there"])[0] == 404


def test_a_change_is_seen_at_the_next_poll(apps):
    fast, _flask_only, reached = apps
    world = _world(fast)
    client = fast.test_client()
    assert client.get(f"/c/main/wall/live?v={world['wall']}", headers=HTMX).status_code == 204
    with fast.app_context():
        _post(wall, "晚上广场有电影")
        classes.set_status(world["course"], "close")
    reached.clear()
    changed = client.get(f"/c/main/wall/live?v={world['wall']}", headers=HTMX)
    assert changed.status_code == 200 and "晚上广场有电影" in changed.get_data(as_text=True) and reached
    seats = client.get(f"/c/main/classes/{world['course']}/seats?v={world['revision']}", headers=HTMX)
    assert seats.status_code == 200


def test_a_kiosk_polling_with_the_same_cookies_is_read_afresh_each_time(apps):
    """The layer keeps what a Cookie header says (the device token's digest, the session's
    language), never what the database said of it: another community's kiosk, revoked
    between two polls with the same cookies, reads as a passer-by at the next one; an
    urgent notice edited between two polls changes the banner's version at the next one."""
    fast, _flask_only, reached = apps
    world = _world(fast)
    client = fast.test_client()
    client.set_cookie(DEVICE_COOKIE, world["there"])
    wall_poll = f"/c/main/wall/live?v={world['wall']}"
    assert client.get(wall_poll, headers=HTMX).status_code == 404 and reached
    with fast.app_context(), scope.within(2):
        devices.revoke(world["there_id"])
    reached.clear()
    assert client.get(wall_poll, headers=HTMX).status_code == 204 and not reached
    with fast.app_context():
        notice_id = notices.add_notice("停水通知", urgent=True, starts_at=utcnow() - timedelta(hours=1),
                                       ends_at=utcnow() + timedelta(hours=2))
        before = _urgent("zh_Hans")
    urgent_poll = f"/c/main/notices/urgent?v={before}"
    assert client.get(urgent_poll, headers=HTMX).status_code == 204
    with fast.app_context(), scope.within(1):
        data = notices.form_data(notices.get_notice(notice_id))
        notices.save_notice(notice_id, notices.NoticeData(title="停水通知（延长）", urgency="urgent",
                                                          starts_at=data["starts_at"], ends_at=data["ends_at"]))
        assert _urgent("zh_Hans") != before
    reached.clear()
    assert client.get(urgent_poll, headers=HTMX).status_code == 200 and reached


def _urgent(locale):
    with scope.within(1):
        return notices.urgent_version(locale)


def test_the_urgent_banners_poll_in_each_language(apps):
    fast, flask_only, reached = apps
    world = _world(fast)
    with fast.app_context():
        quiet = _urgent("zh_Hans")
        notices.add_notice("停水通知", title_en="Water off", urgent=True, starts_at=utcnow() - timedelta(hours=1),
                           ends_at=utcnow() + timedelta(hours=2))
        notices.add_notice("明天停电", urgent=True, starts_at=utcnow() + timedelta(hours=20))  # not yet
        notices.add_notice("旧的通知", urgent=True, starts_at=utcnow() - timedelta(days=2),
                           ends_at=utcnow() - timedelta(days=1))  # over
        zh, en = _urgent("zh_Hans"), _urgent("en")
        with scope.within(2):
            notices.add_notice("二社区停水", urgent=True)
    assert len({quiet, zh, en}) == 3
    chinese, english = {**HTMX, "Accept-Language": "zh-CN,zh;q=0.9"}, {**HTMX, "Accept-Language": "en-GB,en;q=0.8"}
    cases = [
        (f"/c/main/notices/urgent?v={zh}", chinese, None, None, False),
        (f"/c/main/notices/urgent?v={zh}", {**HTMX}, None, None, False),  # the site's language
        (f"/c/main/notices/urgent?v={en}", english, None, world["here"], False),
        (f"/c/main/notices/urgent?v={en}", chinese, "en", world["here"], False),  # the session's choice
        (f"/c/main/notices/urgent?v={zh}", english, None, None, True),  # another language: the banner
        (f"/c/main/notices/urgent?v={zh}", chinese, "en", None, True),
        (f"/c/main/notices/urgent?v={quiet}", chinese, None, None, True),  # the banner changed
        (f"/c/main/notices/urgent?v={zh}", chinese, None, world["there"], True),
        (f"/c/second/notices/urgent?v={quiet}", chinese, None, None, True),
    ]
    for path, headers, session_locale, token, through_flask in cases:
        reached.clear()
        answer = _answer(fast, path, token=token, headers=headers, session_locale=session_locale)
        assert answer == _answer(flask_only, path, token=token, headers=headers, session_locale=session_locale), path
        assert bool(reached) is through_flask, (path, headers, session_locale)
        assert (answer[0] == 204) is not through_flask, path
    with fast.app_context(), scope.within(2):
        assert notices.urgent_version("zh_Hans") != quiet


def test_a_session_too_old_for_flask_no_longer_chooses_the_language(make_app):
    fast = make_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    flask_only = make_app(FAST_POLLS=False, PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    with fast.app_context():
        notices.add_notice("停水通知", title_en="Water off", urgent=True)
        en = _urgent("en")
    path, chinese = f"/c/main/notices/urgent?v={en}", {**HTMX, "Accept-Language": "zh-CN"}
    client, flask_client = fast.test_client(), flask_only.test_client()
    for each in (client, flask_client):
        with each.session_transaction() as session:
            session["locale"] = "en"
    assert client.get(path, headers=chinese).status_code == flask_client.get(path, headers=chinese).status_code == 204
    time.sleep(2.1)
    assert client.get(path, headers=chinese).status_code == flask_client.get(path, headers=chinese).status_code == 200

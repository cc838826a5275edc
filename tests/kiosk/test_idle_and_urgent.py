"""The shared screen looking after itself, through HTTP: the idle reset and its timings,
and the urgent-notice banner with its 204 poll."""

import re
import time as clock
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.clock import utcnow
from app.extensions import db
from app.kiosk import devices, handoff
from app.kiosk.models import Kiosk
from app.notices import services as notices
from app.staff.models import StaffSession
from tests.factories import STAFF_PASSWORD, enrolled_kiosk, staff_member

HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
IDLE = re.compile(r'data-idle="(\d+)" data-idle-warning="(\d+)" data-attract="(\d+)"')


def enrolled(app, name: str = "大厅"):
    with app.app_context():
        _kiosk_id, token = enrolled_kiosk(name)
    client = app.test_client()
    client.set_cookie(devices.DEVICE_COOKIE, token)
    return client


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --- the idle reset ------------------------------------------------------------------------------

def test_reset_forgets_language_large_text_and_staff_without_needing_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        staff_member("coord", "admin")
    screen = enrolled(app)
    token = csrf_token(screen.get("/c/main/").get_data(as_text=True))
    assert screen.post("/large-text", data={"next": "/"}).status_code == 400  # CSRF is on here
    signed_in = screen.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD,
                                                    "csrf_token": token})
    assert signed_in.status_code == 303
    token = csrf_token(screen.get("/c/main/").get_data(as_text=True))  # signing in starts a new session
    assert screen.post("/language", data={"locale": "en", "next": "/", "csrf_token": token}).status_code == 303
    assert screen.post("/large-text", data={"next": "/", "csrf_token": token}).status_code == 303
    before = html_tag(screen.get("/c/main/").get_data(as_text=True))
    assert 'lang="en"' in before and "large-text" in before and "data-fresh" not in before
    assert screen.get("/staff/kiosks").status_code == 200
    signed_in_cookie = screen.get_cookie("session").value

    reset = screen.post("/reset")
    assert reset.status_code == 303 and reset.headers["Location"] == "/c/main/"
    after = html_tag(screen.get("/c/main/").get_data(as_text=True))
    assert 'lang="zh-Hans"' in after and 'class="kiosk"' in after and "data-fresh" in after
    assert screen.get("/staff/kiosks").status_code == 302  # signed out
    # The session ended on the server too: the cookie from before the reset opens nothing.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession)
                                 .where(StaffSession.ended_at.is_(None))) == 0
    replayed = app.test_client()
    replayed.set_cookie("session", signed_in_cookie)
    assert replayed.get("/staff/kiosks").status_code == 302

    # Any browser may start over, by htmx too, with no token at all.
    assert app.test_client().post("/reset", headers=HTMX).status_code == 303


def test_idle_timings_are_only_on_an_enrolled_kiosks_own_pages(make_app):
    app = make_app(KIOSK_IDLE_SECONDS=45, KIOSK_IDLE_WARNING_SECONDS=15, KIOSK_ATTRACT_SECONDS=120)
    screen, browser = enrolled(app), app.test_client()
    for url in ("/c/main/", "/c/main/wall/", "/c/main/wall/new", "/c/main/notices/", "/c/main/classes/",
                "/c/main/experts/", "/c/main/friends/"):
        page = screen.get(url).get_data(as_text=True)
        assert IDLE.search(html_tag(page)).groups() == ("45", "15", "120"), url
        assert 'id="idle"' in page and '<form id="start-over" method="post" action="/reset"' in page, url
        assert 'hx-get="/c/main/attract"' in page, url
        other = browser.get(url).get_data(as_text=True)
        assert "data-idle" not in other and 'id="idle"' not in other and "/reset" not in other, url

    with app.app_context():
        staff_member("coord", "admin")
    screen.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD})
    for url in ("/staff/", "/staff/kiosks", "/staff/notices"):
        console = screen.get(url)
        assert console.status_code == 200, url
        assert "data-idle" not in console.get_data(as_text=True), url

    # A phone carrying on a form from this kiosk never starts over by itself either.
    with app.app_context():
        _handoff, token = handoff.start(db.session.scalar(select(Kiosk)), "wall-post", "/c/main/wall/new",
                                        MultiDict({"kind": "wish", "text": "希望有个读书会"}))
    phone = app.test_client()
    assert phone.get(f"/c/main/h/{token}").status_code == 303
    page = phone.get("/c/main/wall/new").get_data(as_text=True)
    assert "希望有个读书会" in page and "data-idle" not in page


def test_data_fresh_marks_only_a_screen_with_nothing_to_forget(kiosk_client):
    def fresh() -> bool:
        return "data-fresh" in html_tag(kiosk_client.get("/c/main/").get_data(as_text=True))

    assert fresh()
    kiosk_client.post("/large-text", data={"next": "/"})
    assert not fresh()
    kiosk_client.post("/large-text", data={"next": "/"})
    assert fresh()  # back to the usual size: nothing to forget
    kiosk_client.post("/language", data={"locale": "en", "next": "/"})
    assert not fresh()
    kiosk_client.post("/reset")
    assert fresh()


def test_a_staff_member_signed_in_at_a_kiosk_is_something_to_forget(kiosk_client, run_in_app):
    """app.js never counts down to the reset on a "fresh" home page, so a staff member
    signed in at the kiosk must make the home page not fresh, or stay signed in for good."""
    def fresh() -> bool:
        return "data-fresh" in html_tag(kiosk_client.get("/c/main/").get_data(as_text=True))

    run_in_app(staff_member, "coord", "admin")
    kiosk_client.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD})
    assert kiosk_client.get("/staff/kiosks").status_code == 200
    assert not fresh()
    kiosk_client.post("/reset")
    assert fresh() and kiosk_client.get("/staff/kiosks").status_code == 302


# --- the urgent banner ---------------------------------------------------------------------------

def banner_poll(page: str) -> str:
    return re.search(r'<div id="urgent" class="urgent-area" hx-get="(/c/main/notices/urgent\?v=\w+)"', page).group(1)


def banner_titles(fragment: str) -> list[str]:
    return re.findall(r'<span class="urgent-title">([^<]*)</span>', fragment)


def test_the_urgent_poll_answers_204_until_an_urgent_notice_starts_or_ends(app, kiosk_client, run_in_app):
    t0 = utcnow()
    ending = run_in_app(notices.add_notice, "暂时停电", urgent=True, starts_at=t0 - timedelta(hours=1),
                        ends_at=t0 + timedelta(seconds=2))
    run_in_app(notices.add_notice, "马上停水", urgent=True, starts_at=t0 + timedelta(seconds=1),
               ends_at=t0 + timedelta(hours=1))
    page = kiosk_client.get("/c/main/").get_data(as_text=True)
    poll = banner_poll(page)
    assert banner_titles(page) == ["暂时停电"]
    assert kiosk_client.get(poll).status_code == 204

    # Notices that are not urgent, not started or already over change nothing.
    run_in_app(notices.add_notice, "普通通知", starts_at=t0 - timedelta(hours=1))
    run_in_app(notices.add_notice, "下周紧急", urgent=True, starts_at=t0 + timedelta(days=7),
               ends_at=t0 + timedelta(days=8))
    run_in_app(notices.add_notice, "上周紧急", urgent=True, starts_at=t0 - timedelta(days=8),
               ends_at=t0 - timedelta(days=7))
    assert kiosk_client.get(poll).status_code == 204

    clock.sleep(max(0.0, (t0 + timedelta(seconds=1.2) - utcnow()).total_seconds()))
    started = kiosk_client.get(poll)
    fragment = started.get_data(as_text=True)
    assert started.status_code == 200 and fragment.lstrip().startswith('<div id="urgent"')
    assert banner_titles(fragment) == ["马上停水", "暂时停电"]  # the newest first
    assert f'id="urgent-{ending}"' in fragment
    poll = banner_poll(fragment)
    assert kiosk_client.get(poll).status_code == 204

    clock.sleep(max(0.0, (t0 + timedelta(seconds=2.2) - utcnow()).total_seconds()))
    ended = kiosk_client.get(poll)
    assert ended.status_code == 200 and banner_titles(ended.get_data(as_text=True)) == ["马上停水"]
    poll = banner_poll(ended.get_data(as_text=True))
    assert kiosk_client.get(poll).status_code == 204


def test_the_urgent_poll_notices_edits_ending_early_and_another_language(app, client, run_in_app):
    now = utcnow()
    notice_id = run_in_app(notices.add_notice, "明天停水", urgent=True, title_en="No water tomorrow",
                           starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=5))
    poll = banner_poll(client.get("/c/main/").get_data(as_text=True))
    assert client.get(poll).status_code == 204

    english = client.get(poll, headers=EN)
    assert english.status_code == 200 and banner_titles(english.get_data(as_text=True)) == ["No water tomorrow"]
    assert client.get(banner_poll(english.get_data(as_text=True)), headers=EN).status_code == 204

    def edit():
        notice = notices.get_notice(notice_id)
        data = notices.form_data(notice)
        notices.save_notice(notice_id, notices.NoticeData(
            title="明天停水（改到下午）", body=data["body"], title_en=data["title_en"], urgency="urgent",
            starts_at=data["starts_at"], ends_at=data["ends_at"]))

    run_in_app(edit)
    edited = client.get(poll)
    assert edited.status_code == 200 and banner_titles(edited.get_data(as_text=True)) == ["明天停水（改到下午）"]
    poll = banner_poll(edited.get_data(as_text=True))
    assert client.get(poll).status_code == 204

    run_in_app(notices.end_notice, notice_id)
    ended = client.get(poll)
    assert ended.status_code == 200 and banner_titles(ended.get_data(as_text=True)) == []
    assert client.get(banner_poll(ended.get_data(as_text=True))).status_code == 204


def test_the_banner_tops_full_kiosk_pages_but_not_main_fragments(client, kiosk_client, run_in_app):
    now = utcnow()
    run_in_app(notices.add_notice, "明天停水", urgent=True, starts_at=now - timedelta(hours=1),
               ends_at=now + timedelta(hours=5))
    for screen in (client, kiosk_client):
        for url in ("/c/main/", "/c/main/wall/", "/c/main/notices/", "/c/main/classes/", "/c/main/experts/",
                    "/c/main/friends/"):
            page = screen.get(url).get_data(as_text=True)
            assert page.count('id="urgent"') == 1, url
            assert page.index("<body") < page.index('id="urgent"') < page.index('<header class="kiosk-bar"'), url
            assert banner_titles(page) == ["明天停水"], url
            fragment = screen.get(url, headers={**HTMX, "HX-Target": "main"}).get_data(as_text=True)
            assert '<main id="main"' in fragment and 'id="urgent"' not in fragment, url
            assert "urgent-banner" not in fragment, url

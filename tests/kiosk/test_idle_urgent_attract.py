"""The shared screen looking after itself, through HTTP: the idle reset and its timings,
the attract loop's slides, and the urgent-notice banner with its 204 poll."""

import re
import time as clock
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.classes import services as classes
from app.classes.models import Session
from app.clock import from_site, site_today, to_site, utcnow
from app.experts import services as experts
from app.extensions import db
from app.kiosk import devices, handoff
from app.kiosk.models import Kiosk
from app.notices import services as notices
from app.staff.models import StaffSession
from app.wall import services as wall
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
    token = csrf_token(screen.get("/").get_data(as_text=True))
    assert screen.post("/large-text", data={"next": "/"}).status_code == 400  # CSRF is on here
    signed_in = screen.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD,
                                                    "csrf_token": token})
    assert signed_in.status_code == 303
    token = csrf_token(screen.get("/").get_data(as_text=True))  # signing in starts a new session
    assert screen.post("/language", data={"locale": "en", "next": "/", "csrf_token": token}).status_code == 303
    assert screen.post("/large-text", data={"next": "/", "csrf_token": token}).status_code == 303
    before = html_tag(screen.get("/").get_data(as_text=True))
    assert 'lang="en"' in before and "large-text" in before and "data-fresh" not in before
    assert screen.get("/staff/kiosks").status_code == 200
    signed_in_cookie = screen.get_cookie("session").value

    reset = screen.post("/reset")
    assert reset.status_code == 303 and reset.headers["Location"] == "/"
    after = html_tag(screen.get("/").get_data(as_text=True))
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
    for url in ("/", "/wall/", "/wall/new", "/notices/", "/classes/", "/experts/", "/friends/"):
        page = screen.get(url).get_data(as_text=True)
        assert IDLE.search(html_tag(page)).groups() == ("45", "15", "120"), url
        assert 'id="idle"' in page and '<form id="start-over" method="post" action="/reset"' in page, url
        assert 'hx-get="/attract"' in page, url
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
        _handoff, token = handoff.start(db.session.scalar(select(Kiosk)), "wall-post", "/wall/new",
                                        MultiDict({"kind": "wish", "text": "希望有个读书会"}))
    phone = app.test_client()
    assert phone.get(f"/h/{token}").status_code == 303
    page = phone.get("/wall/new").get_data(as_text=True)
    assert "希望有个读书会" in page and "data-idle" not in page


def test_data_fresh_marks_only_a_screen_with_nothing_to_forget(kiosk_client):
    def fresh() -> bool:
        return "data-fresh" in html_tag(kiosk_client.get("/").get_data(as_text=True))

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
        return "data-fresh" in html_tag(kiosk_client.get("/").get_data(as_text=True))

    run_in_app(staff_member, "coord", "admin")
    kiosk_client.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD})
    assert kiosk_client.get("/staff/kiosks").status_code == 200
    assert not fresh()
    kiosk_client.post("/reset")
    assert fresh() and kiosk_client.get("/staff/kiosks").status_code == 302


# --- the attract loop -----------------------------------------------------------------------------

def course_meeting(title: str, *local_starts: datetime, draft: bool = False) -> int:
    """A course whose own term starts next week, meeting also at these site-local times."""
    today, local_now = site_today(), to_site(utcnow())
    course = classes.save_course(None, classes.CourseData(
        title=title, title_en="", category="calligraphy", teacher="王老师", venue="二楼",
        capacity=10, mode="first_come", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=20),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    if not draft:
        classes.set_status(course.id, "open")
    for starts in local_starts:
        db.session.add(Session(course_id=course.id, starts_at=from_site(starts), minutes=1))
    db.session.commit()
    return course.id


def listed_experts(*names: str) -> list[int]:
    skill = experts.save_skills([("书法", "calligraphy", "Calligraphy")])[0]
    return [expert.id for expert in experts.save_experts([
        (None, experts.ExpertData(name=f"{name}某", mobile=f"139123456{index:02d}", display_name=name,
                                    skill_ids=[skill.id], consent_on=date(2026, 1, 5), consent_scope="称呼和技能"))
        for index, name in enumerate(names)])]


def test_the_attract_loop_shows_approved_posts_coming_classes_the_expert_of_the_day_and_notices(app, client,
                                                                                              run_in_app):
    with app.app_context():
        shown = wall.create_post("wish", "希望楼下多放几张长椅", nickname="老周", posted_by="kiosk:1")
        wall.approve(wall.receipt(shown.code).id, None)
        wall.create_post("wish", "还没审核的留言", posted_by="kiosk:1")
        monday = datetime.combine(site_today() - timedelta(days=site_today().weekday()), time.min)
        # Monday 00:00 and Sunday 23:58: only the week's first and last two minutes would upset this.
        course_meeting("周一零点的课", monday)  # this week, but over
        course_meeting("周日深夜的课", monday + timedelta(days=6, hours=23, minutes=58))
        course_meeting("下周的课", monday + timedelta(days=7, hours=9))
        course_meeting("草稿里的课", monday + timedelta(days=6, hours=23, minutes=58), draft=True)
    listed = run_in_app(listed_experts, "王老师", "谢老师", "曾老师")
    run_in_app(experts.set_listed, listed[1], False)
    now = utcnow()
    run_in_app(notices.add_notice, "周六社区义诊", starts_at=now - timedelta(hours=1))
    run_in_app(notices.add_notice, "明天停水", urgent=True, starts_at=now - timedelta(hours=2),
               ends_at=now + timedelta(hours=5))
    run_in_app(notices.add_notice, "下周的通知", starts_at=now + timedelta(days=3))
    run_in_app(notices.add_notice, "结束的通知", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))

    response = client.get("/attract")
    loop = response.get_data(as_text=True)
    assert response.status_code == 200 and loop.count('<div class="attract-loop"') == 1
    assert "<html" not in loop and "<main" not in loop  # a fragment for #attract
    assert "希望楼下多放几张长椅" in loop and "老周" in loop and "还没审核的留言" not in loop
    assert "周日深夜的课" in loop
    assert "周一零点的课" not in loop and "下周的课" not in loop and "草稿里的课" not in loop
    of_the_day = run_in_app(lambda: experts.expert_of_the_day(site_today()).display_name)
    assert of_the_day in ("王老师", "曾老师")
    assert re.findall(r'class="slide-name">([^<]+)<', loop) == [of_the_day]
    assert "谢老师" not in loop
    assert loop.index("明天停水") < loop.index("周六社区义诊")
    assert "下周的通知" not in loop and "结束的通知" not in loop


def test_the_attract_loop_says_something_when_the_boards_are_empty(client):
    loop = client.get("/attract", headers=EN).get_data(as_text=True)
    for message in ("Leave a wish, a thank-you or a problem", "No more classes this week",
                    "Neighbours who can help", "No notices right now."):
        assert message in loop


def test_the_expert_of_the_day_stays_all_day_and_takes_listed_experts_in_turn(run_in_app):
    ids = run_in_app(listed_experts, "王老师", "谢老师", "曾老师", "林老师")
    hidden = ids[2]
    run_in_app(experts.set_listed, hidden, False)
    listed = [expert_id for expert_id in ids if expert_id != hidden]

    def on(day: date) -> int:
        return run_in_app(lambda: experts.expert_of_the_day(day).id)

    start = date(2026, 3, 2)
    days = [on(start + timedelta(days=offset)) for offset in range(9)]
    assert days == [on(start + timedelta(days=offset)) for offset in range(9)]  # the same all day
    assert hidden not in days
    for offset in range(0, 9, 3):
        assert sorted(days[offset:offset + 3]) == sorted(listed)  # each listed one in every three days
    assert days[:3] == days[3:6] == days[6:9]

    for expert_id in listed:
        run_in_app(experts.set_listed, expert_id, False)
    assert run_in_app(experts.expert_of_the_day, start) is None


# --- the urgent banner ---------------------------------------------------------------------------

def banner_poll(page: str) -> str:
    return re.search(r'<div id="urgent" class="urgent-area" hx-get="(/notices/urgent\?v=\w+)"', page).group(1)


def banner_titles(fragment: str) -> list[str]:
    return re.findall(r'<span class="urgent-title">([^<]*)</span>', fragment)


def test_the_urgent_poll_answers_204_until_an_urgent_notice_starts_or_ends(app, kiosk_client, run_in_app):
    t0 = utcnow()
    ending = run_in_app(notices.add_notice, "暂时停电", urgent=True, starts_at=t0 - timedelta(hours=1),
                        ends_at=t0 + timedelta(seconds=2))
    run_in_app(notices.add_notice, "马上停水", urgent=True, starts_at=t0 + timedelta(seconds=1),
               ends_at=t0 + timedelta(hours=1))
    page = kiosk_client.get("/").get_data(as_text=True)
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
    poll = banner_poll(client.get("/").get_data(as_text=True))
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
        for url in ("/", "/wall/", "/notices/", "/classes/", "/experts/", "/friends/"):
            page = screen.get(url).get_data(as_text=True)
            assert page.count('id="urgent"') == 1, url
            assert page.index("<body") < page.index('id="urgent"') < page.index('<header class="kiosk-bar"'), url
            assert banner_titles(page) == ["明天停水"], url
            fragment = screen.get(url, headers={**HTMX, "HX-Target": "main"}).get_data(as_text=True)
            assert '<main id="main"' in fragment and 'id="urgent"' not in fragment, url
            assert "urgent-banner" not in fragment, url

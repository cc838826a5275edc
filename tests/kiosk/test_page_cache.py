"""Pages kept as rendered (app/kiosk/page_cache.py): the key is complete. Each thing a
course page shows is changed in turn; after each change the page served from the cache is
the page rendered afresh (an app on the same database with PAGE_CACHE off), and it did
change. Every answer keeps its own CSRF token and the headers every page has."""

import re
import time
from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, update

from app.classes import services as classes
from app.classes.models import Course
from app.clock import utcnow
from app.communities import services as communities
from app.communities import settings
from app.experts import services as experts
from app.experts.models import Expert
from app.extensions import db
from app.kiosk import page_cache
from app.kiosk.devices import DEVICE_COOKIE
from app.households import services as households
from app.households.services import PHONE_COOKIE
from app.notices.services import add_notice
from tests.classes.test_routes import new_course
from tests.factories import enrolled_kiosk

WECHAT = "Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 MicroMessenger/8.0.47"
TOKEN = re.compile(r'(csrf_token" (?:type="hidden" )?value="|"X-CSRFToken": ")([^"]+)"')


def _without_tokens(body: str) -> str:
    return TOKEN.sub(r'\1…"', body)


# The longest of these tests takes about 6 s on the development machine; a loaded CI
# machine may take several times that.
MINUTE_LEFT_S = 25


@pytest.fixture(autouse=True)
def clear_of_the_minute_turn():
    """The minute is in a kept page's key and on its clock: a test that compares a kept page
    with one rendered afresh, or checks that a second ask renders nothing, starts where the
    minute will not turn before it ends (the turn itself is tested with the minute set)."""
    into = time.time() % 60
    if into > 60 - MINUTE_LEFT_S:
        time.sleep(60 - into + 0.05)


@pytest.fixture
def apps(make_app):
    return make_app(), make_app(PAGE_CACHE=False)


def _twin(cached_app, fresh_app, cookies: dict):
    """A client of each app with the same cookies (the same session after the first answer)."""
    clients = []
    for app in (cached_app, fresh_app):
        client = app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        clients.append(client)
    return clients


def _page(client, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return response


def test_every_change_a_course_page_shows_reaches_it(apps, monkeypatch):
    cached_app, fresh_app = apps
    with cached_app.app_context():
        course_id = new_course(title="乐高机器人编程")
        skill = experts.save_skills([("手工", "crafts", "Crafts")])[0]
        expert = experts.save_experts([(None, experts.ExpertData(
            name="李建华", mobile="13900000002", display_name="李老师", skill_ids=[skill.id],
            consent_on=utcnow().date(), consent_scope="称呼和简介"))])[0]
        db.session.execute(update(Course).where(Course.id == course_id).values(teacher_expert_id=expert.id))
        db.session.commit()
        expert_id, kiosk_token = expert.id, enrolled_kiosk("大厅")[1]
        card = households.issue("3号楼", "2单元")[0]
        phone_token = households._bind(db.session.get(households.Household, card.household.id), "code")
    url = f"/c/main/classes/{course_id}"
    screens = {
        "kiosk": ({DEVICE_COOKIE: kiosk_token}, {}),
        "phone": ({PHONE_COOKIE: phone_token}, {"User-Agent": WECHAT}),
        "passer-by": ({}, {}),
    }
    seen = {}
    for screen, (cookies, headers) in screens.items():
        cached, fresh = _twin(cached_app, fresh_app, cookies)
        for variant, extra in (("page", {}), ("seats", {"HX-Request": "true", "HX-Target": "seats"})):
            asked = {**headers, **extra}
            before = _page(cached, url, asked).get_data(as_text=True)
            assert _page(cached, url, asked).get_data(as_text=True) != "" and \
                _without_tokens(_page(cached, url, asked).get_data(as_text=True)) == _without_tokens(before)
            seen[(screen, variant)] = (cached, fresh, asked, before)
    # The screens differ from each other: the layout and who may act are in the key.
    pages = {screen: _without_tokens(seen[(screen, "page")][3]) for screen in screens}
    assert len(set(pages.values())) == 3

    def change(description, do, variants=("page",), screens_=tuple(screens)):
        for screen in screens_:  # each page asked is kept as it is now
            for variant in variants:
                cached, fresh, asked, _before = seen[(screen, variant)]
                seen[(screen, variant)] = (cached, fresh, asked, _page(cached, url, asked).get_data(as_text=True))
        with cached_app.app_context():
            do()
        for screen in screens_:
            for variant in variants:
                cached, fresh, asked, before = seen[(screen, variant)]
                served = _page(cached, url, asked).get_data(as_text=True)
                rendered = _page(fresh, url, asked).get_data(as_text=True)
                assert _without_tokens(served) == _without_tokens(rendered), f"{description}: {screen} {variant} stale"
                assert _without_tokens(served) != _without_tokens(before), f"{description}: {screen} {variant} same"
                seen[(screen, variant)] = (cached, fresh, asked, served)

    def retitle():
        data = classes.form_data(classes.get_course(course_id))
        data.pop("teacher_expert_id")
        classes.save_course(course_id, classes.CourseData(**{**{k: v for k, v in data.items()
                                                               if k in classes.CourseData.__dataclass_fields__},
                                                            "title": "乐高机器人编程（提高班）",
                                                            "teacher_expert_id": expert_id,
                                                            "dates": (), "weekdays": tuple(data["weekdays"])}))

    change("the course is edited", retitle)
    change("a seat is taken", lambda: classes.sign_up(course_id, "王秀英", "13812340001", created_by="kiosk:1"),
           variants=("page", "seats"))
    change("an urgent notice starts", lambda: add_notice("停水通知", "今天下午停水。", urgent=True,
                                                         ends_at=utcnow() + timedelta(hours=3)))
    change("the community is renamed", lambda: communities.rename_community(1, slug="main", name="幸福里新社区"))
    change("the teacher's card leaves the directory",
           lambda: (db.session.execute(update(Expert).where(Expert.id == expert_id).values(state="hidden")),
                    db.session.commit()))
    change("the district sets the kiosks' idle time", lambda: settings.save_district_settings(
        {"KIOSK_IDLE_SECONDS": "300"}), screens_=("kiosk",))
    change("the district's setting is removed", lambda: settings.save_district_settings({}), screens_=("kiosk",))
    change("the kiosk's idle time is set", lambda: settings.save_community_settings(1, {"KIOSK_IDLE_SECONDS": "200"}),
           screens_=("kiosk",))

    # The language and large text: the session's, asked on the same client.
    for screen in screens:
        cached, fresh, asked, before = seen[(screen, "page")]
        english = _page(cached, url, {**asked, "Accept-Language": "en"}).get_data(as_text=True)
        assert "Seats" in english and _without_tokens(english) == _without_tokens(
            _page(fresh, url, {**asked, "Accept-Language": "en"}).get_data(as_text=True))
    cached, fresh, asked, before = seen[("kiosk", "page")]
    for client in (cached, fresh):
        assert client.post("/large-text", data={"next": url}).status_code in (200, 303)
    large = _page(cached, url, asked).get_data(as_text=True)
    assert "large-text" in large and _without_tokens(large) == _without_tokens(_page(fresh, url, asked).get_data(
        as_text=True))

    # The minute is in the key: the next minute renders anew (its clock and "next" move on).
    renders = []
    original = page_cache.make_response
    monkeypatch.setattr(page_cache, "make_response", lambda value: renders.append(1) or original(value))
    _page(cached, url, asked)
    assert renders == []
    monkeypatch.setattr(page_cache, "minute", lambda: 10 ** 9)
    _page(cached, url, asked)
    assert renders == [1]


def test_each_answer_carries_its_own_csrf_token_and_the_usual_headers(apps, run_in_app):
    cached_app, _fresh = apps
    course_id = run_in_app(new_course)
    tokens = set()
    for _ in range(3):
        phone = cached_app.test_client()
        response = _page(phone, f"/c/main/classes/{course_id}", {"User-Agent": WECHAT})
        body = response.get_data(as_text=True)
        tokens.update(token for _, token in TOKEN.findall(body))
        assert response.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" in response.headers
    assert len(tokens) == 3  # three sessions, three tokens, one stored page
    assert len(cached_app.extensions["linli_page_cache"]) == 1


def test_refusals_are_never_kept(apps, run_in_app):
    cached_app, _fresh = apps
    course_id = run_in_app(new_course)
    client = cached_app.test_client()
    assert client.get(f"/c/main/classes/{course_id + 99}").status_code == 404
    assert cached_app.extensions.get("linli_page_cache", {}) == {}


def test_every_change_the_wall_shows_reaches_it(apps):
    """The wall is kept by its board's version: a post approved, a problem's case moving on
    and a post taken down each reach the kept page and its list, for each kind of screen."""
    from app.cases import services as cases
    from app.cases.models import Case, Category
    from app.cases.services import Step
    from app.staff.models import StaffMember
    from app.wall import services as wall
    from tests.factories import staff_member

    cached_app, fresh_app = apps
    with cached_app.app_context():
        kiosk_token = enrolled_kiosk("大厅")[1]
        card = households.issue("3号楼", "2单元")[0]
        phone_token = households._bind(db.session.get(households.Household, card.household.id), "code")
        lighting = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
        moderator = staff_member("mod", "moderator")
    screens = {"kiosk": ({DEVICE_COOKIE: kiosk_token}, {}), "phone": ({PHONE_COOKIE: phone_token},
                                                                     {"User-Agent": WECHAT}),
               "passer-by": ({}, {})}
    asks = {"page": ("/c/main/wall/", {}), "list": ("/c/main/wall/", {"HX-Request": "true", "HX-Target": "wall-list"}),
            "problems": ("/c/main/wall/?kind=problem", {})}
    seen = {}
    for screen, (cookies, headers) in screens.items():
        cached, fresh = _twin(cached_app, fresh_app, cookies)
        for ask, (url, extra) in asks.items():
            _page(cached, url, {**headers, **extra})
            seen[(screen, ask)] = (cached, fresh, url, {**headers, **extra},
                                   _page(cached, url, {**headers, **extra}).get_data(as_text=True))
    kiosk = seen[("kiosk", "page")][0]

    def change(description, do, asked=tuple(asks)):
        for (screen, ask), (cached, fresh, url, headers, _before) in list(seen.items()):
            if ask in asked:  # each page asked is kept as it is now
                seen[(screen, ask)] = (cached, fresh, url, headers, _page(cached, url, headers).get_data(as_text=True))
        with cached_app.app_context():
            do()
        for (screen, ask), (cached, fresh, url, headers, before) in list(seen.items()):
            if ask not in asked:
                continue
            served = _page(cached, url, headers).get_data(as_text=True)
            assert _without_tokens(served) == _without_tokens(_page(fresh, url, headers).get_data(as_text=True)), \
                f"{description}: {screen} {ask} stale"
            assert _without_tokens(served) != _without_tokens(before), f"{description}: {screen} {ask} same"
            seen[(screen, ask)] = (cached, fresh, url, headers, served)

    assert kiosk.post("/c/main/wall/posts", data={"kind": "wish", "text": "希望楼下多放几张长椅"},
                      headers={"HX-Request": "true", "HX-Target": "wall-form"}).status_code == 200
    change("a wish is approved", lambda: wall.approve(db.session.scalar(select(wall.Post.id)), None), ("page", "list"))
    assert kiosk.post("/c/main/cases/", data={"category": lighting, "text": "单元门禁坏了", "place": "9号楼"},
                      headers={"HX-Request": "true", "HX-Target": "case-form"}).status_code == 200

    def problem_approved():
        case = db.session.scalar(select(Case))
        wall.approve(wall.receipt(case.receipt_code).id, None)

    change("a problem goes up", problem_approved)

    def case_moves_on():
        case_id = db.session.scalar(select(Case.id))
        cases.act(case_id, db.session.get(StaffMember, moderator), Step(action="route", level="committee",
                                                                        reply="已通知物业维修"))

    change("its case is routed, with a reply", case_moves_on)
    change("the wish is taken down", lambda: wall.hide(db.session.scalar(select(wall.Post.id).where(
        wall.Post.kind == "wish")), None), ("page", "list"))


def test_a_kept_answer_costs_no_orm_statement_and_no_render(apps, run_in_app, monkeypatch):
    cached_app, _fresh = apps
    course_id = run_in_app(new_course)
    with cached_app.app_context():
        kiosk_token = enrolled_kiosk("大厅")[1]
        engine = db.engine
    kiosk = cached_app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, kiosk_token)
    url = f"/c/main/classes/{course_id}"
    first = _page(kiosk, url, {})
    statements, renders = [], []
    listen = lambda *_args, **_kwargs: statements.append(1)  # noqa: E731
    sqlalchemy_event.listen(engine, "before_cursor_execute", listen)
    original = page_cache.make_response
    monkeypatch.setattr(page_cache, "make_response", lambda value: renders.append(1) or original(value))
    try:
        again = _page(kiosk, url, {})
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", listen)
    assert statements == [] and renders == []
    assert _without_tokens(again.get_data(as_text=True)) == _without_tokens(first.get_data(as_text=True))


def test_what_the_key_cannot_tell_is_answered_afresh(apps, run_in_app):
    """Signed-in staff, a kiosk of another community and a device token nobody holds are
    never answered from the cache, though the page is kept for everyone else."""
    from app.communities import scope
    from app.communities import services as communities
    from tests.factories import STAFF_PASSWORD, staff_member

    cached_app, _fresh = apps
    course_id = run_in_app(new_course)
    url = f"/c/main/classes/{course_id}"
    with cached_app.app_context():
        east = communities.create_community("east", "东区社区")
        with scope.within(east):
            other_token = enrolled_kiosk("东区大厅")[1]
        staff_member("mod", "moderator")
    passer_by = cached_app.test_client()
    _page(passer_by, url, {})
    _page(passer_by, url, {})
    renders = []
    template_rendered.connect(lambda _app, template, **_: renders.append(template.name), cached_app, weak=False)
    _page(passer_by, url, {})
    assert renders == []
    staff = cached_app.test_client()
    assert staff.post("/staff/sign-in", data={"username": "mod", "password": STAFF_PASSWORD}).status_code == 303
    _page(staff, url, {})
    _page(staff, url, {})
    assert renders == ["classes/course.html"] * 2
    other = cached_app.test_client()
    other.set_cookie(DEVICE_COOKIE, other_token)
    assert other.get(url).status_code == 404
    stranger = cached_app.test_client()
    stranger.set_cookie(DEVICE_COOKIE, "nobody-holds-this")
    _page(stranger, url, {})
    _page(stranger, url, {})
    assert renders == ["classes/course.html"] * 2 + ["errors.html"] + ["classes/course.html"] * 2

"""Continue on my phone, through HTTP: a kiosk hands what was typed to a one-time link,
the first phone to open it gets the same form filled in and may send that one form, as
the kiosk, once; everything else stays read-only for it."""

import hashlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, time, timedelta
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from app import housekeeping
from app.cases import services as cases
from app.cases.models import Category
from app.classes import services as classes
from app.classes.models import Signup
from app.clock import site_today, to_site, utcnow
from app.experts import services as experts
from app.experts.models import HelpRequest
from app.extensions import db
from app.kiosk import devices, handoff
from app.kiosk.models import Handoff, Kiosk
from app.friends import services as friends
from app.security import token_digest
from app.wall.models import Post
from tests.factories import enrolled_kiosk

HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
KIOSK_ORIGIN = "http://kiosk.lan"
WALL_POST = {"kind": "suggestion", "text": "三号楼电梯旁能不能放一把椅子，方便老人等电梯", "nickname": "老周"}


@dataclass
class Screen:
    id: int
    client: FlaskClient


def enrolled(app, name: str = "大厅") -> Screen:
    with app.app_context():
        kiosk_id, token = enrolled_kiosk(name)
    client = app.test_client()
    client.set_cookie(devices.DEVICE_COOKIE, token)
    return Screen(kiosk_id, client)


@pytest.fixture
def kiosk(app) -> Screen:
    return enrolled(app)


def link_for(app, kiosk_id: int, form_key: str, path: str, fields: dict) -> str:
    """A handoff made as the kiosk's button makes it; the link its QR code shows."""
    with app.app_context():
        _record, token = handoff.start(db.session.get(Kiosk, kiosk_id), form_key, path, MultiDict(
            [(name, item) for name, value in fields.items()
             for item in (value if isinstance(value, list) else [value])]))
    return f"/c/main/h/{token}"


def phone_opening(app, link: str) -> FlaskClient:
    phone = app.test_client()
    response = phone.get(link)
    assert response.status_code == 303, response.status_code
    return phone


def handoffs(app) -> list[Handoff]:
    with app.app_context():
        rows = list(db.session.scalars(select(Handoff).order_by(Handoff.id)))
        db.session.expunge_all()
    return rows


def start_at(client, form_key: str, page: str, data: dict | None = None, **headers):
    return client.post(f"/handoff/{form_key}", data=data or {},
                       headers={**HTMX, "HX-Current-URL": KIOSK_ORIGIN + page, **headers})


def post_to_wall(client, **changes):
    return client.post("/c/main/wall/posts", data={**WALL_POST, **changes}, headers={**HTMX, "HX-Target": "wall-form"})


class FormValues(HTMLParser):
    """What a page's form controls hold: text boxes' values, text areas' text, and the
    values of ticked boxes, chosen radio buttons and selected options, by control name."""

    def __init__(self, page: str):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, []).append("")
        elif tag == "input" and name:
            if attributes.get("type") in ("radio", "checkbox"):
                if "checked" in attributes:
                    self.values.setdefault(name, []).append(attributes.get("value", ""))
            elif attributes.get("type") != "hidden":
                self.values.setdefault(name, []).append(attributes.get("value") or "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.values.setdefault(self._select, []).append(attributes.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_values(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {name: [value.strip() for value in values]
            for name, values in FormValues(response.get_data(as_text=True)).values.items()}


# --- things the forms need -------------------------------------------------------------------

def new_course(title: str = "书法入门") -> int:
    today, local_now = site_today(), to_site(utcnow())
    course = classes.save_course(None, classes.CourseData(
        title=title, title_en="Calligraphy", category="calligraphy", teacher="王老师", venue="二楼书画室",
        capacity=10, mode="first_come", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=48),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    classes.set_status(course.id, "open")
    return course.id


def new_survey() -> list[int]:
    survey = classes.save_survey("下学期想学什么？", ["太极拳", "智能手机", "合唱", "剪纸"])
    classes.set_survey_state(survey.id, "published")
    return [option.id for option in survey.options]


def new_experts() -> list[int]:
    skill = experts.save_skills([("书法", "calligraphy", "Calligraphy")])[0]
    return [expert.id for expert in experts.save_experts([
        (None, experts.ExpertData(name="王秀兰", mobile="13912345601", display_name="王老师", skill_ids=[skill.id],
                                    consent_on=date(2026, 1, 5), consent_scope="称呼和技能")),
        (None, experts.ExpertData(name="谢玉", mobile="13912345602", display_name="谢老师", skill_ids=[skill.id],
                                    consent_on=date(2026, 1, 5), consent_scope="称呼和技能")),
    ])]


def approved_card() -> int:
    receipt = friends.leave_card(friends.CardData(
        gender="female", age_band="30-34", area="东区", interests=["reading"], looking_for="friends", intro="",
        real_name="周晓雯", mobile="13700001234", consent_public=True, consent_matchmaker=True, adult=True),
        created_by="kiosk:0")
    friends.review(friends.card_by_code(receipt.code).id, True)
    return receipt.number


# --- starting a handoff at the kiosk ---------------------------------------------------------

def test_a_kiosk_swaps_its_form_for_a_qr_code_and_keeps_only_the_forms_fields(app, kiosk):
    response = start_at(kiosk.client, "wall-post", "/c/main/wall/new?kind=suggestion",
                        {**WALL_POST, "csrf_token": "a-token-the-page-carried", "adult": "y", "other": "x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="handoff" id="handoff"') and "<svg" in body
    assert WALL_POST["text"] not in body and WALL_POST["nickname"] not in body  # the screen forgets it
    (record,) = handoffs(app)
    assert f'hx-get="/handoff/{record.id}"' in body
    assert (record.kiosk_id, record.form, record.path) == (kiosk.id, "wall-post", "/c/main/wall/new?kind=suggestion")
    assert json.loads(record.fields) == WALL_POST  # never the CSRF token, nor anything not the form's
    assert re.fullmatch(r"[0-9a-f]{64}", record.token_hash)
    assert record.opened_at is None and record.sent_at is None
    lifetime = record.expires_at - record.created_at
    assert lifetime == timedelta(minutes=app.config["HANDOFF_LINK_MINUTES"])

    # A plain form post (no htmx) names its page in the Referer instead.
    plain = kiosk.client.post("/handoff/wall-post", data=WALL_POST,
                              headers={"Referer": KIOSK_ORIGIN + "/c/main/wall/new"})
    assert plain.status_code == 200 and len(handoffs(app)) == 2


def test_only_an_enrolled_kiosk_on_that_forms_page_may_hand_it_over(app, client, kiosk, staff_client, run_in_app):
    course_id = run_in_app(new_course)
    assert start_at(client, "wall-post", "/c/main/wall/new", WALL_POST).status_code == 403
    staff = staff_client("coord", "coordinator")
    assert start_at(staff, "wall-post", "/c/main/wall/new", WALL_POST).status_code == 403
    assert start_at(kiosk.client, "no-such-form", "/c/main/wall/new", WALL_POST).status_code == 404
    for form_key, page in (("wall-post", "/c/main/classes/"), ("wall-post", f"/c/main/classes/{course_id}/sign-up"),
                           ("class-signup", "/c/main/wall/new"), ("class-signup", f"/c/main/classes/{course_id}"),
                           ("wall-post", "/no/such/page")):
        refused = start_at(kiosk.client, form_key, page, WALL_POST, **EN)
        assert refused.status_code == 422, (form_key, page)
        assert "cannot be moved to a phone" in refused.get_data(as_text=True)
    missing = kiosk.client.post("/handoff/wall-post", data=WALL_POST, headers=HTMX)
    assert missing.status_code == 422
    assert handoffs(app) == []


def test_the_token_is_stored_only_as_its_hash(app, kiosk):
    link = link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST)
    token = link.removeprefix("/c/main/h/")
    (record,) = handoffs(app)
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = " ".join(str(getattr(record, column.key)) for column in Handoff.__table__.columns)
    assert token not in stored


# --- opening the link on a phone ---------------------------------------------------------------

def test_the_link_opens_once_on_a_phone_with_what_was_typed(app, kiosk):
    link = link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST)
    phone = app.test_client()
    opened = phone.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/c/main/wall/new"
    values = form_values(phone.get("/c/main/wall/new"))
    assert values["kind"] == ["suggestion"] and values["text"] == [WALL_POST["text"]]
    assert values["nickname"] == [WALL_POST["nickname"]]

    for someone in (app.test_client(), phone):
        again = someone.get(link, headers=EN)
        assert again.status_code == 410 and "This link no longer works" in again.get_data(as_text=True)
    assert form_values(kiosk.client.get("/c/main/wall/new"))["text"] == [""]  # the kiosk's own form is empty


def test_of_phones_opening_one_link_at_once_only_one_gets_it(app, kiosk):
    link = link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST)
    phones = [app.test_client() for _ in range(8)]
    ready = threading.Barrier(len(phones))

    def open_it(phone):
        ready.wait()
        return phone.get(link).status_code

    with ThreadPoolExecutor(len(phones)) as pool:
        statuses = list(pool.map(open_it, phones))
    assert sorted(statuses) == [303] + [410] * 7
    winner = phones[statuses.index(303)]
    assert form_values(winner.get("/c/main/wall/new"))["text"] == [WALL_POST["text"]]
    for phone in phones:
        if phone is not winner:
            assert 'id="wall-form"' not in phone.get("/c/main/wall/new").get_data(as_text=True)


def test_expired_unknown_and_revoked_kiosks_links_do_not_open(app, run_in_app):
    first, second = enrolled(app, "A"), enrolled(app, "B")
    expired = link_for(app, first.id, "wall-post", "/c/main/wall/new", WALL_POST)
    with app.app_context():
        db.session.execute(update(Handoff).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    revoked = link_for(app, second.id, "wall-post", "/c/main/wall/new", WALL_POST)
    run_in_app(devices.revoke, second.id)
    # A link this community made but that is used up answers "gone"; one it never made, 404.
    for link, status in ((expired, 410), (revoked, 410), ("/c/main/h/not-a-token-anyone-was-given", 404)):
        phone = app.test_client()
        assert phone.get(link).status_code == status, link
        assert post_to_wall(phone).status_code == 403, link
        assert 'id="wall-form"' not in phone.get("/c/main/wall/new").get_data(as_text=True)  # read-only
    assert all(record.opened_at is None for record in handoffs(app))


# --- sending from the phone --------------------------------------------------------------------

def test_the_phone_sends_the_form_once_as_the_kiosk_and_what_was_typed_is_deleted(app, kiosk, client):
    phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    invalid = post_to_wall(phone, text="")
    assert invalid.status_code == 422  # a mistake does not use the handoff up
    (record,) = handoffs(app)
    assert record.sent_at is None and json.loads(record.fields) == WALL_POST

    sent = post_to_wall(phone)
    assert sent.status_code == 200 and "wall-post-created" in json.loads(sent.headers["HX-Trigger"])
    with app.app_context():
        post = db.session.scalar(select(Post))
        assert (post.posted_by, post.kind, post.text, post.nickname) == (
            f"kiosk:{kiosk.id}", WALL_POST["kind"], WALL_POST["text"], WALL_POST["nickname"])
    (record,) = handoffs(app)
    assert record.fields == "{}" and record.sent_at is not None

    again = post_to_wall(phone, text="再发一条")
    assert again.status_code == 403 and "这个屏幕只能浏览信息" in again.get_data(as_text=True)
    assert 'id="wall-form"' not in phone.get("/c/main/wall/new").get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Post)).all()) == 1


def test_the_phone_acts_only_for_the_form_course_and_expert_of_its_link(app, kiosk, run_in_app):
    course, other_course = run_in_app(new_course, "书法入门"), run_in_app(new_course, "太极拳")
    expert, other_expert = run_in_app(new_experts)
    signup = {"name": "张三明", "mobile": "13812345678"}
    ask = {"needs": ["learn"], "text": "想学写毛笔字", "name": "林芳", "mobile": "13612345678"}

    wall_phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    assert wall_phone.post(f"/c/main/classes/{course}/sign-up", data=signup, headers=HTMX).status_code == 403
    assert wall_phone.post(f"/c/main/experts/{expert}/ask", data=ask, headers=HTMX).status_code == 403
    assert wall_phone.post("/handoff/wall-post", data=WALL_POST,
                           headers={**HTMX, "HX-Current-URL": KIOSK_ORIGIN + "/c/main/wall/new"}).status_code == 403

    signup_phone = phone_opening(app, link_for(app, kiosk.id, "class-signup", f"/c/main/classes/{course}/sign-up",
                                               signup))
    assert signup["name"] not in signup_phone.get(f"/c/main/classes/{other_course}/sign-up").get_data(as_text=True)
    assert signup_phone.post(f"/c/main/classes/{other_course}/sign-up", data=signup, headers=HTMX).status_code == 403
    assert post_to_wall(signup_phone).status_code == 403
    assert signup_phone.post(f"/c/main/classes/{course}/sign-up", data=signup, headers=HTMX).status_code == 200

    ask_phone = phone_opening(app, link_for(app, kiosk.id, "expert-request", f"/c/main/experts/{expert}/ask", ask))
    assert ask["name"] not in ask_phone.get(f"/c/main/experts/{other_expert}/ask").get_data(as_text=True)
    assert ask_phone.post(f"/c/main/experts/{other_expert}/ask", data=ask, headers=HTMX).status_code == 403
    assert ask_phone.post(f"/c/main/experts/{expert}/ask", data=ask, headers=HTMX).status_code == 200

    with app.app_context():
        signups = db.session.execute(select(Signup.course_id, Signup.created_by, Signup.source)).all()
        requests = db.session.execute(select(HelpRequest.expert_id, HelpRequest.created_by)).all()
        assert db.session.scalar(select(Post)) is None
    assert [tuple(row) for row in signups] == [(course, f"kiosk:{kiosk.id}", "kiosk")]
    assert [tuple(row) for row in requests] == [(expert, f"kiosk:{kiosk.id}")]


def test_the_phone_may_send_only_within_its_window(app, kiosk):
    phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    window = timedelta(minutes=app.config["HANDOFF_PHONE_MINUTES"])
    with app.app_context():
        db.session.execute(update(Handoff).values(opened_at=utcnow() - window - timedelta(seconds=5)))
        db.session.commit()
    assert 'id="wall-form"' not in phone.get("/c/main/wall/new").get_data(as_text=True)
    assert post_to_wall(phone).status_code == 403


def test_revoking_a_kiosk_ends_what_its_phones_may_send(app, kiosk, run_in_app):
    phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    run_in_app(devices.revoke, kiosk.id)
    assert post_to_wall(phone).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Post)) is None


def test_a_phones_posts_count_against_its_kiosks_rate_limit(make_app):
    app = make_app(RATE_LIMITS={"wall-post": "2 per 10 minutes"})
    kiosk, neighbour = enrolled(app, "A"), enrolled(app, "B")
    assert post_to_wall(kiosk.client, text="大屏上的第一条").status_code == 200
    phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    assert post_to_wall(phone).status_code == 200
    late_phone = phone_opening(app, link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST))
    limited = post_to_wall(late_phone)
    assert limited.status_code == 429 and limited.headers["HX-Reswap"] == "none"
    assert post_to_wall(kiosk.client, text="大屏上的第三条").status_code == 429
    assert post_to_wall(neighbour.client, text="另一台大屏").status_code == 200
    # Refused for the limit, the late phone's handoff is not used up.
    assert [record.sent_at is None for record in handoffs(app)] == [False, True]
    with app.app_context():
        posted_by = sorted(db.session.scalars(select(Post.posted_by)))
    assert posted_by == sorted([f"kiosk:{kiosk.id}"] * 2 + [f"kiosk:{neighbour.id}"])


# --- every form, filled in on the phone ------------------------------------------------------

def wall_post(run_in_app):
    return "/c/main/wall/new", WALL_POST


def class_signup(run_in_app):
    return f"/c/main/classes/{run_in_app(new_course)}/sign-up", {"name": "张三明", "mobile": "13812345678"}


def class_survey(run_in_app):
    options = run_in_app(new_survey)
    return "/c/main/classes/survey", {"option": [str(options[0]), str(options[2])]}


def expert_request(run_in_app):
    expert = run_in_app(new_experts)[0]
    return f"/c/main/experts/{expert}/ask", {"needs": ["learn", "home"], "text": "想学写毛笔字", "name": "林芳",
                                      "mobile": "13612345678"}


def friends_card(run_in_app):
    return "/c/main/friends/new", {"gender": "female", "age_band": "30-34", "area": "西区",
                            "interests": ["reading", "films", "chess"], "looking_for": "partner",
                            "intro": "喜欢看书看电影", "real_name": "何丽", "mobile": "13700005678"}


def friends_meet(run_in_app):
    number = run_in_app(approved_card)
    return f"/c/main/friends/{number}/meet", {"own_code": "12345678", "name": "高建军", "mobile": "13900005678"}


def case_report(run_in_app):
    def category_and_grid():
        roads = db.session.scalar(select(Category.id).where(Category.key == "roads"))
        return roads, cases.add_grid("第一网格")

    category, grid = run_in_app(category_and_grid)
    return "/c/main/cases/new", {"category": str(category), "grid": str(grid), "place": "3号楼东门",
                                 "text": "三号楼电梯又坏了，请尽快修"}


SETUPS = {"wall-post": wall_post, "case-report": case_report, "class-signup": class_signup,
          "class-survey": class_survey, "expert-request": expert_request, "friends-card": friends_card,
          "friends-meet": friends_meet}


def test_every_form_that_can_be_handed_over_is_tested_here():
    assert set(SETUPS) == set(handoff.FORMS)


@pytest.mark.parametrize("form_key", list(SETUPS))
def test_the_phone_gets_each_form_filled_in(app, kiosk, run_in_app, form_key):
    page, fields = SETUPS[form_key](run_in_app)
    started = start_at(kiosk.client, form_key, page, {**fields, "csrf_token": "not-kept"})
    assert started.status_code == 200, form_key
    (record,) = handoffs(app)
    assert json.loads(record.fields) == fields  # several ticked boxes stay a list
    at_the_kiosk = kiosk.client.get(page)
    assert f'id="handoff-{form_key}"' in at_the_kiosk.get_data(as_text=True)
    elsewhere = form_values(at_the_kiosk)  # the kiosk's own form starts empty again
    assert not any(set(value if isinstance(value, list) else [value]) & set(elsewhere.get(name, []))
                   for name, value in fields.items()), elsewhere

    # The QR code's token cannot be read back from the page: the phone opens a twin link.
    phone = phone_opening(app, link_for(app, kiosk.id, form_key, page, fields))
    shown = form_values(phone.get(page))
    for name, value in fields.items():
        assert sorted(shown.get(name, [])) == sorted(value if isinstance(value, list) else [value]), (name, shown)


# --- the kiosk waiting for the phone, and housekeeping -------------------------------------------

def test_the_kiosk_learns_when_its_link_was_opened_and_only_its_own(app, client):
    kiosk, other = enrolled(app, "A"), enrolled(app, "B")
    start_at(kiosk.client, "wall-post", "/c/main/wall/new", WALL_POST)
    (record,) = handoffs(app)
    state = f"/handoff/{record.id}"
    assert kiosk.client.get(state).status_code == 204
    assert other.client.get(state).status_code == 404
    assert client.get(state).status_code == 403  # a browser that is no kiosk reads only
    assert kiosk.client.get(f"/handoff/{record.id + 1}").status_code == 404

    link = link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", WALL_POST)
    phone_opening(app, link)
    assert kiosk.client.get(state).status_code == 204  # that was another of its links
    opened_id = handoffs(app)[1].id
    opened = kiosk.client.get(f"/handoff/{opened_id}", headers=EN)
    assert opened.status_code == 200 and "Opened on your phone" in opened.get_data(as_text=True)
    assert json.loads(opened.headers["HX-Trigger"]) == {"kiosk-handoff-opened": {"id": opened_id}}
    assert other.client.get(f"/handoff/{opened_id}").status_code == 404


def test_housekeeping_deletes_handoffs_no_phone_can_use_any_more(app, kiosk, run_in_app):
    window = timedelta(minutes=app.config["HANDOFF_PHONE_MINUTES"])
    links = {name: link_for(app, kiosk.id, "wall-post", "/c/main/wall/new", {**WALL_POST, "text": name})
             for name in ("old", "lately-expired", "live")}
    phone = phone_opening(app, links["lately-expired"])
    now = utcnow()
    with app.app_context():
        for name, expires_at in (("old", now - window - timedelta(minutes=1)),
                                 ("lately-expired", now - timedelta(minutes=5))):
            db.session.execute(update(Handoff)
                               .where(Handoff.token_hash == token_digest(links[name].removeprefix("/c/main/h/")))
                               .values(expires_at=expires_at))
        db.session.commit()
    result = run_in_app(housekeeping.run, now)
    assert result["phone handoffs purged"] == 1
    assert sorted(json.loads(record.fields)["text"] for record in handoffs(app)) == ["lately-expired", "live"]
    # Opened just before it expired, the link's phone still has its window to send in.
    assert post_to_wall(phone, text="lately-expired").status_code == 200
    later = now + window + timedelta(minutes=app.config["HANDOFF_LINK_MINUTES"] + 1)
    assert run_in_app(housekeeping.run, later)["phone handoffs purged"] == 2
    assert handoffs(app) == []


# --- the address in the QR code -----------------------------------------------------------------

@pytest.mark.parametrize(("host", "configured", "expected"), [
    ("192.168.1.20:8000", None, "http://192.168.1.20:8000/c/main/h/x"),
    ("[fe80::1]:8000", None, "http://[fe80::1]:8000/c/main/h/x"),
    ("localhost", None, "http://localhost/c/main/h/x"),
    ("evil.example", None, None),                    # any Host header is not an address to trust
    ("evil.example", "http://10.0.0.5:8000/", "http://10.0.0.5:8000/c/main/h/x"),
    ("192.168.1.20:8000", "http://10.0.0.5:8000", "http://10.0.0.5:8000/c/main/h/x"),
])
def test_phone_links_use_the_configured_address_or_a_trustworthy_one(make_app, host, configured, expected):
    from app.web import phone_url

    app = make_app(HANDOFF_BASE_URL=configured)
    with app.test_request_context("/", base_url=f"http://{host}"):
        assert phone_url("/c/main/h/x") == expected


def test_no_link_is_made_for_a_host_name_nobody_configured(app):
    with app.app_context():
        _kiosk_id, token = enrolled_kiosk("大厅")
    screen = app.test_client()
    screen.set_cookie(devices.DEVICE_COOKIE, token, domain="evil.example")
    refused = screen.post("/handoff/wall-post", data=WALL_POST, base_url="http://evil.example",
                                headers={**HTMX, "HX-Current-URL": "http://evil.example/c/main/wall/new"})
    assert refused.status_code == 422 and "<svg" not in refused.get_data(as_text=True)
    assert handoffs(app) == []

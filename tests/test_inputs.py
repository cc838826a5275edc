"""What any request may carry (app/inputs.py, app/forms.py): control and bidi characters
refused before a view runs, line breaks only where a field allows them, ids that fit the
database, numbers in forms and queries that int() would misread, and `next` targets a
Location header can carry."""

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.audit import AuditEntry
from app.cases.models import Case, Category
from app.classes import services as classes
from app.demo import load_demo_content
from app.errors import MESSAGES
from app.extensions import db
from app.inputs import DB_INT_MAX, INPUT_REFUSED, int_or_none, unusable
from app.wall.models import Post
from tests.factories import STAFF_PASSWORD, staff_member

HTMX = {"HX-Request": "true"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
REFUSED_VALUES = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u202a", "\u2066", "\u2069"]


def translated(app, message, locale: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return str(message)


def posts(run_in_app) -> int:
    return run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Post)))


def wall_post(**changes) -> dict:
    return {"kind": "greeting", "text": "大家新年好！", "nickname": "", **changes}


def case_report(run_in_app, **changes) -> dict:
    roads = run_in_app(lambda: db.session.scalar(select(Category.id).where(Category.key == "roads")))
    return {"category": str(roads), "grid": "", "place": "", "text": "3号楼门口的路灯不亮了", **changes}


def case_count(run_in_app) -> int:
    return run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Case)))


def test_the_rule_for_characters():
    assert all(unusable(value) for value in REFUSED_VALUES)
    assert not any(unusable(value) for value in ("第一行\n第二行\r\n", "\tTab", "王*兰 ²", "\u200b", "Ünïcödé"))


def test_int_or_none_takes_ascii_digits_that_fit_the_database():
    assert [int_or_none(value) for value in ("0", "7", "007", str(DB_INT_MAX))] == [0, 7, 7, DB_INT_MAX]
    refused = ("", "²", "١٢", " 7", "7 ", "+7", "-1", "1_000", "7.0", str(DB_INT_MAX + 1), "9" * 20, None, 7)
    assert [int_or_none(value) for value in refused] == [None] * len(refused)


@pytest.mark.parametrize("value", REFUSED_VALUES)
def test_a_form_with_control_or_bidi_characters_is_refused_and_nothing_stored(app, kiosk_client, run_in_app, value):
    page = kiosk_client.post("/c/main/wall/posts", data=wall_post(nickname=f"王{value}"), headers=ZH)
    assert page.status_code == 422
    assert translated(app, MESSAGES[422][0], "zh_Hans") in page.get_data(as_text=True)
    assert 'lang="zh-Hans"' in page.get_data(as_text=True)

    fragment = kiosk_client.post("/c/main/wall/posts", data=wall_post(text=f"你好{value}"),
                                 headers={**HTMX, **EN, "HX-Target": "wall-form"})
    assert fragment.status_code == 422
    assert fragment.headers["HX-Reswap"] == "none" and "input-refused" in fragment.headers["HX-Trigger"]
    body = fragment.get_data(as_text=True)
    assert re.fullmatch(r'\s*<div id="input-refused" [^>]*hx-swap-oob="true">[^<]+</div>\s*', body), body
    assert translated(app, INPUT_REFUSED, "en") in body
    assert posts(run_in_app) == 0


def test_query_values_names_and_the_htmx_page_url_are_checked_too(client):
    assert client.get("/c/main/experts/?q=%E7%8E%8B%00").status_code == 422
    assert client.get("/c/main/experts/?q%00=1").status_code == 422
    refused = client.get("/c/main/experts/?q=%E2%80%AE", headers=HTMX)
    assert refused.status_code == 422 and 'id="input-refused"' in refused.get_data(as_text=True)
    assert client.get("/c/main/experts/",
                      headers={**HTMX, "HX-Current-URL": "http://localhost/\x01"}).status_code == 422
    assert client.get("/c/main/h/abc%00def").status_code == 404  # a path no link makes


def test_the_refusal_reads_in_chinese_for_a_chinese_browser(app, kiosk_client):
    fragment = kiosk_client.post("/c/main/wall/posts", data=wall_post(text="\x00"), headers={**HTMX, **ZH})
    chinese = translated(app, INPUT_REFUSED, "zh_Hans")
    assert re.search(r"[\u4e00-\u9fff]", chinese) and chinese in fragment.get_data(as_text=True)
    page = kiosk_client.post("/c/main/wall/posts", data=wall_post(text="\x00"), headers=ZH).get_data(as_text=True)
    assert "有些字符不能使用" in page and 'lang="zh-Hans"' in page


def test_the_page_keeps_a_hidden_banner_for_the_refusal(client):
    page = client.get("/c/main/").get_data(as_text=True)
    assert re.search(r'<div id="input-refused" class="banner[^"]*" role="alert" hidden></div>', page)


def test_line_breaks_go_in_text_areas_not_in_one_line_fields(app, kiosk_client, run_in_app):
    assert kiosk_client.post("/c/main/wall/posts", data=wall_post(text="第一行\r\n第二行\t完"),
                             headers=ZH).status_code == 200
    assert posts(run_in_app) == 1
    refused = kiosk_client.post("/c/main/wall/posts", data=wall_post(nickname="3号楼\n王"), headers=EN)
    assert refused.status_code == 422 and "Please write this on one line." in refused.get_data(as_text=True)
    assert posts(run_in_app) == 1
    # A problem's place is one line too (the wall's form no longer asks where: the cases' form does).
    assert kiosk_client.post("/c/main/cases/", data=case_report(run_in_app, text="第一行\r\n第二行"),
                             headers=ZH).status_code == 200
    assert case_count(run_in_app) == 1
    refused = kiosk_client.post("/c/main/cases/", data=case_report(run_in_app, place="3号楼\n东门"), headers=EN)
    assert refused.status_code == 422 and "Please write this on one line." in refused.get_data(as_text=True)
    assert case_count(run_in_app) == 1


def test_huge_ids_are_not_found_on_every_int_route(app, client, kiosk_client):
    rules = [rule for rule in app.url_map.iter_rules()
             if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values())]
    assert len(rules) > 20
    for rule in rules:
        for huge in (str(DB_INT_MAX + 1), "99999999999999999999", "%D9%A3", "%C2%B2"):
            url = re.sub(r"<int:[a-z_]+>", huge, rule.rule)
            url = re.sub(r"<[a-z_]+>", "approve", url)
            method = "get" if "GET" in rule.methods else "post"
            response = getattr(kiosk_client, method)(url)
            # 405: another rule's word took it (/handoff/<form_key> is POST only).
            assert response.status_code in (404, 405), (method, url, response.status_code)
    assert client.get(f"/c/main/classes/{DB_INT_MAX}").status_code == 404  # fits, names no course


def test_a_next_with_a_line_break_falls_back_to_a_safe_page(client, run_in_app):
    for url, data in (("/language", {"locale": "en"}), ("/large-text", {})):
        for target in ("/c/main/wall/\r\nSet-Cookie: x=1", "/c/main/wall/\n", "/c/main/wall/\t", "/c/main/wall/\u2028"):
            response = client.post(url, data={**data, "next": target})
            assert response.status_code == 303 and response.headers["Location"] == "/c/main/", (url, target)
        thanks = client.post(url, data={**data, "next": "/c/main/wall/?kind=thanks"})
        assert thanks.headers["Location"] == "/c/main/wall/?kind=thanks"
    run_in_app(staff_member, "zhao", "admin")
    assert client.get("/staff/?next=%0d%0a").status_code == 200
    signed_in = client.post("/staff/sign-in", data={"username": "zhao", "password": STAFF_PASSWORD,
                                                    "next": "/staff/kiosks\r\nX: y"})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/staff/"


# --- numbers that int() misreads, where the console and the kiosk read them ------------------

@pytest.fixture
def demo(run_in_app):
    run_in_app(load_demo_content)


def first(run_in_app, statement):
    return run_in_app(lambda: db.session.scalar(statement))


def audit_count(run_in_app) -> int:
    return first(run_in_app, select(func.count()).select_from(AuditEntry))


def test_superscripts_and_huge_numbers_are_refused_with_a_message(demo, staff_client, kiosk_client, run_in_app):
    from app.cases import services as cases
    from app.classes.models import Signup, Survey
    from app.experts.models import HelpRequest
    from app.wall import services as wall

    admin = staff_client("admin", "admin")
    # A case that came in with no grid: a grid read from "²" would route it somewhere.
    case_id, case_number = run_in_app(lambda: (lambda case: (case.id, case.number))(cases.take_in(cases.Intake(
        db.session.scalar(select(Category.id).where(Category.key == "roads")), "5号楼前的井盖松了"),
        channel="walk_in", reported_by="staff:0")))
    survey_id = first(run_in_app, select(Survey.id))
    run_in_app(classes.set_survey_state, survey_id, "published")
    post_id = run_in_app(lambda: wall.queue("waiting")[0].id)
    waitlisted = first(run_in_app, select(Signup.id).where(Signup.state == "waitlisted"))
    request_id = first(run_in_app, select(HelpRequest.id).where(HelpRequest.state == "new"))
    before = audit_count(run_in_app)
    refusals = [
        (kiosk_client, f"/c/main/classes/survey/{survey_id}", {"option": "²"}, "Please tap only the choices shown."),
        (admin, "/staff/wall/approve-many", {"post": ["²", str(post_id)]}, "Please tick posts in the list."),
        (admin, f"/staff/cases/{case_number}", {"action": "route", "level": "grid", "grid": "²"},
         "Please choose the grid."),
        (admin, f"/staff/cases/{case_number}", {"action": "route", "level": "grid", "grid": "99999999999999999999"},
         "Please choose the grid."),
        (admin, f"/staff/experts/requests/{request_id}", {"state": "assigned", "expert_id": "99999999999999999999"},
         "Please choose an expert from the list."),
        (admin, f"/staff/classes/signups/{waitlisted}/move", {"position": "²", "reason": "家里有急事"},
         "Please give the new place as a number."),
    ]
    for client, url, data, message in refusals:
        response = client.post(url, data=data, headers=EN)
        assert response.status_code == 422 and message in response.get_data(as_text=True), url
    assert first(run_in_app, select(Post.state).where(Post.id == post_id)) != "approved"
    assert run_in_app(lambda: tuple(db.session.execute(select(Case.state, Case.handler_level, Case.grid_id)
                                                       .where(Case.id == case_id)).one())) == ("received", None, None)
    assert audit_count(run_in_app) - before <= 1  # the help requests' page, shown again, is a view of contacts
    # A GET filter that no number names is ignored, not an error.
    for url in ("/staff/audit?before=99999999999999999999", "/staff/audit?before=²", "/c/main/wall/more?before=²",
                "/c/main/wall/more?before=99999999999999999999", "/c/main/classes/live?v=²",
                "/c/main/wall/live?v=99999999999999999999"):
        assert admin.get(url).status_code == 200, url


def test_reasons_longer_than_kept_are_refused_not_cut(demo, staff_client, run_in_app):
    from app.classes.models import Course, Signup
    from app.friends.models import Card
    from app.wall import services as wall

    admin = staff_client("admin", "admin")
    long_reason = "理" * 201
    post_id = run_in_app(lambda: wall.queue("waiting")[0].id)
    card_id = first(run_in_app, select(Card.id).where(Card.state == "pending"))
    course_id = first(run_in_app, select(Course.id).where(Course.status == "open"))
    signup_id = first(run_in_app, select(Signup.id).where(Signup.state == "confirmed"))
    for url in (f"/staff/wall/{post_id}/reject", f"/staff/friends/cards/{card_id}/reject",
                f"/staff/classes/{course_id}/status/drop", f"/staff/classes/signups/{signup_id}/cancel"):
        response = admin.post(url, data={"reason": long_reason}, headers=EN)
        assert response.status_code == 422 and "A reason has at most 200 characters." in \
            response.get_data(as_text=True), url
    assert first(run_in_app, select(Post.state).where(Post.id == post_id)) != "rejected"
    assert first(run_in_app, select(Card.state).where(Card.id == card_id)) == "pending"
    assert first(run_in_app, select(Course.status).where(Course.id == course_id)) == "open"
    assert admin.post(f"/staff/wall/{post_id}/reject", data={"reason": "理" * 200}).status_code == 303


def test_an_empty_card_edit_says_what_is_wrong(kiosk_client):
    response = kiosk_client.post("/c/main/friends/mine/edit", data={}, headers={**HTMX, **EN, "HX-Target": "mine"})
    assert response.status_code == 422 and "No card has this code." in response.get_data(as_text=True)

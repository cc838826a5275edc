"""The cases console through HTTP: intake at the desk and of 12345 tickets, the one case page
(masked text, the audited reveal, a step with its routing, reply and note saved together or
not at all), the grid worker's list, a unit's inbox across communities, the supervisor's
read-only overdue list, the settings, the calendar warning, and bad fields that never 500."""

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select, update

from app.audit import AuditEntry
from app.cases import services, workdays
from app.cases.models import CalendarDay, Case, CaseEvent, Category, CategoryOverride
from app.clock import site_today, utcnow
from app.communities import scope
from app.communities.services import create_community
from app.extensions import db
from app.staff.models import StaffMember
from app.staff.services import create_staff
from tests.factories import STAFF_PASSWORD, staff_member

EN = {"Accept-Language": "en"}
CONTACT = "13812345678"
TEXT = f"3号楼路灯不亮，请回电 {CONTACT}"


def english(client):
    """Every request of the client reads English (the site's default is Chinese)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def sign_in(app, username):
    client = app.test_client()
    response = client.post("/staff/sign-in", data={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 303
    return english(client)


def member_id(run_in_app, username):
    return run_in_app(lambda: db.session.scalar(select(StaffMember.id).where(StaffMember.username == username)))


def category_id(run_in_app, key):
    return run_in_app(lambda: db.session.scalar(select(Category.id).where(Category.key == key)))


def case_of(run_in_app, number) -> Case:
    return run_in_app(lambda: services.by_number(number))


def events(run_in_app, number):
    """(action, public, text) of every step of the case, in order."""
    def read():
        case = services.by_number(number)
        return [(event.action, event.public, event.text) for event in services.timeline(case, public_only=False)]
    return run_in_app(read)


def audited(run_in_app, action, community_id=None):
    def read():
        with scope.within(community_id or 1):
            return db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)).all()
    return run_in_app(read)


@pytest.fixture
def mod(staff_client):
    return english(staff_client("mod", "moderator", display_name="调度员老周"))


@pytest.fixture
def worker(staff_client):
    return english(staff_client("gw1", "grid-worker", display_name="网格员苗佳"))


@pytest.fixture
def grid(run_in_app, worker):
    return run_in_app(services.add_grid, "第一网格", member_id(run_in_app, "gw1"))


@pytest.fixture
def second(run_in_app):
    return run_in_app(create_community, "second", "第二社区")


def intake(client, run_in_app, **fields):
    data = {"channel": "walk_in", "category": category_id(run_in_app, "lighting"), "text": TEXT,
            "place": "3号楼", "contact": CONTACT, **fields}
    return client.post("/staff/cases/new", data=data)


def take_in(client, run_in_app, **fields) -> str:
    """A case taken in at the desk: its number."""
    response = intake(client, run_in_app, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    number = re.fullmatch(r"/staff/cases/(\d{10})", response.headers["Location"]).group(1)
    return number


def save(client, number, **form):
    return client.post(f"/staff/cases/{number}", data=form)


def at_field(body, name, message) -> bool:
    """The message is shown right after the field it is about."""
    shown = re.escape(str(escape(message)))
    return re.search(rf'id="{name}"(?:(?!</p>).)*<span class="error" role="alert">{shown}<', body, re.S) is not None


def snapshot(run_in_app, number):
    """What a refused save must leave as it was."""
    def read():
        case = services.by_number(number)
        steps = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))
        return (case.state, case.handler_level, case.grid_id, case.unit_id, case.reply, case.due_at,
                case.close_reason, case.updated_at, steps)
    return run_in_app(read)


def overdue(run_in_app, number, days=2):
    def push():
        db.session.execute(update(Case).where(Case.number == number).values(due_at=utcnow() - timedelta(days=days)))
        db.session.commit()
    run_in_app(push)


# --- intake -----------------------------------------------------------------------------------------

def test_a_moderator_takes_in_a_walk_in(mod, run_in_app):
    form = mod.get("/staff/cases/new")
    assert form.status_code == 200 and 'id="case-intake"' in form.get_data(as_text=True)
    number = take_in(mod, run_in_app)
    case = case_of(run_in_app, number)
    assert (case.channel, case.state, case.place, case.text, case.contact, case.category.key) == (
        "walk_in", "received", "3号楼", TEXT, CONTACT, "lighting")
    assert case.reported_by == f"staff:{member_id(run_in_app, 'mod')}" and case.post_id is None
    assert events(run_in_app, number) == [("received", True, "")]

    page = mod.get(f"/staff/cases/{number}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Received" in re.search(r'id="case-state">([^<]*)<', body).group(1)
    assert "<mark>138****5678</mark>" in body and CONTACT not in body
    assert 'id="reveal"' in body and 'id="case-original"' not in body and 'id="case-contact"' not in body
    assert "At the desk" in body and 'id="save-case"' in body
    # The case's own dispatcher reading it is not an outsider's look: nothing audited.
    assert audited(run_in_app, "case-opened") == []
    listed = mod.get("/staff/cases").get_data(as_text=True)
    assert f'id="case-{number}"' in listed and CONTACT not in listed
    assert f'id="case-{number}"' in mod.get("/staff/cases/digest").get_data(as_text=True)


def test_a_12345_ticket_needs_its_number_and_a_due_date(mod, run_in_app):
    today = run_in_app(site_today)
    tomorrow, yesterday = (today + timedelta(days=1)).isoformat(), (today - timedelta(days=1)).isoformat()
    hotline = {"channel": "hotline", "hotline_number": "GD20261206001", "hotline_due": tomorrow}
    for fields, field, message in (
            ({"hotline_number": ""}, "hotline_number", "Please give the 12345 ticket's number."),
            ({"hotline_number": "号" * 200}, "hotline_number", "Please give the 12345 ticket's number."),
            ({"hotline_due": ""}, "hotline_due", "Please give the 12345 ticket's due date."),
            ({"hotline_due": yesterday}, "hotline_due", "That date is in the past."),
            ({"hotline_due": "2026-13-45"}, "hotline_due", "Please give a date as YYYY-MM-DD."),
            ({"hotline_due": "tomorrow"}, "hotline_due", "Please give a date as YYYY-MM-DD."),
            ({"channel": "walk_in"}, "hotline_number", "Only a 12345 ticket has a ticket number.")):
        response = intake(mod, run_in_app, **{**hotline, **fields})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert at_field(body, field, message), (fields, message)
        assert "3号楼路灯不亮" in body and 'value="3号楼"' in body  # what was typed stays
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Case))) == 0

    number = take_in(mod, run_in_app, **hotline)
    case = case_of(run_in_app, number)
    assert (case.channel, case.hotline_number) == ("hotline", "GD20261206001")
    assert case.hotline_due_at == run_in_app(workdays.end_of, today + timedelta(days=1))
    page = mod.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert "12345 hotline" in page and "12345 GD20261206001" in page


def test_a_ticket_due_today_is_taken(mod, run_in_app):
    today = run_in_app(site_today)
    number = take_in(mod, run_in_app, channel="hotline", hotline_number="GD1", hotline_due=today.isoformat())
    assert case_of(run_in_app, number).hotline_due_at == run_in_app(workdays.end_of, today)


def test_bad_intake_fields_are_refused_and_store_nothing(mod, run_in_app):
    for fields, field in (({"category": ""}, "category"), ({"category": "abc"}, "category"),
                          ({"category": "²"}, "category"), ({"category": "99999"}, "category"),
                          ({"category": "9" * 40}, "category"), ({"grid": "99999"}, "grid"),
                          ({"channel": "kiosk"}, "channel"), ({"channel": "bogus"}, "channel"),
                          ({"text": ""}, "text"), ({"text": "字" * 10_000}, "text"),
                          ({"place": "楼" * 10_000}, "place"), ({"contact": "12"}, "contact"),
                          ({"contact": "1" * 10_000}, "contact")):
        response = intake(mod, run_in_app, **fields)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert re.search(rf'id="{field}"(?:(?!</p>).)*<span class="error" role="alert">', body, re.S), fields
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Case))) == 0


def test_only_dispatchers_take_in_cases(staff_client, run_in_app):
    coordinator = english(staff_client("coord", "coordinator"))
    assert coordinator.get("/staff/cases/new").status_code == 403
    assert intake(coordinator, run_in_app).status_code == 403
    assert coordinator.get("/staff/cases").status_code == 403


# --- one case: reading it, the reveal -------------------------------------------------------------

def test_reveal_shows_the_original_words_and_contact_and_is_audited(mod, run_in_app, staff_client):
    number = take_in(mod, run_in_app)
    revealed = mod.post(f"/staff/cases/{number}/reveal")
    assert revealed.status_code == 303  # then the case's page, once revealed: a reload sends nothing
    body = mod.get(revealed.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="case-original">([^<]*)<', body).group(1) == TEXT
    assert CONTACT in re.search(r'id="case-contact">([^<]*)<', body).group(1)
    assert 'id="reveal"' not in body
    entries = run_in_app(lambda: db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case-contact-viewed")).all())
    assert len(entries) == 1
    assert (entries[0].actor_id, entries[0].target_type) == (member_id(run_in_app, "mod"), "cases")
    assert CONTACT not in entries[0].detail
    again = mod.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert 'id="case-contact"' not in again and 'id="reveal"' in again
    # Only the case's own people see it at all.
    coordinator = english(staff_client("coord", "coordinator"))
    assert coordinator.get(f"/staff/cases/{number}").status_code == 403
    assert coordinator.post(f"/staff/cases/{number}/reveal").status_code == 403
    assert len(audited(run_in_app, "case-contact-viewed")) == 1


def test_unknown_case_numbers_are_not_found(mod, run_in_app):
    take_in(mod, run_in_app)
    for number in ("0000000000", "abc", "²", "9" * 40, "1234"):
        assert mod.get(f"/staff/cases/{number}").status_code == 404, number
        assert mod.post(f"/staff/cases/{number}", data={"note": "x"}).status_code == 404, number
        assert mod.post(f"/staff/cases/{number}/reveal").status_code == 404, number


# --- one save: the step, its routing, the reply and the note together ------------------------------

def test_route_reply_and_note_are_saved_together(mod, client, run_in_app, grid):
    number = take_in(mod, run_in_app)
    saved = save(mod, number, action="route", level="grid", grid=grid, reply="已派网格员查看",
                 note="住户很着急，优先处理")
    assert saved.status_code == 303 and saved.headers["Location"] == f"/staff/cases/{number}"
    case = case_of(run_in_app, number)
    assert (case.state, case.handler_level, case.grid_id, case.reply) == ("received", "grid", grid, "已派网格员查看")
    assert case.routed_at is not None
    assert events(run_in_app, number) == [("received", True, ""), ("routed", True, ""),
                                          ("replied", True, "已派网格员查看"), ("note", False, "住户很着急，优先处理")]

    page = mod.get(f"/staff/cases/{number}").get_data(as_text=True)
    timeline = re.search(r'id="case-timeline">(.*?)</ol>', page, re.S).group(1)
    assert "住户很着急，优先处理" in timeline and "internal" in timeline and "已派网格员查看" in timeline
    assert "调度员老周" in timeline and "网格员苗佳" in page  # who did each step; who handles it

    receipt = client.get("/c/main/cases/receipt", query_string={"code": case.receipt_code}, headers=EN)
    public = receipt.get_data(as_text=True)
    assert "已派网格员查看" in public and "Sent to its handler" in public
    assert "住户很着急" not in public and "调度员老周" not in public and CONTACT not in public


def test_a_reply_and_note_without_a_step(mod, run_in_app):
    number = take_in(mod, run_in_app)
    assert save(mod, number, action="", reply="正在联系物业", note="物业电话占线").status_code == 303
    case = case_of(run_in_app, number)
    assert (case.state, case.reply) == ("received", "正在联系物业")
    assert events(run_in_app, number)[1:] == [("replied", True, "正在联系物业"), ("note", False, "物业电话占线")]
    # The same reply again is no new step.
    assert save(mod, number, reply="正在联系物业").status_code == 303
    assert len(events(run_in_app, number)) == 3


def test_a_refused_step_keeps_what_was_typed_and_changes_nothing(mod, run_in_app, grid):
    number = take_in(mod, run_in_app)
    assert save(mod, number, action="route", level="grid", grid=grid, reply="第一次回复").status_code == 303
    before = snapshot(run_in_app, number)

    refused = save(mod, number, action="accept", reply="想要改的回复", note="想要记的备注")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "This step is for another person" in body
    assert re.search(r'<textarea name="reply"[^>]*>想要改的回复</textarea>', body)
    assert re.search(r'<textarea name="note"[^>]*>想要记的备注</textarea>', body)
    assert snapshot(run_in_app, number) == before

    closed = save(mod, number, action="close", close_reason="fixed", reply="想要改的回复", note="想要记的备注")
    body = closed.get_data(as_text=True)
    assert closed.status_code == 422
    assert at_field(body, "close_reason", "Only a resolved case closes as fixed.")
    assert re.search(r'<option value="fixed" selected>', body)
    assert re.search(r'<textarea name="reply"[^>]*>想要改的回复</textarea>', body)
    assert re.search(r'<textarea name="note"[^>]*>想要记的备注</textarea>', body)
    assert snapshot(run_in_app, number) == before


def test_routing_refusals_are_shown_at_their_field(mod, run_in_app, staff_client):
    number = take_in(mod, run_in_app)
    empty_grid = run_in_app(services.add_grid, "无人网格")
    unit = run_in_app(lambda: services.add_unit("区住建局", "department").id)
    before = snapshot(run_in_app, number)
    for form, field, message in (
            ({"level": "grid"}, "grid", "Please choose the grid."),
            ({"level": "grid", "grid": empty_grid}, "grid", "That grid has no grid worker yet."),
            ({"level": "grid", "grid": "abc"}, "grid", "Please choose the grid."),
            ({"level": "grid", "grid": "99999"}, "grid", "Please choose the grid."),
            ({"level": "department"}, "unit", "Please choose the property company or department from the list."),
            ({"level": "property", "unit": unit}, "unit",
             "Please choose the property company or department from the list."),
            ({"level": "department", "unit": "²"}, "unit",
             "Please choose the property company or department from the list."),
            ({"level": "mars"}, "level", "Please choose who handles it."),
            ({"level": ""}, "level", "Please choose who handles it.")):
        response = save(mod, number, action="route", note="备注留着", **form)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, form
        assert at_field(body, field, message), (form, message)
        assert re.search(r'<textarea name="note"[^>]*>备注留着</textarea>', body)
    assert snapshot(run_in_app, number) == before


def test_bad_fields_on_the_case_page_never_break_it(mod, run_in_app):
    number = take_in(mod, run_in_app)
    before = snapshot(run_in_app, number)
    for form in ({"action": "bogus"}, {"action": "accept"}, {"action": "close"},
                 {"action": "close", "close_reason": "bored"},
                 {"action": "close", "close_reason": "duplicate", "duplicate_of": "abc"},
                 {"action": "close", "close_reason": "duplicate", "duplicate_of": number},
                 {"action": "close", "close_reason": "duplicate", "duplicate_of": "9" * 40},
                 {"action": "close", "close_reason": "not_ours"},
                 {"action": "close", "close_reason": "not_ours", "reason": "理" * 10_000},
                 {"action": "route", "level": "grid", "grid": "9" * 40},
                 {"action": "request-extension", "until": "2026-13-45", "reason": "等材料"},
                 {"until": "2026-13-45"},
                 {"note": "备" * 10_000}, {"reply": "回" * 10_000},
                 {"action": "check-back", "fixed": "maybe", "satisfaction": "ecstatic"}):
        response = save(mod, number, **form)
        assert response.status_code == 422, form
        assert '<p class="error" role="alert">' in response.get_data(as_text=True) or \
            '<span class="error" role="alert">' in response.get_data(as_text=True), form
    assert snapshot(run_in_app, number) == before
    long_note = save(mod, number, note="备" * 10_000).get_data(as_text=True)
    assert at_field(long_note, "note", "A note has at most 500 characters.")
    bad_date = save(mod, number, action="request-extension", until="2026-13-45").get_data(as_text=True)
    assert "Please give a date as YYYY-MM-DD." in bad_date


# --- the grid worker --------------------------------------------------------------------------------

def test_a_grid_worker_sees_their_cases_and_accepts_one(mod, worker, run_in_app, grid, staff_client):
    number = take_in(mod, run_in_app)
    assert f'id="case-{number}"' not in worker.get("/staff/cases/mine").get_data(as_text=True)
    assert save(mod, number, action="route", level="grid", grid=grid).status_code == 303

    assert worker.get("/staff/cases").headers["Location"] == "/staff/cases/mine"
    assert f'id="case-{number}"' in worker.get("/staff/cases/digest").get_data(as_text=True)  # new, to accept
    mine = worker.get("/staff/cases/mine")
    body = mine.get_data(as_text=True)
    assert mine.status_code == 200 and f'id="case-{number}"' in body
    assert "<mark>138****5678</mark>" in body and CONTACT not in body

    page = worker.get(f"/staff/cases/{number}").get_data(as_text=True)
    assert 'id="step-accept"' in page and 'id="step-return"' in page and 'id="step-route"' not in page
    refused = save(worker, number, action="route", level="committee")
    assert refused.status_code == 422 and snapshot(run_in_app, number)[1] == "grid"

    accepted = save(worker, number, action="accept")
    assert accepted.status_code == 303
    case = case_of(run_in_app, number)
    assert case.state == "accepted" and case.due_at is not None and case.accepted_at is not None
    # Street lights: 3 working days.
    assert case.due_at == run_in_app(lambda: workdays.due_after(case.accepted_at, days=3))
    assert events(run_in_app, number)[-1][0] == "accepted"
    assert "Accepted" in worker.get("/staff/cases/mine").get_data(as_text=True)

    other = english(staff_client("gw2", "grid-worker"))
    assert f'id="case-{number}"' not in other.get("/staff/cases/mine").get_data(as_text=True)
    assert other.get(f"/staff/cases/{number}").status_code == 403
    assert save(other, number, action="start").status_code == 403
    assert mod.get("/staff/cases/mine").status_code == 403


def test_a_grid_worker_returns_a_case_with_a_reason(mod, worker, run_in_app, grid):
    number = take_in(mod, run_in_app)
    save(mod, number, action="route", level="grid", grid=grid)
    no_reason = save(worker, number, action="return")
    assert no_reason.status_code == 422 and at_field(
        no_reason.get_data(as_text=True), "reason",
        "Please say why the case goes back, so that the dispatcher can route it.")
    assert save(worker, number, action="return", reason="不是路灯，是小区内部线路").status_code == 303
    case = case_of(run_in_app, number)
    assert (case.state, case.handler_level) == ("returned", None)
    assert f'id="case-{number}"' in mod.get("/staff/cases?show=to-route").get_data(as_text=True)
    assert f'id="case-{number}"' not in worker.get("/staff/cases/mine").get_data(as_text=True)


def test_an_extension_is_asked_for_before_the_due_time_and_approved_by_an_admin(
        mod, worker, run_in_app, grid, staff_client):
    number = take_in(mod, run_in_app)
    save(mod, number, action="route", level="grid", grid=grid)
    save(worker, number, action="accept")
    due = case_of(run_in_app, number).due_at
    today = run_in_app(site_today)
    yesterday = (today - timedelta(days=1)).isoformat()
    past = save(worker, number, action="request-extension", until=yesterday, reason="等配件")
    assert past.status_code == 422 and at_field(past.get_data(as_text=True), "until", "That date is in the past.")
    later = (today + timedelta(days=30)).isoformat()
    assert save(worker, number, action="request-extension", until=later, reason="等配件").status_code == 303
    assert save(mod, number, action="approve-extension").status_code == 422  # a moderator is no admin
    admin = english(staff_client("boss", "admin"))
    assert save(admin, number, action="approve-extension").status_code == 303
    case = case_of(run_in_app, number)
    assert case.due_at > due and case.extended and case.extension_until is None

    overdue(run_in_app, number)
    late = save(worker, number, action="request-extension", until=later, reason="还要等")
    assert late.status_code == 422 and "before the case is due" in late.get_data(as_text=True)


# --- another community, a unit, the supervisor ------------------------------------------------------

def test_another_communitys_moderator_cannot_find_the_case(app, mod, run_in_app, second):
    number = take_in(mod, run_in_app)
    run_in_app(create_staff, "mod2", STAFF_PASSWORD, roles=("moderator",), community_id=second)
    other = sign_in(app, "mod2")
    assert other.get(f"/staff/cases/{number}").status_code == 404
    assert other.post(f"/staff/cases/{number}/reveal").status_code == 404
    assert other.post(f"/staff/cases/{number}", data={"action": "close", "close_reason": "not_ours",
                                                      "reason": "x"}).status_code == 404
    assert f'id="case-{number}"' not in other.get("/staff/cases?show=open").get_data(as_text=True)
    assert case_of(run_in_app, number).state == "received"


def test_a_unit_sees_the_cases_routed_to_it_from_another_community(app, mod, run_in_app, second):
    unit = run_in_app(lambda: services.add_unit("区住建局", "department").id)
    run_in_app(create_staff, "zj1", STAFF_PASSWORD, roles=("coordinator",), community_id=second)
    run_in_app(services.set_unit_staff, "zj1", unit)
    department = sign_in(app, "zj1")
    number = take_in(mod, run_in_app)
    assert f'id="case-{number}"' not in department.get("/staff/cases/unit").get_data(as_text=True)
    assert department.get(f"/staff/cases/{number}").status_code == 404  # not routed to it yet

    assert save(mod, number, action="route", level="department", unit=unit, reply="已转区住建局").status_code == 303
    inbox = department.get("/staff/cases/unit")
    body = inbox.get_data(as_text=True)
    assert inbox.status_code == 200 and f'id="case-{number}"' in body and "邻里屏" in body
    assert department.get("/staff/cases").headers["Location"] == "/staff/cases/unit"

    page = department.get(f"/staff/cases/{number}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="step-accept"' in body and "邻里屏" in body
    opened = audited(run_in_app, "case-opened")
    assert len(opened) == 1 and '"as": "unit"' in opened[0]
    assert audited(run_in_app, "case-opened", second) == []

    assert save(department, number, action="accept", note="下周一派人").status_code == 303
    case = case_of(run_in_app, number)
    assert (case.state, case.unit_id, case.escalated) == ("accepted", unit, True)
    assert events(run_in_app, number)[-1] == ("note", False, "下周一派人")
    # Nobody else of the second community reaches it.
    run_in_app(create_staff, "mod2", STAFF_PASSWORD, roles=("moderator",), community_id=second)
    assert sign_in(app, "mod2").get(f"/staff/cases/{number}").status_code == 404
    # Sent elsewhere, it leaves the unit's inbox.
    assert save(department, number, action="return", reason="应由物业处理").status_code == 303
    assert f'id="case-{number}"' not in department.get("/staff/cases/unit").get_data(as_text=True)
    assert department.get(f"/staff/cases/{number}").status_code == 404


def test_a_member_of_no_unit_has_no_inbox(mod):
    assert mod.get("/staff/cases/unit").status_code == 403


def test_a_supervisor_reads_overdue_cases_and_changes_nothing(app, mod, run_in_app):
    late = take_in(mod, run_in_app)
    on_time = take_in(mod, run_in_app, text="另一盏路灯", place="4号楼")
    for number in (late, on_time):
        save(mod, number, action="route", level="committee")
        save(mod, number, action="accept")
    overdue(run_in_app, late)
    run_in_app(staff_member, "jj", "supervisor", display_name="纪检小刘")
    supervisor = sign_in(app, "jj")

    assert supervisor.get("/staff/cases").headers["Location"] == "/staff/cases/overdue"
    listed = supervisor.get("/staff/cases/overdue")
    body = listed.get_data(as_text=True)
    assert listed.status_code == 200 and f'id="case-{late}"' in body and f'id="case-{on_time}"' not in body
    assert "late" in re.search(rf'id="case-{late}".*?</tr>', body, re.S).group(0)
    assert mod.get("/staff/cases/overdue").status_code == 403
    assert f'id="case-{late}"' in mod.get("/staff/cases?show=overdue").get_data(as_text=True)

    page = supervisor.get(f"/staff/cases/{late}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="case-timeline"' in body
    assert 'id="case-form"' not in body and 'id="save-case"' not in body and "Read-only for you." in body
    assert 'id="reveal"' not in body and CONTACT not in body
    assert any('"as": "supervisor"' in detail for detail in audited(run_in_app, "case-opened"))
    assert supervisor.get(f"/staff/cases/{on_time}").status_code == 404

    before = snapshot(run_in_app, late)
    for form in ({"action": "close", "close_reason": "not_ours", "reason": "不归我们"}, {"note": "督办：请尽快"},
                 {"reply": "纪检的回复"}, {"action": "resolve", "reply": "已解决"}):
        assert save(supervisor, late, **form).status_code == 422, form
    assert supervisor.post(f"/staff/cases/{late}/reveal").status_code == 403
    assert snapshot(run_in_app, late) == before
    assert audited(run_in_app, "case-contact-viewed") == []


# --- settings and the calendar ------------------------------------------------------------------------

@pytest.fixture
def district_admin(app, run_in_app):
    run_in_app(staff_member, "district", "admin", "district-admin", display_name="街道管理员")
    return sign_in(app, "district")


def test_a_community_admin_changes_a_categorys_deadline(staff_client, run_in_app, mod):
    admin = english(staff_client("boss", "admin"))
    lighting = category_id(run_in_app, "lighting")
    assert admin.get("/staff/cases/settings").status_code == 200
    assert mod.get("/staff/cases/settings").status_code == 403
    saved = admin.post(f"/staff/cases/settings/categories/{lighting}",
                       data={"first_handler": "grid", "deadline_days": "7", "active": "y"})
    assert saved.status_code == 303
    override = run_in_app(lambda: db.session.scalar(select(CategoryOverride).where(
        CategoryOverride.category_id == lighting)))
    assert (override.deadline_days, override.first_handler, override.active) == (7, None, None)
    assert run_in_app(services.rule_for, lighting).deadline_days == 7
    row = re.search(r'id="category-lighting".*?</tr>', admin.get("/staff/cases/settings").get_data(as_text=True),
                    re.S).group(0)
    assert 'name="deadline_days" min="1" max="60" value="7"' in row
    assert run_in_app(lambda: db.session.get(Category, lighting).deadline_days) == 3  # the district's stays

    for form, message in (({"deadline_days": "abc"}, "A deadline is 1 to 60 working days."),
                          ({"deadline_days": "0"}, "A deadline is 1 to 60 working days."),
                          ({"deadline_days": "²"}, "A deadline is 1 to 60 working days."),
                          ({"deadline_days": "9" * 40}, "A deadline is 1 to 60 working days."),
                          ({"deadline_days": "5", "urgent_hours": "100"}, "An urgent deadline is 1 to 72 hours."),
                          ({"deadline_days": "5", "first_handler": "mars"}, "Please choose who handles it first."),
                          ({"deadline_days": "5", "first_handler": "department", "unit": "abc"},
                           "Please choose the property company or department from the list.")):
        refused = admin.post(f"/staff/cases/settings/categories/{lighting}",
                             data={"first_handler": "grid", "active": "y", **form})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), form
    assert run_in_app(services.rule_for, lighting).deadline_days == 7
    for path in ("/staff/cases/settings/categories/abc", "/staff/cases/settings/categories/²",
                 f"/staff/cases/settings/categories/{'9' * 40}"):
        assert admin.post(path, data={"first_handler": "grid", "deadline_days": "5"}).status_code == 404, path
    refused = admin.post("/staff/cases/settings/categories/99999", data={"first_handler": "grid",
                                                                        "deadline_days": "5"})
    assert refused.status_code == 422 and "Unknown category." in refused.get_data(as_text=True)
    # The district's own lists are the district admin's.
    assert admin.post("/staff/cases/settings/calendar", data={"day": "2027-01-01"}).status_code == 403
    assert admin.post("/staff/cases/settings/units", data={"name": "区城管局", "kind": "department"}).status_code == 403
    assert admin.post("/staff/cases/settings/categories", data={"key": "trees", "name": "绿化"}).status_code == 403


def test_an_admin_adds_a_grid_with_its_worker(staff_client, run_in_app, worker):
    admin = english(staff_client("boss", "admin"))
    gw1 = member_id(run_in_app, "gw1")
    assert admin.post("/staff/cases/settings/grids", data={"name": "第二网格", "worker": gw1}).status_code == 303
    page = admin.get("/staff/cases/settings").get_data(as_text=True)
    assert "第二网格" in page and "网格员苗佳" in page
    for form in ({"name": ""}, {"name": "第二网格"}, {"name": "网" * 10_000}, {"name": "第三网格", "worker": "99999"},
                 {"name": "第三网格", "worker": member_id(run_in_app, "boss")}):
        assert admin.post("/staff/cases/settings/grids", data=form).status_code == 422, form
    assert [grid.name for grid in run_in_app(services.grids)] == ["第二网格"]


def test_grids_are_renamed_ordered_and_removed_only_when_unused(staff_client, run_in_app, worker):
    admin = staff_client("boss", "admin")
    for name in ("一网格", "二网格", "三网格"):
        assert admin.post("/staff/cases/settings/grids", data={"name": name}).status_code == 303
    ids = {grid.name: grid.id for grid in run_in_app(services.grids)}
    renamed = admin.post(f"/staff/cases/settings/grids/{ids['三网格']}", data={"name": "第三网格（北区）"})
    assert renamed.status_code == 303
    clash = admin.post(f"/staff/cases/settings/grids/{ids['二网格']}", data={"name": "一网格"})
    assert clash.status_code == 422 and "这个网格已经有了" in clash.get_data(as_text=True)
    assert admin.post(f"/staff/cases/settings/grids/{ids['三网格']}/move/up").status_code == 303
    assert [grid.name for grid in run_in_app(services.grids)] == ["一网格", "第三网格（北区）", "二网格"]
    # A grid a case names stays (renamed, never removed); an unused one goes after a second step.
    roads = category_id(run_in_app, "roads")
    run_in_app(lambda: services.take_in(services.Intake(roads, "路灯坏了", grid_id=ids["一网格"]), channel="walk_in",
                                        reported_by="staff:1"))
    page = admin.get("/staff/cases/settings").get_data(as_text=True)
    assert f"/grids/{ids['一网格']}/remove" not in page and f"/grids/{ids['二网格']}/remove" in page
    refused = admin.post(f"/staff/cases/settings/grids/{ids['一网格']}/remove")
    assert refused.status_code == 422 and "有事项使用这个网格" in refused.get_data(as_text=True)
    asked = admin.get(f"/staff/cases/settings/grids/{ids['二网格']}/remove").get_data(as_text=True)
    assert "删除网格“二网格”？" in asked
    assert admin.post(f"/staff/cases/settings/grids/{ids['二网格']}/remove").status_code == 303
    assert [grid.name for grid in run_in_app(services.grids)] == ["一网格", "第三网格（北区）"]


def test_a_district_admin_enters_and_removes_a_calendar_day(district_admin, run_in_app):
    assert district_admin.get("/staff/cases/settings").status_code == 200
    entered = district_admin.post("/staff/cases/settings/calendar",
                                  data={"day": "2027-01-01", "workday": "no", "note": "元旦"})
    assert entered.status_code == 303
    assert run_in_app(lambda: [(row.day.isoformat(), row.workday, row.note)
                               for row in db.session.scalars(select(CalendarDay))]) == [("2027-01-01", False, "元旦")]
    assert "2027-01-01" in district_admin.get("/staff/cases/settings").get_data(as_text=True)
    for form in ({"day": "2026-13-45"}, {"day": ""}, {"day": "tomorrow"}, {"day": "2027-01-02", "note": "注" * 10_000}):
        refused = district_admin.post("/staff/cases/settings/calendar", data=form)
        assert refused.status_code == 422, form
    assert "Please give a date as YYYY-MM-DD." in district_admin.post(
        "/staff/cases/settings/calendar", data={"day": "2026-13-45"}).get_data(as_text=True)
    assert district_admin.post("/staff/cases/settings/calendar/2026-13-45/remove").status_code == 404
    assert district_admin.post("/staff/cases/settings/calendar/2027-01-01/remove").status_code == 303
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(CalendarDay))) == 0

    unit = district_admin.post("/staff/cases/settings/units", data={"name": "区城管局", "kind": "department"})
    assert unit.status_code == 303 and [u.name for u in run_in_app(services.units)] == ["区城管局"]
    refused = district_admin.post("/staff/cases/settings/units", data={"name": "区城管局", "kind": "mars"})
    assert refused.status_code == 422
    assert district_admin.post("/staff/cases/settings/unit-staff",
                               data={"username": "nobody", "unit": "1"}).status_code == 422


def test_the_calendar_warning_shows_while_a_year_is_missing(district_admin, mod, run_in_app):
    missing = run_in_app(workdays.missing_years)
    page = mod.get("/staff/cases").get_data(as_text=True)
    assert ('id="calendar-warning"' in page) is bool(missing)
    for year in missing:
        assert str(year) in re.search(r'id="calendar-warning">([^<]*)<', page).group(1)
        district_admin.post("/staff/cases/settings/calendar", data={"day": f"{year}-01-01", "workday": "no"})
    assert run_in_app(workdays.missing_years) == []
    assert 'id="calendar-warning"' not in mod.get("/staff/cases").get_data(as_text=True)


def test_a_year_the_library_does_not_know_warns_until_staff_enter_it(district_admin, mod, run_in_app, monkeypatch):
    monkeypatch.setattr(workdays, "LIBRARY_YEARS", frozenset())
    this_year = run_in_app(site_today).year
    assert this_year in run_in_app(workdays.missing_years)
    for page in (mod.get("/staff/cases"), district_admin.get("/staff/cases/settings")):
        warning = re.search(r'id="calendar-warning">([^<]*)<', page.get_data(as_text=True))
        assert warning and str(this_year) in warning.group(1)
    for year in run_in_app(workdays.missing_years):
        district_admin.post("/staff/cases/settings/calendar", data={"day": f"{year}-01-01", "workday": "no"})
    assert 'id="calendar-warning"' not in mod.get("/staff/cases").get_data(as_text=True)


def test_list_filters_take_only_ids(mod, run_in_app):
    number = take_in(mod, run_in_app)
    for query in ("show=bogus", "show=open&grid=abc", "show=open&category=²", f"show=open&grid={'9' * 40}",
                  "show=open&category=99999"):
        response = mod.get(f"/staff/cases?{query}")
        assert response.status_code == 200, query
    assert f'id="case-{number}"' in mod.get("/staff/cases?show=open&grid=abc").get_data(as_text=True)
    assert f'id="case-{number}"' not in mod.get("/staff/cases?show=open&category=99999").get_data(as_text=True)

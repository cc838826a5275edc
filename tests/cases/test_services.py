"""Cases without HTTP: intake and its refusals, the transition table and who may take each
step, extensions, the resident's check back, closing, "me too", a department's cases across
communities, the supervisor's overdue list, and what the public timeline never shows."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.cases import services, workdays
from app.cases.models import Case, CaseEvent, CaseSupport, Category
from app.cases.services import CaseError, Intake, Step
from app.clock import to_site, utcnow
from app.communities import scope
from app.communities.services import create_community
from app.communities.settings import setting
from app.extensions import db
from app.staff.models import StaffMember
from app.wall.models import Post
from tests.factories import staff_member

CONTACT = "13812345678"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@dataclass
class People:
    admin: int
    moderator: int
    worker: int
    other_worker: int
    department: int
    supervisor: int
    grid: int
    other_grid: int
    unit: int


@pytest.fixture
def people(ctx) -> People:
    """Community 1's staff, two grids with their workers, and a district department with one
    member (an account with no place in any community: the unit is what lets it work)."""
    admin = staff_member("admin", "admin")
    moderator = staff_member("mod", "moderator")
    worker = staff_member("gw1", "grid-worker", display_name="苗佳")
    other_worker = staff_member("gw2", "grid-worker")
    department = staff_member("cg1", "district-viewer")
    supervisor = staff_member("jj", "supervisor")
    grid = services.add_grid("第一网格", worker)
    other_grid = services.add_grid("第二网格", other_worker)
    unit = services.add_unit("区城管局", "department").id
    services.set_unit_staff("cg1", unit)
    return People(admin, moderator, worker, other_worker, department, supervisor, grid, other_grid, unit)


def member(member_id: int) -> StaffMember:
    return db.session.get(StaffMember, member_id)


def category(key: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.key == key))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def file(text: str, key: str = "roads", *, channel: str = "walk_in", reported_by: str = "staff:1", **intake) -> Case:
    return services.take_in(Intake(category(key), text, **intake), channel=channel, reported_by=reported_by)


def act(case_id: int, member_id: int, action: str = "", **fields) -> Case:
    return services.act(case_id, member(member_id), Step(action=action, **fields))


def stored(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def snapshot(case_id: int) -> tuple[dict, int]:
    """Every column of the case, and how many steps its timeline has."""
    case = stored(case_id)
    return ({column.name: getattr(case, column.name) for column in Case.__table__.columns},
            count(CaseEvent, CaseEvent.case_id == case_id))


def refused(field: str, function, *args, **kwargs) -> CaseError:
    with pytest.raises(CaseError) as error:
        function(*args, **kwargs)
    assert error.value.field == field, str(error.value)
    assert str(error.value)
    db.session.rollback()
    return error.value


def refused_unchanged(case_id: int, field: str, member_id: int, action: str = "", **fields) -> None:
    before = snapshot(case_id)
    refused(field, act, case_id, member_id, action, **fields)
    assert snapshot(case_id) == before


def actions(case: Case, *, public_only: bool = True) -> list[str]:
    return [event.action for event in services.timeline(case, public_only=public_only)]


def accepted_by_committee(people: People, text: str, key: str = "parking", **intake) -> Case:
    case = file(text, key, **intake)
    act(case.id, people.moderator, "route", level="committee")
    return act(case.id, people.moderator, "accept")


# --- intake ---------------------------------------------------------------------------------

def test_a_kiosk_report_of_a_public_category_becomes_a_case_and_a_card_waiting_for_moderation(people):
    case = file("北门人行道的地砖翘起来了，老人容易绊倒", channel="kiosk", reported_by="kiosk:1",
                place="北门", grid_id=people.grid, contact="138 1234 5678")
    case = stored(case.id)
    assert case.state == "received" and case.handler_level is None and case.channel == "kiosk"
    assert len(case.number) == 10 and case.number.isdigit()
    assert len(case.receipt_code) == 8 and case.receipt_code.isdigit()
    assert case.contact == CONTACT and case.community_id == 1 and case.place == "北门"
    post = db.session.get(Post, case.post_id)
    assert post is not None and post.kind == "problem" and post.state == "pending"
    assert post.receipt_code == case.receipt_code and post.location == "北门"
    assert CONTACT not in post.text
    assert actions(case) == ["received"]
    assert actions(case, public_only=False) == ["received", "published"]
    assert services.case_list("to-route") == [case]


def test_a_private_category_makes_no_wall_card(people):
    posts = count(Post)
    case = file("楼上邻居天天半夜拖椅子", "dispute", channel="kiosk", reported_by="kiosk:1")
    assert stored(case.id).post_id is None
    assert count(Post) == posts
    assert services.rule_for(category("dispute")).private is True


def test_a_staff_channel_makes_no_wall_card(people):
    case = file("巡查发现5号楼消防通道堆放杂物", channel="patrol", reported_by="staff:1")
    assert stored(case.id).post_id is None and count(Post) == 0


@pytest.mark.parametrize(("intake", "channel", "field"), [
    ({"category_id": 99999}, "kiosk", "category"),
    ({"category_id": None}, "kiosk", "category"),
    ({"text": "   "}, "kiosk", "text"),
    ({"text": "坑" * 201}, "kiosk", "text"),
    ({"place": "门" * 41}, "kiosk", "place"),
    ({"grid_id": 99999}, "kiosk", "grid"),
    ({"contact": "12345"}, "kiosk", "contact"),
    ({"contact": "1" * 21}, "kiosk", "contact"),
    ({}, "fax", "channel"),
    ({"hotline_due": date(2099, 1, 1)}, "hotline", "hotline_number"),
    ({"hotline_number": "12345-0001"}, "hotline", "hotline_due"),
    ({"hotline_number": "12345-0001", "hotline_due": date(2020, 1, 1)}, "hotline", "hotline_due"),
    ({"hotline_number": "12345-0001"}, "walk_in", "hotline_number"),
])
def test_bad_intake_is_refused_and_nothing_is_stored(people, intake, channel, field):
    values = {"category_id": category("roads"), "text": "路口的红绿灯不亮了", **intake}
    refused(field, services.take_in, Intake(**values), channel=channel, reported_by="kiosk:1")
    assert count(Case) == 0 and count(CaseEvent) == 0 and count(Post) == 0


def test_a_hotline_ticket_due_yesterday_is_refused(people):
    yesterday = to_site(utcnow()).date() - timedelta(days=1)
    refused("hotline_due", file, "12345转办：噪音", channel="hotline", hotline_number="12345-0002",
            hotline_due=yesterday)
    assert count(Case) == 0


def test_an_inactive_category_takes_no_case(people):
    services.set_category_override(category("noise"), first_handler="grid", unit_id=None, deadline_days=3,
                                   urgent_hours=None, private=False, active=False)
    refused("category", file, "广场舞声音太大", "noise")
    assert count(Case) == 0


def test_the_same_report_twice_within_minutes_from_the_same_kiosk_is_refused(people):
    file("垃圾站三天没有清运了", "sanitation", channel="kiosk", reported_by="kiosk:1")
    cases, posts = count(Case), count(Post)
    refused("text", file, "垃圾站三天没有清运了", "sanitation", channel="kiosk", reported_by="kiosk:1")
    assert (count(Case), count(Post)) == (cases, posts) == (1, 1)
    # Another kiosk may report the same problem (the wall keeps one card: the case stays private).
    second = file("垃圾站三天没有清运了", "sanitation", channel="kiosk", reported_by="kiosk:2")
    assert count(Case) == 2 and stored(second.id).post_id is None
    assert "not-published" in actions(second, public_only=False)


# --- the whole way, at the service level ------------------------------------------------------

def test_a_case_from_intake_to_a_checked_back_close(people):
    case = file("北门路面塌了一个大坑，电动车容易摔", channel="kiosk", reported_by="kiosk:1", place="北门",
                grid_id=people.grid, contact=CONTACT)
    code, case_id = case.receipt_code, case.id

    # The dispatcher routes it to the grid's worker; another grid's worker can't take it.
    refused_unchanged(case_id, "action", people.worker, "accept")  # not routed yet
    case = act(case_id, people.moderator, "route", level="grid")
    assert (case.state, case.handler_level, case.grid_id) == ("received", "grid", people.grid)
    assert case.routed_at is not None and case.due_at is None
    refused_unchanged(case_id, "action", people.other_worker, "accept")
    refused_unchanged(case_id, "action", people.department, "accept")
    refused_unchanged(case_id, "action", people.supervisor, "accept")

    # The grid worker accepts (the clock starts), then sends it back with a reason.
    case = act(case_id, people.worker, "accept")
    assert case.state == "accepted" and case.first_accepted_at == case.accepted_at
    rule = services.rule_for(case.category_id)
    assert case.due_at == workdays.due_after(case.accepted_at, days=rule.deadline_days)
    refused_unchanged(case_id, "reason", people.worker, "return", reason="  ")
    case = act(case_id, people.worker, "return", reason="路面塌陷属于市政设施，网格无法处理")
    assert (case.state, case.handler_level, case.unit_id, case.accepted_at, case.due_at) == (
        "returned", None, None, None, None)
    assert case.first_accepted_at is not None
    returned = [e for e in services.timeline(case, public_only=False) if e.action == "returned"]
    assert len(returned) == 1 and returned[0].public is False and returned[0].staff_id == people.worker
    assert services.case_list("to-route") == [case]

    # Routed to a district department: only its staff may accept it now.
    refused_unchanged(case_id, "unit", people.moderator, "route", level="department", unit_id=None)
    case = act(case_id, people.moderator, "route", level="department", unit_id=people.unit)
    assert (case.state, case.handler_level, case.unit_id, case.escalated) == (
        "received", "department", people.unit, True)
    refused_unchanged(case_id, "action", people.moderator, "accept")
    refused_unchanged(case_id, "action", people.worker, "accept")
    refused_unchanged(case_id, "action", people.admin, "accept")
    case = act(case_id, people.department, "accept")
    assert case.state == "accepted"
    due = case.due_at
    # Due at the end of its last day: the next local midnight.
    due_day = to_site(due).date() - timedelta(days=1)
    assert workdays.end_of(due_day) == due

    # An extension: asked for before the due time, for a later date, with a reason.
    yesterday = to_site(utcnow()).date() - timedelta(days=1)
    refused_unchanged(case_id, "until", people.department, "request-extension", reason="等待材料", until=yesterday)
    refused_unchanged(case_id, "until", people.department, "request-extension", reason="等待材料",
                      until=due_day - timedelta(days=1))
    refused_unchanged(case_id, "until", people.department, "request-extension", reason="等待材料", until=due_day)
    refused_unchanged(case_id, "until", people.department, "request-extension", reason="等待材料", until=None)
    refused_unchanged(case_id, "reason", people.department, "request-extension", until=due_day + timedelta(days=7))
    refused_unchanged(case_id, "action", people.moderator, "request-extension", reason="等待材料",
                      until=due_day + timedelta(days=7))
    until = due_day + timedelta(days=7)
    case = act(case_id, people.department, "request-extension", reason="需要等沥青搅拌站复工", until=until)
    assert case.extension_until == workdays.end_of(until) and case.due_at == due and case.state == "accepted"
    refused_unchanged(case_id, "action", people.department, "request-extension", reason="再延", until=until)
    assert services.case_list("extensions") == [case]

    # The community's admin decides, no one else.
    for who in (people.moderator, people.department, people.supervisor):
        refused_unchanged(case_id, "action", who, "approve-extension")
    case = act(case_id, people.admin, "approve-extension")
    assert case.due_at == workdays.end_of(until) and case.extended is True and case.extension_until is None
    extended = [e for e in services.timeline(case) if e.action == "extended"]
    assert len(extended) == 1 and extended[0].detail == to_site(workdays.end_of(until)).isoformat(timespec="minutes")
    assert extended[0].public and extended[0].text == ""  # the date is public, the reason is not
    refused_unchanged(case_id, "action", people.admin, "approve-extension")  # nothing left to decide

    # Resolved, with the public reply it needs.
    refused_unchanged(case_id, "reply", people.department, "resolve", reply="")
    refused_unchanged(case_id, "reply", people.department, "resolve")
    case = act(case_id, people.department, "start")
    assert case.state == "in_progress"
    case = act(case_id, people.department, "resolve", reply="已回填沥青并压实，请大家注意安全。")
    assert case.state == "resolved" and case.resolved_at is not None and case.late is False
    assert case.reply == "已回填沥青并压实，请大家注意安全。"

    # The resident is not satisfied: it reopens, once, for the same handler.
    case = services.check_back(code, True, "unsatisfied")
    case = stored(case_id)
    assert (case.state, case.reopen_count, case.satisfaction, case.fixed) == ("reopened", 1, "unsatisfied", True)
    assert case.resolved_at is None and case.handler_level == "department" and case.unit_id == people.unit
    assert case.due_at == workdays.due_after(case.accepted_at, days=rule.deadline_days)
    refused("code", services.check_back, code, True, "satisfied")  # not waiting for an answer now
    case = act(case_id, people.department, "resolve")  # the reply already written stands
    assert case.state == "resolved"

    # Satisfied: closed as fixed.
    services.check_back(code, True, "satisfied")
    case = stored(case_id)
    assert (case.state, case.close_reason, case.satisfaction, case.fixed) == ("closed", "fixed", "satisfied", True)
    assert case.closed_at is not None and case.reopen_count == 1
    refused_unchanged(case_id, "action", people.department, "accept")
    refused_unchanged(case_id, "action", people.department, "resolve", reply="again")

    assert actions(case) == ["received", "routed", "accepted", "routed", "accepted", "extended", "started",
                             "resolved", "reopened-by-resident", "resolved", "checked-back"]
    steps = services.timeline(case, public_only=False)
    assert [e.staff_id for e in steps if e.action in ("accepted", "routed")] == [
        people.moderator, people.worker, people.moderator, people.department]
    assert all(e.at is not None for e in steps)


def test_a_second_dissatisfaction_closes_instead_of_reopening(people):
    case = accepted_by_committee(people, "车库入口的道闸坏了")
    act(case.id, people.moderator, "resolve", reply="已通知物业更换道闸")
    services.check_back(case.receipt_code, False, "basic")
    case = stored(case.id)
    assert (case.state, case.reopen_count, case.fixed) == ("reopened", 1, False)
    reopened = [e for e in services.timeline(case) if e.action == "reopened-by-resident"]
    assert [e.text for e in reopened] == ["not-fixed"]
    act(case.id, people.moderator, "resolve")
    services.check_back(case.receipt_code, False, "unsatisfied")
    case = stored(case.id)
    assert (case.state, case.reopen_count, case.close_reason) == ("closed", 1, "fixed")
    assert (case.fixed, case.satisfaction) == (False, "unsatisfied")


def test_a_check_back_needs_a_known_code_a_resolved_case_and_an_answer(people):
    case = accepted_by_committee(people, "小区东门的监控坏了")
    refused("code", services.check_back, "00000000", True, "satisfied")
    refused("code", services.check_back, "", True, "satisfied")
    refused("code", services.check_back, case.receipt_code, True, "satisfied")  # not resolved yet
    act(case.id, people.moderator, "resolve", reply="监控已修好")
    before = snapshot(case.id)
    refused("fixed", services.check_back, case.receipt_code, None, "satisfied")
    refused("satisfaction", services.check_back, case.receipt_code, True, "so-so")
    assert snapshot(case.id) == before
    # Past the window, only staff can record an answer.
    case = stored(case.id)
    case.resolved_at = utcnow() - timedelta(days=setting("CASE_CHECK_BACK_DAYS"), minutes=1)
    db.session.commit()
    before = snapshot(case.id)
    refused("code", services.check_back, case.receipt_code, True, "satisfied")
    assert snapshot(case.id) == before
    # A dispatcher records a phone call-back.
    case = act(case.id, people.moderator, "check-back", fixed=True, satisfaction="basic")
    assert (case.state, case.close_reason, case.satisfaction) == ("closed", "fixed", "basic")
    assert [e.detail for e in services.timeline(case) if e.action == "checked-back"] == ["fixed phone-call"]


# --- wrong person, wrong state ---------------------------------------------------------------

def test_a_supervisor_changes_nothing(people):
    case = file("7号楼旁路灯不亮", "lighting", grid_id=people.grid)
    for action, fields in [("route", {"level": "grid"}), ("close", {"close_reason": "not_ours", "reason": "x"}),
                           ("accept", {}), ("reopen", {"reason": "x"})]:
        refused_unchanged(case.id, "action", people.supervisor, action, **fields)
    refused_unchanged(case.id, "note", people.supervisor, note="看一下")
    refused_unchanged(case.id, "note", people.supervisor, reply="公开回复")
    assert services.may_see(member(people.supervisor), stored(case.id)) is True
    assert services.actions_for(member(people.supervisor), stored(case.id)) == []


def test_handlers_and_dispatchers_keep_to_their_own_steps(people):
    case = file("7号楼旁路灯不亮", "lighting", grid_id=people.grid)
    # Only dispatchers route; a grid worker can't route to itself.
    refused_unchanged(case.id, "action", people.worker, "route", level="grid")
    refused_unchanged(case.id, "action", people.department, "route", level="department", unit_id=people.unit)
    refused_unchanged(case.id, "level", people.moderator, "route", level="nobody")
    refused_unchanged(case.id, "grid", people.moderator, "route", level="grid", grid_id=99999)
    grid_without_worker = services.add_grid("第三网格")
    refused_unchanged(case.id, "grid", people.moderator, "route", level="grid", grid_id=grid_without_worker)
    refused_unchanged(case.id, "action", people.moderator, "nonsense")
    act(case.id, people.moderator, "route", level="grid")
    assert [c.id for c in services.grid_worker_cases(member(people.worker))] == [case.id]
    assert services.grid_worker_cases(member(people.other_worker)) == []
    assert services.actions_for(member(people.worker), stored(case.id)) == ["accept", "return"]
    assert services.actions_for(member(people.other_worker), stored(case.id)) == []
    # The handler may write notes; another grid's worker may not.
    refused_unchanged(case.id, "note", people.other_worker, note="我来看看")
    act(case.id, people.worker, note="明早去现场")
    notes = [e for e in services.timeline(stored(case.id), public_only=False) if e.action == "note"]
    assert [(n.text, n.public, n.staff_id) for n in notes] == [("明早去现场", False, people.worker)]


def test_an_action_in_the_wrong_state_is_refused(people):
    case = file("楼道灯坏了", "lighting")
    refused_unchanged(case.id, "action", people.moderator, "resolve", reply="修好了")
    refused_unchanged(case.id, "action", people.moderator, "start")
    refused_unchanged(case.id, "action", people.admin, "approve-extension")
    act(case.id, people.moderator, "close", close_reason="not_ours", reason="请联系供电公司 95598")
    case = stored(case.id)
    assert (case.state, case.close_reason, case.close_note) == ("closed", "not_ours", "请联系供电公司 95598")
    refused_unchanged(case.id, "action", people.moderator, "accept")
    refused_unchanged(case.id, "action", people.moderator, "route", level="committee")
    refused_unchanged(case.id, "action", people.moderator, "close", close_reason="not_ours", reason="again")
    # A dispatcher may open it again, with a reason.
    refused_unchanged(case.id, "reason", people.moderator, "reopen")
    case = act(case.id, people.moderator, "reopen", reason="供电公司说是小区内部线路")
    assert (case.state, case.reopen_count, case.close_reason) == ("reopened", 1, None)


def test_an_extension_comes_before_the_due_time(people):
    case = accepted_by_committee(people, "单元门禁坏了")
    case.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    refused_unchanged(case.id, "action", people.moderator, "request-extension", reason="等配件",
                      until=date(2099, 1, 1))
    # Resolved after its due time: late.
    case = act(case.id, people.moderator, "resolve", reply="门禁已更换")
    assert case.late is True


def test_a_refused_extension_keeps_the_due_date(people):
    case = accepted_by_committee(people, "单元门禁坏了")
    due = case.due_at
    until = to_site(due).date() + timedelta(days=3)
    act(case.id, people.moderator, "request-extension", reason="等配件", until=until)
    refused_unchanged(case.id, "action", people.moderator, "refuse-extension", reason="配件有库存")
    case = act(case.id, people.admin, "refuse-extension", reason="配件有库存")
    assert (case.due_at, case.extension_until, case.extension_reason, case.extended) == (due, None, "", False)
    refusal = [e for e in services.timeline(case, public_only=False) if e.action == "extension-refused"]
    assert [(e.text, e.public) for e in refusal] == [("配件有库存", False)]


def test_a_committee_case_is_the_dispatchers_own(people):
    case = file("小区花坛被踩坏", "other")
    act(case.id, people.moderator, "route", level="committee")
    refused_unchanged(case.id, "action", people.worker, "accept")
    case = act(case.id, people.admin, "accept")
    assert case.state == "accepted" and case.due_at is not None


# --- closing ---------------------------------------------------------------------------------

def test_close_reasons(people):
    case = file("楼下的树挡住了阳光", "other")
    refused_unchanged(case.id, "close_reason", people.moderator, "close", close_reason="bored")
    refused_unchanged(case.id, "close_reason", people.moderator, "close", close_reason="fixed")
    refused_unchanged(case.id, "reason", people.moderator, "close", close_reason="not_ours")
    refused_unchanged(case.id, "reason", people.moderator, "close", close_reason="long_term", reason="  ")
    refused_unchanged(case.id, "duplicate_of", people.moderator, "close", close_reason="duplicate",
                      duplicate_of=case.number)
    refused_unchanged(case.id, "duplicate_of", people.moderator, "close", close_reason="duplicate",
                      duplicate_of="0000000000")
    case = act(case.id, people.moderator, "close", close_reason="long_term", reason="纳入明年绿化改造计划")
    assert (case.state, case.close_reason, case.close_note) == ("closed", "long_term", "纳入明年绿化改造计划")
    assert [e.detail for e in services.timeline(case) if e.action == "closed"] == ["long_term"]


def test_a_case_closed_before_routing_reopens_onto_the_list_to_route(people):
    case = file("路边的垃圾桶满了", "sanitation")
    act(case.id, people.moderator, "close", close_reason="not_ours", reason="请联系环卫所")
    case = act(case.id, people.moderator, "reopen", reason="环卫所说归社区管")
    # No handler yet: no clock runs, and the dispatcher finds it to route.
    assert (case.state, case.handler_level, case.due_at, case.reopen_count) == ("reopened", None, None, 1)
    assert services.case_list("to-route") == [case] and services.case_list("overdue") == []
    assert actions(case)[-1] == "reopened-to-route"
    act(case.id, people.moderator, "route", level="grid", grid_id=people.grid)
    case = act(case.id, people.worker, "accept")
    assert case.state == "accepted" and case.due_at is not None and services.case_list("to-route") == []


def test_a_duplicate_closes_into_the_original_with_its_me_toos(people):
    original = file("3号楼电梯经常停运", "other", channel="kiosk", reported_by="kiosk:1", place="3号楼")
    duplicate = file("3号楼的电梯又坏了", "other", channel="kiosk", reported_by="kiosk:3", place="3号楼")
    assert services.me_too(original.id, "kiosk:2") is True
    assert services.me_too(duplicate.id, "kiosk:2") is True   # counted on both: once after the merge
    assert services.me_too(duplicate.id, "phone:abc") is True
    case = act(duplicate.id, people.moderator, "close", close_reason="duplicate", duplicate_of=original.number)
    assert (case.state, case.close_reason, case.duplicate_of_id, case.close_note) == (
        "closed", "duplicate", original.id, original.number)
    kept = stored(original.id)
    assert kept.state == "received" and kept.me_too == 3
    assert sorted(db.session.scalars(select(CaseSupport.supporter).where(CaseSupport.case_id == original.id))) == [
        "kiosk:2", "kiosk:3", "phone:abc"]
    assert count(CaseSupport, CaseSupport.case_id == duplicate.id) == 0
    assert "merged" in actions(kept, public_only=False)


def test_me_too_counts_once_per_kiosk_or_phone(people):
    case = file("健身器材坏了", "other", channel="kiosk", reported_by="kiosk:1", place="中心广场")
    assert services.me_too(case.id, "kiosk:2") is True
    assert services.me_too(case.id, "kiosk:2") is False
    assert services.me_too(case.id, "phone:xyz") is True
    assert stored(case.id).me_too == 2 and count(CaseSupport) == 2
    act(case.id, people.moderator, "close", close_reason="not_ours", reason="请联系体育局")
    with pytest.raises(CaseError):
        services.me_too(case.id, "kiosk:3")
    db.session.rollback()
    assert stored(case.id).me_too == 2 and count(CaseSupport) == 2


def test_similar_open_finds_open_cases_of_the_same_category_and_place(people):
    in_grid = file("网格里的路口坑洼", "roads", grid_id=people.grid)
    at_gate = file("北门口路面不平", "roads", place="北门")
    file("北门路灯不亮", "lighting", place="北门", grid_id=people.grid)
    file("南门路面坑洼", "roads", place="南门", grid_id=people.other_grid)
    closed = file("网格里另一处坑洼", "roads", grid_id=people.grid)
    act(closed.id, people.moderator, "close", close_reason="not_ours", reason="属于市政")
    roads = category("roads")
    assert [c.id for c in services.similar_open(roads, people.grid, "")] == [in_grid.id]
    assert [c.id for c in services.similar_open(roads, None, " 北门 ")] == [at_gate.id]
    assert {c.id for c in services.similar_open(roads, people.grid, "北门")} == {in_grid.id, at_gate.id}
    assert services.similar_open(roads, None, "") == []
    assert services.similar_open(None, people.grid, "北门") == []
    assert services.similar_open(category("noise"), people.grid, "北门") == []


# --- a department across communities; the supervisor's list ---------------------------------

def test_a_department_works_cases_from_every_community_and_no_one_else_crosses(people):
    mine = file("主干道井盖缺失", "roads")
    act(mine.id, people.moderator, "route", level="department", unit_id=people.unit)
    mine_number = mine.number

    second = create_community("second", "第二社区")
    with scope.within(second):
        moderator2 = staff_member("mod2", "moderator")
        theirs = file("河边护栏断了", "safety")
        theirs_id, theirs_number = theirs.id, theirs.number
        act(theirs_id, moderator2, "route", level="department", unit_id=people.unit)
        # The department accepts it, in its community.
        accepted = act(theirs_id, people.department, "accept")
        assert accepted.state == "accepted" and accepted.community_id == second
        assert services.by_number(theirs_number).id == theirs_id
        assert services.by_number(mine_number) is None
        # Community 1's moderator has no place here.
        refused_unchanged(theirs_id, "action", people.moderator, "close", close_reason="not_ours", reason="x")
    db.session.expunge_all()

    inbox = services.unit_cases(member(people.department))
    assert {(c.community_id, c.number) for c in inbox} == {(1, mine_number), (second, theirs_number)}
    assert services.unit_case(member(people.department), theirs_number) == (second, theirs_id)
    assert services.unit_cases(member(people.moderator)) == []
    assert services.unit_case(member(people.moderator), theirs_number) is None

    # In community 1, the other community's case is not there.
    assert services.by_number(theirs_number) is None
    assert services.get(theirs_id) is None
    assert all(c.number != theirs_number for c in services.case_list("open"))
    refused("case", act, theirs_id, people.moderator, "close", close_reason="not_ours", reason="x")
    with scope.within(second):
        assert stored(theirs_id).state == "accepted"


def test_the_supervisor_sees_every_communitys_overdue_cases(people):
    on_time = accepted_by_committee(people, "小区门口积水")
    late_here = accepted_by_committee(people, "消防栓漏水")
    second = create_community("second", "第二社区")
    with scope.within(second):
        moderator2 = staff_member("mod2", "moderator")
        theirs = file("地下室有燃气味", "utilities")
        act(theirs.id, moderator2, "route", level="committee")
        act(theirs.id, moderator2, "accept")
        theirs = stored(theirs.id)
        theirs.due_at = utcnow() - timedelta(days=2)
        db.session.commit()
        theirs_id, theirs_number = theirs.id, theirs.number
    late_here = stored(late_here.id)
    late_here.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    late_id, late_number, on_time_number = late_here.id, late_here.number, on_time.number
    db.session.expunge_all()

    overdue = services.overdue_everywhere()
    assert [(c.community_id, c.id) for c in overdue] == [(second, theirs_id), (1, late_id)]
    assert services.supervised_case(theirs_number) == (second, theirs_id)
    assert services.supervised_case(late_number) == (1, late_id)
    assert services.supervised_case(on_time_number) is None
    assert [c.id for c in services.case_list("overdue")] == [late_id]
    assert services.list_counts()["overdue"] == 1
    # The supervisor reads; it takes no step.
    refused_unchanged(late_id, "action", people.supervisor, "resolve")
    refused_unchanged(late_id, "note", people.supervisor, "resolve", reply="已处理")


# --- the public timeline ---------------------------------------------------------------------

def test_the_public_timeline_never_shows_notes_reasons_or_the_reporter(people):
    case = file("隔壁楼施工噪音到半夜", "noise", channel="kiosk", reported_by="kiosk:1", grid_id=people.grid,
                contact=CONTACT)
    act(case.id, people.moderator, note="内部：该住户已多次来电，情绪激动")
    act(case.id, people.moderator, "route", level="grid")
    act(case.id, people.worker, "return", reason="施工方是区住建委管理的工地")
    act(case.id, people.moderator, "route", level="department", unit_id=people.unit)
    case = act(case.id, people.department, "accept")
    until = to_site(case.due_at).date() + timedelta(days=3)
    act(case.id, people.department, "request-extension", reason="需与住建委联合执法", until=until)
    act(case.id, people.admin, "refuse-extension", reason="执法可以先行")
    act(case.id, people.department, "request-extension", reason="等待施工方整改回复", until=until)
    act(case.id, people.department, reply="已约谈施工方，夜间停止施工。")
    case = stored(case.id)

    public = services.timeline(case)
    texts = " ".join(e.text + " " + e.detail for e in public)
    for secret in ("内部", "情绪激动", "住建委管理的工地", "联合执法", "执法可以先行", "等待施工方整改回复",
                   "kiosk:1", CONTACT):
        assert secret not in texts
    assert [e.action for e in public] == ["received", "routed", "routed", "accepted", "replied"]
    # Not in any step at all, internal or not: the resident's number.
    assert all(CONTACT not in e.text + e.detail for e in services.timeline(case, public_only=False))
    assert {e.action for e in services.timeline(case, public_only=False)} >= {
        "note", "returned", "extension-requested", "extension-refused"}
    assert services.timeline(case)[-1].text == "已约谈施工方，夜间停止施工。"


# --- housekeeping and lists --------------------------------------------------------------------

def test_an_unanswered_resolved_case_closes_as_fixed_after_the_window(people):
    waiting = accepted_by_committee(people, "小区健身区的围栏松了")
    act(waiting.id, people.moderator, "resolve", reply="围栏已加固")
    fresh = accepted_by_committee(people, "停车场的指示牌倒了")
    act(fresh.id, people.moderator, "resolve", reply="指示牌已扶正")
    window = timedelta(days=setting("CASE_CHECK_BACK_DAYS"))
    stored(waiting.id).resolved_at = utcnow() - window - timedelta(minutes=1)
    db.session.commit()
    assert services.close_unanswered() == 1
    closed = stored(waiting.id)
    assert (closed.state, closed.close_reason, closed.fixed, closed.satisfaction) == ("closed", "fixed", None, None)
    assert [e.detail for e in services.timeline(closed) if e.action == "closed"] == ["no-answer"]
    assert stored(fresh.id).state == "resolved"


def test_a_call_back_number_is_purged_a_month_after_closing(people):
    kept = file("楼顶水箱漏水", "utilities", contact=CONTACT)
    gone = file("楼道堆放杂物", "other", contact="13900001111")
    for case in (kept, gone):
        act(case.id, people.moderator, "close", close_reason="not_ours", reason="请联系物业")
    old = stored(gone.id)
    old.closed_at = utcnow() - services.CONTACT_KEPT - timedelta(hours=1)
    db.session.commit()
    assert services.purge_contacts() == 1
    assert stored(gone.id).contact == "" and stored(kept.id).contact == CONTACT


def test_due_soon_and_overdue_lists_oldest_first(people):
    first = accepted_by_committee(people, "电梯按钮失灵")
    second = accepted_by_committee(people, "单元门锁坏了")
    waiting = file("路边有废弃自行车", "other")
    now = utcnow()
    first.due_at, second.due_at = now + timedelta(hours=2), now + timedelta(hours=1)
    db.session.commit()
    assert [c.id for c in services.case_list("due-soon", now=now)] == [second.id, first.id]
    assert services.case_list("overdue", now=now) == []
    later = now + timedelta(hours=3)
    assert [c.id for c in services.case_list("overdue", now=later)] == [second.id, first.id]
    assert [c.id for c in services.case_list("to-route", now=now)] == [waiting.id]
    assert services.list_counts(now=later)["overdue"] == 2
    assert services.waiting_count() == 1
    day = services.digest(services.case_list("open", now=now), now=now)
    assert [c.id for c in day.new] == [waiting.id] and [c.id for c in day.due_soon] == [first.id, second.id]

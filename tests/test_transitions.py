"""Every action on every stateful record, tried in every state through HTTP: a wall post,
a class sign-up, a help request, a friends card and an "I'd like to meet" request.

Each action is allowed or refused exactly as the record's transition table says: allowed,
the record is in the table's target state (or deleted, or changed as the action says);
refused, the answer is the route's refusal status, the row is unchanged and nothing is
audited. The tables themselves are checked against cells written out by hand."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit import AuditEntry
from app.classes import services as classes
from app.classes.models import SIGNUP_STATES, Attendance, Course, Rating, Signup
from app.clock import site_today, to_site, utcnow
from app.experts import services as experts
from app.experts.models import REQUEST_STATES, Expert, HelpRequest
from app.extensions import db
from app.friends import services as friends
from app.friends.models import CARD_STATES, INTEREST_STATES, Card, Interest
from app.transitions import allowed
from app.wall import services as wall
from app.wall.models import STATES as POST_STATES
from app.wall.models import Post

TABLES = {
    "post": wall.POST_ACTIONS,
    "signup": classes.SIGNUP_ACTIONS,
    "request": experts.REQUEST_ACTIONS,
    "card": friends.CARD_ACTIONS,
    "interest": friends.INTEREST_ACTIONS,
}
STATES = {"post": POST_STATES, "signup": SIGNUP_STATES, "request": REQUEST_STATES, "card": CARD_STATES,
          "interest": INTEREST_STATES}
MODELS = {"post": Post, "signup": Signup, "request": HelpRequest, "card": Card, "interest": Interest}
STAFF_ROLES = {"post": "moderator", "signup": "coordinator", "request": "coordinator", "card": "matchmaker",
               "interest": "matchmaker"}

# Cells decided by hand, (record, state, action): allowed. The tables must say the same.
DECIDED = {
    ("post", "rejected", "restore"): False,  # a rejected post never reaches the wall by restoring
    ("post", "hidden", "restore"): True,
    ("post", "rejected", "approve"): False,
    ("post", "hidden", "approve"): False,
    ("post", "pending", "reject"): True,
    ("post", "approved", "reject"): False,
    ("post", "approved", "hide"): True,
    ("post", "hidden", "pin"): False,
    ("post", "rejected", "public-text"): True,
    ("signup", "confirmed", "cancel"): True,
    ("signup", "cancelled", "cancel"): False,
    ("signup", "cancelled", "cancel-by-staff"): False,
    ("signup", "waitlisted", "move"): True,
    ("signup", "confirmed", "move"): False,
    ("signup", "waitlisted", "attendance"): False,
    ("signup", "entered", "rate"): False,
    ("request", "new", "assigned"): True,
    ("request", "contacted", "done"): True,
    ("request", "done", "declined"): False,
    ("request", "declined", "assigned"): False,
    ("card", "pending", "approve"): True,
    ("card", "approved", "approve"): False,
    ("card", "rejected", "reject"): False,
    ("card", "rejected", "renew"): False,
    ("card", "expired", "renew"): True,
    ("card", "rejected", "edit"): True,
    ("card", "expired", "withdraw"): True,
    ("interest", "new", "asked"): True,
    ("interest", "asked", "asked"): False,
    ("interest", "declined", "owner-yes"): False,
    ("interest", "agreed", "owner-no"): False,
    ("interest", "agreed", "contacts"): True,
    ("interest", "asked", "contacts"): False,
    ("interest", "asked", "owner-contact"): True,
    ("interest", "agreed", "owner-contact"): False,
}


def allowed_by_table(kind: str, state: str, action: str) -> bool:
    return state in TABLES[kind][action].from_states


def test_the_tables_say_what_was_decided():
    disagree = {cell: decided for cell, decided in DECIDED.items() if allowed_by_table(*cell) != decided}
    assert disagree == {}


def test_every_table_names_only_its_records_states():
    for kind, table in TABLES.items():
        for action, rule in table.items():
            assert rule.from_states <= set(STATES[kind]), (kind, action)
            assert rule.to is None or rule.to in STATES[kind], (kind, action)


# --- making a record in a given state ------------------------------------------------------

@dataclass
class Made:
    """A record made for one try: its id, and what the try needs to send."""

    record_id: int
    form: dict


def _force_state(model, record_id: int, state: str, **values) -> None:
    db.session.execute(update(model).where(model.id == record_id).values(state=state, **values))
    db.session.commit()


def make_post(state: str, action: str, n: int) -> Made:
    receipt = wall.create_post("problem", f"楼道灯坏了，第{n}处", location="3号楼", posted_by=f"test:{n}")
    post_id = wall.receipt(receipt.code).id
    _force_state(Post, post_id, state, needs_review=True, pinned=action == "unpin",
                 published_at=utcnow() if state in ("approved", "hidden") else None)
    forms = {"reject": {"reason": "内容重复"}, "public-text": {"public_text": "楼道灯坏了（已编辑）"}}
    return Made(post_id, forms.get(action, {}))


def _course(capacity: int, mode: str = "first_come") -> int:
    today, local_now = site_today(), to_site(utcnow())
    course = classes.save_course(None, classes.CourseData(
        title="书法入门", category="calligraphy", teacher="王老师", venue="二楼书画室", capacity=capacity, mode=mode,
        term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=48),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    classes.set_status(course.id, "open")
    return course.id


def make_signup(state: str, action: str, n: int) -> Made:
    mobile = f"138{n:04d}5678"
    course_id = _course(capacity=1 if state == "waitlisted" else 3,
                        mode="lottery" if state == "entered" else "first_come")
    if state == "waitlisted":
        classes.sign_up(course_id, "李四光", f"139{n:04d}5678", created_by="test")
    outcome = classes.sign_up(course_id, "张三明", mobile, created_by="test")
    if state == "cancelled":
        classes.cancel(outcome.code, mobile[-4:])
    signup = classes.find_signup(outcome.code)
    assert signup.state == state
    meeting_id = db.session.get(Course, course_id).meetings[0].id
    if action == "rate":  # the term is over and they came: only the state can stand in the way
        db.session.execute(update(Course).where(Course.id == course_id).values(status="finished"))
        db.session.add(Attendance(session_id=meeting_id, signup_id=signup.id))
        db.session.commit()
    forms = {"cancel": {"code": outcome.code, "tail": mobile[-4:]}, "cancel-by-staff": {"reason": "本人来电取消"},
             "move": {"position": "1", "reason": "家里有急事"},
             "attendance": {"mark": "present", "meeting": meeting_id},
             "rate": {"code": outcome.code, "stars": "5", "comment": "很好"}}
    return Made(signup.id, forms[action])


def make_request(state: str, action: str, n: int) -> Made:
    expert = db.session.scalar(select(Expert).limit(1))
    if expert is None:
        expert = Expert(name="王秀兰", mobile="13912345601", display_name="王老师", consent_on=date(2026, 1, 5),
                        consent_scope="称呼和技能", state="listed", weekly_cap=20)
        db.session.add(expert)
        db.session.commit()
    receipt = experts.ask(expert.id, ["learn"], "想学写毛笔字", "林芳", f"136{n:04d}5678", created_by="test")
    request_id = experts.request_by_code(receipt.code).id
    _force_state(HelpRequest, request_id, state, closed_at=utcnow() if state in ("done", "declined") else None)
    return Made(request_id, {"state": action, "note": "已电话联系"})


def _card_data(intro: str = "喜欢看书看电影") -> friends.CardData:
    return friends.CardData(gender="female", age_band="30-34", area="东区", interests=["reading", "films"],
                            looking_for="partner", intro=intro, real_name="周晓雯", mobile="13700001234",
                            consent_public=True, consent_matchmaker=True, adult=True)


def _card(state: str) -> tuple[int, str]:
    receipt = friends.leave_card(_card_data(), created_by="test")
    card_id = friends.card_by_code(receipt.code).id
    now = utcnow()
    values = {"approved": {"approved_at": now, "expires_at": now + timedelta(days=90)},
              "rejected": {"reject_reason": "信息不全", "expires_at": now},
              "expired": {"approved_at": now - timedelta(days=91), "expires_at": now - timedelta(days=1)}}
    _force_state(Card, card_id, state, **values.get(state, {}))
    return card_id, receipt.code


def make_card(state: str, action: str, n: int) -> Made:
    card_id, code = _card(state)
    forms = {"reject": {"reason": "信息不全"},
             "edit": {"gender": "female", "age_band": "30-34", "area": "东区", "interests": ["reading", "music"],
                      "looking_for": "friends", "intro": "也喜欢音乐"}}
    return Made(card_id, {"code": code, **forms.get(action, {})})


def make_interest(state: str, action: str, n: int) -> Made:
    card_id, owner_code = _card("approved")
    interest = friends.express_interest(db.session.get(Card, card_id).number, name="李四",
                                        mobile=f"137{n:04d}4321", created_by="test")
    agreed = {"agreed": {"owner_agreed": True}, "declined": {"owner_agreed": False}}
    _force_state(Interest, interest.id, state, **agreed.get(state, {}))
    return Made(interest.id, {"code": owner_code, "note": "已电话询问"})


MAKERS = {"post": make_post, "signup": make_signup, "request": make_request, "card": make_card,
          "interest": make_interest}


# --- trying an action through HTTP ---------------------------------------------------------

@dataclass(frozen=True)
class Way:
    """One way an action reaches the service: who sends what, and what it answers."""

    by_staff: bool
    send: Callable  # (client, made) -> response
    allowed_status: int
    refused_status: int = 422
    # Besides the state: what the allowed action changed (the row afterwards, or None if deleted).
    done: Callable[[dict | None], bool] = lambda row: True


def staff_post(url: str, status: int = 303, extra: dict | None = None, **options) -> Way:
    def send(client, made):
        return client.post(url.format(id=made.record_id), data={**made.form, **(extra or {})})
    return Way(True, send, status, **options)


def resident_post(url: str, **options) -> Way:
    return Way(False, lambda client, made: client.post(url.format(id=made.record_id), data=made.form), 200, **options)


def _attendance(client, made):
    form = dict(made.form)
    meeting_id = form.pop("meeting")
    return client.post(f"/staff/classes/attendance/{meeting_id}/{made.record_id}", data=form)


def _answer(agreed: str):
    def send(client, made):
        return client.post(f"/c/main/friends/mine/answer/{made.record_id}",
                           data={"code": made.form["code"], "agreed": agreed})
    return send


WAYS = {
    "post": {action: [staff_post("/staff/wall/{id}/" + action, done=done)] for action, done in {
        "approve": lambda row: not row["needs_review"],
        "reject": lambda row: row["reject_reason"] == "内容重复",
        "hide": lambda row: True,
        "restore": lambda row: True,
        "pin": lambda row: row["pinned"],
        "unpin": lambda row: not row["pinned"],
        "public-text": lambda row: row["public_text"] == "楼道灯坏了（已编辑）",
    }.items()},
    "signup": {
        "cancel": [resident_post("/c/main/classes/cancel")],
        "cancel-by-staff": [staff_post("/staff/classes/signups/{id}/cancel")],
        "move": [staff_post("/staff/classes/signups/{id}/move")],
        "attendance": [Way(True, _attendance, 303)],
        "rate": [resident_post("/c/main/classes/rate")],
    },
    "request": {action: [staff_post("/staff/experts/requests/{id}", done=lambda row: row["staff_note"] == "已电话联系")]
                for action in ("assigned", "contacted", "done", "declined")},
    "card": {
        "approve": [staff_post("/staff/friends/cards/{id}/approve")],
        "reject": [staff_post("/staff/friends/cards/{id}/reject", done=lambda row: row["reject_reason"] == "信息不全")],
        "delete": [staff_post("/staff/friends/cards/{id}/delete")],
        "renew": [resident_post("/c/main/friends/mine/renew", done=lambda row: row["expires_at"] > utcnow())],
        "edit": [resident_post("/c/main/friends/mine/edit", done=lambda row: row["intro"] == "也喜欢音乐")],
        "withdraw": [resident_post("/c/main/friends/mine/withdraw")],
    },
    "interest": {
        "asked": [staff_post("/staff/friends/requests/{id}", extra={"action": "asked"},
                             done=lambda row: row["note"] == "已电话询问")],
        "owner-yes": [staff_post("/staff/friends/requests/{id}", extra={"action": "owner-yes"},
                                 done=lambda row: row["owner_agreed"]),
                      Way(False, _answer("yes"), 200, done=lambda row: row["owner_agreed"])],
        "owner-no": [staff_post("/staff/friends/requests/{id}", extra={"action": "owner-no"},
                                done=lambda row: not row["owner_agreed"]),
                     Way(False, _answer("no"), 200, done=lambda row: not row["owner_agreed"])],
        "requester-no": [staff_post("/staff/friends/requests/{id}", extra={"action": "requester-no"},
                                    done=lambda row: not row["requester_agreed"])],
        # Seeing both sides' contact details is a page, refused as forbidden.
        "contacts": [Way(True, lambda client, made: client.get(f"/staff/friends/requests/{made.record_id}/contacts"),
                         200, refused_status=403)],
        "owner-contact": [Way(True, lambda client, made: client.get(f"/staff/friends/requests/{made.record_id}/owner"),
                              200, refused_status=403)],
    },
}


def test_every_action_of_every_table_is_tried():
    assert {kind: set(ways) for kind, ways in WAYS.items()} == {kind: set(table) for kind, table in TABLES.items()}


def _row(model, record_id: int) -> dict | None:
    record = db.session.get(model, record_id)
    return None if record is None else {column.key: getattr(record, column.key) for column in model.__table__.columns}


def _done_actions() -> list[str]:
    """Audited actions, less the audit of staff seeing a page of personal data."""
    return [action for action in db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
            if not action.endswith("-viewed")]


def _audited(action: str, record_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action,
                                                                               AuditEntry.target_id == record_id))


def _side_effects(kind: str, record_id: int) -> tuple:
    """What an action leaves beside its row: the proof of those whose state stays."""
    if kind == "signup":
        count = select(func.count())
        return (db.session.scalar(count.select_from(Attendance).where(Attendance.signup_id == record_id)),
                db.session.scalar(count.select_from(Rating).where(Rating.signup_id == record_id)),
                _audited("waitlist-moved", record_id))
    if kind == "interest":
        return (_audited("contacts-viewed", record_id), _audited("card-contact-viewed", record_id))
    return ()


CASES = [(kind, state) for kind in TABLES for state in STATES[kind]]


@pytest.mark.parametrize("kind, state", CASES, ids=[f"{kind}-{state}" for kind, state in CASES])
def test_each_action_is_allowed_or_refused_as_the_table_says(kind, state, app, client, staff_client, run_in_app):
    staff = staff_client("staff", STAFF_ROLES[kind])
    model, table = MODELS[kind], TABLES[kind]
    outcomes, expected = {}, {}
    n = 0
    for action, ways in WAYS[kind].items():
        rule = table[action]
        allowed = allowed_by_table(kind, state, action)
        assert DECIDED.get((kind, state, action), allowed) == allowed, (kind, state, action)
        for way_number, way in enumerate(ways):
            n += 1
            made = run_in_app(MAKERS[kind], state, action, n)
            before = run_in_app(_row, model, made.record_id)
            effects_before = run_in_app(_side_effects, kind, made.record_id)
            audited_before = run_in_app(_done_actions)
            response = way.send(staff if way.by_staff else client, made)
            after = run_in_app(_row, model, made.record_id)
            cell = (action, way_number)
            expected[cell] = "allowed" if allowed else "refused"
            if response.status_code == way.refused_status and after == before \
                    and run_in_app(_side_effects, kind, made.record_id) == effects_before \
                    and run_in_app(_done_actions) == audited_before:
                outcomes[cell] = "refused"
            elif response.status_code == way.allowed_status and (
                    after is None if rule.deletes else
                    after is not None and after["state"] == (rule.to or state) and way.done(after)
                    and (rule.to is not None or after != before
                         or run_in_app(_side_effects, kind, made.record_id) != effects_before)):
                outcomes[cell] = "allowed"
            else:
                outcomes[cell] = f"status {response.status_code}, state {after and after['state']}"
    assert outcomes == expected


def test_restoring_a_rejected_post_is_refused_with_a_message_and_leaves_it_off_the_wall(client, staff_client,
                                                                                        run_in_app):
    moderator = staff_client("mod", "moderator")
    made = run_in_app(make_post, "rejected", "restore", 1)
    response = moderator.post(f"/staff/wall/{made.record_id}/restore", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Only a post that was hidden can be restored." in response.get_data(as_text=True)
    assert run_in_app(_row, Post, made.record_id)["state"] == "rejected"
    assert run_in_app(wall.public_post, made.record_id) is None


def test_a_moderators_row_offers_exactly_the_actions_its_state_allows(staff_client, run_in_app):
    moderator = staff_client("mod", "moderator")
    shown = {}
    for n, state in enumerate(POST_STATES, start=1):
        made = run_in_app(make_post, state, "pin", n)
        # An action on the row answers with the row as it is now; a refused one too.
        row = moderator.post(f"/staff/wall/{made.record_id}/public-text", data={"public_text": f"第{n}处"},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
        shown[state] = {action for action in wall.POST_ACTIONS if f'data-shortcut="{action}"' in row}
    assert shown == {state: set(allowed(wall.POST_ACTIONS, state)) - {"unpin"} for state in POST_STATES}

"""No GET changes what the database holds.

Every GET route of the app (read from app.url_map) is requested as an anonymous browser,
an enrolled kiosk and each staff role, with arguments taken from real rows in the states
their pages show (made by the boards' own services), a lottery whose entry window has
closed (its draw is due), a backup file and a phone handoff; whoever is answered is asked
again as htmx. A listener on the engine notes every INSERT, UPDATE and DELETE. A GET may
write only what EVERY_GET_MAY_WRITE and GET_MAY_WRITE list, and every entry there is used.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import time, timedelta

import pytest
from sqlalchemy import event, select, update
from werkzeug.datastructures import MultiDict

from app import backups
from app.cases import services as cases
from app.cases.models import Category
from app.classes import services as classes
from app.classes.models import Course
from app.clock import site_today, to_site, utcnow
from app.experts import services as experts
from app.extensions import db
from app.friends import services as friends
from app.housekeeping import LAST_RUN
from app.households import services as households
from app.kiosk import handoff
from app.kiosk.devices import DEVICE_COOKIE
from app.kiosk.models import Kiosk
from app.models import SiteFlag
from app.notices import services as notices
from app.staff.models import DISTRICT_ROLES, ROLES, StaffMember, StaffSession
from app.staff.services import SEEN_RESOLUTION
from app.wall import services as wall
from app.wall.models import Post
from tests.factories import enrolled_kiosk

AUDIT_ONLY = frozenset({("INSERT", "audit_entries")})
# A lookup by code counts against the device's limit: one upsert (housekeeping clears the
# windows gone by).
CODE_LOOKUP_COUNTED = frozenset({("INSERT", "rate_counters")})

# Writes any GET may make. Flask-Login loads the staff member on every request:
# the session's last-seen time (at most once a minute) keeps an active console signed in
# past the idle timeout, and a session found expired is ended.
EVERY_GET_MAY_WRITE = frozenset({("UPDATE", "staff_sessions")})

# Views whose GET may write, exactly what, and why.
GET_MAY_WRITE = {
    # Every staff view of personal data leaves an audit row (STYLE.md, Data): the roster...
    "staff.class_detail": AUDIT_ONLY,
    # ...its printout...
    "staff.print_roster": AUDIT_ONLY,
    # ...its spreadsheet export...
    "staff.roster_file": AUDIT_ONLY,
    "staff.audit_file": AUDIT_ONLY,
    "staff.expert_requests_file": AUDIT_ONLY,
    # ...an expert's form, which shows the expert's real name and mobile...
    "staff.edit_expert": AUDIT_ONLY,
    # ...the help requests, with the residents' names and numbers...
    "staff.expert_requests": AUDIT_ONLY,
    # ...both sides' names and numbers once an introduction is agreed...
    "staff.friends_contacts": AUDIT_ONLY,
    "staff.friends_owner_contact": AUDIT_ONLY,
    # ...a download of the whole database...
    "staff.download_backup": AUDIT_ONLY,
    # ...and of one community's records; the district tier reads across communities only
    # through named functions that leave an audit row (its figures, on the page and as files).
    "staff.export_community": AUDIT_ONLY,
    "staff.district_figures": AUDIT_ONLY,
    "staff.district_figures_file": AUDIT_ONLY,
    # A phone's camera can only open a link: the first opening claims the one-time link
    # (one conditional UPDATE), so a second phone, or a replay, gets nothing.
    "kiosk.handoff_open": frozenset({("UPDATE", "kiosk_handoffs")}),
    # Residents look up their own records by code; counting each lookup per device stops
    # codes from being guessed one after another (kiosk/access.py, code_lookup_limited).
    "classes.lookup": CODE_LOOKUP_COUNTED,
    "experts.receipt": CODE_LOOKUP_COUNTED,
    "friends.mine": CODE_LOOKUP_COUNTED,
    "wall.receipt": CODE_LOOKUP_COUNTED,
    "cases.receipt": CODE_LOOKUP_COUNTED,
    # A case opened by a unit's staff or a supervisor, from outside its community.
    "staff.case_page": AUDIT_ONLY,
    # A household card holds the household's code: showing or printing one is audited.
    "staff.household_card": AUDIT_ONLY,
    "staff.household_batch": AUDIT_ONLY,
}

# INSERT INTO t, INSERT OR REPLACE INTO t, UPDATE t, DELETE FROM t (SQLite and PostgreSQL).
WRITE = re.compile(r'\s*(?P<verb>INSERT|UPDATE|DELETE|REPLACE)\b(?:\s+OR\s+\w+)?(?:\s+INTO|\s+FROM)?'
                   r'\s+"?(?P<table>\w+)', re.IGNORECASE)
HTMX = {"HX-Request": "true"}


def test_the_pattern_names_every_kind_of_write():
    for statement, expected in [
        ("INSERT INTO audit_entries (at) VALUES (?)", ("INSERT", "audit_entries")),
        ('UPDATE "staff_sessions" SET last_seen_at=?', ("UPDATE", "staff_sessions")),
        ("DELETE FROM rate_counters WHERE key = ?", ("DELETE", "rate_counters")),
        ("insert or replace into site_flags values (?, ?)", ("INSERT", "site_flags")),
    ]:
        found = WRITE.match(statement)
        assert found and (found["verb"].upper(), found["table"].lower()) == expected, statement
    for statement in ("SELECT * FROM class_courses WHERE note = 'UPDATE x'", "PRAGMA foreign_keys=ON"):
        assert WRITE.match(statement) is None, statement


def _writes_of(engine) -> tuple[list, Callable[[], None]]:
    """A list that fills with (verb, table) for each write the engine runs; and a stop."""
    seen = []

    def note(_connection, _cursor, statement, _parameters, _context, _executemany):
        found = WRITE.match(statement)
        if found:
            seen.append((found["verb"].upper(), found["table"].lower()))

    event.listen(engine, "before_cursor_execute", note)
    return seen, lambda: event.remove(engine, "before_cursor_execute", note)


def _overdue_lottery() -> int:
    """A lottery with entries whose window closed an hour ago: its draw is due."""
    today, local_now = site_today(), to_site(utcnow())
    course = classes.save_course(None, classes.CourseData(
        title="太极拳抽签班", title_en="Tai chi (lottery)", category="fitness", teacher="赵老师", venue="一楼广场",
        capacity=2, mode="lottery", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=48),
        signup_opens_at=local_now - timedelta(days=2), signup_closes_at=local_now + timedelta(days=1),
        weekdays=(1,), start_time=time(9, 30), minutes=60))
    classes.set_status(course.id, "open")
    for index in range(3):
        classes.sign_up(course.id, f"居民{'甲乙丙'[index]}", f"1390000000{index}", source="kiosk",
                        created_by="kiosk:test")
    db.session.execute(update(Course).where(Course.id == course.id)
                       .values(signup_closes_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    return course.id


def _board_rows() -> dict:
    """A row of every kind the boards' GET routes name, each in a state its pages show."""
    now = utcnow()
    notice_id = notices.add_notice("本周六上午社区义诊", "一楼大厅免费量血压。", title_en="Free health check",
                                   starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=3))
    post_code = wall.create_post("wish", "希望小区多种些花草", nickname="老王", posted_by="kiosk:test").code
    post = db.session.scalar(select(Post).where(Post.receipt_code == post_code))
    wall.approve(post.id, None)

    # The demo's skill where the demo content is loaded (tests/test_isolation.py), else a new one.
    skill = next((skill for skill in experts.skills() if skill.name == "书法"), None) \
        or experts.save_skills([("书法", "calligraphy", "Calligraphy")])[0]
    expert = experts.save_experts([(None, experts.ExpertData(
        name="王秀兰", mobile="13900000001", display_name="王老师", skill_ids=[skill.id],
        consent_on=site_today(), consent_scope="称呼、技能和简介"))])[0]
    request_code = experts.ask(expert.id, ["learn"], "想学写楷书", "张三明", "13812345678",
                               created_by="kiosk:test").code

    codes = [friends.leave_card(friends.CardData(
        gender=gender, age_band="60-64", area="东区", interests=["walking"], looking_for="friends",
        intro="想找人散步。", real_name=name, mobile=mobile, consent_public=True, consent_matchmaker=True, adult=True),
        created_by="kiosk:test").code
        for gender, name, mobile in (("female", "刘桂芳", "13700000001"), ("male", "孙德海", "13700000002"))]
    cards = [friends.card_by_code(code) for code in codes]
    for card in cards:
        friends.review(card.id, True)
    interest = friends.express_interest(cards[0].number, own_code=codes[1], created_by="kiosk:test")
    friends.staff_update_interest(interest.id, "owner-yes")  # agreed: its contacts can be shown
    # Waiting for the owner's answer: the owner's contact can be shown to the matchmaker.
    waiting = friends.express_interest(cards[1].number, name="李四", mobile="13600000003", created_by="kiosk:test")

    today, local_now = site_today(), to_site(now)
    first_come = classes.save_course(None, classes.CourseData(
        title="书法入门", title_en="Calligraphy", category="calligraphy", teacher="王老师", venue="二楼书画室",
        capacity=3, mode="first_come", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=48),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90)).id
    classes.set_status(first_come, "open")
    signup_code = classes.sign_up(first_come, "张三明", "13812345678", created_by="kiosk:test").code
    survey = classes.save_survey("下学期您想参加哪些课程？", ["太极拳", "烘焙"])
    classes.set_survey_state(survey.id, "published")
    lights = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
    case = cases.take_in(cases.Intake(lights, "5号楼门口的路灯不亮了", place="5号楼", contact="13812345678"),
                         channel="kiosk", reported_by="kiosk:test")
    wall.approve(case.post_id, None)
    # Overdue at the committee: a supervisor opens it from outside the community (audited).
    case.state, case.handler_level, case.due_at = "accepted", "committee", now - timedelta(hours=1)
    db.session.commit()
    return {"case_number": case.number, "case_id": case.id, "case_post_id": case.post_id,
            "case_code": case.receipt_code,
            "notice_id": notice_id, "post": post, "post_code": post_code, "expert_id": expert.id,
            "request_code": request_code, "card": cards[0], "card_code": codes[0], "interest_id": interest.id,
            "waiting_interest_id": waiting.id,
            "first_come": first_come, "signup_code": signup_code, "survey_id": survey.id,
            "grid_id": cases.add_grid("第一网格")}


def _rows(kiosk_id: int) -> tuple[dict[str, list], dict[str, list[dict]]]:
    """Real rows for the routes' arguments (name -> values to try), and query strings
    to try per endpoint besides none."""
    rows = _board_rows()
    lottery = _overdue_lottery()
    form_page = f"/c/main/classes/{rows['first_come']}/sign-up"
    record, token = handoff.start(db.session.get(Kiosk, kiosk_id), "class-signup", form_page,
                                  MultiDict({"name": "张三明"}))
    cards = households.issue("3号楼", "2单元", count=2)
    households.bind_with_code(cards[1].code)
    arguments = {
        "course_id": [lottery, rows["first_come"]],
        "expert_id": [rows["expert_id"]],
        "number": [rows["card"].number],
        "notice_id": [rows["notice_id"]],
        "post_id": [rows["post"].id, rows["case_post_id"]],
        "case_number": [rows["case_number"]],
        "case_id": [rows["case_id"]],
        "interest_id": [rows["interest_id"], rows["waiting_interest_id"]],
        "member_id": [db.session.scalar(select(StaffMember.id).where(StaffMember.username == "coordinator"))],
        "handoff_id": [record.id],
        "token": [token, cards[0].link_token],
        "household_id": [cards[0].household.id],
        "batch": [cards[0].household.batch],
        "phone_id": [households.phones(cards[1].household.id)[0].id],
        "name": [backups.make_backup().name],
        "filename": ["css/kiosk.css"],
        "community": ["main"],
        "community_id": [1],
        "kiosk_id": [kiosk_id],
        "signup_id": [classes.find_signup(rows["signup_code"]).id],
        "survey_id": [rows["survey_id"]],
        "grid_id": [rows["grid_id"]],
        "kind": ["csv", "xlsx"],
        "what": ["course", "notice", "survey", "case"],
        "record_id": [rows["first_come"], rows["notice_id"], rows["survey_id"], rows["case_id"]],
    }
    queries = {
        "classes.lookup": [{"code": rows["signup_code"]}],
        "experts.receipt": [{"code": rows["request_code"]}],
        "cases.receipt": [{"code": rows["case_code"]}],
        "friends.mine": [{"code": rows["card_code"]}],
        "wall.receipt": [{"code": rows["post_code"]}],
        "experts.index": [{"q": "wang"}],
        "classes.courses": [{"category": "calligraphy"}],
    }
    # Signed in a while ago: the next request brings the last-seen time up to date.
    db.session.execute(update(StaffSession).values(last_seen_at=utcnow() - SEEN_RESOLUTION - timedelta(seconds=1)))
    db.session.commit()
    return arguments, queries


@pytest.fixture
def app(make_app):
    """Rate counts kept in the database, as without REDIS_URL: the sweep sees those writes."""
    return make_app(REDIS_URL=None)


@pytest.fixture
def everyone(app, client, staff_client, run_in_app):
    """A client per identity: anonymous, an enrolled kiosk, each staff role."""
    kiosk_id, token = run_in_app(enrolled_kiosk, "大厅")
    kiosk = app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, token)
    clients = {"anonymous": client, "kiosk": kiosk}
    for role in (*ROLES, *DISTRICT_ROLES):
        clients[role] = staff_client(role, role)
    return clients, kiosk_id


def test_no_get_writes_anything_but_what_is_listed(app, everyone, run_in_app):
    clients, kiosk_id = everyone
    arguments, queries = run_in_app(_rows, kiosk_id)
    lottery = arguments["course_id"][0]

    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    urls = []
    for rule in rules:
        missing = set(rule.arguments) - set(arguments)
        assert not missing, f"{rule}: add example rows for {sorted(missing)} to _rows()"
        for index in range(max((len(arguments[name]) for name in rule.arguments), default=1)):
            values = {name: arguments[name][min(index, len(arguments[name]) - 1)] for name in rule.arguments}
            for query in [{}, *queries.get(rule.endpoint, [])]:
                urls.append((rule.endpoint, rule.build({**values, **query}, append_unknown=True)[1]))
    assert set(GET_MAY_WRITE) <= {rule.endpoint for rule in rules}, "GET_MAY_WRITE names a view that is gone"

    with app.app_context():
        engine = db.engine
    seen, stop = _writes_of(engine)
    wrote, used, answered = [], defaultdict(set), defaultdict(set)
    try:
        for endpoint, url in urls:
            allowed = EVERY_GET_MAY_WRITE | GET_MAY_WRITE.get(endpoint, frozenset())
            for who, client in clients.items():
                for headers in ({}, HTMX):
                    seen.clear()
                    status = client.get(url, headers=headers).status_code
                    answered[endpoint].add(status)
                    used[endpoint].update(seen)
                    if set(seen) - allowed:
                        wrote.append(f"GET {url} as {who}{' (htmx)' if headers else ''} answered {status} "
                                     f"and wrote {sorted(set(seen) - allowed)}")
                    if status >= 400:  # refused as a page: refused the same way as htmx
                        break
    finally:
        stop()

    assert not wrote, "GET requests that wrote:\n" + "\n".join(wrote)
    # Each view ran for real for someone: no route was only ever refused or not found.
    assert not [endpoint for endpoint, statuses in answered.items() if min(statuses) >= 400], answered
    # The lists are exact: every allowance was needed, and an audit-only view wrote only audit rows.
    for endpoint, writes in GET_MAY_WRITE.items():
        assert used[endpoint] - EVERY_GET_MAY_WRITE == writes, f"{endpoint} wrote {sorted(used[endpoint])}"
    assert EVERY_GET_MAY_WRITE <= set().union(*used.values())

    # Nothing the clock decides happened on a GET: the due draw is not made, housekeeping never ran.
    assert run_in_app(lambda: db.session.get(Course, lottery).drawn_at) is None
    assert run_in_app(lambda: db.session.get(SiteFlag, LAST_RUN)) is None


def test_a_due_draw_shows_as_coming_until_a_heartbeat_makes_it(app, coordinator, kiosk_client, run_in_app):
    lottery = run_in_app(_overdue_lottery)
    listing = coordinator.get("/staff/classes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = re.search(rf'<tr id="course-{lottery}".*?</tr>', listing, re.S).group(0)
    assert "Draw coming" in row
    assert run_in_app(lambda: db.session.get(Course, lottery).drawn_at) is None

    heartbeat = kiosk_client.post("/device/heartbeat", headers={**HTMX, "HX-Current-URL": "http://kiosk.lan/"})
    assert heartbeat.status_code < 400
    assert run_in_app(lambda: db.session.get(Course, lottery).drawn_at) is not None
    listing = coordinator.get("/staff/classes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Draw coming" not in re.search(rf'<tr id="course-{lottery}".*?</tr>', listing, re.S).group(0)

"""Two communities on one platform, with look-alike content (the same demo, the same names,
texts and codes where a code may repeat): nothing of the second ever reaches the first's
kiosk, phones or staff.

Every GET route is visited, and every same-site link those pages hold is followed, as the
first community's kiosk, a phone, and each of its staff roles; no page shows a mark that only
the second community's records carry, or links to one of its records. The second's ids
(in every id-taking route, GET and POST) and its codes, used from the first, find nothing.

Each wall is shown alone: the data layer's choke point on the suite's database (SQLite has
no row security), and PostgreSQL's row-level security with the choke point switched off
(COMMUNITY_QUERY_SCOPE = False), on the suite's PostgreSQL database or one of its own.
"""

import io
import re
import zipfile
from collections import deque
from urllib.parse import urljoin, urlsplit

from sqlalchemy import func, select, update
from werkzeug.exceptions import HTTPException

from app import create_app
from app.audit import AuditEntry
from app.cases.models import Case, Grid
from app.classes.models import Course, Signup, Survey
from app.communities import scope
from app.communities.models import Community
from app.demo import load_demo_content
from app.experts.models import Expert, HelpRequest
from app.extensions import db
from app.friends.models import Card, Interest
from app.kiosk.devices import DEVICE_COOKIE
from app.kiosk.models import Kiosk
from app.notices.models import Notice
from app.staff.case_figures import XLSX
from app.staff.models import Membership, StaffMember
from app.wall.models import Post
from tests.conftest import _app_config, empty_tables
from tests.factories import STAFF_PASSWORD, enrolled_kiosk, staff_member
from tests.test_get_is_safe import _board_rows
from tests.test_row_security import migrated_postgres  # noqa: F401  (a fixture)

MARK = "乙社区"
SECOND = "hepingli"
# What a page could show of a record: every such text of the second community's carries MARK.
MARKED = {
    Post: ("text", "public_text", "nickname"), Notice: ("title", "body"), Course: ("title", "teacher", "venue"),
    Expert: ("display_name", "intro"), Card: ("intro",), Signup: ("name",), HelpRequest: ("name", "text"),
    Grid: ("name",), Kiosk: ("name",), Survey: ("question",), Case: ("text", "masked_text", "place"),
}
# Route arguments that name a record, and the record's table.
ARGUMENTS = {"post_id": Post, "notice_id": Notice, "course_id": Course, "expert_id": Expert, "number": Card,
             "interest_id": Interest, "signup_id": Signup, "request_id": HelpRequest, "card_id": Card,
             "kiosk_id": Kiosk, "survey_id": Survey, "member_id": StaffMember, "case_id": Case,
             "case_number": Case}
# Element ids that name a record, by the route argument that names the same record. A card
# is named by its number, which each community counts from 1: the same numbers in both.
ELEMENT_IDS = {"post": "post_id", "course": "course_id", "expert": "expert_id", "card": "number",
               "notice": "notice_id", "kiosk": "kiosk_id", "account": "member_id", "request": "request_id",
               "interest": "interest_id", "signup": "signup_id", "case": "case_number"}
ROLES = ("admin", "moderator", "coordinator", "matchmaker", "grid-worker")
MAX_PAGES = 900


def _mark_second(second: int) -> None:
    with scope.within(second):
        for model, fields in MARKED.items():
            columns = [field for field in fields if hasattr(model, field)]
            db.session.execute(update(model).values({field: getattr(model, field) + MARK for field in columns})
                               .execution_options(synchronize_session=False))
        db.session.commit()


def _ids(community_id: int) -> dict:
    """Route argument -> the values naming this community's records."""
    with scope.within(community_id):
        found = {name: set(db.session.scalars(select(model.id)))
                 for name, model in ARGUMENTS.items() if model is not StaffMember}
        found["number"] = set(db.session.scalars(select(Card.number)))
        found["case_number"] = set(db.session.scalars(select(Case.number)))
        found["member_id"] = set(db.session.scalars(select(Membership.member_id)
                                                    .where(Membership.community_id == community_id)))
    return found


def _only_second(world) -> dict:
    """Values that name a record of the second community and none of the first's."""
    first, second = world["ids"][1], world["ids"][world["second"]]
    return {name: second[name] - first[name] for name in second}


def _codes(community_id: int) -> dict:
    with scope.within(community_id):
        return {"wall.receipt": db.session.scalars(select(Post.receipt_code)).all(),
                "classes.lookup": db.session.scalars(select(Signup.code).where(Signup.code.is_not(None))).all(),
                "experts.receipt": db.session.scalars(select(HelpRequest.code)).all(),
                "friends.mine": db.session.scalars(select(Card.code)).all(),
                "cases.receipt": db.session.scalars(select(Case.receipt_code)).all()}


def _build(app) -> dict:
    """Both communities with the demo content and a row of every kind; the second's marked.
    Returns ids, codes and the first's clients."""
    with app.app_context():
        load_demo_content()
        second = db.session.scalar(select(Community.id).where(Community.slug == SECOND))
        rows = {}
        for community_id in (1, second):
            with scope.within(community_id):
                rows[community_id] = _board_rows()
                enrolled_kiosk("大厅")
        for role in ROLES:
            staff_member(f"a-{role}", role, display_name=f"甲{role}")
        with scope.within(second):
            staff_member("b-admin", "admin", display_name=f"{MARK}管理员")
            # Look-alike codes: the second's first posts take codes the first's posts have.
            first_codes = _codes(1)["wall.receipt"]
            for post_id, code in zip(db.session.scalars(select(Post.id).order_by(Post.id)).all()[:3], first_codes):
                db.session.execute(update(Post).where(Post.id == post_id).values(receipt_code=code))
            db.session.commit()
        _mark_second(second)
        with scope.across("the test counts the second community's records"):
            marked = db.session.scalar(select(func.count()).select_from(Post).where(Post.text.contains(MARK)))
        ids = {1: _ids(1), second: _ids(second)}
        codes = {1: _codes(1), second: _codes(second)}
        with scope.within(1):
            _kiosk_id, token = enrolled_kiosk("甲大厅")
    assert marked > 10
    kiosk = app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, token)
    clients = {"kiosk": kiosk, "phone": app.test_client()}
    for role in ROLES:
        client = app.test_client()
        signed_in = client.post("/staff/sign-in", data={"username": f"a-{role}", "password": STAFF_PASSWORD})
        assert signed_in.status_code == 303
        clients[role] = client
    return {"second": second, "ids": ids, "codes": codes, "clients": clients, "rows": rows}


LINK = re.compile(r'(?:href|hx-get|action|src)="([^"#]+)"')
ELEMENT = re.compile(rf'id="({"|".join(ELEMENT_IDS)})-(\d+)"')


def _example(rule, ids) -> str | None:
    values = {}
    for name in rule.arguments:
        if name == "community":
            values[name] = "main"
        elif ids.get(name):
            values[name] = min(ids[name])
        elif name == "kind":
            values[name] = "csv"
        else:
            return None
    return rule.build(values)[1]


def _readable(response) -> str:
    """The text a visitor reads in the answer: a page's markup, or every part of a workbook."""
    if response.mimetype == XLSX:
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as workbook:
            return "\n".join(workbook.read(name).decode() for name in workbook.namelist())
    if response.mimetype.startswith("image/"):
        return ""  # a share poster: its words and link are on its share page, read as text there
    return response.get_data(as_text=True)


def _crawl(app, world) -> dict:
    """Every page each of the first community's visitors reaches: url -> (visitor, body)."""
    first_ids, second_ids = world["ids"][1], _only_second(world)
    starts = ["/c/main/", "/staff/"]
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static" and not rule.endpoint.endswith("handoff_open"):
            url = _example(rule, first_ids)
            if url:
                starts.append(url)
    for endpoint, codes in world["codes"][1].items():
        path = app.url_map.bind("localhost").build(endpoint, {"community": "main"})
        starts += [f"{path}?code={code}" for code in codes[:2]]
    problems, visited = [], 0
    adapter = app.url_map.bind("localhost")
    for visitor, client in world["clients"].items():
        seen, queue = set(), deque(starts)
        while queue and visited < MAX_PAGES * len(world["clients"]):
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url, headers={"Accept-Language": "zh-CN"})
            visited += 1
            body = _readable(response)
            if response.status_code >= 500:
                problems.append(f"{visitor} {url}: {response.status_code}")
            if MARK in body:
                problems.append(f"{visitor} {url}: shows the second community's {MARK!r}")
            for kind, number in ELEMENT.findall(body):
                if {int(number), number} & second_ids[ELEMENT_IDS[kind]]:
                    problems.append(f"{visitor} {url}: element {kind}-{number} is the second community's")
            for link in LINK.findall(body):
                target = urlsplit(urljoin(url, link.replace("&amp;", "&")))
                if target.netloc or target.path.startswith("/static/"):
                    continue
                try:
                    endpoint, values = adapter.match(target.path, method="GET")
                except HTTPException:  # a POST-only action, or a page elsewhere
                    continue
                if values.get("community", "main") != "main":
                    problems.append(f"{visitor} {url}: links to another community's {target.path}")
                for name, value in values.items():
                    if value in second_ids.get(name, ()):
                        problems.append(f"{visitor} {url}: links to the second community's {name}={value}")
                if endpoint.startswith(("staff.sign_out", "kiosk.reset")) or "/sign-out" in target.path:
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return {"problems": problems, "visited": visited}


def _second_ids_from_the_first(app, world) -> list[str]:
    """Every id-taking route with the second community's ids: GET and POST, as the first's
    visitor allowed there, must find nothing (404) and change nothing."""
    second_ids = _only_second(world)
    problems = []
    with app.app_context(), scope.within(world["second"]):
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for rule in app.url_map.iter_rules():
        named = [name for name in rule.arguments if name in ARGUMENTS]
        if not named or rule.endpoint.endswith("handoff_open") or any(not second_ids[name] for name in named):
            continue
        url = _example(rule, second_ids)
        if url is None:
            continue
        visitor = "admin" if rule.rule.startswith("/staff") else "kiosk"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = world["clients"][visitor].open(url, method=method, data={"reason": "x", "code": "x"})
            if response.status_code != 404:
                problems.append(f"{visitor} {method} {url}: {response.status_code}, not 404")
    with app.app_context(), scope.within(world["second"]):
        if db.session.scalar(select(func.count()).select_from(AuditEntry)) != audit_before:
            problems.append("a request from the first community changed the second's records")
    return problems


def _second_codes_from_the_first(app, world) -> list[str]:
    problems = []
    adapter = app.url_map.bind("localhost")
    first = {code for codes in world["codes"][1].values() for code in codes}
    for endpoint, codes in world["codes"][world["second"]].items():
        path = adapter.build(endpoint, {"community": "main"})
        for number, code in enumerate(codes):
            # A phone of its own each time: the limit on typed codes must not answer instead.
            response = app.test_client().get(f"{path}?code={code}",
                                              environ_base={"REMOTE_ADDR": f"10.9.{number // 250}.{number % 250 + 1}"})
            assert response.status_code in (200, 404), (endpoint, response.status_code)
            body = response.get_data(as_text=True)
            if MARK in body:
                problems.append(f"{endpoint} with the second community's code {code} shows its record")
            if code not in first and endpoint == "friends.mine" and "没有这个卡片码" not in body \
                    and "No card has this code" not in body:
                problems.append(f"{endpoint} with the second community's code {code}: not told there is no such card")
    return problems


def _check_both_ways(app):
    world = _build(app)
    crawled = _crawl(app, world)
    assert crawled["visited"] > 300
    problems = crawled["problems"] + _second_ids_from_the_first(app, world) + _second_codes_from_the_first(app, world)
    assert problems == []
    # The second community does have all of it: its own pages show it.
    assert MARK in world["clients"]["phone"].get(f"/c/{SECOND}/wall/").get_data(as_text=True)


def test_the_suites_database_keeps_each_community_to_itself(app):
    """The choke point alone on SQLite; on PostgreSQL, both walls together."""
    _check_both_ways(app)


def test_row_security_alone_keeps_each_community_to_itself(migrated_postgres, tmp_path):  # noqa: F811
    empty_tables(migrated_postgres)
    app = create_app(_app_config(migrated_postgres, COMMUNITY_QUERY_SCOPE=False),
                     instance_path=str(tmp_path / "instance"))
    from flask import appcontext_pushed

    from tests.conftest import work_in_first_community

    appcontext_pushed.connect(work_in_first_community, app)
    try:
        _check_both_ways(app)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

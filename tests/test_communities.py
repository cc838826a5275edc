"""Communities: the data layer's choke point, scoped uniqueness, and which community a
request is for (app/communities/). Row-level security on PostgreSQL: test_row_security.py."""

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.cases import services as cases
from app.cases.models import Grid
from app.communities import scope
from app.communities.models import Community
from app.extensions import db
from app.kiosk.devices import DEVICE_COOKIE
from app.kiosk.models import Kiosk
from app.notices import services as notices
from app.wall import services as wall
from app.wall.models import Post
from tests.factories import STAFF_PASSWORD, add_community, enrolled_kiosk, rename_community, staff_member

TEXT = "楼下的花开了，欢迎大家来看看。"


@pytest.fixture
def second(run_in_app):
    return run_in_app(add_community)


def _approved_post(text: str = TEXT) -> tuple[int, str]:
    receipt = wall.create_post("wish", text, nickname="老张", posted_by="test")
    post = db.session.scalar(select(Post).where(Post.receipt_code == receipt.code))
    wall.approve(post.id, None)
    return post.id, receipt.code


def _look_alike(first: int, other: int) -> dict:
    """The same post, grid and notice in both communities; their ids."""
    made = {}
    for community_id in (first, other):
        with scope.within(community_id):
            post_id, code = _approved_post()
            cases.add_grid("一网格")
            notice_id = notices.add_notice("本周六义诊", "一楼大厅")
            made[community_id] = {"post": post_id, "code": code, "notice": notice_id}
    return made


def test_each_community_reads_only_its_own_rows(run_in_app, second):
    made = run_in_app(_look_alike, 1, second)

    def read(community_id):
        with scope.within(community_id):
            return {
                "posts": db.session.scalars(select(Post.id)).all(),
                "count": db.session.scalar(select(func.count()).select_from(Post)),
                "count_column": db.session.scalar(select(func.count(Post.id))),
                "grids": db.session.scalars(select(Grid.name)).all(),
                "by_id": [db.session.get(Post, made[c]["post"]) is not None for c in (1, second)],
                "receipt": [wall.receipt(made[c]["code"]) is not None for c in (1, second)],
                "joined": db.session.execute(select(Post.id, Grid.id).join(Grid, Grid.name == "一网格")).all(),
                "notices": [n.id for n in notices.current_notices("zh_Hans")],
            }

    for community_id, other in ((1, second), (second, 1)):
        seen = run_in_app(read, community_id)
        assert seen["posts"] == [made[community_id]["post"]]
        assert seen["count"] == seen["count_column"] == 1
        assert seen["grids"] == ["一网格"]
        assert seen["by_id"] == [community_id == 1, community_id == second]
        # Same-looking receipt codes may even be equal; each community finds only its own post.
        assert seen["receipt"][[1, second].index(community_id)]
        assert seen["joined"] == [(made[community_id]["post"], seen["joined"][0][1])]
        assert seen["notices"] == [made[community_id]["notice"]]
        assert made[other]["post"] not in seen["posts"]


def test_updates_and_deletes_reach_only_the_scope(run_in_app, second):
    made = run_in_app(_look_alike, 1, second)

    def change_everything():
        with scope.within(second):
            pinned = db.session.execute(update(Post).values(pinned=True)).rowcount
            removed = db.session.execute(delete(Post).where(Post.id == made[1]["post"])).rowcount
            db.session.commit()
        with scope.within(1):
            return pinned, removed, db.session.get(Post, made[1]["post"]).pinned

    assert run_in_app(change_everything) == (1, 0, False)


def test_new_rows_take_the_scope_one_by_one_and_in_bulk(run_in_app, second):
    def add():
        with scope.within(second):
            post_id, _ = _approved_post()
            db.session.execute(insert(Post), [{
                "kind": "wish", "text": "批量", "public_text": "批量", "text_key": "k", "state": "approved",
                "receipt_code": "B0000001", "posted_by": "test"}])
            db.session.commit()
        with scope.across("the test reads both communities"):
            return {row.community_id for row in db.session.scalars(select(Post))}

    assert run_in_app(add) == {second}


def test_a_query_with_no_community_chosen_is_refused(app):
    with app.app_context():
        token = scope._explicit.set(None)
        from flask import g

        g.community_scope = None
        try:
            with pytest.raises(scope.ScopeMissing):
                db.session.scalars(select(Post)).all()
            with pytest.raises(scope.ScopeMissing):
                db.session.add(Grid(name="无主网格"))
                db.session.flush()
            db.session.rollback()
            # Unscoped tables stay readable: the community is decided from them.
            assert db.session.scalar(select(Community.slug).where(Community.id == 1)) == "main"
        finally:
            scope._explicit.reset(token)


def test_codes_and_names_are_unique_per_community(run_in_app, second):
    def same_code_twice():
        rows = {"kind": "wish", "text": "x", "public_text": "x", "text_key": "k", "state": "approved",
                "receipt_code": "12345678", "posted_by": "test"}
        for community_id in (1, second):
            with scope.within(community_id):
                db.session.execute(insert(Post), [rows])
                cases.add_grid("二网格")
                db.session.commit()
        with scope.within(1):
            with pytest.raises(IntegrityError):
                db.session.execute(insert(Post), [rows])
            db.session.rollback()
            with pytest.raises(cases.CaseError):
                cases.add_grid("二网格")
        with scope.across("count"):
            return db.session.scalar(select(func.count()).select_from(Post))

    assert run_in_app(same_code_twice) == 2


# --- which community a request is for ---------------------------------------------------------

def test_paths_without_a_community_go_to_the_first_one_keeping_the_method(client):
    assert client.get("/").headers["Location"] == "/c/main/"
    moved = client.get("/wall/?kind=wish")
    assert moved.status_code == 307 and moved.headers["Location"] == "/c/main/wall/?kind=wish"
    posted = client.post("/wall/posts", data={"kind": "wish"})
    assert posted.status_code == 307 and posted.headers["Location"] == "/c/main/wall/posts"
    assert client.get("/c/main/wall/").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/c/nowhere/wall/").status_code == 404


def test_each_community_has_its_own_pages(client, run_in_app, second):
    made = run_in_app(_look_alike, 1, second)
    page_b = client.get("/c/hepingli/wall/").get_data(as_text=True)
    assert f'id="post-{made[second]["post"]}"' in page_b and f'id="post-{made[1]["post"]}"' not in page_b
    assert client.get(f'/c/hepingli/notices/{made[1]["notice"]}').status_code == 404
    assert client.get(f'/c/main/notices/{made[1]["notice"]}').status_code == 200
    # Links on a community's pages stay in that community.
    assert 'href="/c/hepingli/wall/' in page_b and 'href="/c/main/' not in page_b


def test_a_kiosk_shows_its_own_community_only(app, run_in_app, second):
    made = run_in_app(_look_alike, 1, second)

    def enrol_in_second():
        with scope.within(second):
            return enrolled_kiosk("和平里大厅")

    _kiosk_id, token = run_in_app(enrol_in_second)
    kiosk = app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, token)
    assert kiosk.get("/").headers["Location"] == "/c/hepingli/"
    assert kiosk.get("/wall/").headers["Location"] == "/c/hepingli/wall/"
    assert kiosk.get("/c/hepingli/wall/").status_code == 200
    assert kiosk.get("/c/main/wall/").status_code == 404
    assert kiosk.get(f'/c/main/notices/{made[1]["notice"]}').status_code == 404
    receipt = kiosk.get(f'/c/hepingli/wall/receipt?code={made[1]["code"]}')
    same_code = made[1]["code"] == made[second]["code"]
    assert same_code or TEXT not in receipt.get_data(as_text=True)


def test_a_renamed_slug_still_leads_to_the_community(client, run_in_app, second):
    run_in_app(rename_community, second, "heping")
    moved = client.get("/c/hepingli/wall/?kind=wish")
    assert moved.status_code == 307 and moved.headers["Location"] == "/c/heping/wall/?kind=wish"


def test_staff_work_in_their_own_community(app, run_in_app, second):
    made = run_in_app(_look_alike, 1, second)

    def member_of_second():
        with scope.within(second):
            return staff_member("heping-mod", "moderator")

    run_in_app(member_of_second)
    console = app.test_client()
    signed_in = console.post("/staff/sign-in", data={"username": "heping-mod", "password": STAFF_PASSWORD})
    assert signed_in.status_code == 303
    queue = console.get("/staff/wall?which=all").get_data(as_text=True)
    assert console.get("/staff/wall").status_code == 200
    assert f'post-{made[1]["post"]}"' not in queue
    # The first community's records, by id, are not there for this moderator.
    assert console.post(f'/staff/wall/{made[1]["post"]}/hide').status_code == 404
    assert console.get(f'/staff/notices/{made[1]["notice"]}/edit').status_code == 404
    with app.app_context(), scope.within(1):
        assert not db.session.get(Post, made[1]["post"]).pinned
        assert db.session.get(Post, made[1]["post"]).state == "approved"


def test_a_person_in_two_communities_switches_between_them(app, run_in_app, second):
    run_in_app(_look_alike, 1, second)

    def two_places():
        member_id = staff_member("both", "moderator")
        with scope.within(second):
            from app.staff.models import Membership

            db.session.add(Membership(member_id=member_id, community_id=second, roles="coordinator"))
            db.session.commit()

    run_in_app(two_places)
    console = app.test_client()
    console.post("/staff/sign-in", data={"username": "both", "password": STAFF_PASSWORD})
    page = console.get("/staff/").get_data(as_text=True)
    assert "邻里屏" in page and "和平里社区" in page  # the switcher names both
    assert console.get("/staff/wall").status_code == 200
    assert console.get("/staff/classes").status_code == 403  # a moderator here, not a coordinator
    assert console.post("/staff/community", data={"community_id": second}).status_code == 303
    assert console.get("/staff/classes").status_code == 200
    assert console.get("/staff/wall").status_code == 403
    refused = console.post("/staff/community", data={"community_id": 999})
    assert refused.status_code == 422


def test_the_command_line_works_in_a_named_community(app, run_in_app, second):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["staff", "create", "cli-coord", "--role", "coordinator", "--community", "hepingli",
                               "--password-stdin"], input=STAFF_PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    missing = runner.invoke(args=["seed", "--posts", "1", "--community", "nowhere"])
    assert missing.exit_code != 0 and "nowhere" in missing.output

    def memberships():
        from app.staff.models import Membership, StaffMember

        return db.session.execute(select(Membership.community_id, Membership.roles).join(
            StaffMember, StaffMember.id == Membership.member_id).where(StaffMember.username == "cli-coord")).all()

    assert run_in_app(memberships) == [(second, "coordinator")]


def test_kiosks_are_listed_in_their_own_community(run_in_app, second):
    def enrol_both():
        enrolled_kiosk("幸福里大厅")
        with scope.within(second):
            enrolled_kiosk("和平里大厅")
        with scope.within(second):
            return db.session.scalars(select(Kiosk.name)).all()

    assert run_in_app(enrol_both) == ["和平里大厅"]


def test_a_phone_link_opens_only_in_its_kiosks_community(app, run_in_app, second):
    from werkzeug.datastructures import MultiDict

    from app.kiosk import handoff

    def link_in_second():
        with scope.within(second):
            kiosk_id, _token = enrolled_kiosk("和平里大厅")
            _record, token = handoff.start(db.session.get(Kiosk, kiosk_id), "wall-post", "/c/hepingli/wall/new",
                                           MultiDict({"text": "想在楼下种花"}))
            db.session.commit()
            return token

    token = run_in_app(link_in_second)
    phone = app.test_client()
    assert phone.get(f"/c/main/h/{token}").status_code == 404
    opened = phone.get(f"/c/hepingli/h/{token}")
    assert opened.status_code in (200, 303) and "想在楼下种花" in phone.get(
        opened.headers.get("Location", f"/c/hepingli/h/{token}")).get_data(as_text=True) + opened.get_data(as_text=True)


def test_a_slug_no_community_could_have_is_a_404(client):
    for slug in ("%00", "UPPER", "-x", "a" * 50):
        assert client.get(f"/c/{slug}/wall/").status_code == 404, slug


def _a_course() -> int:
    from tests.classes.test_services import new_course

    return new_course(capacity=5)


def test_a_statement_on_the_connection_is_scoped_as_the_session_runs_it(run_in_app, second):
    """scope.execute_on_connection (a sign-up's statements between its first write and its
    commit) reads and writes the scope's community only, a new row takes the scope's
    community, and a Python-side default (updated_at) is set as at execution."""
    from app.classes.models import Course, Signup
    from app.classes.services.signups import _INSERT, _SEAT

    course_id = run_in_app(_a_course)  # in the first community

    def elsewhere():
        with scope.within(second):
            taken = scope.execute_on_connection(_SEAT, {"course_id": course_id, "now": _now(), "today": _today()})
            db.session.commit()
            return taken

    assert run_in_app(elsewhere) == []

    def here():
        before = db.session.scalar(select(Course.updated_at).where(Course.id == course_id))
        arrival = scope.execute_on_connection(_SEAT, {"course_id": course_id, "now": _now(), "today": _today()})
        signup_id = scope.execute_on_connection(_INSERT, {
            "course_id": course_id, "name": "张三丰", "mobile": "13900000001", "mobile_tail": "0001",
            "masked_name": "张*丰", "code": "12345678", "entry_ref": None, "state": "confirmed", "source": "kiosk",
            "queue_key": 1, "arrival": 1, "created_by": "kiosk:1", "household_once": None, "created_at": _now(),
            "confirmed_at": _now()})[0][0]
        db.session.commit()
        course = db.session.execute(select(Course.taken, Course.arrivals, Course.updated_at)
                                    .where(Course.id == course_id)).one()
        return arrival, course, before, db.session.scalar(select(Signup.community_id).where(Signup.id == signup_id))

    arrival, (taken, arrivals, updated_at), before, community_id = run_in_app(here)
    assert arrival == [(1,)] and (taken, arrivals) == (1, 1) and community_id == 1
    assert updated_at > before


def test_a_statement_on_the_connection_needs_one_community_and_no_followed_table(run_in_app):
    from sqlalchemy import bindparam

    from app.classes.services.signups import _SEAT

    def across():
        with scope.across("a test"):
            scope.execute_on_connection(_SEAT, {"course_id": 1, "now": _now(), "today": _today()})

    with pytest.raises(scope.ScopeMissing):
        run_in_app(across)
    followed = update(notices.Notice).where(notices.Notice.id == bindparam("id")).values(title="x")
    with pytest.raises(ValueError, match="followed by a board"):
        run_in_app(lambda: scope.execute_on_connection(followed, {"id": 1}))


def _now():
    from app.clock import utcnow

    return utcnow()


def _today():
    from app.clock import site_today

    return site_today()


def test_a_statement_on_the_connection_fails_as_the_session_would(run_in_app):
    """A unique row inserted twice: SQLAlchemy's IntegrityError (what a sign-up's retry
    catches), not the driver's own."""
    from sqlalchemy.exc import IntegrityError

    from app.limits import RateCounter

    from sqlalchemy import bindparam

    def twice():
        plain = insert(RateCounter).values(community_id=bindparam("community_id"), key=bindparam("key"),
                                           window=bindparam("window"), hits=1)
        values = {"key": "twice", "window": 1}
        scope.execute_on_connection(plain, values)
        try:
            scope.execute_on_connection(plain, values)
        finally:
            db.session.rollback()

    with pytest.raises(IntegrityError):
        run_in_app(twice)

"""The district console: communities, who works where, notices for many lobbies, and
settings at the district's and each community's level."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.clock import to_site, utcnow
from app.communities import scope
from app.communities.models import Community
from app.extensions import db
from app.notices.models import Notice
from app.staff.models import Membership
from tests.factories import STAFF_PASSWORD, staff_member


def _sign_in(app, username):
    client = app.test_client()
    assert client.post("/staff/sign-in", data={"username": username, "password": STAFF_PASSWORD}).status_code == 303
    return client


@pytest.fixture
def district_admin(app, run_in_app):
    run_in_app(staff_member, "district", "admin", "district-admin", display_name="街道管理员")
    return _sign_in(app, "district")


def _time(moment):
    return to_site(moment).strftime("%Y-%m-%dT%H:%M")


def test_only_district_staff_open_the_district_console(app, run_in_app, district_admin):
    run_in_app(staff_member, "local-admin", "admin")
    run_in_app(staff_member, "viewer", "district-viewer")
    local = _sign_in(app, "local-admin")
    viewer = _sign_in(app, "viewer")
    assert district_admin.get("/staff/district").status_code == 200
    assert local.get("/staff/district").status_code == 403
    assert viewer.get("/staff/district").status_code == 403
    assert 'href="/staff/district"' in district_admin.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/district"' not in local.get("/staff/").get_data(as_text=True)


def test_a_district_admin_creates_and_renames_a_community(app, client, district_admin, run_in_app):
    bad = district_admin.post("/staff/district/communities", data={"name": "和平里社区", "slug": "He Ping"})
    assert bad.status_code == 422 and "小写字母" in bad.get_data(as_text=True)
    taken = district_admin.post("/staff/district/communities", data={"name": "重名", "slug": "main"})
    assert taken.status_code == 422 and "已被使用" in taken.get_data(as_text=True)
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Community))) == 1

    made = district_admin.post("/staff/district/communities", data={"name": "和平里社区", "slug": "hepingli"})
    assert made.status_code == 303
    assert "和平里社区" in client.get("/c/hepingli/").get_data(as_text=True)
    community_id = run_in_app(lambda: db.session.scalar(select(Community.id).where(Community.slug == "hepingli")))

    renamed = district_admin.post(f"/staff/district/communities/{community_id}", data={
        "name": "和平里", "slug": "heping"})
    assert renamed.status_code == 303
    assert client.get("/c/hepingli/wall/").headers["Location"] == "/c/heping/wall/"
    assert "和平里" in client.get("/c/heping/").get_data(as_text=True)

    def audited():
        with scope.within(community_id):
            return sorted(db.session.scalars(select(AuditEntry.action).where(AuditEntry.area == "staff")))

    assert run_in_app(audited) == ["community-created", "community-renamed"]


def test_a_district_admin_assigns_a_person_to_a_second_community(app, district_admin, run_in_app):
    run_in_app(staff_member, "wang", "moderator")
    district_admin.post("/staff/district/communities", data={"name": "和平里社区", "slug": "hepingli"})
    second = run_in_app(lambda: db.session.scalar(select(Community.id).where(Community.slug == "hepingli")))
    nobody = district_admin.post("/staff/district/staff", data={"username": "nobody", "community": second,
                                                                "roles": ["coordinator"]})
    assert nobody.status_code == 422 and "没有这个用户名" in nobody.get_data(as_text=True)
    assert district_admin.post("/staff/district/staff", data={"username": "wang", "community": second,
                                                              "roles": ["coordinator"]}).status_code == 303
    wang = _sign_in(app, "wang")
    assert wang.post("/staff/community", data={"community_id": second}).status_code == 303
    assert wang.get("/staff/classes").status_code == 200
    # No roles: the place is taken away.
    district_admin.post("/staff/district/staff", data={"username": "wang", "community": second})
    assert run_in_app(lambda: db.session.scalars(select(Membership.community_id)
                                                 .where(Membership.community_id == second)).all()) == []


def test_a_district_notice_reaches_the_chosen_communities_only(app, client, district_admin, run_in_app):
    for slug, name in (("hepingli", "和平里社区"), ("anle", "安乐社区")):
        district_admin.post("/staff/district/communities", data={"name": name, "slug": slug})
    ids = dict(run_in_app(lambda: db.session.execute(select(Community.slug, Community.id)).all()))
    now = utcnow()
    starts, ends = run_in_app(lambda: (_time(now - timedelta(minutes=1)), _time(now + timedelta(hours=6))))
    form = {"title": "明日停水", "body": "3号楼至7号楼", "urgency": "urgent", "starts_at": starts,
            "ends_at": ends, "communities": [ids["main"], ids["hepingli"]]}
    none_chosen = district_admin.post("/staff/district/notices", data={**form, "communities": []})
    assert none_chosen.status_code == 422 and "请至少选择一个社区" in none_chosen.get_data(as_text=True)
    no_end = district_admin.post("/staff/district/notices", data={**form, "ends_at": ""})
    assert no_end.status_code == 422
    sent = district_admin.post("/staff/district/notices", data=form)
    assert sent.status_code == 303
    for slug, shown in (("main", True), ("hepingli", True), ("anle", False)):
        page = client.get(f"/c/{slug}/").get_data(as_text=True)
        banner = re.search(r'<div id="urgent".*?</div>', page, re.S).group(0)
        assert ("明日停水" in banner) is shown, slug

    def notices_by_community():
        with scope.across("the test counts notices"):
            counted = select(Notice.community_id, func.count()).group_by(Notice.community_id)
            return dict(db.session.execute(counted).all())

    assert run_in_app(notices_by_community) == {ids["main"]: 1, ids["hepingli"]: 1}
    everywhere = district_admin.post("/staff/district/notices", data={**form, "everywhere": "y", "communities": []})
    assert everywhere.status_code == 303
    assert "明日停水" in client.get("/c/anle/").get_data(as_text=True)


def test_a_community_admin_sets_its_own_values_over_the_districts(app, client, district_admin, run_in_app):
    district_admin.post("/staff/district/communities", data={"name": "和平里社区", "slug": "hepingli"})
    run_in_app(staff_member, "local-admin", "admin")
    local = _sign_in(app, "local-admin")

    bad = local.post("/staff/settings", data={"WALL_POLL_SECONDS": "0", "BABEL_DEFAULT_TIMEZONE": "Mars/Base",
                                              "FRIENDS_AREAS": "东区"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "2 到 600 之间的整数" in body and "Asia/Shanghai" in body
    assert 'value="Mars/Base"' in body  # what was typed stays in the form
    assert run_in_app(lambda: db.session.get(Community, 1).settings) == "{}"

    saved = local.post("/staff/settings", data={"WALL_POLL_SECONDS": "20", "FRIENDS_AREAS": "东院\n西院"})
    assert saved.status_code == 303
    assert 'every 20s' in client.get("/c/main/wall/").get_data(as_text=True)
    assert 'every 10s' in client.get("/c/hepingli/wall/").get_data(as_text=True)
    assert 'value="东院"' in client.get("/c/main/friends/new").get_data(as_text=True)
    assert 'value="东院"' not in client.get("/c/hepingli/friends/new").get_data(as_text=True)

    # The district's value holds wherever a community sets none.
    district = district_admin.post("/staff/district/settings", data={"WALL_POLL_SECONDS": "30",
                                                                     "BABEL_DEFAULT_TIMEZONE": "Asia/Urumqi"})
    assert district.status_code == 303
    assert 'every 30s' in client.get("/c/hepingli/wall/").get_data(as_text=True)
    assert 'every 20s' in client.get("/c/main/wall/").get_data(as_text=True)
    assert 'data-tz="Asia/Urumqi"' in client.get("/c/hepingli/").get_data(as_text=True)
    assert local.post("/staff/district/settings", data={"WALL_POLL_SECONDS": "5"}).status_code == 403

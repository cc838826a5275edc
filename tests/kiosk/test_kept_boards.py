"""The directory, matchmaking, notices and home pages are kept as rendered too, by the
versions of the boards they show (app/boards.py `follows`: every write to a board's tables
bumps it). Each thing those pages show is changed in turn, through the services staff and
residents use; after each change the kept page is the page rendered afresh (an app on the
same database with PAGE_CACHE off), and it did change."""

from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import select, update

from app import boards
from app.classes.models import Course
from app.clock import utcnow
from app.communities import scope
from app.communities import services as communities
from app.experts import services as experts
from app.experts.models import Expert, Skill
from app.extensions import db
from app.friends import services as friends
from app.households import services as households
from app.households.services import PHONE_COOKIE
from app.notices import services as notices
from app.notices.models import Notice
from tests.classes.test_routes import new_course
from tests.friends.test_privacy import card_data
from tests.kiosk.test_page_cache import WECHAT, _page, _twin, _without_tokens, clear_of_the_minute_turn  # noqa: F401 (autouse)

AREAS = ("东区", "西区", "南区", "北区", "周边社区")


@pytest.fixture
def apps(make_app):
    return make_app(), make_app(PAGE_CACHE=False)


def _renders(app, ask):
    """The templates rendered while answering, and the answer."""
    rendered = []

    def note(_app, template, **_context):
        rendered.append(template.name)

    template_rendered.connect(note, app)
    try:
        return rendered, ask()
    finally:
        template_rendered.disconnect(note, app)


class Screens:
    """A passer-by's browser and a bound phone, each asking the same pages of both apps."""

    def __init__(self, cached_app, fresh_app, urls):
        with cached_app.app_context():
            card = households.issue("3号楼", "2单元")[0]
            phone_token = households._bind(db.session.get(households.Household, card.household.id), "code")
        self.cached_app = cached_app
        self.seen = {}
        for screen, cookies, headers in (("passer-by", {}, {}), ("phone", {PHONE_COOKIE: phone_token},
                                                                  {"User-Agent": WECHAT})):
            cached, fresh = _twin(cached_app, fresh_app, cookies)
            for url in urls:
                _page(cached, url, headers)
                rendered = _renders(cached_app, lambda: _page(cached, url, headers))  # noqa: B023 (called here)
                assert rendered[0] == [], f"{screen} {url} is not kept: {rendered[0]}"
                again = rendered[1].get_data(as_text=True)
                self.seen[(screen, url)] = (cached, fresh, headers, again)

    def change(self, description, do, urls):
        # Each page asked is kept as it is now (an earlier change may have moved its key on).
        for (screen, url), (cached, fresh, headers, _before) in list(self.seen.items()):
            if url in urls:
                self.seen[(screen, url)] = (cached, fresh, headers, _page(cached, url, headers).get_data(as_text=True))
        with self.cached_app.app_context():
            do()
        for (screen, url), (cached, fresh, headers, before) in list(self.seen.items()):
            if url not in urls:
                continue
            served = _page(cached, url, headers).get_data(as_text=True)
            rendered = _page(fresh, url, headers).get_data(as_text=True)
            assert _without_tokens(served) == _without_tokens(rendered), f"{description}: {screen} {url} stale"
            assert _without_tokens(served) != _without_tokens(before), f"{description}: {screen} {url} same"
            self.seen[(screen, url)] = (cached, fresh, headers, served)


def test_every_change_a_notice_shows_reaches_the_notices_and_home(apps):
    cached_app, fresh_app = apps
    with cached_app.app_context():
        notice_id = notices.add_notice("秋季体检通知", "周六上午在社区卫生站。")
    urls = ("/c/main/", "/c/main/notices/", f"/c/main/notices/{notice_id}")
    screens = Screens(cached_app, fresh_app, urls)

    def edit():
        notice = db.session.get(Notice, notice_id)
        notices.save_notice(notice_id, notices.NoticeData(title="秋季体检通知（改期）", starts_at=notice.starts_at,
                                                          body="改到周日上午。"))

    screens.change("a notice is edited", edit, urls)
    screens.change("a notice is added", lambda: notices.add_notice("停车场划线", "下周一施工。"),
                   ("/c/main/", "/c/main/notices/"))
    screens.change("a notice ends", lambda: notices.end_notice(notice_id), urls[:2])


def test_every_change_the_directory_shows_reaches_it(apps):
    cached_app, fresh_app = apps
    with cached_app.app_context():
        skill = experts.save_skills([("手工", "crafts", "Crafts")])[0]
        expert = experts.save_experts([(None, experts.ExpertData(
            name="李建华", mobile="13900000002", display_name="李老师", skill_ids=[skill.id],
            consent_on=utcnow().date(), consent_scope="称呼和简介"))])[0]
        expert_id, skill_id = expert.id, skill.id
        course_id = new_course(title="剪纸入门")
    urls = ("/c/main/experts/", f"/c/main/experts/{expert_id}", "/c/main/experts/?category=crafts")
    screens = Screens(cached_app, fresh_app, urls)

    def another():
        experts.save_experts([(None, experts.ExpertData(
            name="王秀英", mobile="13900000003", display_name="王阿姨", skill_ids=[skill_id],
            consent_on=utcnow().date(), consent_scope="称呼和简介"))])

    screens.change("an expert joins", another, (urls[0], urls[2]))

    def teaches():
        db.session.execute(update(Course).where(Course.id == course_id).values(
            teacher_expert_id=expert_id, revision=Course.revision + 1))
        db.session.commit()

    screens.change("the expert teaches a course", teaches, urls[:2])
    screens.change("the expert's skill is renamed", lambda: (
        db.session.execute(update(Skill).where(Skill.id == skill_id).values(name="剪纸")), db.session.commit()),
        urls[1:2])
    screens.change("the expert's intro is edited", lambda: (
        db.session.execute(update(Expert).where(Expert.id == expert_id).values(intro="擅长剪纸")),
        db.session.commit()), urls[1:2])
    screens.change("the expert leaves the directory", lambda: (
        db.session.execute(update(Expert).where(Expert.id == expert_id).values(state="hidden")),
        db.session.commit()), (urls[0], urls[2]))


def test_every_change_the_matchmaking_board_shows_reaches_it(apps):
    cached_app, fresh_app = apps
    with cached_app.app_context():
        first = friends.leave_card(card_data(0, areas=AREAS), created_by="kiosk:1")
        friends.review(db.session.scalar(select(friends.Card.id).where(friends.Card.number == first.number)), True)
    urls = ("/c/main/friends/", f"/c/main/friends/{first.number}")
    screens = Screens(cached_app, fresh_app, urls)

    def second():
        receipt = friends.leave_card(card_data(1, areas=AREAS), created_by="kiosk:1")
        friends.review(db.session.scalar(select(friends.Card.id).where(friends.Card.number == receipt.number)), True)

    screens.change("a card is approved", second, urls[:1])
    screens.change("the first card is withdrawn", lambda: friends.withdraw(first.code), urls[:1])
    for (_screen, url), (cached, _fresh, headers, _before) in screens.seen.items():
        if url == urls[1]:
            assert cached.get(url, headers=headers).status_code == 404  # its kept page is not served


def test_a_boards_version_follows_every_write_to_its_tables(app):
    version = boards.board_version_of("notices")

    def read(community_id):
        with scope.across("the test reads each community's version"):
            return db.session.scalar(select(version(community_id)))

    with app.app_context():
        east = communities.create_community("east", "东区社区")
        before = read(1)
        notice_id = notices.add_notice("秋季体检通知")  # a row added
        assert read(1) == before + 1
        db.session.get(Notice, notice_id).title = "秋季体检通知（改期）"  # a row changed
        db.session.commit()
        assert read(1) == before + 2
        db.session.get(Notice, notice_id).title = "秋季体检通知（改期）"  # the same value: nothing changed
        db.session.commit()
        assert read(1) == before + 2
        db.session.execute(update(Notice).values(body="改到周日。"))  # a statement
        db.session.commit()
        assert read(1) == before + 3
        db.session.get(Notice, notice_id).title = "作废"
        db.session.flush()
        db.session.rollback()  # nothing written: nothing counted
        db.session.commit()
        assert read(1) == before + 3
        with scope.within(east):
            notices.add_notice("东区停水", ends_at=utcnow() + timedelta(hours=2))
        assert (read(1), read(east)) == (before + 3, 1)
        with scope.across("the district ends every notice"):
            db.session.execute(update(Notice).values(ends_at=utcnow()))
            db.session.commit()
        assert (read(1), read(east)) == (before + 4, 2)
        db.session.delete(db.session.get(Notice, notice_id))  # a row deleted
        db.session.commit()
        assert read(1) == before + 5


def test_a_search_typed_in_chinese_is_kept_and_what_inputs_refuse_is_still_refused(apps):
    cached_app, _fresh = apps
    with cached_app.app_context():
        skill = experts.save_skills([("手工", "crafts", "Crafts")])[0]
        experts.save_experts([(None, experts.ExpertData(
            name="李建华", mobile="13900000002", display_name="李老师", skill_ids=[skill.id],
            consent_on=utcnow().date(), consent_scope="称呼和简介"))])
    client = cached_app.test_client()
    url = "/c/main/experts/?q=%E6%9D%8E"  # 李
    first = _page(client, url, {}).get_data(as_text=True)
    rendered, again = _renders(cached_app, lambda: _page(client, url, {}))
    assert rendered == [] and "李老师" in first and _without_tokens(again.get_data(as_text=True)) == \
        _without_tokens(first)
    assert client.get("/c/main/experts/?q=%00").status_code == 422
    assert client.get("/c/main/experts/", headers={"HX-Current-URL": "http://x/\x01"}).status_code == 422

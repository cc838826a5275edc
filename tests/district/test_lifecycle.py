"""Merging two communities (app/district/lifecycle.py): everything moves, nothing is lost,
every resident's code still works; a merge is one transaction and waits for open lotteries.
Exporting one community's records, and deleting one after a backup and a typed slug."""

import re
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.audit import AuditEntry
from app.cases.models import Case
from app.classes.models import Signup
from app.communities import scope
from app.communities.models import CodeAlias, Community, CommunitySlug
from app.district import lifecycle
from app.experts.models import HelpRequest
from app.extensions import db
from app.friends.models import Card
from app.kiosk.devices import DEVICE_COOKIE
from app.kiosk.models import Kiosk
from app.staff.models import Membership
from app.wall.models import Post
from tests.factories import STAFF_PASSWORD, enrolled_kiosk, staff_member
from tests.test_get_is_safe import _board_rows, _overdue_lottery

SOURCE = "hepingli"
# How each lookup page says no record has the code typed.
NOT_FOUND = '<p class="error" role="alert">'
# Rows a merge keeps once, whichever community they came from: they are not "moved".
JOINED = {"wall_grids", "case_grids", "directory_skills", "board_versions", "wall_kind_settings", "friends_tallies",
          "rate_counters", "wall_watched_words"}


def _counts() -> dict[str, int]:
    with scope.across("the test counts every community's rows"):
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                for model in lifecycle._scoped_tables()}


def _codes(community_id: int) -> dict[str, list[str]]:
    with scope.within(community_id):
        return {"post": db.session.scalars(select(Post.receipt_code)).all(),
                "signup": db.session.scalars(select(Signup.code)).all(),
                "request": db.session.scalars(select(HelpRequest.code)).all(),
                "card": db.session.scalars(select(Card.code)).all(),
                "case": db.session.scalars(select(Case.receipt_code)).all()}


def _two_communities():
    source = Community(slug=SOURCE, name="和平里社区")
    db.session.add(source)
    db.session.commit()
    tokens = {}
    for community_id in (1, source.id):
        with scope.within(community_id):
            _board_rows()
            _kiosk_id, tokens[community_id] = enrolled_kiosk("大厅")
    staff_member("both", "moderator")
    with scope.within(source.id):
        staff_member("heping", "coordinator")
        db.session.add(Membership(member_id=db.session.scalar(select(Membership.member_id).where(
            Membership.community_id == 1)), community_id=source.id, roles="coordinator"))
        db.session.commit()
        # Clashing codes: the merged community's first post, sign-up, request and card take codes
        # the staying community uses.
        first = _codes(1)
        for model, column, kind in lifecycle.CODES:
            record_id = db.session.scalar(select(model.id).order_by(model.id).limit(1))
            db.session.execute(update(model).where(model.id == record_id).values({column.key: first[kind][0]}))
        db.session.commit()
    return source.id, tokens


def test_a_merge_moves_everything_and_every_code_still_works(app, client, run_in_app):
    source_id, tokens = run_in_app(_two_communities)
    before = run_in_app(_counts)
    codes_before = {1: run_in_app(_codes, 1), source_id: run_in_app(_codes, source_id)}
    with app.app_context(), scope.within(source_id):
        card_numbers = sorted(db.session.scalars(select(Card.number)))

    report = run_in_app(lifecycle.merge, source_id, 1)

    after = run_in_app(_counts)
    moved = {name: count for name, count in before.items() if name not in JOINED}
    # Nothing lost: every row is still there (one audit entry more: the merge's own; and the
    # old codes that had to change).
    assert {name: after[name] for name in moved} == {
        **moved, "audit_entries": moved["audit_entries"] + 1, "community_code_aliases": 5}
    assert report.renumbered_cards == len(card_numbers) and len(report.new_codes) == 5
    with app.app_context(), scope.across("the test checks where the rows are"):
        assert db.session.scalars(select(Community.slug)).all() == ["main"]
        for model in lifecycle._scoped_tables():
            assert set(db.session.scalars(select(model.community_id))) <= {1}, model.__tablename__
        assert db.session.get(CommunitySlug, SOURCE).community_id == 1
        numbers = db.session.scalars(select(Card.number)).all()
        assert len(numbers) == len(set(numbers))
        assert db.session.scalar(select(func.count()).select_from(CodeAlias)) == 5
        roles = dict(db.session.execute(select(Membership.member_id, Membership.roles)).all())
        assert "coordinator moderator" in roles.values()  # one person had places in both
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "communities-merged")) == 1

    pages = {"post": "/wall/receipt", "signup": "/classes/my", "request": "/experts/receipt", "card": "/friends/mine",
             "case": "/cases/receipt"}
    for number, (kind, path) in enumerate(pages.items()):
        phone = app.test_client()
        address = {"REMOTE_ADDR": f"10.7.0.{number + 1}"}
        for code in codes_before[1][kind]:  # the staying community's, unchanged
            body = phone.get(f"/c/main{path}?code={code}", environ_base=address).get_data(as_text=True)
            assert NOT_FOUND not in body, (kind, code)
        for code in codes_before[source_id][kind]:  # the merged community's, from its old links
            moved_to = phone.get(f"/c/{SOURCE}{path}?code={code}", environ_base=address)
            assert moved_to.status_code == 307
            body = phone.get(moved_to.headers["Location"], environ_base=address).get_data(as_text=True)
            assert NOT_FOUND not in body, (kind, code, moved_to.headers["Location"])
        # And a code no one has is still told it is unknown (the check above can fail).
        assert NOT_FOUND in phone.get(f"/c/main{path}?code=00000000", environ_base=address).get_data(as_text=True)
    # A kiosk of the merged community now shows the staying one.
    kiosk = app.test_client()
    kiosk.set_cookie(DEVICE_COOKIE, tokens[source_id])
    assert kiosk.get("/").headers["Location"] == "/c/main/"
    assert kiosk.get("/c/main/wall/").status_code == 200


def test_a_merge_waits_for_open_lotteries_and_is_all_or_nothing(app, run_in_app, monkeypatch):
    source_id, _tokens = run_in_app(_two_communities)

    def open_lottery():
        with scope.within(source_id):
            return _overdue_lottery()

    lottery = run_in_app(open_lottery)
    with app.app_context(), pytest.raises(lifecycle.LifecycleError, match="抽签"):
        lifecycle.merge(source_id, 1)
    with app.app_context(), scope.within(source_id):
        from app.classes.models import Course

        db.session.execute(update(Course).where(Course.id == lottery).values(status="draft"))
        db.session.commit()

    before, numbers = run_in_app(_counts), run_in_app(_codes, source_id)

    def interrupted(*_args):
        raise RuntimeError("the server stopped here")

    monkeypatch.setattr(lifecycle, "_join_lists", interrupted)  # after cards and codes were renumbered
    with app.app_context(), pytest.raises(RuntimeError):
        lifecycle.merge(source_id, 1)
    assert run_in_app(_counts) == before
    assert run_in_app(_codes, source_id) == numbers
    with app.app_context():
        assert db.session.get(Community, source_id) is not None
        with scope.across("the test reads the cards"):
            assert db.session.scalar(select(func.min(Card.number)).where(Card.community_id == source_id)) == 1


def test_the_district_admin_merges_from_the_console(app, run_in_app):
    source_id, _tokens = run_in_app(_two_communities)
    run_in_app(staff_member, "district", "district-admin")
    console = app.test_client()
    console.post("/staff/sign-in", data={"username": "district", "password": STAFF_PASSWORD})
    unconfirmed = console.post("/staff/district/merge", data={"source": source_id, "target": 1, "confirm": "main"})
    assert unconfirmed.status_code == 422 and "请准确输入" in unconfirmed.get_data(as_text=True)
    merged = console.post("/staff/district/merge", data={"source": source_id, "target": 1, "confirm": SOURCE})
    body = merged.get_data(as_text=True)
    assert merged.status_code == 200 and "社区已合并" in body and 'id="merge-codes"' in body
    # What moved, in words: no table's name, no code's kind.
    moved = body.split('id="merge-moved"')[1].split("</table>")[0]
    assert "<td>留言</td>" in moved and "wall_posts" not in moved and "_" not in re.sub(r"<[^>]+>", "", moved)
    assert run_in_app(lambda: db.session.scalars(select(Community.slug)).all()) == ["main"]


def test_one_community_is_exported_and_deleted_after_a_backup(app, run_in_app):
    source_id, _tokens = run_in_app(_two_communities)
    run_in_app(staff_member, "district", "district-admin")
    console = app.test_client()
    console.post("/staff/sign-in", data={"username": "district", "password": STAFF_PASSWORD})
    exported = console.get(f"/staff/district/communities/{source_id}/export")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    posts = json.loads(archive.read("wall_posts.json"))
    assert posts and {post["community_id"] for post in posts} == {source_id}
    assert json.loads(archive.read("community.json"))["slug"] == SOURCE

    refused = console.post(f"/staff/district/communities/{source_id}/delete", data={"confirm": "main"})
    assert refused.status_code == 422 and run_in_app(lambda: db.session.get(Community, source_id)) is not None
    deleted = console.post(f"/staff/district/communities/{source_id}/delete", data={"confirm": SOURCE})
    assert deleted.status_code == 303 and "deleted=linli-" in deleted.headers["Location"]
    assert any(path.name.startswith("linli-") for path in Path(app.instance_path, "backups").iterdir())
    with app.app_context(), scope.across("the test looks for what is left"):
        assert db.session.get(Community, source_id) is None
        for model in lifecycle._scoped_tables():
            assert not db.session.scalar(select(func.count()).select_from(model).where(
                model.community_id == source_id)), model.__tablename__
        assert db.session.scalar(select(func.count()).select_from(Kiosk)) == 1
    assert console.get(f"/c/{SOURCE}/wall/").status_code == 404

"""Wall rules without HTTP: posting, checks, the public list, reports and moderation."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit import AuditEntry
from app.clock import utcnow
from app.extensions import db
from app.wall import services
from app.wall.models import Post


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def post(kind="wish", text="希望小区多种点花", **kwargs):
    kwargs.setdefault("posted_by", "kiosk:1")
    return services.create_post(kind, text, **kwargs)


def by_code(code) -> Post:
    return db.session.scalar(select(Post).where(Post.receipt_code == code))


def count_posts() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


def test_a_post_waits_for_review_by_default(ctx):
    receipt = post()
    assert receipt.state == "pending" and len(receipt.code) == 8 and receipt.code.isdigit()
    assert services.wall_page() == []
    assert services.version() == 0


def test_numbers_hold_a_post_and_are_masked(ctx):
    receipt = post("suggestion", "有事打我电话 138 1234 5678")
    stored = by_code(receipt.code)
    assert stored.state == "held" and stored.check_reasons == "mobile"
    assert stored.text == "有事打我电话 138 1234 5678"
    assert stored.public_text == "有事打我电话 138****5678"


def test_publish_first_kinds_go_up_at_once_but_stay_in_the_queue(ctx):
    services.set_publish_first("greeting", True)
    receipt = post("greeting", "祝大家新年快乐")
    assert receipt.state == "approved"
    assert [p.receipt_code for p in services.wall_page()] == [receipt.code]
    assert [p.receipt_code for p in services.queue("published")] == [receipt.code]
    assert services.version() == 1
    # The checks still hold one with a phone number, whatever the kind's setting.
    assert post("greeting", "新年好 13812345678").state == "held"


@pytest.mark.parametrize(("kind", "text", "nickname", "location", "field"), [
    ("gossip", "内容", "", "", "kind"),
    ("wish", "   ", "", "", "text"),
    ("wish", "字" * 201, "", "", "text"),
    ("wish", "好", "名" * 21, "", "nickname"),
    ("problem", "路灯坏了", "", "地" * 41, "location"),
])
def test_bad_input_is_refused_and_nothing_stored(ctx, kind, text, nickname, location, field):
    with pytest.raises(services.WallError) as refused:
        services.create_post(kind, text, nickname=nickname, location=location, posted_by="kiosk:1")
    assert refused.value.field == field
    assert count_posts() == 0


def test_blocked_words_are_refused_kindly(ctx):
    services.add_watched_word("代开发票", "block")
    with pytest.raises(services.WallError, match="cannot go on the wall|不能上墙"):
        post("suggestion", "正规代 開 發票")
    assert count_posts() == 0


def test_hold_and_flag_words(ctx):
    services.add_watched_word("贷款", "hold")
    services.add_watched_word("加微信", "flag")
    held = by_code(post("wish", "低息贷 款").code)
    assert held.state == "held" and held.check_reasons == "word:贷款"
    flagged = by_code(post("wish", "想学做饭的加微信群").code)
    assert flagged.state == "pending" and flagged.check_reasons == "word:加微信"
    with pytest.raises(services.WallError):
        services.add_watched_word("貸款", "block")  # the same word in traditional form


def test_the_same_text_twice_within_five_minutes_is_refused(ctx):
    first = post("thanks", "谢谢保安大叔！")
    with pytest.raises(services.WallError):
        post("thanks", "谢谢 保安大叔", posted_by="kiosk:2")
    db.session.execute(update(Post).where(Post.receipt_code == first.code)
                       .values(created_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    assert post("thanks", "谢谢保安大叔！").state == "pending"


def test_the_wall_lists_pinned_first_then_newest_with_keyset_pages(ctx):
    ids = []
    for number in range(45):
        receipt = post("wish" if number % 2 else "thanks", f"第{number}条留言")
        ids.append(by_code(receipt.code).id)
        services.approve(ids[-1], None)
    services.set_pinned(ids[3], True)
    first = services.wall_page()
    assert [p.id for p in first][:2] == [ids[3], ids[44]]
    assert len(first) == services.PAGE_SIZE
    second = services.wall_page(before=first[-1].id)
    third = services.wall_page(before=second[-1].id)
    shown = [p.id for p in first + second + third]
    assert sorted(shown) == sorted(ids) and len(set(shown)) == 45
    assert all(p.kind == "wish" for p in services.wall_page("wish"))
    services.hide(ids[44], None)
    assert ids[44] not in [p.id for p in services.wall_page()]
    services.restore(ids[44], None)
    assert ids[44] in [p.id for p in services.wall_page()]


def test_changes_the_kiosks_see_bump_the_version(ctx):
    receipt = post()
    post_id = by_code(receipt.code).id
    versions = [services.version()]
    for change in (lambda: services.approve(post_id, None), lambda: services.set_pinned(post_id, True),
                   lambda: services.set_public_text(post_id, "希望多种花"), lambda: services.hide(post_id, None)):
        change()
        versions.append(services.version())
    assert versions == [0, 1, 2, 3, 4]


def test_three_different_reporters_hide_a_post(ctx):
    post_id = by_code(post().code).id
    services.approve(post_id, None)
    assert services.report(post_id, "spam", "kiosk:1") is True
    assert services.report(post_id, "offensive", "kiosk:1") is False  # the same kiosk again
    assert services.report(post_id, "spam", "kiosk:2") is True
    assert services.public_post(post_id) is not None
    before = services.version()
    services.report(post_id, "personal", "staff:9")
    assert services.public_post(post_id) is None and services.version() == before + 1
    assert [p.id for p in services.queue("reported")] == [post_id]
    with pytest.raises(services.WallError):
        services.report(post_id, "spam", "kiosk:4")  # no longer on the wall
    services.approve(post_id, None)  # a moderator puts it back
    assert services.public_post(post_id) is not None


def test_moderation_needs_a_reason_to_reject_and_is_audited(ctx):
    post_id = by_code(post().code).id
    with pytest.raises(services.WallError):
        services.reject(post_id, None, "  ")
    services.reject(post_id, None, "内容重复")
    stored = services.get_post(post_id)
    assert stored.state == "rejected" and stored.reject_reason == "内容重复"
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.area == "wall")))
    assert actions == ["post-created", "post-rejected"]


def test_masking_stays_whatever_a_moderator_types(ctx):
    post_id = by_code(post("wish", "找张三 13812345678").code).id
    services.set_public_text(post_id, "找张* 13812345678")
    assert services.get_post(post_id).public_text == "找张* 138****5678"


def test_receipts(ctx):
    receipt = post("problem", "电梯异响", location="5号楼")
    assert services.receipt(receipt.code).kind == "problem"
    assert services.receipt(f"{receipt.code[:4]} {receipt.code[4:]}").kind == "problem"
    assert services.receipt("00000000" if receipt.code != "00000000" else "11111111") is None
    assert services.receipt("123") is None

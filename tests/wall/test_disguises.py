"""Phone and ID numbers disguised every way the attack run tried, in every field of a wall
card, split across fields and across posts, and in a friends-card intro: each is held (or
refused, for the intro) and never shown whole. Ordinary numbers still pass."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.clock import utcnow
from app.extensions import db
from app.friends import services as friends
from app.friends.models import Card
from app.people import find_numbers, mask_numbers_in_text
from app.wall import checks, services
from app.wall.models import Post

ZWSP, ZWJ, ZWNJ, SHY, WJ = "\u200b", "\u200d", "\u200c", "\u00ad", "\u2060"
KEYCAP = "\ufe0f\u20e3"

# (class, disguise); every mobile is 139 0077 4242, every ID 110105 19491231 002X.
MOBILES = [
    ("separator", "139，0077，4242"),
    ("separator", "139,0077,4242"),
    ("separator", "139、0077、4242"),
    ("separator", "139:0077:4242"),
    ("separator", "139~0077~4242"),
    ("separator", "139*0077*4242"),
    ("separator", "139+0077+4242"),
    ("separator", "139；0077；4242"),
    ("separator", "139|0077|4242"),
    ("separator", "139#0077#4242"),
    ("separator", "139—0077—4242"),
    ("separator", "139 / 0077 / 4242"),
    ("separator", "139⋅0077⋅4242"),
    ("separator", "139_0077_4242"),
    ("separator", "139‧0077‧4242"),
    ("separator", "139🙂0077🙂4242"),
    ("separator", "1-3-9-0-0-7-7-4-2-4-2"),
    ("separator", "1 3 9 0 0 7 7 4 2 4 2"),
    ("separator", "139\n0077\n4242"),
    ("separator", "(139)0077-4242"),
    ("separator", "+86 139 0077 4242"),
    ("separator", "+86,139,0077,4242"),
    ("letters", "139a0077b4242"),
    ("letters", "139 abc 0077 z 4242"),
    ("letters", "139x0077x4242"),
    ("letters", "tel:139-OO77-4242"),
    ("zero-width", f"139{ZWSP}0077{ZWSP}4242"),
    ("zero-width", ZWSP.join("13900774242")),
    ("zero-width", f"139{ZWJ}0077{ZWJ}4242"),
    ("zero-width", f"139{ZWNJ}0077{ZWNJ}4242"),
    ("zero-width", f"139{WJ}0077{WJ}4242"),
    ("soft hyphen", f"139{SHY}0077{SHY}4242"),
    ("keycap", "".join(digit + KEYCAP for digit in "13900774242")),
    ("keycap", "".join(digit + "\u20e3" for digit in "13900774242")),
    ("number words", "one three nine zero zero seven seven four two four two"),
    ("number words", "ONE THREE NINE 0077 4242"),
    ("number words", "onethreenine zerozerosevenseven fourtwofourtwo"),
    ("number words", "139 zero zero 77 4242"),
    ("look-alikes", "139O0774242"),
    ("look-alikes", "l39OO774242"),
    ("look-alikes", "I39 OO77 4242"),
    ("look-alikes", "l3900774242"),
    ("full-width", "１３９００７７４２４２"),
    ("full-width", "１３９，００７７，４２４２"),
    ("chinese numerals", "一三九零零七七四二四二"),
    ("chinese numerals", "幺三九 洞洞拐拐 四两四两"),
    ("chinese numerals", "壹叁玖零零柒柒肆贰肆贰"),
    ("chinese numerals", "1三9〇0七7四2四2"),
    ("other digits", "①③⑨⓪⓪⑦⑦④②④②"),
    ("other digits", "𝟏𝟑𝟗𝟎𝟎𝟕𝟕𝟒𝟐𝟒𝟐"),
    ("other digits", "١٣٩٠٠٧٧٤٢٤٢"),
    ("other digits", "१३९००७७४२४२"),
    ("other digits", "¹³⁹⁰⁰⁷⁷⁴²⁴²"),
]
IDS = [
    ("separator", "110105,19491231,002X"),
    ("separator", "110105，19491231，002X"),
    ("separator", "110105、19491231、002X"),
    ("separator", "110105-19491231-002X"),
    ("separator", "110105 1949 1231 002x"),
    ("separator", "440304:19800101:0017"),
    ("zero-width", f"110105{ZWSP}19491231{ZWSP}002X"),
    ("zero-width", ZWJ.join("11010519491231002X")),
    ("soft hyphen", f"110105{SHY}19491231{SHY}002X"),
    ("full-width", "１１０１０５１９４９１２３１００２Ｘ"),
    ("chinese numerals", "一一〇一〇五一九四九一二三一〇〇二X"),
    ("number words", "one one zero one zero five 19491231002X"),
]
DISGUISES = [("mobile", *row) for row in MOBILES] + [("id-number", *row) for row in IDS]
IDS_OF = [f"{reason}-{kind}-{n}" for n, (reason, kind, _) in enumerate(DISGUISES)]

ORDINARY = [
    "2026年12月3日下午3点在3号楼活动室",
    "会议时间 2026-12-03 14:30-16:00",
    "2026/12/03 09:00 报名，2026.12.10 结束",
    "周一到周五 8:30-17:30",
    "上午9:00-11:30，下午2:00-5:00",
    "活动 12月24日 19:00 开始",
    "票价 ¥12.50，会员 ¥8",
    "价格 1,299.00 元，优惠价 1,099.00 元",
    "1998, 2003, 2010 年三次获奖",
    "1990年出生，2015年退休",
    "房间 1203、1204、1205 请到前台",
    "3号楼2单元501室",
    "我家住 15 栋 1 单元 1201",
    "第3期 第12课 共20人",
    "订单号 1234567890",
    "打 110 或 119，消费者热线 12315",
    "身高 165cm 体重 60kg",
    "温度 -5℃ 到 3℃",
    "4 people at 10:30, room 302",
    "Class 2 starts 2026-01-05 at 9:00, fee 30 yuan",
    "one or two people, room 1203",
    "Only one bus, number 139",
    "一起去公园吧",
]


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def _post(text, *, kind="problem", nickname="", location="", device="kiosk:1"):
    receipt = services.create_post(kind, text, nickname=nickname, location=location, posted_by=device)
    return db.session.scalar(select(Post).where(Post.receipt_code == receipt.code))


def _shown(post) -> list[str]:
    return [post.public_text, post.nickname, post.location]


def _assert_masked(parts: list[str], *, hidden_digits: int = 4) -> None:
    """No number can be read from what the card shows, and its digits were replaced by stars."""
    shown = checks.together(parts)
    assert find_numbers(shown) == [], shown
    assert shown.count("*") >= hidden_digits, shown


def _halves(disguise: str) -> tuple[str, str]:
    """The disguise cut after its fifth digit (never inside a number word)."""
    (finding,) = find_numbers(disguise)
    cut = finding.spans[4][1]
    return disguise[:cut], disguise[cut:]


def test_the_table_covers_every_class_of_the_attack_run():
    kinds = {kind for _, kind, _ in DISGUISES}
    assert len(DISGUISES) >= 60
    assert {"separator", "letters", "zero-width", "soft hyphen", "keycap", "number words",
            "look-alikes"} <= kinds
    assert {kind for reason, kind, _ in DISGUISES if reason == "id-number"} >= {"separator", "zero-width"}


@pytest.mark.parametrize(("reason", "kind", "disguise"), DISGUISES, ids=IDS_OF)
def test_a_disguised_number_is_found(reason, kind, disguise):
    assert [finding.reason for finding in find_numbers(disguise)] == [reason]
    assert find_numbers(mask_numbers_in_text(disguise)) == []


@pytest.mark.parametrize(("reason", "kind", "disguise"), DISGUISES, ids=IDS_OF)
def test_each_field_holds_and_masks_it(ctx, reason, kind, disguise):
    in_text = _post(f"请联系 {disguise} 谢谢")
    assert in_text.state == "held" and reason in in_text.check_reasons
    _assert_masked(_shown(in_text))
    assert in_text.text == f"请联系 {disguise} 谢谢"  # moderators still see what was written

    if len(disguise) <= 40:  # the place's limit
        in_place = _post("路灯坏了", location=disguise, device="kiosk:2")
        assert in_place.state == "held" and reason in in_place.check_reasons
        _assert_masked(_shown(in_place))

    if len(disguise) <= 20:  # the nickname's limit
        in_name = _post("谢谢大家", kind="thanks", nickname=disguise, device="kiosk:3")
        assert in_name.state == "held" and reason in in_name.check_reasons
        _assert_masked(_shown(in_name))


@pytest.mark.parametrize(("reason", "kind", "disguise"), DISGUISES, ids=IDS_OF)
def test_a_number_split_across_fields_is_held(ctx, reason, kind, disguise):
    first, rest = _halves(disguise)
    across = _post(f"联系 {first}", location=rest)
    assert across.state == "held" and reason in across.check_reasons
    assert find_numbers(across.public_text) == find_numbers(across.location) == []
    _assert_masked(_shown(across))
    if len(rest) <= 20:  # the card shows the nickname after the text
        named = _post(f"找我 {first}", kind="wish", nickname=rest, device="kiosk:2")
        assert named.state == "held"
        _assert_masked(_shown(named))


@pytest.mark.parametrize(("reason", "kind", "disguise"), DISGUISES, ids=IDS_OF)
def test_a_number_split_across_posts_is_held(ctx, reason, kind, disguise):
    services.set_publish_first("greeting", True)
    first, rest = _halves(disguise)
    before = _post(f"新年好 {first}", kind="greeting")
    assert before.state == "approved"  # half a number is not a number
    after = _post(f"{rest} 祝福", kind="greeting")
    assert after.state == "held" and "split-number" in after.check_reasons
    # Read together, the two cards show no number; the new one shows none of its digits.
    _assert_masked(_shown(before) + _shown(after))
    assert not any(ch.isdigit() for ch in after.public_text.replace("祝福", ""))
    # Another device's post is not read with it (the rest of an ID may hold a number itself).
    other = _post(f"{rest} 好的", kind="greeting", device="kiosk:9")
    assert "split-number" not in other.check_reasons


def test_the_second_half_first_is_held_too(ctx):
    services.set_publish_first("greeting", True)
    assert _post("0077 4242 好", kind="greeting").state == "approved"
    assert _post("新年 139", kind="greeting").state == "held"


def test_posts_older_than_the_window_are_not_read_with_a_new_one(ctx):
    services.set_publish_first("greeting", True)
    old = _post("新年好 13900", kind="greeting")
    db.session.execute(update(Post).where(Post.id == old.id)
                       .values(created_at=utcnow() - services.RECENT_WINDOW - timedelta(minutes=1)))
    db.session.commit()
    assert _post("774242 祝福", kind="greeting").state == "approved"


@pytest.mark.parametrize(("reason", "kind", "disguise"), [row for row in DISGUISES if len(row[2]) <= 120],
                         ids=[i for i, row in zip(IDS_OF, DISGUISES) if len(row[2]) <= 120])
def test_a_friends_card_intro_refuses_it(ctx, reason, kind, disguise):
    data = friends.CardData(gender="female", age_band="60-64", area="东区", interests=["walking"],
                            looking_for="friends", intro=f"喜欢散步 {disguise}", real_name="王芳",
                            mobile="13812345678", consent_public=True, consent_matchmaker=True, adult=True)
    with pytest.raises(friends.FriendsError) as refused:
        friends.leave_card(data, created_by="kiosk:1")
    assert refused.value.field == "intro"
    assert db.session.scalar(select(func.count()).select_from(Card)) == 0


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_pass(ctx, text):
    assert find_numbers(text) == [], text
    post = _post(text, kind="wish", location="")
    assert post.state == "pending" and post.check_reasons == ""
    assert post.public_text == text


def test_ordinary_posts_one_after_another_pass(ctx):
    for text in ORDINARY[:6]:
        assert _post(text, kind="wish").check_reasons == ""

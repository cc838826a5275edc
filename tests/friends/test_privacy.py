"""Privacy of the matchmaking board, as the issue demands it:

1. a sweep of every kiosk page's HTML, with 100 cards loaded, finds no name, mobile number
   or ID number belonging to any card (nor any requester's);
2. deleting a card (by its code, by the matchmaker, on expiry) leaves none of its personal
   data in any table of the database;
3. double opt-in: contact details exist for the matchmaker only once both sides agreed.

All data is hand-written; card codes are random (the app draws them) and only compared.
"""

import html
import re
import unicodedata
from datetime import timedelta
from itertools import product
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import MetaData, func, inspect, select
from stdnum.cn import ric

from app.audit import AuditEntry
from app.clock import utcnow
from app.errors import Refused
from app.extensions import db
from app.friends import services
from app.friends.models import AGE_BANDS, GENDERS, INTERESTS, LOOKING_FOR, Card, Interest
from app.friends.services import CardData, FriendsError

HTMX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parents[2]

# --- hand-written people -------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN_NAMES = ["秀英", "桂兰", "建国", "志强", "淑珍", "玉梅", "德华", "海燕", "丽", "勇"]
# 100 distinct names of 2 or 3 characters, none inside another.
NAMES = [surname + given for surname in SURNAMES for given in GIVEN_NAMES]
MOBILE_PREFIXES = ["139", "138", "186", "150", "177", "135", "158", "189"]
# Requesters who ask to meet by name and mobile (no card of their own).
REQUESTERS = [("孙文博", "16620260101"), ("马雅琴", "19912345670"), ("朱国栋", "13300007788"),
              ("胡春花", "18566554433"), ("郭晓峰", "15011112222"), ("何凤英", "17788990011"),
              ("高永红", "13698765432"), ("林子涵", "18800001111"), ("罗振华", "15912340987"),
              ("郑美玲", "13511223344")]
INTROS = ["退休教师，喜欢早上在公园散步。", "周末常去图书馆，想找书友。", "爱跳广场舞，每周三晚上7点跳。",
          "会做川菜，想找人一起做饭聊天。", "下象棋二十多年，找个棋友。", "养了两只猫，喜欢拍照。",
          "刚搬来两年，想认识邻居。", "喜欢唱老歌，会拉二胡。", "爱旅游，去过30多个城市。"]
REJECT_REASON = "简介里写了具体住址，请去掉楼号后再提交。"


def mobile_for(index: int) -> str:
    return f"{MOBILE_PREFIXES[index % 8]}{(4711 + 97 * index) % 10000:04d}{(2583 + 389 * index) % 10000:04d}"


def typed(mobile: str, index: int) -> str:
    """How a resident might type it: plain, with spaces, with dashes, with +86."""
    return [mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
            f"+86 {mobile}"][index % 4]


def id_number(first17: str) -> str:
    """An 18-character resident ID with a correct check digit."""
    number = first17 + ric.calc_check_digit(first17 + "?")  # it reads the first 17 of 18
    assert ric.is_valid(number)
    return number


def looks_like_id(number: str) -> bool:
    """18 characters with a correct check digit and a real birth date (any birthplace)."""
    try:
        return ric.calc_check_digit(number) == number[-1] and bool(ric.get_birth_date(number))
    except (ValueError, ArithmeticError):
        return False


ID_NUMBERS = [id_number("11010519491231002"), id_number("44030419850312401"), id_number("32010219850312008")]
MOBILES = [mobile_for(index) for index in range(100)]
REJECTED = {index for index in range(100) if index % 25 == 7}     # 4 cards
PENDING = {index for index in range(100) if index % 16 == 5}      # 6 cards
APPROVED = set(range(100)) - REJECTED - PENDING                   # 90 cards


def card_data(index: int, *, areas, intro: str = "", name: str | None = None, mobile: str | None = None) -> CardData:
    return CardData(
        gender=GENDERS[index % 2], age_band=AGE_BANDS[index % len(AGE_BANDS)], area=areas[index % len(areas)],
        interests=[INTERESTS[(index + step * 5) % len(INTERESTS)] for step in range(1 + index % 3)],
        looking_for=LOOKING_FOR[index % 3], intro=intro,
        real_name=name or NAMES[index], mobile=mobile or typed(MOBILES[index], index),
        consent_public=True, consent_matchmaker=True, adult=True)


# --- what may never show ---------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_SQUASH = re.compile(r"[\s\-‐‑–—]+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_DIGIT_RUN = re.compile(r"\d+")
_ID_RUN = re.compile(r"[\dXx]+")


def _windows(runs, width: int) -> set[str]:
    return {run[start:start + width] for run in runs for start in range(len(run) - width + 1)}


def page_texts(body: str) -> list[str]:
    """The page as sent, without spaces and dashes, and its visible text without them."""
    normal = unicodedata.normalize("NFKC", html.unescape(body))
    return [body, _SQUASH.sub("", normal), _SQUASH.sub("", _TAG.sub("", normal))]


class Sweep:
    """Checks pages for forbidden names, mobiles, ID numbers and other cards' codes.

    A CJK name shows only inside a run of CJK characters, a number only inside a run of
    digits: comparing every window of those runs is an exact substring search, for all
    needles at once."""

    def __init__(self, names, mobiles, codes):
        self.names, self.mobiles, self.codes = set(names), set(mobiles), dict(codes)  # code -> card number
        self.pages = self.checks = 0
        self.failures = []

    def check(self, label: str, body: str, *, own_code: str | None = None) -> None:
        self.pages += 1
        found = set()
        for text in page_texts(body):
            cjk = _CJK_RUN.findall(text)
            digits = _DIGIT_RUN.findall(text)
            found |= (_windows(cjk, 2) | _windows(cjk, 3)) & self.names
            found |= _windows(digits, 11) & self.mobiles
            found |= (_windows(digits, 8) & set(self.codes)) - {own_code}
            ids = {window.upper() for window in _windows(_ID_RUN.findall(text), 18)}
            found |= {number for number in ids if re.fullmatch(r"\d{17}[\dX]", number) and looks_like_id(number)}
            # Any unmasked mainland mobile in what a resident reads, known to us or not.
            if text is not body:
                found |= set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text))
            self.checks += len(self.names) + len(self.mobiles) + len(self.codes) + 2
        if found:
            self.failures.append((label, sorted(found)))


def test_the_checker_finds_what_it_looks_for():
    sweep = Sweep(["王秀英"], ["13912345678"], {"12345678": 1})
    for page in ("<p>王秀英</p>", "<p>王 秀 英</p>", "<p>王<b>秀英</b></p>", "<p>139 1234 5678</p>",
                 "<input value='139-1234-5678'>", "<p>１３９１２３４５６７８</p>", "<p>code 1234 5678</p>",
                 f"<p>{ID_NUMBERS[0][:6]} {ID_NUMBERS[0][6:]}</p>", "<p>18612340000</p>"):
        before = len(sweep.failures)
        sweep.check(page, page)
        assert len(sweep.failures) == before + 1, page
    sweep.check("masked", "<p>王*英 139****5678 138******78 号码 0012 号 12345678</p>", own_code="12345678")
    assert [label for label, _ in sweep.failures].count("masked") == 0


# --- 1. the sweep ----------------------------------------------------------------------------

def load_board(app) -> dict:
    """100 cards (90 approved, 6 pending, 4 rejected), intros, and requests to meet."""
    areas = app.config["FRIENDS_AREAS"]
    cards = []
    for index in range(100):
        intro = INTROS[index % len(INTROS)] if index % 3 == 0 else ""
        receipt = services.leave_card(card_data(index, areas=areas, intro=intro), created_by="kiosk:1")
        cards.append({"index": index, "number": receipt.number, "code": receipt.code, "intro": intro,
                      "id": services.card_by_code(receipt.code).id})
    for card in cards:
        if card["index"] in APPROVED:
            services.review(card["id"], True)
        elif card["index"] in REJECTED:
            services.review(card["id"], False, REJECT_REASON)
    approved = [card for card in cards if card["index"] in APPROVED]
    interests = []
    for offset, (name, mobile) in enumerate(REQUESTERS):  # each asks to meet two cards
        for target in (approved[offset * 3], approved[offset * 3 + 40]):
            interests.append(services.express_interest(target["number"], name=name, mobile=mobile,
                                                       created_by="kiosk:1").id)
    for offset in range(15):  # card owners ask with their own code
        interests.append(services.express_interest(approved[60 + offset]["number"], own_code=approved[offset]["code"],
                                                   created_by="kiosk:1").id)
    services.staff_update_interest(interests[0], "asked", "电话问过了，她说再想想")
    services.staff_update_interest(interests[1], "owner-yes")
    services.staff_update_interest(interests[2], "owner-no")
    services.answer(approved[60]["code"], interests[20], True)
    services.answer(approved[61]["code"], interests[21], False)
    services.contacts(interests[1])
    return {"cards": cards, "interests": interests}


def kiosk_requests(app, cards) -> list[tuple[str, dict, str | None]]:
    """Every GET rule that is not staff-only or static, with every value it can take here:
    (url, headers, the code whose own page it is)."""
    numbers = [card["number"] for card in cards] + [0, 101, 9999]
    codes = [card["code"] for card in cards]
    adapter = app.url_map.bind("localhost")
    pages = []
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"
             and not rule.rule.startswith("/staff")]
    assert {"friends.index", "friends.card", "friends.meet_form", "friends.mine",
            "friends.new"} <= {rule.endpoint for rule in rules}
    for rule in rules:
        arguments = sorted(rule.arguments)
        choices = [numbers if rule.rule.startswith("/c/<community>/friends") and name == "number"
                   else ["main"] if name == "community" else [1, 2, 3]
                   for name in arguments]
        for values in product(*choices):
            pages.append((adapter.build(rule.endpoint, dict(zip(arguments, values))), None))
    base = adapter.build("friends.index", {"community": "main"})
    filters = [("gender", value) for value in GENDERS] + [("age_band", value) for value in AGE_BANDS] \
        + [("area", value) for value in app.config["FRIENDS_AREAS"]] \
        + [("looking_for", value) for value in LOOKING_FOR] + [("interest", value) for value in INTERESTS]
    combined = [f"gender={gender}&looking_for={looking}" for gender in GENDERS for looking in LOOKING_FOR] \
        + ["gender=female&age_band=60-64&area=东区&looking_for=friends&interest=walking", "interest=nonsense&gender=x"]
    queries = [f"{name}={value}" for name, value in filters] + combined
    pages += [(f"{base}?{query}", None) for query in queries]
    mine = adapter.build("friends.mine", {"community": "main"})
    pages += [(f"{mine}?code={code}", code) for code in codes]
    pages += [(f"{mine}?code={codes[0][:4]}%20{codes[0][4:]}", codes[0]), (f"{mine}?code=1234", None)]
    for endpoint in ("classes.lookup", "experts.receipt", "wall.receipt"):  # other boards' code look-ups
        lookup = adapter.build(endpoint, {"community": "main"})
        pages += [(f"{lookup}?code={code}", code) for code in codes[:3]]  # echoes what was typed
    requests = [(url, {}, own) for url, own in pages]
    # What htmx asks for: the main region of every page, and each page's own fragments.
    fragments = {"/c/main/friends/": "card-list", "/c/main/friends/mine": "mine", "/c/main/friends/new": "card-form"}
    for url, own in pages:
        requests.append((url, {**HTMX, "HX-Target": "main"}, own))
        path = url.split("?")[0]
        target = fragments.get(path) or ("meet-form" if path.endswith("/meet") else None)
        if target:
            requests.append((url, {**HTMX, "HX-Target": target}, own))
    return requests


def test_no_kiosk_page_shows_a_name_mobile_or_id_number(app, client, kiosk_client, run_in_app):
    app.config["RATE_LIMITS"] = {"code-lookup": "100000 per minute"}  # a sweep of every card, not guessing
    assert len(set(NAMES)) == 100 and all(2 <= len(name) <= 3 for name in NAMES)
    assert len(set(MOBILES) | {mobile for _, mobile in REQUESTERS}) == 110
    # The names are not words the interface itself uses (or the sweep would find them anyway).
    with open(ROOT / "translations/zh_Hans/LC_MESSAGES/messages.po", "rb") as po:
        interface = "".join(str(message.string) for message in read_po(po))
    public_words = interface + "".join(INTROS) + REJECT_REASON + "".join(app.config["FRIENDS_AREAS"])
    assert not [name for name in NAMES + [name for name, _ in REQUESTERS] if name in public_words]

    board = run_in_app(load_board, app)
    cards = board["cards"]
    by_number = {card["number"]: card for card in cards}
    sweep = Sweep(NAMES + [name for name, _ in REQUESTERS], MOBILES + [mobile for _, mobile in REQUESTERS],
                  {card["code"]: card["number"] for card in cards})
    statuses = {}
    listed = set()
    requests = kiosk_requests(app, cards)
    for url, headers, own_code in requests:
        for who, user in (("kiosk", kiosk_client), ("read-only", client)):
            if who == "read-only" and headers:
                continue  # htmx requests come from the kiosk
            response = user.get(url, headers=headers)
            body = response.get_data(as_text=True)
            label = f"{who} {url} {headers.get('HX-Target', '')}"
            assert response.status_code < 500, label
            sweep.check(label, body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items()),
                        own_code=own_code)
            statuses[label] = response.status_code
            if url.startswith("/c/main/friends/?") or url == "/c/main/friends/":
                listed |= {int(number) for number in re.findall(r'id="card-(\d+)"', body)}
            match = re.fullmatch(r"/c/main/friends/(\d+)(/meet)?", url)
            whole = headers.get("HX-Target") in (None, "main")
            if match and int(match.group(1)) in by_number:
                card = by_number[int(match.group(1))]
                if card["index"] in APPROVED:
                    assert response.status_code == 200, label
                    assert not whole or f"{card['number']:04d} 号" in body, label
                    if whole and not match.group(2) and card["intro"]:
                        assert card["intro"] in body, label
                else:
                    assert response.status_code == 404, label
            if own_code and url.startswith("/c/main/friends/mine"):  # the card's own page shows its state
                assert response.status_code == 200, label
                assert f"{by_number[sweep.codes[own_code]]['number']:04d} 号" in body, label
                assert 'id="card-state"' in body, label

    assert sweep.failures == [], sweep.failures[:20]
    # The sweep really looked: every page, every approved card listed, nothing else listed.
    assert sweep.pages > 1000, sweep.pages
    assert sum(status == 200 for status in statuses.values()) > 700
    assert listed == {card["number"] for card in cards if card["index"] in APPROVED}
    print(f"\nswept {sweep.pages} responses ({len(requests)} requests × clients), {sweep.checks} needle checks")


@pytest.mark.parametrize(("intro", "number"), [
    ("有事打我电话13912345678", "13912345678"),
    ("手机 139 1234 5678，白天都在", "5678"),
    ("电话：幺三九一二三四五六七八", "幺三九"),
    ("手机１５８－１２３４－８７６５", "８７６５"),
    (f"身份证{ID_NUMBERS[0]}", ID_NUMBERS[0]),
    (f"身份证号 {ID_NUMBERS[1][:6]} {ID_NUMBERS[1][6:14]} {ID_NUMBERS[1][14:]}", ID_NUMBERS[1][6:14]),
    (f"我的身份证：{ID_NUMBERS[2].lower()}", ID_NUMBERS[2][:-1]),
])
def test_an_intro_with_a_phone_or_id_number_is_refused(app, run_in_app, intro, number):
    areas = app.config["FRIENDS_AREAS"]
    with pytest.raises(FriendsError) as refused:
        run_in_app(services.leave_card, card_data(0, areas=areas, intro=intro), created_by="kiosk:1")
    assert refused.value.field == "intro"
    code = run_in_app(services.leave_card, card_data(1, areas=areas, intro="喜欢散步"), created_by="kiosk:1").code
    with pytest.raises(FriendsError) as refused:
        run_in_app(services.edit, code, card_data(1, areas=areas, intro=intro))
    assert refused.value.field == "intro"
    assert run_in_app(lambda: [card.intro for card in db.session.scalars(select(Card))]) == ["喜欢散步"]
    assert database_hits(run_in_app, [number, NAMES[0]]) == []  # the refused card was not stored


# --- 2. deletion leaves nothing --------------------------------------------------------------

def database_rows(run_in_app) -> list[tuple[str, str, str]]:
    """Every value in every table, as text: the models' tables and any other in the database."""

    def read():
        reflected = MetaData()
        reflected.reflect(db.engine)
        assert {table.name for table in db.metadata.sorted_tables} <= set(reflected.tables)
        assert set(inspect(db.engine).get_table_names()) - {"alembic_version"} \
            <= {table.name for table in db.metadata.sorted_tables}, "a table the models do not know"
        rows = []
        for table in list(db.metadata.sorted_tables) + [reflected.tables[name] for name in sorted(reflected.tables)
                                                        if name not in db.metadata.tables]:
            for row in db.session.execute(select(table)).mappings():
                rows += [(table.name, str(column), str(value)) for column, value in row.items() if value is not None]
        return rows

    return run_in_app(read)


def database_hits(run_in_app, needles) -> list[tuple[str, str, str]]:
    return [(table, column, needle) for table, column, value in database_rows(run_in_app)
            for needle in needles if needle in value]


def tables_with_rows(run_in_app) -> set[str]:
    return {table for table, _, _ in database_rows(run_in_app)}


OWNER = ("欧阳春燕", "13798765401")
OTHER = ("司马建平", "18612093457")
THIRD = ("诸葛慧", "15987651230")
STRANGER = ("上官明", "17700112233")


def deletable_card(app) -> dict:
    """The card to delete (OWNER), approved, with requests to it and from it by its code;
    two other cards it has nothing secret in common with; a stranger's request elsewhere."""
    areas = app.config["FRIENDS_AREAS"]
    receipts = [services.leave_card(card_data(index, areas=areas, name=name, mobile=mobile, intro="喜欢书法和下棋"),
                                    created_by="kiosk:1") for index, (name, mobile) in enumerate((OWNER, OTHER, THIRD))]
    ids = [services.card_by_code(receipt.code).id for receipt in receipts]
    for card_id in ids:
        services.review(card_id, True)
    owner, other, third = receipts
    interests = [
        services.express_interest(owner.number, own_code=other.code, created_by="kiosk:1").id,       # to it, by code
        services.express_interest(owner.number, name="慕容秋", mobile="13611119999", created_by="kiosk:1").id,
        services.express_interest(third.number, own_code=owner.code, created_by="kiosk:1").id,       # from it
        services.express_interest(other.number, name=STRANGER[0], mobile=STRANGER[1], created_by="kiosk:1").id,
    ]
    services.staff_update_interest(interests[0], "asked")
    services.answer(owner.code, interests[1], True)  # agreed: the matchmaker viewed both contacts
    services.contacts(interests[1])
    return {"id": ids[0], "number": owner.number, "code": owner.code, "other_code": other.code,
            "third_number": third.number, "interests": interests}


def owner_secrets(card) -> list[str]:
    return [OWNER[0], OWNER[1], card["code"], "慕容秋", "13611119999"]


def assert_only_owner_gone(run_in_app, card) -> None:
    assert database_hits(run_in_app, owner_secrets(card)) == []
    # The scan sees the rest: the other cards and the stranger's request are still there.
    assert {needle for _, _, needle in database_hits(run_in_app, [*OTHER, *THIRD, *STRANGER, card["other_code"]])} \
        == {*OTHER, *THIRD, *STRANGER, card["other_code"]}
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Interest))) == 1


def test_withdrawing_by_code_leaves_no_personal_data_in_any_table(app, kiosk_client, run_in_app):
    card = run_in_app(deletable_card, app)
    before = database_hits(run_in_app, owner_secrets(card))
    assert {needle for _, _, needle in before} == set(owner_secrets(card))  # the scan finds them while they exist
    assert kiosk_client.get(f"/c/main/friends/mine?code={card['code']}").status_code == 200

    response = kiosk_client.post("/c/main/friends/mine/withdraw", data={"code": card["code"]},
                                 headers={**HTMX, "HX-Target": "mine"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="withdrawn"' in body
    assert not [secret for secret in owner_secrets(card) if secret in body]

    assert_only_owner_gone(run_in_app, card)
    # Rate counts are in the database unless Redis keeps them (the district mode).
    counted = set() if app.config.get("REDIS_URL") else {"rate_counters"}
    assert {"audit_entries", "friends_tallies"} | counted <= tables_with_rows(run_in_app)
    assert run_in_app(services.tallies) == {"cards-withdrawn": 1, "interests-deleted": 3, "introductions": 1}
    assert run_in_app(lambda: [(entry.action, entry.detail) for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "card-withdrawn"))]) == [
        ("card-withdrawn", f'{{"number": {card["number"]}}}')]
    assert kiosk_client.get(f"/c/main/friends/{card['number']}").status_code == 404
    assert 'id="card-state"' not in kiosk_client.get(f"/c/main/friends/mine?code={card['code']}").get_data(as_text=True)


def test_withdrawing_also_deletes_requests_the_owner_made_by_name_and_mobile(app, run_in_app):
    card = run_in_app(deletable_card, app)
    run_in_app(services.express_interest, card["third_number"], name=OWNER[0], mobile=f"{OWNER[1][:3]} {OWNER[1][3:]}",
               created_by="kiosk:1")
    run_in_app(services.withdraw, card["code"])
    assert database_hits(run_in_app, owner_secrets(card)) == []


def test_deletion_by_the_matchmaker_leaves_no_personal_data(app, run_in_app):
    card = run_in_app(deletable_card, app)
    run_in_app(services.delete_card, card["id"])
    assert_only_owner_gone(run_in_app, card)
    assert run_in_app(services.tallies) == {"cards-deleted": 1, "interests-deleted": 3, "introductions": 1}
    with pytest.raises(FriendsError):
        run_in_app(services.delete_card, card["id"])


def test_expired_cards_leave_the_board_then_their_personal_data_goes(app, client, run_in_app):
    card = run_in_app(deletable_card, app)
    areas = app.config["FRIENDS_AREAS"]
    refused = run_in_app(services.leave_card, card_data(5, areas=areas, name="东方白", mobile="13512340000"),
                         created_by="kiosk:1")
    run_in_app(lambda: services.review(services.card_by_code(refused.code).id, False, REJECT_REASON))
    days, grace = app.config["FRIENDS_CARD_DAYS"], app.config["FRIENDS_GRACE_DAYS"]
    start = utcnow()

    assert run_in_app(services.housekeeping, start + timedelta(days=grace - 1)) == {"cards expired": 0,
                                                                                   "cards deleted": 0}
    assert {needle for _, _, needle in database_hits(run_in_app, ["东方白", refused.code])} == {"东方白", refused.code}
    # The refused card's grace ends first; the approved ones are still on the board.
    assert run_in_app(services.housekeeping, start + timedelta(days=days - 1)) == {"cards expired": 0,
                                                                                  "cards deleted": 1}
    assert database_hits(run_in_app, ["东方白", "13512340000", refused.code]) == []
    assert client.get(f"/c/main/friends/{card['number']}").status_code == 200
    result = run_in_app(services.housekeeping, start + timedelta(days=days, minutes=1))
    assert result["cards expired"] == 3
    assert client.get(f"/c/main/friends/{card['number']}").status_code == 404
    assert f'id="card-{card["number"]}"' not in client.get("/c/main/friends/").get_data(as_text=True)
    assert run_in_app(lambda: services.card_by_code(card["code"]).state) == "expired"  # grace: it may be renewed

    assert run_in_app(services.housekeeping, start + timedelta(days=days + grace - 1))["cards deleted"] == 0
    kept = owner_secrets(card)[:3]
    assert {needle for _, _, needle in database_hits(run_in_app, kept)} == set(kept)
    assert run_in_app(services.housekeeping, start + timedelta(days=days + grace, minutes=2))["cards deleted"] == 3
    assert database_hits(run_in_app, owner_secrets(card) + [*OTHER, *THIRD, *STRANGER, "东方白", "13512340000",
                                                            card["other_code"], refused.code]) == []
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Card))) == 0
    assert run_in_app(services.tallies) == {"cards-expired-deleted": 3, "cards-rejected-deleted": 1,
                                            "interests-deleted": 4, "introductions": 1}


# --- 3. double opt-in ------------------------------------------------------------------------

def opt_in_board(app) -> dict:
    areas = app.config["FRIENDS_AREAS"]
    people = [("令狐静", "13900112233"), ("皇甫军", "18655443322"), ("尉迟兰", "15044556677")]
    receipts = [services.leave_card(card_data(index, areas=areas, name=name, mobile=mobile), created_by="kiosk:1")
                for index, (name, mobile) in enumerate(people)]
    for receipt in receipts:
        services.review(services.card_by_code(receipt.code).id, True)
    owner, requester, bystander = receipts
    asks = {
        "by-code": services.express_interest(owner.number, own_code=requester.code, created_by="kiosk:1").id,
        "by-name": services.express_interest(owner.number, name="宇文婷", mobile="17612345098",
                                             created_by="kiosk:1").id,
        "declined": services.express_interest(owner.number, name="长孙浩", mobile="13187654321",
                                              created_by="kiosk:1").id,
        "staff-no": services.express_interest(owner.number, own_code=bystander.code, created_by="kiosk:1").id,
        "elsewhere": services.express_interest(bystander.number, name="宇文婷", mobile="17612345098",
                                               created_by="kiosk:1").id,
    }
    return {"people": people, "codes": [receipt.code for receipt in receipts],
            "numbers": [receipt.number for receipt in receipts], "asks": asks}


def contacts_viewed(run_in_app) -> list[tuple[str, int, str]]:
    return run_in_app(lambda: [(entry.target_type, entry.target_id, entry.detail) for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "contacts-viewed").order_by(AuditEntry.id))])


def test_contacts_only_after_both_agreed(app, kiosk_client, client, run_in_app):
    board = run_in_app(opt_in_board, app)
    asks, codes, numbers = board["asks"], board["codes"], board["numbers"]
    (owner_name, owner_mobile), (requester_name, requester_mobile), _ = board["people"]
    hidden = [requester_name, requester_mobile, "宇文婷", "17612345098", "长孙浩", "13187654321", owner_name,
              owner_mobile, codes[1], codes[2], f"{numbers[1]:04d} 号", f"{numbers[2]:04d} 号"]

    def mine() -> str:
        return kiosk_client.get(f"/c/main/friends/mine?code={codes[0]}",
                                headers={**HTMX, "HX-Target": "mine"}).get_data(as_text=True)

    page = mine()
    assert page.count('class="answer"') == 4 and f"{numbers[0]:04d} 号" in page
    assert [secret for secret in hidden if secret in page] == []

    for ask in asks.values():  # nobody has agreed yet: no contacts, no audit row
        with pytest.raises(Refused):
            run_in_app(services.contacts, ask)
    run_in_app(services.staff_update_interest, asks["by-code"], "asked", "已打电话询问")
    with pytest.raises(Refused):
        run_in_app(services.contacts, asks["by-code"])
    with pytest.raises(Refused):  # someone else's code cannot answer for the owner
        run_in_app(services.answer, codes[1], asks["by-code"], True)
    assert contacts_viewed(run_in_app) == []

    # The owner agrees with their code on the kiosk; the matchmaker records the other yes.
    response = kiosk_client.post(f"/c/main/friends/mine/answer/{asks['by-code']}",
                                 data={"code": codes[0], "agreed": "yes"}, headers={**HTMX, "HX-Target": "mine"})
    assert response.status_code == 200 and 'id="done"' in response.get_data(as_text=True)
    assert [secret for secret in hidden if secret in response.get_data(as_text=True)] == []
    run_in_app(services.staff_update_interest, asks["by-name"], "owner-yes")
    run_in_app(services.answer, codes[0], asks["declined"], False)
    run_in_app(services.staff_update_interest, asks["staff-no"], "owner-no")

    first = run_in_app(services.contacts, asks["by-code"])
    assert [(c.number, c.name, c.mobile) for c in first] == [(numbers[0], owner_name, owner_mobile),
                                                             (numbers[1], requester_name, requester_mobile)]
    second = run_in_app(services.contacts, asks["by-name"])
    assert [(c.number, c.name, c.mobile) for c in second] == [(numbers[0], owner_name, owner_mobile),
                                                              (None, "宇文婷", "17612345098")]
    for ask in ("declined", "staff-no", "elsewhere"):
        with pytest.raises(Refused):
            run_in_app(services.contacts, asks[ask])
    with pytest.raises(Refused):  # a declined request cannot be turned into a yes afterwards
        run_in_app(services.staff_update_interest, asks["declined"], "owner-yes")
    with pytest.raises(Refused):
        run_in_app(services.answer, codes[0], asks["staff-no"], True)

    viewed = contacts_viewed(run_in_app)
    assert viewed == [("friends_interests", asks["by-code"], f'{{"number": {numbers[0]}}}'),
                      ("friends_interests", asks["by-name"], f'{{"number": {numbers[0]}}}')]
    assert run_in_app(services.tallies) == {"introductions": 2}
    states = run_in_app(lambda: {interest.id: interest.state for interest in db.session.scalars(select(Interest))})
    assert states == {asks["by-code"]: "agreed", asks["by-name"]: "agreed", asks["declined"]: "declined",
                      asks["staff-no"]: "declined", asks["elsewhere"]: "new"}

    page = mine()  # answered requests leave the owner's page
    assert 'class="answer"' not in page and [secret for secret in hidden if secret in page] == []
    # The matchmaker's contacts page is not a kiosk page.
    for user in (client, kiosk_client):
        response = user.get(f"/staff/friends/requests/{asks['by-code']}/contacts")
        assert response.status_code in (302, 303, 401, 403, 404)
        assert [secret for secret in hidden[:8] if secret in response.get_data(as_text=True)] == []
    assert len(contacts_viewed(run_in_app)) == 2

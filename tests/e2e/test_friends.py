"""The matchmaking board in real browsers: a resident leaves a card at one enrolled kiosk
(chips, the number pad, three consents), the matchmaker approves it, a resident at a second
kiosk says "I'd like to meet" with a name and a mobile number, and the matchmaker records
the owner's agreement and only then sees both contacts (an audited view). No kiosk page
ever shows a name or a number. A second test: the owner withdraws the card with its code,
and every trace of both people's names and numbers leaves the database.

live_server was filled by `flask init`, demo cards included: the tests rely on their own
card's number and people of their own, never on counts."""

import re
import time as clock

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import func, select, text

from app.audit import AuditEntry
from app.extensions import db
from app.friends import services
from app.friends.labels import CARD_STATE_LABELS, GENDER_LABELS, INTEREST_STATE_LABELS
from app.friends.models import Card, Interest, Tally
from tests.e2e.helpers import RECEIPT_SHOWN, in_server_db, look_up_code, path_is, tap_digits

# The card's owner and the resident who asks to meet them: names and numbers of their own,
# unlike any of the demo content's.
OWNER, OWNER_MOBILE = "欧阳晓梅", "13598761234"
ASKER, ASKER_MOBILE = "林国栋", "13687654321"
INTRO = "喜欢下棋和散步，想找个伴一起晨练。"
AREA = "西区"


@pytest.fixture(scope="module")
def zh(server_app):
    """What a kiosk in Chinese shows for a message, as the server's catalog has it."""

    def translated(message, **values) -> str:
        with server_app.app_context(), force_locale("zh_Hans"):
            return str(message) if not isinstance(message, str) else gettext(message, **values)

    return translated


def tap_chip(form, field: str, value: str) -> None:
    """Tap the chip (a label; its radio or checkbox is visually hidden) of one choice."""
    chip = form.locator(f'#field-{field} label.chip:has(input[value="{value}"])')
    chip.tap()
    expect(chip.locator("input")).to_be_checked()


def assert_private_absent(html: str, where: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in html, f"{where} shows {secret!r}"


def private_rows(server_app, *secrets: str) -> list[str]:
    """Every row of friends_cards and friends_interests that holds one of these texts."""
    with in_server_db(server_app):
        rows = [f"{table}: {row}" for table in ("friends_cards", "friends_interests")
                for row in db.session.execute(text(f"SELECT * FROM {table}")).all()]
    return [row for row in rows if any(secret in row for secret in secrets)]


def leave_card_by_taps(page, zh):
    """From the board, Leave my card: chips, the intro, the name, the mobile on the pad,
    the three consents, send. The POST's response."""
    page.locator("#leave-card").tap()
    form = page.locator("form#card-form")
    expect(form).to_be_visible()
    tap_chip(form, "gender", "female")
    tap_chip(form, "age_band", "60-64")
    tap_chip(form, "area", AREA)
    tap_chip(form, "looking_for", "companion")
    tap_chip(form, "interests", "chess")
    tap_chip(form, "interests", "walking")
    intro = form.locator('textarea[name="intro"]')
    intro.tap()
    page.keyboard.insert_text(INTRO)
    expect(intro).to_have_value(INTRO)
    name = form.locator('input[name="real_name"]')
    name.tap()
    page.keyboard.insert_text(OWNER)
    expect(name).to_have_value(OWNER)
    mobile = form.locator('input[name="mobile"]')
    mobile.tap()
    tap_digits(page, "form#card-form", OWNER_MOBILE[:-1] + "0")
    page.locator('form#card-form .keypad [data-key="back"]').tap()  # a slip, put right
    tap_digits(page, "form#card-form", OWNER_MOBILE[-1])
    expect(mobile).to_have_value(OWNER_MOBILE)
    for consent in ("adult", "consent_public", "consent_matchmaker"):
        label = form.locator(f'label.consent[for="{consent}"]')
        label.tap()
        expect(label.locator(f'input[name="{consent}"]')).to_be_checked()
    with page.expect_response(lambda r: r.request.method == "POST" and path_is("/c/main/friends/new")(r)) as sent:
        page.locator("#send-card").tap()
    return sent.value


def test_card_approved_interest_both_agree_then_contacts(enroll_kiosks, staff, live_server, server_app, zh):
    started = clock.monotonic()
    seen = {}  # every kiosk page, as the residents saw it: where → HTML

    owner_kiosk, asker_kiosk = enroll_kiosks("交友 留卡", "交友 想认识", path="/c/main/friends/")
    enrolled = clock.monotonic()
    expect(owner_kiosk.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(owner_kiosk.locator("#card-list a.friend-card").first).to_be_visible()
    seen["the board (kiosk A)"] = owner_kiosk.content()

    # Kiosk A: leave a card by taps.
    sent = leave_card_by_taps(owner_kiosk, zh)
    assert sent.status == 200, sent.text()
    assert_private_absent(sent.text(), "the answer to sending a card", OWNER, OWNER_MOBILE)
    left = owner_kiosk.locator("section#card-form.posted")
    expect(left).to_be_visible()
    shown_code = left.locator("#card-code")
    expect(shown_code).to_have_text(RECEIPT_SHOWN)
    code = shown_code.inner_text().replace(" ", "")
    number = live_server.sql(select(Card.number).where(Card.code == code))
    card_id = live_server.sql(select(Card.id).where(Card.code == code))
    expect(left.locator("h2")).to_contain_text(f"{number:04d}")
    seen["the card's receipt"] = owner_kiosk.content()

    def row(column):
        return live_server.sql(select(column).where(Card.id == card_id))

    assert (row(Card.state), row(Card.real_name), row(Card.mobile)) == ("pending", OWNER, OWNER_MOBILE)
    assert (row(Card.gender), row(Card.age_band), row(Card.area)) == ("female", "60-64", AREA)
    assert (row(Card.interests), row(Card.looking_for), row(Card.intro)) == ("walking chess", "companion", INTRO)
    assert row(Card.created_by).startswith("kiosk:")

    # Not on the board before the matchmaker has read it.
    left.locator(".actions a.button").tap()
    expect(owner_kiosk).to_have_url(f"{live_server.url}/c/main/friends/")
    expect(owner_kiosk.locator("#card-list a.friend-card").first).to_be_visible()
    expect(owner_kiosk.locator(f"#card-{number}")).to_have_count(0)
    assert owner_kiosk.request.get(f"/c/main/friends/{number}").status == 404
    assert owner_kiosk.request.get(f"/c/main/friends/{number}/meet").status == 404
    seen["the board before approval"] = owner_kiosk.content()

    # The matchmaker: the pending card shows its public part only; approve.
    staff.goto("/staff/friends")
    pending = staff.locator(f"article#pending-{card_id}")
    expect(pending).to_contain_text(f"{number:04d}")
    expect(pending).to_contain_text(INTRO)
    expect(pending).to_contain_text(AREA)
    assert_private_absent(pending.inner_html(), "the pending card", OWNER, OWNER_MOBILE, code)
    assert_private_absent(staff.content(), "the matchmaker's card list", OWNER, OWNER_MOBILE, code)
    with staff.expect_navigation(url=f"{live_server.url}/staff/friends"):
        staff.locator(f"#approve-{card_id}").click()
    expect(staff.locator("#friends-error")).to_have_count(0)
    expect(staff.locator(f"article#pending-{card_id}")).to_have_count(0)
    assert row(Card.state) == "approved"
    assert row(Card.expires_at) is not None

    # Kiosk B: the card is on the board (a filter chip refreshes the list), then I'd like to meet.
    asker_kiosk.evaluate("window.__sameDocument = 1")
    women = asker_kiosk.locator('form.card-filters label.chip:has(input[name="gender"][value="female"])')
    tapped = clock.monotonic()
    with asker_kiosk.expect_response(lambda r: path_is("/c/main/friends/")(r) and "gender=female" in r.url
                                     and r.request.headers.get("hx-request") == "true"):
        women.tap()
    card_link = asker_kiosk.locator(f"#card-list a.friend-card#card-{number}")
    expect(card_link).to_be_visible()
    filter_ms = (clock.monotonic() - tapped) * 1000
    expect(asker_kiosk).to_have_url(re.compile(r"/c/main/friends/\?.*gender=female"))
    assert asker_kiosk.evaluate("window.__sameDocument") == 1, "the filter reloaded the page"
    facts = asker_kiosk.locator("#card-list .card-facts").all_inner_texts()
    assert facts and all(fact.startswith(zh(GENDER_LABELS["female"])) for fact in facts), facts
    expect(card_link.locator(".card-number")).to_contain_text(f"{number:04d}")
    expect(card_link.locator(".card-intro")).to_have_text(INTRO)
    seen["the board (kiosk B)"] = asker_kiosk.content()

    card_link.tap()
    expect(asker_kiosk).to_have_url(f"{live_server.url}/c/main/friends/{number}")
    expect(asker_kiosk.locator(".friend-page .card-intro")).to_have_text(INTRO)
    seen["the card's page"] = asker_kiosk.content()
    asker_kiosk.locator("#meet").tap()
    expect(asker_kiosk).to_have_url(f"{live_server.url}/c/main/friends/{number}/meet")
    form = asker_kiosk.locator("form#meet-form")
    expect(form).to_be_visible()
    seen["the meet form"] = asker_kiosk.content()

    name_box = form.locator('input[name="name"]')
    name_box.tap()
    asker_kiosk.keyboard.insert_text(ASKER)
    expect(name_box).to_have_value(ASKER)
    form.locator('input[name="mobile"]').tap()  # the pad types into the box last touched
    tap_digits(asker_kiosk, "form#meet-form", ASKER_MOBILE)
    expect(form.locator('input[name="mobile"]')).to_have_value(ASKER_MOBILE)
    expect(form.locator('input[name="own_code"]')).to_have_value("")
    with asker_kiosk.expect_response(lambda r: r.request.method == "POST"
                                     and path_is(f"/c/main/friends/{number}/meet")(r)) as asked:
        asker_kiosk.locator("#send-meet").tap()
    assert asked.value.status == 200, asked.value.text()
    assert_private_absent(asked.value.text(), "the answer to a meet request", OWNER, OWNER_MOBILE, ASKER_MOBILE)
    met = asker_kiosk.locator("section#meet-form.posted")
    expect(met).to_be_visible()
    expect(met).to_contain_text(f"{number:04d}")
    seen["the meet confirmation"] = asker_kiosk.content()

    for where, html in seen.items():
        assert_private_absent(html, where, OWNER, OWNER_MOBILE, code)
    for where in ("the board (kiosk B)", "the card's page", "the meet form", "the meet confirmation"):
        assert_private_absent(seen[where], where, ASKER_MOBILE)
    assert_private_absent(seen["the meet confirmation"], "the meet confirmation", ASKER)

    interest_id = live_server.sql(select(Interest.id).where(Interest.card_id == card_id,
                                                            Interest.from_mobile == ASKER_MOBILE))

    def irow(column):
        return live_server.sql(select(column).where(Interest.id == interest_id))

    assert (irow(Interest.state), irow(Interest.from_name), irow(Interest.from_card_id)) == ("new", ASKER, None)
    assert (irow(Interest.requester_agreed), irow(Interest.owner_agreed)) == (True, False)
    assert irow(Interest.created_by).startswith("kiosk:")

    def contacts_viewed() -> int:
        return live_server.sql(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.area == "friends", AuditEntry.action == "contacts-viewed",
            AuditEntry.target_type == "friends_interests", AuditEntry.target_id == interest_id))

    def contacts_refused(when: str) -> None:
        response = staff.goto(f"/staff/friends/requests/{interest_id}/contacts")
        assert response.status == 403, f"{when}: the contacts answered {response.status}"
        expect(staff.locator("#friends-error")).to_be_visible()
        expect(staff.locator("table#contacts")).to_have_count(0)
        assert_private_absent(staff.content(), f"the refused contacts page ({when})",
                              OWNER, OWNER_MOBILE, ASKER, ASKER_MOBILE)
        assert contacts_viewed() == 0, f"{when}: a refused look was audited as a view"

    # The matchmaker: the request, by card numbers only.
    staff.goto("/staff/friends/requests")
    queued = staff.locator(f"article#interest-{interest_id}")
    expect(queued.locator(".row-head strong")).to_contain_text(f"{number:04d}")
    expect(queued.locator(".interest-state")).to_have_text(zh(INTEREST_STATE_LABELS["new"]))
    expect(staff.locator(f"#contacts-{interest_id}")).to_have_count(0)
    assert_private_absent(staff.content(), "the requests list", OWNER, OWNER_MOBILE, ASKER, ASKER_MOBILE)
    contacts_refused("a new request")

    # "I asked the card's owner": still no contacts.
    staff.goto("/staff/friends/requests")
    queued.locator('select[name="action"]').select_option("asked")
    queued.locator('input[name="note"]').fill("已电话联系卡主")
    with staff.expect_navigation(url=re.compile(r"/staff/friends/requests(#interest-\d+)?$")):
        staff.locator(f"#record-{interest_id}").click()
    expect(staff.locator("#friends-error")).to_have_count(0)
    expect(queued.locator(".interest-state")).to_have_text(zh(INTEREST_STATE_LABELS["asked"]))
    expect(queued).to_contain_text("已电话联系卡主")
    expect(staff.locator(f"#contacts-{interest_id}")).to_have_count(0)
    assert irow(Interest.state) == "asked"
    contacts_refused("asked, not yet answered")

    # The owner agrees (asking was the other side's agreement): both agreed.
    staff.goto("/staff/friends/requests")
    queued.locator('select[name="action"]').select_option("owner-yes")
    with staff.expect_navigation(url=re.compile(r"/staff/friends/requests(#interest-\d+)?$")):
        staff.locator(f"#record-{interest_id}").click()
    expect(staff.locator("#friends-error")).to_have_count(0)
    expect(queued.locator(".interest-state")).to_have_text(zh(INTEREST_STATE_LABELS["agreed"]))
    expect(queued.locator("form")).to_have_count(0)
    assert (irow(Interest.state), irow(Interest.owner_agreed), irow(Interest.requester_agreed)) == \
        ("agreed", True, True)
    assert contacts_viewed() == 0
    assert_private_absent(staff.content(), "the requests list once both agreed",
                          OWNER, OWNER_MOBILE, ASKER, ASKER_MOBILE)

    # Only now: both contacts, and the look is in the audit log.
    with staff.expect_navigation(url=f"{live_server.url}/staff/friends/requests/{interest_id}/contacts") as shown:
        staff.locator(f"#contacts-{interest_id}").click()
    assert shown.value.status == 200
    contacts = staff.locator("table#contacts")
    owner_row, asker_row = contacts.locator("tr").nth(0), contacts.locator("tr").nth(1)
    expect(owner_row).to_contain_text(f"{number:04d}")
    expect(owner_row).to_contain_text(OWNER)
    expect(owner_row).to_contain_text(OWNER_MOBILE)
    expect(asker_row).to_contain_text(ASKER)
    expect(asker_row).to_contain_text(ASKER_MOBILE)
    assert contacts_viewed() == 1, "the view of both contacts is not in the audit log"

    def entry(column):
        return live_server.sql(select(column).where(
            AuditEntry.action == "contacts-viewed", AuditEntry.target_id == interest_id,
            AuditEntry.target_type == "friends_interests"))

    assert entry(AuditEntry.actor_kind) == "staff"
    detail = entry(AuditEntry.detail)
    assert str(number) in detail, detail
    assert_private_absent(detail, "the audit entry", OWNER, OWNER_MOBILE, ASKER, ASKER_MOBILE)

    print(f"\nenrolling two kiosks {enrolled - started:.1f} s; filter chip → card list {filter_ms:.0f} ms; "
          f"card left, approved, asked, agreed, contacts shown: {clock.monotonic() - enrolled:.1f} s "
          f"(card No. {number:04d}, request {interest_id})")


def test_owner_withdraws_with_the_code_and_every_trace_goes(enroll_kiosks, live_server, server_app, zh):
    owner, owner_mobile = "司马春兰", "13511223344"
    asker, asker_mobile = "潘文博", "13622334455"
    with in_server_db(server_app):
        receipt = services.leave_card(services.CardData(
            gender="female", age_band="55-59", area="东区", interests=["dance", "music"], looking_for="friends",
            intro="爱唱歌跳舞。", real_name=owner, mobile=owner_mobile, consent_public=True, consent_matchmaker=True,
            adult=True), created_by="test")
        card = services.card_by_code(receipt.code)
        services.review(card.id, True)
        services.express_interest(receipt.number, name=asker, mobile=asker_mobile, created_by="test")
        withdrawn_before = services.tallies().get("cards-withdrawn", 0)
    code, number = receipt.code, receipt.number
    assert len(private_rows(server_app, owner, owner_mobile, asker, asker_mobile)) == 2  # the card, the request

    started = clock.monotonic()
    (kiosk,) = enroll_kiosks("交友 撤卡", path="/c/main/friends/")
    expect(kiosk.locator(f"#card-list #card-{number}")).to_be_visible()

    # My card: the code on the pad.
    kiosk.locator('.page-head a[href="/c/main/friends/mine"]').tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/friends/mine")
    assert look_up_code(kiosk, "/c/main/friends/mine", code, "#look-up-card").status == 200
    mine = kiosk.locator("section#mine")
    expect(mine.locator("#card-state")).to_have_text(zh(CARD_STATE_LABELS["approved"]))
    expect(mine.locator("h2")).to_contain_text(f"{number:04d}")
    expect(mine.locator("form.answer")).to_have_count(1)  # someone would like to meet them, unnamed
    assert_private_absent(kiosk.content(), "the owner's card page", owner, owner_mobile, asker, asker_mobile)

    with kiosk.expect_response(lambda r: r.request.method == "POST" and path_is("/c/main/friends/mine/withdraw")(r)) \
            as gone:
        mine.locator("#withdraw-card").tap()
    assert gone.value.status == 200, gone.value.text()
    expect(kiosk.locator("section#mine #withdrawn")).to_be_visible()
    expect(kiosk.locator("section#mine #card-state")).to_have_count(0)

    # Off the board at once.
    kiosk.locator('.page-head a[href="/c/main/friends/"]').tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/friends/")
    expect(kiosk.locator("#card-list a.friend-card").first).to_be_visible()
    expect(kiosk.locator(f"#card-{number}")).to_have_count(0)
    assert kiosk.request.get(f"/c/main/friends/{number}").status == 404
    print(f"\nenrolled, looked up, withdrawn and off the board in {clock.monotonic() - started:.1f} s")

    # Nothing left of either person: not the card, not the request.
    left = private_rows(server_app, owner, owner_mobile, asker, asker_mobile, code)
    assert not left, f"personal data left after withdrawing: {left}"
    assert live_server.sql(select(func.count()).select_from(Card).where(Card.number == number)) == 0
    assert live_server.sql(select(Tally.count).where(Tally.name == "cards-withdrawn")) == withdrawn_before + 1
    assert live_server.sql(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.area == "friends", AuditEntry.action == "card-withdrawn",
        AuditEntry.detail.contains(str(number)))) == 1
    assert live_server.sql(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.detail.contains(owner_mobile) | AuditEntry.detail.contains(asker_mobile))) == 0

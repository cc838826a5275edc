"""Residents act from their own phones: staff print a batch of household cards, a phone in
WeChat's browser scans one (its QR code read from the printed card's image, as a camera
would), signs up, enters a one-per-household lottery (a second phone of the household is
refused), reports a problem and checks its receipt; staff revoke the household and the
phone only reads from its next tap."""

import re
import subprocess
from datetime import time, timedelta

from playwright.sync_api import expect

from app.classes import services as classes
from app.clock import site_today, to_site, utcnow
from tests.e2e.helpers import PHONE, RECEIPT_SHOWN, in_server_db, open_course, read_qr, send_case_form

# WeChat's built-in browser on Android, as it names itself.
WECHAT = ("Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47")


def _phone(browser, server):
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=server.url, service_workers="block", user_agent=WECHAT)
    context.set_default_timeout(10_000)
    return context.new_page()


def _lottery(app, title: str) -> int:
    """A lottery taking entries, one per household."""
    with in_server_db(app):
        now = to_site(utcnow()).replace(microsecond=0)
        today = site_today()
        course = classes.save_course(None, classes.CourseData(
            title=title, category="children", teacher="李老师", venue="三楼活动室", capacity=12, mode="lottery",
            one_per_household=True, term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=60),
            signup_opens_at=now - timedelta(days=1), signup_closes_at=now + timedelta(days=3),
            weekdays=(5,), start_time=time(15, 0), minutes=90))
        classes.set_status(course.id, "open")
        return course.id


def _sign_up_on_phone(page, course_id: int, name: str, mobile: str):
    page.goto(f"/c/main/classes/{course_id}")
    page.locator("#seats #sign-up").tap()
    form = page.locator("form#signup-form")
    expect(form).to_be_visible()
    form.locator('input[name="name"]').tap()
    form.locator('input[name="name"]').fill(name)
    form.locator('input[name="mobile"]').tap()
    form.locator('input[name="mobile"]').fill(mobile)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/sign-up")) as sent:
        form.locator('button[type="submit"]').tap()
    return sent.value


def _fits(page) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_household_card_from_print_to_revocation(browser, staff, live_server, server_app, tmp_path):
    course_id = open_course(server_app, capacity=10, title="太极入门")
    lottery_id = _lottery(server_app, "乐高机器人（抽签）")

    # Staff issue a batch of four cards for 3号楼 2单元 and print them.
    staff.goto("/staff/households")
    form = staff.locator("form#issue-households")
    form.locator('input[name="building"]').fill("3号楼")
    form.locator('input[name="unit"]').fill("2单元")
    form.locator('input[name="count"]').fill("4")
    with staff.expect_navigation():
        form.locator('input[type="submit"]').click()
    assert re.search(r"/staff/households/batches/\d+$", staff.url), staff.url
    cards = staff.locator("article.household-card")
    expect(cards).to_have_count(4)
    pdf = tmp_path / "cards.pdf"
    staff.emulate_media(media="print")
    staff.pdf(path=str(pdf), format="A4")
    staff.emulate_media(media="screen")
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                             timeout=60).stdout
    codes = [card.locator(".household-card-code").get_attribute("data-code") for card in cards.all()]
    grouped = [card.locator(".household-card-code").inner_text() for card in cards.all()]
    assert all(code in printed for code in grouped), printed
    assert "3号楼 2单元" in printed and "工作人员后台" not in printed

    # The phone's camera reads the first card's QR code from the card as printed.
    link = read_qr(cards.first.locator("figure.qr"))
    assert re.fullmatch(rf"{re.escape(live_server.url)}/c/main/households/link/[\w-]+", link), link

    phone = _phone(browser, live_server)
    phone.goto(link)
    expect(phone.locator("html")).to_have_class(re.compile(r"\bphone\b"))
    expect(phone.locator("#pairing")).to_have_count(0)
    phone.get_by_role("button", name="绑定这部手机").tap()
    expect(phone.locator("#phone-linked")).to_contain_text("3号楼 2单元")
    expect(phone.locator("#phone-household")).to_contain_text("我的住户")
    _fits(phone)

    # A class sign-up from the phone: a seat.
    sent = _sign_up_on_phone(phone, course_id, "张三明", "13812345678")
    assert sent.status == 200, sent.text()
    expect(phone.locator("section#signup-form.signed-up #signup-code")).to_have_text(RECEIPT_SHOWN)
    _fits(phone)

    # The lottery takes one entry per household: this phone's, then not a second phone's.
    sent = _sign_up_on_phone(phone, lottery_id, "张小明", "13812345670")
    assert sent.status == 200, sent.text()
    expect(phone.locator("section#signup-form.signed-up")).to_be_visible()
    second = _phone(browser, live_server)
    second.goto("/c/main/households/")
    second.locator('input[name="code"]').fill(codes[0][:5] + "-" + codes[0][5:])
    second.get_by_role("button", name="绑定这部手机").tap()
    expect(second.locator("#phone-linked")).to_be_visible()
    refused = _sign_up_on_phone(second, lottery_id, "张丽", "13812345679")
    assert refused.status == 422
    expect(second.locator("form#signup-form")).to_contain_text("每户限报一人")

    # A problem report from the phone, and its receipt looked up.
    phone.goto("/c/main/cases/new")
    report = phone.locator("form#case-form")
    report.locator("label.kind-option").first.tap()
    report.locator("input#place").fill("3号楼2单元门口")
    report.locator("textarea#text").fill("单元门的门禁坏了，关不上")
    receipt = send_case_form(phone)
    phone.goto(f"/c/main/cases/receipt?code={receipt}")
    expect(phone.locator("#case-receipt")).to_contain_text("3号楼2单元门口")
    _fits(phone)

    # Staff revoke the household (after its second step); the phone only reads at its next tap.
    staff.goto("/staff/households")
    staff.locator("table#households tr", has_text="3号楼").first.get_by_role("link").click()
    staff.locator("#revoke-household").click()
    with staff.expect_navigation():
        staff.locator("#confirm-button").click()
    expect(staff.locator("#household-revoked")).to_be_visible()

    phone.goto(f"/c/main/classes/{lottery_id}")
    expect(phone.locator("#phone-household")).to_contain_text("绑定这部手机")
    phone.locator("#phone-household").tap()
    expect(phone.locator("#phone-unlinked")).to_be_visible()
    phone.goto("/c/main/wall/new")
    expect(phone.locator(".read-only")).to_contain_text("户码卡")
    phone.context.close()
    second.context.close()

"""The expert directory in real browsers: at an enrolled kiosk a resident taps S then F on
the letter pad and sees the calligraphy experts, asks one of them for help (number pad for
the mobile), and a staff member closes the request in the console; the kiosk then looks the
request up by its receipt code. The public screens never show an expert's full name or
number. A second test: Chinese typed into the search box, and ⌫ widening the list again.

live_server was filled by `flask init`, demo experts included (王老师, 谢老师 for 书法…), so
the expected lists are read from the server's database; the experts added here have names
of their own so that the test finds them among the demo ones."""

import re
import time as clock
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from pypinyin import Style, pinyin
from sqlalchemy import select

from app.clock import site_today
from app.experts import services
from app.experts.labels import NEED_LABELS, REQUEST_STATE_LABELS
from app.experts.models import HelpRequest
from tests.e2e.helpers import PORTRAIT, RECEIPT_SHOWN, in_server_db, look_up_code, path_is, tap_digits

CALLIGRAPHY = "书法"
RESIDENT, RESIDENT_MOBILE = "林芳", "13612345678"

# (private name, mobile, shown name, skills): found by "sf" (书法), by "s" only (摄影), by neither.
EXPERTS = {
    "wen": ("温雅琴", "13912340001", "温老师", [CALLIGRAPHY]),
    "fan": ("范丽华", "13912340002", "范*华", [CALLIGRAPHY, "国画"]),
    "zeng": ("曾晓敏", "13912340003", "曾*敏", ["摄影"]),  # 曾: zeng and ceng, neither an S
    "bai": ("白建华", "13912340004", "白老师", ["合唱"]),  # sorts first: on the unfiltered page
    "zhang": ("张玉琴", "13912340005", "张*琴", ["编织"]),
}
SKILLS = {CALLIGRAPHY: ("calligraphy", "Calligraphy"), "国画": ("calligraphy", "Chinese painting"),
          "摄影": ("photography", "Photography"), "合唱": ("music", "Choir"), "编织": ("crafts", "Knitting")}


@pytest.fixture(scope="module")
def zh(server_app):
    """What a kiosk in Chinese shows for a message, as the server's catalog has it."""

    def translated(message, **values) -> str:
        with server_app.app_context(), force_locale("zh_Hans"):
            return str(message) if not isinstance(message, str) else gettext(message, **values)

    return translated


@pytest.fixture(scope="module")
def experts(server_app) -> dict[str, int]:
    """The experts above, added to the server's database (their skills too, unless the demo
    content has them already); their ids by key."""
    with in_server_db(server_app):
        have = {skill.name for skill in services.skills()}
        missing = [(name, *SKILLS[name]) for name in SKILLS if name not in have]
        if missing:
            services.save_skills(missing)
        skill_ids = {skill.name: skill.id for skill in services.skills()}
        saved = services.save_experts([(None, services.ExpertData(
            name=name, mobile=mobile, display_name=shown, skill_ids=[skill_ids[s] for s in skills],
            consent_on=site_today() - timedelta(days=10), consent_scope="称呼和技能",
            intro=f"{shown}，{'、'.join(skills)}，欢迎来问。", availability="周二上午"))
            for name, mobile, shown, skills in EXPERTS.values()])
        return {key: expert.id for key, expert in zip(EXPERTS, saved)}


def listed(server_app) -> list[dict]:
    """Every listed expert in the server's database: shown name, private name and number, skills."""
    with in_server_db(server_app):
        return [{"id": e.id, "shown": e.display_name, "name": e.name, "mobile": e.mobile,
                 "skills": [s.name for s in e.skills]} for e in services.staff_experts() if e.state == "listed"]


def might_match_s(expert: dict) -> bool:
    """Could a single S tap find this expert: does any reading of the first character of
    their shown name or of one of their skills start with s? (pypinyin, every reading.)"""
    firsts = [expert["shown"][0]] + [skill[0] for skill in expert["skills"]]
    return any(reading.startswith("s") for char in firsts
               for reading in pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def shown_names(page) -> list[str]:
    return sorted(page.locator("#expert-list .expert-name").all_inner_texts())


def tap_letter(page, letter: str, expect_q: str) -> float:
    """Tap a key of the letter pad; seconds until the list for expect_q has replaced the old one."""
    started = clock.monotonic()
    listing = path_is("/c/main/experts/")
    with page.expect_response(lambda r: listing(r) and r.request.headers.get("hx-request") == "true"):
        page.locator(f'form#expert-search .letter-pad [data-key="{letter}"]').tap()
    expect(page.locator("#expert-list")).to_have_attribute("data-q", expect_q)
    return clock.monotonic() - started


def assert_private_absent(html: str, experts: list[dict], where: str) -> None:
    for expert in experts:
        assert expert["name"] not in html, f"{where} shows the full name of {expert['shown']}"
        assert expert["mobile"] not in html, f"{where} shows the number of {expert['shown']}"


def test_tap_s_f_ask_a_calligrapher_and_staff_close_the_request(enroll_kiosks, staff, live_server, server_app,
                                                                  experts, zh):
    everyone = listed(server_app)
    calligraphers = sorted(e["shown"] for e in everyone if CALLIGRAPHY in e["skills"])
    assert {"温老师", "范*华"} <= set(calligraphers)
    ours = {key: next(e for e in everyone if e["id"] == expert_id) for key, expert_id in experts.items()}
    wen = ours["wen"]

    (kiosk,) = enroll_kiosks("专家 查找", path="/")
    kiosk.locator("#tile-experts").tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/experts/")
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-Hans")
    cards = kiosk.locator("#expert-list a.expert-card")
    expect(cards.first).to_be_visible()
    before = shown_names(kiosk)
    assert "白老师" in before, before
    kiosk.evaluate("window.__sameDocument = 1")

    s_seconds = tap_letter(kiosk, "s", "s")
    after_s = shown_names(kiosk)
    expect(kiosk.locator("#q")).to_have_value("s")
    assert after_s != before, (before, after_s)
    for gone in ("白老师", "李老师", "张*琴", "张*珍"):
        assert gone not in after_s, f"{gone} does not match S: {after_s}"
    # A page holds a screenful; when more match, the page says so instead of showing all.
    if kiosk.locator("#expert-list .more").count() == 0:
        assert set(calligraphers) | {"曾*敏"} <= set(after_s), after_s
    not_s = [e["shown"] for e in everyone if e["shown"] in after_s and not might_match_s(e)]
    assert not not_s, f"shown for S but no reading starts with s: {not_s}"

    f_seconds = tap_letter(kiosk, "f", "sf")
    expect(kiosk.locator("#q")).to_have_value("sf")
    assert shown_names(kiosk) == calligraphers
    expect(kiosk).to_have_url(re.compile(r"/c/main/experts/\?q=sf$"))
    assert kiosk.evaluate("window.__sameDocument") == 1, "a tap reloaded the page"
    card = kiosk.locator(f"#expert-list a.expert-card#expert-{wen['id']}")
    expect(card.locator(".expert-name")).to_have_text("温老师")
    expect(card.locator(".tag.skill")).to_have_text([CALLIGRAPHY])
    assert_private_absent(kiosk.content(), everyone, "the list")
    print(f"\n{len(before)} cards; tap S → {len(after_s)} cards in {s_seconds * 1000:.0f} ms ({'、'.join(after_s)}); "
          f"tap F → {len(calligraphers)} in {f_seconds * 1000:.0f} ms ({'、'.join(calligraphers)})")

    # The card, then Ask for help.
    card.tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/experts/{wen['id']}")
    expect(kiosk.locator(".expert-page .tag.skill")).to_have_text([CALLIGRAPHY])
    expect(kiosk.locator(".expert-page")).to_contain_text("周二上午")
    assert_private_absent(kiosk.content(), [wen], "the expert's page")
    kiosk.locator("#ask-for-help").tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/experts/{wen['id']}/ask")
    form = kiosk.locator("form#ask-form")
    expect(form).to_be_visible()
    assert_private_absent(kiosk.content(), [wen], "the ask form")

    need = form.locator(".need-option", has_text=zh(NEED_LABELS["learn"]))
    need.tap()
    expect(need.locator("input")).to_be_checked()
    name_input = form.locator('input[name="name"]')
    name_input.tap()
    kiosk.keyboard.insert_text(RESIDENT)
    expect(name_input).to_have_value(RESIDENT)
    tap_digits(kiosk, "form#ask-form", RESIDENT_MOBILE)
    expect(form.locator('input[name="mobile"]')).to_have_value(RESIDENT_MOBILE)
    asking = path_is(f"/c/main/experts/{wen['id']}/ask")
    with kiosk.expect_response(lambda r: r.request.method == "POST" and asking(r)) \
            as sent:
        kiosk.locator("#send-request").tap()
    assert sent.value.status == 200, sent.value.text()
    shown_code = kiosk.locator("section#ask-form #request-code")
    expect(shown_code).to_have_text(RECEIPT_SHOWN)
    code = shown_code.inner_text().replace(" ", "")
    html = kiosk.content()
    assert_private_absent(html, [wen], "the receipt")
    assert RESIDENT_MOBILE not in html, "the receipt shows the resident's number"

    request_id = live_server.sql(select(HelpRequest.id).where(HelpRequest.code == code))

    def row(column):
        return live_server.sql(select(column).where(HelpRequest.id == request_id))

    assert row(HelpRequest.expert_id) == wen["id"]
    assert (row(HelpRequest.state), row(HelpRequest.needs)) == ("new", "learn")
    assert (row(HelpRequest.name), row(HelpRequest.mobile)) == (RESIDENT, RESIDENT_MOBILE)
    assert row(HelpRequest.created_by).startswith("kiosk:")

    # Staff: the open requests, then done.
    staff.goto("/staff/experts/requests")
    article = staff.locator(f"article#request-{request_id}")
    expect(article).to_contain_text(RESIDENT)
    expect(article).to_contain_text("温老师")
    expect(article).to_contain_text(RESIDENT_MOBILE)
    expect(article.locator(".request-state")).to_have_text(zh(REQUEST_STATE_LABELS["new"]))
    # The request keeps its expert unless staff pass it on.
    expect(article.locator('.row-head strong')).to_have_text("温老师")
    article.locator('select[name="state"]').select_option("done")
    with staff.expect_navigation(url=re.compile(r"/staff/experts/requests(\?show=open)?$")):
        staff.locator(f"#update-request-{request_id}").click()
    expect(staff.locator("#request-error")).to_have_count(0)
    expect(staff.locator(f"article#request-{request_id}")).to_have_count(0)
    assert row(HelpRequest.state) == "done"
    assert row(HelpRequest.closed_at) is not None
    assert row(HelpRequest.expert_id) == wen["id"]
    staff.goto("/staff/experts/requests?show=done")
    closed = staff.locator(f"article#request-{request_id}")
    expect(closed.locator(".request-state")).to_have_text(zh(REQUEST_STATE_LABELS["done"]))
    expect(closed).to_contain_text(RESIDENT)
    expect(closed.locator("form")).to_have_count(0)

    # The kiosk: back to the directory, Check my request, the code on the pad.
    kiosk.locator("section#ask-form .actions a.button").tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/experts/")
    kiosk.locator('.page-head a[href="/c/main/experts/receipt"]').tap()
    expect(kiosk).to_have_url(f"{live_server.url}/c/main/experts/receipt")
    assert look_up_code(kiosk, "/c/main/experts/receipt", code, "#check-request").status == 200
    result = kiosk.locator("#receipt-result")
    expect(result.locator("#request-state")).to_have_text(zh(REQUEST_STATE_LABELS["done"]))
    expect(result).to_contain_text("温老师")
    html = kiosk.content()
    assert_private_absent(html, [wen], "the receipt lookup")
    assert RESIDENT not in html and RESIDENT_MOBILE not in html, "the lookup shows the resident's name or number"


def test_chinese_in_the_search_box_and_back_widens_the_list(enroll_kiosks, live_server, server_app, experts):
    everyone = listed(server_app)
    calligraphers = sorted(e["shown"] for e in everyone if CALLIGRAPHY in e["skills"])

    (kiosk,) = enroll_kiosks("专家 竖屏", path="/c/main/experts/")
    kiosk.set_viewport_size(PORTRAIT)
    expect(kiosk.locator("#expert-list a.expert-card").first).to_be_visible()

    # Typed in Chinese (a keyboard or handwriting pad): the same experts as S F.
    kiosk.locator("#q").tap()
    with kiosk.expect_response(lambda r: path_is("/c/main/experts/")(r) and "q=" in r.url):
        kiosk.keyboard.insert_text(CALLIGRAPHY)
    expect(kiosk.locator("#expert-list")).to_have_attribute("data-q", CALLIGRAPHY)
    assert shown_names(kiosk) == calligraphers
    expect(kiosk).to_have_url(re.compile(r"/c/main/experts/\?q=(%E4%B9%A6%E6%B3%95|书法)$"))
    # The same as a link or after a reload.
    kiosk.goto(f"/c/main/experts/?q={CALLIGRAPHY}")
    expect(kiosk.locator("#q")).to_have_value(CALLIGRAPHY)
    assert shown_names(kiosk) == calligraphers

    # Clear, S, F, then ⌫: back to the S list.
    kiosk.locator('.letter-pad [data-key="clear"]').tap()
    expect(kiosk.locator("#expert-list")).to_have_attribute("data-q", "")
    expect(kiosk.locator("#q")).to_have_value("")
    tap_letter(kiosk, "s", "s")
    after_s = shown_names(kiosk)
    tap_letter(kiosk, "f", "sf")
    assert shown_names(kiosk) == calligraphers
    tap_letter(kiosk, "back", "s")
    expect(kiosk.locator("#q")).to_have_value("s")
    widened = shown_names(kiosk)
    assert widened == after_s and len(widened) > len(calligraphers), widened
    expect(kiosk).to_have_url(re.compile(r"/c/main/experts/\?q=s$"))

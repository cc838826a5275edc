"""The kiosk left to itself: it asks "Still there?" and starts over, plays an attract loop
on an untouched home page, puts urgent notices on every screen, hands a half-typed form
to a resident's phone, rides out a server restart, and makes its text large on request.
Taps, not clicks; Playwright's fake clock stands in for the minutes of waiting."""

import itertools
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import insert, select, update

from app.classes.models import Signup
from app.clock import utcnow
from app.kiosk.models import Handoff
from app.notices.models import Notice
from app.wall.models import Post
from tests.conftest import FIRST_COMMUNITY
from tests.e2e.helpers import (HEARTBEAT_SECONDS, RECEIPT_SHOWN, foreign, kiosk_id, new_phone_context,
                               open_course, path_is, read_qr, translated)

# The product's timings (app/config.py); the test instance keeps them.
IDLE_S = 90
WARNING_S = 20
ATTRACT_S = 180
# A new urgent notice must be on every screen within this (they poll every 10 s).
URGENT_WITHIN_S = 15
# While the server is away, app.js asks /healthz this often.
PROBE_S = 3
# The kiosk starts over this long after the phone opened the link (app.js).
START_OVER_AFTER_HANDOFF_S = 5
# Every written text is new: the wall refuses the same text twice within minutes.
_numbers = itertools.count(1)


def _numbered(text: str) -> str:
    return f"{text}（第{next(_numbers)}条）"


def _has_class(name: str):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def _paths(requests):
    return [urlsplit(url).path for _, url in requests]


def _centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _pause_and_touch(page, target) -> None:
    """Stop the page's clock where it is and tap `target` at that very moment: from here on
    the time since the last touch is exactly what the test fast-forwards."""
    now_s = page.evaluate("Date.now()") / 1000
    page.clock.pause_at(now_s + 0.5)
    target.tap()


def test_idle_warning_and_start_over_forget_a_typed_form(enroll_kiosks, live_server, server_app):
    (page,) = enroll_kiosks("空闲重置")

    def starting_over_in(seconds: int) -> str:  # the page is in English by then
        if seconds == 1:
            return translated(server_app, "Starting over in 1 second.", "en")
        return translated(server_app, "Starting over in %(seconds)s seconds.", "en", seconds=seconds)

    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.clock.install()
    page.goto("/c/main/wall/new")
    html = page.locator("html")
    expect(html).to_have_attribute("data-idle", str(IDLE_S))
    expect(html).to_have_attribute("data-idle-warning", str(WARNING_S))
    expect(html).to_have_attribute("data-attract", str(ATTRACT_S))

    # Large text and English first: the session now holds something to forget.
    with page.expect_navigation(wait_until="load"):
        page.locator('form[action="/large-text"] button').tap()
    expect(html).to_have_class(_has_class("large-text"))
    with page.expect_navigation(wait_until="load"):
        page.locator("#language-button").tap()
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_class(_has_class("large-text"))
    assert page.evaluate("document.documentElement.hasAttribute('data-fresh')") is False

    form = page.locator("form#wall-form")
    text = _numbered("建议在楼道里多装几盏灯，晚上上楼能看清台阶")
    form.locator('label.kind-option:has(input[value="suggestion"])').tap()
    form.locator('textarea[name="text"]').tap()
    form.locator('textarea[name="text"]').fill(text)
    form.locator('input[name="nickname"]').tap()
    form.locator('input[name="nickname"]').fill("六楼老周")

    idle = page.locator("#idle")
    countdown = page.locator("#idle-countdown")
    _pause_and_touch(page, form.locator('textarea[name="text"]'))
    page.clock.fast_forward((IDLE_S - 1) * 1000)
    expect(idle).to_be_hidden()
    page.clock.fast_forward(1000)
    expect(idle).to_be_visible()
    expect(idle).to_have_attribute("role", "alertdialog")
    expect(page.locator("#idle-title")).to_have_text(translated(server_app, "Still there?", "en"))
    expect(countdown).to_have_text(starting_over_in(WARNING_S))
    page.clock.fast_forward(5000)
    expect(countdown).to_have_text(starting_over_in(WARNING_S - 5))

    # One touch and everything is as it was.
    page.locator("#idle-continue").tap()
    expect(idle).to_be_hidden()
    expect(page).to_have_url(f"{live_server.url}/c/main/wall/new")
    expect(form.locator('textarea[name="text"]')).to_have_value(text)
    expect(form.locator('input[name="nickname"]')).to_have_value("六楼老周")
    expect(form.locator('input[value="suggestion"]')).to_be_checked()
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_class(_has_class("large-text"))

    # Left again: the warning after 90 s, and 20 s later a clean start.
    page.clock.fast_forward((IDLE_S - 1) * 1000)
    expect(idle).to_be_hidden()
    page.clock.fast_forward(1000)
    expect(idle).to_be_visible()
    page.clock.fast_forward((WARNING_S - 1) * 1000)
    expect(countdown).to_have_text(starting_over_in(1))
    expect(form.locator('textarea[name="text"]')).to_have_value(text)
    page.evaluate("window.__sameDocument = 1")
    before = len(requests)
    with page.expect_navigation(url=f"{live_server.url}/c/main/", wait_until="load"):
        page.clock.fast_forward(1000)
    # Other polls may go out at the same tick; these three come in this order.
    started_over = [(method, urlsplit(url).path) for method, url in requests[before:]
                    if urlsplit(url).path in ("/healthz", "/reset", "/", "/c/main/")]
    assert started_over[:3] == [("GET", "/healthz"), ("POST", "/reset"), ("GET", "/c/main/")], started_over
    assert page.evaluate("window.__sameDocument") is None, "the start-over was not a full reload"
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(html).not_to_have_class(_has_class("large-text"))
    assert page.evaluate("document.documentElement.hasAttribute('data-fresh')") is True
    expect(page.locator("#idle")).to_be_hidden()

    page.clock.resume()
    page.goto("/c/main/wall/new")
    form = page.locator("form#wall-form")
    expect(form.locator('textarea[name="text"]')).to_have_value("")
    expect(form.locator('input[name="nickname"]')).to_have_value("")
    expect(form.locator("input:checked")).to_have_count(0)
    assert foreign([url for _, url in requests], live_server.url) == []


def test_attract_loop_on_an_untouched_home_page_and_its_first_tap(enroll_kiosks, live_server):
    (page,) = enroll_kiosks("吸引画面")
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.clock.install()
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/c/main/")
    assert page.evaluate("document.documentElement.hasAttribute('data-fresh')") is True
    loop = page.locator("#attract")
    tile = page.locator("nav.tiles a.tile").first
    board = tile.get_attribute("href")

    _pause_and_touch(page, page.locator("h1.welcome"))
    page.clock.fast_forward((ATTRACT_S - 10) * 1000)
    expect(loop).to_be_hidden()
    expect(page.locator("#idle")).to_be_hidden()  # no "Still there?" on a clean home page
    assert "/c/main/attract" not in _paths(requests)

    with page.expect_response(path_is("/c/main/attract")) as fetched:
        page.clock.fast_forward(10_000)
    assert fetched.value.status == 200
    expect(loop).to_be_visible()
    slides = loop.locator(".slide")
    expect(slides).to_have_count(4)
    for heading in ("#slide-wall", "#slide-classes", "#slide-expert", "#slide-notices"):
        expect(loop.locator(heading)).not_to_be_empty()
    animations = slides.evaluate_all(
        "els => els.map(el => el.getAnimations().map(a => a.animationName + ' ' + a.playState).join())")
    assert animations == ["slide running"] * 4, animations
    expect(slides.first).to_have_css("opacity", "1")  # the first slide fades in within a second
    covered = loop.bounding_box()
    assert (covered["width"], covered["height"]) == (1920, 1080), covered
    # Where the tile lies now (an urgent banner arriving meanwhile would have moved it).
    x, y = _centre(tile)
    assert page.evaluate("([x, y]) => document.getElementById('attract').contains(document.elementFromPoint(x, y))",
                         [x, y]), "the loop does not cover the board tile"

    # The first tap, where a board's tile lies under the loop, only goes home.
    page.clock.resume()
    page.evaluate("window.__sameDocument = 1")
    before = len(requests)
    # all_headers(): what was sent, also after a redirect (headers leaves out the page's own
    # headers on a redirected request).
    with page.expect_response(lambda r: path_is("/c/main/")(r)
                              and r.request.all_headers().get("hx-request") == "true") as home:
        page.touchscreen.tap(x, y)
    assert home.value.status == 200
    expect(loop).to_be_hidden()
    expect(tile).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/c/main/")
    assert board not in _paths(requests[before:]), _paths(requests[before:])
    assert page.evaluate("window.__sameDocument") == 1

    # The second tap there is an ordinary tap on the tile.
    with page.expect_response(path_is(board)):
        page.touchscreen.tap(*_centre(tile))
    expect(page).to_have_url(f"{live_server.url}{board}")
    assert foreign([url for _, url in requests], live_server.url) == []


def test_an_urgent_notice_reaches_other_screens_within_15_seconds(enroll_kiosks, live_server):
    first, second = enroll_kiosks("紧急 大厅", "紧急 走廊")
    second.goto("/c/main/classes/")
    screens = (first, second)
    for page in screens:
        # Other urgent notices may be showing already (the demo content has one).
        expect(page.locator("#urgent")).to_have_count(1)
        page.evaluate("window.__sameDocument = 1")

    notices = Notice.__table__
    title = _numbered("紧急：今晚 8 点起 3 号楼停水")
    now = utcnow()
    notice = live_server.sql(insert(notices).values(
        community_id=FIRST_COMMUNITY, title=title, body="请提前储水。", urgency="urgent", starts_at=now,
        ends_at=now + timedelta(hours=2), created_at=now, updated_at=now,
    ).returning(notices.c.id))
    try:
        started = time.monotonic()
        banner = second.locator(f"#urgent a.urgent-banner#urgent-{notice}")
        expect(banner).to_be_visible(timeout=URGENT_WITHIN_S * 1000)
        shown_after = time.monotonic() - started
        print(f"\nurgent notice on the second kiosk after {shown_after:.1f} s")
        assert shown_after < URGENT_WITHIN_S
        expect(banner).to_contain_text(title)
        expect(banner).to_have_attribute("href", f"/c/main/notices/{notice}")
        expect(first.locator(f"#urgent-{notice}")).to_be_visible(timeout=URGENT_WITHIN_S * 1000)
        expect(second).to_have_url(f"{live_server.url}/c/main/classes/")
    finally:
        ended = utcnow()
        live_server.sql(update(notices).where(notices.c.id == notice).values(ends_at=ended, updated_at=ended))

    started = time.monotonic()
    for page in screens:
        expect(page.locator(f"#urgent-{notice}")).to_have_count(0, timeout=URGENT_WITHIN_S * 1000)
    gone_after = time.monotonic() - started
    print(f"urgent notice gone from both kiosks after {gone_after:.1f} s")
    assert gone_after < URGENT_WITHIN_S
    for page in screens:
        assert page.evaluate("window.__sameDocument") == 1, "the banner came by reloading the page"


def _phone_opens(browser, live_server, link):
    """A phone scans the code: a new browser opens the link; its page and the response."""
    context = new_phone_context(browser, live_server)
    phone = context.new_page()
    response = phone.goto(link)
    return phone, response


def test_a_wall_post_continued_on_a_phone(enroll_kiosks, browser, live_server, server_app):
    name = "手机接力 留言"
    (kiosk,) = enroll_kiosks(name, path="/c/main/wall/new")
    urls = []
    kiosk.on("request", lambda r: urls.append(r.url))
    form = kiosk.locator("form#wall-form")
    text = _numbered("感谢物业师傅连夜修好了水管")
    nickname = "二楼小陈"
    form.locator('label.kind-option:has(input[value="thanks"])').tap()
    form.locator('textarea[name="text"]').tap()
    form.locator('textarea[name="text"]').fill(text)
    form.locator('input[name="nickname"]').tap()
    form.locator('input[name="nickname"]').fill(nickname)
    kiosk.evaluate("window.__sameDocument = 1")
    kiosk.evaluate("document.addEventListener('kiosk-handoff-opened', "
                   "(e) => { window.__opened = e.detail; window.__openedAt = Date.now(); })")

    with kiosk.expect_response(path_is("/handoff/wall-post")) as started:
        kiosk.locator("#handoff-wall-post").tap()
    assert started.value.status == 200, started.value.text()
    panel = kiosk.locator("#handoff")
    expect(panel.locator("figure svg")).to_be_visible()
    expect(form).to_have_count(0)
    html = kiosk.content()
    assert text not in html and nickname not in html, "the kiosk still shows what was typed"

    link = read_qr(panel.locator("figure"))
    assert re.fullmatch(rf"{re.escape(live_server.url)}/c/main/h/[A-Za-z0-9_-]{{20,}}", link), link

    # The phone gets the same form, filled in, fitted to its screen.
    phone, opened = _phone_opens(browser, live_server, link)
    assert opened.status == 200
    assert opened.request.redirected_from is not None and opened.request.redirected_from.url == link
    assert opened.request.redirected_from.response().status == 303
    expect(phone).to_have_url(f"{live_server.url}/c/main/wall/new")
    phone_form = phone.locator("form#wall-form")
    expect(phone_form.locator('textarea[name="text"]')).to_have_value(text)
    expect(phone_form.locator('input[name="nickname"]')).to_have_value(nickname)
    expect(phone_form.locator('input[value="thanks"]')).to_be_checked()
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[1] == 390 and widths[0] <= widths[1], f"the phone scrolls sideways: {widths}"
    assert phone.evaluate("document.documentElement.hasAttribute('data-idle')") is False
    expect(phone.locator("#heartbeat")).to_have_count(0)
    expect(phone.locator("#pairing")).to_have_count(0)
    expect(phone.locator("#handoff-wall-post")).to_have_count(0)

    # The link works once: a second opening, on any browser, is refused.
    refused_title = translated(server_app, "This link no longer works")
    other, again = _phone_opens(browser, live_server, link)
    assert again.status == 410
    expect(other.locator("main h1")).to_have_text(refused_title)
    expect(other.locator("main")).not_to_contain_text(text)
    same_phone_again = phone.request.get(link, max_redirects=0)
    assert same_phone_again.status == 410

    # The kiosk sees the link opened, and starts over by itself a few seconds later.
    expect(panel.locator("h2")).to_have_text(translated(server_app, "Opened on your phone."), timeout=5_000)
    # Timed from the event the page's start-over timer runs from, not from when this test got
    # round to looking: the phone's steps above may have taken seconds of it already.
    opened_at = kiosk.evaluate("window.__openedAt") / 1000
    assert kiosk.evaluate("window.__opened && window.__opened.id") == \
        live_server.sql(select(Handoff.id).where(Handoff.kiosk_id == kiosk_id(live_server, name)))
    kiosk.wait_for_url(f"{live_server.url}/c/main/", timeout=(START_OVER_AFTER_HANDOFF_S + 5) * 1000)
    kiosk.wait_for_load_state()
    waited = time.time() - opened_at
    print(f"\nkiosk started over {waited:.1f} s after it heard the link was opened")
    assert START_OVER_AFTER_HANDOFF_S - 1 <= waited
    assert kiosk.evaluate("window.__sameDocument") is None, "the start-over was not a full reload"
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-Hans")

    # The phone sends it; the post is the kiosk's, and what was typed is no longer kept.
    with phone.expect_response(path_is("/c/main/wall/posts")) as sent:
        phone_form.locator('button[type="submit"]').tap()
    assert sent.value.status == 200, sent.value.text()
    receipt = phone.locator("#receipt-code")
    expect(receipt).to_have_text(RECEIPT_SHOWN)
    code = receipt.inner_text().replace(" ", "")
    post = Post.__table__
    row = live_server.sql(select(post.c.posted_by + "|" + post.c.text).where(post.c.receipt_code == code))
    assert row == f"kiosk:{kiosk_id(live_server, name)}|{text}"
    assert live_server.sql(select(Handoff.fields).where(Handoff.kiosk_id == kiosk_id(live_server, name))) == "{}"
    assert foreign(urls, live_server.url) == []
    for page in (phone, other):
        page.context.close()


def test_a_class_sign_up_continued_on_a_phone(enroll_kiosks, browser, live_server, server_app):
    name = "手机接力 报名"
    course = open_course(server_app, capacity=10, title="手机接力 太极拳")
    (kiosk,) = enroll_kiosks(name, path=f"/c/main/classes/{course}/sign-up")
    form = kiosk.locator("form#signup-form")
    form.locator('input[name="name"]').tap()
    form.locator('input[name="name"]').fill("李四海")
    form.locator('input[name="mobile"]').tap()
    form.locator('input[name="mobile"]').fill("13912345678")
    with kiosk.expect_response(path_is("/handoff/class-signup")) as started:
        kiosk.locator("#handoff-class-signup").tap()
    assert started.value.status == 200, started.value.text()
    expect(form).to_have_count(0)
    assert "13912345678" not in kiosk.content()
    link = read_qr(kiosk.locator("#handoff figure"))

    phone, opened = _phone_opens(browser, live_server, link)
    assert opened.status == 200
    expect(phone).to_have_url(f"{live_server.url}/c/main/classes/{course}/sign-up")
    phone_form = phone.locator("form#signup-form")
    expect(phone_form.locator('input[name="name"]')).to_have_value("李四海")
    expect(phone_form.locator('input[name="mobile"]')).to_have_value("13912345678")
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[1] == 390 and widths[0] <= widths[1], f"the phone scrolls sideways: {widths}"

    with phone.expect_response(path_is(f"/c/main/classes/{course}/sign-up")) as sent:
        phone_form.locator('button[type="submit"]').tap()
    assert sent.value.request.method == "POST" and sent.value.status == 200, sent.value.text()
    created_by = live_server.sql(select(Signup.created_by).where(Signup.course_id == course))
    assert created_by == f"kiosk:{kiosk_id(live_server, name)}"
    phone.context.close()


def test_the_kiosk_rides_out_a_server_restart(restartable_server, enroll_kiosks, server_app):
    server = restartable_server.live
    (page,) = enroll_kiosks("断线恢复", path="/", server=server)
    lost = page.locator("#connection-lost")
    expect(lost).to_be_hidden()
    expect(page.locator("main h1")).to_be_visible()
    heading = page.locator("main h1").inner_text()
    home = page.url
    page.evaluate("window.__sameDocument = 1")
    failed = []
    page.on("requestfailed", lambda r: failed.append(urlsplit(r.url).path))

    stopping = time.monotonic()
    restartable_server.stop()
    stopped = time.monotonic()
    print(f"\ngunicorn stopped in {stopped - stopping:.1f} s")
    expect(lost).to_be_visible(timeout=(3 * HEARTBEAT_SECONDS + 1) * 1000)
    print(f"'Reconnecting' shown {time.monotonic() - stopping:.1f} s after the server was told to stop")
    assert "/device/heartbeat" in failed, failed

    # A tap on a board meanwhile: the tap fails quietly, the screen stays where it was.
    with page.expect_event("requestfailed", lambda r: path_is("/c/main/wall/")(r)):
        page.locator("#tile-wall").tap()
    with page.expect_event("requestfailed", lambda r: path_is("/healthz")(r), timeout=(PROBE_S + 2) * 1000):
        pass
    expect(lost).to_be_visible()
    expect(lost).to_have_text(translated(server_app, "Reconnecting…"))
    expect(page).to_have_url(home)
    expect(page.locator("main h1")).to_have_text(heading)
    assert page.evaluate("window.__sameDocument") == 1, "the page navigated while the server was down"

    log_before = restartable_server.log.stat().st_size
    restarted = time.monotonic()
    restartable_server.start()
    print(f"gunicorn answering again after {time.monotonic() - restarted:.1f} s")
    with page.expect_response(lambda r: path_is("/device/heartbeat")(r),
                              timeout=(PROBE_S + 3 * HEARTBEAT_SECONDS + 2) * 1000) as beat:
        expect(lost).to_be_hidden(timeout=(PROBE_S + 2) * 1000)
        print(f"'Reconnecting' gone {time.monotonic() - restarted:.1f} s after the restart began")
    assert beat.value.status == 204
    with restartable_server.log.open("rb") as log:
        log.seek(log_before)
        after = log.read().decode(errors="replace")
    assert re.search(r'"POST /device/heartbeat HTTP/1\.1" 204', after), after
    expect(page).to_have_url(home)
    assert page.evaluate("window.__sameDocument") == 1, "the page reloaded instead of carrying on"


# Runs in the page: the smallest font size of visible text within `scope`, and where.
SMALLEST_TEXT_JS = """
(scope) => {
  let smallest = null;
  for (const el of document.querySelectorAll(scope + ", " + scope + " *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
    if (!own || el.getClientRects().length === 0 || !el.checkVisibility({visibilityProperty: true})) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (smallest === null || size < smallest.size) {
      smallest = {size, where: el.tagName.toLowerCase() + (el.className ? "." + el.className : "") +
                  " " + el.textContent.trim().slice(0, 30)};
    }
  }
  return smallest;
}
"""


def test_large_text_makes_body_text_32px(enroll_kiosks, live_server):
    (page,) = enroll_kiosks("大字")
    page.goto("/c/main/notices/")
    notice_path = page.locator("main .notice-card").first.get_attribute("href")
    paths = ["/", "/c/main/notices/", notice_path, "/c/main/wall/", "/c/main/classes/", "/c/main/experts/"]
    button = page.locator('form[action="/large-text"] button')
    html = page.locator("html")

    def smallest_text(minimum):
        found = []
        for path in paths:
            page.goto(path)
            expect(page.locator("main h1")).to_be_visible()
            smallest = page.evaluate(SMALLEST_TEXT_JS, "main")
            bar = page.evaluate(SMALLEST_TEXT_JS, "header.kiosk-bar")
            for where in (smallest, bar):
                assert where is not None, f"{path}: no text found"
                if where["size"] < minimum:
                    found.append(f"{path}: {where['size']}px {where['where']}")
        return found

    assert smallest_text(24) == []
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "24px"
    with page.expect_navigation(wait_until="load"):
        button.tap()
    expect(html).to_have_class(_has_class("large-text"))
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    assert smallest_text(32) == []
    page.goto(notice_path)
    expect(page.locator("main .notice-body")).to_have_css("font-size", "32px")

    with page.expect_navigation(wait_until="load"):
        button.tap()
    expect(html).not_to_have_class(_has_class("large-text"))
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "24px"

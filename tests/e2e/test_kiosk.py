"""The kiosk in a real browser: language, navigation, touch targets, page weight, CSRF
recovery and the headers gunicorn really sends. Taps, not clicks."""

import gzip
import re
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import insert, select, update

from app.cases import services as cases
from app.cases.models import Category
from app.clock import utcnow
from app.extensions import db
from app.notices.models import Notice
from app.staff.models import StaffMember
from app.wall.models import RESIDENT_KINDS
from app.classes import services as classes
from app.experts import services as experts
from app.friends import services as friends
from app.notices import services as notices
from tests.conftest import FIRST_COMMUNITY
from tests.e2e.helpers import (LANDSCAPE, PORTRAIT, foreign, in_server_db, moderate, new_phone_context, open_course,
                               publish, read_qr)

MIN_TOUCH_PX = 72
MIN_FONT_PX = 24
MIN_CONTRAST = 7.0
PAGE_BUDGET_BYTES = 80 * 1024
JS_GZIP_BUDGET_BYTES = 20 * 1024
# An enrolled kiosk's idle warning and attract loop (app/config.py).
IDLE_SECONDS = 90
ATTRACT_SECONDS = 180

# Runs in the page: touch targets too small, text too small, text of too little contrast.
AUDIT_JS = """
({minTouch, minFont, minContrast}) => {
  const visible = (el) => el.getClientRects().length > 0 &&
    el.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    for (const cls of el.classList) name += "." + cls;
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "")
      .trim().replace(/\\s+/g, " ").slice(0, 40);
    return text ? `${name} "${text}"` : name;
  };
  const parse = (color) => {
    const m = color.match(/^rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?\\)$/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null;
  };
  const over = (top, bottom) => [0, 1, 2].map(
    (i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const luminance = (rgb) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  // The backdrop: background colours of the element and its ancestors, composited
  // over white, down to the first opaque one.
  const backdrop = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg === null) return null;
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };

  // A radio button or checkbox inside its label (the wall's kind picker hides the input
  // itself) is tapped through the label: the label's box is its touch target.
  const tapTarget = (el) => {
    if (!el.matches("input[type=radio], input[type=checkbox]")) return el;
    return [...el.labels].find((label) => label.contains(el) && visible(label)) || el;
  };

  // An htmx element is tapped when its trigger is a click (htmx's default for it); one
  // that polls or waits for an event (the urgent notices' region) is not a touch target.
  const tappable = (el) => {
    if (el.matches("a, button, input, select, textarea")) return true;
    const trigger = el.getAttribute("hx-trigger");
    return trigger === null || /(^|[\\s,])click\\b/.test(trigger);
  };

  const small = [], tiny = [], faint = [];
  let controlsSeen = 0, textsSeen = 0;
  const controls = "a, button, input:not([type=hidden]), select, textarea, [hx-get], [hx-post]";
  for (const el of document.querySelectorAll(controls)) {
    if (!visible(el) || !tappable(el)) continue;
    controlsSeen += 1;
    const target = tapTarget(el);
    const box = target.getBoundingClientRect();
    if (box.width < minTouch - 0.01 || box.height < minTouch - 0.01) {
      const through = target === el ? "" : ` (through ${describe(target)})`;
      small.push(`${describe(el)}${through}: ${box.width.toFixed(1)}x${box.height.toFixed(1)}`);
    }
  }
  for (const el of document.body.querySelectorAll("*")) {
    const ownText = [...el.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
    if (!ownText || !visible(el)) continue;
    textsSeen += 1;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < minFont) tiny.push(`${describe(el)}: ${style.fontSize}`);
    const fg = parse(style.color), bg = backdrop(el);
    if (fg === null || bg === null) {
      faint.push(`${describe(el)}: colours not understood (${style.color})`);
      continue;
    }
    const a = luminance(over(fg, bg)), b = luminance(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < minContrast) {
      faint.push(`${describe(el)}: ${ratio.toFixed(2)}:1 (${style.color} on rgb(${bg.slice(0, 3)}))`);
    }
  }
  return {small, tiny, faint, controlsSeen, textsSeen, scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth};
}
"""


def _fetch(url):
    """Status and headers of a GET, 4xx and 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_language_switch_and_tile_navigation(kiosk, live_server, requested_urls):
    page = kiosk
    html = page.locator("html")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/c/main/")  # a screen's start page: the first community's home
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#tile-notices .tile-label")).to_have_text("通知公告")
    expect(page.locator("#tile-notices")).to_be_visible()

    page.locator("#language-button").tap()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("#tile-notices .tile-label")).to_have_text("Notices")
    expect(page.locator("#tile-notices")).to_be_visible()

    page.locator("#language-button").tap()
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#tile-notices .tile-label")).to_have_text("通知公告")

    home_title = page.title()
    page.evaluate("window.__sameDocument = 1")
    with page.expect_request(lambda req: urlsplit(req.url).path == "/c/main/notices/") as asked:
        page.locator("#tile-notices").tap()
    expect(page).to_have_url(f"{live_server.url}/c/main/notices/")
    expect(page.locator("main h1")).to_have_text("通知公告")
    expect(page.locator("main h1")).to_be_visible()
    expect(page).not_to_have_title(home_title)
    expect(page).to_have_title(re.compile(r"^通知公告 · "))
    assert asked.value.headers.get("hx-request") == "true", "the tile did not go through htmx"
    assert page.evaluate("window.__sameDocument") == 1, "the tile reloaded the whole page"
    assert page.locator("main#main").count() == 1

    # No page copies are kept (historyCacheSize 0): Back fetches the home page again.
    page.evaluate("history.back()")
    expect(page).to_have_url(f"{live_server.url}/c/main/")
    expect(page.locator("#tile-notices")).to_be_visible()
    expect(page).to_have_title(home_title)

    assert requested_urls, "no requests were recorded"
    assert foreign(requested_urls, live_server.url) == []


def _first_notice_path(page):
    page.goto("/c/main/notices/")
    href = page.locator("main .notice-card").first.get_attribute("href")
    assert href and href.startswith("/c/main/notices/"), href
    return href


def _audit(page, where):
    """What the audit finds wrong with the page as it is now, each line saying where."""
    found = page.evaluate(AUDIT_JS, {"minTouch": MIN_TOUCH_PX, "minFont": MIN_FONT_PX,
                                     "minContrast": MIN_CONTRAST})
    # The audit must have looked at something: the kiosk bar alone has 3 controls.
    assert found["controlsSeen"] >= 3 and found["textsSeen"] >= 3, (where, found)
    problems = [f"{where}: touch target under {MIN_TOUCH_PX}px: {x}" for x in found["small"]]
    problems += [f"{where}: text under {MIN_FONT_PX}px: {x}" for x in found["tiny"]]
    problems += [f"{where}: contrast under {MIN_CONTRAST}:1: {x}" for x in found["faint"]]
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(f"{where}: scrolls sideways "
                        f"({found['scrollWidth']}px wide in {found['innerWidth']}px)")
    return problems


def _wall_with_a_problem_answered(live_server, staff, server_app, staff_account):
    """The wall with cards of every part: a problem (a case) with place, status and reply,
    and a wish with a nickname. The problem's post id, receipt code and category."""
    publish(live_server, staff, "wish", "祝小区的老人们身体健康，天天开心！（版面检查）", nickname="三楼小王")
    with in_server_db(server_app):
        category = db.session.scalar(select(Category.id).where(Category.key == "property"))
        case = cases.take_in(cases.Intake(category_id=category, text="5号楼电梯按钮失灵，请尽快修理（版面检查）",
                                          place="5号楼"), channel="walk_in", reported_by="test")
        cases.publish(case.id, posted_by="test")
        member = db.session.scalar(select(StaffMember).where(StaffMember.username == staff_account[0]))
        cases.act(case.id, member, cases.Step(action="route", level="committee", reply="已报修，维修师傅明天上午到。"))
        cases.act(case.id, member, cases.Step(action="accept"))
        problem, receipt = case.post_id, case.receipt_code
    assert problem is not None, "the case went on the wall"
    moderate(staff, problem, "approve")
    return problem, receipt, category


def _audit_kiosk_experience(page, browser, live_server):
    """The audit on what an enrolled kiosk shows by itself or for a moment ("Still there?",
    the attract loop, the QR code of a form going to a phone, an urgent banner), and on
    the phone: the form it opened from that QR code, and the refusal of a used link."""
    problems = []
    page.clock.install()  # the idle warning and the attract loop without minutes of waiting
    for name, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(viewport)
        page.goto("/c/main/wall/new")
        page.clock.fast_forward((IDLE_SECONDS + 1) * 1000)
        expect(page.locator("#idle")).to_be_visible()
        problems += _audit(page, f"kiosk {name} /wall/new with \"Still there?\" shown")
        page.locator("#idle-continue").tap()
        expect(page.locator("#idle")).to_be_hidden()

        page.goto("/")
        with page.expect_response(lambda r: urlsplit(r.url).path == "/c/main/attract"):
            page.clock.fast_forward((ATTRACT_SECONDS + 1) * 1000)
        expect(page.locator("#attract .slide")).to_have_count(4)
        expect(page.locator("#attract")).to_be_visible()
        problems += _audit(page, f"kiosk {name} / with the attract loop shown")

        page.goto("/c/main/wall/new")
        page.locator('#wall-form textarea[name="text"]').fill("楼下的花开了，大家下楼看看（版面检查）")
        page.locator("#handoff-wall-post").tap()
        expect(page.locator("#handoff figure svg")).to_be_visible()
        problems += _audit(page, f"kiosk {name} /wall/new with the QR code for a phone")
    link = read_qr(page.locator("#handoff figure"))

    notices = Notice.__table__
    now = utcnow()
    notice = live_server.sql(insert(notices).values(
        community_id=FIRST_COMMUNITY, title="紧急：明天上午 9 点至 11 点全楼停电（版面检查）", body="",
        urgency="urgent", starts_at=now,
        ends_at=now + timedelta(hours=1), created_at=now, updated_at=now,
    ).returning(notices.c.id))
    try:
        for name, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
            page.set_viewport_size(viewport)
            for path in ("/", "/c/main/wall/new"):
                page.goto(path)
                expect(page.locator(f"#urgent-{notice}")).to_be_visible()
                problems += _audit(page, f"kiosk {name} {path} with an urgent banner")
    finally:
        ended = utcnow()
        live_server.sql(update(notices).where(notices.c.id == notice).values(ends_at=ended, updated_at=ended))

    phone_context, other_context = new_phone_context(browser, live_server), new_phone_context(browser, live_server)
    try:
        phone = phone_context.new_page()
        assert phone.goto(link).status == 200
        expect(phone.locator("#wall-form textarea[name='text']")).not_to_have_value("")
        problems += _audit(phone, "phone 390px /wall/new opened from a kiosk's QR code")
        assert phone.goto(link).status == 410
        problems += _audit(phone, "phone 390px the used link refused (410), on the phone that used it")
        other = other_context.new_page()
        assert other.goto(link).status == 410
        problems += _audit(other, "phone 390px the used link refused (410), on another phone")
    finally:
        phone_context.close()
        other_context.close()
    return problems


def test_touch_targets_type_size_and_contrast(kiosk, enroll_kiosks, staff, staff_account, live_server, server_app,
                                              requested_urls, browser):
    problem, receipt, category = _wall_with_a_problem_answered(live_server, staff, server_app, staff_account)
    course = open_course(server_app, capacity=20, title="书法入门（版面检查）")
    with in_server_db(server_app):
        signup_code = classes.sign_up(course, "张三明", "13812345678", created_by="test").code
        expert = experts.search("sf")[0].id  # the demo content's calligraphers
        friend = friends.public_cards()[0]  # one of the demo content's approved cards
        friend_number, friend_code = friend.number, friend.code
    # Both screens: a read-only one (its pairing code; a notice instead of the wall's form) and a kiosk.
    (enrolled,) = enroll_kiosks("版面检查")
    enrolled.on("request", lambda req: requested_urls.append(req.url))
    paths = ["/", "/c/main/notices/", _first_notice_path(kiosk),
             "/c/main/wall/", "/c/main/wall/new", "/c/main/wall/receipt", f"/c/main/wall/receipt?code={receipt}",
             "/c/main/cases/new", f"/c/main/cases/new?category={category}", "/c/main/cases/receipt",
             f"/c/main/cases/receipt?code={receipt}",
             "/c/main/classes/", "/c/main/classes/all", f"/c/main/classes/{course}",
             f"/c/main/classes/{course}/sign-up", "/c/main/classes/my",
             f"/c/main/classes/my?code={signup_code}", "/c/main/classes/survey",
             "/c/main/experts/", "/c/main/experts/?q=s", f"/c/main/experts/{expert}",
             f"/c/main/experts/{expert}/ask", "/c/main/experts/receipt",
             "/c/main/friends/", f"/c/main/friends/{friend_number}", f"/c/main/friends/{friend_number}/meet",
             "/c/main/friends/new",
             "/c/main/friends/mine", f"/c/main/friends/mine?code={friend_code}"]
    problems = []
    for screen, page in (("read-only", kiosk), ("kiosk", enrolled)):
        for name, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
            page.set_viewport_size(viewport)
            for path in paths:
                page.goto(path)
                expect(page.locator("main h1")).to_be_visible()
                if (screen, path) == ("kiosk", "/c/main/wall/new"):  # the form, not the read-only notice
                    expect(page.locator("form#wall-form label.kind-option")).to_have_count(len(RESIDENT_KINDS))
                problems += _audit(page, f"{screen} {name} {path}")
            # A card's report reasons, opened by a tap.
            page.goto("/c/main/wall/")
            page.locator(f"#post-{problem} .post-actions button[hx-get$='/report']").tap()
            expect(page.locator(f"#post-actions-{problem} button[name='reason']")).to_have_count(4)
            problems += _audit(page, f"{screen} {name} /wall/ with a card's report reasons open")
    problems += _audit_kiosk_experience(enrolled, browser, live_server)
    assert problems == [], "\n".join(problems)
    assert foreign(requested_urls, live_server.url) == []


def test_first_load_stays_within_budget(kiosk, live_server, requested_urls):
    page = kiosk
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/", wait_until="load")
    page.wait_for_load_state("networkidle")

    # A screen's start page, /, sends it to its community's home first (a body-less 307
    # to Playwright): that answer counts at the size it was sent.
    redirects = [response for response in responses if 300 <= response.status < 400]
    assert [(urlsplit(r.url).path, r.status, r.headers.get("location")) for r in redirects] == \
        [("/", 307, "/c/main/")], [(r.url, r.status, r.headers.get("location")) for r in redirects]

    total = 0
    js_gzipped = 0
    lines = []
    for response in responses:
        body = b"" if response in redirects else response.body()
        size = int(response.headers.get("content-length", 0)) if response in redirects else len(body)
        total += size
        line = f"  {response.status} {size:>7} B  {response.url}"
        if response.request.resource_type == "script":
            squeezed = len(gzip.compress(body))
            js_gzipped += squeezed
            line += f"  (gzip {squeezed} B)"
        lines.append(line)
    print(f"\nfirst load of /: {len(responses)} responses, {total} B "
          f"(budget {PAGE_BUDGET_BYTES}), JavaScript gzipped {js_gzipped} B "
          f"(budget {JS_GZIP_BUDGET_BYTES})")
    print("\n".join(lines))

    kinds = {response.request.resource_type for response in responses}
    assert {"document", "stylesheet", "script"} <= kinds, kinds
    assert all(response.status == 200 for response in responses if response not in redirects), lines
    assert total <= PAGE_BUDGET_BYTES, "\n".join(lines)
    assert js_gzipped <= JS_GZIP_BUDGET_BYTES, "\n".join(lines)
    assert foreign(requested_urls, live_server.url) == []


def test_stale_csrf_token_reloads_the_page_then_works(kiosk, live_server, requested_urls):
    page = kiosk
    html = page.locator("html")
    large_text = page.locator('form[action="/large-text"] button')
    page.goto("/")
    expect(large_text).to_contain_text("大字")
    expect(html).not_to_have_class(re.compile(r"\blarge-text\b"))

    # The pairing code's own poll would meet the stale token first and reload the page
    # before the tap; this test is about the tap, so that poll is stopped.
    page.evaluate("document.getElementById('pairing').remove()")
    # A new session (as after a restart) makes the open page's token stale.
    page.context.clear_cookies()
    with page.expect_navigation(wait_until="load"):
        with page.expect_response(lambda r: urlsplit(r.url).path == "/large-text") as refused:
            large_text.tap()
    assert refused.value.status == 400
    assert refused.value.headers.get("hx-refresh") == "true"
    expect(html).not_to_have_class(re.compile(r"\blarge-text\b"))
    expect(large_text).to_have_attribute("aria-pressed", "false")

    with page.expect_navigation(wait_until="load"):
        with page.expect_response(lambda r: urlsplit(r.url).path == "/large-text") as accepted:
            large_text.tap()
    assert accepted.value.status == 200
    expect(html).to_have_class(re.compile(r"\blarge-text\b"))
    expect(large_text).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    assert foreign(requested_urls, live_server.url) == []


def test_security_headers_from_gunicorn(live_server):
    status, headers, body = _fetch(f"{live_server.url}/")
    assert status == 200
    static_paths = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
    assert static_paths, "the home page links no static file"
    static_url = f"{live_server.url}{static_paths[0]}"
    assert "?v=" in static_url, static_url

    answers = {
        "/": (status, headers),
        static_paths[0]: _fetch(static_url)[:2],
        "/no-such-page": _fetch(f"{live_server.url}/no-such-page")[:2],
    }
    assert answers[static_paths[0]][0] == 200
    assert answers["/no-such-page"][0] == 404
    for path, (_status, headers) in answers.items():
        csp = headers.get("Content-Security-Policy", "")
        directives = {part.strip() for part in csp.split(";")}
        assert csp, f"{path}: no Content-Security-Policy"
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"{path}: {csp}"
        assert {"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} <= directives, \
            f"{path}: {csp}"
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        referrer = headers.get("Referrer-Policy")
        assert referrer and referrer != "no-referrer", f"{path}: Referrer-Policy {referrer!r}"

    cache = answers[static_paths[0]][1].get("Cache-Control", "")
    assert "max-age=31536000" in cache, f"{static_paths[0]}: Cache-Control {cache!r}"


def test_tapping_a_notice_that_has_ended_shows_the_error_page(kiosk, live_server, server_app, requested_urls):
    # Added and ended through the notices' services, as the console does: a kept board page
    # follows writes made through the app, not a statement typed into the database.
    page = kiosk
    page.goto("/c/main/notices/")  # the list is kept before the notice is added
    with in_server_db(server_app):
        notice_id = notices.add_notice("电梯停运检修", starts_at=utcnow() - timedelta(minutes=1))
    page.goto("/c/main/notices/")
    card = page.locator(f'main a.notice-card[href="/c/main/notices/{notice_id}"]')
    expect(card).to_contain_text("电梯停运检修")

    # The notice ends while the list is on screen: its card now leads nowhere.
    with in_server_db(server_app):
        notices.end_notice(notice_id)
    page.evaluate("window.__sameDocument = 1")
    with page.expect_response(lambda r: urlsplit(r.url).path == f"/c/main/notices/{notice_id}") as tapped:
        card.tap()
    assert tapped.value.status == 404
    assert tapped.value.request.headers.get("hx-request") == "true", "the card did not go through htmx"
    expect(page.locator("main h1")).to_have_text("找不到这个页面")
    expect(page).to_have_url(f"{live_server.url}/c/main/notices/{notice_id}")
    expect(page).to_have_title(re.compile(r"^找不到这个页面 · "))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#request-failed")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is None, "the error page was not loaded as a page"
    assert foreign(requested_urls, live_server.url) == []

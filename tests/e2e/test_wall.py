"""The message wall in real browsers: residents post and report on enrolled kiosks (taps),
staff moderate in the console (mouse), and other kiosks follow by polling, untouched.
live_server's wall polls every WALL_POLL_SECONDS (2 s, conftest)."""

import itertools
from urllib.parse import urlsplit

from playwright.sync_api import expect

from app.wall.models import RESIDENT_KINDS
from tests.e2e.helpers import (RECEIPT_SHOWN, WALL_POLL_SECONDS, foreign, path_is, post_id, post_to_wall,
                               publish)
from tests.xss_payloads import XSS_PAYLOADS

# A kiosk sees a change at its next poll; a busy machine may delay it by a poll or two.
WALL_FOLLOWS_MS = 3 * WALL_POLL_SECONDS * 1000 + 1000
# The same text within 5 minutes is refused: every test text gets a number of its own.
_texts = itertools.count(1)


def _unique(text: str) -> str:
    return f"{text}（第{next(_texts)}条）"


def _write_post(page, kind_label: str, text: str) -> str:
    """From the wall, tap through to the form, fill it in and send it; the receipt shown."""
    page.locator("#write-post").tap()
    form = page.locator("form#wall-form")
    expect(form).to_be_visible()
    kind = form.locator("label.kind-option", has_text=kind_label)
    kind.tap()
    expect(kind.locator("input")).to_be_checked()
    form.locator('textarea[name="text"]').tap()
    form.locator('textarea[name="text"]').fill(text)
    with page.expect_response(path_is("/c/main/wall/posts")) as sent:
        form.locator('button[type="submit"]').tap()
    assert sent.value.status == 200, sent.value.text()
    receipt = page.locator("#wall-form #receipt-code")
    expect(receipt).to_have_text(RECEIPT_SHOWN)
    return receipt.inner_text().replace(" ", "")


def _queue_row(staff, text: str):
    """The console row of the post with this text (or receipt code), once it shows."""
    row = staff.locator("#wall-queue article.queue-row", has_text=text)
    expect(row).to_have_count(1)
    return staff.locator(f"#{row.get_attribute('id')}")  # rows are swapped whole: find it by id


def _act(staff, row, button_text: str) -> None:
    with staff.expect_response(lambda r: r.request.method == "POST"
                               and urlsplit(r.url).path.startswith("/staff/wall/")) as done:
        row.get_by_role("button", name=button_text, exact=True).click()
    assert done.value.status == 200, done.value.text()


def test_post_approve_and_see_it_without_a_touch(enroll_kiosks, staff, live_server):
    writer, watcher = enroll_kiosks("留言墙 写", "留言墙 看", path="/c/main/wall/")
    watcher.evaluate("window.__sameDocument = 1")
    polls = []
    watcher.on("response", lambda r: polls.append(r.status) if path_is("/c/main/wall/live")(r) else None)

    text = _unique("希望楼下的长椅修一修，老人散步累了可以歇脚")
    receipt = _write_post(writer, "心愿", text)
    post = post_id(live_server, receipt)

    # Pending: the watching kiosk's next poll brings nothing new.
    with watcher.expect_response(path_is("/c/main/wall/live")) as poll:
        pass
    assert poll.value.status == 204
    expect(watcher.locator(f"#post-{post}")).to_have_count(0)

    staff.goto("/staff/wall")
    row = _queue_row(staff, text)
    assert row.get_attribute("id") == f"row-{post}"
    expect(row.locator(".row-meta")).to_contain_text(receipt)
    _act(staff, row, "通过")
    expect(row.locator('button[data-shortcut="approve"]')).to_have_count(0)
    expect(row.locator(".state")).to_have_text("已上墙")

    card = watcher.locator(f"#wall-list article.post-card#post-{post}")
    expect(card).to_be_visible(timeout=WALL_FOLLOWS_MS)
    expect(card.locator(".post-text")).to_have_text(text)
    expect(card.locator(".post-kind")).to_have_text("心愿")
    assert watcher.evaluate("window.__sameDocument") == 1, "the kiosk reloaded instead of polling"
    assert 200 in polls and 204 in polls, f"/c/main/wall/live answered {polls}"


def test_three_kiosks_reporting_hide_a_post(enroll_kiosks, staff, kiosk, live_server, requested_urls):
    text = _unique("周六上午十点在小广场有免费理发，欢迎大家来")
    post, _ = publish(live_server, staff, "suggestion", text)
    card_id = f"#post-{post}"
    kiosk.goto("/c/main/wall/")  # a screen just showing the wall (read-only)
    expect(kiosk.locator(card_id)).to_be_visible()
    kiosk.evaluate("window.__sameDocument = 1")

    reporters = enroll_kiosks("举报 甲", "举报 乙", "举报 丙", path="/c/main/wall/")
    for reporter, reason in zip(reporters, ("offensive", "spam", "other")):
        # A fresh load: fewer than three reports leave the post on the wall.
        reporter.goto("/c/main/wall/")
        card = reporter.locator(card_id)
        expect(card.locator(".post-text")).to_have_text(text)
        card.locator("button", has_text="举报").tap()
        reasons = card.locator(f"#post-actions-{post} form.report-form button[name='reason']")
        expect(reasons).to_have_count(4)
        with reporter.expect_response(path_is(f"/c/main/wall/posts/{post}/report")) as sent:
            card.locator(f"button[name='reason'][value='{reason}']").tap()
        assert sent.value.request.method == "POST" and sent.value.status == 200, sent.value.text()
        expect(card.locator(".reported")).to_have_text("谢谢，工作人员会查看这条留言。")

    expect(kiosk.locator(card_id)).to_have_count(0, timeout=WALL_FOLLOWS_MS)
    assert kiosk.evaluate("window.__sameDocument") == 1, "the watching kiosk reloaded instead of polling"
    reporters[0].goto("/c/main/wall/")
    expect(reporters[0].locator("#wall-list")).to_be_visible()
    expect(reporters[0].locator(card_id)).to_have_count(0)
    assert kiosk.request.get(f"/c/main/wall/posts/{post}/report").status == 404

    # Hidden, not deleted: moderators find it among the reported posts.
    staff.goto("/staff/wall?show=reported")
    expect(staff.locator(f"#row-{post}")).to_contain_text("3 次举报 · 审核前已隐藏")
    assert foreign(requested_urls, live_server.url) == []


def test_a_problem_is_reported_as_a_case_from_the_walls_form(enroll_kiosks, live_server):
    """Problems are cases (tests/e2e/test_cases.py follows one): the wall's form sends a
    resident who taps "反映问题" to the case form, with its category tiles."""
    (resident,) = enroll_kiosks("留言墙 问题", path="/c/main/wall/")
    resident.locator("#write-post").tap()
    form = resident.locator("form#wall-form")
    expect(form.locator("label.kind-option")).to_have_count(len(RESIDENT_KINDS))
    form.locator("a.report-problem", has_text="反映问题").tap()
    expect(resident).to_have_url(f"{live_server.url}/c/main/cases/new")
    expect(resident.locator("form#case-form label.kind-option", has_text="路灯照明")).to_be_visible()
    assert resident.locator('form#case-form input[name="kind"]').count() == 0


# Recorded in every page of a watched browser: what the CSP refused.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""
# Where payloads would send a request if their markup or hx- attributes came alive.
PAYLOAD_TARGETS = {"/staff/", "/healthz", "/language", "/c/main/wall/"}


class Watched:
    """A page under watch from its next navigation: dialogs (dismissed), CSP violations,
    and every request to the server as (method, path)."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.dialogs, self.requests, self.urls = [], [], []
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request):
        self.urls.append(request.url)
        if request.url.startswith(self.base_url + "/"):
            self.requests.append((request.method, urlsplit(request.url).path))

    def unexpected(self, normal: set) -> list:
        """Requests other than the page's own (normal: method and path; any static file)."""
        return [request for request in self.requests
                if request not in normal and not request[1].startswith("/static/")]

    def assert_nothing_ran(self, normal: set, document: str):
        page = self.page
        assert self.dialogs == []
        assert page.evaluate("window.__cspViolations") == []
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert self.unexpected(normal) == []
        assert self.requests.count(("GET", document)) == 1, self.requests
        named = [request for request in self.requests if request[1] in PAYLOAD_TARGETS and request[1] != document]
        assert named == [], named
        assert foreign(self.urls, self.base_url) == []


def _texts_shown(page, selectors: list[str]) -> list:
    """Per selector: its innerText, or why not (missing, or it holds elements)."""
    return page.evaluate("""(selectors) => selectors.map((selector) => {
        const el = document.querySelector(selector);
        if (!el) return "missing: " + selector;
        if (el.children.length) return "has elements: " + el.innerHTML;
        return el.innerText;
    })""", selectors)


def test_markup_payloads_run_nothing(enroll_kiosks, staff, live_server):
    (resident,) = enroll_kiosks("留言墙 标记", path="/c/main/wall/")
    texts = [f"{payload} #{number}" for number, payload in enumerate(XSS_PAYLOADS)]
    receipts = [post_to_wall(resident, "wish", text) for text in texts]
    posts = [post_id(live_server, receipt) for receipt in receipts]

    # The console, before approval: every payload in its row, as text.
    console = Watched(staff, live_server.url)
    staff.goto("/staff/wall")
    rows = [f"#row-{post} .row-text" for post in posts]
    assert _texts_shown(staff, rows) == texts
    for post in posts:
        staff.locator(f'#row-{post} input[name="post"]').check()
    with staff.expect_response(path_is("/staff/wall/approve-many")) as approved:
        staff.locator("#bulk-approve button[type='submit']").click()
    assert approved.value.status == 200
    expect(staff.locator(f"#row-{posts[0]}")).to_have_count(0)
    still_waiting = staff.locator("#wall-queue .queue-row").evaluate_all("rows => rows.map((row) => +row.dataset.post)")
    assert set(still_waiting).isdisjoint(posts)
    staff.wait_for_timeout(1000)
    console.assert_nothing_ran({("GET", "/staff/wall"), ("POST", "/staff/wall/approve-many")}, "/staff/wall")

    # The wall: every page of it, tapped open.
    wall = Watched(resident, live_server.url)
    resident.goto("/c/main/wall/")
    # A poll comes and goes meanwhile: the page's own requests, for comparison.
    with resident.expect_response(path_is("/c/main/wall/live")):
        pass
    for _ in range(20):  # 20 cards a page: far more than this wall holds
        more = resident.locator("#load-more")
        if more.count() == 0:
            break
        asks = more.get_attribute("hx-get")
        with resident.expect_response(lambda r: urlsplit(r.url).path == "/c/main/wall/more") as loaded:
            more.tap()
        assert loaded.value.status == 200
        expect(resident.locator(f'#load-more[hx-get="{asks}"]')).to_have_count(0)
    expect(resident.locator("#load-more")).to_have_count(0)
    assert _texts_shown(resident, [f"#wall-list #post-{post} .post-text" for post in posts]) == texts
    # With older messages open, the live list waits (a swap would take them away).
    polls = len([r for r in wall.requests if r == ("GET", "/c/main/wall/live")])
    resident.wait_for_timeout(3000)
    assert len([r for r in wall.requests if r == ("GET", "/c/main/wall/live")]) == polls
    wall.assert_nothing_ran({("GET", "/c/main/wall/"), ("GET", "/c/main/wall/more"), ("GET", "/c/main/wall/live"),
                             ("POST", "/device/heartbeat")}, "/c/main/wall/")
    assert ("GET", "/c/main/wall/live") in wall.requests and ("GET", "/c/main/wall/more") in wall.requests

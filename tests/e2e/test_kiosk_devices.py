"""Kiosk devices in real browsers: a screen shows a pairing code, staff enroll it in the
console, the screen becomes a kiosk by itself, and falls back to read-only when revoked.
The kiosk is never touched; staff use a mouse."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

from app.kiosk.devices import CLAIM_COOKIE, CODE_ALPHABET, DEVICE_COOKIE
from tests.e2e.helpers import PAIRING_CODE, foreign, path_is

KIOSK_NAME = "大厅左侧"
# The console's list polls every 10 s; the kiosk's heartbeat here every 2 s (conftest).
CONSOLE_POLL_WAIT_MS = 15_000
KIOSK_WAIT_MS = 15_000


def _row_ids(staff):
    return set(staff.locator("#kiosk-list tr[id^='kiosk-']").evaluate_all("rows => rows.map(r => r.id)"))


def test_enroll_by_pairing_code_then_revoke(kiosk, staff, live_server, requested_urls):
    kiosk.goto("/")
    shown_code = kiosk.locator("aside#pairing #pairing-code")
    expect(shown_code).to_have_text(PAIRING_CODE)
    code = shown_code.inner_text()
    expect(kiosk.locator("#heartbeat")).to_have_count(0)
    kiosk.evaluate("window.__sameDocument = 1")

    staff.goto("/staff/kiosks")
    form = staff.locator("form#enroll-kiosk")
    rows_before = _row_ids(staff)

    # A mistyped code: the form comes back with the error in Chinese, and no kiosk is added.
    mistyped = next(letter for letter in CODE_ALPHABET if letter != code[0]) + code[1:]
    form.locator('input[name="code"]').fill(mistyped)
    form.locator('input[name="name"]').fill(KIOSK_NAME)
    with staff.expect_response(path_is("/staff/kiosks")) as refused:
        form.locator('input[type="submit"]').click()
    assert refused.value.request.method == "POST" and refused.value.status == 422
    expect(form.locator(".error")).to_have_text("没有屏幕显示这个配对码。请核对屏幕角落的配对码。")
    expect(form.locator('input[name="code"]')).to_have_attribute("aria-invalid", "true")
    assert _row_ids(staff) == rows_before
    expect(shown_code).to_have_text(code)

    # The code the screen shows: a new row waits for the screen, which picks it up itself.
    form.locator('input[name="code"]').fill(code)
    form.locator('input[name="name"]').fill(KIOSK_NAME)
    with kiosk.expect_response(lambda r: path_is("/device/pairing")(r)
                               and r.headers.get("hx-refresh") == "true", timeout=KIOSK_WAIT_MS) as pickup:
        with staff.expect_response(lambda r: path_is("/staff/kiosks")(r) and r.request.method == "POST") as accepted:
            form.locator('input[type="submit"]').click()
        assert accepted.value.status == 303  # then the list, by its own address: a reload sends nothing
        expect(staff.locator("#kiosk-list [role=status]")).to_have_text("大屏已添加，几秒钟内下次联络时生效。")
        added = _row_ids(staff) - rows_before
        assert len(added) == 1, added
        row = staff.locator(f"#{added.pop()}")
        expect(row.locator('input[name="name"]')).to_have_value(KIOSK_NAME)
    assert pickup.value.status == 200

    expect(kiosk.locator("#heartbeat")).to_have_count(1)
    expect(kiosk.locator("#pairing")).to_have_count(0)
    expect(kiosk.locator("#pairing-code")).to_have_count(0)
    assert kiosk.evaluate("window.__sameDocument") is None, "the kiosk did not reload itself"
    cookies = {cookie["name"]: cookie for cookie in kiosk.context.cookies()}
    assert CLAIM_COOKIE not in cookies
    device = cookies[DEVICE_COOKIE]
    assert device["httpOnly"] is True and device["sameSite"] == "Strict", device
    assert DEVICE_COOKIE not in kiosk.evaluate("document.cookie")

    # The console's own poll (no reload) shows the kiosk online.
    staff.evaluate("window.__sameDocument = 1")
    expect(row).to_have_attribute("data-status", "online", timeout=CONSOLE_POLL_WAIT_MS)
    expect(row).to_contain_text("在线")
    assert staff.evaluate("window.__sameDocument") == 1, "the console reloaded instead of polling"

    # Revoked: the kiosk's next heartbeat reloads it read-only, showing a pairing code again.
    kiosk.evaluate("window.__sameDocument = 1")
    with kiosk.expect_response(lambda r: path_is("/device/heartbeat")(r)
                               and r.headers.get("hx-refresh") == "true", timeout=KIOSK_WAIT_MS):
        # Revoking asks first, on a page that names the kiosk and what will happen.
        row.get_by_role("link", name="撤销…").click()
        expect(staff.locator("h1")).to_contain_text("撤销大屏")
        with staff.expect_response(lambda r: r.request.method == "POST"
                                   and urlsplit(r.url).path.endswith("/revoke")) as revoked:
            staff.locator("#confirm-button").click()
        assert revoked.value.status == 303
        expect(row).to_have_attribute("data-status", "revoked")
        expect(row.get_by_role("link", name="撤销…")).to_have_count(0)
    expect(kiosk.locator("#pairing-code")).to_have_text(PAIRING_CODE, timeout=KIOSK_WAIT_MS)
    expect(kiosk.locator("#heartbeat")).to_have_count(0)
    assert kiosk.evaluate("window.__sameDocument") is None, "the kiosk did not reload itself"
    assert foreign(requested_urls, live_server.url) == []

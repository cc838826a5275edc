"""What several browser tests share: screen sizes, URL checks, and the few steps they take
over HTTP from a page (with its cookies and CSRF token) where the taps are not the point."""

import io
import json
import re
from contextlib import contextmanager
from datetime import time, timedelta
from urllib.parse import urlsplit

import zxingcpp
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.classes import services as classes
from app.clock import site_today, to_site, utcnow
from app.extensions import db

from app.kiosk.devices import CODE_ALPHABET, CODE_LENGTH
from app.kiosk.models import Kiosk
from app.wall.models import Post

# live_server's wall polls this often (conftest writes it into the instance config).
WALL_POLL_SECONDS = 2
# Every test server's kiosks report this often (conftest writes it into the instance config).
HEARTBEAT_SECONDS = 2
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
# A resident's phone, as Chromium's device list has a recent iPhone.
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
PAIRING_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
# The confirmation after posting: "1234 5678".
RECEIPT_SHOWN = re.compile(r"^\d{4} \d{4}$")
_RECEIPT_IN_HTML = re.compile(r'id="receipt-code">(\d{4}) (\d{4})<')


def new_kiosk_context(browser, server):
    """A fresh touch screen in a Chinese browser, landscape 1920x1080: no cookies, so not
    (yet) an enrolled kiosk."""
    context = browser.new_context(viewport=LANDSCAPE, has_touch=True, locale="zh-CN", base_url=server.url,
                                  service_workers="block")
    context.set_default_timeout(10_000)
    return context


def new_phone_context(browser, server):
    """A resident's phone in Chinese: 390x844, touch, mobile viewport, no cookies."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=server.url, service_workers="block")
    context.set_default_timeout(10_000)
    return context


def new_laptop_context(browser, server):
    """A staff member's laptop in Chinese: 1366x768, a mouse, no cookies."""
    context = browser.new_context(viewport=LAPTOP, has_touch=False, locale="zh-CN", base_url=server.url,
                                  service_workers="block")
    context.set_default_timeout(10_000)
    return context


def read_qr(locator) -> str:
    """What a phone's camera reads from the QR code in this element (a screenshot of it)."""
    image = Image.open(io.BytesIO(locator.screenshot()))
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode, \
        f"expected one QR code, read {[(code.format, code.text) for code in codes]}"
    return codes[0].text


def kiosk_id(server, name: str) -> int:
    """The id of the kiosk enrolled under this name, from the server's database."""
    return server.sql(select(Kiosk.id).where(Kiosk.name == name))


def translated(app, message: str, locale: str = "zh_Hans", **params) -> str:
    """A message as the server's catalog for `locale` has it: what a kiosk in that
    language should show."""
    with app.test_request_context(), force_locale(locale):
        return gettext(message, **params)


def path_is(path):
    """A predicate on a response or request: its URL has this path."""
    return lambda message: urlsplit(message.url).path == path


def foreign(urls, base_url):
    """Requests that went anywhere but the live server (data: URLs stay on the device)."""
    return [url for url in urls if not (url.startswith(base_url + "/") or url.startswith("data:"))]


def htmx_headers(page, target: str | None = None) -> dict:
    """What htmx sends from this page: its CSRF token (from <main hx-headers>), HX-Request,
    and HX-Target when an element asks."""
    token = json.loads(page.locator("main#main").get_attribute("hx-headers"))["X-CSRFToken"]
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return headers


def post_to_wall(page, kind: str, text: str, *, nickname: str = "") -> str:
    """Post as the page's form would (page.request shares the page's cookies: an enrolled
    kiosk or signed-in staff); the receipt code, 8 digits."""
    response = page.request.post("/c/main/wall/posts", headers=htmx_headers(page, "wall-form"),
                                 form={"kind": kind, "text": text, "nickname": nickname})
    assert response.status == 200, f"{response.status}: {response.text()}"
    return "".join(_RECEIPT_IN_HTML.search(response.text()).groups())


def post_id(server, receipt: str) -> int:
    """The id of the post with this receipt code, from the server's database."""
    return server.sql(select(Post.id).where(Post.receipt_code == receipt))


def moderate(staff, post: int, action: str, **form: str) -> None:
    """One moderator action on a post, as the console's buttons post it."""
    response = staff.request.post(f"/staff/wall/{post}/{action}", headers=htmx_headers(staff), form=form)
    assert response.status == 200, f"{action}: {response.status}: {response.text()}"


def publish(server, staff, kind: str, text: str, **fields: str) -> tuple[int, str]:
    """A post by a staff member, approved at once: its id and receipt code."""
    receipt = post_to_wall(staff, kind, text, **fields)
    post = post_id(server, receipt)
    moderate(staff, post, "approve")
    return post, receipt


@contextmanager
def in_server_db(app):
    """An app context on the server's database (server_app), closed before browsers go on."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def open_course(app, capacity: int, title: str = "书法入门") -> int:
    """A first-come course, taking sign-ups since yesterday until 3 days from now; its id."""
    with in_server_db(app):
        now = to_site(utcnow()).replace(microsecond=0)
        today = site_today()
        course = classes.save_course(None, classes.CourseData(
            title=title, category="calligraphy", teacher="王老师", venue="二楼书画室", capacity=capacity,
            term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=60),
            signup_opens_at=now - timedelta(days=1), signup_closes_at=now + timedelta(days=3),
            weekdays=(1,), start_time=time(9, 30), minutes=90))
        classes.set_status(course.id, "open")
        return course.id


def tap_digits(page, scope: str, digits: str) -> None:
    """Tap a number on the on-screen pad inside `scope` (a CSS selector)."""
    for digit in digits:
        page.locator(f'{scope} .keypad [data-key="{digit}"]').tap()


def look_up_code(page, path: str, code: str, button: str):
    """On a page with a code look-up form (macros/keypad.html code_lookup): tap the code on
    its pad, check the box shows it, tap the button; the look-up's response."""
    tap_digits(page, "form.lookup-form", code)
    expect(page.locator('form.lookup-form input[name="code"]')).to_have_value(code)
    with page.expect_response(lambda r: path_is(path)(r) and "code=" in r.url) as looked:
        page.locator(button).tap()
    return looked.value


def send_case_form(page) -> str:
    """Send the problem report form on this page (its fields filled in); the receipt code shown."""
    with page.expect_response(lambda r: path_is("/c/main/cases/")(r) and r.request.method == "POST") as sent:
        page.locator("form#case-form #send-case").tap()
    assert sent.value.status == 200, sent.value.text()
    shown = page.locator("#case-form #receipt-code")
    expect(shown).to_have_text(RECEIPT_SHOWN)
    return shown.inner_text().replace(" ", "")

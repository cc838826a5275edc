"""Per-device rate limits against a real gunicorn with 2 workers (tests/e2e/limited_app.py),
on the wall's posting route with its default limit.

Which worker accepts a new connection is up to the kernel, so the test decides it: it
stops (SIGSTOP) every other worker of its own server for the length of one request.
Every request goes on a new connection (urllib sends `Connection: close`).
"""

import html
import http.cookiejar
import itertools
import json
import os
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import expect

from app.kiosk.devices import DEVICE_COOKIE
from app.limits import Limit
from tests.e2e.helpers import htmx_headers, new_kiosk_context
from tests.e2e.limited_app import WORKER_HEADER

# The default of "wall-post" in app/wall/routes.py; limited_server's config leaves it.
LIMIT = Limit.parse("5 per 10 minutes")
PERIOD = LIMIT.seconds
# Windows are aligned to multiples of PERIOD since the epoch; all of one kiosk's posts
# (a second or two) must fall in one window.
WINDOW_MARGIN_S = 10.0
RECEIPT_IN_HTML = re.compile(r'id="receipt-code">\d{4} \d{4}<')
CSRF_ON_MAIN = re.compile(r"""<main id="main" hx-headers='([^']*)'""")


class Device:
    """A browser-like HTTP client with its own cookie jar."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.csrf_token = None

    def request(self, method: str, path: str, headers: dict | None = None, data: dict | None = None):
        """Status, headers and text of one request, 4xx and 5xx included."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, method=method, headers=headers or {}, data=body)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def open_home(self) -> None:
        status, _, body = self.request("GET", "/")
        assert status == 200
        self.csrf_token = json.loads(html.unescape(CSRF_ON_MAIN.search(body).group(1)))["X-CSRFToken"]

    def post(self, path: str, data: dict | None = None, target: str | None = None):
        """What htmx sends: the CSRF token in a header, with the session cookie."""
        headers = {"X-CSRFToken": self.csrf_token, "HX-Request": "true"}
        if target:
            headers["HX-Target"] = target
        return self.request("POST", path, headers, data)

    def post_to_wall(self, text: str):
        """What the wall's form sends."""
        return self.post("/c/main/wall/posts", {"kind": "wish", "text": text}, target="wall-form")

    def cookie(self, name: str):
        return next((cookie for cookie in self.cookies if cookie.name == name), None)


def _enroll(server, name: str) -> Device:
    """A new kiosk: it shows a pairing code, the CLI enrolls it, its next poll collects the token."""
    device = Device(server.url)
    device.open_home()
    status, _, body = device.post("/device/pairing")
    assert status == 200, body
    code = re.search(r'id="pairing-code">([A-Z2-9]{6})<', body).group(1)
    assert "Kiosk #" in server.flask("kiosk", "enroll", code, "--name", name)
    status, headers, _ = device.post("/device/pairing")
    assert status == 200 and headers.get("HX-Refresh") == "true"
    assert device.cookie(DEVICE_COOKIE) is not None, [cookie.name for cookie in device.cookies]
    return device


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@contextmanager
def _only_worker(workers: list[int], pid: int):
    """While inside, only worker `pid` can accept connections: the others are stopped."""
    others = [worker for worker in workers if worker != pid]
    try:
        for other in others:
            os.kill(other, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while any(_state(other) != "T" for other in others):
            assert time.monotonic() < deadline, "a gunicorn worker did not stop"
            time.sleep(0.005)
        yield
    finally:
        for other in others:
            os.kill(other, signal.SIGCONT)


def _fresh_window_if_needed() -> None:
    """Fixed windows: start the counted posts well before the current one ends."""
    left = PERIOD - time.time() % PERIOD
    if left < WINDOW_MARGIN_S:
        time.sleep(left + 0.1)


_wishes = itertools.count(1)


def _wish(device: str) -> str:
    # The same text within 5 minutes is refused: each post says something new.
    return f"限流测试：{device} 的第 {next(_wishes)} 个心愿"


def test_limit_is_per_device_across_workers(limited_server, browser):
    workers = limited_server.worker_pids()
    assert len(workers) == 2, f"expected 2 gunicorn workers, found {workers}"
    first, second = workers
    kiosk_a = _enroll(limited_server, "限流测试 A")
    kiosk_b = _enroll(limited_server, "限流测试 B")
    # Both workers have booted and each answers alone when the other is stopped.
    for worker in workers:
        with _only_worker(workers, worker):
            status, headers, _ = kiosk_b.request("GET", "/healthz")
        assert status == 200 and headers[WORKER_HEADER] == str(worker)

    _fresh_window_if_needed()
    window_ends = (time.time() // PERIOD + 1) * PERIOD
    # A's allowed posts alternate between the workers; the one that refuses A next has
    # answered fewer than the limit itself, so a per-worker count would let A through.
    plan = [workers[turn % 2] for turn in range(LIMIT.count)]
    answered = []
    for worker in plan:
        with _only_worker(workers, worker):
            status, headers, body = kiosk_a.post_to_wall(_wish("A"))
        assert status == 200 and RECEIPT_IN_HTML.search(body), body
        answered.append(int(headers[WORKER_HEADER]))
    assert answered == plan and set(answered) == set(workers)
    assert plan.count(second) < LIMIT.count

    with _only_worker(workers, second):
        status, headers, body = kiosk_a.post_to_wall(_wish("A"))
    assert status == 429, body
    assert headers[WORKER_HEADER] == str(second)
    wait = int(headers["Retry-After"])
    assert 1 <= wait <= PERIOD and abs(wait - (window_ends - time.time())) <= 2, wait
    assert f"请等 {wait} 秒后再试" in body, body
    assert not RECEIPT_IN_HTML.search(body)

    # Another device on the worker that just refused A is not held back by A's count,
    # and A stays refused on the other worker too.
    with _only_worker(workers, second):
        status, headers, body = kiosk_b.post_to_wall(_wish("B"))
    assert status == 200 and RECEIPT_IN_HTML.search(body), body
    assert headers[WORKER_HEADER] == str(second)
    with _only_worker(workers, first):
        status, headers, body = kiosk_a.post_to_wall(_wish("A"))
    assert status == 429 and headers[WORKER_HEADER] == str(first), body
    assert time.time() < window_ends, "the posts straddled a window boundary"

    # A browser that is neither a kiosk nor signed-in staff may read, not post.
    context = new_kiosk_context(browser, limited_server)
    try:
        page = context.new_page()
        page.goto("/c/main/wall/new")
        expect(page.locator("#pairing-code")).to_be_visible()
        refused = page.request.post("/c/main/wall/posts", headers=htmx_headers(page, "wall-form"),
                                    form={"kind": "wish", "text": _wish("只读屏")})
        assert refused.status == 403, refused.text()
        assert "这个屏幕只能浏览信息" in refused.text()
        assert DEVICE_COOKIE not in {cookie["name"] for cookie in context.cookies()}
    finally:
        context.close()

"""Sign-in throttling against a real gunicorn (4 workers of 4 threads) behind a proxy
(PROXY_FIX_HOPS = 1, so X-Forwarded-For is the client's address).

Sixteen wrong guesses from one address, released together by a barrier, each on a new
connection: exactly the free ones are checked, the rest are refused unchecked, and the
counter in the server's database says so. The owner at another address still gets in.
"""

import http.client
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.staff.models import SignInThrottle
from app.staff.services import FREE_FAILURES
from tests.e2e.conftest import _serve

USERNAME = "throttle-owner"
PASSWORD = "the owner's own long passphrase"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"
GUESSES = 16
CSRF_IN_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="module")
def proxied_server(e2e_database, tmp_path_factory):
    with _serve(tmp_path_factory.mktemp("e2e-proxied"), workers=4, extra_config="PROXY_FIX_HOPS = 1\n") as server:
        server.flask("staff", "create", USERNAME, "--role", "moderator", "--password-stdin",
                     stdin=PASSWORD + "\n")
        yield server


def _request(base_url: str, method: str, path: str, headers: dict, form: dict | None = None):
    """Status, headers and text of one request on a connection of its own (no redirects)."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    headers = {"Connection": "close", "Accept-Language": "en", **headers}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


class SignInPage:
    """The sign-in form as one browser holds it: its session cookie and CSRF token."""

    def __init__(self, server):
        self.url = server.url
        status, headers, body = _request(self.url, "GET", "/staff/", {})
        assert status == 200, body
        cookies = SimpleCookie()
        for value in headers.get_all("Set-Cookie"):
            cookies.load(value)
        self.cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
        self.csrf_token = CSRF_IN_FORM.search(body).group(1)

    def submit(self, password: str, address: str):
        return _request(self.url, "POST", "/staff/sign-in",
                        {"Cookie": self.cookie, "X-Forwarded-For": address},
                        {"csrf_token": self.csrf_token, "username": USERNAME, "password": password})


def test_simultaneous_guesses_are_counted_exactly_and_the_owner_gets_in(proxied_server):
    log_start = proxied_server.log.stat().st_size
    page = SignInPage(proxied_server)
    barrier = threading.Barrier(GUESSES)

    def guess(number: int):
        barrier.wait(timeout=10)
        return page.submit(f"wrong guess number {number}", ATTACKER)

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        answers = list(pool.map(guess, range(GUESSES)))

    statuses = Counter(status for status, _, _ in answers)
    assert statuses == {422: FREE_FAILURES, 429: GUESSES - FREE_FAILURES}, statuses
    for status, headers, body in answers:
        assert ("do not match" in body) is (status == 422)
        if status == 429:
            assert int(headers["Retry-After"]) > 0 and "Please wait" in body

    # The counter holds exactly the checked guesses, and each left one audit entry.
    pair = (SignInThrottle.username == USERNAME, SignInThrottle.address == ATTACKER)
    assert proxied_server.sql(select(SignInThrottle.failures).where(*pair)) == FREE_FAILURES
    audited = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "sign-in-failed", AuditEntry.ip == ATTACKER)
    assert proxied_server.sql(audited) == FREE_FAILURES

    # The right password: refused at the guessing address, let in at the owner's.
    assert page.submit(PASSWORD, ATTACKER)[0] == 429
    status, headers, _ = page.submit(PASSWORD, OWNER)
    assert status == 303 and headers["Location"] == "/staff/"
    assert proxied_server.sql(select(SignInThrottle.failures).where(*pair)) == FREE_FAILURES

    with proxied_server.log.open("rb") as handle:
        handle.seek(log_start)
        assert b"Traceback" not in handle.read()

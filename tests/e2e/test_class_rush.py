"""The sign-up rush against a real gunicorn with 2 workers: 300 residents tap "sign up"
for a 20-seat first-come course at the same moment, one number races itself, and
cancellations hand seats to the head of the waitlist.

Requests go over plain HTTP as htmx sends them (the enrolled kiosk's cookies, the CSRF
token of its form, HX-Target: signup-form for the small fragment), each on a new
connection, from many threads released together by a barrier. What was stored is read
straight from the server's database.
"""

import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import time as clock_time, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.communities import scope
from app.classes import services
from app.clock import to_site, utcnow
from app.config import normalise_database_url
from app.extensions import db
from app.kiosk.devices import DEVICE_COOKIE
from tests.e2e.conftest import _serve
from tests.factories import enrolled_kiosk

RESIDENTS = 300
CAPACITY = 20
THREADS = 64
SAME_NUMBER_TIMES = 10
CANCELLED = 5
# The rush plays 300 residents at one kiosk, and the cancellations come from one address.
RUSH_CONFIG = ("RATE_LIMITS = {'class-signup': '100000 per minute', 'class-cancel': '1000 per minute',"
               " 'code-lookup': '100000 per minute'}\n")
CODE_IN_HTML = re.compile(r'id="signup-code">(\d{4}) (\d{4})<')
POSITION_IN_HTML = re.compile(r"Your place on the waitlist: (\d+)")
CSRF_IN_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ERROR_IN_HTML = re.compile(r'class="error" role="alert">([^<]*)<')
ALREADY = "already signed up"
NAMES = ("张三丰", "李秀英", "王小明", "赵敏", "周芷若", "欧阳娜娜")


def _request(base_url: str, method: str, path: str, headers: dict | None = None,
             form: dict | None = None) -> tuple[int, http.client.HTTPMessage, str]:
    """Status, headers and text of one request on a connection of its own."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    headers = {"Connection": "close", "Accept-Language": "en", **(headers or {})}
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


class Browser:
    """Fixed cookies and the CSRF token of one page, shared by many concurrent requests."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None):
        self.base_url = base_url
        self.cookies = dict(cookies or {})
        self.csrf_token = None

    def _cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())} if self.cookies else {}

    def open(self, path: str) -> str:
        """GET a page with a form: keep its cookies and its CSRF token; the page."""
        status, headers, body = _request(self.base_url, "GET", path, self._cookie_header())
        assert status == 200, body
        for header in headers.get_all("Set-Cookie") or []:
            self.cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
        self.csrf_token = CSRF_IN_FORM.search(body).group(1)
        return body

    def get(self, path: str) -> tuple[int, str]:
        status, _headers, body = _request(self.base_url, "GET", path, self._cookie_header())
        return status, body

    def post(self, path: str, form: dict, target: str) -> tuple[int, str]:
        """What htmx sends from the form."""
        headers = {**self._cookie_header(), "HX-Request": "true", "HX-Target": target}
        status, _headers, body = _request(self.base_url, "POST", path, headers,
                                          {**form, "csrf_token": self.csrf_token})
        return status, body


def _all_at_once(calls: list, threads: int = THREADS) -> list:
    """Run the calls on `threads` threads that start together; each call's result, or the
    exception it raised."""
    threads = min(threads, len(calls))
    results = [None] * len(calls)
    barrier = threading.Barrier(threads, timeout=30)

    def work(first: int) -> None:
        barrier.wait()
        for index in range(first, len(calls), threads):
            try:
                results[index] = calls[index]()
            except Exception as error:  # noqa: BLE001  (a refused connection is a finding, not a crash)
                results[index] = error

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(threads)))
    return results


def _rows(server, statement: str, **params) -> list:
    """Rows of one query on the server's database, read as another process would."""
    engine = create_engine(normalise_database_url(server.database_url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement), params).all()
    finally:
        engine.dispose()


def _signups(server, course_id: int) -> list:
    return _rows(server, "SELECT id, mobile, state, queue_key, arrival, code FROM class_signups "
                         "WHERE course_id = :course ORDER BY queue_key, id", course=course_id)


def _taken(server, course_id: int) -> int:
    return _rows(server, "SELECT taken FROM class_courses WHERE id = :course", course=course_id)[0].taken


def _mobile(n: int) -> str:
    return f"139{n:08d}"


def _code(body: str) -> str | None:
    found = CODE_IN_HTML.search(body)
    return "".join(found.groups()) if found else None


@pytest.fixture(scope="module")
def rush_server(e2e_database, tmp_path_factory):
    """gunicorn (2 gthread workers) with room for the rush in its rate limits."""
    with _serve(tmp_path_factory.mktemp("e2e-rush"), workers=2, extra_config=RUSH_CONFIG) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_rush_server_errors(rush_server):
    """SERVER_FIXTURES in conftest.py does not name this module's server: its whole log
    (the module-scoped rush included) is checked after every test here."""
    yield
    rush_server.assert_no_errors()


@pytest.fixture(scope="module")
def in_server_app(rush_server):
    """Call a function inside an app context on the server's database; its result. No
    context is held between calls (nor while requests run)."""
    flask_app = create_app({"SQLALCHEMY_DATABASE_URI": rush_server.database_url},
                           instance_path=str(rush_server.instance))

    def run(function, *args, **kwargs):
        with flask_app.app_context(), scope.within(1):
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    yield run
    with flask_app.app_context():
        db.engine.dispose()


def _open_course(title: str, capacity: int) -> int:
    """A first-come course whose sign-up opened an hour ago; its id."""
    now = to_site(utcnow()).replace(microsecond=0)
    course = services.save_course(None, services.CourseData(
        title=title, category="fitness", teacher="李老师", venue="多功能厅", capacity=capacity,
        term_starts=(now + timedelta(days=7)).date(), term_ends=(now + timedelta(days=60)).date(),
        signup_opens_at=now - timedelta(hours=1), signup_closes_at=now + timedelta(days=2),
        weekdays=(0, 2), start_time=clock_time(9, 30)))
    services.set_status(course.id, "open")
    return course.id


@pytest.fixture(scope="module")
def kiosk(rush_server, in_server_app):
    """The enrolled kiosk every resident taps on."""
    _kiosk_id, token = in_server_app(enrolled_kiosk, "报名高峰测试")
    return Browser(rush_server.url, {DEVICE_COOKIE: token})


@dataclass(frozen=True)
class Rush:
    course_id: int
    answers: dict  # mobile -> (status, body), or the exception the request raised
    signups: list  # class_signups rows right after the rush, by queue_key
    taken: int
    seconds: float


@pytest.fixture(scope="module")
def rush(rush_server, in_server_app, kiosk):
    course_id = in_server_app(_open_course, "太极拳（抢报测试）", CAPACITY)
    kiosk.open(f"/c/main/classes/{course_id}/sign-up")
    mobiles = [_mobile(n) for n in range(1, RESIDENTS + 1)]

    def sign_up(index: int, mobile: str):
        return lambda: kiosk.post(f"/c/main/classes/{course_id}/sign-up",
                                  {"name": NAMES[index % len(NAMES)], "mobile": mobile}, "signup-form")

    started = time.monotonic()
    answers = _all_at_once([sign_up(index, mobile) for index, mobile in enumerate(mobiles)])
    seconds = time.monotonic() - started
    print(f"\n{RESIDENTS} sign-ups at once ({THREADS} threads, 2 workers): {seconds:.2f} s")
    return Rush(course_id, dict(zip(mobiles, answers)), _signups(rush_server, course_id),
                _taken(rush_server, course_id), seconds)


def test_300_at_once_fill_20_seats_and_queue_the_rest_in_arrival_order(rush, rush_server):
    failed = {mobile: answer for mobile, answer in rush.answers.items() if isinstance(answer, Exception)}
    assert not failed, f"{len(failed)} requests failed to connect or timed out: {list(failed.items())[:3]}"
    statuses = [status for status, _body in rush.answers.values()]
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses == [200] * RESIDENTS, {status: statuses.count(status) for status in set(statuses)}

    signups = rush.signups
    assert len(signups) == RESIDENTS and {row.mobile for row in signups} == set(rush.answers)
    confirmed = [row for row in signups if row.state == "confirmed"]
    waitlisted = [row for row in signups if row.state == "waitlisted"]
    assert (len(confirmed), len(waitlisted)) == (CAPACITY, RESIDENTS - CAPACITY)
    assert rush.taken == CAPACITY
    assert sorted(row.arrival for row in confirmed) == list(range(1, CAPACITY + 1))
    # The waitlist, in its own order (queue_key), is the order of arrival, after the seats.
    assert [row.arrival for row in waitlisted] == list(range(CAPACITY + 1, RESIDENTS + 1))

    for row in signups:
        status, body = rush.answers[row.mobile]
        assert _code(body) == row.code, body
        if row.state == "confirmed":
            assert "Your seat is confirmed." in body and not POSITION_IN_HTML.search(body), body
    for rank, row in enumerate(waitlisted, start=1):
        _status, body = rush.answers[row.mobile]
        assert "You are on the waitlist." in body, body
        assert POSITION_IN_HTML.search(body).group(1) == str(rank), (row, body)

    rush_server.assert_no_errors()
    # The access log saw them all.
    assert rush_server.log_text().count(f"/c/main/classes/{rush.course_id}/sign-up") >= RESIDENTS


def test_the_same_number_ten_times_at_once_gets_one_sign_up(rush_server, in_server_app, kiosk):
    # One seat: once the first request has it, a naive check would answer the others "full".
    course_id = in_server_app(_open_course, "书法（重复提交测试）", 1)
    kiosk.open(f"/c/main/classes/{course_id}/sign-up")
    mobile = _mobile(9_999)
    answers = _all_at_once([
        lambda: kiosk.post(f"/c/main/classes/{course_id}/sign-up", {"name": "张三丰", "mobile": mobile}, "signup-form")
    ] * SAME_NUMBER_TIMES)

    assert not [answer for answer in answers if isinstance(answer, Exception)], answers
    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] + [422] * (SAME_NUMBER_TIMES - 1), statuses
    won = next(body for status, body in answers if status == 200)
    assert "Your seat is confirmed." in won
    for status, body in answers:
        if status == 422:
            errors = ERROR_IN_HTML.findall(body)
            assert errors and ALREADY in errors[0], body
            assert not [error for error in errors if re.search("full|not open|try again", error, re.I)], errors
            assert _code(body) is None

    signups = _signups(rush_server, course_id)
    assert [(row.mobile, row.state, row.code) for row in signups] == [(mobile, "confirmed", _code(won))]
    assert _taken(rush_server, course_id) == 1


def test_cancelling_five_seats_promotes_the_first_five_on_the_waitlist(rush, rush_server):
    course_id = rush.course_id
    before = _signups(rush_server, course_id)
    confirmed = [row for row in before if row.state == "confirmed"]
    waitlisted = [row for row in before if row.state == "waitlisted"]
    assert (len(confirmed), len(waitlisted)) == (CAPACITY, RESIDENTS - CAPACITY)
    leaving = confirmed[3:3 + CANCELLED]

    # A resident's own phone: no kiosk cookie, the cancel form of the sign-up's lookup page.
    phones = []
    for row in leaving:
        phone = Browser(rush_server.url)
        assert 'id="cancel-form"' in phone.open(f"/c/main/classes/my?code={row.code}")
        phones.append(phone)
    answers = _all_at_once([
        (lambda phone=phone, row=row: phone.post("/c/main/classes/cancel", {"code": row.code, "tail": row.mobile[-4:]},
                                                 "cancel-form"))
        for phone, row in zip(phones, leaving)])
    assert [answer[0] if not isinstance(answer, Exception) else answer for answer in answers] == [200] * CANCELLED, \
        answers
    assert all("Your sign-up is cancelled." in body for _status, body in answers), answers

    after = {row.id: row for row in _signups(rush_server, course_id)}
    assert [after[row.id].state for row in leaving] == ["cancelled"] * CANCELLED
    assert all(after[row.id].mobile is None for row in leaving)
    promoted, still_waiting = waitlisted[:CANCELLED], waitlisted[CANCELLED:]
    assert [after[row.id].state for row in promoted] == ["confirmed"] * CANCELLED
    assert all(after[row.id].state == "confirmed" for row in confirmed if row not in leaving)
    assert [after[row.id].state for row in still_waiting] == ["waitlisted"] * len(still_waiting)
    assert _taken(rush_server, course_id) == CAPACITY

    # Everyone still waiting moved up by five, as their own lookup page shows.
    reader = Browser(rush_server.url)
    shown = _all_at_once([(lambda row=row: reader.get(f"/c/main/classes/my?code={row.code}")) for row in still_waiting])
    for rank, (row, answer) in enumerate(zip(still_waiting, shown), start=1):
        assert not isinstance(answer, Exception), answer
        status, body = answer
        assert status == 200 and POSITION_IN_HTML.search(body).group(1) == str(rank), (row, body)
        _old_status, old_body = rush.answers[row.mobile]
        assert int(POSITION_IN_HTML.search(old_body).group(1)) - CANCELLED == rank

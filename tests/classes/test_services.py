"""First-come sign-up rules without HTTP: duplicates before capacity, the waitlist,
cancelling (with the number's last 4 digits) and promotion, masking, number formats."""

import re
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.classes import services
from app.classes.services import signups
from app.errors import Refused
from app.classes.models import Course, Signup
from app.clock import site_today
from app.extensions import db
from app.people import mask_name, normalise_mobile

ALREADY = "already signed up"
NOT_OPEN = "not open"


@contextmanager
def refused(pattern: str):
    """Expect a ClassError whose message, in English, matches pattern (residents read it in
    Chinese by default)."""
    with pytest.raises(Refused) as caught:
        yield caught
    with force_locale("en"):
        said = str(caught.value)
    assert re.search(pattern, said), said


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def new_course(capacity: int = 20, mode: str = "first_come", opens_in_days: int = -1,
               open_days: int = 7) -> int:
    """An opened course (site-local window relative to today); its id."""
    today = site_today()
    opens = datetime.combine(today + timedelta(days=opens_in_days), time(9, 0))
    course = services.save_course(None, services.CourseData(
        title="书法入门", category="calligraphy", teacher="王老师", venue="活动室 201", capacity=capacity,
        term_starts=today + timedelta(days=open_days + 7), term_ends=today + timedelta(days=open_days + 60),
        signup_opens_at=opens, signup_closes_at=opens + timedelta(days=open_days), mode=mode,
        weekdays=(0, 2), start_time=time(9, 30)))
    services.set_status(course.id, "open")
    return course.id


def mobile(n: int) -> str:
    return f"139{n:08d}"


def sign_up(course_id: int, n: int, name: str = "张三丰", **kwargs) -> services.Outcome:
    return services.sign_up(course_id, name, mobile(n), created_by="kiosk:1", **kwargs)


def rows(course_id: int) -> list[tuple]:
    return db.session.execute(select(Signup.mobile, Signup.state, Signup.queue_key, Signup.code)
                              .where(Signup.course_id == course_id).order_by(Signup.id)).all()


def course_row(course_id: int) -> tuple:
    db.session.expire_all()
    return db.session.execute(select(Course.taken, Course.status, Course.arrivals)
                              .where(Course.id == course_id)).one()


def test_already_signed_up_is_checked_before_full_and_before_closed(ctx):
    course_id = new_course(capacity=20)
    outcomes = [sign_up(course_id, n) for n in range(1, 21)]
    assert [o.state for o in outcomes] == ["confirmed"] * 20
    assert course_row(course_id)[:2] == (20, "full")

    with refused(ALREADY) as retried:
        sign_up(course_id, 20)
    assert retried.value.details == {"state": "confirmed", "position": None}
    # After the window closes, the retry still hears "already", not "not open".
    after_close = db.session.get(Course, course_id).signup_closes_at + timedelta(minutes=1)
    with refused(ALREADY):
        sign_up(course_id, 20, now=after_close)
    with refused(NOT_OPEN):
        sign_up(course_id, 21, now=after_close)
    assert len(rows(course_id)) == 20 and course_row(course_id) == (20, "full", 20)


def test_a_full_course_puts_people_on_the_waitlist_in_arrival_order(ctx):
    course_id = new_course(capacity=2)
    outcomes = [sign_up(course_id, n) for n in range(1, 6)]
    assert [(o.state, o.position) for o in outcomes] == [
        ("confirmed", None), ("confirmed", None), ("waitlisted", 1), ("waitlisted", 2), ("waitlisted", 3)]
    assert [s.mobile for s in services.waitlist(course_id)] == [mobile(3), mobile(4), mobile(5)]
    with refused(ALREADY) as retried:
        sign_up(course_id, 4)
    assert retried.value.details == {"state": "waitlisted", "position": 2}


def test_signing_up_before_the_window_opens_is_refused(ctx):
    course_id = new_course(opens_in_days=2)
    with refused(NOT_OPEN):
        sign_up(course_id, 1)
    assert rows(course_id) == [] and course_row(course_id) == (0, "open", 0)


def test_cancel_with_the_wrong_tail_is_refused_and_changes_nothing(ctx):
    course_id = new_course(capacity=1)
    first = sign_up(course_id, 1)
    sign_up(course_id, 2)
    before = rows(course_id), course_row(course_id)
    for tail in ("0000", mobile(2)[-4:], ""):
        with refused("do not match"):
            services.cancel(first.code, tail)
    with refused("do not match"):
        services.cancel("12345678" if first.code != "12345678" else "87654321", mobile(1)[-4:])
    assert (rows(course_id), course_row(course_id)) == before


def test_cancelling_a_seat_promotes_the_head_of_the_waitlist(ctx):
    course_id = new_course(capacity=2)
    first, _second, third, fourth = (sign_up(course_id, n) for n in range(1, 5))
    assert course_row(course_id)[:2] == (2, "full")

    cancelled = services.cancel(first.code, mobile(1)[-4:])
    assert cancelled.state == "cancelled" and cancelled.mobile is None and cancelled.name is None
    states = {code: state for _mobile, state, _key, code in rows(course_id)}
    assert states[third.code] == "confirmed" and states[fourth.code] == "waitlisted"
    assert services.waitlist_position(services.find_signup(fourth.code)) == 1
    assert course_row(course_id)[:2] == (2, "full")
    with refused("already cancelled"):
        services.cancel(first.code, mobile(1)[-4:])

    # Cancelling a waitlist place frees no seat.
    services.cancel(fourth.code, mobile(4)[-4:])
    assert course_row(course_id)[:2] == (2, "full")
    assert services.waitlist(course_id) == []
    assert db.session.scalar(select(func.count()).select_from(Signup)
                             .where(Signup.course_id == course_id, Signup.state == "confirmed")) == 2


@pytest.mark.parametrize(("name", "shown"), [
    ("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("王", "王"), (" 张  三丰 ", "张*丰"),
    ("李 四", "李*"), ("John Smith", "J*** S****"), ("", ""),
])
def test_masked_never_shows_a_full_name(name, shown):
    assert mask_name(name) == shown


@pytest.mark.parametrize("typed", ["13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678",
                                   "+86 138 1234 5678", "008613812345678"])
def test_normalise_mobile_accepts_common_forms(typed):
    assert normalise_mobile(typed) == "13812345678"


@pytest.mark.parametrize("typed", ["12345", "", "12812345678", "1381234567", "138123456789", "138l2345678"])
def test_normalise_mobile_refuses_what_is_not_a_mainland_mobile(typed, app):
    with app.app_context(), refused("11-digit mobile number") as caught:
        normalise_mobile(typed)
    assert caught.value.field == "mobile"


def test_closing_sign_up_before_it_opened_shows_closed_not_opening_soon(app):
    with app.app_context():
        today = site_today()
        course = services.save_course(None, services.CourseData(
            title="合唱团", category="music", teacher="李老师", venue="多功能厅", capacity=10,
            term_starts=today + timedelta(days=10), term_ends=today + timedelta(days=40),
            signup_opens_at=datetime.combine(today + timedelta(days=2), time(9, 0)),
            signup_closes_at=datetime.combine(today + timedelta(days=5), time(9, 0)),
            weekdays=(3,), start_time=time(14, 30)))
        services.set_status(course.id, "open")
        assert services.phase(course) == "upcoming"
        services.set_status(course.id, "close")
        assert services.phase(db.session.get(Course, course.id)) == "closed"


def _between_read_and_first_update(monkeypatch, app, change):
    """Run ``change`` on another thread, committed, after a sign-up has read the course and
    before its first UPDATE: the sign-up then acts on a course that is no longer as read."""
    import threading

    original, done, signing_up = signups._take, threading.Event(), threading.get_ident()

    def in_another_request():
        with app.app_context():
            change()
            db.session.remove()
        done.set()

    def take_after_the_change(statement, params):
        if threading.get_ident() == signing_up and not done.is_set():
            threading.Thread(target=in_another_request).start()
            assert done.wait(timeout=10), "the other request never finished"
        return original(statement, params)

    monkeypatch.setattr(signups, "_take", take_after_the_change)


def test_a_seat_freed_while_someone_signs_up_for_a_full_course_is_theirs(app, monkeypatch):
    """The sign-up reads the course full, so it tries the waitlist first; a cancellation
    commits just before. It must end with the seat, not waiting beside it (the waitlist
    takes only while every seat is taken, and the seat is tried next)."""
    with app.app_context():
        course_id = new_course(capacity=1)
        holder = sign_up(course_id, 1)
    _between_read_and_first_update(monkeypatch, app, lambda: services.cancel(holder.code, mobile(1)[-4:]))
    with app.app_context():
        outcome = sign_up(course_id, 2)
        assert outcome.state == "confirmed"
        assert course_row(course_id)[:2] == (1, "full")
        assert services.waitlist(course_id) == []
        states = {mobile_: state for mobile_, state, _key, _code in rows(course_id)}
        assert states == {None: "cancelled", mobile(2): "confirmed"}, states  # a cancellation forgets the number


def test_a_last_seat_taken_while_someone_signs_up_sends_them_to_the_waitlist(app, monkeypatch):
    """The sign-up reads a seat free, so it tries the seat first; another sign-up takes the
    last seat just before. It joins the waitlist, first in line."""
    with app.app_context():
        course_id = new_course(capacity=1)
    _between_read_and_first_update(monkeypatch, app, lambda: sign_up(course_id, 1))
    with app.app_context():
        outcome = sign_up(course_id, 2)
        assert (outcome.state, outcome.position) == ("waitlisted", 1)
        assert course_row(course_id) == (1, "full", 2)
        states = {mobile_: state for mobile_, state, _key, _code in rows(course_id)}
        assert states == {mobile(1): "confirmed", mobile(2): "waitlisted"}, states

"""When and what: where a course stands for a resident, from its status and the clock."""

from datetime import datetime, time, timedelta

from ...clock import from_site, to_site, utcnow
from ..models import Course


def term_start_utc(course: Course) -> datetime:
    return from_site(datetime.combine(course.term_starts, time.min))


def term_end_utc(course: Course) -> datetime:
    return from_site(datetime.combine(course.term_ends + timedelta(days=1), time.min))


def phase(course: Course, now: datetime | None = None) -> str:
    """Where a course stands for a resident, from its status and the clock.

    draft, upcoming (sign-up not yet open), open, full, closed, drawing (lottery entries
    closed, not yet drawn), running, finished, dropped.
    """
    now = now or utcnow()
    if course.status in ("draft", "dropped"):
        return course.status
    if course.status == "finished" or now >= term_end_utc(course):
        return "finished"
    if course.status == "running" or now >= term_start_utc(course):
        return "running"
    if course.lottery_pending:
        if now < course.signup_opens_at:
            return "upcoming"
        return "open" if now < course.signup_closes_at else "drawing"
    if course.mode == "first_come":
        if now < course.signup_opens_at:
            return "upcoming"
        if now >= course.signup_closes_at:
            return "closed"
    elif not _late_signups(course, now):
        return "closed"
    return "full" if course.taken >= course.capacity else "open"


def seats_left(course: Course) -> int:
    return max(0, course.capacity - course.taken)


def _late_signups(course: Course, now: datetime) -> bool:
    """After a lottery's draw, latecomers take any seat left, or the waitlist, until the term
    starts; or, if staff closed sign-up after the draw (or drew early), until that close."""
    if now < course.signup_closes_at:
        return True
    return course.signup_closes_at <= course.drawn_at and now < term_start_utc(course)


def signup_window_open(now, today=None):
    """SQL: the course takes sign-ups (seats or the waitlist) at `now`: the first-come window,
    or the late sign-ups after a lottery's draw. Entries before the draw are handled apart.
    `now` and the site's `today` may be bound parameters (a statement built once)."""
    today = to_site(now).date() if today is None else today
    first_come = (Course.mode == "first_come") & (Course.signup_opens_at <= now) & (Course.signup_closes_at > now)
    after_draw = (Course.mode == "lottery") & Course.drawn_at.is_not(None) & (
        (Course.signup_closes_at > now)
        | ((Course.signup_closes_at <= Course.drawn_at) & (Course.term_starts > today)))
    return first_come | after_draw

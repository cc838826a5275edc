"""Courses, sign-ups, waitlists, lotteries, attendance, ratings and needs surveys.

Seats are taken only by conditional UPDATEs on the course row (`taken < capacity`), so
concurrent sign-ups on any number of workers can never overbook; the same UPDATE hands
out the arrival number that orders the waitlist. "Already signed up" is checked before
"full", so a retried request never gets a false "full".
"""

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Refused
from ...people import mask_name, normalise_code, normalise_mobile, normalise_name
from ...clock import from_site, site_today, to_site, utcnow
from ...extensions import db
from ...transitions import Transition, allowed, transition
from ..models import CATEGORIES, MODES, Attendance, Course, Rating, Session, Signup, Survey, SurveyOption

CODE_DIGITS = 8
MAX_SESSIONS = 200
ACTIVE_STATES = ("entered", "confirmed", "waitlisted")
# What each state of a sign-up allows, and the state it leads to. The draw and promotions
# from the waitlist move sign-ups on by themselves; rating also needs a finished course the
# person attended (rating_eligible).
SIGNUP_ACTIONS = {
    # By the resident, with the code and the last 4 digits of the number.
    "cancel": transition(ACTIVE_STATES, "cancelled", refusal=_l("This sign-up was already cancelled.")),
    "cancel-by-staff": transition(ACTIVE_STATES, "cancelled", refusal=_l("This sign-up was already cancelled.")),
    "move": transition(("waitlisted",), refusal=_l("This person is not on the waitlist.")),
    "attendance": transition(("confirmed",), refusal=_l("Only people with a seat can be marked present.")),
    "rate": transition(("confirmed",), refusal=_l("Courses are rated after the term, by people who attended.")),
}
# A reason staff give (cancelling, moving, dropping) is kept whole, up to this long.
REASON_MAX = 200


class ClassError(Refused):
    """A sign-up or action was refused; the message is shown to the person who tried."""

    default_field = "mobile"


@dataclass(frozen=True)
class Outcome:
    """What a resident is told after signing up: the code, and where they stand."""

    code: str
    state: str
    course_id: int
    masked_name: str
    position: int | None = None
    entry_ref: str | None = None


# --- small rules ---------------------------------------------------------------------------

def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def version() -> int:
    """What the kiosk's timetable and course list poll compares. Every change a list shows
    (a course saved, opened, closed, dropped or moving on, a seat taken or freed) bumps
    that course's revision, and no course is ever deleted: the sum only grows."""
    return db.session.scalar(select(func.coalesce(func.sum(Course.revision), 0)))


# --- when and what: phases ----------------------------------------------------------------

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


def _window_open(now: datetime):
    """SQL: the course takes sign-ups (seats or the waitlist) at `now`: the first-come window,
    or the late sign-ups after a lottery's draw. Entries before the draw are handled apart."""
    first_come = (Course.mode == "first_come") & (Course.signup_opens_at <= now) & (Course.signup_closes_at > now)
    after_draw = (Course.mode == "lottery") & Course.drawn_at.is_not(None) & (
        (Course.signup_closes_at > now)
        | ((Course.signup_closes_at <= Course.drawn_at) & (Course.term_starts > to_site(now).date())))
    return first_come | after_draw


# --- signing up ----------------------------------------------------------------------------

def _existing(course_id: int, mobile: str) -> Signup | None:
    return db.session.scalar(select(Signup).where(Signup.course_id == course_id, Signup.mobile == mobile,
                                                  Signup.state.in_(ACTIVE_STATES)))


def _already(signup: Signup) -> ClassError:
    return ClassError(_l("This mobile number is already signed up for this course."),
                      state=signup.state, position=waitlist_position(signup))


def _take(statement) -> int | None:
    """Run a conditional UPDATE … RETURNING arrivals: the arrival number, or None if refused."""
    return db.session.execute(statement.returning(Course.arrivals)).scalar()


def sign_up(course_id: int, name: str, mobile: str, *, source: str = "kiosk", created_by: str,
            now: datetime | None = None) -> Outcome:
    """Give a seat, a waitlist place or a lottery entry, in one transaction."""
    now = now or utcnow()
    name = normalise_name(name)
    mobile = normalise_mobile(mobile)
    for _attempt in range(3):
        try:
            return _sign_up_once(course_id, name, mobile, source, created_by, now)
        except IntegrityError:
            # The same number raced itself (one row won), or, rarely, the code was taken.
            db.session.rollback()
            existing = _existing(course_id, mobile)
            if existing is not None:
                raise _already(existing) from None
    raise ClassError(_l("That did not work. Please try again."), "course")


def _sign_up_once(course_id: int, name: str, mobile: str, source: str, created_by: str, now: datetime) -> Outcome:
    course = db.session.get(Course, course_id)
    if course is None or course.status in ("draft", "dropped"):
        raise ClassError(_l("This course does not take sign-ups."), "course")
    existing = _existing(course_id, mobile)
    if existing is not None:
        raise _already(existing)

    bump = {"arrivals": Course.arrivals + 1, "revision": Course.revision + 1}
    base = update(Course).where(Course.id == course_id)
    state = "entered"
    arrival = _take(base.where(Course.awaiting_draw, Course.signup_opens_at <= now, Course.signup_closes_at > now)
                    .values(**bump))
    # A seat, else the waitlist, but the waitlist only while every seat is taken: a seat
    # freed between the two statements (a cancellation committing in between) is taken
    # on the next turn instead of leaving this sign-up waiting beside an empty seat.
    for _turn in range(3):
        if arrival is not None:
            break
        state = "confirmed"
        arrival = _take(base.where(Course.status == "open", Course.taken < Course.capacity, _window_open(now))
                        .values(taken=Course.taken + 1,
                                status=case((Course.taken + 1 >= Course.capacity, "full"), else_=Course.status),
                                **bump))
        if arrival is None:
            state = "waitlisted"
            arrival = _take(base.where(Course.status.in_(("open", "full")), Course.taken >= Course.capacity,
                                       _window_open(now)).values(**bump))
    if arrival is None:
        db.session.rollback()
        raise ClassError(_l("Sign-up for this course is not open now."), "course")

    signup = Signup(course_id=course_id, name=name, mobile=mobile, mobile_tail=mobile[-4:], masked_name=mask_name(name),
                    code=_new_code(), entry_ref=secrets.token_hex(4) if state == "entered" else None, state=state, source=source, queue_key=arrival, arrival=arrival,
                    created_by=created_by, created_at=now, confirmed_at=now if state == "confirmed" else None)
    db.session.add(signup)
    db.session.flush()
    if source == "assisted":
        audit.record("classes", "signup-assisted", signup, {"course": course_id, "state": state})
    db.session.commit()
    return _outcome(signup)


def _outcome(signup: Signup) -> Outcome:
    return Outcome(code=signup.code, state=signup.state, course_id=signup.course_id,
                   masked_name=signup.masked_name, position=waitlist_position(signup), entry_ref=signup.entry_ref)


def waitlist_position(signup: Signup) -> int | None:
    if signup.state != "waitlisted":
        return None
    ahead = db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.course_id == signup.course_id, Signup.state == "waitlisted",
        (Signup.queue_key < signup.queue_key) | ((Signup.queue_key == signup.queue_key) & (Signup.id < signup.id))))
    return ahead + 1


def waitlist(course_id: int) -> list[Signup]:
    return list(db.session.scalars(select(Signup).where(Signup.course_id == course_id, Signup.state == "waitlisted")
                                   .order_by(Signup.queue_key, Signup.id)))


def promote_from_waitlist(course_id: int, now: datetime | None = None) -> list[Signup]:
    """Fill free seats from the head of the waitlist, in order; the caller commits."""
    now = now or utcnow()
    promoted = []
    while True:
        head = db.session.scalar(select(Signup).where(Signup.course_id == course_id, Signup.state == "waitlisted")
                                 .order_by(Signup.queue_key, Signup.id).limit(1))
        if head is None:
            break
        seat = db.session.execute(
            update(Course).where(Course.id == course_id, Course.status.in_(("open", "full")),
                                 Course.taken < Course.capacity)
            .values(taken=Course.taken + 1, revision=Course.revision + 1,
                    status=case((Course.taken + 1 >= Course.capacity, "full"), else_=Course.status)))
        if seat.rowcount != 1:
            break
        db.session.execute(update(Signup).where(Signup.id == head.id, Signup.state == "waitlisted")
                           .values(state="confirmed", confirmed_at=now))
        db.session.refresh(head)
        promoted.append(head)
    return promoted


def find_signup(code: str) -> Signup | None:
    code = normalise_code(code)
    if len(code) != CODE_DIGITS:
        return None
    return db.session.scalar(select(Signup).where(Signup.code == code))


def _verified(code: str, tail: str) -> Signup:
    signup = find_signup(code)
    tail = normalise_code(tail)
    if signup is None or signup.mobile_tail is None or not hmac.compare_digest(signup.mobile_tail, tail):
        raise ClassError(_l("The code and the last 4 digits do not match a sign-up."), "code")
    return signup


def allowed_actions(signup: Signup) -> frozenset[str]:
    """What can be done to the sign-up in its state (the table above)."""
    return allowed(SIGNUP_ACTIONS, signup.state)


def _allowed_or_refused(action: str, signup: Signup, field: str) -> Transition:
    rule = SIGNUP_ACTIONS[action]
    if signup.state not in rule.from_states:
        db.session.rollback()
        raise ClassError(rule.refusal, field)
    return rule


def cancel(code: str, tail: str, *, now: datetime | None = None) -> Signup:
    """Withdraw a sign-up (code + last 4 digits); a freed seat goes to the waitlist's head."""
    return _cancel(_verified(code, tail), now or utcnow(), "cancel", "code")


def _cancel(signup: Signup, now: datetime, action: str, field: str) -> Signup:
    rule = _allowed_or_refused(action, signup, field)
    was = signup.state
    # Lock the course row first, as every seat change does: one order, no deadlocks.
    freed = was == "confirmed"
    change = {"taken": Course.taken - 1, "status": case((Course.status == "full", "open"), else_=Course.status)} \
        if freed else {}
    db.session.execute(update(Course).where(Course.id == signup.course_id)
                       .values(revision=Course.revision + 1, **change))
    # Only from the state read above (one the rule allows): the seat count depends on it.
    done = db.session.execute(update(Signup).where(Signup.id == signup.id, Signup.state == was).values(
        state=rule.to, cancelled_at=now, mobile=None, name=None))
    if done.rowcount != 1:
        db.session.rollback()
        raise ClassError(rule.refusal, field)
    if freed:
        promote_from_waitlist(signup.course_id, now)
    db.session.commit()
    db.session.refresh(signup)
    return signup


def _reason(reason: str | None) -> str:
    """A staff member's reason on one line; refused when too long to keep whole."""
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise ClassError(_l("A reason has at most %(n)d characters.", n=REASON_MAX), "reason")
    return reason


def cancel_by_staff(signup_id: int, reason: str) -> Signup:
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise ClassError(SIGNUP_ACTIONS["cancel-by-staff"].refusal, "reason")
    _allowed_or_refused("cancel-by-staff", signup, "reason")
    reason = _reason(reason)
    if len(reason) < 2:
        raise ClassError(_l("Please write the reason."), "reason")
    audit.record("classes", "signup-cancelled", signup, {"course": signup.course_id, "reason": reason})
    return _cancel(signup, utcnow(), "cancel-by-staff", "reason")


# --- lotteries -----------------------------------------------------------------------------

def draw_order(seed: str, refs: list[str]) -> list[str]:
    """The drawn order: entry references sorted by SHA-256 of "<seed>:<ref>". Anyone can
    repeat it with the published seed and references (`printf '%s' SEED:REF | sha256sum`)."""
    return sorted(refs, key=lambda ref: hashlib.sha256(f"{seed}:{ref}".encode()).hexdigest())


def seed_commitment(seed: str) -> str:
    """Shown while entries are open: proves the seed was fixed before anyone entered."""
    return hashlib.sha256(seed.encode()).hexdigest()


def draw(course_id: int, *, now: datetime | None = None, force: bool = False) -> bool:
    """Draw a lottery whose entry window has closed (staff may draw early with force).

    Winners get the seats; the rest join the waitlist in drawn order. False when this
    course has no draw to make (already drawn, not a lottery, window still open).
    """
    now = now or utcnow()
    claimed = db.session.execute(
        update(Course).where(Course.id == course_id, Course.awaiting_draw,
                             *(() if force else (Course.signup_closes_at <= now,)))
        .values(drawn_at=now, revision=Course.revision + 1))
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    course = db.session.get(Course, course_id)
    seed = course.draw_seed
    entries = {signup.entry_ref: signup for signup in db.session.scalars(
        select(Signup).where(Signup.course_id == course_id, Signup.state == "entered"))}
    order = draw_order(seed, list(entries))
    winners = set(order[:course.capacity])
    for rank, ref in enumerate(order, start=1):
        signup = entries[ref]
        signup.drawn_rank = rank
        signup.queue_key = rank
        signup.state = "confirmed" if ref in winners else "waitlisted"
        signup.confirmed_at = now if ref in winners else None
    course.taken = len(winners)
    course.status = "full" if len(winners) >= course.capacity else "open"
    # Later sign-ups queue after everyone drawn.
    course.arrivals = max(course.arrivals, len(order))
    audit.record("classes", "lottery-drawn", course, {"seed": seed, "entries": len(order), "winners": len(winners)})
    db.session.commit()
    return True


def entries(course_id: int) -> list[Signup]:
    """A lottery's entries before the draw, in arrival order (the order plays no part)."""
    return list(db.session.scalars(select(Signup).where(Signup.course_id == course_id, Signup.state == "entered")
                                   .order_by(Signup.arrival)))


def draw_result(course_id: int) -> list[Signup]:
    return list(db.session.scalars(select(Signup).where(Signup.course_id == course_id, Signup.drawn_rank.is_not(None))
                                   .order_by(Signup.drawn_rank)))


def verify_draw(course_id: int) -> bool:
    """Repeat a recorded draw from its seed: True when it gives the stored order."""
    course = db.session.get(Course, course_id)
    if course is None or course.draw_seed is None:
        return False
    drawn = draw_result(course_id)
    return [signup.entry_ref for signup in drawn] == draw_order(course.draw_seed, [s.entry_ref for s in drawn])


def draw_due(now: datetime | None = None) -> int:
    now = now or utcnow()
    due = db.session.scalars(select(Course.id).where(Course.awaiting_draw, Course.signup_closes_at <= now)).all()
    return sum(draw(course_id, now=now) for course_id in due)


# --- reading -------------------------------------------------------------------------------

def get_course(course_id: int) -> Course | None:
    return db.session.get(Course, course_id)


def public_course(course_id: int) -> Course | None:
    course = db.session.get(Course, course_id)
    return course if course is not None and course.status != "draft" else None


# A finished course stays listed this long after its term, while attendees rate it.
LISTED_AFTER_TERM = timedelta(days=60)


def _listed():
    """SQL: the courses the kiosk lists: published, not dropped, not long finished."""
    return Course.status.not_in(("draft", "dropped")) & (Course.term_ends >= site_today() - LISTED_AFTER_TERM)


def public_courses(category: str | None = None) -> list[Course]:
    query = select(Course).where(_listed()).order_by(Course.term_starts, Course.id)
    if category:
        query = query.where(Course.category == category)
    courses = list(db.session.scalars(query))
    now = utcnow()
    # Finished courses go last: residents look for what they can still join.
    return sorted(courses, key=lambda course: phase(course, now) == "finished")


def taught_by(expert_ids: list[int]) -> dict[int, list[Course]]:
    """The listed courses each expert teaches (the expert directory's cards show them)."""
    taught = {}
    if expert_ids:
        for course in db.session.scalars(select(Course).where(Course.teacher_expert_id.in_(expert_ids), _listed())
                                         .order_by(Course.term_starts)):
            taught.setdefault(course.teacher_expert_id, []).append(course)
    return taught


def category_counts() -> dict[str, int]:
    rows = db.session.execute(select(Course.category, func.count()).where(_listed()).group_by(Course.category))
    return dict(rows.all())


@dataclass
class Day:
    day: date
    is_today: bool
    meetings: list = field(default_factory=list)


@dataclass(frozen=True)
class Meeting:
    course: Course
    starts: datetime  # site-local
    ends: datetime


def week(today: date | None = None) -> list[Day]:
    """This week, Monday to Sunday in the site's zone, with each day's meetings."""
    today = today or site_today()
    monday = today - timedelta(days=today.weekday())
    days = [Day(monday + timedelta(days=offset), monday + timedelta(days=offset) == today) for offset in range(7)]
    start, end = from_site(datetime.combine(monday, time.min)), from_site(datetime.combine(monday + timedelta(days=7), time.min))
    rows = db.session.execute(
        select(Session, Course).join(Course, Course.id == Session.course_id)
        .where(Session.starts_at >= start, Session.starts_at < end, Course.status.not_in(("draft", "dropped")))
        .order_by(Session.starts_at, Course.id))
    for session, course in rows:
        local = to_site(session.starts_at)
        days[(local.date() - monday).days].meetings.append(
            Meeting(course, local, local + timedelta(minutes=session.minutes)))
    return days


def upcoming_sessions(course: Course, limit: int = 4) -> list[datetime]:
    now = utcnow()
    return [to_site(session.starts_at) for session in course.sessions if session.starts_at >= now][:limit]


def sessions_held(course: Course, now: datetime) -> list[Session]:
    """Meetings that have begun, or begin today: the ones attendance is taken for."""
    today_ends = from_site(datetime.combine(to_site(now).date() + timedelta(days=1), time.min))
    return [session for session in course.sessions if session.starts_at < today_ends]


def revision(course_id: int) -> int | None:
    """What the course page's live poll compares: one column of one row, no objects."""
    return db.session.scalar(select(Course.revision).where(Course.id == course_id))


def counts(course_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Signup.state, func.count()).where(Signup.course_id == course_id)
                              .group_by(Signup.state))
    return {state: 0 for state in ACTIVE_STATES + ("cancelled",)} | dict(rows.all())


def waitlist_counts(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    rows = db.session.execute(select(Signup.course_id, func.count()).where(
        Signup.course_id.in_(course_ids), Signup.state.in_(("waitlisted", "entered"))).group_by(Signup.course_id))
    return dict(rows.all())


# --- the staff side: courses ---------------------------------------------------------------

@dataclass
class CourseData:
    title: str
    category: str
    teacher: str
    venue: str
    capacity: int
    term_starts: date
    term_ends: date
    signup_opens_at: datetime  # site-local, as typed
    signup_closes_at: datetime
    mode: str = "first_come"
    weekdays: tuple[int, ...] = ()
    start_time: time | None = None
    minutes: int = 90
    dates: tuple[date, ...] = ()
    description: str = ""
    eligibility: str = ""
    teacher_expert_id: int | None = None
    title_en: str = ""
    description_en: str = ""
    venue_en: str = ""
    eligibility_en: str = ""


def meeting_times(data: CourseData) -> list[datetime]:
    """Every meeting, in UTC: the weekly days within the term, plus any listed dates."""
    if data.start_time is None:
        raise ClassError(_l("Please give the time classes start."), "start_time")
    days = set(data.dates) | _weekly_days(data.term_starts, data.term_ends, data.weekdays)
    outside = [day for day in data.dates if not data.term_starts <= day <= data.term_ends]
    if outside:
        raise ClassError(_l("Every date must fall within the term."), "dates")
    if not days:
        raise ClassError(_l("Please choose weekdays or list dates."), "weekdays")
    if len(days) > MAX_SESSIONS:
        raise ClassError(_l("At most %(n)d meetings in a term.", n=MAX_SESSIONS), "weekdays")
    return [from_site(datetime.combine(day, data.start_time)) for day in sorted(days)]


def _check(data: CourseData) -> None:
    if data.category not in CATEGORIES:
        raise ClassError(_l("Please choose a category."), "category")
    if data.mode not in MODES:
        raise ClassError(_l("Please choose how seats are given."), "mode")
    if data.term_ends < data.term_starts:
        raise ClassError(_l("The term must end after it starts."), "term_ends")
    if data.signup_closes_at <= data.signup_opens_at:
        raise ClassError(_l("Sign-up must close after it opens."), "signup_closes_at")
    if data.signup_opens_at.date() > data.term_starts:
        raise ClassError(_l("Sign-up must open before the term starts."), "signup_opens_at")
    if not 1 <= data.capacity <= 500:
        raise ClassError(_l("Seats must be between 1 and 500."), "capacity")
    if not 15 <= data.minutes <= 480:
        raise ClassError(_l("A class lasts between 15 and 480 minutes."), "minutes")


_TEXT_FIELDS = ("title", "title_en", "category", "teacher", "teacher_expert_id", "venue", "venue_en", "description",
                "description_en", "eligibility", "eligibility_en", "capacity", "term_starts", "term_ends", "mode")


def save_course(course_id: int | None, data: CourseData) -> Course:
    """Create or edit a course; its meetings are rebuilt from the schedule."""
    _check(data)
    times = meeting_times(data)
    course = db.session.get(Course, course_id) if course_id else Course(status="draft")
    if course is None:
        raise ClassError(_l("No such course."), "title")
    if course_id and data.capacity < course.taken:
        raise ClassError(_l("%(n)d seats are already taken: seats cannot be fewer.", n=course.taken), "capacity")
    if course_id and course.drawn_at is None and course.mode != data.mode and course.arrivals:
        raise ClassError(_l("People have signed up: how seats are given cannot change now."), "mode")
    for name in _TEXT_FIELDS:
        setattr(course, name, getattr(data, name))
    if course.mode == "lottery" and course.draw_seed is None:
        course.draw_seed = secrets.token_hex(16)
    course.signup_opens_at = from_site(data.signup_opens_at)
    course.signup_closes_at = from_site(data.signup_closes_at)
    if course.status == "full" and course.taken < course.capacity:
        course.status = "open"
    if course_id:
        old = {(s.starts_at, s.minutes) for s in course.sessions}
        new = {(moment, data.minutes) for moment in times}
        if old != new:
            # Attendance of meetings that stay is kept; changed meetings are replaced.
            course.sessions = [s for s in course.sessions if (s.starts_at, s.minutes) in new] + [
                Session(starts_at=moment, minutes=data.minutes) for moment in times
                if (moment, data.minutes) not in old]
    else:
        course.sessions = [Session(starts_at=moment, minutes=data.minutes) for moment in times]
        db.session.add(course)
    course.revision = (course.revision or 0) + 1
    audit.record("classes", "course-saved" if course_id else "course-created", course, {"title": data.title})
    if course_id:
        promote_from_waitlist(course.id)
    db.session.commit()
    return course


def _weekly_days(first: date, last: date, weekdays) -> set[date]:
    return {first + timedelta(days=offset) for offset in range((last - first).days + 1)
            if (first + timedelta(days=offset)).weekday() in weekdays}


def schedule(course: Course) -> tuple[list[int], list[date]]:
    """The course's meetings as weekdays (every week of the term) or, failing that, dates."""
    days = [to_site(session.starts_at).date() for session in course.sessions]
    weekdays = sorted({day.weekday() for day in days})
    if days and set(days) == _weekly_days(course.term_starts, course.term_ends, weekdays):
        return weekdays, []
    return [], days


def form_data(course: Course) -> dict:
    """A course as the edit form shows it (site-local times, the weekly pattern)."""
    values = {name: getattr(course, name) for name in _TEXT_FIELDS}
    values["teacher_expert_id"] = course.teacher_expert_id or 0
    weekdays, dates = schedule(course)
    first = course.sessions[0] if course.sessions else None
    values.update(signup_opens_at=to_site(course.signup_opens_at), signup_closes_at=to_site(course.signup_closes_at),
                  weekdays=weekdays, dates="\n".join(day.isoformat() for day in dates),
                  start_time=to_site(first.starts_at).time() if first else None,
                  minutes=first.minutes if first else 90)
    return values


def set_status(course_id: int, action: str, *, reason: str = "", now: datetime | None = None) -> Course:
    """Staff actions: open sign-up, close it now, drop the course, or reopen a dropped one."""
    now = now or utcnow()
    course = db.session.get(Course, course_id)
    if course is None:
        raise ClassError(_l("No such course."), "status")
    if action == "open":
        if course.status != "draft":
            raise ClassError(_l("Only a draft can be opened."), "status")
        course.status = "full" if course.taken >= course.capacity else "open"
    elif action == "close":
        if course.status not in ("open", "full"):
            raise ClassError(_l("Sign-up is not open."), "status")
        if course.signup_closes_at > now or course.drawn_at is not None:
            course.signup_closes_at = now
        course.signup_opens_at = min(course.signup_opens_at, now)  # a close before opening: never opens
    elif action == "drop":
        reason = _reason(reason)
        if len(reason) < 2:
            raise ClassError(_l("Please write the reason."), "reason")
        if course.status == "dropped":
            raise ClassError(_l("This course was already dropped."), "status")
        course.status = "dropped"
        course.drop_reason = reason
    else:
        raise ClassError(_l("Unknown action."), "status")
    course.revision += 1
    audit.record("classes", f"course-{action}", course, {"reason": reason} if reason else None)
    db.session.commit()
    return course


def sync_statuses(now: datetime | None = None) -> int:
    """Move courses whose term began or ended to running or finished."""
    now = now or utcnow()
    changed = 0
    for course in db.session.scalars(select(Course).where(Course.status.in_(("open", "full", "running")))):
        new = phase(course, now)
        if new in ("running", "finished") and new != course.status:
            course.status = new
            course.revision += 1
            changed += 1
    if changed:
        db.session.commit()
    return changed


def staff_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(
        case((Course.status == "dropped", 1), else_=0), Course.term_starts.desc(), Course.id.desc())))


# --- roster, attendance, waitlist moves ----------------------------------------------------

def roster(course_id: int) -> list[Signup]:
    """Everyone with a seat, in the order they got it, then the waitlist, then entries."""
    order = case((Signup.state == "confirmed", 0), (Signup.state == "waitlisted", 1), (Signup.state == "entered", 2),
                 else_=3)
    return list(db.session.scalars(select(Signup).where(Signup.course_id == course_id, Signup.state != "cancelled")
                                   .order_by(order, Signup.queue_key, Signup.id)))


def record_roster_view(course: Course, what: str) -> None:
    """Staff saw sign-ups' names (and numbers): the audit log says who, when and which."""
    audit.record("classes", f"roster-{what}", course, {"title": course.title})
    db.session.commit()


def attendance(course_id: int) -> set[tuple[int, int]]:
    rows = db.session.execute(select(Attendance.session_id, Attendance.signup_id)
                              .join(Session, Session.id == Attendance.session_id)
                              .where(Session.course_id == course_id))
    return {tuple(row) for row in rows}


def set_attendance(session_id: int, signup_id: int, present: bool, staff_id: int) -> bool:
    session = db.session.get(Session, session_id)
    signup = db.session.get(Signup, signup_id)
    if session is None or signup is None or signup.course_id != session.course_id:
        raise ClassError(SIGNUP_ACTIONS["attendance"].refusal, "session")
    _allowed_or_refused("attendance", signup, "attendance")
    db.session.execute(delete(Attendance).where(Attendance.session_id == session_id, Attendance.signup_id == signup_id))
    if present:
        db.session.add(Attendance(session_id=session_id, signup_id=signup_id, marked_by=staff_id))
    db.session.commit()
    return present


def move_on_waitlist(signup_id: int, position: int, reason: str) -> list[Signup]:
    """Put someone at another place on the waitlist; only with a written reason (audited)."""
    reason = _reason(reason)
    if len(reason) < 4:
        raise ClassError(_l("Please write why this person moves (at least 4 characters)."), "reason")
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise ClassError(SIGNUP_ACTIONS["move"].refusal, "position")
    # Lock the course row so a concurrent sign-up or promotion waits for the move; then
    # read the state again: a promotion just before may have given them a seat.
    db.session.execute(update(Course).where(Course.id == signup.course_id).values(revision=Course.revision + 1))
    db.session.refresh(signup)
    _allowed_or_refused("move", signup, "position")
    line = waitlist(signup.course_id)
    if not 1 <= position <= len(line):
        raise ClassError(_l("Choose a place between 1 and %(n)d.", n=len(line)), "position")
    before = line.index(signup) + 1
    keys = sorted((entry.queue_key, entry.id) for entry in line)
    line.remove(signup)
    line.insert(position - 1, signup)
    # The same keys, handed out in the new order: later arrivals still queue behind.
    for entry, (key, _id) in zip(line, keys):
        entry.queue_key = key
    # Ties in queue_key are broken by id; give each a distinct key so the order is exact.
    for index in range(1, len(line)):
        if line[index].queue_key <= line[index - 1].queue_key:
            line[index].queue_key = line[index - 1].queue_key + 1
    audit.record("classes", "waitlist-moved", signup, {"from": before, "to": position, "reason": reason})
    db.session.commit()
    return line


def roster_csv(course: Course) -> str:
    """The roster as CSV for staff (full names and numbers; the caller audits the export)."""
    sessions = course.sessions
    present = attendance(course.id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "mobile", "state", "source", "waitlist_position", "signed_up_at",
                     *[to_site(s.starts_at).strftime("%Y-%m-%d %H:%M") for s in sessions]])
    position = 0
    for signup in roster(course.id):
        if signup.state == "waitlisted":
            position += 1
        writer.writerow([signup.code, _safe_cell(signup.name or ""), signup.mobile or "", signup.state, signup.source,
                         position if signup.state == "waitlisted" else "",
                         to_site(signup.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                         *["1" if (s.id, signup.id) in present else "" for s in sessions]])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A spreadsheet must not run a typed name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- ratings -------------------------------------------------------------------------------

def rating_eligible(signup: Signup, now: datetime | None = None) -> bool:
    course = db.session.get(Course, signup.course_id)
    if "rate" not in allowed_actions(signup) or phase(course, now) != "finished":
        return False
    attended = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.signup_id == signup.id))
    already = db.session.scalar(select(func.count()).select_from(Rating).where(Rating.signup_id == signup.id))
    return attended > 0 and not already


def rate(code: str, stars: int, comment: str = "", *, now: datetime | None = None) -> Rating:
    signup = find_signup(code)
    if signup is None:
        raise ClassError(_l("No sign-up has this code."), "code")
    if not 1 <= (stars or 0) <= 5:
        raise ClassError(_l("Please choose 1 to 5 stars."), "stars")
    comment = " ".join((comment or "").split())
    if len(comment) > 200:
        raise ClassError(_l("A comment has at most %(n)d characters.", n=200), "comment")
    if db.session.scalar(select(func.count()).select_from(Rating).where(Rating.signup_id == signup.id)):
        raise ClassError(_l("This sign-up has already rated the course. Thank you!"), "code")
    if not rating_eligible(signup, now):
        raise ClassError(_l("Courses are rated after the term, by people who attended."), "code")
    rating = Rating(course_id=signup.course_id, signup_id=signup.id, stars=stars, comment=comment)
    db.session.add(rating)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ClassError(_l("This sign-up has already rated the course. Thank you!"), "code") from None
    return rating


@dataclass(frozen=True)
class RatingSummary:
    count: int
    mean: float | None
    distribution: dict[int, int]
    comments: list[str]
    consider_dropping: bool


def rating_summary(course_id: int) -> RatingSummary:
    ratings = list(db.session.scalars(select(Rating).where(Rating.course_id == course_id).order_by(Rating.id.desc())))
    distribution = {stars: 0 for stars in range(5, 0, -1)}
    for rating in ratings:
        distribution[rating.stars] += 1
    mean = sum(rating.stars for rating in ratings) / len(ratings) if ratings else None
    config = current_app.config
    flagged = mean is not None and len(ratings) >= config["CLASS_RATINGS_MINIMUM"] \
        and mean < config["CLASS_DROP_THRESHOLD"]
    return RatingSummary(len(ratings), mean, distribution, [r.comment for r in ratings if r.comment], flagged)


@dataclass(frozen=True)
class RatingOverview:
    count: int
    mean: float
    consider_dropping: bool


def rating_overview() -> dict[int, RatingOverview]:
    """Every rated course's count and mean, in one grouped query (the console's list)."""
    config = current_app.config
    rows = db.session.execute(select(Rating.course_id, func.count(), func.avg(Rating.stars)).group_by(Rating.course_id))
    return {course_id: RatingOverview(count, float(mean), count >= config["CLASS_RATINGS_MINIMUM"]
                                      and float(mean) < config["CLASS_DROP_THRESHOLD"])
            for course_id, count, mean in rows}


# --- personal data retention ---------------------------------------------------------------

def purge_personal_data(today: date | None = None) -> int:
    """Delete sign-ups' names and numbers once their course ended CLASS_RETENTION_DAYS ago.

    Counts, states, attendance and ratings stay, anonymous. Returns the sign-ups purged.
    """
    today = today or site_today()
    cutoff = today - timedelta(days=current_app.config["CLASS_RETENTION_DAYS"])
    purged = 0
    for course in db.session.scalars(select(Course).where(Course.term_ends < cutoff, Course.purged_at.is_(None))):
        result = db.session.execute(update(Signup).where(Signup.course_id == course.id).values(
            name=None, mobile=None, mobile_tail=None, masked_name=""))
        course.purged_at = utcnow()
        audit.record("classes", "personal-data-deleted", course, {"signups": result.rowcount},
                     actor=("system", None, ""))
        purged += result.rowcount
    db.session.commit()
    return purged


def housekeeping(now: datetime | None = None) -> dict[str, int]:
    """What the clock decides: statuses, due lotteries, and expired personal data."""
    now = now or utcnow()
    return {"drawn": draw_due(now), "statuses": sync_statuses(now), "purged": purge_personal_data(to_site(now).date())}


# --- needs surveys -------------------------------------------------------------------------

def save_survey(question: str, options: list[str], *, question_en: str = "", options_en: list[str] | None = None) -> Survey:
    question = " ".join((question or "").split())
    options = [" ".join(option.split()) for option in options if option.strip()]
    options_en = [" ".join(option.split()) for option in (options_en or [])]
    if not question:
        raise ClassError(_l("Please write the question."), "question")
    if not 2 <= len(options) <= 12:
        raise ClassError(_l("A survey has 2 to 12 choices, one per line."), "options")
    if any(len(option) > 40 for option in options):
        raise ClassError(_l("A choice has at most %(n)d characters.", n=40), "options")
    survey = Survey(question=question[:120], question_en=(question_en or "").strip()[:160])
    survey.options = [SurveyOption(position=index, label=label,
                                   label_en=options_en[index][:60] if index < len(options_en) else "")
                      for index, label in enumerate(options)]
    db.session.add(survey)
    audit.record("classes", "survey-created", survey, {"question": survey.question})
    db.session.commit()
    return survey


def set_survey_state(survey_id: int, state: str) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or state not in ("published", "closed"):
        raise ClassError(_l("No such survey."), "state")
    if state == "published":
        # One survey at a time on the kiosk.
        db.session.execute(update(Survey).where(Survey.state == "published", Survey.id != survey_id)
                           .values(state="closed"))
        survey.published_at = survey.published_at or utcnow()
    survey.state = state
    audit.record("classes", f"survey-{state}", survey)
    db.session.commit()
    return survey


def published_survey() -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.state == "published").order_by(Survey.id.desc()).limit(1))


def surveys() -> list[Survey]:
    return list(db.session.scalars(select(Survey).order_by(Survey.id.desc())))


def get_survey(survey_id: int) -> Survey | None:
    return db.session.get(Survey, survey_id)


def answer_survey(survey_id: int, option_ids: list[int]) -> Survey:
    """Count one anonymous answer: the chosen options' votes and the survey's responses."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.state != "published":
        raise ClassError(_l("This survey is closed."), "options")
    chosen = {option.id for option in survey.options} & set(option_ids)
    if not chosen:
        raise ClassError(_l("Please tap at least one choice."), "options")
    db.session.execute(update(SurveyOption).where(SurveyOption.id.in_(chosen)).values(votes=SurveyOption.votes + 1))
    db.session.execute(update(Survey).where(Survey.id == survey_id).values(responses=Survey.responses + 1))
    db.session.commit()
    return survey


def get_signup(signup_id: int) -> Signup | None:
    return db.session.get(Signup, signup_id)

"""Signing up: seats, waitlists, lottery entries and cancellations.

Seats are taken only by conditional UPDATEs on the course row (`taken < capacity`), so
concurrent sign-ups on any number of workers can never overbook; the same UPDATE hands
out the arrival number that orders the waitlist. "Already signed up" is checked before
"full", so a retried request never gets a false "full".
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...communities import scope
from ...clock import to_site, utcnow
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ...people import mask_name, normalise_code, normalise_mobile, normalise_name
from ...transitions import Transition, allowed, require, transition
from ..models import Course, Signup
from .common import ClassError, staff_reason
from .phases import signup_window_open

CODE_DIGITS = 8
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


@dataclass(frozen=True)
class Outcome:
    """What a resident is told after signing up: the code, and where they stand."""

    code: str
    state: str
    course_id: int
    masked_name: str
    position: int | None = None
    entry_ref: str | None = None


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


# The statements of a sign-up, built once: a rush of sign-ups spends its time on the seats,
# not on putting SQL together. They name the models, so the community scope applies to each.
_COURSE = select(Course.status, Course.one_per_household, Course.mode, Course.drawn_at, Course.taken,
                 Course.capacity).where(Course.id == bindparam("course_id"))
_EXISTING = select(Signup).where(Signup.course_id == bindparam("course_id"), Signup.mobile == bindparam("mobile"),
                                 Signup.state.in_(ACTIVE_STATES))
_HOUSEHOLD_HAS = select(Signup.id).where(Signup.course_id == bindparam("course_id"),
                                         Signup.household_once == bindparam("household"))
_NOW, _TODAY = bindparam("now"), bindparam("today")
_BUMP = {"arrivals": Course.arrivals + 1, "revision": Course.revision + 1}
_COURSE_ROW = update(Course).where(Course.id == bindparam("course_id"))
_ENTER = (_COURSE_ROW.where(Course.awaiting_draw, Course.signup_opens_at <= _NOW, Course.signup_closes_at > _NOW)
          .values(**_BUMP).returning(Course.arrivals))
_SEAT = (_COURSE_ROW.where(Course.status == "open", Course.taken < Course.capacity, signup_window_open(_NOW, _TODAY))
         .values(taken=Course.taken + 1, status=case((Course.taken + 1 >= Course.capacity, "full"),
                                                     else_=Course.status), **_BUMP)
         .returning(Course.arrivals))
# (No IN lists in these: they run on the connection, compiled once with every value bound.)
_WAIT = (_COURSE_ROW.where((Course.status == "open") | (Course.status == "full"), Course.taken >= Course.capacity,
                           signup_window_open(_NOW, _TODAY))
         .values(**_BUMP).returning(Course.arrivals))
_AHEAD = select(func.count()).select_from(Signup).where(
    Signup.course_id == bindparam("course_id"), Signup.state == "waitlisted",
    (Signup.queue_key < bindparam("queue_key")) | ((Signup.queue_key == bindparam("queue_key"))
                                                    & (Signup.id < bindparam("signup_id"))))
# No session objects to bring up to date: the course row is read again where it is needed.
# The UPDATEs a sign-up tries in turn until one takes. Their conditions exclude each other
# (an entry only while a lottery awaits its draw; seats and the waitlist only in a sign-up
# window, which a lottery has only after its draw; a seat only while one is free, the
# waitlist only while none is), so the order changes only how many are tried: the one the
# course's state suggests comes first, and a seat freed or taken between two statements (a
# cancellation, another sign-up committing) is caught on the next turn.
_SEAT_FIRST = (("confirmed", _SEAT), ("waitlisted", _WAIT)) * 3 + (("entered", _ENTER),)
_TRIES = {
    "entry": (("entered", _ENTER),) + _SEAT_FIRST[:-1],
    "seat": _SEAT_FIRST,
    "waitlist": (("waitlisted", _WAIT),) + _SEAT_FIRST,
}


# What a sign-up's row is given; its community comes from the scope.
_ROW = ("course_id", "name", "mobile", "mobile_tail", "masked_name", "code", "entry_ref", "state", "source",
        "queue_key", "arrival", "created_by", "household_once", "created_at", "confirmed_at")
_INSERT = (insert(Signup).values({name: bindparam(name) for name in (*_ROW, "community_id")})
           .returning(Signup.id))


def _first_taken(tries, params: dict) -> tuple[str, int] | None:
    """The state and arrival number of the first UPDATE that takes, or None if none does."""
    for state, statement in tries:
        arrival = _take(statement, params)
        if arrival is not None:
            return state, arrival
    return None


def _likeliest(course) -> str:
    if course.mode == "lottery" and course.drawn_at is None:
        return "entry"
    return "waitlist" if course.taken >= course.capacity else "seat"


def _existing(course_id: int, mobile: str) -> Signup | None:
    return db.session.scalar(_EXISTING, {"course_id": course_id, "mobile": mobile})


def _already(signup: Signup) -> ClassError:
    return ClassError(_l("This mobile number is already signed up for this course."),
                      state=signup.state, position=waitlist_position(signup))


def _household_once(one_per_household: bool, created_by: str) -> str | None:
    """What holds a one-per-household course's place for the household acting, if one is."""
    return created_by if one_per_household and created_by.startswith("household:") else None


def _household_refusal(course_id: int, household_once: str) -> ClassError | None:
    if db.session.scalar(_HOUSEHOLD_HAS, {"course_id": course_id, "household": household_once}) is None:
        return None
    return ClassError(_l("This course takes one sign-up per household, and another phone of your household "
                         "has already signed up."), "course")


def _take(statement, params: dict) -> int | None:
    """Run a conditional UPDATE … RETURNING arrivals: the arrival number, or None if refused.
    From the first that takes to the commit, the database's writer waits for this sign-up:
    these statements run on the session's connection (scope.execute_on_connection)."""
    rows = scope.execute_on_connection(statement, params)
    return rows[0][0] if rows else None


def sign_up(course_id: int, name: str, mobile: str, *, source: str = "kiosk", created_by: str,
            now: datetime | None = None, as_read: Course | None = None) -> Outcome:
    """Give a seat, a waitlist place or a lottery entry, in one transaction. ``as_read`` is
    the course as the caller has just read it in this request, if it has, so that it is not
    read twice: either read takes no lock, and the conditional UPDATEs check again what
    decides a seat."""
    now = now or utcnow()
    name = normalise_name(name)
    mobile = normalise_mobile(mobile)
    for _attempt in range(3):
        try:
            return _sign_up_once(course_id, name, mobile, source, created_by, now, as_read)
        except IntegrityError:
            # The same number raced itself (one row won), or, rarely, the code was taken.
            db.session.rollback()
            existing = _existing(course_id, mobile)
            if existing is not None:
                raise _already(existing) from None
            refusal = _household_refusal(course_id, created_by)
            if refusal is not None:
                raise refusal from None
    raise ClassError(_l("That did not work. Please try again."), "course")


def _sign_up_once(course_id: int, name: str, mobile: str, source: str, created_by: str, now: datetime,
                  as_read: Course | None) -> Outcome:
    course = as_read or db.session.execute(_COURSE, {"course_id": course_id}).first()
    if course is None or course.status in ("draft", "dropped"):
        raise ClassError(_l("This course does not take sign-ups."), "course")
    existing = _existing(course_id, mobile)
    if existing is not None:
        raise _already(existing)
    household_once = _household_once(course.one_per_household, created_by)
    if household_once is not None:
        refusal = _household_refusal(course_id, household_once)
        if refusal is not None:
            raise refusal

    params = {"course_id": course_id, "now": now, "today": to_site(now).date()}
    taken = _first_taken(_TRIES[_likeliest(course)], params)
    if taken is None:
        db.session.rollback()
        raise ClassError(_l("Sign-up for this course is not open now."), "course")
    state, arrival = taken

    row = {"course_id": course_id, "name": name, "mobile": mobile, "mobile_tail": mobile[-4:],
           "masked_name": mask_name(name), "code": _new_code(),
           "entry_ref": secrets.token_hex(4) if state == "entered" else None, "state": state, "source": source,
           "queue_key": arrival, "arrival": arrival, "created_by": created_by, "household_once": household_once,
           "created_at": now, "confirmed_at": now if state == "confirmed" else None}
    signup_id = scope.execute_on_connection(_INSERT, row)[0][0]
    # Counted before the commit, under the course row's lock (or the database's write lock),
    # which every earlier arrival held until its row was committed: the count misses none of
    # them, and costs no transaction of its own.
    position = _place(course_id, arrival, signup_id, writing=True) if state == "waitlisted" else None
    if source == "assisted":
        audit.record("classes", "signup-assisted", db.session.get(Signup, signup_id),
                     {"course": course_id, "state": state})
    db.session.commit()
    return Outcome(code=row["code"], state=state, course_id=course_id, masked_name=row["masked_name"],
                   position=position, entry_ref=row["entry_ref"])


def waitlist_position(signup: Signup) -> int | None:
    if signup.state != "waitlisted":
        return None
    return _place(signup.course_id, signup.queue_key, signup.id)


def _place(course_id: int, queue_key: int, signup_id: int, *, writing: bool = False) -> int:
    """A waitlisted sign-up's place: one more than the waitlisted rows ahead of it. `writing`:
    counted inside a sign-up's write, on the session's connection (see `_take`)."""
    values = {"course_id": course_id, "queue_key": queue_key, "signup_id": signup_id}
    ahead = scope.execute_on_connection(_AHEAD, values)[0][0] if writing else db.session.scalar(_AHEAD, values)
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


def allowed_or_refused(action: str, signup: Signup, field: str) -> Transition:
    """The action's rule, if the sign-up's state allows it; else the transaction is rolled
    back and the action refused (the refusal shown on `field`)."""
    return require(SIGNUP_ACTIONS[action], signup.state, ClassError, field)


def cancel(code: str, tail: str, *, now: datetime | None = None) -> Signup:
    """Withdraw a sign-up (code + last 4 digits); a freed seat goes to the waitlist's head."""
    return _cancel(_verified(code, tail), now or utcnow(), "cancel", "code")


def _cancel(signup: Signup, now: datetime, action: str, field: str) -> Signup:
    rule = allowed_or_refused(action, signup, field)
    was = signup.state
    # Lock the course row first, as every seat change does: one order, no deadlocks.
    freed = was == "confirmed"
    change = {"taken": Course.taken - 1, "status": case((Course.status == "full", "open"), else_=Course.status)} \
        if freed else {}
    db.session.execute(update(Course).where(Course.id == signup.course_id)
                       .values(revision=Course.revision + 1, **change))
    # Only from the state read above (one the rule allows): the seat count depends on it.
    done = db.session.execute(update(Signup).where(Signup.id == signup.id, Signup.state == was).values(
        state=rule.to, cancelled_at=now, mobile=None, name=None, household_once=None))
    if done.rowcount != 1:
        db.session.rollback()
        raise ClassError(rule.refusal, field)
    if freed:
        promote_from_waitlist(signup.course_id, now)
    db.session.commit()
    db.session.refresh(signup)
    return signup


def cancel_by_staff(signup_id: int, reason: str) -> Signup:
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise ClassError(SIGNUP_ACTIONS["cancel-by-staff"].refusal, "reason")
    allowed_or_refused("cancel-by-staff", signup, "reason")
    reason = staff_reason(reason)
    if len(reason) < 2:
        raise ClassError(_l("Please write the reason."), "reason")
    audit.record("classes", "signup-cancelled", signup, {"course": signup.course_id, "reason": reason})
    return _cancel(signup, utcnow(), "cancel-by-staff", "reason")


def get_signup(signup_id: int) -> Signup | None:
    return db.session.get(Signup, signup_id)

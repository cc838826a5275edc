"""Lotteries: entries drawn in an order anyone can repeat from the published seed."""

import hashlib
from datetime import datetime

from sqlalchemy import select, update

from ... import audit
from ...clock import utcnow
from ...extensions import db
from ..models import Course, Signup


def draw_order(seed: str, refs: list[str]) -> list[str]:
    """The drawn order: entry references sorted by SHA-256 of "<seed>:<ref>". Anyone can
    repeat it with the published seed and references (`printf '%s' SEED:REF | sha256sum`)."""
    return sorted(refs, key=lambda ref: hashlib.sha256(f"{seed}:{ref}".encode()).hexdigest())


def seed_commitment(seed: str) -> str:
    """Shown while entries are open: proves the seed was fixed before anyone entered."""
    return hashlib.sha256(seed.encode()).hexdigest()


def close_entries(course_id: int, *, now: datetime | None = None) -> bool:
    """End an open lottery's entry window now, so that it can be drawn before the close it
    advertised; its public page then says when entries closed. False when there is no open
    entry window to close."""
    now = now or utcnow()
    closed = db.session.execute(
        update(Course).where(Course.id == course_id, Course.awaiting_draw, Course.signup_opens_at <= now,
                             Course.signup_closes_at > now)
        .values(signup_closes_at=now, revision=Course.revision + 1))
    if closed.rowcount != 1:
        db.session.rollback()
        return False
    audit.record("classes", "lottery-entries-closed", db.session.get(Course, course_id))
    db.session.commit()
    return True


def draw(course_id: int, *, now: datetime | None = None) -> bool:
    """Draw a lottery whose entry window has closed (to draw early, staff close the entries
    first: close_entries).

    Winners get the seats; the rest join the waitlist in drawn order. False when this
    course has no draw to make (already drawn, not a lottery, window still open).
    """
    now = now or utcnow()
    claimed = db.session.execute(
        update(Course).where(Course.id == course_id, Course.awaiting_draw, Course.signup_closes_at <= now)
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

"""Personal data retention, and the housekeeping the clock runs (statuses, due draws, purges)."""

from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from ...communities.settings import setting
from ... import audit
from ...clock import site_today, to_site, utcnow
from ...extensions import db
from ..models import Course, Signup
from .courses import sync_statuses
from .lottery import draw_due


def purge_personal_data(today: date | None = None) -> int:
    """Delete sign-ups' names and numbers once their course ended CLASS_RETENTION_DAYS ago.

    Counts, states, attendance and ratings stay, anonymous. Returns the sign-ups purged.
    """
    today = today or site_today()
    cutoff = today - timedelta(days=setting("CLASS_RETENTION_DAYS"))
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

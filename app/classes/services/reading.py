"""What the kiosk reads: the course list, the week's timetable, seat and waitlist counts."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select

from ...clock import from_site, site_today, to_site, utcnow
from ...extensions import db
from ..models import Course, Meeting, Signup
from .phases import phase
from .signups import ACTIVE_STATES


def version_of(community_id, **_view_args):
    """`version` as a scalar subquery of a community's id (read outside the session's scope)."""
    return (select(func.coalesce(func.sum(Course.revision), 0)).where(Course.community_id == community_id)
            .scalar_subquery())


def version() -> int:
    """What the kiosk's timetable and course list poll compares. Every change a list shows
    (a course saved, opened, closed, dropped or moving on, a seat taken or freed) bumps
    that course's revision, and no course is ever deleted: the sum only grows."""
    return db.session.scalar(_VERSION)


_VERSION = select(func.coalesce(func.sum(Course.revision), 0))


def get_course(course_id: int) -> Course | None:
    return db.session.get(Course, course_id)


_BY_ID = select(Course).where(Course.id == bindparam("course_id"))


def public_course(course_id: int) -> Course | None:
    course = db.session.scalar(_BY_ID, {"course_id": course_id})
    return course if course is not None and course.status != "draft" else None


def public_course_as_read(course_id: int) -> Course | None:
    """A published course as read now, apart from the session: what an answer shows after
    a commit (a sign-up's), which would otherwise expire the course and cost a second read."""
    course = public_course(course_id)
    if course is not None:
        db.session.expunge(course)
    return course


# A finished course stays listed this long after its term, while attendees rate it.
LISTED_AFTER_TERM = timedelta(days=60)


def _listed():
    """SQL: the courses the kiosk lists: published, not dropped, not long finished (ended
    on or after the bound `listed_since`: `_listed_since()`)."""
    return Course.status.not_in(("draft", "dropped")) & (Course.term_ends >= bindparam("listed_since"))


def _listed_since() -> date:
    return site_today() - LISTED_AFTER_TERM


@cache
def _public_courses(in_category: bool):
    query = select(Course).where(_listed()).order_by(Course.term_starts, Course.id)
    return query.where(Course.category == bindparam("category")) if in_category else query


def public_courses(category: str | None = None) -> list[Course]:
    values = {"listed_since": _listed_since()} | ({"category": category} if category else {})
    courses = list(db.session.scalars(_public_courses(bool(category)), values))
    now = utcnow()
    # Finished courses go last: residents look for what they can still join.
    return sorted(courses, key=lambda course: phase(course, now) == "finished")


@cache
def _taught_by():
    return (select(Course).where(Course.teacher_expert_id.in_(bindparam("experts", expanding=True)), _listed())
            .order_by(Course.term_starts))


def taught_by(expert_ids: list[int]) -> dict[int, list[Course]]:
    """The listed courses each expert teaches (the expert directory's cards show them)."""
    taught = {}
    if expert_ids:
        for course in db.session.scalars(_taught_by(), {"experts": list(expert_ids),
                                                        "listed_since": _listed_since()}):
            taught.setdefault(course.teacher_expert_id, []).append(course)
    return taught


def category_counts() -> dict[str, int]:
    return dict(db.session.execute(_category_counts(), {"listed_since": _listed_since()}).all())


@cache
def _category_counts():
    return select(Course.category, func.count()).where(_listed()).group_by(Course.category)


@dataclass(frozen=True)
class Slot:
    """A meeting as the timetable shows it: the course, and its site-local times."""

    course: Course
    starts: datetime  # site-local
    ends: datetime


@dataclass
class Day:
    day: date
    is_today: bool
    slots: list[Slot] = field(default_factory=list)


@cache
def _week():
    starts = Meeting.starts_at
    return (select(Meeting, Course).join(Course, Course.id == Meeting.course_id)
            .where(starts >= bindparam("start", type_=starts.type), starts < bindparam("end", type_=starts.type),
                   Course.status.not_in(("draft", "dropped")))
            .order_by(Meeting.starts_at, Course.id))


def week(today: date | None = None) -> list[Day]:
    """This week, Monday to Sunday in the site's zone, with each day's meetings in slots."""
    today = today or site_today()
    monday = today - timedelta(days=today.weekday())
    days = [Day(monday + timedelta(days=offset), monday + timedelta(days=offset) == today) for offset in range(7)]
    start, end = (from_site(datetime.combine(monday, time.min)),
                  from_site(datetime.combine(monday + timedelta(days=7), time.min)))
    rows = db.session.execute(_week(), {"start": start, "end": end})
    for meeting, course in rows:
        local = to_site(meeting.starts_at)
        days[(local.date() - monday).days].slots.append(
            Slot(course, local, local + timedelta(minutes=meeting.minutes)))
    return days


def upcoming_meetings(course: Course, limit: int = 4) -> list[datetime]:
    now = utcnow()
    return [to_site(meeting.starts_at) for meeting in course.meetings if meeting.starts_at >= now][:limit]


def meetings_held(course: Course, now: datetime) -> list[Meeting]:
    """Meetings that have begun, or begin today: the ones attendance is taken for."""
    today_ends = from_site(datetime.combine(to_site(now).date() + timedelta(days=1), time.min))
    return [meeting for meeting in course.meetings if meeting.starts_at < today_ends]


def revision(course_id: int) -> int | None:
    """What the course page's live poll compares: one column of one row, no objects."""
    return db.session.scalar(select(Course.revision).where(Course.id == course_id))


def revision_of(community_id, course_id):
    """`revision` as a scalar subquery of a community's id: what app/polls.py compares an
    unchanged seat poll with, before Flask."""
    return select(Course.revision).where(Course.community_id == community_id, Course.id == course_id).scalar_subquery()


def status_of(community_id, course_id):
    """A course's status as a scalar subquery of a community's id (a draft's page is a 404)."""
    return select(Course.status).where(Course.community_id == community_id, Course.id == course_id).scalar_subquery()


def teacher_state_of(community_id, course_id):
    """The state of the course's teacher's directory card, if it has one (the page links the
    card while it is listed), as a scalar subquery of a community's id."""
    from ...experts.models import Expert

    return (select(Expert.state).join(Course, Course.teacher_expert_id == Expert.id)
            .where(Course.community_id == community_id, Course.id == course_id).scalar_subquery())


def counts(course_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Signup.state, func.count()).where(Signup.course_id == course_id)
                              .group_by(Signup.state))
    return dict.fromkeys(ACTIVE_STATES + ("cancelled",), 0) | dict(rows.all())


def waitlist_counts(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    return dict(db.session.execute(_WAITLIST_COUNTS, {"courses": list(course_ids)}).all())


_WAITLIST_COUNTS = (select(Signup.course_id, func.count())
                    .where(Signup.course_id.in_(bindparam("courses", expanding=True)),
                           Signup.state.in_(("waitlisted", "entered")))
                    .group_by(Signup.course_id))

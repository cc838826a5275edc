"""The staff side of courses: saving them with their meetings, opening, closing, dropping."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, select

from ... import audit, lengths
from ...clock import from_site, to_site, utcnow
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ..models import CATEGORIES, MODES, Course, Meeting
from .common import ClassError, staff_reason
from .phases import phase
from .signups import promote_from_waitlist

MAX_MEETINGS = 200


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
    one_per_household: bool = False
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
    if len(days) > MAX_MEETINGS:
        raise ClassError(_l("At most %(n)d meetings in a term.", n=MAX_MEETINGS), "weekdays")
    return [from_site(datetime.combine(day, data.start_time)) for day in sorted(days)]


# What staff type for a course, and how long each may be.
_TEXT_LIMITS = {"title": lengths.COURSE_TITLE, "title_en": lengths.COURSE_TITLE_EN, "teacher": lengths.TEACHER,
                "venue": lengths.VENUE, "venue_en": lengths.VENUE_EN, "eligibility": lengths.ELIGIBILITY,
                "eligibility_en": lengths.ELIGIBILITY_EN, "description": lengths.DESCRIPTION,
                "description_en": lengths.DESCRIPTION_EN}


def _check(data: CourseData) -> None:
    for field, limit in _TEXT_LIMITS.items():
        if len(getattr(data, field) or "") > limit:
            raise ClassError(_l("At most %(n)d characters.", n=limit), field)
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
                "description_en", "eligibility", "eligibility_en", "capacity", "term_starts", "term_ends", "mode",
                "one_per_household")


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
        old = {(m.starts_at, m.minutes) for m in course.meetings}
        new = {(moment, data.minutes) for moment in times}
        if old != new:
            # Attendance of meetings that stay is kept; changed meetings are replaced.
            course.meetings = [m for m in course.meetings if (m.starts_at, m.minutes) in new] + [
                Meeting(starts_at=moment, minutes=data.minutes) for moment in times
                if (moment, data.minutes) not in old]
    else:
        course.meetings = [Meeting(starts_at=moment, minutes=data.minutes) for moment in times]
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
    days = [to_site(meeting.starts_at).date() for meeting in course.meetings]
    weekdays = sorted({day.weekday() for day in days})
    if days and set(days) == _weekly_days(course.term_starts, course.term_ends, weekdays):
        return weekdays, []
    return [], days


def form_data(course: Course) -> dict:
    """A course as the edit form shows it (site-local times, the weekly pattern)."""
    values = {name: getattr(course, name) for name in _TEXT_FIELDS}
    values["teacher_expert_id"] = course.teacher_expert_id or 0
    weekdays, dates = schedule(course)
    first = course.meetings[0] if course.meetings else None
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
        reason = staff_reason(reason)
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
